//! Resource providers: how each resource type is created, updated and deleted through its
//! service's own API (see `api`), what `Ref` returns and which `Fn::GetAtt` attributes it has,
//! and which property changes replace the resource. One file per service holds its types'
//! provisioners; this file dispatches to them by the type's service and keeps what they share.
//! A type firelocal does not create fails with a reason naming it.

mod apigateway;
mod athena;
mod firehose;
mod glue;
mod iam;
mod lambda;
mod logs;
mod quicksight;
mod s3;
pub mod s3_bucket;

use std::io::Write;

use base64::Engine;
use http::Method;
use serde_json::{Map, Value, json};

use super::api::{Api, Failure};
use super::template;
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
    match service(ty) {
        "S3" => s3::create(ctx, ty, props).await,
        "IAM" => iam::create(ctx, ty, props).await,
        "Lambda" => lambda::create(ctx, ty, props).await,
        "Logs" => logs::create(ctx, ty, props).await,
        "KinesisFirehose" => firehose::create(ctx, ty, props).await,
        "ApiGateway" => apigateway::create(ctx, ty, props).await,
        "Glue" => glue::create(ctx, ty, props).await,
        "Athena" => athena::create(ctx, ty, props).await,
        "QuickSight" => quicksight::create(ctx, ty, props).await,
        _ => Err(unsupported(ty)),
    }
}

/// Updates a resource in place (the change does not replace it). Returns its new attributes.
/// A type without in-place updates is replaced on any change (see `replaces`), so it is only
/// "updated" when nothing the service keeps has changed.
pub async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    match service(ty) {
        "S3" => s3::update(ctx, ty, current, old, new).await,
        "IAM" => iam::update(ctx, ty, current, old, new).await,
        "Lambda" => lambda::update(ctx, ty, current, old, new).await,
        "Logs" => logs::update(ctx, ty, current, old, new).await,
        "KinesisFirehose" => firehose::update(ctx, ty, current, old, new).await,
        "ApiGateway" => apigateway::update(ctx, ty, current, old, new).await,
        "Glue" => glue::update(ctx, ty, current, old, new).await,
        "Athena" => athena::update(ctx, ty, current, old, new).await,
        "QuickSight" => quicksight::update(ctx, ty, current, old, new).await,
        _ => Ok(current.clone()),
    }
}

/// Deletes a resource. One already gone counts as deleted.
pub async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    match service(ty) {
        "S3" => s3::delete(ctx, ty, id, props).await,
        "IAM" => iam::delete(ctx, ty, id, props).await,
        "Lambda" => lambda::delete(ctx, ty, id, props).await,
        "Logs" => logs::delete(ctx, ty, id, props).await,
        "KinesisFirehose" => firehose::delete(ctx, ty, id, props).await,
        "ApiGateway" => apigateway::delete(ctx, ty, id, props).await,
        "Glue" => glue::delete(ctx, ty, id, props).await,
        "Athena" => athena::delete(ctx, ty, id, props).await,
        "QuickSight" => quicksight::delete(ctx, ty, id, props).await,
        _ => Ok(()),
    }
}

/// The service part of a type name: `IAM` for `AWS::IAM::Role`.
fn service(ty: &str) -> &str {
    ty.split("::").nth(1).unwrap_or_default()
}

fn unsupported(ty: &str) -> String {
    format!("firelocal's CloudFormation does not create resources of type {ty} yet")
}

/// A resource's `Fn::GetAtt` attributes from `(name, value)` pairs.
fn attrs(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A delete's outcome: a resource already gone is deleted.
fn gone<T>(r: Result<T, Failure>) -> Result<(), String> {
    match r {
        Err(f) if handler_not_found(&f) => Ok(()),
        other => other.map(|_| ()).map_err(fail),
    }
}

/// A delete that finds the resource already gone succeeds, as CloudFormation treats it.
fn handler_not_found(f: &Failure) -> bool {
    f.code.contains("NotFound") || f.code.starts_with("NoSuch") || f.code == "EntityNotFoundException"
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
