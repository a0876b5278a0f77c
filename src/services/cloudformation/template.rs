//! CloudFormation templates: YAML (with the short-form intrinsic tags) or JSON into one JSON
//! value; parameters checked against their declarations; conditions; the intrinsic functions;
//! and the resource graph (Ref, GetAtt, Sub and DependsOn edges) in creation order.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde_json::{Map, Value, json};

/// A template error, worded as CloudFormation words it (always a `ValidationError`).
pub type TemplateResult<T> = Result<T, String>;

/// The deepest `[`/`{` (and `(`) nesting a YAML template may have.
const MAX_FLOW_NESTING: usize = 128;

/// Parses a template body: JSON when it is JSON, else YAML with `!Ref`-style tags rewritten to
/// their long forms (`!GetAtt a.b` becomes `{"Fn::GetAtt": ["a", "b"]}`).
pub fn parse(body: &str) -> TemplateResult<Value> {
    let trimmed = body.trim_start();
    let v = if trimmed.starts_with('{') {
        serde_json::from_str(body).map_err(|e| format!("Template format error: JSON not well-formed. ({e})"))?
    } else {
        // The YAML parser slows down with each level of flow nesting (`[[[...`): refuse what no
        // template needs before it parses (JSON has serde_json's own recursion limit).
        if crate::protocol::bracket_depth(body) > MAX_FLOW_NESTING {
            return Err(format!("Template format error: YAML not well-formed. (flow collections nested more than {MAX_FLOW_NESTING} deep)"));
        }
        let y: serde_yaml::Value = serde_yaml::from_str(body).map_err(|e| format!("Template format error: YAML not well-formed. ({e})"))?;
        from_yaml(y)?
    };
    if !v.is_object() {
        return Err("Template format error: unsupported structure.".into());
    }
    Ok(v)
}

fn from_yaml(y: serde_yaml::Value) -> TemplateResult<Value> {
    use serde_yaml::Value as Y;
    Ok(match y {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                json!(n.as_f64().unwrap_or_default())
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect::<TemplateResult<_>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => return Err(format!("Template format error: unsupported key {other:?}")),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = from_yaml(t.value)?;
            match name {
                "Ref" => json!({ "Ref": inner }),
                "Condition" => json!({ "Condition": inner }),
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (r, a) = s.split_once('.').ok_or_else(|| format!("Template error: every Fn::GetAtt object requires two non-empty parameters ({s})"))?;
                        json!({ "Fn::GetAtt": [r, a] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                "Sub" | "Join" | "Select" | "Split" | "If" | "Equals" | "Not" | "And" | "Or" | "FindInMap" | "Base64" | "GetAZs" | "ImportValue" | "Cidr"
                | "Transform" | "Length" | "ToJsonString" => json!({ format!("Fn::{name}"): inner }),
                other => return Err(format!("Template format error: unknown tag !{other}")),
            }
        }
    })
}

/// The template's sections, checked: Resources present and each with a Type.
pub fn validate(t: &Value) -> TemplateResult<()> {
    let Some(obj) = t.as_object() else { return Err("Template format error: unsupported structure.".into()) };
    const SECTIONS: &[&str] = &["AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions", "Transform", "Resources", "Outputs"];
    if let Some(k) = obj.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(format!("Template format error: Invalid template property or properties [{k}]"));
    }
    if let Some(v) = obj.get("AWSTemplateFormatVersion")
        && v.as_str() != Some("2010-09-09")
    {
        return Err(format!("Template format error: '{}' is not a supported value for AWSTemplateFormatVersion.", scalar(v)));
    }
    if obj.contains_key("Transform") {
        return Err("Transform is not supported by firelocal's CloudFormation: deploy the processed template (e.g. `sam build` / `sam package` output, or `cdk synth`).".into());
    }
    let Some(resources) = obj.get("Resources").and_then(Value::as_object) else {
        return Err("Template format error: At least one Resources member must be defined.".into());
    };
    if resources.is_empty() {
        return Err("Template format error: At least one Resources member must be defined.".into());
    }
    for (name, r) in resources {
        if !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("Template format error: Resource name {name} is non alphanumeric."));
        }
        let Some(ty) = r.get("Type").and_then(Value::as_str) else {
            return Err(format!("Template format error: [/Resources/{name}] resource definition is malformed"));
        };
        let parts: Vec<&str> = ty.split("::").collect();
        let well_formed = match parts.as_slice() {
            ["Custom", rest] => !rest.is_empty(),
            [a, b, c] | [a, b, c, _] => [a, b, c].iter().all(|p| !p.is_empty()),
            _ => false,
        };
        if !well_formed {
            return Err(format!("Template format error: Unrecognized resource types: [{ty}]"));
        }
    }
    // Every intrinsic function must be one CloudFormation has (Rules have their own).
    for (section, v) in obj.iter().filter(|(k, _)| k.as_str() != "Rules") {
        if let Some(f) = unknown_function(v) {
            return Err(format!("Template format error: Encountered unsupported function: {f} (in {section}). Supported functions are: [{}]", FUNCTIONS.join(", ")));
        }
    }
    Ok(())
}

