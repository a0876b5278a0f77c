//! The console's page frame: escaping, the navigation, the stylesheet and the small script that
//! refreshes a page every few seconds while its "live" box is ticked. No asset from anywhere else.

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment for a link.
pub fn seg(s: &str) -> String {
    crate::protocol::url_encode(s)
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}header{background:#1d2b3a;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}header a{color:#cfe0ff;text-decoration:none;padding:4px 6px;border-radius:4px}header a:focus,header a:hover{background:#2e4760;outline:2px solid #8fb6ff}header strong{margin-right:12px}main{padding:16px 24px;max-width:1200px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:18px 0 8px}table{border-collapse:collapse;background:#fff;margin:6px 0 14px}th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eef1f5}.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px;margin:0 12px 12px 0;display:inline-block;vertical-align:top}.kpi{font-size:34px;font-weight:600}.muted{color:#66707a}.err{color:#b3261e}pre{background:#fff;border:1px solid #dde1e6;padding:8px;overflow:auto;max-height:420px}text{font:12px system-ui,sans-serif}.legend{font-size:12px}label.live{margin-left:auto;color:#cfe0ff}";

const SCRIPT: &str = "(function(){var b=document.getElementById('live');if(!b)return;var k='firelocal-live';b.checked=localStorage.getItem(k)==='1';b.addEventListener('change',function(){localStorage.setItem(k,b.checked?'1':'0');tick();});var t;function tick(){clearTimeout(t);if(b.checked)t=setTimeout(function(){location.reload();},2000);}tick();})();";

/// A whole page: `title`, the body HTML, and whether the page is embedded (no navigation).
pub fn page(title: &str, body: &str, embedded: bool) -> String {
    let nav = if embedded {
        String::new()
    } else {
        let links = [("dashboards", "Dashboards"), ("s3", "S3"), ("firehose", "Firehose"), ("lambda", "Lambda"), ("apigateway", "API Gateway"), ("athena", "Athena"), ("stacks", "Stacks"), ("faults", "Faults")];
        let items: String = links.iter().map(|(p, n)| format!(r#"<a href="/_firelocal/console/{p}">{n}</a>"#)).collect();
        format!(r#"<header><strong>firelocal</strong><nav>{items}</nav><label class="live"><input type="checkbox" id="live"> live</label></header>"#)
    };
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{} · firelocal</title><style>{STYLE}</style></head><body>{nav}<main>{body}</main><script>{SCRIPT}</script></body></html>"#,
        esc(title)
    )
}

/// A table from a header and rows of already-escaped cells.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return r#"<p class="muted">Nothing yet.</p>"#.into();
    }
    let head: String = header.iter().map(|h| format!("<th scope=\"col\">{}</th>", esc(h))).collect();
    let body: String = rows.iter().map(|r| format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{c}</td>")).collect::<String>())).collect();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_frame() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let p = page("S3 <1>", "<p>hi</p>", false);
        assert!(p.contains("<title>S3 &lt;1&gt; · firelocal</title>") && p.contains(r#"href="/_firelocal/console/s3""#) && p.contains("id=\"live\""));
        assert!(!page("x", "", true).contains("<nav>"));
        assert!(table(&["a"], &[]).contains("Nothing yet"));
    }
}
