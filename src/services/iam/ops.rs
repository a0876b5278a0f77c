//! IAM's state and operations: roles (trust policy, inline and attached policies), customer
//! managed policies with versions, the AWS managed policies, users and access keys. Policy
//! documents are validated (`MalformedPolicyDocument`) and returned URL-encoded, as IAM does.

use std::collections::BTreeMap;

use http::StatusCode;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::eval::Decision;

use crate::protocol::AwsError;
use crate::state::DocTable;

/// The account every resource belongs to.
pub const ACCOUNT: &str = "000000000000";

/// IAM's errors, mapped to AWS codes in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum IamError {
    NoSuchEntity(String),
    EntityAlreadyExists(String),
    MalformedPolicyDocument(String),
    DeleteConflict(String),
    Validation(String),
    LimitExceeded(String),
    Internal(String),
}

impl IamError {
    /// The AWS error (awsQuery shape is applied by the wire layer).
    pub fn to_aws(&self) -> AwsError {
        match self {
            IamError::NoSuchEntity(m) => AwsError::new(StatusCode::NOT_FOUND, "NoSuchEntity", m.clone()),
            IamError::EntityAlreadyExists(m) => AwsError::new(StatusCode::CONFLICT, "EntityAlreadyExists", m.clone()),
            IamError::MalformedPolicyDocument(m) => AwsError::new(StatusCode::BAD_REQUEST, "MalformedPolicyDocument", m.clone()),
            IamError::DeleteConflict(m) => AwsError::new(StatusCode::CONFLICT, "DeleteConflict", m.clone()),
            IamError::Validation(m) => AwsError::new(StatusCode::BAD_REQUEST, "ValidationError", m.clone()),
            IamError::LimitExceeded(m) => AwsError::new(StatusCode::CONFLICT, "LimitExceeded", m.clone()),
            IamError::Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "ServiceFailure", m.clone()),
        }
    }
}

impl From<rusqlite::Error> for IamError {
    fn from(e: rusqlite::Error) -> Self {
        IamError::Internal(format!("state store: {e}"))
    }
}

/// The result of an IAM operation.
pub type IamResult<T> = Result<T, IamError>;

/// A role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created: i64,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub inline: BTreeMap<String, String>,
    pub attached: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// A managed policy version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub default: bool,
    pub created: i64,
}

/// A managed policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created: i64,
    pub updated: i64,
    pub description: Option<String>,
    pub versions: Vec<PolicyVersion>,
    pub aws_managed: bool,
}

impl Policy {
    /// The default version.
    pub fn default_version(&self) -> Option<&PolicyVersion> {
        self.versions.iter().find(|v| v.default)
    }
}

/// An access key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub active: bool,
    pub created: i64,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created: i64,
    pub inline: BTreeMap<String, String>,
    pub attached: Vec<String>,
    pub keys: Vec<AccessKey>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    roles: BTreeMap<String, Role>,
    policies: BTreeMap<String, Policy>,
    users: BTreeMap<String, User>,
}

/// The IAM service.
pub struct Iam {
    state: Mutex<State>,
    docs: DocTable,
}

/// An identity's own policy documents: its inline policies and its attached managed policies'
/// default versions.
fn identity_policies(s: &State, inline: &BTreeMap<String, String>, attached: &[String]) -> Vec<Value> {
    let mut docs: Vec<Value> = inline.values().filter_map(|d| serde_json::from_str(d).ok()).collect();
    docs.extend(attached.iter().filter_map(|a| s.policies.get(a)).filter_map(|p| p.default_version()).filter_map(|v| serde_json::from_str(&v.document).ok()));
    docs
}

/// What an identity's own policies decide for one request (no condition keys).
fn identity_decision(s: &State, inline: &BTreeMap<String, String>, attached: &[String], action: &str, resource: &str) -> Decision {
    let req = super::eval::Request { action: action.to_string(), resource: resource.to_string(), context: BTreeMap::new() };
    super::eval::evaluate(&identity_policies(s, inline, attached), &req)
}

