//! IAM's wire layer (awsQuery): form parameters in, `<ActionResponse>` XML out. Policy
//! documents come back URL-encoded, as IAM returns them.

use std::collections::BTreeMap;

use http::Method;

use super::ops::{Iam, IamError, Policy, PolicyVersion, Role, User};
use crate::protocol::query::{self, key_values};
use crate::protocol::time::iso8601_millis;
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol, url_encode};

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn role_xml(w: &mut XmlWriter, r: &Role) {
    w.elem("Path", &r.path).elem("RoleName", &r.name).elem("RoleId", &r.id).elem("Arn", &r.arn).elem("CreateDate", &iso8601_millis(r.created));
    w.elem("AssumeRolePolicyDocument", &url_encode(&r.trust_policy)).elem("MaxSessionDuration", &r.max_session_duration.to_string());
    if let Some(d) = &r.description {
        w.elem("Description", d);
    }
    if !r.tags.is_empty() {
        w.open("Tags");
        for (k, v) in &r.tags {
            w.open("member").elem("Key", k).elem("Value", v).close("member");
        }
        w.close("Tags");
    }
}

fn policy_xml(w: &mut XmlWriter, p: &Policy, attachments: usize) {
    w.elem("PolicyName", &p.name).elem("PolicyId", &p.id).elem("Arn", &p.arn).elem("Path", &p.path);
    w.elem("DefaultVersionId", p.default_version().map_or("v1", |v| v.id.as_str())).elem("AttachmentCount", &attachments.to_string());
    w.elem("PermissionsBoundaryUsageCount", "0").elem("IsAttachable", "true");
    w.elem("CreateDate", &iso8601_millis(p.created)).elem("UpdateDate", &iso8601_millis(p.updated));
    if let Some(d) = &p.description {
        w.elem("Description", d);
    }
}

fn version_xml(w: &mut XmlWriter, v: &PolicyVersion) {
    w.elem("Document", &url_encode(&v.document)).elem("VersionId", &v.id).elem("IsDefaultVersion", if v.default { "true" } else { "false" }).elem("CreateDate", &iso8601_millis(v.created));
}

fn user_xml(w: &mut XmlWriter, u: &User) {
    w.elem("Path", &u.path).elem("UserName", &u.name).elem("UserId", &u.id).elem("Arn", &u.arn).elem("CreateDate", &iso8601_millis(u.created));
}

fn list(w: &mut XmlWriter, tag: &str, items: &[String], inner: &str) {
    w.open(tag);
    for i in items {
        w.elem(inner, i);
    }
    w.close(tag);
}

/// What an IAM call needs under `--enforce-iam`: `iam:<Action>` on the role, user or policy it
/// names (an attach call on the role or user, with `iam:PolicyARN`), the path-prefix ARN for
/// listings, and the caller itself for access-key calls that name no user.
pub fn access(iam: &Iam, req: &AwsRequest, caller_arn: &str) -> Vec<super::authz::Access> {
    use super::ops::ACCOUNT;
    let p = query::params(req);
    let action = p.get("Action").cloned().unwrap_or_default();
    let get = |k: &str| p.get(k).map(String::as_str);
    let path = get("Path").unwrap_or("/");
    let role = get("RoleName").map(|n| iam.role(n).map(|r| r.arn).unwrap_or_else(|_| format!("arn:aws:iam::{ACCOUNT}:role{path}{n}")));
    let user = get("UserName").map(|n| iam.user(n).map(|u| u.arn).unwrap_or_else(|_| format!("arn:aws:iam::{ACCOUNT}:user{path}{n}")));
    let resource = match action.as_str() {
        "ListRoles" => format!("arn:aws:iam::{ACCOUNT}:role{}", get("PathPrefix").unwrap_or("/")),
        "ListPolicies" => format!("arn:aws:iam::{ACCOUNT}:policy{}", get("PathPrefix").unwrap_or("/")),
        "ListUsers" => format!("arn:aws:iam::{ACCOUNT}:user{}", get("PathPrefix").unwrap_or("/")),
        "CreatePolicy" => format!("arn:aws:iam::{ACCOUNT}:policy{path}{}", get("PolicyName").unwrap_or_default()),
        _ => match (role, user, get("PolicyArn")) {
            (Some(r), _, _) => r,
            (None, Some(u), _) => u,
            (None, None, Some(arn)) => arn.to_string(),
            (None, None, None) if action.contains("AccessKey") || action == "GetUser" => caller_arn.to_string(),
            _ => "*".to_string(),
        },
    };
    let mut a = super::authz::Access::new(format!("iam:{action}"), resource);
    if let Some(arn) = get("PolicyArn").filter(|_| action.starts_with("Attach") || action.starts_with("Detach")) {
        a = a.with("iam:PolicyARN", arn);
    }
    vec![a]
}

