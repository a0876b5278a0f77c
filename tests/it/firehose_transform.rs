//! Firehose data transformation with real local Lambda functions: the seed's Python transform
//! (newline-delimited JSON in S3), dropped and failed records in `processing-failed/` with
//! AWS's error record, a function that always fails, and `partitionKeyFromLambda`.

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{
    BufferingHints, DynamicPartitioningConfiguration, ExtendedS3DestinationConfiguration, ProcessingConfiguration, Processor, ProcessorParameter,
    ProcessorParameterName, ProcessorType, Record,
};
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use base64::Engine;

use crate::common::{Firelocal, bucket, fixture_zip};

async fn function(fl: &Firelocal, name: &str, folder: &str, handler: &str) -> String {
    fl.lambda()
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda")
        .handler(handler)
        .code(FunctionCode::builder().zip_file(aws_sdk_lambda::primitives::Blob::new(fixture_zip(folder))).build())
        .send()
        .await
        .unwrap()
        .function_arn()
        .unwrap()
        .to_string()
}

fn lambda_processing(arn: &str) -> ProcessingConfiguration {
    let param = |n: ProcessorParameterName, v: &str| ProcessorParameter::builder().parameter_name(n).parameter_value(v).build().unwrap();
    ProcessingConfiguration::builder()
        .enabled(true)
        .processors(
            Processor::builder()
                .r#type(ProcessorType::Lambda)
                .parameters(param(ProcessorParameterName::LambdaArn, arn))
                .parameters(param(ProcessorParameterName::LambdaNumberOfRetries, "1"))
                .parameters(param(ProcessorParameterName::BufferSizeInMb, "1"))
                .parameters(param(ProcessorParameterName::BufferIntervalInSeconds, "60"))
                .build()
                .unwrap(),
        )
        .build()
}

/// Creates a stream delivering to `bucket` with the given extra settings.
async fn stream(fl: &Firelocal, name: &str, bucket: &str, configure: impl FnOnce(aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder) -> aws_sdk_firehose::types::builders::ExtendedS3DestinationConfigurationBuilder) {
    let base = ExtendedS3DestinationConfiguration::builder().role_arn("arn:aws:iam::000000000000:role/firehose").bucket_arn(format!("arn:aws:s3:::{bucket}"));
    fl.firehose().create_delivery_stream().delivery_stream_name(name).extended_s3_destination_configuration(configure(base).build().unwrap()).send().await.unwrap();
}

async fn all_objects(s3: &aws_sdk_s3::Client, b: &str, prefix: &str) -> Vec<(String, String)> {
    let list = s3.list_objects_v2().bucket(b).prefix(prefix).send().await.unwrap();
    let mut out = Vec::new();
    for o in list.contents() {
        let k = o.key().unwrap().to_string();
        let body = s3.get_object().bucket(b).key(&k).send().await.unwrap().body.collect().await.unwrap().into_bytes();
        out.push((k, String::from_utf8(body.to_vec()).unwrap()));
    }
    out
}

async fn put(fl: &Firelocal, stream: &str, records: &[&str]) {
    let recs: Vec<Record> = records.iter().map(|r| Record::builder().data(Blob::new(*r)).build().unwrap()).collect();
    let out = fl.firehose().put_record_batch().delivery_stream_name(stream).set_records(Some(recs)).send().await.unwrap();
    assert_eq!(out.failed_put_count(), 0);
}

#[tokio::test]
async fn seed_python_transform_delivers_newline_delimited_json() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "transformed").await;
    let arn = function(&fl, "clickstream-transform", "lambda/python-transform", "app.lambda_handler").await;
    stream(&fl, "clicks", &b, |d| {
        d
            .prefix("clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/")
            .error_output_prefix("errors/!{firehose:error-output-type}/")
            .processing_configuration(lambda_processing(&arn))
    })
    .await;
    let events: Vec<String> = (0..25).map(|i| format!("{{\"event_id\":{i},\"element_clicked\":\"b{}\"}}", i % 3)).collect();
    put(&fl, "clicks", &events.iter().map(String::as_str).collect::<Vec<_>>()).await;
    fl.flush(None).await;
    let objs = all_objects(&s3, &b, "clickstream/").await;
    assert_eq!(objs.len(), 1);
    let lines: Vec<&str> = objs[0].1.lines().collect();
    assert_eq!(lines, events.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(objs[0].1.ends_with('\n'));
    for l in lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    assert!(all_objects(&s3, &b, "errors/").await.is_empty());
}

#[tokio::test]
async fn dropped_failed_and_lambda_partitioned_records() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "mixed").await;
    let arn = function(&fl, "drop", "lambda/drop-transform", "app.handler").await;
    stream(&fl, "mixed", &b, |d| {
        d
            .prefix("kind=!{partitionKeyFromLambda:kind}/")
            .error_output_prefix("failed/!{firehose:error-output-type}/")
            .buffering_hints(BufferingHints::builder().size_in_mbs(64).interval_in_seconds(60).build())
            .dynamic_partitioning_configuration(DynamicPartitioningConfiguration::builder().enabled(true).build())
            .processing_configuration(lambda_processing(&arn))
    })
    .await;
    put(&fl, "mixed", &[r#"{"kind":"click","n":1}"#, r#"{"drop":true}"#, r#"{"kind":"view","n":2}"#, r#"{"fail":true,"n":3}"#, r#"{"kind":"click","n":4}"#]).await;
    fl.flush(None).await;
    let clicks = all_objects(&s3, &b, "kind=click/").await;
    assert_eq!(clicks.len(), 1);
    assert_eq!(clicks[0].1.lines().count(), 2);
    assert_eq!(all_objects(&s3, &b, "kind=view/").await[0].1.lines().count(), 1);
    let failed = all_objects(&s3, &b, "failed/processing-failed/").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let doc: serde_json::Value = serde_json::from_str(failed[0].1.lines().next().unwrap()).unwrap();
    assert_eq!(doc["errorCode"], "Lambda.ProcessingFailedStatus");
    assert_eq!(doc["lambdaArn"], arn.as_str());
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(doc["rawData"].as_str().unwrap()).unwrap(), br#"{"fail":true,"n":3}"#);
    for field in ["attemptsMade", "arrivalTimestamp", "errorMessage", "attemptEndingTimestamp"] {
        assert!(doc.get(field).is_some(), "{field} in {doc}");
    }
}

#[tokio::test]
async fn a_failing_transform_sends_every_record_to_processing_failed() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "failing").await;
    let arn = function(&fl, "fail", "lambda/fail-transform", "app.handler").await;
    stream(&fl, "failing", &b, |d| {
        d
            .processing_configuration(lambda_processing(&arn))
    })
    .await;
    put(&fl, "failing", &["a", "b", "c"]).await;
    fl.flush(None).await;
    // No ErrorOutputPrefix: AWS's default processing-failed/YYYY/MM/dd/HH/.
    let failed = all_objects(&s3, &b, "processing-failed/").await;
    assert_eq!(failed.len(), 1);
    let docs: Vec<serde_json::Value> = failed[0].1.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d["errorCode"] == "Lambda.FunctionError"));
    assert!(docs[0]["errorMessage"].as_str().unwrap().contains("transform exploded"), "{}", docs[0]);
    let delivered = all_objects(&s3, &b, "").await.into_iter().filter(|(k, _)| !k.starts_with("processing-failed/")).count();
    assert_eq!(delivered, 0);
}
