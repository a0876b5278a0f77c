//! Firehose S3 prefixes: `!{namespace:value}` expressions (`timestamp` with a Java
//! DateTimeFormatter pattern, `firehose:random-string`, `firehose:error-output-type`,
//! `partitionKeyFromQuery:KEY`, `partitionKeyFromLambda:KEY`), parsed once and evaluated per
//! delivered object.

use std::collections::BTreeMap;

/// One piece of a parsed prefix.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Literal(String),
    Timestamp(Vec<DateToken>),
    RandomString,
    ErrorOutputType,
    PartitionKeyFromQuery(String),
    PartitionKeyFromLambda(String),
}

/// A token of a Java DateTimeFormatter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum DateToken {
    /// A pattern letter and how many times it repeats (`yyyy` is `('y', 4)`).
    Field(char, usize),
    Literal(String),
}

/// A parsed prefix.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prefix {
    pub parts: Vec<Part>,
}

/// The pattern letters firelocal evaluates.
const SUPPORTED_LETTERS: &str = "yuMdHhmsSDa";

fn parse_date_pattern(p: &str) -> Result<Vec<DateToken>, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated quote in timestamp pattern '{p}'")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        i += 1;
                    }
                }
            }
            if lit.is_empty() {
                lit.push('\'');
            }
            out.push(DateToken::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            if !SUPPORTED_LETTERS.contains(c) {
                return Err(format!("timestamp pattern letter '{c}' in '{p}' is not supported (use y, M, d, H, h, m, s, S, D, a)"));
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            out.push(DateToken::Field(c, n));
            i += n;
        } else {
            out.push(DateToken::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

impl Prefix {
    /// Parses a prefix; errors say which expression is wrong.
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("!{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| format!("unterminated expression in prefix '{s}'"))?;
            let expr = &after[..end];
            let (ns, value) = expr.split_once(':').ok_or_else(|| format!("expression '!{{{expr}}}' must be of the form !{{namespace:value}}"))?;
            parts.push(match (ns.trim(), value.trim()) {
                ("timestamp", p) if !p.is_empty() => Part::Timestamp(parse_date_pattern(p)?),
                ("firehose", "random-string") => Part::RandomString,
                ("firehose", "error-output-type") => Part::ErrorOutputType,
                ("partitionKeyFromQuery", k) if !k.is_empty() => Part::PartitionKeyFromQuery(k.to_string()),
                ("partitionKeyFromLambda", k) if !k.is_empty() => Part::PartitionKeyFromLambda(k.to_string()),
                _ => return Err(format!("expression '!{{{expr}}}' is not valid: use timestamp, firehose, partitionKeyFromQuery or partitionKeyFromLambda")),
            });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Prefix { parts })
    }

    /// Whether the prefix has any `!{...}` expression.
    pub fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }

    /// Whether any part satisfies `f`.
    pub fn any(&self, f: impl Fn(&Part) -> bool) -> bool {
        self.parts.iter().any(f)
    }

    /// The partition keys this prefix reads from a MetadataExtraction query.
    pub fn query_keys(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::PartitionKeyFromQuery(k) => Some(k.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Evaluates the prefix for one object. `None` when a partition key is missing.
    pub fn evaluate(&self, ctx: &EvalContext<'_>) -> Option<String> {
        let mut out = String::new();
        let random = random_string();
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Timestamp(tokens) => out.push_str(&format_timestamp(ctx.arrival_ms, tokens)),
                Part::RandomString => out.push_str(&random),
                Part::ErrorOutputType => out.push_str(ctx.error_output_type.unwrap_or("")),
                Part::PartitionKeyFromQuery(k) => out.push_str(ctx.query_keys.and_then(|m| m.get(k))?),
                Part::PartitionKeyFromLambda(k) => out.push_str(ctx.lambda_keys.and_then(|m| m.get(k))?),
            }
        }
        Some(out)
    }
}

/// What a prefix is evaluated against.
#[derive(Default)]
pub struct EvalContext<'a> {
    /// Approximate arrival time of the oldest record in the object (ms since the epoch, UTC).
    pub arrival_ms: i64,
    pub error_output_type: Option<&'a str>,
    pub query_keys: Option<&'a BTreeMap<String, String>>,
    pub lambda_keys: Option<&'a BTreeMap<String, String>>,
}

/// 11 random lower-case letters and digits, as `!{firehose:random-string}` gives.
pub fn random_string() -> String {
    let u = uuid::Uuid::new_v4();
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    u.as_bytes().iter().take(11).map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

/// A UTC calendar date and time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    pub day_of_year: u32,
}