/// Handles one IAM request.
pub fn handle(iam: &Iam, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let p = query::params(req);
    let action = p.get("Action").cloned().unwrap_or_default();
    let (name, result) = dispatch(iam, &action, &p, &req.request_id);
    let resp = result.unwrap_or_else(|e| e.render(Protocol::AwsQuery, &req.request_id, req.method == Method::HEAD));
    (resp, name)
}

fn need<'a>(p: &'a BTreeMap<String, String>, k: &str) -> Result<&'a str, AwsError> {
    p.get(k).map(String::as_str).ok_or_else(|| IamError::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(k))).to_aws())
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// The actions this service answers.
const ACTIONS: &[&str] = &[
    "CreateRole", "GetRole", "ListRoles", "UpdateAssumeRolePolicy", "DeleteRole", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy",
    "ListRolePolicies", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies", "CreatePolicy", "GetPolicy", "GetPolicyVersion",
    "CreatePolicyVersion", "DeletePolicy", "ListPolicies", "CreateUser", "GetUser", "DeleteUser", "CreateAccessKey", "ListAccessKeys",
    "DeleteAccessKey", "PutUserPolicy", "AttachUserPolicy", "DetachUserPolicy", "DeleteUserPolicy", "DeletePolicyVersion",
];

fn dispatch(iam: &Iam, action: &str, p: &BTreeMap<String, String>, rid: &str) -> (&'static str, Result<HttpResponse, AwsError>) {
    let Some(name) = ACTIONS.iter().find(|a| **a == action).copied() else {
        let e = AwsError::new(http::StatusCode::BAD_REQUEST, "InvalidAction", format!("Could not find operation {action} for version 2010-05-08 (firelocal's IAM)"));
        return ("Unknown", Err(e));
    };
    (name, run(iam, name, p, rid))
}

