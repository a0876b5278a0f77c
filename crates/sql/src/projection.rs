//! Partition projection (`projection.enabled` in TBLPROPERTIES): partitions are computed from
//! the table's configuration (`enum`, `integer`, `date`, `injected`) instead of the catalog, and
//! located with `storage.location.template`.

use sqlparser::ast::{BinaryOperator, Expr as SqlExpr};

use crate::catalog::{PartitionDef, TableDef};
use crate::error::{SqlError, SqlResult};
use crate::plan::const_string;
use crate::timefmt;
use crate::types::SqlType;

/// Whether the table projects its partitions.
pub fn enabled(t: &TableDef) -> bool {
    t.params.get("projection.enabled").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

const MAX_PARTITIONS: usize = 1_000_000;

/// The projected partitions (before pruning by the query's predicates).
pub fn partitions(t: &TableDef, keys: &[(String, SqlType)], preds: &[SqlExpr], qual: Option<&str>, now_ms: i64) -> SqlResult<Vec<PartitionDef>> {
    let prop = |k: &str, p: &str| t.params.get(&format!("projection.{k}.{p}")).cloned();
    let mut per_key: Vec<Vec<String>> = Vec::new();
    for (k, _) in keys {
        let kind = prop(k, "type").ok_or_else(|| SqlError::new("HIVE_METASTORE_ERROR", format!("Column {k} has no projection.{k}.type")))?;
        let vals = match kind.to_ascii_lowercase().as_str() {
            "enum" => prop(k, "values").unwrap_or_default().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            "integer" => {
                let range = prop(k, "range").unwrap_or_default();
                let (a, b) = range.split_once(',').ok_or_else(|| bad(k, "range"))?;
                let (a, b): (i64, i64) = (a.trim().parse().map_err(|_| bad(k, "range"))?, b.trim().parse().map_err(|_| bad(k, "range"))?);
                let step: i64 = prop(k, "interval").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
                let digits: usize = prop(k, "digits").and_then(|v| v.parse().ok()).unwrap_or(0).min(64);
                let mut v = Vec::new();
                let mut i = a;
                while i <= b && v.len() < MAX_PARTITIONS {
                    v.push(format!("{i:0digits$}"));
                    i += step;
                }
                v
            }
            "date" => {
                let range = prop(k, "range").unwrap_or_default();
                let fmt = prop(k, "format").ok_or_else(|| bad(k, "format"))?;
                let (a, b) = range.split_once(',').ok_or_else(|| bad(k, "range"))?;
                let start = date_bound(a.trim(), &fmt, now_ms).ok_or_else(|| bad(k, "range"))?;
                let end = date_bound(b.trim(), &fmt, now_ms).ok_or_else(|| bad(k, "range"))?;
                let n: i64 = prop(k, "interval").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
                let unit = prop(k, "interval.unit").unwrap_or_else(|| if fmt.contains('H') { "HOURS".into() } else { "DAYS".into() });
                let step_ms = match unit.to_ascii_uppercase().trim_end_matches('S') {
                    "SECOND" => 1000,
                    "MINUTE" => 60_000,
                    "HOUR" => 3_600_000,
                    "DAY" => 86_400_000,
                    "WEEK" => 7 * 86_400_000,
                    "MONTH" | "YEAR" => -1,
                    _ => return Err(bad(k, "interval.unit")),
                } * n;
                let mut v = Vec::new();
                let mut cur = start;
                while cur <= end && v.len() < MAX_PARTITIONS {
                    v.push(format_joda(cur, &fmt));
                    cur = if step_ms > 0 { cur + step_ms } else { add_months(cur, n * if unit.to_ascii_uppercase().starts_with("YEAR") { 12 } else { 1 }) };
                }
                v
            }
            "injected" => {
                let v = injected_values(k, preds, qual);
                if v.is_empty() {
                    return Err(SqlError::new(
                        "CONSTRAINT_VIOLATION",
                        format!("For the injected projected partition column {k}, the WHERE clause must contain only static equality conditions, and at least one such condition must be present."),
                    ));
                }
                v
            }
            other => return Err(SqlError::new("HIVE_METASTORE_ERROR", format!("Unsupported projection type '{other}' for column {k}"))),
        };
        per_key.push(vals);
    }
    // Cartesian product.
    let mut combos: Vec<Vec<String>> = vec![vec![]];
    for vals in &per_key {
        let mut next = Vec::new();
        for c in &combos {
            for v in vals {
                let mut x = c.clone();
                x.push(v.clone());
                next.push(x);
                if next.len() > MAX_PARTITIONS {
                    return Err(SqlError::new("HIVE_EXCEEDED_PARTITION_LIMIT", "Partition projection produced too many partitions"));
                }
            }
        }
        combos = next;
    }
    let template = t.params.get("storage.location.template").cloned();
    Ok(combos
        .into_iter()
        .map(|values| {
            let location = match &template {
                Some(tpl) => keys.iter().zip(&values).fold(tpl.clone(), |acc, ((k, _), v)| acc.replace(&format!("${{{k}}}"), v)),
                None => {
                    let base = if t.location.ends_with('/') { t.location.clone() } else { format!("{}/", t.location) };
                    keys.iter().zip(&values).fold(base, |acc, ((k, _), v)| format!("{acc}{k}={v}/"))
                }
            };
            PartitionDef { values, location }
        })
        .collect())
}

fn bad(k: &str, p: &str) -> SqlError {
    SqlError::new("HIVE_METASTORE_ERROR", format!("Invalid projection.{k}.{p}"))
}

fn injected_values(k: &str, preds: &[SqlExpr], qual: Option<&str>) -> Vec<String> {
    let is_key = |e: &SqlExpr| match e {
        SqlExpr::Identifier(i) => i.value.eq_ignore_ascii_case(k),
        SqlExpr::CompoundIdentifier(ids) if ids.len() == 2 => ids[1].value.eq_ignore_ascii_case(k) && qual.is_none_or(|q| ids[0].value.eq_ignore_ascii_case(q)),
        _ => false,
    };
    let mut out = Vec::new();
    for p in preds {
        match p {
            SqlExpr::BinaryOp { left, op: BinaryOperator::Eq, right } => {
                if is_key(left) && let Some(v) = const_string(right) {
                    out.push(v);
                } else if is_key(right) && let Some(v) = const_string(left) {
                    out.push(v);
                }
            }
            SqlExpr::In { expr, target: sqlparser::ast::InTarget::List(list), negated: false, .. } if is_key(expr) => out.extend(list.iter().filter_map(const_string)),
            _ => {}
        }
    }
    out
}

fn date_bound(s: &str, fmt: &str, now_ms: i64) -> Option<i64> {
    let up = s.to_ascii_uppercase();
    if let Some(rest) = up.strip_prefix("NOW") {
        if rest.is_empty() {
            return Some(now_ms);
        }
        let (sign, rest) = match rest.chars().next()? {
            '-' => (-1, &rest[1..]),
            '+' => (1, &rest[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().ok()?;
        let unit = rest[digits.len()..].trim_end_matches('S');
        let ms = match unit {
            "SECOND" => 1000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            "DAY" => 86_400_000,
            "WEEK" => 7 * 86_400_000,
            "MONTH" => return Some(add_months(now_ms, sign * n)),
            "YEAR" => return Some(add_months(now_ms, sign * n * 12)),
            _ => return None,
        };
        return Some(now_ms + sign * n * ms);
    }
    parse_joda(s, fmt)
}

fn add_months(ms: i64, n: i64) -> i64 {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = timefmt::civil_from_days(days);
    let total = y * 12 + (m as i64 - 1) + n;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    timefmt::days_from_civil(ny, nm, d.min(28)) * 86_400_000 + rem
}

/// Formats epoch ms with a Joda pattern's y/M/d/H/m/s letters.
pub fn format_joda(ms: i64, fmt: &str) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, mo, d) = timefmt::civil_from_days(days);
    let mut out = String::new();
    for t in timefmt::joda_tokens(fmt) {
        match t {
            timefmt::JodaToken::Literal(l) => out.push_str(&l),
            timefmt::JodaToken::Field(c, n) => {
                let v = match c {
                    'y' | 'Y' => Some(if n == 2 { y % 100 } else { y }),
                    'M' => Some(mo as i64),
                    'd' => Some(d as i64),
                    'H' => Some(rem / 3_600_000),
                    'm' => Some(rem / 60_000 % 60),
                    's' => Some(rem / 1000 % 60),
                    _ => None,
                };
                match v {
                    Some(v) => out.push_str(&format!("{v:0n$}")),
                    None => (0..n).for_each(|_| out.push(c)),
                }
            }
        }
    }
    out
}

/// Parses text written with a Joda pattern of y/M/d/H/m/s letters.
fn parse_joda(s: &str, fmt: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut se) = (1970i64, 1u32, 1u32, 0i64, 0i64, 0i64);
    let sb: Vec<char> = s.chars().collect();
    let fb: Vec<char> = fmt.chars().collect();
    let (mut i, mut j) = (0, 0);
    while j < fb.len() {
        let c = fb[j];
        let mut n = 1;
        while j + n < fb.len() && fb[j + n] == c {
            n += 1;
        }
        if "yYMdHms".contains(c) {
            let width = if c == 'y' || c == 'Y' { n.max(4).min(if n == 2 { 2 } else { 4 }) } else { n.max(2) };
            let digits: String = sb.get(i..(i + width).min(sb.len()))?.iter().collect();
            let v: i64 = digits.parse().ok()?;
            i += width;
            match c {
                'y' | 'Y' => y = v,
                'M' => mo = v as u32,
                'd' => d = v as u32,
                'H' => h = v,
                'm' => mi = v,
                _ => se = v,
            }
        } else {
            i += n;
        }
        j += n;
    }
    Some(timefmt::days_from_civil(y, mo, d) * 86_400_000 + (h * 3600 + mi * 60 + se) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_dates_and_templates() {
        let mut t = TableDef { location: "s3://b/logs/".into(), ..Default::default() };
        for (k, v) in [("projection.enabled", "true"), ("projection.dt.type", "date"), ("projection.dt.range", "2023-11-14,2023-11-16"), ("projection.dt.format", "yyyy-MM-dd"), ("projection.region.type", "enum"), ("projection.region.values", "eu,us"), ("storage.location.template", "s3://b/logs/${region}/${dt}/")] {
            t.params.insert(k.into(), v.into());
        }
        let keys = vec![("region".to_string(), SqlType::Varchar), ("dt".to_string(), SqlType::Varchar)];
        let parts = partitions(&t, &keys, &[], None, 0).unwrap_or_default();
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[0].values, vec!["eu".to_string(), "2023-11-14".to_string()]);
        assert_eq!(parts[0].location, "s3://b/logs/eu/2023-11-14/");
        assert_eq!(format_joda(parse_joda("2023/11/16/07", "yyyy/MM/dd/HH").unwrap_or(0), "yyyy/MM/dd/HH"), "2023/11/16/07");
    }
}
