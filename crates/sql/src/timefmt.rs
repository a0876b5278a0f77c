//! Calendar arithmetic and the text forms of dates and timestamps Athena reads and prints
//! (`2023-11-16`, `2023-11-16 10:00:00.000`), without a date-time crate.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn digits(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s[..n].iter().fold(0u32, |a, &c| a * 10 + (c - b'0') as u32))
}

/// `YYYY-MM-DD` (a longer timestamp text is accepted too; its time is dropped) → day number.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.trim().as_bytes();
    let y = digits(b, 4)?;
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let (m, rest) = match digits(&b[5..], 2) {
        Some(m) => (m, &b[7..]),
        None => (digits(&b[5..], 1)?, &b[6..]),
    };
    if rest.first() != Some(&b'-') {
        return None;
    }
    let d = digits(&rest[1..], 2).or_else(|| digits(&rest[1..], 1))?;
    let dlen = if digits(&rest[1..], 2).is_some() { 2 } else { 1 };
    let tail = &rest[1 + dlen..];
    if !(tail.is_empty() || tail[0] == b' ' || tail[0] == b'T') || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some(days_from_civil(y as i64, m, d) as i32)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A timestamp text → epoch milliseconds: `YYYY-MM-DD[ HH:MM[:SS[.fff]]]`, ISO 8601 with `T`,
/// and an optional `Z` or `±hh:mm` offset (converted to UTC).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let day = parse_date(s.get(..10).unwrap_or(s))? as i64;
    let mut ms = day * 86_400_000;
    if b.len() <= 10 {
        return Some(ms);
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    let t = &b[11..];
    let h = digits(t, 2)?;
    if t.get(2) != Some(&b':') {
        return None;
    }
    let mi = digits(&t[3..], 2)?;
    let mut i = 5;
    let mut sec = 0;
    if t.get(5) == Some(&b':') {
        sec = digits(&t[6..], 2)?;
        i = 8;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    ms += (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * 1000;
    if t.get(i) == Some(&b'.') || t.get(i) == Some(&b',') {
        i += 1;
        let st = i;
        while i < t.len() && t[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &t[st..i];
        if frac.is_empty() {
            return None;
        }
        let mut f = 0i64;
        for k in 0..3 {
            f = f * 10 + frac.get(k).map(|c| (c - b'0') as i64).unwrap_or(0);
        }
        ms += f;
    }
    let zone = std::str::from_utf8(&t[i..]).ok()?.trim();
    match zone {
        "" | "Z" | "UTC" | "z" => {}
        z if (z.starts_with('+') || z.starts_with('-')) && z.len() >= 3 => {
            let zb = z.as_bytes();
            let hh = digits(&zb[1..], 2)? as i64;
            let mm = match zb.get(3) {
                Some(b':') => digits(&zb[4..], 2)? as i64,
                Some(_) => digits(&zb[3..], 2)? as i64,
                None => 0,
            };
            let off = (hh * 60 + mm) * 60_000;
            ms -= if zb[0] == b'+' { off } else { -off };
        }
        _ => return None,
    }
    Some(ms)
}

/// A day number as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (h, mi, s, f) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{} {h:02}:{mi:02}:{s:02}.{f:03}", format_date(days))
}

/// A piece of a Joda-Time pattern: literal text, or a letter repeated `n` times.
#[derive(Debug, Clone, PartialEq)]
pub enum JodaToken {
    Literal(String),
    Field(char, usize),
}

/// Splits a Joda-Time pattern (`yyyy-MM-dd'T'HH`) into literals and letter runs.
pub fn joda_tokens(fmt: &str) -> Vec<JodaToken> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..].iter().position(|&x| x == '\'').map_or(chars.len(), |p| i + 1 + p);
            out.push(JodaToken::Literal(chars[i + 1..end].iter().collect()));
            i = end + 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        out.push(if c.is_ascii_alphabetic() { JodaToken::Field(c, n) } else { JodaToken::Literal(chars[i..i + n].iter().collect()) });
        i += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 19_676, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_date("2023-11-16"), Some(19_677));
        assert_eq!(format_date(19_677), "2023-11-16");
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_date("2023-1-5"), Some(days_from_civil(2023, 1, 5) as i32));
    }

    #[test]
    fn timestamps_parse_and_print() {
        let t = parse_timestamp("2023-11-16 10:20:30.123").unwrap_or_default();
        assert_eq!(format_timestamp(t), "2023-11-16 10:20:30.123");
        assert_eq!(parse_timestamp("2023-11-16T10:20:30Z"), parse_timestamp("2023-11-16 10:20:30"));
        assert_eq!(parse_timestamp("2023-11-16T12:20:30+02:00"), parse_timestamp("2023-11-16 10:20:30"));
        assert_eq!(parse_timestamp("2023-11-16"), parse_timestamp("2023-11-16 00:00:00"));
        assert_eq!(parse_timestamp("nope"), None);
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999");
    }
}
