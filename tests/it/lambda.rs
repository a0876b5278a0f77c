//! Lambda through aws-sdk-lambda: functions run as local processes over the Runtime API
//! (Python, Node.js, a custom `provided` runtime), invoke modes and log tails, updates and
//! versions, timeouts, crashes and import errors, permissions, and the logs in CloudWatch Logs.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, Runtime};
use base64::Engine;

use crate::common::{Firelocal, fixture_zip};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-exec";

fn code<E: aws_sdk_lambda::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}

async fn create(fl: &Firelocal, name: &str, runtime: Runtime, handler: &str, folder: &str, timeout: i32) {
    fl.lambda()
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .role(ROLE)
        .handler(handler)
        .timeout(timeout)
        .code(FunctionCode::builder().zip_file(Blob::new(fixture_zip(folder))).build())
        .environment(Environment::builder().variables("GREETING", "hi").build())
        .send()
        .await
        .unwrap();
}

async fn invoke(fl: &Firelocal, name: &str, payload: serde_json::Value) -> (serde_json::Value, Option<String>, String) {
    let out = fl.lambda().invoke().function_name(name).payload(Blob::new(payload.to_string())).log_type(LogType::Tail).send().await.unwrap();
    assert_eq!(out.status_code(), 200);
    let log = base64::engine::general_purpose::STANDARD.decode(out.log_result().unwrap_or_default()).unwrap();
    let body: serde_json::Value = serde_json::from_slice(out.payload().map(|b| b.as_ref()).unwrap_or(b"null")).unwrap();
    (body, out.function_error().map(String::from), String::from_utf8_lossy(&log).into_owned())
}

