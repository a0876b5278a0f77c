//! QuickSight's calculated-field expressions (`ifelse({clicks} > 10, "many", "few")`) translated
//! into the Trino SQL that firelocal's Athena engine runs: `{field}` is a column, both quote
//! styles are string literals, and each QuickSight function maps to its SQL equivalent.

/// How deep parentheses (and function calls) may nest.
const MAX_DEPTH: usize = 64;

/// Translates one expression. Errors name what is not understood.
pub fn to_sql(expr: &str) -> Result<String, String> {
    let tokens = tokenize(expr)?;
    // The parser recurses once per parenthesis: bound it, so a hostile expression is an error
    // rather than a stack overflow (which no catch_unwind catches).
    let mut depth = 0usize;
    for t in &tokens {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(format!("the expression nests parentheses more than {MAX_DEPTH} deep"));
        }
    }
    let mut p = Parser { tokens, pos: 0 };
    let out = p.sequence(&[])?;
    if p.pos < p.tokens.len() {
        return Err(format!("unexpected {:?} in the expression {expr}", p.tokens[p.pos]));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Str(String),
    Word(String),
    Num(String),
    Op(String),
    Open,
    Close,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '{' => {
                let end = chars[i..].iter().position(|&x| x == '}').ok_or("a field reference is missing its closing }")? + i;
                out.push(Tok::Field(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == c).ok_or("a string literal is not closed")? + i + 1;
                out.push(Tok::Str(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if ["<=", ">=", "<>", "!="].contains(&two.as_str()) { two } else { c.to_string() };
                if !["<=", ">=", "<>", "!=", "<", ">", "=", "+", "-", "*", "/", "%", "^"].contains(&op.as_str()) {
                    return Err(format!("unexpected character {c:?}"));
                }
                i += op.chars().count();
                out.push(Tok::Op(op));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A date part as QuickSight names it (`'YYYY'`, `'MM'`...) in Trino's words.
fn date_unit(q: &str) -> Result<&'static str, String> {
    Ok(match q.to_ascii_uppercase().as_str() {
        "YYYY" => "year",
        "Q" => "quarter",
        "MM" => "month",
        "WK" => "week",
        "DD" => "day",
        "HH" => "hour",
        "MI" => "minute",
        "SS" => "second",
        "MS" => "millisecond",
        "WD" => "day_of_week",
        other => return Err(format!("{other} is not a date period QuickSight knows (YYYY, Q, MM, WK, DD, HH, MI, SS)")),
    })
}

/// A QuickSight (Java-style) date format as a MySQL-style one for `date_parse`.
fn date_format(f: &str) -> String {
    let mut out = f.to_string();
    for (from, to) in [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%i"), ("ss", "%s"), ("SSS", "%f")] {
        out = out.replace(from, to);
    }
    out
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    /// Tokens up to a `,` or `)` at this level (or the end), as SQL.
    fn sequence(&mut self, stop: &[Tok]) -> Result<String, String> {
        let mut parts: Vec<String> = Vec::new();
        while let Some(t) = self.peek().cloned() {
            if stop.contains(&t) {
                break;
            }
            self.pos += 1;
            let piece = match t {
                Tok::Field(f) => quote_ident(&f),
                Tok::Str(s) => quote_str(&s),
                Tok::Num(n) => n,
                Tok::Op(o) => match o.as_str() {
                    "!=" => "<>".into(),
                    "^" => return Err("the ^ operator is not supported; use pow()".into()),
                    _ => o,
                },
                Tok::Open => {
                    let inner = self.sequence(&[Tok::Close])?;
                    self.eat(Tok::Close)?;
                    format!("({inner})")
                }
                Tok::Word(w) if self.peek() == Some(&Tok::Open) && !matches!(w.to_ascii_lowercase().as_str(), "and" | "or" | "not" | "in") => {
                    self.pos += 1;
                    let args = self.args()?;
                    function(&w, &args)?
                }
                Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                    "and" | "or" | "not" | "in" | "null" | "true" | "false" => w.to_ascii_uppercase(),
                    _ => return Err(format!("{w} is not a field (write fields as {{name}}) or a function")),
                },
                Tok::Close | Tok::Comma => return Err("unbalanced parentheses or a misplaced comma".into()),
            };
            parts.push(piece);
        }
        if parts.is_empty() {
            return Err("an empty expression".into());
        }
        Ok(parts.join(" "))
    }

    fn eat(&mut self, t: Tok) -> Result<(), String> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {t:?}"))
        }
    }

    fn args(&mut self) -> Result<Vec<(String, Option<String>)>, String> {
        let mut out = Vec::new();
        if self.peek() == Some(&Tok::Close) {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            let literal = match (self.tokens.get(self.pos), self.tokens.get(self.pos + 1)) {
                (Some(Tok::Str(s)), Some(Tok::Comma | Tok::Close)) => Some(s.clone()),
                _ => None,
            };
            out.push((self.sequence(&[Tok::Comma, Tok::Close])?, literal));
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::Close) => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => return Err("a function call is not closed".into()),
            }
        }
    }
}

