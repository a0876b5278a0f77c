//! Firehose data transformation: the `Lambda` processor invokes the user's function (in process,
//! through the Lambda service) with Firehose's event in batches, checks the response as Firehose
//! does, and sorts records into transformed, dropped and failed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde_json::{Value, json};

use super::Record;
use crate::services::lambda::Lambda;
use crate::services::lambda::ops::InvocationType;

/// The Lambda processor's settings.
#[derive(Debug, Clone)]
pub struct Transform {
    /// The function ARN (LambdaArn).
    pub function: String,
    /// Retries of a failed invocation (NumberOfRetries, default 3).
    pub retries: u32,
    /// Largest batch of record bytes per invocation (BufferSizeInMBs, within the 6 MB limit).
    pub batch_bytes: usize,
}

/// A record the function returned `Ok`, with its partition keys (`metadata.partitionKeys`).
pub struct Transformed {
    pub record: Record,
    pub partition_keys: BTreeMap<String, String>,
}

/// A record that failed processing: the original bytes, the error code and message.
pub struct Failure {
    pub record: Record,
    pub code: &'static str,
    pub message: String,
    /// Invocations made for it.
    pub attempts: u32,
}

/// The event payload limit of a synchronous invocation, with room for the envelope.
const MAX_EVENT_BYTES: usize = 6_000_000;

/// Splits records into invocation batches of at most `max` base64 bytes.
fn batches(records: Vec<Record>, max: usize) -> Vec<Vec<Record>> {
    let mut out: Vec<Vec<Record>> = Vec::new();
    let mut size = 0;
    for r in records {
        let len = r.data.len().div_ceil(3) * 4 + 128;
        if out.is_empty() || (size + len > max && !out.last().is_some_and(Vec::is_empty)) {
            out.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(b) = out.last_mut() {
            b.push(r);
        }
    }
    out
}

/// Firehose's code for an invocation Lambda refused (rather than a function error).
fn invoke_error_code(lambda_code: &str) -> &'static str {
    match lambda_code {
        "TooManyRequestsException" => "Lambda.InvokeLimitExceeded",
        "ResourceNotFoundException" => "Lambda.ResourceNotFound",
        c if c.starts_with("AccessDenied") => "Lambda.InvokeAccessDenied",
        _ => "Lambda.FunctionError",
    }
}

/// Runs the transform over `records` (blocking: call it from a blocking thread inside the runtime).
/// Each invocation obeys injected request faults on Lambda `Invoke` of the function.
pub fn run(t: &Transform, lambda: &Arc<Lambda>, faults: &crate::faults::Faults, stream_arn: &str, region: &str, records: Vec<Record>) -> (Vec<Transformed>, Vec<Failure>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    let handle = tokio::runtime::Handle::current();
    for batch in batches(records, t.batch_bytes.min(MAX_EVENT_BYTES)) {
        let ids: Vec<String> = (0..batch.len()).map(|i| format!("{}{:010}", uuid::Uuid::new_v4().simple(), i)).collect();
        let event = json!({
            "invocationId": uuid::Uuid::new_v4().to_string(),
            "deliveryStreamArn": stream_arn,
            "region": region,
            "records": batch.iter().zip(&ids).map(|(r, id)| json!({
                "recordId": id,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": B64.encode(&r.data),
            })).collect::<Vec<_>>(),
        });
        let payload = Bytes::from(event.to_string());
        let mut last_error = (String::new(), "Lambda.FunctionError");
        let mut response = None;
        let mut attempts = 0;
        // `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, or a bare name.
        let name = t.function.split(':').nth(6).unwrap_or(&t.function);
        for _ in 0..=t.retries {
            attempts += 1;
            let injected = faults.blocking_call("lambda", "Invoke", &[&t.function, name]);
            let outcome = match injected {
                Some(e) => Err((e.code.to_string(), e.message)),
                None => handle.block_on(lambda.invoke(&t.function, None, payload.clone(), InvocationType::RequestResponse, None)).map_err(|e| {
                    let aws = e.to_aws();
                    (aws.code.to_string(), aws.message)
                }),
            };
            match outcome {
                Ok((_, Some(inv))) if inv.function_error.is_none() => {
                    response = Some(inv.payload);
                    break;
                }
                Ok((_, Some(inv))) => last_error = (format!("The Lambda function was invoked but it returned an error: {}", String::from_utf8_lossy(&inv.payload)), "Lambda.FunctionError"),
                Ok((_, None)) => last_error = ("The Lambda function was invoked but it returned no response".into(), "Lambda.FunctionError"),
                Err((code, message)) => last_error = (format!("Lambda refused the invocation ({code}): {message}"), invoke_error_code(&code)),
            }
        }
        let Some(body) = response else {
            let (message, code) = last_error;
            failed.extend(batch.into_iter().map(|record| Failure { record, code, message: message.clone(), attempts }));
            continue;
        };
        match check_response(&body, &ids) {
            Err((code, message)) => failed.extend(batch.into_iter().map(|record| Failure { record, code, message: message.clone(), attempts })),
            Ok(results) => {
                for (record, result) in batch.into_iter().zip(results) {
                    match result {
                        RecordResult::Ok(data, keys) => ok.push(Transformed { record: Record { arrival_ms: record.arrival_ms, data }, partition_keys: keys }),
                        RecordResult::Dropped => {}
                        RecordResult::Failed => failed.push(Failure {
                            record,
                            attempts,
                            code: "Lambda.ProcessingFailedStatus",
                            message: "The Lambda function returned the record with the status ProcessingFailed".into(),
                        }),
                    }
                }
            }
        }
    }
    (ok, failed)
}

