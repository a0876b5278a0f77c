//! The Velocity Template Language subset API Gateway documents, parsed into a tree: text,
//! references (`$x`, `$!x`, `${x}`, `$x.y.z('a')[0]`), `#set`, `#if/#elseif/#else/#end`,
//! `#foreach/#end`, `#break`, comments (`## ...`, `#* ... *#`) and expressions with literals
//! (strings with interpolation, numbers, booleans, null, lists, ranges, maps).

/// A template node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    /// A reference rendered into the output; `quiet` (`$!x`) renders null as nothing.
    Ref { r: Ref, quiet: bool, source: String },
    Set(Ref, Expr),
    If(Vec<(Expr, Vec<Node>)>, Option<Vec<Node>>),
    Foreach(String, Expr, Vec<Node>),
    Break,
}

/// A reference: a variable and a chain of properties, calls and indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub var: String,
    pub chain: Vec<Access>,
}

/// One step of a reference chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Prop(String),
    Call(String, Vec<Expr>),
    Index(Expr),
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A double-quoted string: rendered as a template.
    Interp(Vec<Node>),
    Str(String),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Ref(Ref),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(Box<Expr>, BinOp, Box<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Where a parse failed.
pub type ParseResult<T> = Result<T, String>;

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    /// Nesting of blocks and expressions, bounded so hostile input cannot overflow the stack.
    depth: usize,
}

/// How deeply blocks and expressions may nest.
const MAX_DEPTH: usize = 128;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Parses a whole template.
pub fn parse(src: &str) -> ParseResult<Vec<Node>> {
    let mut p = P { s: src.as_bytes(), src, i: 0, depth: 0 };
    let (nodes, end) = p.block(&[])?;
    if let Some(e) = end {
        return Err(format!("unexpected #{e} at offset {}", p.i));
    }
    Ok(nodes)
}