/// `PREFIX` + 17 upper-case letters and digits, like IAM's unique ids.
pub fn unique_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes: Vec<u8> = uuid::Uuid::new_v4().as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).copied().collect();
    format!("{prefix}{}", bytes.iter().take(17).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect::<String>())
}

fn now() -> i64 {
    crate::protocol::time::now_millis() / 1000 * 1000
}

/// Checks a policy document as IAM does: JSON, a Statement (object or list), each statement with
/// an Effect of Allow or Deny and an Action (or NotAction); identity policies need a Resource,
/// trust policies a Principal.
pub fn validate_policy(doc: &str, trust: bool) -> IamResult<()> {
    let bad = |m: &str| IamError::MalformedPolicyDocument(m.to_string());
    let v: Value = serde_json::from_str(doc).map_err(|_| bad("Syntax errors in policy."))?;
    let statements = match v.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => return Err(bad("Policy document must contain a Statement.")),
    };
    if let Some(version) = v.get("Version").and_then(Value::as_str)
        && !["2012-10-17", "2008-10-17"].contains(&version)
    {
        return Err(bad("The policy must contain a valid version string"));
    }
    for s in statements {
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => return Err(bad("Policy statement must contain a valid Effect (Allow or Deny).")),
        }
        if s.get("Action").is_none() && s.get("NotAction").is_none() {
            return Err(bad("Policy statement must contain actions."));
        }
        if trust {
            if s.get("Principal").is_none() && s.get("NotPrincipal").is_none() {
                return Err(bad("AssumeRolepolicy contained an invalid principal element."));
            }
        } else if s.get("Resource").is_none() && s.get("NotResource").is_none() {
            return Err(bad("Policy statement must contain resources."));
        }
    }
    Ok(())
}

fn valid_name(name: &str, max: usize) -> IamResult<()> {
    if name.is_empty() || name.len() > max || !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
        return Err(IamError::Validation(format!(
            "1 validation error detected: Value '{name}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length {max}"
        )));
    }
    Ok(())
}

fn normalize_path(path: Option<&str>) -> IamResult<String> {
    let p = path.unwrap_or("/");
    if !p.starts_with('/') || !p.ends_with('/') {
        return Err(IamError::Validation(format!("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters. ({p})")));
    }
    Ok(p.to_string())
}