enum RecordResult {
    Ok(Bytes, BTreeMap<String, String>),
    Dropped,
    Failed,
}

/// Checks a transform response as Firehose does: every record id exactly once, a valid result,
/// base64 data for `Ok`. Returns the results in the order of `ids`, or why the whole response
/// is rejected.
fn check_response(body: &[u8], ids: &[String]) -> Result<Vec<RecordResult>, (&'static str, String)> {
    let json_err = |m: String| ("Lambda.JsonProcessingException", m);
    let v: Value = serde_json::from_slice(body).map_err(|e| json_err(format!("There was an error parsing returned records from the Lambda function: {e}")))?;
    let records = v.get("records").and_then(Value::as_array).ok_or_else(|| json_err("The response of the Lambda function has no 'records' array".into()))?;
    let mut by_id: BTreeMap<&str, &Value> = BTreeMap::new();
    for r in records {
        let id = r.get("recordId").and_then(Value::as_str).ok_or_else(|| json_err("A returned record has no recordId".into()))?;
        if by_id.insert(id, r).is_some() {
            return Err(("Lambda.DuplicatedRecordId", format!("The Lambda function returned the record id {id} more than once")));
        }
    }
    let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
    if let Some(extra) = by_id.keys().find(|k| !known.contains(*k)) {
        return Err(("Lambda.MissingRecordId", format!("The Lambda function returned an unknown record id {extra}")));
    }
    ids.iter()
        .map(|id| {
            let r = by_id.get(id.as_str()).ok_or_else(|| ("Lambda.MissingRecordId", format!("The Lambda function did not return the record id {id}")))?;
            match r.get("result").and_then(Value::as_str) {
                Some("Ok") => {
                    let data = r.get("data").and_then(Value::as_str).ok_or_else(|| json_err(format!("Record {id} is Ok but has no data")))?;
                    let bytes = B64.decode(data).map_err(|_| json_err(format!("The data of record {id} is not valid base64")))?;
                    let keys = r
                        .pointer("/metadata/partitionKeys")
                        .and_then(Value::as_object)
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
                        .unwrap_or_default();
                    Ok(RecordResult::Ok(Bytes::from(bytes), keys))
                }
                Some("Dropped") => Ok(RecordResult::Dropped),
                Some("ProcessingFailed") => Ok(RecordResult::Failed),
                other => Err(("Lambda.InvalidResult", format!("Record {id} has an invalid result {other:?}: use Ok, Dropped or ProcessingFailed"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_checked() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let ok = br#"{"records":[{"recordId":"b","result":"Dropped"},{"recordId":"a","result":"Ok","data":"aGk=","metadata":{"partitionKeys":{"k":"v"}}}]}"#;
        let r = check_response(ok, &ids).unwrap_or_default();
        assert!(matches!(&r[0], RecordResult::Ok(d, k) if &d[..] == b"hi" && k.get("k").map(String::as_str) == Some("v")));
        assert!(matches!(r[1], RecordResult::Dropped));
        let code = |b: &[u8]| check_response(b, &ids).err().map(|e| e.0);
        assert_eq!(code(br#"{"records":[{"recordId":"a","result":"Ok","data":"aGk="}]}"#), Some("Lambda.MissingRecordId"));
        assert_eq!(code(br#"{"records":[{"recordId":"a","result":"Ok","data":"aGk="},{"recordId":"a","result":"Dropped"},{"recordId":"b","result":"Dropped"}]}"#), Some("Lambda.DuplicatedRecordId"));
        assert_eq!(code(b"not json"), Some("Lambda.JsonProcessingException"));
        assert_eq!(code(br#"{"records":[{"recordId":"a","result":"Nope"},{"recordId":"b","result":"Dropped"}]}"#), Some("Lambda.InvalidResult"));
        assert_eq!(code(br#"{"records":[{"recordId":"a","result":"Ok","data":"%%"},{"recordId":"b","result":"Dropped"}]}"#), Some("Lambda.JsonProcessingException"));
    }

    #[test]
    fn batches_respect_the_size() {
        let rec = |n| Record { arrival_ms: 0, data: Bytes::from(vec![0u8; n]) };
        let b = batches(vec![rec(300), rec(300), rec(300)], 1000);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 1]);
        let b = batches(vec![rec(10), rec(10), rec(10)], 1000);
        assert_eq!(b.len(), 1);
    }
}