#[tokio::test]
async fn python_function_lifecycle_and_invoke() {
    let fl = Firelocal::start(&[]);
    let lambda = fl.lambda();
    create(&fl, "echo", Runtime::Python312, "app.handler", "lambda/python-echo", 3).await;

    let (body, err, log) = invoke(&fl, "echo", serde_json::json!({"hello": "world"})).await;
    assert_eq!(err, None);
    assert_eq!(body["event"]["hello"], "world");
    assert_eq!(body["function_name"], "echo");
    assert_eq!(body["memory"], "128");
    assert_eq!(body["arn"], "arn:aws:lambda:us-east-1:000000000000:function:echo");
    assert!(body["remaining_ms"].as_i64().unwrap() > 0 && body["remaining_ms"].as_i64().unwrap() <= 3000);
    assert_eq!(body["env"]["GREETING"], "hi");
    assert_eq!(body["env"]["AWS_ENDPOINT_URL"], fl.endpoint.as_str());
    assert_eq!(body["env"]["_HANDLER"], "app.handler");
    let request_id = body["request_id"].as_str().unwrap();
    assert!(log.starts_with(&format!("START RequestId: {request_id} Version: $LATEST")), "{log}");
    assert!(log.contains("event received {'hello': 'world'}"), "{log}");
    assert!(log.contains(&format!("END RequestId: {request_id}")) && log.contains("REPORT RequestId:") && log.contains("Init Duration:"), "{log}");
    // The second call is warm: no Init Duration.
    let (_, _, log) = invoke(&fl, "echo", serde_json::json!({})).await;
    assert!(!log.contains("Init Duration"), "{log}");

    // Control plane.
    let f = lambda.get_function().function_name("echo").send().await.unwrap();
    let c = f.configuration().unwrap();
    assert_eq!((c.runtime(), c.handler(), c.timeout(), c.version()), (Some(&Runtime::Python312), Some("app.handler"), Some(3), Some("$LATEST")));
    assert_eq!(c.state().map(|s| s.as_str()), Some("Active"));
    assert!(c.code_sha256().is_some() && c.code_size() > 0);
    let e = lambda.create_function().function_name("echo").runtime(Runtime::Python312).role(ROLE).handler("app.handler")
        .code(FunctionCode::builder().zip_file(Blob::new(fixture_zip("lambda/python-echo"))).build()).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");

    // UpdateFunctionConfiguration: the next invocation sees the new environment.
    lambda.update_function_configuration().function_name("echo").environment(Environment::builder().variables("GREETING", "bonjour").build()).send().await.unwrap();
    let (body, _, _) = invoke(&fl, "echo", serde_json::json!({})).await;
    assert_eq!(body["env"]["GREETING"], "bonjour");

    // Versions: publish, change $LATEST, invoke both.
    let v1 = lambda.publish_version().function_name("echo").send().await.unwrap();
    assert_eq!(v1.version(), Some("1"));
    lambda.update_function_code().function_name("echo").zip_file(Blob::new(fixture_zip("lambda/python-transform"))).send().await.unwrap();
    lambda.update_function_configuration().function_name("echo").handler("app.lambda_handler").send().await.unwrap();
    let out = lambda.invoke().function_name("echo").qualifier("1").payload(Blob::new("{}")).send().await.unwrap();
    assert_eq!(out.executed_version(), Some("1"));
    let v: serde_json::Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(v["env"]["GREETING"], "bonjour");
    let out = lambda.invoke().function_name("echo").payload(Blob::new(r#"{"records": []}"#)).send().await.unwrap();
    assert_eq!(out.payload().unwrap().as_ref(), br#"{"records": []}"#);
    let versions = lambda.list_versions_by_function().function_name("echo").send().await.unwrap();
    assert_eq!(versions.versions().iter().filter_map(|v| v.version()).collect::<Vec<_>>(), vec!["$LATEST", "1"]);

    // Event and DryRun.
    let out = lambda.invoke().function_name("echo").invocation_type(InvocationType::Event).payload(Blob::new("{}")).send().await.unwrap();
    assert_eq!(out.status_code(), 202);
    let out = lambda.invoke().function_name("echo").invocation_type(InvocationType::DryRun).send().await.unwrap();
    assert_eq!(out.status_code(), 204);

    // Errors.
    let e = lambda.invoke().function_name("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let e = lambda.invoke().function_name("echo").payload(Blob::new("{not json")).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestContentException");
    let e = lambda.invoke().function_name("echo").payload(Blob::new(format!("\"{}\"", "x".repeat(6_300_000)))).send().await.unwrap_err();
    assert_eq!(code(&e), "RequestTooLargeException");
    let e = lambda.create_function().function_name("java").runtime(Runtime::Java21).role(ROLE).handler("x")
        .code(FunctionCode::builder().zip_file(Blob::new(fixture_zip("lambda/python-echo"))).build()).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValueException");
    let e = lambda.create_function().function_name("badzip").runtime(Runtime::Python312).role(ROLE).handler("x")
        .code(FunctionCode::builder().zip_file(Blob::new(b"not a zip".to_vec())).build()).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterValueException");

    // Listing, then deletion.
    create(&fl, "second", Runtime::Python312, "app.handler", "lambda/python-echo", 3).await;
    let page = lambda.list_functions().max_items(1).send().await.unwrap();
    assert_eq!(page.functions().len(), 1);
    let page2 = lambda.list_functions().marker(page.next_marker().unwrap()).send().await.unwrap();
    assert_eq!(page2.functions()[0].function_name(), Some("second"));
    lambda.delete_function().function_name("echo").send().await.unwrap();
    let e = lambda.get_function().function_name("echo").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn failures_as_aws_reports_them() {
    let fl = Firelocal::start(&[]);
    create(&fl, "echo", Runtime::Python312, "app.handler", "lambda/python-echo", 1).await;
    let (body, err, _) = invoke(&fl, "echo", serde_json::json!({"action": "raise", "message": "bad input"})).await;
    assert_eq!(err.as_deref(), Some("Unhandled"));
    assert_eq!((body["errorType"].as_str(), body["errorMessage"].as_str()), (Some("ValueError"), Some("bad input")));
    assert!(body["stackTrace"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("app.py")));
    // The worker survives a handled error.
    let (body, err, _) = invoke(&fl, "echo", serde_json::json!({"n": 1})).await;
    assert_eq!((err, body["event"]["n"].as_i64()), (None, Some(1)));

    let (body, err, log) = invoke(&fl, "echo", serde_json::json!({"action": "sleep", "seconds": 5})).await;
    assert_eq!(err.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(body["errorMessage"].as_str().unwrap().ends_with("Task timed out after 1.00 seconds"), "{body}");
    assert!(log.contains("Task timed out after 1.00 seconds"), "{log}");

    let (body, err, _) = invoke(&fl, "echo", serde_json::json!({"action": "exit"})).await;
    assert_eq!(err.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Runtime.ExitError");
    assert!(body["errorMessage"].as_str().unwrap().contains("exit status 3"), "{body}");
    // A new worker takes over after a crash.
    let (_, err, _) = invoke(&fl, "echo", serde_json::json!({})).await;
    assert_eq!(err, None);

    create(&fl, "broken", Runtime::Python312, "missing_module.handler", "lambda/python-echo", 3).await;
    let (body, err, _) = invoke(&fl, "broken", serde_json::json!({})).await;
    assert_eq!(err.as_deref(), Some("Unhandled"));
    assert_eq!(body["errorType"], "Runtime.ImportModuleError");
    assert!(body["errorMessage"].as_str().unwrap().starts_with("Unable to import module 'missing_module'"), "{body}");
}

#[tokio::test]
async fn node_provided_and_hot_reload_runtimes() {
    let fl = Firelocal::start(&[]);
    let event = serde_json::json!({"records": [{"recordId": "r1", "approximateArrivalTimestamp": 0, "data": base64::engine::general_purpose::STANDARD.encode("abc")}]});
    create(&fl, "node", Runtime::Nodejs20x, "index.handler", "lambda/node-transform", 3).await;
    let (body, err, log) = invoke(&fl, "node", event.clone()).await;
    assert_eq!(err, None, "{body}");
    assert_eq!(body["records"][0]["data"], base64::engine::general_purpose::STANDARD.encode("abc\n"));
    assert!(log.contains("Processed 1 records."), "{log}");

    create(&fl, "custom", Runtime::Providedal2023, "unused", "lambda/provided-transform", 3).await;
    let (body, err, _) = invoke(&fl, "custom", event.clone()).await;
    assert_eq!(err, None, "{body}");
    assert_eq!(body["records"][0]["data"], base64::engine::general_purpose::STANDARD.encode("ABC\n"));

    // Hot reload: code read from a local folder at each cold start, no zip.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "def handler(e, c):\n    return 'v1'\n").unwrap();
    fl.lambda()
        .create_function()
        .function_name("hot")
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("app.handler")
        .code(FunctionCode::builder().s3_bucket("hot-reload").s3_key(dir.path().to_str().unwrap()).build())
        .send()
        .await
        .unwrap();
    let (body, _, _) = invoke(&fl, "hot", serde_json::json!({})).await;
    assert_eq!(body, "v1");
    std::fs::write(dir.path().join("app.py"), "def handler(e, c):\n    return 'v2'\n").unwrap();
    // A configuration update retires the warm worker; the next cold start reads the new code.
    fl.lambda().update_function_configuration().function_name("hot").description("reload").send().await.unwrap();
    let (body, _, _) = invoke(&fl, "hot", serde_json::json!({})).await;
    assert_eq!(body, "v2");
}

#[tokio::test]
async fn permissions_and_logs() {
    let fl = Firelocal::start(&[]);
    let lambda = fl.lambda();
    create(&fl, "echo", Runtime::Python312, "app.handler", "lambda/python-echo", 3).await;
    let e = lambda.get_policy().function_name("echo").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    lambda
        .add_permission()
        .function_name("echo")
        .statement_id("firehose")
        .action("lambda:InvokeFunction")
        .principal("firehose.amazonaws.com")
        .source_arn("arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks")
        .send()
        .await
        .unwrap();
    let e = lambda.add_permission().function_name("echo").statement_id("firehose").action("lambda:InvokeFunction").principal("s3.amazonaws.com").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    let policy: serde_json::Value = serde_json::from_str(lambda.get_policy().function_name("echo").send().await.unwrap().policy().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Principal"]["Service"], "firehose.amazonaws.com");
    lambda.remove_permission().function_name("echo").statement_id("firehose").send().await.unwrap();

    invoke(&fl, "echo", serde_json::json!({"marker": "find-me"})).await;
    let logs = fl.logs();
    let groups = logs.describe_log_groups().log_group_name_prefix("/aws/lambda/").send().await.unwrap();
    assert_eq!(groups.log_groups().iter().filter_map(|g| g.log_group_name()).collect::<Vec<_>>(), vec!["/aws/lambda/echo"]);
    let streams = logs.describe_log_streams().log_group_name("/aws/lambda/echo").send().await.unwrap();
    let stream = streams.log_streams()[0].log_stream_name().unwrap().to_string();
    assert!(stream.contains("[$LATEST]"), "{stream}");
    let events = logs.get_log_events().log_group_name("/aws/lambda/echo").log_stream_name(&stream).start_from_head(true).send().await.unwrap();
    let messages: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
    assert!(messages[0].starts_with("START RequestId:"), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("find-me")), "{messages:?}");
    let found = logs.filter_log_events().log_group_name("/aws/lambda/echo").filter_pattern("REPORT").send().await.unwrap();
    assert_eq!(found.events().len(), 1);
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
    let e = logs.get_log_events().log_group_name("/aws/lambda/none").log_stream_name("x").send().await.unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}
