//! Firehose's wire layer (awsJson1_1, `X-Amz-Target: Firehose_20150804.<Operation>`): parses
//! each operation's JSON input, calls `ops`, renders the JSON output or the error.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{FirehoseError, FirehoseResult};
use super::ops::{CreateDeliveryStreamInput, Firehose, Tag};
use crate::protocol::json::{self, blob};
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};
use crate::services::iam::authz::Access;
use crate::services::iam::ops::ACCOUNT;

const PROTOCOL: Protocol = Protocol::AwsJson1_1;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameInput {
    delivery_stream_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    limit: Option<i64>,
    delivery_stream_type: Option<String>,
    exclusive_start_delivery_stream_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordIn {
    #[serde(with = "blob")]
    data: Bytes,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordInput {
    delivery_stream_name: String,
    record: RecordIn,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordBatchInput {
    delivery_stream_name: String,
    records: Vec<RecordIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateDestinationInput {
    delivery_stream_name: String,
    current_delivery_stream_version_id: String,
    destination_id: String,
    s3_destination_update: Option<Value>,
    extended_s3_destination_update: Option<Value>,
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    delivery_stream_name: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagInput {
    delivery_stream_name: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsInput {
    delivery_stream_name: String,
    exclusive_start_tag_key: Option<String>,
    limit: Option<i64>,
}

fn limit(v: Option<i64>, max: i64, default: i64, field: &str) -> FirehoseResult<usize> {
    match v {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(FirehoseError::validation(field, n, format!("Member must have value between 1 and {max}"))),
    }
}

/// What a Firehose call needs under `--enforce-iam`: `firehose:<Operation>` on the stream's
/// ARN (`*` for ListDeliveryStreams), and `iam:PassRole` on the role a new stream acts as.
pub fn access(req: &AwsRequest, region: &str) -> Vec<Access> {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
    let name = body.get("DeliveryStreamName").and_then(Value::as_str);
    let resource = match name {
        Some(n) if op != "ListDeliveryStreams" => format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{n}"),
        _ => "*".into(),
    };
    let mut out = vec![Access::new(format!("firehose:{op}"), resource)];
    if op == "CreateDeliveryStream" {
        let roles = ["/ExtendedS3DestinationConfiguration/RoleARN", "/S3DestinationConfiguration/RoleARN"];
        for role in roles.iter().filter_map(|p| body.pointer(p)).filter_map(Value::as_str) {
            out.push(Access::new("iam:PassRole", role).with("iam:PassedToService", "firehose.amazonaws.com"));
        }
    }
    out
}

/// Handles one Firehose request: returns the response and the operation name for the log.
pub async fn handle(fh: &Firehose, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let target = req.header("x-amz-target").unwrap_or_default();
    let op = target.split_once('.').map_or("", |(_, op)| op);
    let (name, result) = dispatch(fh, op, &req.body).await;
    let resp = match result {
        Ok(v) => json::ok(PROTOCOL, &v),
        Err(e) => e.render(PROTOCOL, &req.request_id, false),
    };
    (resp, name)
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, AwsError> {
    json::parse(body)
}

/// The operations this service answers, by `X-Amz-Target` suffix.
const OPERATIONS: &[&str] = &[
    "CreateDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams", "DeleteDeliveryStream", "UpdateDestination",
    "PutRecord", "PutRecordBatch", "TagDeliveryStream", "UntagDeliveryStream", "ListTagsForDeliveryStream",
];

/// Runs one Firehose action on a JSON body in process (API Gateway's AWS integrations call this).
pub async fn execute(fh: &Firehose, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    dispatch(fh, op, body).await.1
}

async fn dispatch(fh: &Firehose, op: &str, body: &[u8]) -> (&'static str, Result<Value, AwsError>) {
    let Some(name) = OPERATIONS.iter().find(|o| **o == op).copied() else {
        let e = if op.ends_with("DeliveryStreamEncryption") {
            FirehoseError::InvalidArgument(format!("firelocal does not support {op} yet"))
        } else {
            FirehoseError::UnknownOperation(op.to_string())
        };
        return ("Unknown", Err(e.to_aws()));
    };
    (name, run(fh, name, body).await)
}

async fn run(fh: &Firehose, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    let aws = |e: FirehoseError| e.to_aws();
    match op {
        "CreateDeliveryStream" => {
            let input: CreateDeliveryStreamInput = parse(body)?;
            let arn = fh.create_delivery_stream(input).map_err(aws)?;
            Ok(json!({ "DeliveryStreamARN": arn }))
        }
        "DescribeDeliveryStream" => {
            let input: NameInput = parse(body)?;
            let d = fh.describe_delivery_stream(&input.delivery_stream_name).map_err(aws)?;
            Ok(json!({ "DeliveryStreamDescription": d }))
        }
        "ListDeliveryStreams" => {
            let input: ListInput = parse(body)?;
            let n = limit(input.limit, 10_000, 10, "limit").map_err(aws)?;
            let (names, more) = fh.list_delivery_streams(n, input.delivery_stream_type.as_deref(), input.exclusive_start_delivery_stream_name.as_deref());
            Ok(json!({ "DeliveryStreamNames": names, "HasMoreDeliveryStreams": more }))
        }
        "DeleteDeliveryStream" => {
            let input: NameInput = parse(body)?;
            fh.delete_delivery_stream(&input.delivery_stream_name).await.map_err(aws)?;
            Ok(json!({}))
        }
        "UpdateDestination" => {
            let input: UpdateDestinationInput = parse(body)?;
            if let Some(other) = input.other.keys().find(|k| k.ends_with("DestinationUpdate")) {
                return Err(aws(FirehoseError::InvalidArgument(format!("firelocal does not support {other} (it delivers to S3)"))));
            }
            let (update, field) = match (input.extended_s3_destination_update, input.s3_destination_update) {
                (Some(u), _) => (u, "extendedS3DestinationUpdate"),
                (None, Some(u)) => (u, "s3DestinationUpdate"),
                (None, None) => (json!({}), "extendedS3DestinationUpdate"),
            };
            fh.update_destination(&input.delivery_stream_name, &input.current_delivery_stream_version_id, &input.destination_id, update, field)
                .await
                .map_err(aws)?;
            Ok(json!({}))
        }
        "PutRecord" => {
            let input: PutRecordInput = parse(body)?;
            let outcomes = fh.put_records(&input.delivery_stream_name, vec![input.record.data], false).await.map_err(aws)?;
            let id = outcomes.into_iter().next().and_then(Result::ok);
            Ok(json!({ "RecordId": id, "Encrypted": false }))
        }
        "PutRecordBatch" => {
            let input: PutRecordBatchInput = parse(body)?;
            let data = input.records.into_iter().map(|r| r.data).collect();
            let outcomes = fh.put_records(&input.delivery_stream_name, data, true).await.map_err(aws)?;
            let failed = outcomes.iter().filter(|o| o.is_err()).count();
            let responses: Vec<Value> = outcomes
                .into_iter()
                .map(|o| match o {
                    Ok(id) => json!({ "RecordId": id }),
                    Err((code, message)) => json!({ "ErrorCode": code, "ErrorMessage": message }),
                })
                .collect();
            Ok(json!({ "FailedPutCount": failed, "Encrypted": false, "RequestResponses": responses }))
        }
        "TagDeliveryStream" => {
            let input: TagInput = parse(body)?;
            fh.tag_delivery_stream(&input.delivery_stream_name, input.tags).map_err(aws)?;
            Ok(json!({}))
        }
        "UntagDeliveryStream" => {
            let input: UntagInput = parse(body)?;
            fh.untag_delivery_stream(&input.delivery_stream_name, &input.tag_keys).map_err(aws)?;
            Ok(json!({}))
        }
        _ => {
            let input: ListTagsInput = parse(body)?;
            let n = limit(input.limit, 50, 50, "limit").map_err(aws)?;
            let (tags, more) = fh.list_tags(&input.delivery_stream_name, input.exclusive_start_tag_key.as_deref(), n).map_err(aws)?;
            let tags: Vec<Value> = tags.into_iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
            Ok(json!({ "Tags": tags, "HasMoreTags": more }))
        }
    }
}
