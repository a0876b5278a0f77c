//! Authorisation under `--enforce-iam`: who is calling (the account root, an IAM user, a role
//! session, or nobody), what a call asks for (an action on a resource ARN, with condition keys),
//! and IAM's answer from the caller's identity policies, worded as AWS words a denial.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::eval::{self, Decision};
use super::ops::{ACCOUNT, Iam};

/// Who makes a request, as IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account root: what firelocal's default `test` keys (and unknown keys) sign as. IAM
    /// does not restrict the root user with identity policies.
    Root,
    /// An IAM user (its ARN).
    User(String),
    /// A role session: the role's name and the session's ARN
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
    Role { role: String, session_arn: String },
    /// An unsigned request.
    Anonymous,
}

impl Principal {
    /// The principal an STS caller ARN names (root, user or assumed role).
    pub fn from_arn(arn: &str) -> Principal {
        if let Some(rest) = arn.strip_prefix(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/")) {
            let role = rest.split('/').next().unwrap_or(rest).to_string();
            return Principal::Role { role, session_arn: arn.to_string() };
        }
        if arn.starts_with(&format!("arn:aws:iam::{ACCOUNT}:user/")) {
            return Principal::User(arn.to_string());
        }
        Principal::Root
    }

    /// A session of `role_arn` named `session`: how a service acts on a role's behalf.
    pub fn role_session(role_arn: &str, session: &str) -> Principal {
        let role = role_arn.rsplit('/').next().unwrap_or(role_arn).to_string();
        Principal::Role { session_arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"), role }
    }

    /// The ARN denials name.
    pub fn arn(&self) -> String {
        match self {
            Principal::Root => format!("arn:aws:iam::{ACCOUNT}:root"),
            Principal::User(arn) => arn.clone(),
            Principal::Role { session_arn, .. } => session_arn.clone(),
            Principal::Anonymous => "anonymous".into(),
        }
    }
}

/// One permission a call needs: an action on a resource, with the request's condition keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    /// e.g. `s3:GetObject`.
    pub action: String,
    /// e.g. `arn:aws:s3:::clicks/2024/01/01/part-1`.
    pub resource: String,
    /// Service-specific condition keys (`s3:prefix`, `iam:PassedToService`...).
    pub context: Vec<(String, String)>,
}

impl Access {
    /// `action` on `resource`, no extra condition keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Access {
        Access { action: action.into(), resource: resource.into(), context: Vec::new() }
    }

    /// Adds a condition key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Access {
        self.context.push((key.to_string(), value.into()));
        self
    }
}

/// A caller: the principal and where the request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub source_ip: Option<IpAddr>,
}

impl Caller {
    /// A caller with no network origin (a service acting on a role's behalf).
    pub fn internal(principal: Principal) -> Caller {
        Caller { principal, source_ip: None }
    }
}

/// Checks one access for the caller a closure was made for (Athena carries one per query).
pub type Guard = Arc<dyn Fn(&Access) -> Result<(), String> + Send + Sync>;

/// The statements of a resource policy whose Principal is `*` or names one of `ids`.
fn statements_for(doc: &serde_json::Value, ids: &[String]) -> serde_json::Value {
    use serde_json::Value;
    let names = |p: &Value| match p {
        Value::String(s) => s == "*" || ids.contains(s),
        Value::Array(a) => a.iter().filter_map(Value::as_str).any(|s| s == "*" || ids.iter().any(|i| i == s)),
        _ => false,
    };
    let matches = |st: &Value| match st.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(o)) => o.get("AWS").is_some_and(names),
        _ => false,
    };
    let statements: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().filter(|s| matches(s)).cloned().collect(),
        Some(o @ Value::Object(_)) if matches(o) => vec![o.clone()],
        _ => Vec::new(),
    };
    serde_json::json!({ "Statement": statements })
}

/// AWS's denial message.
pub fn denial_message(principal: &str, access: &Access, decision: Decision) -> String {
    let why = match decision {
        Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_string(),
        _ => format!("because no identity-based policy allows the {} action", access.action),
    };
    format!("User: {principal} is not authorized to perform: {} on resource: {} {why}", access.action, access.resource)
}

