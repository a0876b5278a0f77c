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

/// The deepest nesting of `(`, `[` and `{`, counted in string literals too (a string's `\(...)`
/// interpolation is code), so the bound errs on the safe side.
fn nesting(code: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in code.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
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
        if nesting(code) > MAX_NESTING {
            return Err(format!("the jq query nests brackets more than {MAX_NESTING} deep"));
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