/// One QuickSight function call, given its translated arguments (and each one's literal text
/// when it is a plain string, for date periods and formats).
fn function(name: &str, args: &[(String, Option<String>)]) -> Result<String, String> {
    let a = |i: usize| args.get(i).map(|x| x.0.clone()).ok_or_else(|| format!("{name} needs at least {} arguments", i + 1));
    let lit = |i: usize| args.get(i).and_then(|x| x.1.clone()).ok_or_else(|| format!("argument {} of {name} must be a quoted literal", i + 1));
    let all = || args.iter().map(|x| x.0.clone()).collect::<Vec<_>>().join(", ");
    Ok(match name.to_ascii_lowercase().as_str() {
        "ifelse" => {
            if args.len() < 3 || args.len() % 2 == 0 {
                return Err("ifelse takes condition, value pairs and an else value".into());
            }
            let whens: Vec<String> = args[..args.len() - 1].chunks(2).map(|c| format!("WHEN {} THEN {}", c[0].0, c[1].0)).collect();
            format!("CASE {} ELSE {} END", whens.join(" "), a(args.len() - 1)?)
        }
        "concat" => format!("concat({})", args.iter().map(|x| format!("CAST({} AS varchar)", x.0)).collect::<Vec<_>>().join(", ")),
        "tolower" => format!("lower({})", a(0)?),
        "toupper" => format!("upper({})", a(0)?),
        "trim" => format!("trim({})", a(0)?),
        "strlen" => format!("length({})", a(0)?),
        "substring" => format!("substr({}, {}, {})", a(0)?, a(1)?, a(2)?),
        "replace" => format!("replace({}, {}, {})", a(0)?, a(1)?, a(2)?),
        "left" => format!("substr({}, 1, {})", a(0)?, a(1)?),
        "right" => format!("substr({0}, greatest(length({0}) - ({1}) + 1, 1))", a(0)?, a(1)?),
        "isnull" => format!("({} IS NULL)", a(0)?),
        "isnotnull" => format!("({} IS NOT NULL)", a(0)?),
        "coalesce" => format!("coalesce({})", all()),
        "tostring" => format!("CAST({} AS varchar)", a(0)?),
        "parseint" => format!("TRY_CAST({} AS bigint)", a(0)?),
        "parsedecimal" => format!("TRY_CAST({} AS double)", a(0)?),
        "round" if args.len() > 1 => format!("round({}, {})", a(0)?, a(1)?),
        "round" | "floor" | "ceil" | "abs" | "sqrt" | "ln" | "log" | "exp" => format!("{}({})", name.to_ascii_lowercase(), a(0)?),
        "mod" => format!("mod({}, {})", a(0)?, a(1)?),
        "extract" => {
            let unit = date_unit(&lit(0)?)?;
            format!("{unit}({})", a(1)?)
        }
        "truncdate" => format!("date_trunc('{}', {})", date_unit(&lit(0)?)?, a(1)?),
        "datediff" => {
            let unit = if args.len() > 2 { date_unit(&lit(2)?)? } else { "day" };
            format!("date_diff('{unit}', {}, {})", a(0)?, a(1)?)
        }
        "addDateTime" | "adddatetime" => format!("date_add('{}', {}, {})", date_unit(&lit(1)?)?, a(0)?, a(2)?),
        "parsedate" => match args.get(1) {
            Some(_) => format!("date_parse({}, '{}')", a(0)?, date_format(&lit(1)?)),
            None => format!("CAST({} AS timestamp)", a(0)?),
        },
        "now" => "current_timestamp".into(),
        other => return Err(format!("the function {other} is not supported in firelocal's calculated fields")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translations() {
        assert_eq!(to_sql(r#"ifelse({time spent} > 10, "long", "short")"#).unwrap_or_default(), r#"CASE WHEN "time spent" > 10 THEN 'long' ELSE 'short' END"#);
        assert_eq!(to_sql("concat({a}, '-', {b})").unwrap_or_default(), r#"concat(CAST("a" AS varchar), CAST('-' AS varchar), CAST("b" AS varchar))"#);
        assert_eq!(to_sql("extract('YYYY', {created_at})").unwrap_or_default(), r#"year("created_at")"#);
        assert_eq!(to_sql("truncDate('MM', {d})").unwrap_or_default(), r#"date_trunc('month', "d")"#);
        assert_eq!(to_sql("dateDiff({a}, {b}, 'HH')").unwrap_or_default(), r#"date_diff('hour', "a", "b")"#);
        assert_eq!(to_sql("parseDate({s}, 'yyyy-MM-dd HH:mm:ss')").unwrap_or_default(), r#"date_parse("s", '%Y-%m-%d %H:%i:%s')"#);
        assert_eq!(to_sql("toLower({x}) = 'nav' AND ({n} + 1) * 2 != 4").unwrap_or_default(), r#"lower("x") = 'nav' AND ("n" + 1) * 2 <> 4"#);
        assert!(to_sql("ifelse({a}, 1)").is_err());
        assert!(to_sql("bogus({a})").is_err());
        assert!(to_sql("plainword").is_err());
        assert!(to_sql("{unclosed").is_err());
    }
}