fn run(iam: &Iam, action: &str, p: &BTreeMap<String, String>, rid: &str) -> Result<HttpResponse, AwsError> {
    let e = |e: IamError| e.to_aws();
    let ok = |f: &dyn Fn(&mut XmlWriter)| query::ok(action, NS, rid, |w| f(w));
    Ok(match action {
        "CreateRole" => {
            let r = iam
                .create_role(need(p, "RoleName")?, p.get("Path").map(String::as_str), need(p, "AssumeRolePolicyDocument")?, p.get("Description").cloned(), p.get("MaxSessionDuration").and_then(|m| m.parse().ok()), key_values(p, "Tags"))
                .map_err(e)?;
            ok(&|w| {
                w.open("Role");
                role_xml(w, &r);
                w.close("Role");
            })
        }
        "GetRole" => {
            let r = iam.role(need(p, "RoleName")?).map_err(e)?;
            ok(&|w| {
                w.open("Role");
                role_xml(w, &r);
                w.close("Role");
            })
        }
        "ListRoles" => {
            let roles = iam.list_roles(p.get("PathPrefix").map_or("/", String::as_str));
            let (items, truncated, marker) = page(roles, p, |r| r.name.clone());
            ok(&|w| {
                w.open("Roles");
                for r in &items {
                    w.open("member");
                    role_xml(w, r);
                    w.close("member");
                }
                w.close("Roles").elem("IsTruncated", if truncated { "true" } else { "false" });
                w.opt("Marker", marker.as_deref());
            })
        }
        "UpdateAssumeRolePolicy" => {
            iam.update_assume_role_policy(need(p, "RoleName")?, need(p, "PolicyDocument")?).map_err(e)?;
            ok(&|_| {})
        }
        "DeleteRole" => {
            iam.delete_role(need(p, "RoleName")?).map_err(e)?;
            ok(&|_| {})
        }
        "PutRolePolicy" => {
            iam.put_role_policy(need(p, "RoleName")?, need(p, "PolicyName")?, need(p, "PolicyDocument")?).map_err(e)?;
            ok(&|_| {})
        }
        "GetRolePolicy" => {
            let (role, policy) = (need(p, "RoleName")?, need(p, "PolicyName")?);
            let doc = iam.get_role_policy(role, policy).map_err(e)?;
            ok(&|w| {
                w.elem("RoleName", role).elem("PolicyName", policy).elem("PolicyDocument", &url_encode(&doc));
            })
        }
        "DeleteRolePolicy" => {
            iam.delete_role_policy(need(p, "RoleName")?, need(p, "PolicyName")?).map_err(e)?;
            ok(&|_| {})
        }
        "ListRolePolicies" => {
            let names: Vec<String> = iam.role(need(p, "RoleName")?).map_err(e)?.inline.keys().cloned().collect();
            ok(&|w| {
                list(w, "PolicyNames", &names, "member");
                w.elem("IsTruncated", "false");
            })
        }
        "AttachRolePolicy" | "DetachRolePolicy" | "AttachUserPolicy" | "DetachUserPolicy" => {
            let (kind, who) = if action.ends_with("UserPolicy") { ("user", need(p, "UserName")?) } else { ("role", need(p, "RoleName")?) };
            iam.attach(kind, who, need(p, "PolicyArn")?, action.starts_with("Attach")).map_err(e)?;
            ok(&|_| {})
        }
        "ListAttachedRolePolicies" => {
            let arns = iam.role(need(p, "RoleName")?).map_err(e)?.attached;
            let policies: Vec<Policy> = arns.iter().filter_map(|a| iam.policy(a).ok()).collect();
            ok(&|w| {
                w.open("AttachedPolicies");
                for pol in &policies {
                    w.open("member").elem("PolicyName", &pol.name).elem("PolicyArn", &pol.arn).close("member");
                }
                w.close("AttachedPolicies").elem("IsTruncated", "false");
            })
        }
        "CreatePolicy" => {
            let pol = iam.create_policy(need(p, "PolicyName")?, p.get("Path").map(String::as_str), need(p, "PolicyDocument")?, p.get("Description").cloned()).map_err(e)?;
            ok(&|w| {
                w.open("Policy");
                policy_xml(w, &pol, 0);
                w.close("Policy");
            })
        }
        "GetPolicy" => {
            let arn = need(p, "PolicyArn")?;
            let pol = iam.policy(arn).map_err(e)?;
            let n = iam.attachment_count(arn);
            ok(&|w| {
                w.open("Policy");
                policy_xml(w, &pol, n);
                w.close("Policy");
            })
        }
        "GetPolicyVersion" => {
            let pol = iam.policy(need(p, "PolicyArn")?).map_err(e)?;
            let vid = need(p, "VersionId")?;
            let v = pol.versions.iter().find(|v| v.id == vid).cloned().ok_or_else(|| e(IamError::NoSuchEntity(format!("Policy {} version {vid} does not exist or is not attachable.", pol.arn))))?;
            ok(&|w| {
                w.open("PolicyVersion");
                version_xml(w, &v);
                w.close("PolicyVersion");
            })
        }
        "CreatePolicyVersion" => {
            let v = iam.create_policy_version(need(p, "PolicyArn")?, need(p, "PolicyDocument")?, p.get("SetAsDefault").is_some_and(|d| d == "true")).map_err(e)?;
            ok(&|w| {
                w.open("PolicyVersion");
                version_xml(w, &v);
                w.close("PolicyVersion");
            })
        }
        "DeletePolicy" => {
            iam.delete_policy(need(p, "PolicyArn")?).map_err(e)?;
            ok(&|_| {})
        }
        "ListPolicies" => {
            let all = iam.list_policies(p.get("Scope").map_or("All", String::as_str), p.get("OnlyAttached").is_some_and(|v| v == "true"));
            let (items, truncated, marker) = page(all, p, |(pol, _)| pol.arn.clone());
            ok(&|w| {
                w.open("Policies");
                for (pol, n) in &items {
                    w.open("member");
                    policy_xml(w, pol, *n);
                    w.close("member");
                }
                w.close("Policies").elem("IsTruncated", if truncated { "true" } else { "false" });
                w.opt("Marker", marker.as_deref());
            })
        }
        "CreateUser" | "GetUser" => {
            let u = if action == "CreateUser" { iam.create_user(need(p, "UserName")?, p.get("Path").map(String::as_str)) } else { iam.user(need(p, "UserName")?) }.map_err(e)?;
            ok(&|w| {
                w.open("User");
                user_xml(w, &u);
                w.close("User");
            })
        }
        "DeleteUser" => {
            iam.delete_user(need(p, "UserName")?).map_err(e)?;
            ok(&|_| {})
        }
        "DeleteUserPolicy" => {
            iam.delete_user_policy(need(p, "UserName")?, need(p, "PolicyName")?).map_err(e)?;
            ok(&|_| {})
        }
        "DeletePolicyVersion" => {
            iam.delete_policy_version(need(p, "PolicyArn")?, need(p, "VersionId")?).map_err(e)?;
            ok(&|_| {})
        }
        "PutUserPolicy" => {
            iam.put_user_policy(need(p, "UserName")?, need(p, "PolicyName")?, need(p, "PolicyDocument")?).map_err(e)?;
            ok(&|_| {})
        }
        "CreateAccessKey" => {
            let user = need(p, "UserName")?;
            let k = iam.create_access_key(user).map_err(e)?;
            ok(&|w| {
                w.open("AccessKey").elem("UserName", user).elem("AccessKeyId", &k.id).elem("Status", "Active").elem("SecretAccessKey", &k.secret).elem("CreateDate", &iso8601_millis(k.created)).close("AccessKey");
            })
        }
        "ListAccessKeys" => {
            let user = need(p, "UserName")?;
            let u = iam.user(user).map_err(e)?;
            ok(&|w| {
                w.open("AccessKeyMetadata");
                for k in &u.keys {
                    w.open("member").elem("UserName", user).elem("AccessKeyId", &k.id).elem("Status", if k.active { "Active" } else { "Inactive" }).elem("CreateDate", &iso8601_millis(k.created)).close("member");
                }
                w.close("AccessKeyMetadata").elem("IsTruncated", "false");
            })
        }
        _ => {
            iam.delete_access_key(need(p, "UserName")?, need(p, "AccessKeyId")?).map_err(e)?;
            ok(&|_| {})
        }
    })
}

/// Marker paging: items after `Marker`, at most `MaxItems` (default 100).
fn page<T>(items: Vec<T>, p: &BTreeMap<String, String>, key: impl Fn(&T) -> String) -> (Vec<T>, bool, Option<String>) {
    let max: usize = p.get("MaxItems").and_then(|m| m.parse().ok()).unwrap_or(100).clamp(1, 1000);
    let after = p.get("Marker");
    let rest: Vec<T> = items.into_iter().filter(|i| after.is_none_or(|m| &key(i) > m)).collect();
    let truncated = rest.len() > max;
    let shown: Vec<T> = rest.into_iter().take(max).collect();
    let marker = if truncated { shown.last().map(&key) } else { None };
    (shown, truncated, marker)
}
