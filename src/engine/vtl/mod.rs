//! API Gateway's mapping templates: a Velocity (VTL) interpreter for the subset API Gateway
//! documents, with `$input`, `$util`, `$context` and `$stageVariables`. `parse` builds the tree;
//! this module evaluates it.

pub mod java_regex;
pub mod jsonpath;
pub mod parse;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value as Json;

use parse::{Access, BinOp, Expr, Node, Ref};

/// A template value.
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Shared, so that reading a variable or passing a string around never copies it.
    Str(Rc<str>),
    List(Rc<RefCell<Vec<Val>>>),
    Map(Rc<RefCell<Vec<(String, Val)>>>),
    /// `$input`.
    Input,
    /// `$util`.
    Util,
}

/// The request a template reads through `$input`.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub body: String,
    pub path: BTreeMap<String, String>,
    pub querystring: BTreeMap<String, String>,
    pub header: BTreeMap<String, String>,
}

impl Val {
    fn str(s: impl Into<Rc<str>>) -> Val {
        Val::Str(s.into())
    }

    fn list(v: Vec<Val>) -> Val {
        Val::List(Rc::new(RefCell::new(v)))
    }

    fn map(v: Vec<(String, Val)>) -> Val {
        Val::Map(Rc::new(RefCell::new(v)))
    }

    /// A JSON value as a template value.
    pub fn from_json(j: &Json) -> Val {
        match j {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => n.as_i64().map(Val::Int).unwrap_or_else(|| Val::Float(n.as_f64().unwrap_or(0.0))),
            Json::String(s) => Val::str(s.clone()),
            Json::Array(a) => Val::list(a.iter().map(Val::from_json).collect()),
            Json::Object(o) => Val::map(o.iter().map(|(k, v)| (k.clone(), Val::from_json(v))).collect()),
        }
    }

    /// A map from string pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Val {
        Val::map(pairs.into_iter().map(|(k, v)| (k.clone(), Val::str(v.clone()))).collect())
    }

    fn is_container(&self) -> bool {
        matches!(self, Val::List(_) | Val::Map(_))
    }

    fn truthy(&self) -> bool {
        !matches!(self, Val::Null | Val::Bool(false))
    }

    /// Appends how the value prints (Java's `toString`) to `p`.
    fn write(&self, p: &mut Printer) -> Result<(), String> {
        use std::fmt::Write;
        if p.out.len() > p.max_bytes {
            return Err(too_long(p.max_bytes));
        }
        let out = &mut p.out;
        let _ = match self {
            Val::Null | Val::Input | Val::Util => Ok(()),
            Val::Bool(b) => write!(out, "{b}"),
            Val::Int(i) => write!(out, "{i}"),
            Val::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => write!(out, "{f:.1}"),
            Val::Float(f) => write!(out, "{f}"),
            Val::Str(s) => {
                out.push_str(s);
                Ok(())
            }
            Val::List(l) => return p.entries(Rc::as_ptr(l).cast(), ["[", "]", "(this Collection)"], l.borrow().iter().map(|v| (None, v))),
            Val::Map(m) => return p.entries(Rc::as_ptr(m).cast(), ["{", "}", "(this Map)"], m.borrow().iter().map(|(k, v)| (Some(k), v))),
        };
        Ok(())
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// Prints values as text. A list or map that holds itself prints `(this Collection)` /
/// `(this Map)` there, as in Java; one that holds itself further down, nests over
/// [`MAX_NESTING`] deep, or prints to more bytes or entries than the render's budget has steps
/// left for (lists shared many times over grow exponentially) is an error.
struct Printer {
    out: String,
    /// The lists and maps being printed, outermost first.
    within: Vec<*const ()>,
    /// The list and map entries printed so far, and how many the budget allows.
    entries: u64,
    allowed: u64,
    /// The most bytes the text may have ([`Ctx::output_allowance`]).
    max_bytes: usize,
}

impl Printer {
    /// Writes a list's or map's entries between `open` and `close`; `this` stands for the list or
    /// map itself.
    fn entries<'a>(&mut self, me: *const (), [open, close, this]: [&str; 3], entries: impl Iterator<Item = (Option<&'a String>, &'a Val)>) -> Result<(), String> {
        if self.within.contains(&me) {
            return Err("a list or map that holds itself cannot be printed".into());
        }
        if self.within.len() >= MAX_NESTING {
            return Err(format!("a value nests lists and maps over {MAX_NESTING} deep"));
        }
        self.within.push(me);
        self.out.push_str(open);
        for (i, (key, v)) in entries.enumerate() {
            self.entries += 1;
            if self.entries > self.allowed {
                return Err(over_budget());
            }
            if i > 0 {
                self.out.push_str(", ");
            }
            if let Some(k) = key {
                self.out.push_str(k);
                self.out.push('=');
            }
            match v {
                Val::List(x) if Rc::as_ptr(x).cast() == me => self.out.push_str(this),
                Val::Map(x) if Rc::as_ptr(x).cast() == me => self.out.push_str(this),
                v => v.write(self)?,
            }
        }
        self.out.push_str(close);
        self.within.pop();
        Ok(())
    }
}

