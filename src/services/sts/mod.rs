//! AWS STS (awsQuery): GetCallerIdentity (who signed: the account root for the default keys,
//! an IAM user for its access keys, an assumed role for AssumeRole credentials), AssumeRole and
//! GetSessionToken. Temporary credentials are kept in memory. Under `--enforce-iam`, AssumeRole
//! checks the role's trust policy (and the caller's own policies) as IAM does.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Method, StatusCode};
use parking_lot::Mutex;

use crate::protocol::query;
use crate::protocol::time::{iso8601_millis, now_millis};
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};
use crate::services::iam::Iam;
use crate::services::iam::ops::{ACCOUNT, unique_id};

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Who a set of temporary credentials belongs to.
#[derive(Debug, Clone)]
struct Session {
    arn: String,
    secret: String,
    user_id: String,
    token: String,
    expires_ms: i64,
}

/// The STS service.
pub struct Sts {
    iam: Arc<Iam>,
    /// `--enforce-iam`: AssumeRole honours trust policies.
    enforce: bool,
    sessions: Mutex<BTreeMap<String, Session>>,
}

fn credentials(w: &mut crate::protocol::xml::XmlWriter, key: &str, secret: &str, token: &str, expires_ms: i64) {
    w.open("Credentials")
        .elem("AccessKeyId", key)
        .elem("SecretAccessKey", secret)
        .elem("SessionToken", token)
        .elem("Expiration", &iso8601_millis(expires_ms / 1000 * 1000))
        .close("Credentials");
}

fn secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()).chars().take(40).collect()
}

fn token() -> String {
    use base64::Engine;
    let raw: Vec<u8> = (0..6).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).collect();
    format!("FQoGZXIvYXdzE{}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn validation(field: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::new(StatusCode::BAD_REQUEST, "ValidationError", format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"))
}

impl Sts {
    /// STS over IAM's roles and users; `enforce` turns on trust-policy checks.
    pub fn new(iam: Arc<Iam>, enforce: bool) -> Sts {
        Sts { iam, enforce, sessions: Mutex::new(BTreeMap::new()) }
    }

    /// The caller's (UserId, Account, Arn) for an access key.
    pub fn caller(&self, access_key: Option<&str>) -> (String, String, String) {
        let key = access_key.unwrap_or("test");
        if let Some(s) = self.sessions.lock().get(key) {
            return (s.user_id.clone(), ACCOUNT.into(), s.arn.clone());
        }
        if let Some(u) = self.iam.user_for_key(key) {
            return (u.id, ACCOUNT.into(), u.arn);
        }
        (ACCOUNT.into(), ACCOUNT.into(), format!("arn:aws:iam::{ACCOUNT}:root"))
    }

    /// Handles one STS request.
    pub fn handle(&self, req: &AwsRequest) -> (HttpResponse, &'static str) {
        self.prune();
        let p = query::params(req);
        let action = p.get("Action").cloned().unwrap_or_default();
        let caller_key = req.auth.as_ref().map(|c| c.access_key.clone());
        let (name, result): (&'static str, Result<HttpResponse, AwsError>) = match action.as_str() {
            "GetCallerIdentity" => {
                let (id, account, arn) = self.caller(caller_key.as_deref());
                ("GetCallerIdentity", Ok(query::ok("GetCallerIdentity", NS, &req.request_id, |w| {
                    w.elem("UserId", &id).elem("Account", &account).elem("Arn", &arn);
                })))
            }
            "AssumeRole" => ("AssumeRole", self.assume_role(&p, caller_key.as_deref(), &req.request_id)),
            "GetSessionToken" => ("GetSessionToken", self.session_token(&p, caller_key.as_deref(), &req.request_id)),
            other => ("Unknown", Err(AwsError::new(StatusCode::BAD_REQUEST, "InvalidAction", format!("Could not find operation {other} for version 2011-06-15 (firelocal's STS)")))),
        };
        let resp = result.unwrap_or_else(|e| e.render(Protocol::AwsQuery, &req.request_id, req.method == Method::HEAD));
        (resp, name)
    }

