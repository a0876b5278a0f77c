//! Resource-based policy: AddPermission, RemovePermission, GetPolicy, and who may invoke.

use super::*;

impl Lambda {
    /// AddPermission: appends a statement to the function's resource policy.
    pub fn add_permission(&self, name: &str, input: &Value) -> LambdaResult<Value> {
        let sid = input.get("StatementId").and_then(Value::as_str).unwrap_or_default().to_string();
        let action = input.get("Action").and_then(Value::as_str).unwrap_or_default().to_string();
        let principal = input.get("Principal").and_then(Value::as_str).unwrap_or_default().to_string();
        if sid.is_empty() || action.is_empty() || principal.is_empty() {
            return Err(LambdaError::InvalidParameterValue("StatementId, Action and Principal are required".into()));
        }
        let mut statement = None;
        self.update_latest(name, input.get("RevisionId").and_then(Value::as_str), |f| {
            if f.policy.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(LambdaError::ResourceConflict(format!("The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.")));
            }
            let principal_doc = if principal.contains('.') { serde_json::json!({ "Service": principal }) } else { serde_json::json!({ "AWS": principal }) };
            let mut s = serde_json::json!({ "Sid": sid, "Effect": "Allow", "Principal": principal_doc, "Action": action, "Resource": f.arn });
            let mut cond = serde_json::Map::new();
            if let Some(arn) = input.get("SourceArn").and_then(Value::as_str) {
                cond.insert("ArnLike".into(), serde_json::json!({ "AWS:SourceArn": arn }));
            }
            if let Some(acct) = input.get("SourceAccount").and_then(Value::as_str) {
                cond.insert("StringEquals".into(), serde_json::json!({ "AWS:SourceAccount": acct }));
            }
            if !cond.is_empty() {
                s["Condition"] = Value::Object(cond);
            }
            f.policy.push(s.clone());
            statement = Some(s);
            Ok(())
        })?;
        Ok(serde_json::json!({ "Statement": statement.map(|s| s.to_string()) }))
    }

    /// RemovePermission.
    pub fn remove_permission(&self, name: &str, sid: &str) -> LambdaResult<()> {
        self.update_latest(name, None, |f| {
            let before = f.policy.len();
            f.policy.retain(|s| s["Sid"] != sid);
            if f.policy.len() == before {
                return Err(LambdaError::ResourceNotFound("The resource you requested does not exist.".into()));
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Whether the function's resource policy lets `service` (`s3.amazonaws.com`) invoke it for
    /// `source_arn`: what S3 checks before it accepts a notification destination. `Err` says why
    /// not.
    pub fn allows_invoke(&self, name_or_arn: &str, service: &str, source_arn: &str) -> Result<(), String> {
        let f = self.resolve(name_or_arn, None, false).map_err(|_| format!("the function {name_or_arn} does not exist"))?;
        let glob = |pattern: &str, value: &str| {
            let re = format!("^{}$", regex::escape(pattern).replace("\\*", ".*").replace("\\?", "."));
            regex::Regex::new(&re).is_ok_and(|r| r.is_match(value))
        };
        let allows = f.policy.iter().any(|s| {
            let principal = &s["Principal"];
            let who = principal["Service"].as_str() == Some(service) || principal.as_str() == Some("*") || principal["AWS"].as_str() == Some("*");
            let action = s["Action"].as_str().is_some_and(|a| a == "lambda:InvokeFunction" || a == "lambda:*");
            let source = s["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().or(s["Condition"]["ArnEquals"]["AWS:SourceArn"].as_str());
            who && action && source.is_none_or(|p| glob(p, source_arn))
        });
        if allows { Ok(()) } else { Err(format!("Not authorized to invoke function [{}]: its resource policy does not allow {service} for {source_arn} (add a permission with lambda add-permission)", f.arn)) }
    }

    /// GetPolicy.
    pub fn get_policy(&self, name: &str) -> LambdaResult<Value> {
        let f = self.function(name, None)?;
        if f.policy.is_empty() {
            return Err(LambdaError::ResourceNotFound("The resource you requested does not exist.".into()));
        }
        let doc = serde_json::json!({ "Version": "2012-10-17", "Id": "default", "Statement": f.policy });
        Ok(serde_json::json!({ "Policy": doc.to_string(), "RevisionId": f.revision_id }))
    }
}
