//! IAM policy evaluation, as IAM evaluates identity policies: an explicit Deny wins, then an
//! Allow, else the implicit deny. Statements match on Action / NotAction (case-insensitive
//! wildcards), Resource / NotResource (case-sensitive wildcards) and Condition blocks (String*,
//! Arn*, Bool, Numeric*, IpAddress / NotIpAddress, Null, the `...IfExists` forms and the
//! `ForAnyValue:` / `ForAllValues:` set qualifiers).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

/// What a request asks for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// e.g. `s3:PutObject`.
    pub action: String,
    /// e.g. `arn:aws:s3:::clicks/2024/01/01/file.gz`.
    pub resource: String,
    /// Condition keys (lower-cased names) and their values, e.g. `aws:sourceip` → `["127.0.0.1"]`.
    pub context: BTreeMap<String, Vec<String>>,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// Glob matching with `*` (any run) and `?` (one character).
pub fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| match x {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }).collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else { return false };
    let (net, bits) = cidr.split_once('/').map_or((cidr, None), |(n, b)| (n, b.parse::<u32>().ok()));
    let Ok(net) = net.parse::<IpAddr>() else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}

/// Whether one request value satisfies one policy value under `op` (the positive form).
fn value_matches(op: &str, policy: &str, actual: &str) -> Option<bool> {
    Some(match op {
        "stringequals" | "arnequals" => policy == actual,
        "stringequalsignorecase" => policy.eq_ignore_ascii_case(actual),
        "stringlike" | "arnlike" => wildcard(policy, actual, false),
        "bool" => policy.eq_ignore_ascii_case(actual),
        "numericequals" | "numericlessthan" | "numericlessthanequals" | "numericgreaterthan" | "numericgreaterthanequals" => {
            let (p, a) = (policy.parse::<f64>().ok()?, actual.parse::<f64>().ok()?);
            match op {
                "numericequals" => a == p,
                "numericlessthan" => a < p,
                "numericlessthanequals" => a <= p,
                "numericgreaterthan" => a > p,
                _ => a >= p,
            }
        }
        "ipaddress" => cidr_contains(policy, actual),
        _ => return None,
    })
}

/// Splits an operator into (set qualifier, base operator, negated, if-exists).
fn parse_operator(op: &str) -> (Option<String>, String, bool, bool) {
    let lower = op.to_ascii_lowercase();
    let (qualifier, rest) = match lower.split_once(':') {
        Some((q, r)) => (Some(q.to_string()), r.to_string()),
        None => (None, lower),
    };
    let (rest, if_exists) = match rest.strip_suffix("ifexists") {
        Some(r) => (r.to_string(), true),
        None => (rest, false),
    };
    let (base, negated) = match rest.as_str() {
        "stringnotequals" => ("stringequals".to_string(), true),
        "stringnotequalsignorecase" => ("stringequalsignorecase".to_string(), true),
        "stringnotlike" => ("stringlike".to_string(), true),
        "arnnotequals" => ("arnequals".to_string(), true),
        "arnnotlike" => ("arnlike".to_string(), true),
        "numericnotequals" => ("numericequals".to_string(), true),
        "notipaddress" => ("ipaddress".to_string(), true),
        other => (other.to_string(), false),
    };
    (qualifier, base, negated, if_exists)
}

fn condition_holds(op: &str, key: &str, expected: &[String], ctx: &BTreeMap<String, Vec<String>>) -> bool {
    let (qualifier, base, negated, if_exists) = parse_operator(op);
    let actual = ctx.get(&key.to_ascii_lowercase());
    if base == "null" {
        let want_missing = expected.iter().any(|e| e.eq_ignore_ascii_case("true"));
        return actual.is_none_or(Vec::is_empty) == want_missing;
    }
    let Some(actual) = actual.filter(|a| !a.is_empty()) else {
        // A missing key satisfies only ...IfExists and negated operators (and ForAllValues).
        return if_exists || negated || qualifier.as_deref() == Some("forallvalues");
    };
    let one = |a: &str| expected.iter().any(|e| value_matches(&base, e, a).unwrap_or(false));
    let positive = match qualifier.as_deref() {
        Some("forallvalues") => actual.iter().all(|a| one(a)),
        _ => actual.iter().any(|a| one(a)),
    };
    positive != negated
}

fn statement_matches(s: &Value, req: &Request) -> bool {
    let action_ok = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) => strings(Some(a)).iter().any(|p| wildcard(p, &req.action, true)),
        (None, Some(n)) => !strings(Some(n)).iter().any(|p| wildcard(p, &req.action, true)),
        _ => false,
    };
    if !action_ok {
        return false;
    }
    let resource_ok = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => strings(Some(r)).iter().any(|p| wildcard(p, &req.resource, false)),
        (None, Some(n)) => !strings(Some(n)).iter().any(|p| wildcard(p, &req.resource, false)),
        _ => false,
    };
    if !resource_ok {
        return false;
    }
    match s.get("Condition").and_then(Value::as_object) {
        None => true,
        Some(block) => block.iter().all(|(op, keys)| {
            keys.as_object().is_some_and(|keys| keys.iter().all(|(k, v)| condition_holds(op, k, &strings(Some(v)), &req.context)))
        }),
    }
}

/// Evaluates policy documents (parsed JSON) for a request.
pub fn evaluate(policies: &[Value], req: &Request) -> Decision {
    let mut allowed = false;
    for p in policies {
        let statements = match p.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(o @ Value::Object(_)) => vec![o.clone()],
            _ => continue,
        };
        for s in &statements {
            if !statement_matches(s, req) {
                continue;
            }
            match s.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    if allowed { Decision::Allow } else { Decision::ImplicitDeny }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("s3:*", "s3:PutObject", true));
        assert!(wildcard("s3:put*", "s3:PutObject", true));
        assert!(wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", false));
        assert!(!wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false));
        assert!(wildcard("arn:aws:s3:::b?", "arn:aws:s3:::b1", false));
        assert!(!wildcard("arn:aws:s3:::B", "arn:aws:s3:::b", false));
        assert!(cidr_contains("10.0.0.0/8", "10.1.2.3") && !cidr_contains("10.0.0.0/8", "11.0.0.1"));
        assert!(cidr_contains("::1/128", "::1"));
    }

    /// The data-driven cases of fixtures/iam/policy_cases.json.
    #[test]
    fn fixture_cases() {
        let fixture: Value = serde_json::from_str(include_str!("../../../fixtures/iam/policy_cases.json")).unwrap_or_default();
        let cases = fixture["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() >= 40, "only {} cases", cases.len());
        for c in cases {
            let policies = c["policies"].as_array().cloned().unwrap_or_default();
            let context = c["context"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.to_ascii_lowercase(), strings(Some(v)))).collect())
                .unwrap_or_default();
            let req = Request { action: c["action"].as_str().unwrap_or_default().into(), resource: c["resource"].as_str().unwrap_or_default().into(), context };
            let want = match c["expect"].as_str() {
                Some("Allow") => Decision::Allow,
                Some("Deny") => Decision::ExplicitDeny,
                _ => Decision::ImplicitDeny,
            };
            assert_eq!(evaluate(&policies, &req), want, "case {}", c["name"]);
        }
    }
}
