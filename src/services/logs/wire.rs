//! CloudWatch Logs' wire layer (awsJson1_1): JSON inputs to `ops`, JSON outputs back.

use serde::Deserialize;
use serde_json::{Value, json};

use super::ops::{Logs, LogsError};
use crate::protocol::json;
use crate::protocol::{AwsError, AwsRequest, HttpResponse, Protocol};
use crate::services::iam::authz::Access;
use crate::services::iam::ops::ACCOUNT;

const PROTOCOL: Protocol = Protocol::AwsJson1_1;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct In {
    log_group_name: String,
    log_stream_name: String,
    log_group_name_prefix: Option<String>,
    log_stream_name_prefix: Option<String>,
    log_stream_names: Option<Vec<String>>,
    order_by: Option<String>,
    descending: Option<bool>,
    limit: Option<usize>,
    next_token: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    start_from_head: Option<bool>,
    filter_pattern: Option<String>,
    log_events: Vec<InEvent>,
    retention_in_days: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct InEvent {
    timestamp: i64,
    message: String,
}

const OPERATIONS: &[&str] = &[
    "CreateLogGroup", "DeleteLogGroup", "CreateLogStream", "PutLogEvents", "DescribeLogGroups", "DescribeLogStreams",
    "GetLogEvents", "FilterLogEvents", "PutRetentionPolicy", "DeleteRetentionPolicy",
];

/// What a CloudWatch Logs call needs under `--enforce-iam`: `logs:<Operation>` on
/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>` (the stream part empty
/// for group-level calls, the group empty for account-wide ones), as AWS names it in denials.
pub fn access(req: &AwsRequest, region: &str) -> Vec<Access> {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let i: In = serde_json::from_slice(&req.body).unwrap_or_default();
    let stream = if matches!(op, "CreateLogStream" | "PutLogEvents" | "GetLogEvents") { i.log_stream_name.as_str() } else { "" };
    vec![Access::new(format!("logs:{op}"), format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{}:log-stream:{stream}", i.log_group_name))]
}

/// Handles one Logs request.
pub async fn handle(logs: &Logs, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let op = req.header("x-amz-target").and_then(|t| t.split_once('.')).map_or("", |(_, o)| o);
    let Some(name) = OPERATIONS.iter().find(|o| **o == op).copied() else {
        let e = AwsError::new(http::StatusCode::BAD_REQUEST, "UnknownOperationException", format!("firelocal's CloudWatch Logs does not implement {op}"));
        return (e.render(PROTOCOL, &req.request_id, false), "Unknown");
    };
    let result = run(logs, name, &req.body);
    let resp = match result {
        Ok(v) => json::ok(PROTOCOL, &v),
        Err(e) => e.render(PROTOCOL, &req.request_id, false),
    };
    (resp, name)
}

fn run(logs: &Logs, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    let i: In = json::parse(body)?;
    let e = |e: LogsError| e.to_aws();
    let range = (i.start_time, i.end_time);
    match op {
        "CreateLogGroup" => logs.create_log_group(&i.log_group_name).map(|_| json!({})).map_err(e),
        "DeleteLogGroup" => logs.delete_log_group(&i.log_group_name).map(|_| json!({})).map_err(e),
        "PutRetentionPolicy" => logs.set_retention(&i.log_group_name, Some(i.retention_in_days.unwrap_or(0))).map(|_| json!({})).map_err(e),
        "DeleteRetentionPolicy" => logs.set_retention(&i.log_group_name, None).map(|_| json!({})).map_err(e),
        "CreateLogStream" => logs.create_log_stream(&i.log_group_name, &i.log_stream_name).map(|_| json!({})).map_err(e),
        "PutLogEvents" => {
            let events = i.log_events.into_iter().map(|ev| (ev.timestamp, ev.message)).collect();
            logs.put_log_events(&i.log_group_name, &i.log_stream_name, events).map(|_| json!({ "nextSequenceToken": "0" })).map_err(e)
        }
        "DescribeLogGroups" => Ok(logs.describe_log_groups(i.log_group_name_prefix.as_deref(), i.limit.unwrap_or(50), i.next_token.as_deref())),
        "DescribeLogStreams" => logs
            .describe_log_streams(
                &i.log_group_name,
                i.log_stream_name_prefix.as_deref(),
                i.order_by.as_deref() == Some("LastEventTime"),
                i.descending.unwrap_or(false),
                i.limit.unwrap_or(50),
                i.next_token.as_deref(),
            )
            .map_err(e),
        "GetLogEvents" => logs
            .get_log_events(&i.log_group_name, &i.log_stream_name, range, i.limit.unwrap_or(10_000), i.start_from_head.unwrap_or(false), i.next_token.as_deref())
            .map_err(e),
        _ => logs
            .filter_log_events(&i.log_group_name, i.log_stream_names.as_deref(), i.filter_pattern.as_deref().unwrap_or(""), range, i.limit.unwrap_or(10_000), i.next_token.as_deref())
            .map_err(e),
    }
}