/// Converts epoch milliseconds to a UTC civil date.
pub fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (year, month, day) = firelocal_sql::timefmt::civil_from_days(days);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let day_of_year = CUM[(month - 1) as usize] + day + u32::from(leap && month > 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3_600_000) as u32,
        minute: (rem / 60_000 % 60) as u32,
        second: (rem / 1000 % 60) as u32,
        millis: (rem % 1000) as u32,
        day_of_year,
    }
}

fn pad(v: i64, width: usize) -> String {
    format!("{v:0width$}")
}

/// Formats epoch milliseconds with a parsed Java DateTimeFormatter pattern, in UTC.
pub fn format_timestamp(ms: i64, tokens: &[DateToken]) -> String {
    let c = civil(ms);
    let mut out = String::new();
    for t in tokens {
        match t {
            DateToken::Literal(l) => out.push_str(l),
            DateToken::Field(letter, n) => {
                let n = *n;
                out.push_str(&match letter {
                    'y' | 'u' if n == 2 => pad(c.year.rem_euclid(100), 2),
                    'y' | 'u' => pad(c.year, n),
                    'M' => pad(c.month.into(), n),
                    'd' => pad(c.day.into(), n),
                    'D' => pad(c.day_of_year.into(), n),
                    'H' => pad(c.hour.into(), n),
                    'h' => pad(((c.hour + 11) % 12 + 1).into(), n),
                    'm' => pad(c.minute.into(), n),
                    's' => pad(c.second.into(), n),
                    'S' => pad(c.millis.into(), 3).chars().chain(std::iter::repeat('0')).take(n).collect(),
                    'a' => (if c.hour < 12 { "AM" } else { "PM" }).to_string(),
                    _ => String::new(),
                });
            }
        }
    }
    out
}

/// The default prefix `YYYY/MM/dd/HH/` (UTC) for an arrival time.
pub fn default_prefix(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}/{:02}/{:02}/{:02}/", c.year, c.month, c.day, c.hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_709_267_045_123; // 2024-03-01T04:24:05.123Z

    #[test]
    fn civil_dates() {
        let c = civil(T);
        assert_eq!((c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis, c.day_of_year), (2024, 3, 1, 4, 24, 5, 123, 61));
        assert_eq!(civil(0).year, 1970);
        let c = civil(951_782_400_000); // 2000-02-29
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
        assert_eq!(default_prefix(T), "2024/03/01/04/");
    }

    #[test]
    fn clickstream_prefix() {
        let p = Prefix::parse("clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/").unwrap_or_default();
        assert!(p.has_expressions());
        let got = p.evaluate(&EvalContext { arrival_ms: T, ..Default::default() });
        assert_eq!(got.as_deref(), Some("clickstream/year=2024/month=03/day=01/"));
    }

    #[test]
    fn java_patterns_and_namespaces() {
        let p = Prefix::parse("dt=!{timestamp:yyyy'-'MM'-'dd}/h=!{timestamp:HH}/!{firehose:error-output-type}/c=!{partitionKeyFromQuery:customer}/").unwrap_or_default();
        let keys: BTreeMap<String, String> = [("customer".to_string(), "42".to_string())].into();
        let got = p.evaluate(&EvalContext { arrival_ms: T, error_output_type: Some("processing-failed"), query_keys: Some(&keys), lambda_keys: None });
        assert_eq!(got.as_deref(), Some("dt=2024-03-01/h=04/processing-failed/c=42/"));
        assert_eq!(p.evaluate(&EvalContext { arrival_ms: T, ..Default::default() }), None);
        let r = Prefix::parse("x/!{firehose:random-string}/").unwrap_or_default();
        let s = r.evaluate(&EvalContext::default()).unwrap_or_default();
        assert_eq!(s.len(), "x//".len() + 11);
        assert_eq!(format_timestamp(T, &parse_date_pattern("yy-D HH:mm:ss.SSS a").unwrap_or_default()), "24-61 04:24:05.123 AM");
    }

    #[test]
    fn bad_expressions() {
        for bad in ["!{timestamp:yyyy", "!{nope:x}", "!{firehose:other}", "!{timestamp:qqq}", "!{timestamp:'x}", "!{partitionKeyFromQuery:}", "!{plain}"] {
            assert!(Prefix::parse(bad).is_err(), "{bad}");
        }
    }
}