/// The intrinsic functions CloudFormation supports.
const FUNCTIONS: &[&str] = &[
    "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs", "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split",
    "Fn::Sub", "Fn::Transform", "Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Length", "Fn::ToJsonString", "Fn::ForEach",
];

/// The first `Fn::` key in `v` that is not a CloudFormation function.
fn unknown_function(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m.iter().find_map(|(k, x)| if k.starts_with("Fn::") && !FUNCTIONS.contains(&k.as_str()) { Some(k.clone()) } else { unknown_function(x) }),
        Value::Array(a) => a.iter().find_map(unknown_function),
        _ => None,
    }
}

/// A scalar rendered as CloudFormation renders it in strings.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub name: String,
    pub ty: String,
    pub default: Option<String>,
    pub no_echo: bool,
    pub description: Option<String>,
}

/// The template's parameter declarations, in order.
pub fn parameter_decls(t: &Value) -> Vec<ParamDecl> {
    t.get("Parameters")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, d)| ParamDecl {
                    name: name.clone(),
                    ty: d.get("Type").and_then(Value::as_str).unwrap_or("String").to_string(),
                    default: d.get("Default").map(scalar),
                    no_echo: d.get("NoEcho").is_some_and(|v| v == &json!(true) || v == &json!("true")),
                    description: d.get("Description").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Resolves the stack's parameter values (given, else default) and checks each against its
/// declaration (type, AllowedValues, AllowedPattern, lengths, bounds). Returns name → value
/// (lists as JSON arrays).
pub fn resolve_parameters(t: &Value, given: &BTreeMap<String, String>) -> TemplateResult<BTreeMap<String, Value>> {
    let decls = t.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(extra) = given.keys().find(|k| !decls.contains_key(*k)) {
        return Err(format!("Parameters: [{extra}] do not exist in the template"));
    }
    let missing: Vec<&String> = decls.iter().filter(|(n, d)| !given.contains_key(*n) && d.get("Default").is_none()).map(|(n, _)| n).collect();
    if !missing.is_empty() {
        return Err(format!("Parameters: [{}] must have values", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
    }
    let mut out = BTreeMap::new();
    for (name, d) in &decls {
        let value = given.get(name).cloned().or_else(|| d.get("Default").map(scalar)).unwrap_or_default();
        let ty = d.get("Type").and_then(Value::as_str).unwrap_or("String");
        if ty.starts_with("AWS::SSM::Parameter") {
            return Err(format!("Parameter '{name}' is of type {ty}: firelocal has no SSM Parameter Store yet, so it cannot resolve it; use a String parameter"));
        }
        let fail = |why: String| Err(format!("Parameter '{name}' {why}"));
        let constraint = d.get("ConstraintDescription").and_then(Value::as_str);
        if let Some(allowed) = d.get("AllowedValues").and_then(Value::as_array) {
            let items: Vec<String> = if ty.starts_with("List<") || ty == "CommaDelimitedList" { split_list(&value) } else { vec![value.clone()] };
            if items.iter().any(|i| !allowed.iter().any(|a| scalar(a) == *i)) {
                return fail(constraint.map(str::to_string).unwrap_or_else(|| format!("must be one of AllowedValues")));
            }
        }
        if let Some(p) = d.get("AllowedPattern").and_then(Value::as_str) {
            let re = regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| format!("Parameter '{name}' has an invalid AllowedPattern: {e}"))?;
            if !re.is_match(&value) {
                return fail(constraint.map(str::to_string).unwrap_or_else(|| format!("failed to satisfy constraint: Malformed input-Parameter {name} must match pattern {p}")));
            }
        }
        let num = |k: &str| d.get(k).and_then(|v| scalar(v).parse::<f64>().ok());
        if let Some(min) = num("MinLength")
            && (value.chars().count() as f64) < min
        {
            return fail(constraint.map(str::to_string).unwrap_or_else(|| format!("failed to satisfy constraint: Member must have length greater than or equal to {min}")));
        }
        if let Some(max) = num("MaxLength")
            && (value.chars().count() as f64) > max
        {
            return fail(constraint.map(str::to_string).unwrap_or_else(|| format!("failed to satisfy constraint: Member must have length less than or equal to {max}")));
        }
        let v = match ty {
            "Number" => {
                let n: f64 = value.trim().parse().map_err(|_| format!("Parameter '{name}' must be a number not {value}"))?;
                if num("MinValue").is_some_and(|m| n < m) || num("MaxValue").is_some_and(|m| n > m) {
                    return fail(constraint.map(str::to_string).unwrap_or_else(|| "failed to satisfy constraint: value out of range".into()));
                }
                // A number, so numeric properties (BufferingHints, Timeout...) get one.
                value.trim().parse::<i64>().map(|i| json!(i)).unwrap_or_else(|_| json!(n))
            }
            "List<Number>" => {
                let items = split_list(&value);
                if items.iter().any(|i| i.parse::<f64>().is_err()) {
                    return fail(format!("must be a list of numbers not {value}"));
                }
                json!(items)
            }
            t if t == "CommaDelimitedList" || t.starts_with("List<") => json!(split_list(&value)),
            _ => Value::String(value),
        };
        out.insert(name.clone(), v);
    }
    Ok(out)
}

fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() { Vec::new() } else { s.split(',').map(|x| x.trim().to_string()).collect() }
}

/// The sentinel `AWS::NoValue` resolves to: removed from the enclosing object or list.
const NO_VALUE: &str = "\u{0}firelocal:NoValue";

/// What intrinsic functions see: parameters, pseudo parameters, conditions, mappings, the
/// resources created so far (physical id and attributes), and exports.
pub struct Scope<'a> {
    pub params: &'a BTreeMap<String, Value>,
    pub pseudo: BTreeMap<&'static str, Value>,
    pub mappings: &'a Value,
    pub conditions: BTreeMap<String, bool>,
    /// Logical id → (physical id, attributes).
    pub resources: &'a BTreeMap<String, (String, Map<String, Value>)>,
    pub exports: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub region: String,
}

