//! Java's regular expressions, as `String.replaceAll`, `matches` and `split` take them in a
//! mapping template, translated for the `regex` crate where the two differ: Java's `\w`, `\d`
//! and `\s` are ASCII (the crate's are Unicode, and many times larger compiled), and Java's
//! replacement strings name groups `$1` and escape with `\`.

/// The crate's pattern for a Java pattern: `\w \W \d \D \s \S` as Java's ASCII classes, all
/// else as written.
pub fn pattern(java: &str) -> String {
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('s') => out.push_str(r"[\t\n\x0B\f\r ]"),
            Some('S') => out.push_str(r"[^\t\n\x0B\f\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The crate's replacement for a Java replacement string: `$n` refers to group `n` (the
/// longest run of digits that names a group, as in Java), `${name}` to a named group, `\x` is
/// `x` itself. `groups` counts the pattern's groups, the whole match included.
pub fn replacement(java: &str, groups: usize) -> Result<String, String> {
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
                    let name: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
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
        let re = regex::Regex::new(&pattern(r"^\w+$")).ok();
        assert_eq!(re.as_ref().map(|r| r.is_match("héllo")), Some(false));
        assert_eq!(re.as_ref().map(|r| r.is_match("hello_1")), Some(true));
    }

    #[test]
    fn replacements() {
        assert_eq!(replacement("[$1]", 2).as_deref(), Ok("[${1}]"));
        assert_eq!(replacement("$12", 2).as_deref(), Ok("${1}2"));
        assert_eq!(replacement("$12", 13).as_deref(), Ok("${12}"));
        assert_eq!(replacement(r"\$5 \\", 1).as_deref(), Ok("$$5 \\"));
        assert_eq!(replacement("${word}", 2).as_deref(), Ok("${word}"));
        assert_eq!(replacement(r"$2 at $1 \$", 3).as_deref(), Ok("${2} at ${1} $$"));
        assert!(replacement("$", 1).is_err());
        assert!(replacement("$3", 2).is_err());
        assert!(replacement("\\", 1).is_err());
    }
}