impl Iam {
    /// Opens the store; the AWS managed policies are always there.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> IamResult<Iam> {
        let docs = DocTable::open(root, "iam_state")?;
        let mut state: State = docs.load::<State>()?.into_iter().next().unwrap_or_default();
        for (name, path, doc) in super::managed::MANAGED {
            let arn = format!("arn:aws:iam::aws:policy{path}{name}");
            state.policies.entry(arn.clone()).or_insert_with(|| Policy {
                name: name.to_string(),
                id: unique_id("ANPA"),
                path: path.to_string(),
                arn,
                created: 0,
                updated: 0,
                description: None,
                versions: vec![PolicyVersion { id: "v1".into(), document: doc.to_string(), default: true, created: 0 }],
                aws_managed: true,
            });
        }
        Ok(Iam { state: Mutex::new(state), docs })
    }

    fn save(&self, s: &State) -> IamResult<()> {
        Ok(self.docs.save("iam", "", s)?)
    }

    /// Runs `f` on the state and saves it when it succeeds.
    fn mutate<T>(&self, f: impl FnOnce(&mut State) -> IamResult<T>) -> IamResult<T> {
        let mut s = self.state.lock();
        let out = f(&mut s)?;
        self.save(&s)?;
        Ok(out)
    }

    // ------------------------------------------------------------------ roles

    /// CreateRole.
    pub fn create_role(&self, name: &str, path: Option<&str>, trust: &str, description: Option<String>, max_session: Option<u32>, tags: Vec<(String, String)>) -> IamResult<Role> {
        valid_name(name, 64)?;
        let path = normalize_path(path)?;
        validate_policy(trust, true)?;
        self.mutate(|s| {
            if s.roles.contains_key(name) {
                return Err(IamError::EntityAlreadyExists(format!("Role with name {name} already exists.")));
            }
            let role = Role {
                name: name.to_string(),
                id: unique_id("AROA"),
                arn: format!("arn:aws:iam::{ACCOUNT}:role{path}{name}"),
                path,
                created: now(),
                trust_policy: trust.to_string(),
                description,
                max_session_duration: max_session.unwrap_or(3600),
                inline: BTreeMap::new(),
                attached: Vec::new(),
                tags,
            };
            s.roles.insert(name.to_string(), role.clone());
            Ok(role)
        })
    }

    /// The role named `name`, or NoSuchEntity.
    pub fn role(&self, name: &str) -> IamResult<Role> {
        self.state.lock().roles.get(name).cloned().ok_or_else(|| IamError::NoSuchEntity(format!("The role with name {name} cannot be found.")))
    }

    /// The role with this ARN.
    pub fn role_by_arn(&self, arn: &str) -> Option<Role> {
        self.state.lock().roles.values().find(|r| r.arn == arn).cloned()
    }

    /// Every role whose path starts with `prefix`.
    pub fn list_roles(&self, prefix: &str) -> Vec<Role> {
        self.state.lock().roles.values().filter(|r| r.path.starts_with(prefix)).cloned().collect()
    }

    fn role_mut<'a>(s: &'a mut State, name: &str) -> IamResult<&'a mut Role> {
        s.roles.get_mut(name).ok_or_else(|| IamError::NoSuchEntity(format!("The role with name {name} cannot be found.")))
    }

    /// UpdateAssumeRolePolicy.
    pub fn update_assume_role_policy(&self, name: &str, doc: &str) -> IamResult<()> {
        validate_policy(doc, true)?;
        self.mutate(|s| {
            Self::role_mut(s, name)?.trust_policy = doc.to_string();
            Ok(())
        })
    }

    /// DeleteRole: refused while policies are attached or inline.
    pub fn delete_role(&self, name: &str) -> IamResult<()> {
        self.mutate(|s| {
            let r = Self::role_mut(s, name)?;
            if !r.inline.is_empty() || !r.attached.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must remove policies first.".into()));
            }
            s.roles.remove(name);
            Ok(())
        })
    }

    /// PutRolePolicy.
    pub fn put_role_policy(&self, role: &str, policy: &str, doc: &str) -> IamResult<()> {
        valid_name(policy, 128)?;
        validate_policy(doc, false)?;
        self.mutate(|s| {
            Self::role_mut(s, role)?.inline.insert(policy.to_string(), doc.to_string());
            Ok(())
        })
    }

    /// GetRolePolicy: the document.
    pub fn get_role_policy(&self, role: &str, policy: &str) -> IamResult<String> {
        self.role(role)?.inline.get(policy).cloned().ok_or_else(|| IamError::NoSuchEntity(format!("The role policy with name {policy} cannot be found.")))
    }

    /// DeleteRolePolicy.
    pub fn delete_role_policy(&self, role: &str, policy: &str) -> IamResult<()> {
        self.mutate(|s| {
            Self::role_mut(s, role)?.inline.remove(policy).map(|_| ()).ok_or_else(|| IamError::NoSuchEntity(format!("The role policy with name {policy} cannot be found.")))
        })
    }

    /// Attach (or detach) a managed policy to a role or user.
    pub fn attach(&self, kind: &str, name: &str, arn: &str, attach: bool) -> IamResult<()> {
        self.mutate(|s| {
            if !s.policies.contains_key(arn) {
                return Err(IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable.")));
            }
            let list = match kind {
                "role" => &mut Self::role_mut(s, name)?.attached,
                _ => &mut s.users.get_mut(name).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {name} cannot be found.")))?.attached,
            };
            if attach {
                if !list.iter().any(|a| a == arn) {
                    list.push(arn.to_string());
                }
            } else {
                let before = list.len();
                list.retain(|a| a != arn);
                if list.len() == before {
                    return Err(IamError::NoSuchEntity(format!("Policy {arn} was not found.")));
                }
            }
            Ok(())
        })
    }

    // ------------------------------------------------------------------ managed policies

    /// CreatePolicy.
    pub fn create_policy(&self, name: &str, path: Option<&str>, doc: &str, description: Option<String>) -> IamResult<Policy> {
        valid_name(name, 128)?;
        let path = normalize_path(path)?;
        validate_policy(doc, false)?;
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy{path}{name}");
        self.mutate(|s| {
            if s.policies.contains_key(&arn) {
                return Err(IamError::EntityAlreadyExists(format!("A policy called {name} already exists. Duplicate names are not allowed.")));
            }
            let t = now();
            let p = Policy {
                name: name.to_string(),
                id: unique_id("ANPA"),
                path,
                arn: arn.clone(),
                created: t,
                updated: t,
                description,
                versions: vec![PolicyVersion { id: "v1".into(), document: doc.to_string(), default: true, created: t }],
                aws_managed: false,
            };
            s.policies.insert(arn, p.clone());
            Ok(p)
        })
    }

    /// The policy with this ARN.
    pub fn policy(&self, arn: &str) -> IamResult<Policy> {
        self.state.lock().policies.get(arn).cloned().ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))
    }

    /// ListPolicies (`scope` All, AWS or Local).
    pub fn list_policies(&self, scope: &str, only_attached: bool) -> Vec<(Policy, usize)> {
        let s = self.state.lock();
        s.policies
            .values()
            .filter(|p| match scope {
                "AWS" => p.aws_managed,
                "Local" => !p.aws_managed,
                _ => true,
            })
            .map(|p| (p.clone(), Self::attachments(&s, &p.arn)))
            .filter(|(_, n)| !only_attached || *n > 0)
            .collect()
    }

    fn attachments(s: &State, arn: &str) -> usize {
        s.roles.values().filter(|r| r.attached.iter().any(|a| a == arn)).count() + s.users.values().filter(|u| u.attached.iter().any(|a| a == arn)).count()
    }

    /// How many roles and users a policy is attached to.
    pub fn attachment_count(&self, arn: &str) -> usize {
        Self::attachments(&self.state.lock(), arn)
    }

    /// CreatePolicyVersion (at most five versions).
    pub fn create_policy_version(&self, arn: &str, doc: &str, set_default: bool) -> IamResult<PolicyVersion> {
        validate_policy(doc, false)?;
        self.mutate(|s| {
            let p = s.policies.get_mut(arn).filter(|p| !p.aws_managed).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
            if p.versions.len() >= 5 {
                return Err(IamError::LimitExceeded(format!("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version. ({arn})")));
            }
            let n = p.versions.iter().filter_map(|v| v.id.trim_start_matches('v').parse::<u32>().ok()).max().unwrap_or(0) + 1;
            if set_default {
                p.versions.iter_mut().for_each(|v| v.default = false);
            }
            let v = PolicyVersion { id: format!("v{n}"), document: doc.to_string(), default: set_default, created: now() };
            p.versions.push(v.clone());
            p.updated = now();
            Ok(v)
        })
    }

    /// DeletePolicy: refused while attached or with non-default versions.
    pub fn delete_policy(&self, arn: &str) -> IamResult<()> {
        self.mutate(|s| {
            let p = s.policies.get(arn).filter(|p| !p.aws_managed).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
            if Self::attachments(s, arn) > 0 {
                return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
            }
            if p.versions.len() > 1 {
                return Err(IamError::DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into()));
            }
            s.policies.remove(arn);
            Ok(())
        })
    }

    // ------------------------------------------------------------------ users and keys

    /// CreateUser.
    pub fn create_user(&self, name: &str, path: Option<&str>) -> IamResult<User> {
        valid_name(name, 64)?;
        let path = normalize_path(path)?;
        self.mutate(|s| {
            if s.users.contains_key(name) {
                return Err(IamError::EntityAlreadyExists(format!("User with name {name} already exists.")));
            }
            let u = User { name: name.to_string(), id: unique_id("AIDA"), arn: format!("arn:aws:iam::{ACCOUNT}:user{path}{name}"), path, created: now(), inline: BTreeMap::new(), attached: Vec::new(), keys: Vec::new() };
            s.users.insert(name.to_string(), u.clone());
            Ok(u)
        })
    }

    /// The user named `name`.
    pub fn user(&self, name: &str) -> IamResult<User> {
        self.state.lock().users.get(name).cloned().ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {name} cannot be found.")))
    }

    /// DeleteUser: refused while it has keys or policies.
    pub fn delete_user(&self, name: &str) -> IamResult<()> {
        self.mutate(|s| {
            let u = s.users.get(name).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {name} cannot be found.")))?;
            if !u.keys.is_empty() || !u.inline.is_empty() || !u.attached.is_empty() {
                return Err(IamError::DeleteConflict("Cannot delete entity, must delete access keys and policies first.".into()));
            }
            s.users.remove(name);
            Ok(())
        })
    }

    /// PutUserPolicy.
    pub fn put_user_policy(&self, user: &str, policy: &str, doc: &str) -> IamResult<()> {
        valid_name(policy, 128)?;
        validate_policy(doc, false)?;
        self.mutate(|s| {
            s.users.get_mut(user).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {user} cannot be found.")))?.inline.insert(policy.to_string(), doc.to_string());
            Ok(())
        })
    }

    /// DeleteUserPolicy.
    pub fn delete_user_policy(&self, user: &str, policy: &str) -> IamResult<()> {
        self.mutate(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {user} cannot be found.")))?;
            u.inline.remove(policy).map(|_| ()).ok_or_else(|| IamError::NoSuchEntity(format!("The user policy with name {policy} cannot be found.")))
        })
    }

    /// DeletePolicyVersion: any version but the default.
    pub fn delete_policy_version(&self, arn: &str, version: &str) -> IamResult<()> {
        self.mutate(|s| {
            let p = s.policies.get_mut(arn).filter(|p| !p.aws_managed).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
            let v = p.versions.iter().position(|v| v.id == version).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} version {version} does not exist or is not deletable.")))?;
            if p.versions[v].default {
                return Err(IamError::DeleteConflict("Cannot delete the default version of a policy.".into()));
            }
            p.versions.remove(v);
            Ok(())
        })
    }

    /// CreateAccessKey (at most two per user).
    pub fn create_access_key(&self, user: &str) -> IamResult<AccessKey> {
        self.mutate(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {user} cannot be found.")))?;
            if u.keys.len() >= 2 {
                return Err(IamError::LimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2".into()));
            }
            let secret: String = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()).chars().take(40).collect();
            let k = AccessKey { id: unique_id("AKIA").chars().take(20).collect(), secret, active: true, created: now() };
            u.keys.push(k.clone());
            Ok(k)
        })
    }

    /// DeleteAccessKey.
    pub fn delete_access_key(&self, user: &str, key: &str) -> IamResult<()> {
        self.mutate(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {user} cannot be found.")))?;
            let before = u.keys.len();
            u.keys.retain(|k| k.id != key);
            if u.keys.len() == before {
                return Err(IamError::NoSuchEntity(format!("The Access Key with id {key} cannot be found.")));
            }
            Ok(())
        })
    }

    /// The secret of an active access key.
    pub fn secret_for(&self, key: &str) -> Option<String> {
        self.state.lock().users.values().flat_map(|u| u.keys.iter()).find(|k| k.id == key && k.active).map(|k| k.secret.clone())
    }

    /// Whether `role_arn`'s policies (inline and attached) allow `action` on `resource` for a
    /// hop made on the role's behalf. `Err` carries AWS's denial message.
    pub fn authorize_role(&self, role_arn: &str, session: &str, action: &str, resource: &str) -> Result<(), String> {
        let caller = super::authz::Caller::internal(super::authz::Principal::role_session(role_arn, session));
        let access = super::authz::Access::new(action, resource);
        if self.role_by_arn(role_arn).is_none() {
            return Err(super::authz::denial_message(&caller.principal.arn(), &access, Decision::ImplicitDeny));
        }
        self.authorize(&caller, &access)
    }

    /// A role's policy documents (none if the role is gone).
    pub fn role_policies(&self, name: &str) -> Vec<Value> {
        let s = self.state.lock();
        s.roles.get(name).map(|r| identity_policies(&s, &r.inline, &r.attached)).unwrap_or_default()
    }

    /// A user's policy documents (none if the user is gone).
    pub fn user_policies(&self, name: &str) -> Vec<Value> {
        let s = self.state.lock();
        s.users.get(name).map(|u| identity_policies(&s, &u.inline, &u.attached)).unwrap_or_default()
    }

    /// Whether `caller_arn` (as STS names it: the account root, an IAM user, or an
    /// assumed-role session) may call sts:AssumeRole on `role_arn`, as IAM decides it within one
    /// account: the role's trust policy must allow the caller; when it names the caller itself
    /// that is enough, when it names only the account the caller's own policies must also allow
    /// the call; an explicit Deny in the caller's policies always wins. The account root (what
    /// firelocal's default keys sign as) needs only a trust policy naming the account.
    pub fn may_assume(&self, caller_arn: &str, role_arn: &str) -> bool {
        const ACTION: &str = "sts:AssumeRole";
        let root = format!("arn:aws:iam::{ACCOUNT}:root");
        let account_trusted = self.trusts(role_arn, &root) || self.trusts(role_arn, ACCOUNT);
        if caller_arn == root {
            return account_trusted;
        }
        let s = self.state.lock();
        let (own_arn, inline, attached) = if let Some(u) = s.users.values().find(|u| u.arn == caller_arn) {
            (u.arn.clone(), &u.inline, &u.attached)
        } else if let Some(name) = caller_arn.strip_prefix(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/")).and_then(|r| r.split('/').next()) {
            let Some(r) = s.roles.values().find(|r| r.name == name) else { return false };
            (r.arn.clone(), &r.inline, &r.attached)
        } else {
            return false;
        };
        let decision = identity_decision(&s, inline, attached, ACTION, role_arn);
        drop(s);
        let named = self.trusts(role_arn, &own_arn) || self.trusts(role_arn, caller_arn);
        match decision {
            Decision::ExplicitDeny => false,
            Decision::Allow => named || account_trusted,
            Decision::ImplicitDeny => named,
        }
    }

    /// Whether a role's trust policy lets `principal` (a service such as
    /// `firehose.amazonaws.com`, or an ARN) assume it.
    pub fn trusts(&self, role_arn: &str, principal: &str) -> bool {
        let Some(role) = self.role_by_arn(role_arn) else { return false };
        let Ok(doc) = serde_json::from_str::<Value>(&role.trust_policy) else { return false };
        let statements = match doc.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(o) => vec![o.clone()],
            None => return false,
        };
        let listed = |v: Option<&Value>| match v {
            Some(Value::String(x)) => x == "*" || x == principal,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str().is_some_and(|x| x == "*" || x == principal)),
            _ => false,
        };
        let allowed_action = |s: &Value| match s.get("Action") {
            Some(Value::String(a)) => super::eval::wildcard(a, "sts:AssumeRole", true),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(|a| super::eval::wildcard(a, "sts:AssumeRole", true)),
            _ => false,
        };
        let matches = |s: &Value| {
            allowed_action(s)
                && match s.get("Principal") {
                    Some(Value::String(p)) => p == "*",
                    Some(Value::Object(o)) => ["Service", "AWS", "Federated"].iter().any(|k| listed(o.get(*k))),
                    _ => false,
                }
        };
        let deny = statements.iter().any(|s| s.get("Effect").and_then(Value::as_str) == Some("Deny") && matches(s));
        !deny && statements.iter().any(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow") && matches(s))
    }

    /// The user owning an access key.
    pub fn user_for_key(&self, key: &str) -> Option<User> {
        self.state.lock().users.values().find(|u| u.keys.iter().any(|k| k.id == key)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(validate_policy(ok, false).is_ok());
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(validate_policy(trust, true).is_ok());
        for bad in ["{", r#"{"Statement":[]}"#, r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#, r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#] {
            assert!(matches!(validate_policy(bad, false), Err(IamError::MalformedPolicyDocument(_))), "{bad}");
        }
        assert!(validate_policy(ok, true).is_err(), "a trust policy needs a Principal");
        assert!(unique_id("AROA").starts_with("AROA") && unique_id("AROA").len() == 21);
    }
}