/// The pseudo parameters for a stack.
pub fn pseudo(region: &str, account: &str, stack_name: &str, stack_id: &str) -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        ("AWS::AccountId", json!(account)),
        ("AWS::Region", json!(region)),
        ("AWS::StackName", json!(stack_name)),
        ("AWS::StackId", json!(stack_id)),
        ("AWS::Partition", json!("aws")),
        ("AWS::URLSuffix", json!("amazonaws.com")),
        ("AWS::NotificationARNs", json!([])),
        ("AWS::NoValue", json!(NO_VALUE)),
    ])
}

impl Scope<'_> {
    /// Evaluates the Conditions section (conditions may refer to each other).
    pub fn evaluate_conditions(&mut self, t: &Value) -> TemplateResult<()> {
        let Some(conds) = t.get("Conditions").and_then(Value::as_object) else { return Ok(()) };
        let mut pending: Vec<&String> = conds.keys().collect();
        for _ in 0..=conds.len() {
            let before = pending.len();
            let mut still = Vec::new();
            for name in pending {
                match self.condition_value(&conds[name], conds) {
                    Ok(Some(b)) => {
                        self.conditions.insert(name.clone(), b);
                    }
                    Ok(None) => still.push(name),
                    Err(e) => return Err(format!("Template error: condition {name}: {e}")),
                }
            }
            pending = still;
            if pending.is_empty() {
                return Ok(());
            }
            if pending.len() == before {
                break;
            }
        }
        Err(format!("Template error: circular condition dependency: [{}]", pending.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))
    }

    /// A condition's value, or `None` while a condition it names is not evaluated yet.
    fn condition_value(&self, v: &Value, all: &Map<String, Value>) -> TemplateResult<Option<bool>> {
        if let Some(name) = v.get("Condition").and_then(Value::as_str) {
            if !all.contains_key(name) {
                return Err(format!("Template format error: Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template"));
            }
            return Ok(self.conditions.get(name).copied());
        }
        let Some((f, args)) = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
            return Err("every Conditions member must be a condition function".into());
        };
        let list = args.as_array().cloned().unwrap_or_default();
        let bools = |items: &[Value]| -> TemplateResult<Option<Vec<bool>>> {
            let mut out = Vec::new();
            for i in items {
                match self.condition_value(i, all)? {
                    Some(b) => out.push(b),
                    None => return Ok(None),
                }
            }
            Ok(Some(out))
        };
        Ok(match f.as_str() {
            "Fn::Equals" => {
                if list.len() != 2 {
                    return Err("Fn::Equals requires a list of two values".into());
                }
                Some(scalar(&self.resolve(&list[0])?) == scalar(&self.resolve(&list[1])?))
            }
            "Fn::Not" => bools(&list[..list.len().min(1)])?.map(|b| !b.first().copied().unwrap_or(false)),
            "Fn::And" => bools(&list)?.map(|b| b.iter().all(|x| *x)),
            "Fn::Or" => bools(&list)?.map(|b| b.iter().any(|x| *x)),
            other => return Err(format!("{other} is not a condition function")),
        })
    }

    fn condition(&self, name: &str) -> TemplateResult<bool> {
        self.conditions.get(name).copied().ok_or_else(|| format!("Template format error: Unresolved condition dependency {name} in Fn::If"))
    }

    /// Evaluates every intrinsic function in `v`; `AWS::NoValue` entries are dropped.
    pub fn resolve(&self, v: &Value) -> TemplateResult<Value> {
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    let r = self.resolve(i)?;
                    if r != json!(NO_VALUE) {
                        out.push(r);
                    }
                }
                Ok(Value::Array(out))
            }
            Value::Object(o) if o.len() == 1 => {
                let (k, arg) = o.iter().next().map(|(k, a)| (k.as_str(), a)).unwrap_or(("", &Value::Null));
                if k == "Ref" || k.starts_with("Fn::") {
                    return self.function(k, arg);
                }
                self.resolve_object(o)
            }
            Value::Object(o) => self.resolve_object(o),
            other => Ok(other.clone()),
        }
    }

    fn resolve_object(&self, o: &Map<String, Value>) -> TemplateResult<Value> {
        let mut out = Map::new();
        for (k, v) in o {
            let r = self.resolve(v)?;
            if r != json!(NO_VALUE) {
                out.insert(k.clone(), r);
            }
        }
        Ok(Value::Object(out))
    }

    fn reference(&self, name: &str) -> TemplateResult<Value> {
        if let Some(p) = self.params.get(name) {
            return Ok(p.clone());
        }
        if let Some(p) = self.pseudo.get(name) {
            return Ok(p.clone());
        }
        if let Some((physical, _)) = self.resources.get(name) {
            return Ok(json!(physical));
        }
        Err(format!("Template format error: Unresolved resource dependencies [{name}] in the Resources block of the template"))
    }

    fn get_att(&self, resource: &str, attribute: &str) -> TemplateResult<Value> {
        let Some((_, attrs)) = self.resources.get(resource) else {
            return Err(format!("Template format error: Unresolved resource dependencies [{resource}] in the Resources block of the template"));
        };
        attrs.get(attribute).cloned().ok_or_else(|| format!("Template error: resource {resource} does not support attribute type {attribute} in Fn::GetAtt"))
    }

    fn function(&self, f: &str, arg: &Value) -> TemplateResult<Value> {
        let args = |n: usize| -> TemplateResult<Vec<Value>> {
            let r = self.resolve(arg)?;
            match r {
                Value::Array(a) if a.len() == n => Ok(a),
                _ => Err(format!("Template error: {f} requires a list of {n} parameters")),
            }
        };
        match f {
            "Ref" => self.reference(&scalar(&self.resolve(arg)?)),
            "Fn::GetAtt" => {
                let (r, a) = match arg {
                    Value::String(s) => s.split_once('.').map(|(r, a)| (r.to_string(), a.to_string())).ok_or_else(|| format!("Template error: invalid Fn::GetAtt {s}"))?,
                    Value::Array(a) if a.len() == 2 => (scalar(&a[0]), scalar(&self.resolve(&a[1])?)),
                    _ => return Err("Template error: every Fn::GetAtt object requires two non-empty parameters".into()),
                };
                self.get_att(&r, &a)
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.clone(), Map::new()),
                    Value::Array(a) if a.len() == 2 => {
                        let vars = self.resolve(&a[1])?.as_object().cloned().ok_or("Template error: Fn::Sub variables must be an object")?;
                        (scalar(&a[0]), vars)
                    }
                    _ => return Err("Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string".into()),
                };
                Ok(Value::String(self.sub(&text, &vars)?))
            }
            "Fn::Join" => {
                let a = args(2)?;
                let items = a[1].as_array().ok_or("Template error: Fn::Join requires a list as its second parameter")?;
                Ok(Value::String(items.iter().map(scalar).collect::<Vec<_>>().join(&scalar(&a[0]))))
            }
            "Fn::Select" => {
                let a = args(2)?;
                let i: usize = scalar(&a[0]).parse().map_err(|_| "Template error: Fn::Select requires a numeric index")?;
                let items = a[1].as_array().ok_or("Template error: Fn::Select requires a list")?;
                items.get(i).cloned().ok_or_else(|| "Template error: Fn::Select cannot select nonexistent value at index ".to_string() + &i.to_string())
            }
            "Fn::Split" => {
                let a = args(2)?;
                Ok(json!(scalar(&a[1]).split(scalar(&a[0]).as_str()).collect::<Vec<_>>()))
            }
            "Fn::If" => {
                let Value::Array(a) = arg else { return Err("Template error: Fn::If requires a list of three parameters".into()) };
                if a.len() != 3 {
                    return Err("Template error: Fn::If requires a list of three parameters".into());
                }
                let c = self.condition(&scalar(&a[0]))?;
                self.resolve(if c { &a[1] } else { &a[2] })
            }
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                let all = Map::new();
                let wrapped = json!({ f: arg });
                self.condition_value(&wrapped, &all)?.map(Value::Bool).ok_or_else(|| "Template error: condition not evaluated".into())
            }
            "Fn::FindInMap" => {
                let a = args(3)?;
                let (m, k1, k2) = (scalar(&a[0]), scalar(&a[1]), scalar(&a[2]));
                self.mappings
                    .get(&m)
                    .and_then(|x| x.get(&k1))
                    .and_then(|x| x.get(&k2))
                    .cloned()
                    .ok_or_else(|| format!("Template error: Unable to get mapping for {m}::{k1}::{k2}"))
            }
            "Fn::Base64" => Ok(json!(base64::engine::general_purpose::STANDARD.encode(scalar(&self.resolve(arg)?)))),
            "Fn::GetAZs" => {
                let r = scalar(&self.resolve(arg)?);
                let region = if r.is_empty() { self.region.clone() } else { r };
                Ok(json!(["a", "b", "c"].iter().map(|z| format!("{region}{z}")).collect::<Vec<_>>()))
            }
            "Fn::ImportValue" => {
                let name = scalar(&self.resolve(arg)?);
                (self.exports)(&name).map(Value::String).ok_or_else(|| format!("No export named {name} found"))
            }
            "Fn::Cidr" => {
                let a = args(3)?;
                cidr(&scalar(&a[0]), scalar(&a[1]).parse().unwrap_or(0), scalar(&a[2]).parse().unwrap_or(0)).map(|v| json!(v))
            }
            "Fn::Length" => Ok(json!(self.resolve(arg)?.as_array().map_or(0, Vec::len))),
            "Fn::ToJsonString" => Ok(json!(self.resolve(arg)?.to_string())),
            other => Err(format!("Template format error: Unsupported function {other}")),
        }
    }

    /// `${Name}`, `${Resource.Attribute}` and `${!Literal}` substitution.
    fn sub(&self, text: &str, vars: &Map<String, Value>) -> TemplateResult<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                return Ok(out);
            };
            let name = after[..end].trim();
            if let Some(lit) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(&scalar(v));
            } else if let Some((r, a)) = name.split_once('.').filter(|(r, _)| self.resources.contains_key(*r)) {
                out.push_str(&scalar(&self.get_att(r, a)?));
            } else {
                let v = self.reference(name)?;
                out.push_str(&match v {
                    Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(","),
                    v => scalar(&v),
                });
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `Fn::Cidr`: `count` subnets of `32 - bits` prefix length carved from an IPv4 block.
fn cidr(block: &str, count: u32, bits: u32) -> TemplateResult<Vec<String>> {
    let (ip, prefix) = block.split_once('/').ok_or_else(|| format!("Template error: invalid CIDR block {block}"))?;
    let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| format!("Template error: invalid CIDR block {block}"))?;
    let prefix: u32 = prefix.parse().map_err(|_| format!("Template error: invalid CIDR block {block}"))?;
    let new_prefix = 32u32.checked_sub(bits).filter(|p| *p >= prefix && bits > 0).ok_or("Template error: Fn::Cidr cidrBits out of range")?;
    if count == 0 || count > 256 || u64::from(count) > 1u64 << (new_prefix - prefix) {
        return Err("Template error: Fn::Cidr count out of range".into());
    }
    let base = u32::from(ip) & if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    Ok((0..count).map(|i| format!("{}/{new_prefix}", std::net::Ipv4Addr::from(base + (i << bits)))).collect())
}

