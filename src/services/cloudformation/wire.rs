//! CloudFormation's wire layer (awsQuery, `Action=CreateStack&Version=2010-05-15`): form
//! parameters in, `<ActionResponse>` XML out.

use std::collections::BTreeMap;

use http::Method;

use super::error::{CfnError, CfnResult};
use super::ops::{CloudFormation, Stack, StackInput};
use crate::protocol::query::{self, key_values, members};
use crate::protocol::time::iso8601_millis;
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// The actions this service answers.
const ACTIONS: &[&str] = &[
    "CreateStack", "UpdateStack", "DeleteStack", "DescribeStacks", "DescribeStackEvents", "DescribeStackResource", "DescribeStackResources",
    "ListStackResources", "ListStacks", "GetTemplate", "ValidateTemplate", "ListExports", "CreateChangeSet", "DescribeChangeSet",
    "ExecuteChangeSet", "DeleteChangeSet", "ListChangeSets", "GetTemplateSummary",
];

/// Handles one CloudFormation request.
pub async fn handle(cfn: &CloudFormation, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let p = query::params(req);
    let action = p.get("Action").cloned().unwrap_or_default();
    let Some(name) = ACTIONS.iter().find(|a| **a == action).copied() else {
        let e = AwsError::new(http::StatusCode::BAD_REQUEST, "InvalidAction", format!("Could not find operation {action} for version 2010-05-15 (firelocal's CloudFormation)"));
        return (e.render(Protocol::AwsQuery, &req.request_id, false), "Unknown");
    };
    let resp = match run(cfn, req, name, &p).await {
        Ok(r) => r,
        Err(e) => e.to_aws().render(Protocol::AwsQuery, &req.request_id, req.method == Method::HEAD),
    };
    (resp, name)
}

fn need<'a>(p: &'a BTreeMap<String, String>, k: &str) -> CfnResult<&'a str> {
    p.get(k).map(String::as_str).ok_or_else(|| CfnError::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(k))))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// The stack input common to CreateStack, UpdateStack, CreateChangeSet and ValidateTemplate.
fn stack_input(p: &BTreeMap<String, String>) -> StackInput {
    let mut params = BTreeMap::new();
    let mut previous = Vec::new();
    for i in 1.. {
        let Some(key) = p.get(&format!("Parameters.member.{i}.ParameterKey")) else { break };
        if p.get(&format!("Parameters.member.{i}.UsePreviousValue")).is_some_and(|v| v == "true") {
            previous.push(key.clone());
        } else {
            params.insert(key.clone(), p.get(&format!("Parameters.member.{i}.ParameterValue")).cloned().unwrap_or_default());
        }
    }
    StackInput {
        name: p.get("StackName").cloned().unwrap_or_default(),
        template: p.get("TemplateBody").cloned(),
        template_url: p.get("TemplateURL").cloned(),
        use_previous_template: p.get("UsePreviousTemplate").is_some_and(|v| v == "true"),
        params,
        previous_params: previous,
        capabilities: members(p, "Capabilities"),
        tags: key_values(p, "Tags"),
        on_failure: p.get("OnFailure").cloned(),
        disable_rollback: p.get("DisableRollback").is_some_and(|v| v == "true"),
        token: p.get("ClientRequestToken").cloned(),
        description: p.get("Description").cloned(),
    }
}

fn ts(ms: i64) -> String {
    iso8601_millis(ms)
}

fn stack_xml(w: &mut XmlWriter, s: &Stack) {
    w.elem("StackId", &s.id).elem("StackName", &s.name);
    if let Some(d) = &s.description {
        w.elem("Description", d);
    }
    parameters_xml(w, &s.params, &s.no_echo);
    times_and_status(w, s);
    w.elem("DisableRollback", if s.disable_rollback { "true" } else { "false" });
    w.open("NotificationARNs").close("NotificationARNs");
    w.open("Capabilities");
    for c in &s.capabilities {
        w.elem("member", c);
    }
    w.close("Capabilities");
    w.open("Outputs");
    for o in &s.outputs {
        w.open("member").elem("OutputKey", &o.key).elem("OutputValue", &o.value);
        if let Some(d) = &o.description {
            w.elem("Description", d);
        }
        if let Some(e) = &o.export {
            w.elem("ExportName", e);
        }
        w.close("member");
    }
    w.close("Outputs");
    tags_xml(w, &s.tags);
    w.elem("EnableTerminationProtection", "false");
    w.open("DriftInformation").elem("StackDriftStatus", "NOT_CHECKED").close("DriftInformation");
}