impl Iam {
    /// IAM's decision for `caller` asking for `access`: `Err` carries AWS's denial message. The
    /// root user is never restricted; anonymous callers never allowed.
    pub fn authorize(&self, caller: &Caller, access: &Access) -> Result<(), String> {
        self.authorize_with(caller, access, None)
    }

    /// As [`Iam::authorize`], with the resource's own policy (a bucket policy) as IAM combines
    /// them within one account: an explicit Deny in either wins, then an Allow in either; the
    /// resource policy's statements count when their Principal names the caller (or `*`).
    pub fn authorize_with(&self, caller: &Caller, access: &Access, resource_policy: Option<&serde_json::Value>) -> Result<(), String> {
        let principal = caller.principal.arn();
        let (policies, principal_arn, username, ids) = match &caller.principal {
            Principal::Root => return Ok(()),
            Principal::Anonymous => (Vec::new(), principal.clone(), None, Vec::new()),
            Principal::User(arn) => {
                let name = arn.rsplit('/').next().unwrap_or(arn).to_string();
                (self.user_policies(&name), arn.clone(), Some(name), vec![arn.clone()])
            }
            Principal::Role { role, session_arn } => {
                let arn = self.role(role).map(|r| r.arn).unwrap_or_else(|_| format!("arn:aws:iam::{ACCOUNT}:role/{role}"));
                (self.role_policies(role), arn.clone(), None, vec![arn, session_arn.clone()])
            }
        };
        let mut context: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut put = |k: &str, v: String| context.entry(k.to_ascii_lowercase()).or_default().push(v);
        let now = crate::protocol::time::now_millis();
        put("aws:PrincipalArn", principal_arn);
        put("aws:PrincipalAccount", ACCOUNT.into());
        put("aws:SecureTransport", "false".into());
        put("aws:CurrentTime", crate::protocol::time::iso8601_millis(now / 1000 * 1000).replace(".000Z", "Z"));
        put("aws:EpochTime", (now / 1000).to_string());
        if let Some(u) = username {
            put("aws:username", u);
        }
        if let Some(ip) = caller.source_ip {
            put("aws:SourceIp", ip.to_string());
        }
        for (k, v) in &access.context {
            put(k, v.clone());
        }
        let req = eval::Request { action: access.action.clone(), resource: access.resource.clone(), context };
        let identity = eval::evaluate(&policies, &req);
        let resource = resource_policy.map_or(Decision::ImplicitDeny, |doc| eval::evaluate(&[statements_for(doc, &ids)], &req));
        match (identity, resource) {
            (Decision::ExplicitDeny, _) => Err(denial_message(&principal, access, Decision::ExplicitDeny)),
            (_, Decision::ExplicitDeny) => Err(format!(
                "User: {principal} is not authorized to perform: {} on resource: {} with an explicit deny in a resource-based policy",
                access.action, access.resource
            )),
            (Decision::Allow, _) | (_, Decision::Allow) => Ok(()),
            _ => Err(denial_message(&principal, access, Decision::ImplicitDeny)),
        }
    }

    /// A guard that checks accesses for `caller` (for work that outlives the request).
    pub fn guard(self: &Arc<Self>, caller: Caller) -> Guard {
        let iam = self.clone();
        Arc::new(move |a: &Access| iam.authorize(&caller, a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_from_arns() {
        assert_eq!(Principal::from_arn("arn:aws:iam::000000000000:root"), Principal::Root);
        assert_eq!(Principal::from_arn("arn:aws:iam::000000000000:user/dev/alice"), Principal::User("arn:aws:iam::000000000000:user/dev/alice".into()));
        let r = Principal::from_arn("arn:aws:sts::000000000000:assumed-role/exec/fn");
        assert_eq!(r, Principal::Role { role: "exec".into(), session_arn: "arn:aws:sts::000000000000:assumed-role/exec/fn".into() });
        assert_eq!(Principal::role_session("arn:aws:iam::000000000000:role/service-role/exec", "fn"), r);
    }

    #[test]
    fn messages_say_why() {
        let a = Access::new("s3:GetObject", "arn:aws:s3:::b/k");
        assert_eq!(
            denial_message("arn:aws:iam::000000000000:user/u", &a, Decision::ImplicitDeny),
            "User: arn:aws:iam::000000000000:user/u is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:GetObject action"
        );
        assert!(denial_message("x", &a, Decision::ExplicitDeny).ends_with("with an explicit deny in an identity-based policy"));
    }
}