/// The logical ids `v` depends on (Ref, GetAtt and Sub references to resources in `names`).
pub fn references(v: &Value, names: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| references(x, names, out)),
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("Ref", Value::String(n)) if names.contains(n) => {
                        out.insert(n.clone());
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if let Some(n) = a.first().and_then(Value::as_str).filter(|n| names.contains(*n)) {
                            out.insert(n.to_string());
                        }
                    }
                    ("Fn::GetAtt", Value::String(s)) => {
                        if let Some((n, _)) = s.split_once('.').filter(|(n, _)| names.contains(*n)) {
                            out.insert(n.to_string());
                        }
                    }
                    ("Fn::Sub", Value::String(s)) => sub_references(s, names, out),
                    ("Fn::Sub", Value::Array(a)) => {
                        if let Some(s) = a.first().and_then(Value::as_str) {
                            let locals: BTreeSet<String> = a.get(1).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
                            let mut found = BTreeSet::new();
                            sub_references(s, names, &mut found);
                            out.extend(found.into_iter().filter(|n| !locals.contains(n)));
                        }
                        a.iter().skip(1).for_each(|x| references(x, names, out));
                    }
                    _ => references(x, names, out),
                }
            }
        }
        _ => {}
    }
}

fn sub_references(s: &str, names: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { return };
        let name = after[..end].trim();
        if !name.starts_with('!') {
            let head = name.split('.').next().unwrap_or(name);
            if names.contains(head) {
                out.insert(head.to_string());
            }
        }
        rest = &after[end + 1..];
    }
}