/// CreationTime, LastUpdatedTime, DeletionTime, StackStatus and StackStatusReason.
fn times_and_status(w: &mut XmlWriter, s: &Stack) {
    w.elem("CreationTime", &ts(s.created_ms));
    if let Some(u) = s.updated_ms {
        w.elem("LastUpdatedTime", &ts(u));
    }
    if let Some(d) = s.deleted_ms {
        w.elem("DeletionTime", &ts(d));
    }
    w.elem("StackStatus", &s.status);
    if let Some(r) = &s.reason {
        w.elem("StackStatusReason", r);
    }
}

/// A `Parameters` list; NoEcho values show as `****`.
fn parameters_xml(w: &mut XmlWriter, params: &BTreeMap<String, String>, no_echo: &std::collections::BTreeSet<String>) {
    w.open("Parameters");
    for (k, v) in params {
        let shown = if no_echo.contains(k) { "****" } else { v };
        w.open("member").elem("ParameterKey", k).elem("ParameterValue", shown).close("member");
    }
    w.close("Parameters");
}

fn tags_xml(w: &mut XmlWriter, tags: &[(String, String)]) {
    w.open("Tags");
    for (k, v) in tags {
        w.open("member").elem("Key", k).elem("Value", v).close("member");
    }
    w.close("Tags");
}