/// The error for a string or printed value over `allowance` bytes: the budget's when it is what
/// cut the allowance below [`MAX_OUTPUT`].
fn too_long(allowance: usize) -> String {
    if allowance < MAX_OUTPUT { over_budget() } else { format!("a string or value over {MAX_OUTPUT} bytes") }
}

/// The error of a render over [`MAX_STEPS`].
fn over_budget() -> String {
    format!("the template ran over its budget of {MAX_STEPS} steps (directives, expressions, loop iterations and string work)")
}

/// API Gateway's limit on `#foreach` iterations (and on range sizes).
pub const MAX_ITERATIONS: usize = 1000;
/// The work one render may do, in steps: one per directive, reference, expression and method
/// call; eight per `#foreach` iteration; one per range element, one per 16 list or map entries
/// a search passes; one per 64 bytes a method scans or makes or the output receives; one per 16
/// bytes a pattern scans, two per match or `split` piece, and 2,000 per pattern compiled.
/// 1,000 events through the clickstream template (PutRecordBatch takes 500) spend 46,066;
/// nested loops and string work inside loops end with an error instead of running on.
pub const MAX_STEPS: u64 = 100_000;
/// The deepest lists and maps may nest and still print.
pub const MAX_NESTING: usize = 256;
/// The steps one `#foreach` iteration costs (it sets `$foreach` and the loop variable).
const FOREACH_STEPS: u64 = 8;
/// The steps a `replaceAll` / `matches` / `split` pattern costs to compile, before its bytes
/// (a large one takes milliseconds).
const REGEX_COMPILE_STEPS: u64 = 2000;
/// How many bytes a pattern scans per step.
const REGEX_BYTES_PER_STEP: usize = 16;
/// The largest compiled pattern (the regex crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 64 * 1024;
/// How many list or map entries a search passes per step.
const ENTRIES_PER_STEP: usize = 16;
/// How many bytes of string work count as one step.
const BYTES_PER_STEP: usize = 64;
/// The largest output a template may produce.
pub const MAX_OUTPUT: usize = 10 * 1024 * 1024;

/// Evaluation state: variables and the request.
pub struct Ctx {
    vars: BTreeMap<String, Val>,
    input: Input,
    out: String,
    /// Compiled `replaceAll` / `matches` / `split` patterns: a loop compiles each once. Shared,
    /// not cloned: a cloned `Regex` starts with an empty lazy-DFA cache and builds its states
    /// again on every search.
    regexes: HashMap<String, Rc<regex::Regex>>,
    /// The steps spent so far, over the whole render (nested loops multiply).
    steps: u64,
    /// The request body as JSON, parsed on the first `$input.json` / `$input.path`; `None`
    /// inside when the body is not JSON.
    body_json: Option<Option<Json>>,
    /// Every list and map the template made or filled with another list or map: emptied when
    /// the render ends, so that cycles (`$l.add($l)`) are freed and long chains
    /// (`#set($a = [$a])` in a loop) drop one link at a time instead of recursing.
    holders: Vec<Val>,
}

impl Drop for Ctx {
    fn drop(&mut self) {
        for v in &self.holders {
            match v {
                Val::List(l) => drop(l.try_borrow_mut().map(|mut l| std::mem::take(&mut *l))),
                Val::Map(m) => drop(m.try_borrow_mut().map(|mut m| std::mem::take(&mut *m))),
                _ => {}
            }
        }
    }
}

/// Signals `#break`.
struct Broke;

/// Renders a template against a request, `$context` and `$stageVariables`.
pub fn render(template: &str, input: Input, context: Val, stage_variables: Val) -> Result<String, String> {
    render_counted(template, input, context, stage_variables).0
}

/// [`render`], with the steps it spent.
fn render_counted(template: &str, input: Input, context: Val, stage_variables: Val) -> (Result<String, String>, u64) {
    let nodes = match parse::parse(template) {
        Ok(nodes) => nodes,
        Err(e) => return (Err(e), 0),
    };
    let mut ctx = Ctx { vars: BTreeMap::new(), input, out: String::new(), regexes: HashMap::new(), steps: 0, body_json: None, holders: Vec::new() };
    ctx.vars.insert("input".into(), Val::Input);
    ctx.vars.insert("util".into(), Val::Util);
    ctx.vars.insert("context".into(), context);
    ctx.vars.insert("stageVariables".into(), stage_variables);
    let rendered = ctx.nodes(&nodes).map(|_| std::mem::take(&mut ctx.out));
    (rendered, ctx.steps)
}

