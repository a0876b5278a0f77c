//! Java's regular expressions, as `String.replaceAll`, `matches` and `split` take them in a
//! mapping template, translated for the `regex` crate where the two differ: Java's `\w`, `\d`,
//! `\s` and POSIX classes are ASCII (the crate's are Unicode, and many times larger compiled),
//! `\Q...\E` quotes, the inline flags `U` and `d` mean other things, and Java's replacement
//! strings name groups `$1` and escape with `\`.

/// Java's US-ASCII POSIX classes (`\p{Alpha}` and the rest), which the crate would read as
/// Unicode properties or refuse.
const POSIX: [(&str, &str); 13] = [
    ("Lower", "a-z"),
    ("Upper", "A-Z"),
    ("ASCII", r"\x00-\x7F"),
    ("Alpha", "a-zA-Z"),
    ("Digit", "0-9"),
    ("Alnum", "a-zA-Z0-9"),
    ("Punct", r"\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E"),
    ("Graph", r"\x21-\x7E"),
    ("Print", r"\x20-\x7E"),
    ("Blank", r"\x20\t"),
    ("Cntrl", r"\x00-\x1F\x7F"),
    ("XDigit", "0-9a-fA-F"),
    ("Space", r"\t\n\x0B\f\r\x20"),
];

/// The crate's pattern for a Java pattern: `\w \W \d \D \s \S` and the POSIX classes as
/// Java's ASCII classes, `\Q...\E` quoted, a backslash before punctuation or a non-ASCII
/// character as that character itself (Java's `\<` is `<`, the crate's a word boundary); all
/// else as written.
pub fn pattern(java: &str) -> String {
    let mut out = String::with_capacity(java.len());
    let mut rest = java;
    let mut classes = 0;
    while let Some(at) = rest.find('\\') {
        plain(&rest[..at], &mut classes, &mut out);
        rest = &rest[at + 1..];
        let Some(c) = rest.chars().next() else {
            out.push('\\');
            break;
        };
        rest = &rest[c.len_utf8()..];
        match c {
            'w' => out.push_str("[0-9A-Za-z_]"),
            'W' => out.push_str("[^0-9A-Za-z_]"),
            'd' => out.push_str("[0-9]"),
            'D' => out.push_str("[^0-9]"),
            's' => out.push_str(r"[\t\n\x0B\f\r\x20]"),
            'S' => out.push_str(r"[^\t\n\x0B\f\r\x20]"),
            'Q' => {
                let end = rest.find("\\E").unwrap_or(rest.len());
                out.push_str(&regex::escape(&rest[..end]));
                rest = rest.get(end + 2..).unwrap_or("");
            }
            'p' | 'P' => {
                let class = rest.strip_prefix('{').and_then(|r| r.find('}').map(|e| &r[..e]));
                match class.and_then(|name| POSIX.iter().find(|(n, _)| *n == name)) {
                    Some((name, set)) => {
                        out.push_str(if c == 'p' { "[" } else { "[^" });
                        out.push_str(set);
                        out.push(']');
                        rest = &rest[name.len() + 2..];
                    }
                    None => {
                        out.push('\\');
                        out.push(c);
                    }
                }
            }
            c if c.is_ascii_alphanumeric() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    plain(rest, &mut classes, &mut out);
    out
}

/// Copies pattern text without escapes, dropping Java's inline flags `U`
/// (UNICODE_CHARACTER_CLASS, which the crate reads as swap-greed) and `d` (UNIX_LINES: the
/// crate's `.` already stops only at `\n`) outside character classes; `classes` counts the
/// classes open.
fn plain(text: &str, classes: &mut usize, out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '[' => *classes += 1,
            ']' if *classes > 0 => *classes -= 1,
            '(' if *classes == 0 && rest.starts_with('?') => {
                let flags_end = rest[1..].find(|f: char| !(f.is_ascii_alphabetic() || f == '-')).map(|i| i + 1);
                if let Some(end) = flags_end.filter(|&e| e > 1 && matches!(rest[e..].chars().next(), Some(')' | ':'))) {
                    let keep = |f: &str| f.chars().filter(|f| !matches!(f, 'U' | 'd')).collect::<String>();
                    let (on, off) = rest[1..end].split_once('-').map_or((keep(&rest[1..end]), String::new()), |(a, b)| (keep(a), keep(b)));
                    rest = &rest[end..];
                    // `(?U)` alone goes entirely; the crate refuses an empty `(?)` or `(?i-)`.
                    if on.is_empty() && off.is_empty() && rest.starts_with(')') {
                        rest = &rest[1..];
                    } else {
                        out.push_str("(?");
                        out.push_str(&on);
                        if !off.is_empty() {
                            out.push('-');
                            out.push_str(&off);
                        }
                    }
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
    }
}

/// The crate's replacement for a Java replacement string: `$n` refers to group `n` (the
/// longest run of digits that names a group, as in Java), `${name}` to a named group, `\x` is
/// `x` itself; a reference to a group `re` lacks is Java's error.
pub fn replacement(java: &str, re: &regex::Regex) -> Result<String, String> {
    let groups = re.captures_len();
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(x) => out.push(x),
                None => return Err("character to be escaped is missing".into()),
            },
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c.is_ascii_alphanumeric() => name.push(c),
                            _ => return Err("named capturing group is missing trailing '}'".into()),
                        }
                    }
                    if !re.capture_names().flatten().any(|n| n == name) {
                        return Err(format!("No group with name {{{name}}}"));
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut n = d.to_digit(10).unwrap_or(0) as usize;
                    chars.next();
                    if n >= groups {
                        return Err(format!("No group {n}"));
                    }
                    while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let longer = n * 10 + next as usize;
                        if longer >= groups {
                            break;
                        }
                        n = longer;
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                _ => return Err("Illegal group reference".into()),
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes() {
        assert_eq!(pattern(r"\w+\.\d"), r"[0-9A-Za-z_]+\.[0-9]");
        assert_eq!(pattern(r"[\w.]\\w"), r"[[0-9A-Za-z_].]\\w");
        assert_eq!(pattern(r"\Q.*\w\E+"), r"\.\*\\w+");
        assert_eq!(pattern(r"\Qa.b"), r"a\.b");
        assert_eq!(pattern(r"\<\é\p{Alpha}\P{Digit}\p{L}"), r"<é[a-zA-Z][^0-9]\p{L}");
        assert_eq!(pattern("x\\"), "x\\");
        assert_eq!(pattern(r"(?iU)\w+(?d:a)(?U)[(?U)]"), r"(?i)[0-9A-Za-z_]+(?:a)[(?U)]");
        for java in [r"(?iU)\w+(?d:a)(?U)[(?U)]", "(?-U)a", "(?i-d:x)"] {
            assert!(regex::Regex::new(&pattern(java)).is_ok(), "{java}");
        }
        let re = regex::Regex::new(&pattern(r"^\w+$")).ok();
        assert_eq!(re.as_ref().map(|r| r.is_match("héllo")), Some(false));
        assert_eq!(re.as_ref().map(|r| r.is_match("hello_1")), Some(true));
    }

    #[test]
    fn replacements() -> Result<(), regex::Error> {
        let re = regex::Regex::new;
        let one = re("(a)")?;
        assert_eq!(replacement("[$1]", &one).as_deref(), Ok("[${1}]"));
        assert_eq!(replacement("$12", &one).as_deref(), Ok("${1}2"));
        assert_eq!(replacement("$12", &re("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)")?).as_deref(), Ok("${12}"));
        assert_eq!(replacement(r"\$5 \\", &re("a")?).as_deref(), Ok("$$5 \\"));
        assert_eq!(replacement("${word}", &re("(?<word>a)")?).as_deref(), Ok("${word}"));
        assert_eq!(replacement(r"$2 at $1 \$", &re("(a)(b)")?).as_deref(), Ok("${2} at ${1} $$"));
        assert!(replacement("$", &one).is_err());
        assert!(replacement("$3", &re("(a)(b)")?).is_err());
        assert!(replacement("\\", &one).is_err());
        assert!(replacement("${nope}", &one).is_err());
        assert!(replacement("${open", &re("(?<open>a)")?).is_err());
        Ok(())
    }
}
