//! The JSONPath subset `$input.json()` and `$input.path()` take: `$`, `.name`, `['name']`,
//! `[n]` (negative from the end) and `[*]`.

use serde_json::Value;

/// The request body as JSON, parsed once per render: an empty body is `{}`, and text that is
/// not JSON is `None`.
pub fn parse_body(body: &str) -> Option<Value> {
    if body.trim().is_empty() { Some(Value::Object(Default::default())) } else { serde_json::from_str(body).ok() }
}

/// Selects `path` in `root`. `None` when nothing matches.
pub fn select(root: &Value, path: &str) -> Option<Value> {
    let path = path.trim();
    let rest = path.strip_prefix('$').unwrap_or(path);
    let mut current = vec![root];
    let mut wildcard = false;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                let key = &rest[start..i];
                if key == "*" {
                    wildcard = true;
                    current = current.into_iter().flat_map(children).collect();
                } else {
                    current = current.into_iter().filter_map(|v| v.get(key)).collect();
                }
            }
            b'[' => {
                let end = rest[i..].find(']')? + i;
                let inner = rest[i + 1..end].trim();
                i = end + 1;
                if inner == "*" {
                    wildcard = true;
                    current = current.into_iter().flat_map(children).collect();
                } else if let Some(key) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"'))) {
                    current = current.into_iter().filter_map(|v| v.get(key)).collect();
                } else {
                    let n: i64 = inner.parse().ok()?;
                    current = current
                        .into_iter()
                        .filter_map(|v| {
                            let a = v.as_array()?;
                            let idx = if n < 0 { a.len() as i64 + n } else { n };
                            a.get(usize::try_from(idx).ok()?)
                        })
                        .collect();
                }
            }
            _ => return None,
        }
    }
    if wildcard {
        Some(Value::Array(current.into_iter().cloned().collect()))
    } else {
        current.into_iter().next().cloned()
    }
}

fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let text = r#"{"a":{"b":[1,2,{"c":"x"}]},"k y":true}"#;
        let body = &parse_body(text).unwrap_or_default();
        assert_eq!(select(body, "$"), serde_json::from_str(text).ok());
        assert_eq!(select(body, "$.a.b[1]"), Some(Value::from(2)));
        assert_eq!(select(body, "$.a.b[-1].c"), Some(Value::from("x")));
        assert_eq!(select(body, "$['k y']"), Some(Value::Bool(true)));
        assert_eq!(select(body, "$.a.b[*]").map(|v| v.as_array().map(Vec::len)), Some(Some(3)));
        assert_eq!(select(body, "$.missing"), None);
        assert_eq!(parse_body("not json"), None);
        assert_eq!(parse_body(" "), Some(serde_json::json!({})));
    }
}