/// Every `Ref` / `Sub` name that is neither a parameter, a pseudo parameter nor a resource:
/// CloudFormation refuses such a template.
pub fn unresolved(t: &Value) -> Option<String> {
    let mut known: BTreeSet<String> = t.get("Resources").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    known.extend(t.get("Parameters").and_then(Value::as_object).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default());
    known.extend(pseudo("", "", "", "").keys().map(|k| k.to_string()));
    let mut missing = BTreeSet::new();
    fn walk(v: &Value, known: &BTreeSet<String>, missing: &mut BTreeSet<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, known, missing)),
            Value::Object(o) => {
                for (k, x) in o {
                    match (k.as_str(), x) {
                        ("Ref", Value::String(n)) if !known.contains(n) => {
                            missing.insert(n.clone());
                        }
                        ("Fn::GetAtt", Value::Array(a)) => {
                            if let Some(n) = a.first().and_then(Value::as_str).filter(|n| !known.contains(*n)) {
                                missing.insert(n.to_string());
                            }
                        }
                        _ => walk(x, known, missing),
                    }
                }
            }
            _ => {}
        }
    }
    for section in ["Resources", "Outputs"] {
        if let Some(s) = t.get(section) {
            walk(s, &known, &mut missing);
        }
    }
    (!missing.is_empty()).then(|| format!("Template format error: Unresolved resource dependencies [{}] in the Resources block of the template", missing.into_iter().collect::<Vec<_>>().join(", ")))
}