/// The steps `text` costs to read or write.
fn weight_of(text: &str) -> u64 {
    (text.len() / BYTES_PER_STEP) as u64
}

/// The steps a JSON value costs to copy: one per value, and one per 64 bytes of its strings
/// and keys (serde_json nests at most 128 deep, so the recursion is bounded).
fn json_weight(j: &Json) -> u64 {
    1 + match j {
        Json::String(s) => weight_of(s),
        Json::Array(a) => a.iter().map(json_weight).sum(),
        Json::Object(o) => o.iter().map(|(k, v)| weight_of(k) + json_weight(v)).sum(),
        _ => 0,
    }
}

fn json_text(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `$util.escapeJavaScript`: backslash-escapes quotes, backslashes and control characters.
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' => out.push_str("\\/"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl Ctx {
    fn nodes(&mut self, nodes: &[Node]) -> Result<Option<Broke>, String> {
        for n in nodes {
            self.spend(1)?;
            match n {
                Node::Text(t) => {
                    self.spend(weight_of(t))?;
                    self.out.push_str(t);
                }
                _ if self.out.len() > MAX_OUTPUT => return Err(format!("the template output is over {MAX_OUTPUT} bytes")),
                Node::Ref { r, quiet, source } => {
                    let text = match self.reference(r)? {
                        Val::Null if !quiet => {
                            self.spend(weight_of(source))?;
                            source.clone()
                        }
                        v => self.text(&v)?,
                    };
                    self.out.push_str(&text);
                }
                Node::Set(target, e) => {
                    let v = self.expr(e)?;
                    self.assign(target, v)?;
                }
                Node::If(branches, otherwise) => {
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.expr(cond)?.truthy() {
                            if let Some(b) = self.nodes(body)? {
                                return Ok(Some(b));
                            }
                            done = true;
                            break;
                        }
                    }
                    if !done
                        && let Some(body) = otherwise
                        && let Some(b) = self.nodes(body)?
                    {
                        return Ok(Some(b));
                    }
                }
                Node::Foreach(var, list, body) => {
                    let over = |n: usize| if n > MAX_ITERATIONS { Err(format!("#foreach is limited to {MAX_ITERATIONS} iterations")) } else { Ok(()) };
                    let items: Vec<Val> = match self.expr(list)? {
                        Val::List(l) => {
                            over(l.borrow().len())?;
                            l.borrow().clone()
                        }
                        Val::Map(m) => {
                            over(m.borrow().len())?;
                            m.borrow().iter().map(|(_, v)| v.clone()).collect()
                        }
                        Val::Null => Vec::new(),
                        other => vec![other],
                    };
                    let n = items.len();
                    self.spend(FOREACH_STEPS * n as u64)?;
                    let saved = (self.vars.get(var).cloned(), self.vars.get("foreach").cloned(), self.vars.get("velocityCount").cloned());
                    for (i, item) in items.into_iter().enumerate() {
                        self.vars.insert(var.clone(), item);
                        self.vars.insert(
                            "foreach".into(),
                            Val::map(vec![
                                ("index".into(), Val::Int(i as i64)),
                                ("count".into(), Val::Int(i as i64 + 1)),
                                ("hasNext".into(), Val::Bool(i + 1 < n)),
                                ("first".into(), Val::Bool(i == 0)),
                                ("last".into(), Val::Bool(i + 1 == n)),
                            ]),
                        );
                        self.vars.insert("velocityCount".into(), Val::Int(i as i64 + 1));
                        if self.nodes(body)?.is_some() {
                            break;
                        }
                    }
                    for (k, v) in [(var.as_str(), saved.0), ("foreach", saved.1), ("velocityCount", saved.2)] {
                        match v {
                            Some(v) => self.vars.insert(k.to_string(), v),
                            None => self.vars.remove(k),
                        };
                    }
                }
                Node::Break => return Ok(Some(Broke)),
            }
        }
        Ok(None)
    }

    fn assign(&mut self, target: &Ref, v: Val) -> Result<(), String> {
        if target.chain.is_empty() {
            self.vars.insert(target.var.clone(), v);
            return Ok(());
        }
        // `#set($map.key = v)`: set a key on a map held in a variable.
        let (last, head) = target.chain.split_last().ok_or("empty reference")?;
        let owner = self.reference(&Ref { var: target.var.clone(), chain: head.to_vec() })?;
        let key = match last {
            Access::Prop(k) => k.clone(),
            Access::Index(e) => {
                let k = self.expr(e)?;
                self.text(&k)?
            }
            Access::Call(..) => return Err("cannot assign to a method call".into()),
        };
        if let Val::Map(m) = &owner {
            self.map_put(&owner, m, key, v)?;
        }
        Ok(())
    }

    fn reference(&mut self, r: &Ref) -> Result<Val, String> {
        let mut v = self.vars.get(&r.var).cloned().unwrap_or(Val::Null);
        for a in &r.chain {
            v = match a {
                Access::Prop(name) => self.property(&v, name)?,
                Access::Call(name, args) => {
                    let args = args.iter().map(|e| self.expr(e)).collect::<Result<Vec<_>, _>>()?;
                    self.call(&v, name, &args)?
                }
                Access::Index(e) => {
                    let i = self.expr(e)?;
                    self.index(&v, &i)?
                }
            };
        }
        Ok(v)
    }

    fn property(&mut self, v: &Val, name: &str) -> Result<Val, String> {
        Ok(match v {
            Val::Map(m) => self.map_get(m, name)?,
            Val::Input | Val::Util => self.call(v, name, &[])?,
            Val::Str(_) | Val::List(_) => self.call(v, name, &[]).unwrap_or(Val::Null),
            _ => Val::Null,
        })
    }

    fn index(&mut self, v: &Val, i: &Val) -> Result<Val, String> {
        Ok(match (v, i) {
            (Val::List(l), Val::Int(n)) => {
                let l = l.borrow();
                let idx = if *n < 0 { l.len() as i64 + n } else { *n };
                l.get(idx as usize).cloned().unwrap_or(Val::Null)
            }
            (Val::Map(m), k) => {
                let key = self.text(k)?;
                self.map_get(m, &key)?
            }
            _ => Val::Null,
        })
    }

    /// `key`'s value in a map (null when absent), charged for the search.
    fn map_get(&mut self, m: &RefCell<Vec<(String, Val)>>, key: &str) -> Result<Val, String> {
        self.spend_scan(m.borrow().len())?;
        Ok(m.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or(Val::Null))
    }

    /// Sets `key` in the map `owner` (whose entries are `m`), charged for the search; returns
    /// the value it replaced, or null.
    fn map_put(&mut self, owner: &Val, m: &RefCell<Vec<(String, Val)>>, key: String, val: Val) -> Result<Val, String> {
        self.hold(owner, &val);
        self.spend_scan(m.borrow().len())?;
        let mut m = m.borrow_mut();
        Ok(match m.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => std::mem::replace(&mut slot.1, val),
            None => {
                m.push((key, val));
                Val::Null
            }
        })
    }

    /// Keeps `holder` among the [`Ctx::holders`] when `item`, going into it, is a list or map.
    fn hold(&mut self, holder: &Val, item: &Val) {
        if item.is_container() {
            self.holders.push(holder.clone());
        }
    }

    /// `v`, kept among the [`Ctx::holders`] when it holds a list or map.
    fn hold_if_nested(&mut self, v: Val) -> Val {
        let nested = match &v {
            Val::List(l) => l.borrow().iter().any(Val::is_container),
            Val::Map(m) => m.borrow().iter().any(|(_, x)| x.is_container()),
            _ => false,
        };
        if nested {
            self.holders.push(v.clone());
        }
        v
    }

    /// `v` as text, charged for its bytes and its list and map entries.
    fn text(&mut self, v: &Val) -> Result<String, String> {
        if let Val::Str(s) = v {
            self.spend(weight_of(s))?;
            return Ok(s.to_string());
        }
        let mut p = Printer { out: String::new(), within: Vec::new(), entries: 0, allowed: MAX_STEPS.saturating_sub(self.steps), max_bytes: self.output_allowance() };
        v.write(&mut p)?;
        self.spend(p.entries + weight_of(&p.out))?;
        Ok(p.out)
    }

    /// Velocity's `==`: by value for scalars, by text for lists and maps.
    fn equals(&mut self, a: &Val, b: &Val) -> Result<bool, String> {
        Ok(match (a, b) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(x), Val::Bool(y)) => x == y,
            (Val::Str(x), Val::Str(y)) => {
                self.spend(weight_of(x).min(weight_of(y)))?;
                x == y
            }
            (Val::Int(x), Val::Int(y)) => x == y,
            (x, y) if x.as_f64().is_some() && y.as_f64().is_some() => x.as_f64() == y.as_f64(),
            (Val::List(_) | Val::Map(_), _) | (_, Val::List(_) | Val::Map(_)) => self.text(a)? == self.text(b)?,
            _ => false,
        })
    }

    /// Counts `n` steps against the render's budget (see [`MAX_STEPS`]).
    fn spend(&mut self, n: u64) -> Result<(), String> {
        self.steps += n;
        if self.steps > MAX_STEPS {
            return Err(over_budget());
        }
        Ok(())
    }

    /// `$input.path(path)`, from the body parsed once per render.
    fn select(&mut self, path: &str) -> Result<Option<Json>, String> {
        if self.body_json.is_none() {
            self.spend(weight_of(&self.input.body))?;
            self.body_json = Some(jsonpath::parse_body(&self.input.body));
        }
        Ok(self.body_json.as_ref().and_then(Option::as_ref).and_then(|root| jsonpath::select(root, path)))
    }

    /// `pattern` (Java's syntax) compiled, once per render (`what` names the method in an
    /// error), and charged for scanning `haystack`.
    fn regex(&mut self, pattern: String, what: &str, haystack: &str) -> Result<Rc<regex::Regex>, String> {
        self.spend((haystack.len() / REGEX_BYTES_PER_STEP) as u64)?;
        if let Some(re) = self.regexes.get(&pattern) {
            return Ok(re.clone());
        }
        self.spend(REGEX_COMPILE_STEPS + pattern.len() as u64)?;
        let re = Rc::new(regex::RegexBuilder::new(&java_regex::pattern(&pattern)).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| format!("{what}: {e}"))?);
        if self.regexes.len() >= 64 {
            self.regexes.clear();
        }
        self.regexes.insert(pattern, re.clone());
        Ok(re)
    }

    /// A method call. Each method is charged for what it scans and what it makes; one that
    /// only reads a field (`size`, `get` on a list, `add`) costs its step alone.
    fn call(&mut self, v: &Val, name: &str, args: &[Val]) -> Result<Val, String> {
        self.spend(1)?;
        self.method(v, name, args)
    }

    /// The most bytes a string or printed value may still have: [`MAX_OUTPUT`], or less when
    /// the budget has fewer steps left.
    fn output_allowance(&self) -> usize {
        let left = MAX_STEPS.saturating_sub(self.steps) as usize;
        MAX_OUTPUT.min(left.saturating_mul(BYTES_PER_STEP))
    }

    /// The error for a string or printed value past [`Ctx::output_allowance`].
    fn output_error(&self) -> String {
        too_long(self.output_allowance())
    }

    /// Charges for a string of `len` bytes before it is built, and refuses one past the
    /// allowance.
    fn spend_on_output(&mut self, len: usize) -> Result<(), String> {
        if len > self.output_allowance() {
            return Err(self.output_error());
        }
        self.spend((len / BYTES_PER_STEP) as u64)
    }

    /// Charges for a linear search through `len` list or map entries.
    fn spend_scan(&mut self, len: usize) -> Result<(), String> {
        self.spend((len / ENTRIES_PER_STEP) as u64)
    }

    /// A new string, charged for its bytes.
    fn made(&mut self, s: String) -> Result<Val, String> {
        self.spend(weight_of(&s))?;
        Ok(Val::str(s))
    }

    /// A JSON value from the body or `parseJson` as a template value, charged for its size.
    fn json_value(&mut self, j: &Json) -> Result<Val, String> {
        self.spend(json_weight(j))?;
        Ok(Val::from_json(j))
    }

    fn method(&mut self, v: &Val, name: &str, args: &[Val]) -> Result<Val, String> {
        // An argument as text (charged), or "" when it is missing.
        macro_rules! s {
            ($i:expr) => {
                match args.get($i) {
                    Some(a) => self.text(a)?,
                    None => String::new(),
                }
            };
        }
        let n = |i: usize| args.get(i).and_then(Val::as_f64).unwrap_or(0.0) as i64;
        Ok(match v {
            Val::Input => match name {
                "body" => self.made(self.input.body.clone())?,
                "json" => {
                    let path = s!(0);
                    let text = self.select(&path)?.map(|j| json_text(&j)).unwrap_or_default();
                    self.made(text)?
                }
                "path" => {
                    let path = s!(0);
                    match self.select(&path)? {
                        Some(j) => self.json_value(&j)?,
                        None => Val::Null,
                    }
                }
                "params" if args.is_empty() => {
                    let input = &self.input;
                    let size: usize = [&input.path, &input.querystring, &input.header].iter().flat_map(|m| m.iter()).map(|(k, v)| 1 + (k.len() + v.len()) / BYTES_PER_STEP).sum();
                    self.spend(size as u64)?;
                    Val::map(vec![
                        ("path".into(), Val::from_pairs(&self.input.path)),
                        ("querystring".into(), Val::from_pairs(&self.input.querystring)),
                        ("header".into(), Val::from_pairs(&self.input.header)),
                    ])
                }
                "params" => {
                    let key = s!(0);
                    let found = self
                        .input
                        .path
                        .get(&key)
                        .or_else(|| self.input.querystring.get(&key))
                        .or_else(|| self.input.header.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)).map(|(_, v)| v));
                    Val::str(found.cloned().unwrap_or_default())
                }
                other => return Err(format!("$input.{other} is not supported")),
            },
            Val::Util => match name {
                "base64Encode" => {
                    let out = B64.encode(s!(0).as_bytes());
                    self.made(out)?
                }
                "base64Decode" => {
                    let out = String::from_utf8_lossy(&B64.decode(s!(0).trim()).map_err(|e| format!("$util.base64Decode: {e}"))?).into_owned();
                    self.made(out)?
                }
                "escapeJavaScript" => {
                    let out = escape_javascript(&s!(0));
                    self.made(out)?
                }
                "urlEncode" => {
                    let out = percent_encoding::utf8_percent_encode(&s!(0), percent_encoding::NON_ALPHANUMERIC).to_string().replace("%2D", "-").replace("%2E", ".").replace("%5F", "_").replace("%2A", "*").replace("%20", "+");
                    self.made(out)?
                }
                "urlDecode" => {
                    let out = crate::protocol::percent_decode(&s!(0).replace('+', " "));
                    self.made(out)?
                }
                "parseJson" => {
                    let j = serde_json::from_str::<Json>(&s!(0)).map_err(|e| format!("$util.parseJson: {e}"))?;
                    self.json_value(&j)?
                }
                other => return Err(format!("$util.{other} is not supported")),
            },
            Val::Str(st) if matches!(name, "isEmpty" | "toString") => match name {
                "isEmpty" => Val::Bool(st.is_empty()),
                _ => v.clone(),
            },
            Val::Str(st) => {
                // Every other string method scans the string.
                self.spend(weight_of(st))?;
                match name {
                    "length" | "size" => Val::Int(st.chars().count() as i64),
                    "toLowerCase" => self.made(st.to_lowercase())?,
                    "toUpperCase" => self.made(st.to_uppercase())?,
                    "trim" => self.made(st.trim().to_string())?,
                    "contains" => Val::Bool(st.contains(&s!(0))),
                    "startsWith" => Val::Bool(st.starts_with(&s!(0))),
                    "endsWith" => Val::Bool(st.ends_with(&s!(0))),
                    "equals" => Val::Bool(self.equals(v, args.first().unwrap_or(&Val::Null))?),
                    "equalsIgnoreCase" => Val::Bool(st.eq_ignore_ascii_case(&s!(0))),
                    "indexOf" => Val::Int(st.find(&s!(0)).map_or(-1, |i| st[..i].chars().count() as i64)),
                    "replace" => {
                        let (from, to) = (s!(0), s!(1));
                        let count = if from.is_empty() { st.chars().count() + 1 } else { st.matches(from.as_str()).count() };
                        self.spend_on_output((st.len() - count * from.len()).saturating_add(count.saturating_mul(to.len())))?;
                        Val::str(st.replace(from.as_str(), &to))
                    }
                    "replaceAll" => {
                        let pattern = s!(0);
                        let re = self.regex(pattern, "replaceAll", st)?;
                        let with = java_regex::replacement(&s!(1), &re).map_err(|e| format!("replaceAll: {e}"))?;
                        // Built piece by piece, so a replacement that multiplies the string ends at
                        // the budget instead of after it.
                        // Each match costs two steps (four when the replacement names groups,
                        // which takes the slower capturing search).
                        let limit = self.output_allowance();
                        let (mut out, mut last) = (String::new(), 0);
                        if with.contains('$') {
                            for caps in re.captures_iter(st) {
                                self.spend(4)?;
                                let Some(m) = caps.get(0) else { continue };
                                out.push_str(&st[last..m.start()]);
                                caps.expand(&with, &mut out);
                                last = m.end();
                                if out.len() > limit {
                                    return Err(self.output_error());
                                }
                            }
                        } else {
                            for m in re.find_iter(st) {
                                self.spend(2)?;
                                out.push_str(&st[last..m.start()]);
                                out.push_str(&with);
                                last = m.end();
                                if out.len() > limit {
                                    return Err(self.output_error());
                                }
                            }
                        }
                        out.push_str(&st[last..]);
                        self.made(out)?
                    }
                    "matches" => {
                        let pattern = s!(0);
                        // Compiled alone too, so that a pattern closing the anchoring group early
                        // (`a)|(b`) is refused, as Java refuses it.
                        self.regex(pattern.clone(), "matches", "")?;
                        Val::Bool(self.regex(format!("^(?:{pattern})$"), "matches", st)?.is_match(st))
                    }
                    "split" => {
                        let pattern = s!(0);
                        let re = self.regex(pattern, "split", st)?;
                        // Java's String.split: trailing empty strings go, and so does the leading one
                        // a zero-width match at the start makes; "" splits to [""].
                        let mut parts: Vec<Val> = if st.is_empty() { vec![Val::str("")] } else { re.split(st).map(Val::str).collect() };
                        if !st.is_empty() {
                            if re.find(st).is_some_and(|m| m.start() == 0 && m.end() == 0) && matches!(parts.first(), Some(Val::Str(p)) if p.is_empty()) {
                                parts.remove(0);
                            }
                            while matches!(parts.last(), Some(Val::Str(p)) if p.is_empty()) {
                                parts.pop();
                            }
                        }
                        self.spend(2 * parts.len() as u64)?;
                        Val::list(parts)
                    }
                    "substring" => {
                        let chars: Vec<char> = st.chars().collect();
                        let a = (n(0).max(0) as usize).min(chars.len());
                        let b = if args.len() > 1 { (n(1).max(0) as usize).min(chars.len()) } else { chars.len() };
                        Val::str(chars[a..b.max(a)].iter().collect::<String>())
                    }
                    "charAt" => Val::str(st.chars().nth(n(0) as usize).map(String::from).unwrap_or_default()),
                    other => return Err(format!("String.{other}() is not supported")),
                }
            }
            Val::List(l) => match name {
                "size" => Val::Int(l.borrow().len() as i64),
                "isEmpty" => Val::Bool(l.borrow().is_empty()),
                "get" => self.index(v, &Val::Int(n(0)))?,
                "add" => {
                    let item = args.first().cloned().unwrap_or(Val::Null);
                    self.hold(v, &item);
                    l.borrow_mut().push(item);
                    Val::Bool(true)
                }
                "contains" => {
                    let items = l.borrow().clone();
                    self.spend_scan(items.len())?;
                    let wanted = args.first().unwrap_or(&Val::Null);
                    let mut found = false;
                    for x in &items {
                        if self.equals(x, wanted)? {
                            found = true;
                            break;
                        }
                    }
                    Val::Bool(found)
                }
                other => return Err(format!("List.{other}() is not supported")),
            },
            Val::Map(m) => match name {
                "size" => Val::Int(m.borrow().len() as i64),
                "isEmpty" => Val::Bool(m.borrow().is_empty()),
                "get" => self.index(v, args.first().unwrap_or(&Val::Null))?,
                "containsKey" => {
                    let key = s!(0);
                    self.spend_scan(m.borrow().len())?;
                    Val::Bool(m.borrow().iter().any(|(k, _)| *k == key))
                }
                "keySet" => {
                    self.spend(m.borrow().iter().map(|(k, _)| 1 + weight_of(k)).sum())?;
                    Val::list(m.borrow().iter().map(|(k, _)| Val::str(k.as_str())).collect())
                }
                "values" => {
                    self.spend(m.borrow().len() as u64)?;
                    let values = Val::list(m.borrow().iter().map(|(_, v)| v.clone()).collect());
                    self.hold_if_nested(values)
                }
                "put" => {
                    let key = s!(0);
                    self.map_put(v, m, key, args.get(1).cloned().unwrap_or(Val::Null))?
                }
                // `$context.requestId` style properties are map keys; unknown methods are null.
                _ => self.map_get(m, name)?,
            },
            _ => Val::Null,
        })
    }

    fn expr(&mut self, e: &Expr) -> Result<Val, String> {
        self.spend(1)?;
        Ok(match e {
            Expr::Null => Val::Null,
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Int(i) => Val::Int(*i),
            Expr::Float(f) => Val::Float(*f),
            Expr::Str(s) => {
                self.spend(weight_of(s))?;
                Val::str(s.as_str())
            }
            Expr::Interp(nodes) => {
                let saved = std::mem::take(&mut self.out);
                let _ = self.nodes(nodes)?;
                Val::str(std::mem::replace(&mut self.out, saved))
            }
            Expr::List(items) => {
                let list = Val::list(items.iter().map(|i| self.expr(i)).collect::<Result<_, _>>()?);
                self.hold_if_nested(list)
            }
            Expr::Range(a, b) => {
                let (a, b) = (self.expr(a)?.as_f64().unwrap_or(0.0) as i64, self.expr(b)?.as_f64().unwrap_or(0.0) as i64);
                if a.abs_diff(b) >= MAX_ITERATIONS as u64 {
                    return Err(format!("ranges are limited to {MAX_ITERATIONS} elements"));
                }
                self.spend(a.abs_diff(b) + 1)?;
                let items: Vec<Val> = if a <= b { (a..=b).map(Val::Int).collect() } else { (b..=a).rev().map(Val::Int).collect() };
                Val::list(items)
            }
            Expr::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    let k = self.expr(k)?;
                    out.push((self.text(&k)?, self.expr(v)?));
                }
                self.hold_if_nested(Val::map(out))
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::Not(e) => Val::Bool(!self.expr(e)?.truthy()),
            Expr::Neg(e) => match self.expr(e)? {
                Val::Int(i) => Val::Int(i.wrapping_neg()),
                Val::Float(f) => Val::Float(-f),
                _ => Val::Null,
            },
            Expr::Bin(l, op, r) => {
                let a = self.expr(l)?;
                match op {
                    BinOp::And => return Ok(Val::Bool(a.truthy() && self.expr(r)?.truthy())),
                    BinOp::Or => return Ok(Val::Bool(a.truthy() || self.expr(r)?.truthy())),
                    _ => {}
                }
                let b = self.expr(r)?;
                match op {
                    BinOp::Eq => Val::Bool(self.equals(&a, &b)?),
                    BinOp::Ne => Val::Bool(!self.equals(&a, &b)?),
                    BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
                        let ord = match (a.as_f64(), b.as_f64()) {
                            (Some(x), Some(y)) => x.partial_cmp(&y),
                            _ => Some(self.text(&a)?.cmp(&self.text(&b)?)),
                        };
                        Val::Bool(match (op, ord) {
                            (BinOp::Lt, Some(o)) => o.is_lt(),
                            (BinOp::Gt, Some(o)) => o.is_gt(),
                            (BinOp::Le, Some(o)) => o.is_le(),
                            (BinOp::Ge, Some(o)) => o.is_ge(),
                            _ => false,
                        })
                    }
                    BinOp::Add if matches!(a, Val::Str(_)) || matches!(b, Val::Str(_)) => {
                        Val::str(self.text(&a)? + &self.text(&b)?)
                    }
                    _ => match (a, b) {
                        (Val::Int(x), Val::Int(y)) => match op {
                            BinOp::Add => Val::Int(x.wrapping_add(y)),
                            BinOp::Sub => Val::Int(x.wrapping_sub(y)),
                            BinOp::Mul => Val::Int(x.wrapping_mul(y)),
                            BinOp::Div if y != 0 => Val::Int(x.wrapping_div(y)),
                            BinOp::Mod if y != 0 => Val::Int(x.wrapping_rem(y)),
                            _ => Val::Null,
                        },
                        (x, y) => match (x.as_f64(), y.as_f64()) {
                            (Some(x), Some(y)) => match op {
                                BinOp::Add => Val::Float(x + y),
                                BinOp::Sub => Val::Float(x - y),
                                BinOp::Mul => Val::Float(x * y),
                                BinOp::Div if y != 0.0 => Val::Float(x / y),
                                BinOp::Mod if y != 0.0 => Val::Float(x % y),
                                _ => Val::Null,
                            },
                            _ => Val::Null,
                        },
                    },
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &Json, k: &str) -> BTreeMap<String, String> {
        v.get(k).and_then(Json::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default()
    }

    fn run(case: &Json) -> Result<String, String> {
        let input = Input {
            body: case.get("body").and_then(Json::as_str).unwrap_or("{}").to_string(),
            path: strings(case, "path"),
            querystring: strings(case, "querystring"),
            header: strings(case, "header"),
        };
        let context = Val::from_json(&serde_json::json!({"requestId": "req-1", "stage": "prod", "httpMethod": "POST", "identity": {"sourceIp": "127.0.0.1"}}));
        let stage = Val::from_json(&serde_json::json!({"env": "test"}));
        render(case["template"].as_str().unwrap_or_default(), input, context, stage)
    }

    /// The clickstream template (one Firehose record per event) over 1,000 events of 200 bytes
    /// spends well under the budget; the templates that run away are in cases.json's errors.
    #[test]
    fn a_thousand_records_fit_the_budget() {
        let events: Vec<Json> = (0..1000).map(|i| serde_json::json!({"event": "click", "n": i, "page": "x".repeat(160)})).collect();
        let body = serde_json::json!({"events": events}).to_string();
        let template = "{\"DeliveryStreamName\": \"s\", \"Records\": [#foreach($e in $input.path('$.events'))#set($p = \"$.events[$foreach.index]\"){\"Data\": \"$util.base64Encode($input.json($p))\"}#if($foreach.hasNext),#end#end]}";
        let (out, steps) = render_counted(template, Input { body, ..Default::default() }, Val::Null, Val::Null);
        assert_eq!(out.map(|o| o.matches("\"Data\"").count()), Ok(1000));
        assert!(steps < MAX_STEPS / 2, "{steps} steps");
    }

    /// The data-driven cases of fixtures/vtl/cases.json.
    #[test]
    fn fixture_cases() {
        let fixture: Json = serde_json::from_str(include_str!("../../../fixtures/vtl/cases.json")).unwrap_or_default();
        let cases = fixture["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() >= 30);
        for case in &cases {
            let got = run(case);
            assert_eq!(got.as_deref(), Ok(case["expected"].as_str().unwrap_or_default()), "case {}", case["name"]);
        }
        for case in fixture["errors"].as_array().cloned().unwrap_or_default() {
            assert!(run(&case).is_err(), "case {} should fail", case["name"]);
        }
    }
}
