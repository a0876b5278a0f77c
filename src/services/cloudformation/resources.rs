//! Resource providers: how each resource type is created, updated and deleted through its
//! service's own API (see `api`), what `Ref` returns and which `Fn::GetAtt` attributes it has,
//! and which property changes replace the resource. A type firelocal does not create fails with
//! a reason naming it.

use std::io::Write;

use base64::Engine;
use http::Method;
use serde_json::{Map, Value, json};

use super::api::{Api, Failure};
use crate::protocol::url_encode;
use crate::services::iam::ops::ACCOUNT;

/// What a provider needs beyond the properties.
pub struct Ctx<'a> {
    pub api: &'a Api,
    pub stack_name: &'a str,
    pub logical_id: &'a str,
    pub region: &'a str,
}

/// A created (or updated) resource: its physical id (what `Ref` returns) and attributes.
#[derive(Debug, Clone, Default)]
pub struct Created {
    pub physical_id: String,
    pub attrs: Map<String, Value>,
}

/// The resource types firelocal creates.
pub const TYPES: &[&str] = &[
    "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Function",
    "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Logs::LogGroup", "AWS::KinesisFirehose::DeliveryStream",
    "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage",
    "AWS::Glue::Database", "AWS::Glue::Table", "AWS::Glue::Partition", "AWS::Athena::WorkGroup", "AWS::Athena::NamedQuery",
    "AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet", "AWS::QuickSight::Dashboard",
];

/// The capability an IAM resource needs: `CAPABILITY_NAMED_IAM` when it names itself.
pub fn capability(ty: &str, props: &Value) -> Option<&'static str> {
    if !ty.starts_with("AWS::IAM::") {
        return None;
    }
    let named = ["RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName"].iter().any(|k| props.get(*k).is_some());
    Some(if named { "CAPABILITY_NAMED_IAM" } else { "CAPABILITY_IAM" })
}

/// The properties whose change replaces a resource (its create-only properties).
fn create_only(ty: &str) -> &'static [&'static str] {
    match ty {
        "AWS::S3::Bucket" => &["BucketName"],
        "AWS::S3::BucketPolicy" => &["Bucket"],
        "AWS::IAM::Role" => &["RoleName", "Path"],
        "AWS::IAM::ManagedPolicy" => &["ManagedPolicyName", "Path", "Description"],
        "AWS::Lambda::Function" => &["FunctionName", "PackageType"],
        "AWS::Lambda::Permission" => &["FunctionName", "Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken"],
        "AWS::Lambda::Version" => &["FunctionName", "CodeSha256", "Description"],
        "AWS::Lambda::Alias" => &["FunctionName", "Name"],
        "AWS::Logs::LogGroup" => &["LogGroupName"],
        "AWS::KinesisFirehose::DeliveryStream" => &["DeliveryStreamName", "DeliveryStreamType", "KinesisStreamSourceConfiguration", "S3DestinationConfiguration"],
        "AWS::ApiGateway::RestApi" => &[],
        "AWS::ApiGateway::Resource" => &["RestApiId", "ParentId", "PathPart"],
        "AWS::ApiGateway::Method" => &["RestApiId", "ResourceId", "HttpMethod"],
        "AWS::ApiGateway::Deployment" => &["RestApiId", "StageName", "StageDescription", "Description"],
        "AWS::ApiGateway::Stage" => &["RestApiId", "StageName"],
        "AWS::Glue::Database" => &["CatalogId", "DatabaseName"],
        "AWS::Glue::Table" => &["CatalogId", "DatabaseName"],
        "AWS::Glue::Partition" => &["CatalogId", "DatabaseName", "TableName"],
        "AWS::Athena::WorkGroup" => &["Name"],
        "AWS::Athena::NamedQuery" => &["Name", "Database", "QueryString", "Description", "WorkGroup"],
        "AWS::QuickSight::DataSource" => &["AwsAccountId", "DataSourceId", "Type"],
        "AWS::QuickSight::DataSet" => &["AwsAccountId", "DataSetId"],
        "AWS::QuickSight::Dashboard" => &["AwsAccountId", "DashboardId"],
        _ => &[],
    }
}

/// Whether changing `old` to `new` replaces the resource (`true`) or updates it in place.
pub fn replaces(ty: &str, old: &Value, new: &Value) -> bool {
    let mut keys = create_only(ty).to_vec();
    // Table and partition names live inside their inputs.
    let nested: Vec<(&str, &str)> = match ty {
        "AWS::Glue::Table" => vec![("TableInput", "Name")],
        "AWS::Glue::Database" => vec![("DatabaseInput", "Name")],
        _ => vec![],
    };
    if ty == "AWS::ApiGateway::Method" {
        keys.push("HttpMethod");
    }
    keys.iter().any(|k| old.get(*k) != new.get(*k)) || nested.iter().any(|(a, b)| old.get(*a).and_then(|x| x.get(*b)) != new.get(*a).and_then(|x| x.get(*b)))
}

