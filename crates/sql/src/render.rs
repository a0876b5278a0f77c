//! Values as Athena prints them (GetQueryResults' `VarCharValue` and the result CSV): Java's
//! double formatting, `2023-11-16 10:00:00.000` timestamps, `[a, b]` arrays, `{k=v}` maps and
//! rows; plus the small JSONPath used by `json_extract`.

use polars::prelude::*;
use serde_json::Value;

use crate::timefmt;
use crate::types::SqlType;

/// Java's `Double.toString`: plain between 1e-3 and 1e7, `1.0E7` style outside.
pub fn java_double(f: f64) -> String {
    java_style(f, format!("{f}"), format!("{f:e}"))
}

/// Java's `Float.toString` (the shortest digits of the f32, not of its f64 widening).
fn java_float(f: f32) -> String {
    java_style(f as f64, format!("{f}"), format!("{f:e}"))
}

/// Java's number layout around Rust's shortest digits (`plain` and `sci` of the same value).
fn java_style(f: f64, plain: String, sci: String) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    if (1e-3..1e7).contains(&f.abs()) {
        return if plain.contains('.') { plain } else { format!("{plain}.0") };
    }
    let (m, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let m = if m.contains('.') { m.to_string() } else { format!("{m}.0") };
    format!("{m}E{e}")
}

/// One cell as Athena prints it; `None` is SQL NULL.
pub fn render(v: &AnyValue<'_>, ty: &SqlType) -> Option<String> {
    Some(match v {
        AnyValue::Null => return None,
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Int8(x) => x.to_string(),
        AnyValue::Int16(x) => x.to_string(),
        AnyValue::Int32(x) => x.to_string(),
        AnyValue::Int64(x) => x.to_string(),
        AnyValue::UInt8(x) => x.to_string(),
        AnyValue::UInt16(x) => x.to_string(),
        AnyValue::UInt32(x) => x.to_string(),
        AnyValue::UInt64(x) => x.to_string(),
        AnyValue::Float32(x) => match ty {
            SqlType::Decimal(_, s) => format!("{:.*}", *s as usize, x),
            _ => java_float(*x),
        },
        AnyValue::Float64(x) => match ty {
            SqlType::Decimal(_, s) => format!("{:.*}", *s as usize, x),
            SqlType::Real => java_float(*x as f32),
            _ => java_double(*x),
        },
        AnyValue::Date(d) => timefmt::format_date(*d as i64),
        AnyValue::Datetime(v, unit, _) | AnyValue::DatetimeOwned(v, unit, _) => {
            let ms = match unit {
                TimeUnit::Milliseconds => *v,
                TimeUnit::Microseconds => v.div_euclid(1000),
                TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
            };
            let s = timefmt::format_timestamp(ms);
            if *ty == SqlType::TimestampTz { format!("{s} UTC") } else { s }
        }
        AnyValue::Duration(v, unit) => {
            let ms = match unit {
                TimeUnit::Milliseconds => *v,
                TimeUnit::Microseconds => v / 1000,
                TimeUnit::Nanoseconds => v / 1_000_000,
            };
            let (d, rem) = (ms / 86_400_000, (ms % 86_400_000).abs());
            format!("{d} {:02}:{:02}:{:02}.{:03}", rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
        }
        AnyValue::List(s) => {
            let inner = match ty {
                SqlType::Array(t) => (**t).clone(),
                SqlType::Map(k, v) => SqlType::Row(vec![("key".into(), (**k).clone()), ("value".into(), (**v).clone())]),
                _ => SqlType::from_polars(s.dtype()),
            };
            let items: Vec<String> = s.iter().map(|x| render(&x, &inner).unwrap_or_else(|| "null".into())).collect();
            if let SqlType::Map(..) = ty {
                // Entries render as key=value.
                let pairs: Vec<String> = s
                    .iter()
                    .map(|x| match x {
                        AnyValue::Struct(..) | AnyValue::StructOwned(_) => {
                            let f = struct_fields(&x);
                            let k = f.first().and_then(|v| render(v, &SqlType::Unknown)).unwrap_or_else(|| "null".into());
                            let v = f.get(1).and_then(|v| render(v, &SqlType::Unknown)).unwrap_or_else(|| "null".into());
                            format!("{k}={v}")
                        }
                        _ => "null".into(),
                    })
                    .collect();
                return Some(format!("{{{}}}", pairs.join(", ")));
            }
            format!("[{}]", items.join(", "))
        }
        AnyValue::Struct(..) | AnyValue::StructOwned(_) => {
            let names: Vec<(String, SqlType)> = match ty {
                SqlType::Row(fs) => fs.clone(),
                _ => match v.dtype() {
                    DataType::Struct(fs) => fs.iter().map(|f| (f.name().to_string(), SqlType::from_polars(f.dtype()))).collect(),
                    _ => vec![],
                },
            };
            let vals = struct_fields(v);
            let parts: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let (n, t) = names.get(i).cloned().unwrap_or((format!("field{i}"), SqlType::Unknown));
                    format!("{n}={}", render(x, &t).unwrap_or_else(|| "null".into()))
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    })
}

fn struct_fields(v: &AnyValue<'_>) -> Vec<AnyValue<'static>> {
    match v {
        AnyValue::Struct(idx, arr, fields) => {
            let mut out = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                let field_arr = &arr.values()[i];
                let s = Series::try_from((f.name().clone(), field_arr.clone())).ok();
                out.push(s.and_then(|s| s.get(*idx).ok().map(|x| x.into_static())).unwrap_or(AnyValue::Null));
            }
            out
        }
        AnyValue::StructOwned(b) => b.0.iter().map(|x| x.clone().into_static()).collect(),
        _ => vec![],
    }
}

/// Renders a frame's rows; columns in order, typed by `types`.
pub fn render_frame(df: &DataFrame, types: &[SqlType]) -> Vec<Vec<Option<String>>> {
    let cols: Vec<&Column> = df.columns().iter().collect();
    let mut rows = Vec::with_capacity(df.height());
    for r in 0..df.height() {
        let mut row = Vec::with_capacity(cols.len());
        for (c, t) in cols.iter().zip(types) {
            let v = c.get(r).unwrap_or(AnyValue::Null);
            row.push(render(&v, t));
        }
        rows.push(row);
    }
    rows
}

/// A JSONPath as json_extract takes it: `$.a.b`, `$.a[0]`, `$["a b"]`, `$.a[*]` not supported.
#[derive(Debug, Clone)]
pub struct JsonPath(Vec<Step>);

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(p: &str) -> Result<JsonPath, String> {
        let b: Vec<char> = p.trim().chars().collect();
        if b.first() != Some(&'$') {
            return Err(format!("Invalid JSON path: '{p}'"));
        }
        let mut i = 1;
        let mut steps = Vec::new();
        while i < b.len() {
            match b[i] {
                '.' => {
                    i += 1;
                    let st = i;
                    while i < b.len() && b[i] != '.' && b[i] != '[' {
                        i += 1;
                    }
                    if st == i {
                        return Err(format!("Invalid JSON path: '{p}'"));
                    }
                    steps.push(Step::Key(b[st..i].iter().collect()));
                }
                '[' => {
                    let end = b[i..].iter().position(|&c| c == ']').map(|x| x + i).ok_or_else(|| format!("Invalid JSON path: '{p}'"))?;
                    let inner: String = b[i + 1..end].iter().collect();
                    let inner = inner.trim();
                    if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')).or_else(|| inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\''))) {
                        steps.push(Step::Key(q.to_string()));
                    } else {
                        steps.push(Step::Index(inner.parse().map_err(|_| format!("Invalid JSON path: '{p}'"))?));
                    }
                    i = end + 1;
                }
                _ => return Err(format!("Invalid JSON path: '{p}'")),
            }
        }
        Ok(JsonPath(steps))
    }

    /// The value at the path: scalars as text (`scalar`), or any value as compact JSON.
    pub fn extract(&self, json: &str, scalar: bool) -> Option<String> {
        let v: Value = serde_json::from_str(json).ok()?;
        let mut cur = &v;
        for s in &self.0 {
            cur = match s {
                Step::Key(k) => cur.get(k)?,
                Step::Index(i) => cur.get(*i)?,
            };
        }
        match cur {
            Value::Null => None,
            Value::String(s) if scalar => Some(s.clone()),
            Value::Array(_) | Value::Object(_) if scalar => None,
            other if scalar => Some(other.to_string()),
            other => Some(other.to_string()),
        }
    }
}

