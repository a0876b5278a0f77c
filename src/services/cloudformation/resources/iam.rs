//! `AWS::IAM::Role`, `Policy` and `ManagedPolicy`, through the IAM query API.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::IAM::Role" => {
            let name = s(props, "RoleName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 64, false));
            let mut p = vec![("RoleName", name.clone()), ("AssumeRolePolicyDocument", props.get("AssumeRolePolicyDocument").map(doc_string).unwrap_or_default())];
            for (k, key) in [("Path", "Path"), ("Description", "Description"), ("MaxSessionDuration", "MaxSessionDuration")] {
                if let Some(v) = s(props, key) {
                    p.push((k, v));
                }
            }
            let r = api.query("iam", "CreateRole", &p).await.map_err(fail)?;
            let role = r.child("Role").cloned().unwrap_or_default();
            role_policies(api, &name, &Value::Null, props).await?;
            Ok(Created {
                attrs: attrs(vec![("Arn", json!(role.child_text("Arn").unwrap_or_default())), ("RoleId", json!(role.child_text("RoleId").unwrap_or_default()))]),
                physical_id: name,
            })
        }
        "AWS::IAM::Policy" => {
            let id = generated_name(ctx.stack_name, &ctx.logical_id.chars().take(5).collect::<String>(), 64, false);
            put_inline(api, props, true).await?;
            Ok(Created { physical_id: id, attrs: Map::new() })
        }
        "AWS::IAM::ManagedPolicy" => {
            let name = s(props, "ManagedPolicyName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 128, false));
            let mut p = vec![("PolicyName", name), ("PolicyDocument", props.get("PolicyDocument").map(doc_string).unwrap_or_default())];
            for key in ["Path", "Description"] {
                if let Some(v) = s(props, key) {
                    p.push((key, v));
                }
            }
            let r = api.query("iam", "CreatePolicy", &p).await.map_err(fail)?;
            let policy = r.child("Policy").cloned().unwrap_or_default();
            let arn = policy.child_text("Arn").unwrap_or_default().to_string();
            attach_managed(api, &arn, &Value::Null, props).await?;
            Ok(Created { attrs: attrs(vec![("PolicyArn", json!(arn)), ("PolicyId", json!(policy.child_text("PolicyId").unwrap_or_default()))]), physical_id: arn })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    match ty {
        "AWS::IAM::Role" => {
            if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument") {
                let doc = new.get("AssumeRolePolicyDocument").map(doc_string).unwrap_or_default();
                api.query("iam", "UpdateAssumeRolePolicy", &[("RoleName", id.to_string()), ("PolicyDocument", doc)]).await.map_err(fail)?;
            }
            role_policies(api, id, old, new).await?;
        }
        "AWS::IAM::Policy" => {
            put_inline(api, old, false).await?;
            put_inline(api, new, true).await?;
        }
        "AWS::IAM::ManagedPolicy" => {
            if old.get("PolicyDocument") != new.get("PolicyDocument") {
                let before = api.query("iam", "GetPolicy", &[("PolicyArn", id.to_string())]).await.map_err(fail)?;
                let default = before.child("Policy").and_then(|p| p.child_text("DefaultVersionId")).unwrap_or_default().to_string();
                let doc = new.get("PolicyDocument").map(doc_string).unwrap_or_default();
                api.query("iam", "CreatePolicyVersion", &[("PolicyArn", id.to_string()), ("PolicyDocument", doc), ("SetAsDefault", "true".into())]).await.map_err(fail)?;
                api.query("iam", "DeletePolicyVersion", &[("PolicyArn", id.to_string()), ("VersionId", default)]).await.map_err(fail)?;
            }
            attach_managed(api, id, old, new).await?;
        }
        _ => {}
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::IAM::Role" => {
            role_policies(api, id, props, &Value::Null).await?;
            gone(api.query("iam", "DeleteRole", &[("RoleName", id.to_string())]).await)
        }
        "AWS::IAM::Policy" => put_inline(api, props, false).await,
        "AWS::IAM::ManagedPolicy" => {
            attach_managed(api, id, props, &Value::Null).await?;
            gone(api.query("iam", "DeletePolicy", &[("PolicyArn", id.to_string())]).await)
        }
        _ => Ok(()),
    }
}

