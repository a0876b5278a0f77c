//! Small hand-written SVG charts for the console: a pie with percentages, horizontal bars and a
//! line over ordered categories. Labels are text in the SVG, so a test (or a screen reader)
//! reads the same numbers the data endpoint serves.

use super::html::esc;

/// A colour per series item, cycling.
pub const PALETTE: &[&str] = &["#2f6fdb", "#e8833a", "#3aa76d", "#c94f6d", "#8e6bd1", "#c2a23a", "#3aa7b7", "#7a7a7a", "#d65db1", "#5b8c2a"];

fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Formats a number without trailing zeros.
pub fn fmt(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{:.2}", x).trim_end_matches('0').trim_end_matches('.').to_string() }
}

/// A pie of `(label, value, percent)` with a legend.
pub fn pie(items: &[(String, f64, f64)]) -> String {
    let (cx, cy, r) = (110.0_f64, 110.0_f64, 100.0_f64);
    let total: f64 = items.iter().map(|i| i.1.max(0.0)).sum();
    let mut svg = String::from(r#"<svg class="chart pie" viewBox="0 0 460 230" role="img" width="460" height="230">"#);
    if total <= 0.0 {
        svg.push_str(r#"<text x="20" y="110">No data</text></svg>"#);
        return svg;
    }
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (label, value, _)) in items.iter().enumerate() {
        let share = value.max(0.0) / total;
        if share >= 0.9999 {
            svg.push_str(&format!(r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="{}"><title>{}</title></circle>"#, color(i), esc(label)));
            break;
        }
        let end = angle + share * std::f64::consts::TAU;
        let (x1, y1, x2, y2) = (cx + r * angle.cos(), cy + r * angle.sin(), cx + r * end.cos(), cy + r * end.sin());
        let large = if share > 0.5 { 1 } else { 0 };
        svg.push_str(&format!(
            r##"<path d="M{cx},{cy} L{x1:.2},{y1:.2} A{r},{r} 0 {large} 1 {x2:.2},{y2:.2} Z" fill="{}" stroke="#fff" stroke-width="1"><title>{}</title></path>"##,
            color(i),
            esc(label)
        ));
        angle = end;
    }
    for (i, (label, value, percent)) in items.iter().enumerate().take(12) {
        let y = 20 + i * 18;
        svg.push_str(&format!(
            r#"<rect x="240" y="{}" width="12" height="12" fill="{}"/><text x="258" y="{}" class="legend">{} {} ({}%)</text>"#,
            y - 10,
            color(i),
            y,
            esc(label),
            fmt(*value),
            fmt(*percent)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of `(label, value)`.
pub fn bars(items: &[(String, f64)]) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0_f64, f64::max);
    let height = 24 * items.len().max(1) + 10;
    let mut svg = format!(r#"<svg class="chart bar" viewBox="0 0 460 {height}" role="img" width="460" height="{height}">"#);
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 5 + i * 24;
        let w = if max > 0.0 { (value.max(0.0) / max) * 250.0 } else { 0.0 };
        svg.push_str(&format!(
            r#"<text x="140" y="{}" text-anchor="end" class="label">{}</text><rect x="150" y="{y}" width="{w:.1}" height="18" fill="{}"/><text x="{:.1}" y="{}" class="value">{}</text>"#,
            y + 14,
            esc(label),
            color(0),
            156.0 + w,
            y + 14,
            fmt(*value)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A line over `(label, value)` in order, with a dot and a label per point.
pub fn line(points: &[(String, f64)]) -> String {
    let (w, h, pad) = (460.0_f64, 220.0_f64, 40.0_f64);
    let max = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1e-9);
    let n = points.len().max(2) - 1;
    let xy = |i: usize, v: f64| (pad + (w - 2.0 * pad) * i as f64 / n as f64, h - pad - (h - 2.0 * pad) * (v / max));
    let mut svg = format!(r##"<svg class="chart line" viewBox="0 0 {w} {h}" role="img" width="{w}" height="{h}"><line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/>"##, h - pad, w - pad, h - pad);
    let path: Vec<String> = points.iter().enumerate().map(|(i, p)| {
        let (x, y) = xy(i, p.1);
        format!("{x:.1},{y:.1}")
    }).collect();
    svg.push_str(&format!(r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#, path.join(" "), color(0)));
    for (i, (label, value)) in points.iter().enumerate() {
        let (x, y) = xy(i, *value);
        svg.push_str(&format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="value">{}</text><text x="{x:.1}" y="{}" text-anchor="middle" class="label">{}</text>"#,
            color(0),
            y - 8.0,
            fmt(*value),
            h - pad + 16.0,
            esc(label.get(..10).unwrap_or(label))
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_carry_their_labels() {
        let p = pie(&[("nav".into(), 3.0, 60.0), ("search".into(), 2.0, 40.0)]);
        assert!(p.contains("nav 3 (60%)") && p.contains("search 2 (40%)") && p.matches("<path").count() == 2);
        assert!(pie(&[("all".into(), 5.0, 100.0)]).contains("<circle"));
        assert!(bars(&[("<b>".into(), 1.0)]).contains("&lt;b&gt;"));
        assert!(line(&[("2024-01-01 00:00:00.000".into(), 1.0), ("2024-02-01 00:00:00.000".into(), 3.0)]).contains(">2024-02-01<"));
        assert_eq!(fmt(1.5), "1.5");
        assert_eq!(fmt(2.0), "2");
    }
}