impl<'a> P<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn at(&self, lit: &str) -> bool {
        self.s[self.i..].starts_with(lit.as_bytes())
    }

    fn err<T>(&self, what: &str) -> ParseResult<T> {
        Err(format!("{what} at offset {}", self.i))
    }

    /// Nodes until one of `ends` (`end`, `else`, `elseif`) or the end of input.
    fn block(&mut self, ends: &[&str]) -> ParseResult<(Vec<Node>, Option<String>)> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("the template nests too deeply");
        }
        let out = self.block_inner(ends);
        self.depth -= 1;
        out
    }

    fn block_inner(&mut self, ends: &[&str]) -> ParseResult<(Vec<Node>, Option<String>)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(b) = self.peek() {
            if b == b'\\' && matches!(self.s.get(self.i + 1), Some(b'$') | Some(b'#')) {
                text.push(self.s[self.i + 1] as char);
                self.i += 2;
                continue;
            }
            if b == b'#' {
                if self.at("##") {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.i += 1;
                    }
                    continue;
                }
                if self.at("#*") {
                    match self.src[self.i..].find("*#") {
                        Some(end) => self.i += end + 2,
                        None => return self.err("unterminated #* comment"),
                    }
                    continue;
                }
                if let Some((name, len)) = self.directive_name() {
                    if ends.contains(&name.as_str()) {
                        if !text.is_empty() {
                            nodes.push(Node::Text(std::mem::take(&mut text)));
                        }
                        self.i += len;
                        return Ok((nodes, Some(name)));
                    }
                    if !text.is_empty() {
                        nodes.push(Node::Text(std::mem::take(&mut text)));
                    }
                    self.i += len;
                    nodes.push(self.directive(&name)?);
                    continue;
                }
            }
            if b == b'$'
                && let Some(node) = self.reference_node()?
            {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                nodes.push(node);
                continue;
            }
            // Plain text, one UTF-8 character at a time.
            let ch = self.src[self.i..].chars().next().unwrap_or('\0');
            text.push(ch);
            self.i += ch.len_utf8();
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok((nodes, None))
    }

    /// `#name` or `#{name}` at the cursor: the name and the length to skip.
    fn directive_name(&self) -> Option<(String, usize)> {
        let rest = &self.src[self.i + 1..];
        let (braced, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        for name in ["set", "if", "elseif", "else", "end", "foreach", "break"] {
            if let Some(after) = body.strip_prefix(name) {
                if braced {
                    if after.starts_with('}') {
                        return Some((name.to_string(), 1 + 1 + name.len() + 1));
                    }
                } else if !after.as_bytes().first().is_some_and(|b| b.is_ascii_alphanumeric()) {
                    return Some((name.to_string(), 1 + name.len()));
                }
            }
        }
        None
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> ParseResult<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(&format!("expected '{}'", c as char))
        }
    }

    fn directive(&mut self, name: &str) -> ParseResult<Node> {
        match name {
            "set" => {
                self.eat(b'(')?;
                self.skip_ws();
                let Expr::Ref(target) = self.primary()? else { return self.err("#set needs a reference") };
                self.eat(b'=')?;
                let value = self.expr()?;
                self.eat(b')')?;
                Ok(Node::Set(target, value))
            }
            "if" => {
                let mut branches = Vec::new();
                let mut cond = self.paren_expr()?;
                loop {
                    let (body, end) = self.block(&["elseif", "else", "end"])?;
                    branches.push((cond, body));
                    match end.as_deref() {
                        Some("elseif") => cond = self.paren_expr()?,
                        Some("else") => {
                            let (body, end) = self.block(&["end"])?;
                            if end.is_none() {
                                return self.err("#if without #end");
                            }
                            return Ok(Node::If(branches, Some(body)));
                        }
                        Some(_) => return Ok(Node::If(branches, None)),
                        None => return self.err("#if without #end"),
                    }
                }
            }
            "foreach" => {
                self.eat(b'(')?;
                self.skip_ws();
                let Expr::Ref(var) = self.primary()? else { return self.err("#foreach needs a variable") };
                self.skip_ws();
                if !self.at("in") {
                    return self.err("expected 'in'");
                }
                self.i += 2;
                let list = self.expr()?;
                self.eat(b')')?;
                let (body, end) = self.block(&["end"])?;
                if end.is_none() {
                    return self.err("#foreach without #end");
                }
                Ok(Node::Foreach(var.var, list, body))
            }
            "break" => Ok(Node::Break),
            other => self.err(&format!("unexpected #{other}")),
        }
    }

    fn paren_expr(&mut self) -> ParseResult<Expr> {
        self.eat(b'(')?;
        let e = self.expr()?;
        self.eat(b')')?;
        Ok(e)
    }

    /// A `$...` reference in text, or `None` when the `$` is literal.
    fn reference_node(&mut self) -> ParseResult<Option<Node>> {
        let start = self.i;
        let mut j = self.i + 1;
        let quiet = self.s.get(j) == Some(&b'!');
        if quiet {
            j += 1;
        }
        let braced = self.s.get(j) == Some(&b'{');
        if braced {
            j += 1;
        }
        if !self.s.get(j).copied().is_some_and(is_ident_start) {
            return Ok(None);
        }
        self.i = j;
        let r = self.reference_body()?;
        if braced {
            if self.peek() != Some(b'}') {
                return self.err("expected '}'");
            }
            self.i += 1;
        }
        Ok(Some(Node::Ref { r, quiet, source: self.src[start..self.i].to_string() }))
    }

    /// An identifier and its chain (the cursor is on the identifier).
    fn reference_body(&mut self) -> ParseResult<Ref> {
        let var = self.ident();
        let mut chain = Vec::new();
        loop {
            if self.peek() == Some(b'.') && self.s.get(self.i + 1).copied().is_some_and(is_ident_start) {
                self.i += 1;
                let name = self.ident();
                if self.peek() == Some(b'(') {
                    self.i += 1;
                    let mut args = Vec::new();
                    self.skip_ws();
                    if self.peek() != Some(b')') {
                        loop {
                            args.push(self.expr()?);
                            self.skip_ws();
                            match self.peek() {
                                Some(b',') => self.i += 1,
                                Some(b')') => break,
                                _ => return self.err("expected ',' or ')' in call"),
                            }
                        }
                    }
                    self.i += 1;
                    chain.push(Access::Call(name, args));
                } else {
                    chain.push(Access::Prop(name));
                }
            } else if self.peek() == Some(b'[') {
                self.i += 1;
                let e = self.expr()?;
                self.eat(b']')?;
                chain.push(Access::Index(e));
            } else {
                break;
            }
        }
        Ok(Ref { var, chain })
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(is_ident) {
            // A trailing '-' is text, not part of the name (`$a-` renders `$a` then '-').
            if self.peek() == Some(b'-') && !self.s.get(self.i + 1).copied().is_some_and(|b| b.is_ascii_alphanumeric()) {
                break;
            }
            self.i += 1;
        }
        self.src[start..self.i].to_string()
    }

    fn word(&mut self, w: &str) -> bool {
        self.skip_ws();
        if self.at(w) && !self.s.get(self.i + w.len()).copied().is_some_and(is_ident) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn op(&mut self, o: &str) -> bool {
        self.skip_ws();
        if self.at(o) {
            self.i += o.len();
            true
        } else {
            false
        }
    }

    /// A full expression.
    pub fn expr(&mut self) -> ParseResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("the expression nests too deeply");
        }
        let out = self.or_expr();
        self.depth -= 1;
        out
    }

    fn or_expr(&mut self) -> ParseResult<Expr> {
        let mut l = self.and()?;
        while self.op("||") || self.word("or") {
            l = Expr::Bin(Box::new(l), BinOp::Or, Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> ParseResult<Expr> {
        let mut l = self.not()?;
        while self.op("&&") || self.word("and") {
            l = Expr::Bin(Box::new(l), BinOp::And, Box::new(self.not()?));
        }
        Ok(l)
    }

    fn not(&mut self) -> ParseResult<Expr> {
        self.skip_ws();
        if (self.at("!") && !self.at("!=")) || self.word("not") {
            if self.at("!") {
                self.i += 1;
            }
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.err("the expression nests too deeply");
            }
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> ParseResult<Expr> {
        let l = self.add()?;
        let ops: [(&str, BinOp); 12] = [
            ("==", BinOp::Eq), ("!=", BinOp::Ne), ("<=", BinOp::Le), (">=", BinOp::Ge), ("<", BinOp::Lt), (">", BinOp::Gt),
            ("eq", BinOp::Eq), ("ne", BinOp::Ne), ("le", BinOp::Le), ("ge", BinOp::Ge), ("lt", BinOp::Lt), ("gt", BinOp::Gt),
        ];
        for (text, op) in ops {
            let matched = if text.chars().all(|c| c.is_ascii_alphabetic()) { self.word(text) } else { self.op(text) };
            if matched {
                return Ok(Expr::Bin(Box::new(l), op, Box::new(self.add()?)));
            }
        }
        Ok(l)
    }

    fn add(&mut self) -> ParseResult<Expr> {
        let mut l = self.mul()?;
        loop {
            if self.op("+") {
                l = Expr::Bin(Box::new(l), BinOp::Add, Box::new(self.mul()?));
                continue;
            }
            self.skip_ws();
            if self.at("-") && !self.at("->") {
                self.i += 1;
                l = Expr::Bin(Box::new(l), BinOp::Sub, Box::new(self.mul()?));
            } else {
                return Ok(l);
            }
        }
    }

    fn mul(&mut self) -> ParseResult<Expr> {
        let mut l = self.unary()?;
        loop {
            let op = if self.op("*") {
                BinOp::Mul
            } else if self.op("/") {
                BinOp::Div
            } else if self.op("%") {
                BinOp::Mod
            } else {
                return Ok(l);
            };
            l = Expr::Bin(Box::new(l), op, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> ParseResult<Expr> {
        self.skip_ws();
        if self.peek() == Some(b'-') && !self.s.get(self.i + 1).copied().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.err("the expression nests too deeply");
            }
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> ParseResult<Expr> {
        self.skip_ws();
        match self.peek() {
            None => self.err("unexpected end of expression"),
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                self.eat(b')')?;
                Ok(e)
            }
            Some(b'"') => {
                self.i += 1;
                let start = self.i;
                while let Some(b) = self.peek() {
                    if b == b'\\' {
                        self.i += 2;
                        continue;
                    }
                    if b == b'"' {
                        break;
                    }
                    self.i += 1;
                }
                if self.peek() != Some(b'"') {
                    return self.err("unterminated string");
                }
                let inner = self.src[start..self.i].replace("\\\"", "\"");
                self.i += 1;
                Ok(Expr::Interp(parse(&inner)?))
            }
            Some(b'\'') => {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|b| b != b'\'') {
                    self.i += 1;
                }
                if self.peek() != Some(b'\'') {
                    return self.err("unterminated string");
                }
                let s = self.src[start..self.i].to_string();
                self.i += 1;
                Ok(Expr::Str(s))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Expr::List(items));
                }
                let first = self.expr()?;
                if self.op("..") {
                    let last = self.expr()?;
                    self.eat(b']')?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                items.push(first);
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            items.push(self.expr()?);
                        }
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.expr()?;
                    self.eat(b':')?;
                    let v = self.expr()?;
                    entries.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'$') => {
                self.i += 1;
                if self.peek() == Some(b'!') {
                    self.i += 1;
                }
                let braced = self.peek() == Some(b'{');
                if braced {
                    self.i += 1;
                }
                if !self.peek().is_some_and(is_ident_start) {
                    return self.err("expected a reference name");
                }
                let r = self.reference_body()?;
                if braced {
                    self.eat(b'}')?;
                }
                Ok(Expr::Ref(r))
            }
            Some(b) if b.is_ascii_digit() || b == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.peek().is_some_and(|b| b.is_ascii_digit() || (b == b'.' && self.s.get(self.i + 1).copied().is_some_and(|n| n.is_ascii_digit()))) {
                    self.i += 1;
                }
                let t = &self.src[start..self.i];
                if t.contains('.') {
                    t.parse().map(Expr::Float).map_err(|_| format!("bad number {t}"))
                } else {
                    t.parse().map(Expr::Int).map_err(|_| format!("bad number {t}"))
                }
            }
            _ if self.word("true") => Ok(Expr::Bool(true)),
            _ if self.word("false") => Ok(Expr::Bool(false)),
            _ if self.word("null") => Ok(Expr::Null),
            _ => self.err("unexpected character in expression"),
        }
    }
}