fn s(props: &Value, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(x) => Some(x.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn need(props: &Value, key: &str, ty: &str) -> Result<String, String> {
    s(props, key).ok_or_else(|| format!("Properties validation failed for resource type {ty}: #: required key [{key}] not found"))
}

fn fail(f: Failure) -> String {
    f.to_string()
}

/// A physical name as CloudFormation makes one: `<stack>-<logical id>-<random>`, within `max`.
pub fn generated_name(stack: &str, logical: &str, max: usize, lowercase: bool) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let suffix: String = uuid::Uuid::new_v4().as_bytes().iter().take(12).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    let room = max.saturating_sub(suffix.len() + 2);
    let stack_part: String = stack.chars().take(room.div_ceil(2).max(room.saturating_sub(logical.len()))).collect();
    let logical_part: String = logical.chars().take(room.saturating_sub(stack_part.len())).collect();
    let name = format!("{stack_part}-{logical_part}-{suffix}");
    if lowercase { name.to_lowercase() } else { name }
}

fn tags_map(props: &Value) -> Option<Value> {
    let tags = props.get("Tags")?.as_array()?;
    Some(Value::Object(tags.iter().filter_map(|t| Some((t.get("Key")?.as_str()?.to_string(), t.get("Value").cloned().unwrap_or(json!(""))))).collect()))
}

fn object(props: &Value, drop: &[&str]) -> Map<String, Value> {
    let mut m = props.as_object().cloned().unwrap_or_default();
    for k in drop {
        m.remove(*k);
    }
    m
}

/// Creates a resource.
pub async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let region = ctx.region;
    let attrs = |pairs: Vec<(&str, Value)>| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<String, Value>>();
    match ty {
        "AWS::S3::Bucket" => {
            if let Some(k) = props.as_object().and_then(|o| o.keys().find(|k| k.as_str() != "BucketName" && !super::s3_bucket::PROPERTIES.contains(&k.as_str()))) {
                return Err(format!("firelocal's S3 does not support the bucket property {k} yet"));
            }
            let name = s(props, "BucketName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 63, true));
            let body = if region == "us-east-1" {
                bytes::Bytes::new()
            } else {
                bytes::Bytes::from(format!("<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"))
            };
            let mut headers = Vec::new();
            if let Some(o) = props.pointer("/OwnershipControls/Rules/0/ObjectOwnership").and_then(Value::as_str) {
                headers.push(("x-amz-object-ownership", o));
            }
            api.s3_with(Method::PUT, &format!("/{}", url_encode(&name)), &[], &headers, body).await.map_err(fail)?;
            if let Err(e) = super::s3_bucket::apply(api, &name, &Value::Null, props).await {
                let _ = api.s3(Method::DELETE, &format!("/{}", url_encode(&name)), &[], bytes::Bytes::new()).await;
                return Err(e);
            }
            Ok(Created {
                attrs: attrs(vec![
                    ("Arn", json!(format!("arn:aws:s3:::{name}"))),
                    ("DomainName", json!(format!("{name}.s3.amazonaws.com"))),
                    ("RegionalDomainName", json!(format!("{name}.s3.{region}.amazonaws.com"))),
                    ("DualStackDomainName", json!(format!("{name}.s3.dualstack.{region}.amazonaws.com"))),
                    ("WebsiteURL", json!(format!("http://{name}.s3-website-{region}.amazonaws.com"))),
                ]),
                physical_id: name,
            })
        }
        "AWS::S3::BucketPolicy" => {
            let bucket = need(props, "Bucket", ty)?;
            let doc = props.get("PolicyDocument").map(|d| d.to_string()).unwrap_or_default();
            api.s3(Method::PUT, &format!("/{}", url_encode(&bucket)), &[("policy", "")], bytes::Bytes::from(doc)).await.map_err(fail)?;
            Ok(Created { physical_id: bucket, attrs: Map::new() })
        }
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
        "AWS::Lambda::Function" => {
            let name = s(props, "FunctionName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 64, false));
            let mut body = object(props, &["Code", "Tags", "FunctionName"]);
            body.insert("FunctionName".into(), json!(name));
            body.insert("Code".into(), lambda_code(props)?);
            if let Some(t) = tags_map(props) {
                body.insert("Tags".into(), t);
            }
            let out = api.rest("lambda", Method::POST, "/2015-03-31/functions", &[], Some(&Value::Object(body))).await.map_err(fail)?;
            Ok(Created { attrs: attrs(vec![("Arn", out.get("FunctionArn").cloned().unwrap_or_default())]), physical_id: name })
        }
        "AWS::Lambda::Permission" => {
            let function = need(props, "FunctionName", ty)?;
            let sid = generated_name(ctx.stack_name, ctx.logical_id, 100, false);
            let mut body = object(props, &["FunctionName"]);
            body.insert("StatementId".into(), json!(sid));
            api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/policy", url_encode(&function)), &[], Some(&Value::Object(body))).await.map_err(fail)?;
            Ok(Created { physical_id: sid, attrs: Map::new() })
        }
        "AWS::Lambda::Version" => {
            let function = need(props, "FunctionName", ty)?;
            let out = api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/versions", url_encode(&function)), &[], Some(&Value::Object(object(props, &["FunctionName"])))).await.map_err(fail)?;
            let arn = out.get("FunctionArn").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("Version", out.get("Version").cloned().unwrap_or_default()), ("FunctionArn", json!(arn))]), physical_id: arn })
        }
        "AWS::Lambda::Alias" => {
            let function = need(props, "FunctionName", ty)?;
            let out = api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/aliases", url_encode(&function)), &[], Some(&Value::Object(object(props, &["FunctionName"])))).await.map_err(fail)?;
            let arn = out.get("AliasArn").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("AliasArn", json!(arn))]), physical_id: arn })
        }
        "AWS::Logs::LogGroup" => {
            let name = s(props, "LogGroupName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 512, false));
            api.json("logs", "Logs_20140328.CreateLogGroup", &json!({ "logGroupName": name })).await.map_err(fail)?;
            if let Some(days) = props.get("RetentionInDays") {
                let days: i64 = super::template::scalar(days).parse().unwrap_or(0);
                api.json("logs", "Logs_20140328.PutRetentionPolicy", &json!({ "logGroupName": name, "retentionInDays": days })).await.map_err(fail)?;
            }
            Ok(Created { attrs: attrs(vec![("Arn", json!(format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:*")))]), physical_id: name })
        }
        "AWS::KinesisFirehose::DeliveryStream" => {
            let name = s(props, "DeliveryStreamName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 64, false));
            let mut body = object(props, &[]);
            body.insert("DeliveryStreamName".into(), json!(name));
            api.json("firehose", "Firehose_20150804.CreateDeliveryStream", &Value::Object(body)).await.map_err(fail)?;
            Ok(Created { attrs: attrs(vec![("Arn", json!(format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{name}")))]), physical_id: name })
        }
        "AWS::ApiGateway::RestApi" => {
            let out = match rest_api_body(api, props).await? {
                Some(doc) => {
                    let mut q = vec![("mode", "import")];
                    if props.get("FailOnWarnings") == Some(&json!(true)) {
                        q.push(("failonwarnings", "true"));
                    }
                    api.rest("apigateway", Method::POST, "/restapis", &q, Some(&doc)).await.map_err(fail)?
                }
                None => {
                    let body = strip_nulls(json!({ "name": need(props, "Name", ty)?, "description": props.get("Description"), "binaryMediaTypes": props.get("BinaryMediaTypes") }));
                    api.rest("apigateway", Method::POST, "/restapis", &[], Some(&body)).await.map_err(fail)?
                }
            };
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("RootResourceId", out.get("rootResourceId").cloned().unwrap_or_default()), ("RestApiId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Resource" => {
            let (rest, parent) = (need(props, "RestApiId", ty)?, need(props, "ParentId", ty)?);
            let out = api
                .rest("apigateway", Method::POST, &format!("/restapis/{rest}/resources/{parent}"), &[], Some(&json!({ "pathPart": need(props, "PathPart", ty)? })))
                .await
                .map_err(fail)?;
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("ResourceId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Method" => {
            put_method(api, props, ty).await?;
            let id = format!("{}-{}-{}", need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
            Ok(Created { physical_id: id, attrs: Map::new() })
        }
        "AWS::ApiGateway::Deployment" => {
            let rest = need(props, "RestApiId", ty)?;
            let stage = props.get("StageDescription");
            let body = json!({
                "stageName": props.get("StageName"),
                "description": props.get("Description"),
                "variables": stage.and_then(|s| s.get("Variables")),
                "stageDescription": stage.and_then(|s| s.get("Description")),
            });
            let out = api.rest("apigateway", Method::POST, &format!("/restapis/{rest}/deployments"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("DeploymentId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(props, "RestApiId", ty)?;
            let name = need(props, "StageName", ty)?;
            let body = json!({ "stageName": name, "deploymentId": props.get("DeploymentId"), "description": props.get("Description"), "variables": props.get("Variables") });
            api.rest("apigateway", Method::POST, &format!("/restapis/{rest}/stages"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        "AWS::Glue::Database" => {
            let input = props.get("DatabaseInput").cloned().unwrap_or_default();
            let name = input.get("Name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 255, true));
            let mut input = input;
            input["Name"] = json!(name);
            api.json("glue", "AWSGlue.CreateDatabase", &json!({ "DatabaseInput": input })).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        "AWS::Glue::Table" => {
            let db = need(props, "DatabaseName", ty)?;
            let mut input = props.get("TableInput").cloned().unwrap_or_default();
            let name = input.get("Name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 255, true));
            input["Name"] = json!(name);
            api.json("glue", "AWSGlue.CreateTable", &json!({ "DatabaseName": db, "TableInput": input })).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        "AWS::Glue::Partition" => {
            let body = json!({ "DatabaseName": need(props, "DatabaseName", ty)?, "TableName": need(props, "TableName", ty)?, "PartitionInput": props.get("PartitionInput") });
            api.json("glue", "AWSGlue.CreatePartition", &strip_nulls(body)).await.map_err(fail)?;
            let values: Vec<String> = props.pointer("/PartitionInput/Values").and_then(Value::as_array).map(|a| a.iter().map(super::template::scalar).collect()).unwrap_or_default();
            Ok(Created { physical_id: values.join("|"), attrs: Map::new() })
        }
        "AWS::Athena::WorkGroup" => {
            let name = need(props, "Name", ty)?;
            let body = json!({ "Name": name, "Description": props.get("Description"), "Configuration": props.get("WorkGroupConfiguration"), "Tags": props.get("Tags") });
            api.json("athena", "AmazonAthena.CreateWorkGroup", &strip_nulls(body)).await.map_err(fail)?;
            if s(props, "State").as_deref() == Some("DISABLED") {
                api.json("athena", "AmazonAthena.UpdateWorkGroup", &json!({ "WorkGroup": name, "State": "DISABLED" })).await.map_err(fail)?;
            }
            Ok(Created { attrs: attrs(vec![("CreationTime", json!(crate::protocol::time::now_millis() / 1000))]), physical_id: name })
        }
        "AWS::Athena::NamedQuery" => {
            let body = json!({
                "Name": s(props, "Name").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 128, false)),
                "Database": need(props, "Database", ty)?, "QueryString": need(props, "QueryString", ty)?,
                "Description": props.get("Description"), "WorkGroup": props.get("WorkGroup"),
            });
            let out = api.json("athena", "AmazonAthena.CreateNamedQuery", &strip_nulls(body)).await.map_err(fail)?;
            let id = out.get("NamedQueryId").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("NamedQueryId", json!(id))]), physical_id: id })
        }
        "AWS::QuickSight::DataSource" | "AWS::QuickSight::DataSet" | "AWS::QuickSight::Dashboard" => {
            let (kind, id_key) = quicksight_kind(ty);
            let account = s(props, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
            let id = need(props, id_key, ty)?;
            let body = Value::Object(object(props, &["AwsAccountId", "Permissions", "Tags"]));
            let path = if kind == "dashboards" { format!("/accounts/{account}/{kind}/{}", url_encode(&id)) } else { format!("/accounts/{account}/{kind}") };
            let out = api.rest("quicksight", Method::POST, &path, &[], Some(&body)).await.map_err(fail)?;
            if out.get("CreationStatus").and_then(Value::as_str) == Some("CREATION_FAILED") {
                return Err(format!("{ty} {id} failed to create (CREATION_FAILED)"));
            }
            let arn = out.get("Arn").cloned().unwrap_or_default();
            Ok(Created { physical_id: id, attrs: attrs(vec![("Arn", arn)]) })
        }
        other => Err(format!("firelocal's CloudFormation does not create resources of type {other} yet")),
    }
}

/// The QuickSight API path segment and id property of a QuickSight resource type.
fn quicksight_kind(ty: &str) -> (&'static str, &'static str) {
    match ty {
        "AWS::QuickSight::DataSource" => ("data-sources", "DataSourceId"),
        "AWS::QuickSight::DataSet" => ("data-sets", "DataSetId"),
        _ => ("dashboards", "DashboardId"),
    }
}

/// Updates a resource in place (the change does not replace it). Returns its new attributes.
pub async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    let mut out = current.clone();
    match ty {
        "AWS::S3::Bucket" | "AWS::S3::BucketPolicy" => {
            if ty == "AWS::S3::BucketPolicy" {
                return create(ctx, ty, new).await;
            }
            if let Some(k) = new.as_object().and_then(|o| o.keys().find(|k| k.as_str() != "BucketName" && !super::s3_bucket::PROPERTIES.contains(&k.as_str()))) {
                return Err(format!("firelocal's S3 does not support the bucket property {k} yet"));
            }
            super::s3_bucket::apply(api, id, old, new).await?;
        }
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
        "AWS::Lambda::Function" => {
            let path = format!("/2015-03-31/functions/{}", url_encode(id));
            if old.get("Code") != new.get("Code") {
                let mut code = lambda_code(new)?.as_object().cloned().unwrap_or_default();
                if let Some(z) = code.remove("ZipFile") {
                    code.insert("ZipFile".into(), z);
                }
                api.rest("lambda", Method::PUT, &format!("{path}/code"), &[], Some(&Value::Object(code))).await.map_err(fail)?;
            }
            let config = object(new, &["Code", "Tags", "FunctionName", "PackageType"]);
            let old_config = object(old, &["Code", "Tags", "FunctionName", "PackageType"]);
            if config != old_config {
                let out_cfg = api.rest("lambda", Method::PUT, &format!("{path}/configuration"), &[], Some(&Value::Object(config))).await.map_err(fail)?;
                out.attrs.insert("Arn".into(), out_cfg.get("FunctionArn").cloned().unwrap_or_default());
            }
        }
        "AWS::Lambda::Alias" => {
            let f = need(new, "FunctionName", ty)?;
            let alias = need(new, "Name", ty)?;
            let mut body = object(new, &["FunctionName", "Name"]);
            if !body.contains_key("RoutingConfig") {
                body.insert("RoutingConfig".into(), json!({ "AdditionalVersionWeights": {} }));
            }
            api.rest("lambda", Method::PUT, &format!("/2015-03-31/functions/{}/aliases/{}", url_encode(&f), url_encode(&alias)), &[], Some(&Value::Object(body))).await.map_err(fail)?;
        }
        "AWS::Logs::LogGroup" => {
            if old.get("RetentionInDays") != new.get("RetentionInDays") {
                match new.get("RetentionInDays") {
                    Some(days) => {
                        let days: i64 = super::template::scalar(days).parse().unwrap_or(0);
                        api.json("logs", "Logs_20140328.PutRetentionPolicy", &json!({ "logGroupName": id, "retentionInDays": days })).await.map_err(fail)?;
                    }
                    None => {
                        api.json("logs", "Logs_20140328.DeleteRetentionPolicy", &json!({ "logGroupName": id })).await.map_err(fail)?;
                    }
                }
            }
        }
        "AWS::KinesisFirehose::DeliveryStream" => {
            let d = api.json("firehose", "Firehose_20150804.DescribeDeliveryStream", &json!({ "DeliveryStreamName": id })).await.map_err(fail)?;
            let desc = d.get("DeliveryStreamDescription").cloned().unwrap_or_default();
            let mut body = json!({
                "DeliveryStreamName": id,
                "CurrentDeliveryStreamVersionId": desc.get("VersionId"),
                "DestinationId": desc.pointer("/Destinations/0/DestinationId"),
            });
            if let Some(cfg) = new.get("ExtendedS3DestinationConfiguration") {
                body["ExtendedS3DestinationUpdate"] = cfg.clone();
            }
            api.json("firehose", "Firehose_20150804.UpdateDestination", &body).await.map_err(fail)?;
        }
        "AWS::ApiGateway::RestApi" => {
            match rest_api_body(api, new).await? {
                Some(doc) => {
                    api.rest("apigateway", Method::PUT, &format!("/restapis/{id}"), &[("mode", "overwrite")], Some(&doc)).await.map_err(fail)?;
                }
                None => {
                    let ops: Vec<Value> = [("Name", "/name"), ("Description", "/description")]
                        .iter()
                        .filter(|(k, _)| old.get(*k) != new.get(*k))
                        .map(|(k, p)| json!({ "op": "replace", "path": p, "value": s(new, k).unwrap_or_default() }))
                        .collect();
                    if !ops.is_empty() {
                        api.rest("apigateway", Method::PATCH, &format!("/restapis/{id}"), &[], Some(&json!({ "patchOperations": ops }))).await.map_err(fail)?;
                    }
                }
            }
        }
        "AWS::ApiGateway::Method" => {
            let (rest, resource, m) = (need(new, "RestApiId", ty)?, need(new, "ResourceId", ty)?, need(new, "HttpMethod", ty)?.to_uppercase());
            api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{resource}/methods/{m}"), &[], None).await.map_err(fail)?;
            put_method(api, new, ty).await?;
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(new, "RestApiId", ty)?;
            let mut ops = Vec::new();
            for (k, p) in [("DeploymentId", "/deploymentId"), ("Description", "/description")] {
                if old.get(k) != new.get(k) {
                    ops.push(json!({ "op": "replace", "path": p, "value": s(new, k).unwrap_or_default() }));
                }
            }
            let vars = |v: &Value| v.get("Variables").and_then(Value::as_object).cloned().unwrap_or_default();
            let (ov, nv) = (vars(old), vars(new));
            for (k, v) in &nv {
                if ov.get(k) != Some(v) {
                    ops.push(json!({ "op": "replace", "path": format!("/variables/{k}"), "value": super::template::scalar(v) }));
                }
            }
            for k in ov.keys().filter(|k| !nv.contains_key(*k)) {
                ops.push(json!({ "op": "remove", "path": format!("/variables/{k}") }));
            }
            if !ops.is_empty() {
                api.rest("apigateway", Method::PATCH, &format!("/restapis/{rest}/stages/{id}"), &[], Some(&json!({ "patchOperations": ops }))).await.map_err(fail)?;
            }
        }
        "AWS::Glue::Database" => {
            let mut input = new.get("DatabaseInput").cloned().unwrap_or_default();
            input["Name"] = json!(id);
            api.json("glue", "AWSGlue.UpdateDatabase", &json!({ "Name": id, "DatabaseInput": input })).await.map_err(fail)?;
        }
        "AWS::Glue::Table" => {
            let mut input = new.get("TableInput").cloned().unwrap_or_default();
            input["Name"] = json!(id);
            api.json("glue", "AWSGlue.UpdateTable", &json!({ "DatabaseName": new.get("DatabaseName"), "TableInput": input })).await.map_err(fail)?;
        }
        "AWS::Athena::WorkGroup" => {
            let mut body = json!({ "WorkGroup": id, "Description": new.get("Description"), "State": new.get("State") });
            if let Some(cfg) = new.get("WorkGroupConfiguration").and_then(Value::as_object) {
                let mut updates = cfg.clone();
                if let Some(rc) = updates.remove("ResultConfiguration") {
                    updates.insert("ResultConfigurationUpdates".into(), rc);
                }
                body["ConfigurationUpdates"] = Value::Object(updates);
            }
            api.json("athena", "AmazonAthena.UpdateWorkGroup", &strip_nulls(body)).await.map_err(fail)?;
        }
        "AWS::QuickSight::DataSource" | "AWS::QuickSight::DataSet" | "AWS::QuickSight::Dashboard" => {
            let (kind, _) = quicksight_kind(ty);
            let account = s(new, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
            let body = Value::Object(object(new, &["AwsAccountId", "Permissions", "Tags", "DataSourceId", "DataSetId", "DashboardId"]));
            api.rest("quicksight", Method::PUT, &format!("/accounts/{account}/{kind}/{}", url_encode(id)), &[], Some(&body)).await.map_err(fail)?;
            if kind == "dashboards" {
                let versions = api.rest("quicksight", Method::GET, &format!("/accounts/{account}/dashboards/{}/versions", url_encode(id)), &[], None).await.map_err(fail)?;
                let latest = versions.get("DashboardVersionSummaryList").and_then(Value::as_array).and_then(|v| v.last()).and_then(|v| v.get("VersionNumber")).and_then(Value::as_u64).unwrap_or(1);
                api.rest("quicksight", Method::PUT, &format!("/accounts/{account}/dashboards/{}/versions/{latest}", url_encode(id)), &[], None).await.map_err(fail)?;
            }
        }
        _ => {
            // Everything else is replaced on any change (see `replaces`), so an in-place update
            // only happens when nothing the service keeps has changed.
        }
    }
    Ok(out)
}

/// Deletes a resource.
pub async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    let gone = |r: Result<(), Failure>| match r {
        Err(f) if handler_not_found(&f) => Ok(()),
        other => other.map_err(fail),
    };
    match ty {
        "AWS::S3::Bucket" => gone(api.s3(Method::DELETE, &format!("/{}", url_encode(id)), &[], bytes::Bytes::new()).await.map(|_| ())),
        "AWS::S3::BucketPolicy" => gone(api.s3(Method::DELETE, &format!("/{}", url_encode(id)), &[("policy", "")], bytes::Bytes::new()).await.map(|_| ())),
        "AWS::IAM::Role" => {
            role_policies(api, id, props, &Value::Null).await?;
            gone(api.query("iam", "DeleteRole", &[("RoleName", id.to_string())]).await.map(|_| ()))
        }
        "AWS::IAM::Policy" => put_inline(api, props, false).await,
        "AWS::IAM::ManagedPolicy" => {
            attach_managed(api, id, props, &Value::Null).await?;
            gone(api.query("iam", "DeletePolicy", &[("PolicyArn", id.to_string())]).await.map(|_| ()))
        }
        "AWS::Lambda::Function" => gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}", url_encode(id)), &[], None).await.map(|_| ())),
        "AWS::Lambda::Permission" => {
            let f = need(props, "FunctionName", ty)?;
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}/policy/{}", url_encode(&f), url_encode(id)), &[], None).await.map(|_| ()))
        }
        "AWS::Lambda::Version" => {
            let (f, v) = id.rsplit_once(':').unwrap_or((id, ""));
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}", url_encode(f)), &[("Qualifier", v)], None).await.map(|_| ()))
        }
        "AWS::Lambda::Alias" => {
            let f = need(props, "FunctionName", ty)?;
            let alias = need(props, "Name", ty)?;
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}/aliases/{}", url_encode(&f), url_encode(&alias)), &[], None).await.map(|_| ()))
        }
        "AWS::Logs::LogGroup" => gone(api.json("logs", "Logs_20140328.DeleteLogGroup", &json!({ "logGroupName": id })).await.map(|_| ())),
        "AWS::KinesisFirehose::DeliveryStream" => gone(api.json("firehose", "Firehose_20150804.DeleteDeliveryStream", &json!({ "DeliveryStreamName": id })).await.map(|_| ())),
        "AWS::ApiGateway::RestApi" => gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{id}"), &[], None).await.map(|_| ())),
        "AWS::ApiGateway::Resource" => {
            let rest = need(props, "RestApiId", ty)?;
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{id}"), &[], None).await.map(|_| ()))
        }
        "AWS::ApiGateway::Method" => {
            let (rest, resource, m) = (need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{resource}/methods/{m}"), &[], None).await.map(|_| ()))
        }
        "AWS::ApiGateway::Deployment" => {
            let rest = need(props, "RestApiId", ty)?;
            if let Some(stage) = s(props, "StageName") {
                gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/stages/{stage}"), &[], None).await.map(|_| ()))?;
            }
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/deployments/{id}"), &[], None).await.map(|_| ()))
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(props, "RestApiId", ty)?;
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/stages/{id}"), &[], None).await.map(|_| ()))
        }
        "AWS::Glue::Database" => gone(api.json("glue", "AWSGlue.DeleteDatabase", &json!({ "Name": id })).await.map(|_| ())),
        "AWS::Glue::Table" => gone(api.json("glue", "AWSGlue.DeleteTable", &json!({ "DatabaseName": props.get("DatabaseName"), "Name": id })).await.map(|_| ())),
        "AWS::Glue::Partition" => {
            let body = json!({ "DatabaseName": props.get("DatabaseName"), "TableName": props.get("TableName"), "PartitionValues": props.pointer("/PartitionInput/Values") });
            gone(api.json("glue", "AWSGlue.DeletePartition", &body).await.map(|_| ()))
        }
        "AWS::Athena::WorkGroup" => gone(api.json("athena", "AmazonAthena.DeleteWorkGroup", &json!({ "WorkGroup": id, "RecursiveDeleteOption": true })).await.map(|_| ())),
        "AWS::Athena::NamedQuery" => gone(api.json("athena", "AmazonAthena.DeleteNamedQuery", &json!({ "NamedQueryId": id })).await.map(|_| ())),
        "AWS::QuickSight::DataSource" | "AWS::QuickSight::DataSet" | "AWS::QuickSight::Dashboard" => {
            let (kind, _) = quicksight_kind(ty);
            let account = s(props, "AwsAccountId").unwrap_or_else(|| ACCOUNT.to_string());
            gone(api.rest("quicksight", Method::DELETE, &format!("/accounts/{account}/{kind}/{}", url_encode(id)), &[], None).await.map(|_| ()))
        }
        _ => Ok(()),
    }
}

/// A delete that finds the resource already gone succeeds, as CloudFormation treats it.
fn handler_not_found(f: &Failure) -> bool {
    f.code.contains("NotFound") || f.code.starts_with("NoSuch") || f.code == "EntityNotFoundException"
}

/// A policy document property as IAM takes it (JSON text).
fn doc_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Lambda's `Code` from the template's: inline `ZipFile` source becomes `index.py` / `index.js`
/// in a zip, as CloudFormation packages it.
fn lambda_code(props: &Value) -> Result<Value, String> {
    let code = props.get("Code").cloned().unwrap_or_default();
    let Some(source) = code.get("ZipFile").and_then(Value::as_str) else {
        let mut c = code.as_object().cloned().unwrap_or_default();
        c.retain(|k, _| matches!(k.as_str(), "S3Bucket" | "S3Key" | "S3ObjectVersion" | "ImageUri"));
        return Ok(Value::Object(c));
    };
    let runtime = s(props, "Runtime").unwrap_or_default();
    let file = if runtime.starts_with("nodejs") { "index.js" } else { "index.py" };
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
        z.start_file(file, opts).map_err(|e| format!("cannot package inline code: {e}"))?;
        z.write_all(source.as_bytes()).map_err(|e| format!("cannot package inline code: {e}"))?;
        z.finish().map_err(|e| format!("cannot package inline code: {e}"))?;
    }
    Ok(json!({ "ZipFile": base64::engine::general_purpose::STANDARD.encode(buf.into_inner()) }))
}

/// Applies a role's inline `Policies` and `ManagedPolicyArns`, going from `old` to `new`
/// (`Null` for none).
async fn role_policies(api: &Api, role: &str, old: &Value, new: &Value) -> Result<(), String> {
    let inline = |v: &Value| -> Vec<(String, String)> {
        v.get("Policies").and_then(Value::as_array).map(|a| a.iter().filter_map(|p| Some((s(p, "PolicyName")?, p.get("PolicyDocument").map(doc_string)?))).collect()).unwrap_or_default()
    };
    let managed = |v: &Value| -> Vec<String> { v.get("ManagedPolicyArns").and_then(Value::as_array).map(|a| a.iter().map(super::template::scalar).collect()).unwrap_or_default() };
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
        for who in props.get(list).and_then(Value::as_array).into_iter().flatten().map(super::template::scalar) {
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
    let list = |v: &Value, k: &str| -> Vec<String> { v.get(k).and_then(Value::as_array).map(|a| a.iter().map(super::template::scalar).collect()).unwrap_or_default() };
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

/// A RestApi's OpenAPI document: `Body` inline, or `BodyS3Location` read from firelocal's S3.
async fn rest_api_body(api: &Api, props: &Value) -> Result<Option<Value>, String> {
    if let Some(b) = props.get("Body") {
        return Ok(Some(b.clone()));
    }
    let Some(loc) = props.get("BodyS3Location") else { return Ok(None) };
    let (bucket, key) = (s(loc, "Bucket").unwrap_or_default(), s(loc, "Key").unwrap_or_default());
    let bytes = api.s3(Method::GET, &format!("/{}/{}", url_encode(&bucket), key.split('/').map(url_encode).collect::<Vec<_>>().join("/")), &[], bytes::Bytes::new()).await.map_err(fail)?;
    let text = String::from_utf8_lossy(&bytes);
    super::template::parse(&text).map(Some).map_err(|e| format!("BodyS3Location s3://{bucket}/{key}: {e}"))
}

/// `AWS::ApiGateway::Method`: the method, its responses, its integration and the integration's
/// responses, as the API takes them (camelCase).
async fn put_method(api: &Api, props: &Value, ty: &str) -> Result<(), String> {
    let (rest, resource, m) = (need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
    let base = format!("/restapis/{rest}/resources/{resource}/methods/{m}");
    let method = json!({
        "authorizationType": s(props, "AuthorizationType").unwrap_or_else(|| "NONE".into()),
        "apiKeyRequired": props.get("ApiKeyRequired"), "requestParameters": props.get("RequestParameters"),
        "requestModels": props.get("RequestModels"), "operationName": props.get("OperationName"), "authorizerId": props.get("AuthorizerId"),
    });
    api.rest("apigateway", Method::PUT, &base, &[], Some(&strip_nulls(method))).await.map_err(fail)?;
    for r in props.get("MethodResponses").and_then(Value::as_array).into_iter().flatten() {
        let status = need(r, "StatusCode", ty)?;
        let body = json!({ "responseParameters": r.get("ResponseParameters"), "responseModels": r.get("ResponseModels") });
        api.rest("apigateway", Method::PUT, &format!("{base}/responses/{status}"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
    }
    let Some(i) = props.get("Integration") else { return Ok(()) };
    let integration = json!({
        "type": i.get("Type"), "httpMethod": i.get("IntegrationHttpMethod"), "uri": i.get("Uri"), "credentials": i.get("Credentials"),
        "requestTemplates": i.get("RequestTemplates"), "requestParameters": i.get("RequestParameters"),
        "passthroughBehavior": i.get("PassthroughBehavior"), "contentHandling": i.get("ContentHandling"),
        "timeoutInMillis": i.get("TimeoutInMillis"), "cacheKeyParameters": i.get("CacheKeyParameters"), "connectionType": i.get("ConnectionType"),
    });
    api.rest("apigateway", Method::PUT, &format!("{base}/integration"), &[], Some(&strip_nulls(integration))).await.map_err(fail)?;
    for r in i.get("IntegrationResponses").and_then(Value::as_array).into_iter().flatten() {
        let status = need(r, "StatusCode", ty)?;
        let body = json!({
            "selectionPattern": r.get("SelectionPattern"), "responseTemplates": r.get("ResponseTemplates"),
            "responseParameters": r.get("ResponseParameters"), "contentHandling": r.get("ContentHandling"),
        });
        api.rest("apigateway", Method::PUT, &format!("{base}/integration/responses/{status}"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
    }
    Ok(())
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_fit() {
        let n = generated_name("my-very-long-stack-name-for-testing-things", "ClickstreamBucketWithALongName", 63, true);
        assert!(n.len() <= 63 && n.starts_with("my-very") && n == n.to_lowercase(), "{n}");
        let r = generated_name("s", "Role", 64, false);
        assert!(r.starts_with("s-Role-") && r.len() == 19, "{r}");
    }

    #[test]
    fn capabilities_and_replacement() {
        assert_eq!(capability("AWS::IAM::Role", &json!({})), Some("CAPABILITY_IAM"));
        assert_eq!(capability("AWS::IAM::Role", &json!({"RoleName": "r"})), Some("CAPABILITY_NAMED_IAM"));
        assert_eq!(capability("AWS::S3::Bucket", &json!({})), None);
        assert!(replaces("AWS::S3::Bucket", &json!({"BucketName": "a"}), &json!({"BucketName": "b"})));
        assert!(!replaces("AWS::KinesisFirehose::DeliveryStream", &json!({"ExtendedS3DestinationConfiguration": {"A": 1}}), &json!({"ExtendedS3DestinationConfiguration": {"A": 2}})));
        assert!(replaces("AWS::Glue::Table", &json!({"TableInput": {"Name": "a"}}), &json!({"TableInput": {"Name": "b"}})));
    }
}