/// A policy document property as IAM takes it (JSON text).
fn doc_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Applies a role's inline `Policies` and `ManagedPolicyArns`, going from `old` to `new`
/// (`Null` for none).
async fn role_policies(api: &Api, role: &str, old: &Value, new: &Value) -> Result<(), String> {
    let inline = |v: &Value| -> Vec<(String, String)> {
        v.get("Policies").and_then(Value::as_array).map(|a| a.iter().filter_map(|p| Some((s(p, "PolicyName")?, p.get("PolicyDocument").map(doc_string)?))).collect()).unwrap_or_default()
    };
    let managed = |v: &Value| -> Vec<String> { v.get("ManagedPolicyArns").and_then(Value::as_array).map(|a| a.iter().map(template::scalar).collect()).unwrap_or_default() };
    let (oi, ni) = (inline(old), inline(new));
    for (name, _) in oi.iter().filter(|(n, _)| !ni.iter().any(|(m, _)| m == n)) {
        api.query("iam", "DeleteRolePolicy", &[("RoleName", role.to_string()), ("PolicyName", name.clone())]).await.map_err(fail)?;
    }
    for (name, doc) in ni.iter().filter(|p| !oi.contains(p)) {
        api.query("iam", "PutRolePolicy", &[("RoleName", role.to_string()), ("PolicyName", name.clone()), ("PolicyDocument", doc.clone())]).await.map_err(fail)?;
    }
    let (om, nm) = (managed(old), managed(new));
    for arn in om.iter().filter(|a| !nm.contains(a)) {
        api.query("iam", "DetachRolePolicy", &[("RoleName", role.to_string()), ("PolicyArn", arn.clone())]).await.map_err(fail)?;
    }
    for arn in nm.iter().filter(|a| !om.contains(a)) {
        api.query("iam", "AttachRolePolicy", &[("RoleName", role.to_string()), ("PolicyArn", arn.clone())]).await.map_err(fail)?;
    }
    Ok(())
}

/// `AWS::IAM::Policy`: puts (or deletes) the inline policy on each of its Roles and Users.
async fn put_inline(api: &Api, props: &Value, put: bool) -> Result<(), String> {
    let name = s(props, "PolicyName").unwrap_or_default();
    let doc = props.get("PolicyDocument").map(doc_string).unwrap_or_default();
    if props.get("Groups").and_then(Value::as_array).is_some_and(|g| !g.is_empty()) {
        return Err("firelocal's IAM has no groups yet (AWS::IAM::Policy Groups)".into());
    }
    for (list, kind) in [("Roles", "Role"), ("Users", "User")] {
        for who in props.get(list).and_then(Value::as_array).into_iter().flatten().map(template::scalar) {
            let who = who.rsplit('/').next().unwrap_or(&who).to_string();
            let r = if put {
                api.query("iam", &format!("Put{kind}Policy"), &[(&format!("{kind}Name") as &str, who), ("PolicyName", name.clone()), ("PolicyDocument", doc.clone())]).await
            } else {
                api.query("iam", &format!("Delete{kind}Policy"), &[(&format!("{kind}Name") as &str, who), ("PolicyName", name.clone())]).await
            };
            match r {
                Err(f) if !put && handler_not_found(&f) => {}
                other => {
                    other.map_err(fail)?;
                }
            }
        }
    }
    Ok(())
}

/// `AWS::IAM::ManagedPolicy`: attaches to the Roles and Users of `new`, detaches from those only
/// in `old`.
async fn attach_managed(api: &Api, arn: &str, old: &Value, new: &Value) -> Result<(), String> {
    let list = |v: &Value, k: &str| -> Vec<String> { v.get(k).and_then(Value::as_array).map(|a| a.iter().map(template::scalar).collect()).unwrap_or_default() };
    for (k, kind) in [("Roles", "Role"), ("Users", "User")] {
        let (o, n) = (list(old, k), list(new, k));
        for who in o.iter().filter(|x| !n.contains(x)) {
            match api.query("iam", &format!("Detach{kind}Policy"), &[(&format!("{kind}Name") as &str, who.clone()), ("PolicyArn", arn.to_string())]).await {
                Err(f) if handler_not_found(&f) => {}
                other => {
                    other.map_err(fail)?;
                }
            }
        }
        for who in n.iter().filter(|x| !o.contains(x)) {
            api.query("iam", &format!("Attach{kind}Policy"), &[(&format!("{kind}Name") as &str, who.clone()), ("PolicyArn", arn.to_string())]).await.map_err(fail)?;
        }
    }
    Ok(())
}