async fn run(cfn: &CloudFormation, req: &AwsRequest, action: &str, p: &BTreeMap<String, String>) -> CfnResult<HttpResponse> {
    let rid = req.request_id.as_str();
    let region = req.region(&cfn.region).to_string();
    let key = req.access_key().unwrap_or("test").to_string();
    let api = || cfn.api(&key, &region);
    let ok = |f: &dyn Fn(&mut XmlWriter)| query::ok(action, NS, rid, f);
    Ok(match action {
        "CreateStack" => {
            need(p, "StackName")?;
            let id = cfn.create_stack(&api()?, stack_input(p)).await?;
            ok(&|w| {
                w.elem("StackId", &id);
            })
        }
        "UpdateStack" => {
            need(p, "StackName")?;
            let id = cfn.update_stack(&api()?, stack_input(p)).await?;
            ok(&|w| {
                w.elem("StackId", &id);
            })
        }
        "DeleteStack" => {
            cfn.delete_stack(&api()?, need(p, "StackName")?, p.get("ClientRequestToken").map(String::as_str), &members(p, "RetainResources")).await?;
            let mut w = XmlWriter::new();
            w.open_ns("DeleteStackResponse", NS).open("ResponseMetadata").elem("RequestId", rid).close("ResponseMetadata").close("DeleteStackResponse");
            crate::protocol::response(http::StatusCode::OK, vec![("content-type", "text/xml".into())], bytes::Bytes::from(w.finish()))
        }
        "DescribeStacks" => {
            let stacks: Vec<Stack> = match p.get("StackName") {
                Some(n) => vec![cfn.stack(n)?],
                None => cfn.all().into_iter().filter(|s| s.deleted_ms.is_none()).rev().collect(),
            };
            ok(&|w| {
                w.open("Stacks");
                for s in &stacks {
                    w.open("member");
                    stack_xml(w, s);
                    w.close("member");
                }
                w.close("Stacks");
            })
        }
        "DescribeStackEvents" => {
            let s = cfn.stack(need(p, "StackName")?)?;
            ok(&|w| {
                w.open("StackEvents");
                for e in s.events.iter().rev() {
                    w.open("member").elem("StackId", &s.id).elem("EventId", &e.id).elem("StackName", &s.name).elem("LogicalResourceId", &e.logical_id);
                    w.elem("PhysicalResourceId", &e.physical_id).elem("ResourceType", &e.ty).elem("Timestamp", &ts(e.timestamp_ms)).elem("ResourceStatus", &e.status);
                    if let Some(r) = &e.reason {
                        w.elem("ResourceStatusReason", r);
                    }
                    if let Some(t) = &e.token {
                        w.elem("ClientRequestToken", t);
                    }
                    w.close("member");
                }
                w.close("StackEvents");
            })
        }
        "DescribeStackResource" => {
            let s = cfn.stack(need(p, "StackName")?)?;
            let logical = need(p, "LogicalResourceId")?;
            let r = s.resources.iter().find(|r| r.logical_id == logical).ok_or_else(|| CfnError::Validation(format!("Resource {logical} does not exist for stack {}", s.name)))?;
            ok(&|w| {
                w.open("StackResourceDetail").elem("StackName", &s.name).elem("StackId", &s.id).elem("LogicalResourceId", &r.logical_id);
                w.elem("PhysicalResourceId", &r.physical_id).elem("ResourceType", &r.ty).elem("LastUpdatedTimestamp", &ts(r.updated_ms)).elem("ResourceStatus", &r.status);
                if let Some(x) = &r.reason {
                    w.elem("ResourceStatusReason", x);
                }
                w.open("DriftInformation").elem("StackResourceDriftStatus", "NOT_CHECKED").close("DriftInformation");
                w.close("StackResourceDetail");
            })
        }
        "DescribeStackResources" | "ListStackResources" => {
            let s = match (p.get("StackName"), p.get("PhysicalResourceId")) {
                (Some(n), _) => cfn.stack(n)?,
                (None, Some(phys)) => cfn.all().into_iter().rev().find(|s| s.deleted_ms.is_none() && s.resources.iter().any(|r| &r.physical_id == phys)).ok_or_else(|| CfnError::Validation(format!("Stack for {phys} does not exist")))?,
                (None, None) => return Err(CfnError::Validation("Either StackName or PhysicalResourceId must be specified.".into())),
            };
            let filter = p.get("LogicalResourceId");
            let list = action == "ListStackResources";
            ok(&|w| {
                w.open(if list { "StackResourceSummaries" } else { "StackResources" });
                for r in s.resources.iter().filter(|r| filter.is_none_or(|f| *f == r.logical_id)) {
                    w.open("member");
                    if !list {
                        w.elem("StackName", &s.name).elem("StackId", &s.id);
                    }
                    w.elem("LogicalResourceId", &r.logical_id).elem("PhysicalResourceId", &r.physical_id).elem("ResourceType", &r.ty);
                    w.elem(if list { "LastUpdatedTimestamp" } else { "Timestamp" }, &ts(r.updated_ms)).elem("ResourceStatus", &r.status);
                    if let Some(x) = &r.reason {
                        w.elem("ResourceStatusReason", x);
                    }
                    w.open("DriftInformation").elem("StackResourceDriftStatus", "NOT_CHECKED").close("DriftInformation");
                    w.close("member");
                }
                w.close(if list { "StackResourceSummaries" } else { "StackResources" });
            })
        }
        "ListStacks" => {
            let filter = members(p, "StackStatusFilter");
            let stacks: Vec<Stack> = cfn.all().into_iter().rev().filter(|s| filter.is_empty() || filter.contains(&s.status)).collect();
            ok(&|w| {
                w.open("StackSummaries");
                for s in &stacks {
                    w.open("member").elem("StackId", &s.id).elem("StackName", &s.name);
                    if let Some(d) = &s.description {
                        w.elem("TemplateDescription", d);
                    }
                    times_and_status(w, s);
                    w.open("DriftInformation").elem("StackDriftStatus", "NOT_CHECKED").close("DriftInformation");
                    w.close("member");
                }
                w.close("StackSummaries");
            })
        }
        "GetTemplate" => {
            let body = match p.get("ChangeSetName") {
                Some(cs) => cfn.change_set(cs, p.get("StackName").map(String::as_str))?.1.template,
                None => cfn.stack(need(p, "StackName")?)?.template,
            };
            ok(&|w| {
                w.elem("TemplateBody", &body).open("StagesAvailable").elem("member", "Original").elem("member", "Processed").close("StagesAvailable");
            })
        }
        "ValidateTemplate" | "GetTemplateSummary" => {
            let mut input = stack_input(p);
            if input.template.is_none() && input.template_url.is_none() && !input.name.is_empty() {
                input.template = Some(cfn.stack(&input.name)?.template);
            }
            let (t, cap) = cfn.validate_template(&api()?, &input).await?;
            let decls = super::template::parameter_decls(&t);
            let summary = action == "GetTemplateSummary";
            let types: Vec<String> = t.get("Resources").and_then(|r| r.as_object()).map(|m| m.values().filter_map(|r| r.get("Type").and_then(|x| x.as_str()).map(str::to_string)).collect()).unwrap_or_default();
            ok(&|w| {
                w.open("Parameters");
                for d in &decls {
                    w.open("member").elem("ParameterKey", &d.name);
                    if let Some(v) = &d.default {
                        w.elem("DefaultValue", v);
                    }
                    w.elem("NoEcho", if d.no_echo { "true" } else { "false" });
                    if let Some(x) = &d.description {
                        w.elem("Description", x);
                    }
                    if summary {
                        w.elem("ParameterType", &d.ty);
                    }
                    w.close("member");
                }
                w.close("Parameters");
                if let Some(d) = t.get("Description").and_then(|d| d.as_str()) {
                    w.elem("Description", d);
                }
                w.open("Capabilities");
                if let Some(c) = cap {
                    w.elem("member", c);
                }
                w.close("Capabilities");
                if cap.is_some() {
                    w.elem("CapabilitiesReason", "The following resource(s) require capabilities: [AWS::IAM::Role]");
                }
                if summary {
                    w.open("ResourceTypes");
                    for ty in &types {
                        w.elem("member", ty);
                    }
                    w.close("ResourceTypes");
                }
                w.open("DeclaredTransforms").close("DeclaredTransforms");
            })
        }
        "ListExports" => {
            let exports = cfn.exports();
            ok(&|w| {
                w.open("Exports");
                for (stack, name, value) in &exports {
                    w.open("member").elem("ExportingStackId", stack).elem("Name", name).elem("Value", value).close("member");
                }
                w.close("Exports");
            })
        }
        "CreateChangeSet" => {
            let kind = p.get("ChangeSetType").map(String::as_str).unwrap_or("UPDATE");
            if !matches!(kind, "CREATE" | "UPDATE") {
                return Err(CfnError::Validation(format!("ChangeSetType {kind} is not supported by firelocal's CloudFormation (CREATE and UPDATE are)")));
            }
            need(p, "StackName")?;
            let (id, stack) = cfn.create_change_set(&api()?, stack_input(p), need(p, "ChangeSetName")?, kind).await?;
            ok(&|w| {
                w.elem("Id", &id).elem("StackId", &stack);
            })
        }
        "DescribeChangeSet" => {
            let (s, cs) = cfn.change_set(need(p, "ChangeSetName")?, p.get("StackName").map(String::as_str))?;
            ok(&|w| {
                w.elem("ChangeSetName", &cs.name).elem("ChangeSetId", &cs.id).elem("StackId", &s.id).elem("StackName", &s.name);
                if let Some(d) = &cs.description {
                    w.elem("Description", d);
                }
                parameters_xml(w, &cs.params, &s.no_echo);
                w.elem("CreationTime", &ts(cs.created_ms)).elem("ExecutionStatus", &cs.execution_status).elem("Status", &cs.status);
                if let Some(r) = &cs.reason {
                    w.elem("StatusReason", r);
                }
                w.open("NotificationARNs").close("NotificationARNs");
                w.open("Capabilities");
                for c in &cs.capabilities {
                    w.elem("member", c);
                }
                w.close("Capabilities");
                tags_xml(w, &cs.tags);
                w.open("Changes");
                for c in &cs.changes {
                    w.open("member").elem("Type", "Resource").open("ResourceChange").elem("Action", &c.action).elem("LogicalResourceId", &c.logical_id);
                    if let Some(ph) = &c.physical_id {
                        w.elem("PhysicalResourceId", ph);
                    }
                    w.elem("ResourceType", &c.ty);
                    if let Some(r) = &c.replacement {
                        w.elem("Replacement", r);
                        w.open("Scope").elem("member", "Properties").close("Scope");
                    }
                    w.open("Details").close("Details");
                    w.close("ResourceChange").close("member");
                }
                w.close("Changes");
                w.elem("IncludeNestedStacks", "false");
            })
        }
        "ExecuteChangeSet" => {
            let disable = p.get("DisableRollback").is_some_and(|v| v == "true");
            cfn.execute_change_set(&api()?, need(p, "ChangeSetName")?, p.get("StackName").map(String::as_str), p.get("ClientRequestToken").cloned(), disable).await?;
            ok(&|_| {})
        }
        "DeleteChangeSet" => {
            cfn.delete_change_set(need(p, "ChangeSetName")?, p.get("StackName").map(String::as_str))?;
            ok(&|_| {})
        }
        "ListChangeSets" => {
            let s = cfn.stack(need(p, "StackName")?)?;
            ok(&|w| {
                w.open("Summaries");
                for cs in &s.change_sets {
                    w.open("member").elem("StackId", &s.id).elem("StackName", &s.name).elem("ChangeSetId", &cs.id).elem("ChangeSetName", &cs.name);
                    w.elem("ExecutionStatus", &cs.execution_status).elem("Status", &cs.status);
                    if let Some(r) = &cs.reason {
                        w.elem("StatusReason", r);
                    }
                    w.elem("CreationTime", &ts(cs.created_ms));
                    if let Some(d) = &cs.description {
                        w.elem("Description", d);
                    }
                    w.close("member");
                }
                w.close("Summaries");
            })
        }
        _ => return Err(CfnError::Validation(format!("unsupported action {action}"))),
    })
}
