//! Dynamic partitioning's MetadataExtraction processor: a jq query (run by the `jaq` crates, a
//! Rust jq implementation) that maps each JSON record to its partition keys, e.g.
//! `{customer_id: .customer_id, year: .ts | strftime("%Y")}`.

use std::collections::BTreeMap;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

/// AWS's limit on a processor parameter's value (MetadataExtractionQuery).
const MAX_QUERY_LEN: usize = 5120;
/// jaq's parser recurses once per bracket: deeper queries would overflow a worker's stack.
const MAX_NESTING: usize = 128;

/// jq words that define functions or loop without end on some input: `def f: f; f` overflows
/// the stack of the delivery thread, `repeat`, `while`, `until` and `recurse(f)` can run for
/// ever, and `range(1e9)` fills the memory. A metadata extraction query maps one record to its
/// keys and needs none of them, so they are refused where the query is given.
const UNBOUNDED: &[&str] = &["def", "repeat", "while", "until", "recurse", "range", "recurse_down"];

/// The first word of `code` from [`UNBOUNDED`], as a word of code (not a `.field`, `$var` or
/// `@format`). String literals are not skipped: a query that merely names one in a string is
/// refused too, which errs on the safe side.
fn unbounded_word(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if !ident(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && ident(b[i]) {
            i += 1;
        }
        let field_or_var = start > 0 && matches!(b[start - 1], b'.' | b'$' | b'@');
        if !field_or_var && let Some(w) = UNBOUNDED.iter().find(|w| w.as_bytes() == &b[start..i]) {
            return Some(w);
        }
    }
    None
}

/// A compiled query. Compiling is cheap; the compiled form is not `Send`, so it is built where
/// it is used (inside one delivery) rather than kept in async tasks.
pub struct Query {
    filter: jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>,
}

impl Query {
    /// Compiles a jq program; the error says why it does not parse or compile.
    pub fn compile(code: &str) -> Result<Query, String> {
        if code.len() > MAX_QUERY_LEN {
            return Err(format!("the jq query is longer than {MAX_QUERY_LEN} characters"));
        }
        if crate::protocol::bracket_depth(code) > MAX_NESTING {
            return Err(format!("the jq query nests brackets more than {MAX_NESTING} deep"));
        }
        if let Some(w) = unbounded_word(code) {
            return Err(format!(
                "firelocal does not run jq queries that use '{w}': function definitions and loops (def, repeat, while, until, recurse, range) could run without end on a delivery"
            ));
        }
        let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
        let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| format!("the jq query does not parse ({} error(s))", errs.len()))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| format!("the jq query does not compile ({} error(s))", errs.len()))?;
        Ok(Query { filter })
    }

    /// Runs the query on one record and returns its partition keys: the first output must be an
    /// object whose values are strings, numbers or booleans.
    pub fn keys(&self, record: &[u8]) -> Result<BTreeMap<String, String>, String> {
        let input = jaq_json::read::parse_single(record).map_err(|e| format!("Non JSON record provided: {e}"))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let out = self
            .filter
            .id
            .run((ctx, input))
            .map(unwrap_valr)
            .next()
            .ok_or("the jq query produced no output")?
            .map_err(|e| format!("the jq query failed: {e}"))?;
        let Val::Obj(map) = out else {
            return Err("the jq query must produce an object of partition keys".into());
        };
        let mut keys = BTreeMap::new();
        for (k, v) in map.iter() {
            let name = match k {
                Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                other => other.to_string(),
            };
            let value = match v {
                Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                Val::Num(_) | Val::Bool(_) => v.to_string(),
                Val::Null => return Err(format!("partition key '{name}' is null")),
                _ => return Err(format!("partition key '{name}' is not a string, number or boolean")),
            };
            keys.insert(name, value);
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_that_could_run_for_ever_are_refused() {
        for q in ["def f: [f]; f", "def f: f; f", "[range(1e9)]", "{k: repeat(1)}", "last(recurse(.))", "{k: (1 | until(false; .))}"] {
            assert!(Query::compile(q).is_err_and(|e| e.contains("firelocal does not run")), "{q}");
        }
        // Fields and variables of those names are fine.
        let q = Query::compile("{a: .range, b: .def, c: .until}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q.keys(br#"{"range": "r", "def": 1, "until": true}"#).map(|k| k.len()), Ok(3));
    }

    #[test]
    fn extracts_keys() {
        let q = Query::compile("{customer: .customer_id, kind: .event.type, n: .n}").unwrap_or_else(|e| panic!("{e}"));
        let k = q.keys(br#"{"customer_id":"c-1","event":{"type":"click"},"n":3}"#).unwrap_or_default();
        assert_eq!(k.get("customer").map(String::as_str), Some("c-1"));
        assert_eq!(k.get("kind").map(String::as_str), Some("click"));
        assert_eq!(k.get("n").map(String::as_str), Some("3"));
        assert!(q.keys(b"not json").is_err());
        assert!(q.keys(br#"{"customer_id":null}"#).is_err());
        assert!(Query::compile("{a: .b").is_err());
        let arr = Query::compile(".items").unwrap_or_else(|e| panic!("{e}"));
        assert!(arr.keys(br#"{"items":[1]}"#).is_err());
    }
}