    fn duration(p: &BTreeMap<String, String>, min: i64, max: i64, default: i64) -> Result<i64, AwsError> {
        match p.get("DurationSeconds") {
            None => Ok(default),
            Some(d) => match d.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(validation("durationSeconds", d, &format!("Member must have value between {min} and {max}"))),
            },
        }
    }

    fn assume_role(&self, p: &BTreeMap<String, String>, caller_key: Option<&str>, rid: &str) -> Result<HttpResponse, AwsError> {
        let arn = p.get("RoleArn").cloned().unwrap_or_default();
        let session = p.get("RoleSessionName").cloned().unwrap_or_default();
        if session.len() < 2 || session.len() > 64 || !session.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
            return Err(validation("roleSessionName", &session, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
        }
        let (_, _, caller_arn) = self.caller(caller_key);
        let denied = || AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", format!("User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"));
        let Some(role) = self.iam.role_by_arn(&arn) else { return Err(denied()) };
        if self.enforce && !self.iam.may_assume(&caller_arn, &arn) {
            return Err(denied());
        }
        let secs = Self::duration(p, 900, role.max_session_duration.max(3600).into(), 3600)?;
        let key: String = unique_id("ASIA").chars().take(20).collect();
        let (secret, token) = (secret(), token());
        let expires_ms = now_millis() + secs * 1000;
        let assumed_arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{}/{session}", role.name);
        let user_id = format!("{}:{session}", role.id);
        self.sessions.lock().insert(key.clone(), Session { arn: assumed_arn.clone(), secret: secret.clone(), user_id: user_id.clone(), token: token.clone(), expires_ms });
        Ok(query::ok("AssumeRole", NS, rid, |w| {
            credentials(w, &key, &secret, &token, expires_ms);
            w.open("AssumedRoleUser").elem("AssumedRoleId", &user_id).elem("Arn", &assumed_arn).close("AssumedRoleUser");
            w.elem("PackedPolicySize", "0");
        }))
    }

    fn session_token(&self, p: &BTreeMap<String, String>, caller_key: Option<&str>, rid: &str) -> Result<HttpResponse, AwsError> {
        let secs = Self::duration(p, 900, 129_600, 43_200)?;
        let (user_id, _, arn) = self.caller(caller_key);
        let key: String = unique_id("ASIA").chars().take(20).collect();
        let (secret, token) = (secret(), token());
        let expires_ms = now_millis() + secs * 1000;
        self.sessions.lock().insert(key.clone(), Session { arn, secret: secret.clone(), user_id, token: token.clone(), expires_ms });
        Ok(query::ok("GetSessionToken", NS, rid, |w| credentials(w, &key, &secret, &token, expires_ms)))
    }

    /// Credentials for a Lambda function's execution role, as Lambda hands them to its runtime:
    /// the session is named after the function, so the function's own SDK calls identify as
    /// `assumed-role/<role>/<function>`. One session per (role, function) is reused across
    /// workers and stays valid while firelocal runs. Returns (key, secret, token).
    pub fn function_credentials(&self, role_arn: &str, function: &str) -> (String, String, String) {
        let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{function}");
        let mut sessions = self.sessions.lock();
        if let Some((key, s)) = sessions.iter().find(|(_, s)| s.arn == arn && s.expires_ms == i64::MAX) {
            return (key.clone(), s.secret.clone(), s.token.clone());
        }
        let role_id = self.iam.role_by_arn(role_arn).map(|r| r.id).unwrap_or_else(|| unique_id("AROA"));
        let key: String = unique_id("ASIA").chars().take(20).collect();
        let (secret, token) = (secret(), token());
        sessions.insert(key.clone(), Session { arn, secret: secret.clone(), user_id: format!("{role_id}:{function}"), token: token.clone(), expires_ms: i64::MAX });
        (key, secret, token)
    }

    /// The secret of live temporary credentials.
    pub fn secret_for(&self, key: &str) -> Option<String> {
        let now = now_millis();
        self.sessions.lock().get(key).filter(|s| s.expires_ms > now).map(|s| s.secret.clone())
    }

    /// Forgets expired temporary credentials.
    pub fn prune(&self) {
        let now = now_millis();
        self.sessions.lock().retain(|_, s| s.expires_ms > now);
    }
}