/// A result CSV as Athena writes it: header, every value quoted, NULL as an empty field.
pub fn csv(names: &[String], rows: &[Vec<Option<String>>]) -> Vec<u8> {
    let mut out = String::new();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    out.push_str(&names.iter().map(|n| q(n)).collect::<Vec<_>>().join(","));
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|v| v.as_deref().map(q).unwrap_or_default()).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_like_java() {
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(2.0), "2.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-7), "1.5E-7");
        assert_eq!(java_double(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(java_double(123456.789), "123456.789");
    }

    #[test]
    fn json_paths() {
        let p = JsonPath::parse("$.a.b[1]").unwrap_or(JsonPath(vec![]));
        assert_eq!(p.extract(r#"{"a":{"b":[1,"x"]}}"#, true).as_deref(), Some("x"));
        let p = JsonPath::parse("$.a").unwrap_or(JsonPath(vec![]));
        assert_eq!(p.extract(r#"{"a":{"b":1}}"#, false).as_deref(), Some(r#"{"b":1}"#));
        assert_eq!(p.extract(r#"{"a":{"b":1}}"#, true), None);
        assert!(JsonPath::parse("a.b").is_err());
    }

    #[test]
    fn csv_quotes_everything() {
        let out = csv(&["a".into(), "b".into()], &[vec![Some("x\"y".into()), None], vec![Some(String::new()), Some("1".into())]]);
        assert_eq!(String::from_utf8_lossy(&out), "\"a\",\"b\"\n\"x\"\"y\",\n\"\",\"1\"\n");
    }
}