/// The resources in creation order (each after everything it depends on). A cycle is
/// CloudFormation's validation error naming the resources in it.
pub fn creation_order(resources: &Map<String, Value>) -> TemplateResult<Vec<String>> {
    let names: BTreeSet<String> = resources.keys().cloned().collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, r) in resources {
        let mut d = BTreeSet::new();
        for key in ["Properties", "Metadata"] {
            if let Some(p) = r.get(key) {
                references(p, &names, &mut d);
            }
        }
        match r.get("DependsOn") {
            Some(Value::String(s)) => {
                d.insert(s.clone());
            }
            Some(Value::Array(a)) => d.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            _ => {}
        }
        if let Some(missing) = d.iter().find(|x| !names.contains(*x)) {
            return Err(format!("Template format error: Unresolved resource dependencies [{missing}] in the Resources block of the template"));
        }
        d.remove(name);
        deps.insert(name.clone(), d);
    }
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    while done.len() < names.len() {
        let ready: Vec<String> = deps.iter().filter(|(n, d)| !done.contains(*n) && d.iter().all(|x| done.contains(x))).map(|(n, _)| n.clone()).collect();
        if ready.is_empty() {
            let stuck: Vec<String> = deps.keys().filter(|n| !done.contains(*n)).cloned().collect();
            return Err(format!("Circular dependency between resources: [{}]", stuck.join(", ")));
        }
        for n in ready {
            done.insert(n.clone());
            order.push(n);
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(params: &'a BTreeMap<String, Value>, mappings: &'a Value, resources: &'a BTreeMap<String, (String, Map<String, Value>)>, exports: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> Scope<'a> {
        Scope { params, pseudo: pseudo("eu-west-1", "000000000000", "s", "arn:stack"), mappings, conditions: BTreeMap::new(), resources, exports, region: "eu-west-1".into() }
    }

    #[test]
    fn yaml_short_tags_become_long_forms() {
        let t = parse("Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-x'\n      Arn: !GetAtt R.Arn\n      L: !Split [',', !Ref P]\n").unwrap_or_default();
        let p = &t["Resources"]["B"]["Properties"];
        assert_eq!(p["BucketName"], json!({"Fn::Sub": "${AWS::StackName}-x"}));
        assert_eq!(p["Arn"], json!({"Fn::GetAtt": ["R", "Arn"]}));
        assert_eq!(p["L"], json!({"Fn::Split": [",", {"Ref": "P"}]}));
        assert!(parse("Resources: [").is_err());
        assert!(parse("X: !Bogus 1").is_err());
    }

    #[test]
    fn intrinsics_resolve() {
        let params = BTreeMap::from([("Env".to_string(), json!("prod")), ("Subnets".to_string(), json!(["a", "b"]))]);
        let mappings = json!({"M": {"prod": {"Size": 5}}});
        let resources = BTreeMap::from([("Bucket".to_string(), ("my-bucket".to_string(), Map::from_iter([("Arn".to_string(), json!("arn:aws:s3:::my-bucket"))])))]);
        let exports = |n: &str| (n == "shared").then(|| "v".to_string());
        let mut s = scope(&params, &mappings, &resources, &exports);
        s.evaluate_conditions(&json!({"Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}}})).unwrap_or_default();
        assert_eq!(s.conditions.get("NotProd"), Some(&false));
        let v = json!({
            "a": {"Fn::Sub": "${Bucket}/${Bucket.Arn}/${AWS::Region}/${!Literal}/${X}"},
            "b": {"Fn::Join": ["-", [{"Ref": "Env"}, {"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}]]},
            "c": {"Fn::If": ["IsProd", "yes", {"Ref": "AWS::NoValue"}]},
            "d": {"Fn::If": ["NotProd", "yes", {"Ref": "AWS::NoValue"}]},
            "e": {"Fn::Select": [1, {"Ref": "Subnets"}]},
            "f": {"Fn::Base64": "hi"},
            "g": {"Fn::ImportValue": "shared"},
            "h": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
            "i": [1, {"Ref": "AWS::NoValue"}, 2],
        });
        let mut v = v;
        v["a"] = json!({"Fn::Sub": ["${Bucket}/${Bucket.Arn}/${AWS::Region}/${!Literal}/${X}", {"X": "x"}]});
        let r = s.resolve(&v).unwrap_or_default();
        assert_eq!(r["a"], json!("my-bucket/arn:aws:s3:::my-bucket/eu-west-1/${Literal}/x"));
        assert_eq!(r["b"], json!("prod-5"));
        assert_eq!(r["c"], json!("yes"));
        assert!(r.get("d").is_none());
        assert_eq!(r["e"], json!("b"));
        assert_eq!(r["f"], json!("aGk="));
        assert_eq!(r["g"], json!("v"));
        assert_eq!(r["h"], json!(["10.0.0.0/24", "10.0.1.0/24"]));
        assert_eq!(r["i"], json!([1, 2]));
        assert!(s.resolve(&json!({"Ref": "Nope"})).is_err());
        assert!(s.resolve(&json!({"Fn::GetAtt": ["Bucket", "Nope"]})).is_err());
    }

    #[test]
    fn order_follows_references_and_cycles_are_named() {
        let r = json!({
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Name": {"Fn::Sub": "${Bucket}-role"}}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Stream": {"Type": "X", "DependsOn": "Fn"},
        });
        let order = creation_order(r.as_object().unwrap_or(&Map::new())).unwrap_or_default();
        assert_eq!(order, vec!["Bucket", "Role", "Fn", "Stream"]);
        let cyc = json!({"A": {"Type": "X", "Properties": {"P": {"Ref": "B"}}}, "B": {"Type": "X", "DependsOn": ["A"]}, "C": {"Type": "X"}});
        assert_eq!(creation_order(cyc.as_object().unwrap_or(&Map::new())), Err("Circular dependency between resources: [A, B]".to_string()));
    }

    #[test]
    fn parameters_are_checked() {
        let t = json!({"Parameters": {
            "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
            "Size": {"Type": "Number", "MinValue": 1, "MaxValue": 10},
            "Ids": {"Type": "CommaDelimitedList", "Default": "a, b"},
            "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "Default": "abc", "MaxLength": 5}
        }});
        let given = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<BTreeMap<_, _>>();
        let ok = resolve_parameters(&t, &given(&[("Size", "3")])).unwrap_or_default();
        assert_eq!(ok["Env"], json!("dev"));
        assert_eq!(ok["Ids"], json!(["a", "b"]));
        assert_eq!(resolve_parameters(&t, &given(&[])), Err("Parameters: [Size] must have values".into()));
        assert!(resolve_parameters(&t, &given(&[("Size", "11")])).is_err());
        assert!(resolve_parameters(&t, &given(&[("Size", "x")])).is_err());
        assert!(resolve_parameters(&t, &given(&[("Size", "1"), ("Env", "qa")])).is_err());
        assert!(resolve_parameters(&t, &given(&[("Size", "1"), ("Name", "ABC")])).is_err());
        assert!(resolve_parameters(&t, &given(&[("Size", "1"), ("Other", "x")])).is_err());
    }
}
