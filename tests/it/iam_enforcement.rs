//! `--enforce-iam` on the pipeline's hops: API Gateway's AWS integration acts as its credentials
//! role, Firehose as its RoleARN (S3 writes, the Lambda transform). The seed's least-privilege
//! roles let the flow run; removing a statement breaks exactly that hop with AWS's error, a Deny
//! overrides an Allow, and denied records are kept and delivered once the role is fixed.

use aws_sdk_firehose::types::{CloudWatchLoggingOptions, ExtendedS3DestinationConfiguration, ProcessingConfiguration, Processor, ProcessorParameter, ProcessorParameterName, ProcessorType};
use aws_sdk_lambda::types::{FunctionCode, Runtime};

use crate::common::{Firelocal, bucket, fixture_zip, form_encode};

const STREAM_ARN: &str = "arn:aws:firehose:us-east-1:000000000000:deliverystream/clickstream";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:transform";
/// The Lambda execution role's least-privilege logs statement.
const LAMBDA_LOGS: &str = r#"{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/transform:*"}"#;

async fn iam(fl: &Firelocal, form: String) -> (u16, String) {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
    let r = fl.http().post(format!("{}/", fl.endpoint)).header("authorization", auth).header("content-type", "application/x-www-form-urlencoded").body(format!("Version=2010-05-08&{form}")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn role(fl: &Firelocal, name: &str, service: &str) {
    let trust = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#);
    let (status, body) = iam(fl, format!("Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={}", form_encode(&trust))).await;
    assert_eq!(status, 200, "{body}");
}

async fn policy(fl: &Firelocal, role: &str, name: &str, statements: &str) {
    let doc = format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let (status, body) = iam(fl, format!("Action=PutRolePolicy&RoleName={role}&PolicyName={name}&PolicyDocument={}", form_encode(&doc))).await;
    assert_eq!(status, 200, "{body}");
}

async fn remove_policy(fl: &Firelocal, role: &str, name: &str) {
    let (status, body) = iam(fl, format!("Action=DeleteRolePolicy&RoleName={role}&PolicyName={name}")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn seed_roles_gate_each_hop() {
    let fl = Firelocal::start(&["--enforce-iam"]);
    let s3 = fl.s3();
    let b = bucket(&s3, "clicks").await;
    role(&fl, "lambda-exec", "lambda.amazonaws.com").await;
    policy(&fl, "lambda-exec", "logs", LAMBDA_LOGS).await;
    fl.lambda()
        .create_function()
        .function_name("transform")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda-exec")
        .handler("app.lambda_handler")
        .code(FunctionCode::builder().zip_file(aws_sdk_lambda::primitives::Blob::new(fixture_zip("lambda/python-transform"))).build())
        .send()
        .await
        .unwrap();
    role(&fl, "firehose-delivery", "firehose.amazonaws.com").await;
    policy(&fl, "firehose-delivery", "s3", r#"{"Effect":"Allow","Action":["s3:PutObject","s3:AbortMultipartUpload","s3:GetBucketLocation","s3:ListBucket"],"Resource":["arn:aws:s3:::clicks","arn:aws:s3:::clicks/*"]}"#).await;
    policy(&fl, "firehose-delivery", "transform", &format!(r#"{{"Effect":"Allow","Action":["lambda:InvokeFunction","lambda:GetFunctionConfiguration"],"Resource":"{FUNCTION_ARN}"}}"#)).await;
    role(&fl, "apigateway-firehose", "apigateway.amazonaws.com").await;
    policy(&fl, "apigateway-firehose", "put", &format!(r#"{{"Effect":"Allow","Action":"firehose:PutRecord","Resource":"{STREAM_ARN}"}}"#)).await;

    // Delivery errors are logged where CloudWatchLoggingOptions points (the group and stream
    // must exist, as on AWS).
    let logs = fl.logs();
    logs.create_log_group().log_group_name("/aws/kinesisfirehose/clickstream").send().await.unwrap();
    logs.create_log_stream().log_group_name("/aws/kinesisfirehose/clickstream").log_stream_name("DestinationDelivery").send().await.unwrap();
    let error_events = || async {
        let out = logs.get_log_events().log_group_name("/aws/kinesisfirehose/clickstream").log_stream_name("DestinationDelivery").start_from_head(true).send().await.unwrap();
        out.events().iter().map(|e| serde_json::from_str::<serde_json::Value>(e.message().unwrap()).unwrap()).collect::<Vec<_>>()
    };
    let param = |n: ProcessorParameterName, v: &str| ProcessorParameter::builder().parameter_name(n).parameter_value(v).build().unwrap();
    fl.firehose()
        .create_delivery_stream()
        .delivery_stream_name("clickstream")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::000000000000:role/firehose-delivery")
                .bucket_arn(format!("arn:aws:s3:::{b}"))
                .prefix("clickstream/")
                .cloud_watch_logging_options(CloudWatchLoggingOptions::builder().enabled(true).log_group_name("/aws/kinesisfirehose/clickstream").log_stream_name("DestinationDelivery").build())
                .processing_configuration(
                    ProcessingConfiguration::builder()
                        .enabled(true)
                        .processors(Processor::builder().r#type(ProcessorType::Lambda).parameters(param(ProcessorParameterName::LambdaArn, FUNCTION_ARN)).build().unwrap())
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("clicks").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let rid = gw.create_resource().rest_api_id(&id).parent_id(api.root_resource_id().unwrap()).path_part("clickstream").send().await.unwrap().id().unwrap().to_string();
    gw.put_method().rest_api_id(&id).resource_id(&rid).http_method("POST").authorization_type("NONE").send().await.unwrap();
    gw.put_integration()
        .rest_api_id(&id)
        .resource_id(&rid)
        .http_method("POST")
        .r#type(aws_sdk_apigateway::types::IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:firehose:action/PutRecord")
        .credentials("arn:aws:iam::000000000000:role/apigateway-firehose")
        .request_templates("application/json", r#"{"DeliveryStreamName": "clickstream", "Record": {"Data": "$util.base64Encode($input.body)"}}"#)
        .send()
        .await
        .unwrap();
    for (status, pattern) in [("200", ""), ("400", "4\\d{2}")] {
        gw.put_method_response().rest_api_id(&id).resource_id(&rid).http_method("POST").status_code(status).send().await.unwrap();
        gw.put_integration_response().rest_api_id(&id).resource_id(&rid).http_method("POST").status_code(status).selection_pattern(pattern).send().await.unwrap();
    }
    gw.create_deployment().rest_api_id(&id).stage_name("prod").send().await.unwrap();
    let url = format!("{}/restapis/{id}/prod/_user_request_/clickstream", fl.endpoint);
    let post = |body: &'static str| {
        let (http, url) = (fl.http(), url.clone());
        async move {
            let r = http.post(url).header("content-type", "application/json").body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let objects = || async { s3.list_objects_v2().bucket(&b).send().await.unwrap().contents().len() };

    // Least privilege is enough for the whole flow.
    assert_eq!(post(r#"{"n":1}"#).await.0, 200);
    let report = fl.flush(None).await;
    assert_eq!(report["streams"]["clickstream"]["pending_records"], 0, "{report}");
    assert_eq!(objects().await, 1);
    // Lambda wrote the transform's logs as its execution role.
    let function_events = || async {
        let out = fl.logs().filter_log_events().log_group_name("/aws/lambda/transform").send().await;
        out.map(|o| o.events().len()).unwrap_or(0)
    };
    let logged = function_events().await;
    assert!(logged > 0, "the transform's START/END/REPORT lines are in CloudWatch Logs");
    // The execution role loses its logs statement: the next invocation's lines are not written
    // (the invocation itself still works).
    remove_policy(&fl, "lambda-exec", "logs").await;
    assert_eq!(post(r#"{"n":1.5}"#).await.0, 200);
    assert_eq!(fl.flush(None).await["streams"]["clickstream"]["pending_records"], 0);
    assert_eq!(objects().await, 2);
    assert_eq!(function_events().await, logged);
    policy(&fl, "lambda-exec", "logs", LAMBDA_LOGS).await;

    // API Gateway's role loses firehose:PutRecord: the integration gets AWS's AccessDenied.
    remove_policy(&fl, "apigateway-firehose", "put").await;
    let (status, body) = post(r#"{"n":2}"#).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("AccessDeniedException") && body.contains("is not authorized to perform: firehose:PutRecord on resource: arn:aws:firehose:us-east-1:000000000000:deliverystream/clickstream"), "{body}");
    policy(&fl, "apigateway-firehose", "put", &format!(r#"{{"Effect":"Allow","Action":"firehose:PutRecord","Resource":"{STREAM_ARN}"}}"#)).await;
    assert_eq!(post(r#"{"n":3}"#).await.0, 200);

    // Firehose's role loses s3:PutObject: delivery fails with S3.AccessDenied, the record is kept.
    remove_policy(&fl, "firehose-delivery", "s3").await;
    let report = fl.flush(None).await;
    assert_eq!(report["streams"]["clickstream"]["pending_records"], 1, "{report}");
    assert!(report["streams"]["clickstream"]["error"].as_str().unwrap().starts_with("S3.AccessDenied: User: arn:aws:sts::000000000000:assumed-role/firehose-delivery/"), "{report}");
    let events = error_events().await;
    assert!(!events.is_empty(), "one event per failed attempt");
    assert_eq!(events[0]["errorCode"], "S3.AccessDenied");
    assert_eq!(events[0]["deliveryStreamARN"], STREAM_ARN);
    assert_eq!(events[0]["destination"], format!("arn:aws:s3:::{b}"));
    assert!(events[0]["message"].as_str().unwrap().contains("is not authorized to perform: s3:PutObject"), "{events:?}");
    // ... then the transform: Lambda.InvokeAccessDenied.
    policy(&fl, "firehose-delivery", "s3", r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::clicks/*"}"#).await;
    remove_policy(&fl, "firehose-delivery", "transform").await;
    let report = fl.flush(None).await;
    assert!(report["streams"]["clickstream"]["error"].as_str().unwrap().starts_with("Lambda.InvokeAccessDenied:"), "{report}");
    assert_eq!(error_events().await.last().unwrap()["errorCode"], "Lambda.InvokeAccessDenied");
    // A Deny overrides the Allow.
    policy(&fl, "firehose-delivery", "transform", &format!(r#"{{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"{FUNCTION_ARN}"}}"#)).await;
    policy(&fl, "firehose-delivery", "no-writes", r#"{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}"#).await;
    let report = fl.flush(None).await;
    assert!(report["streams"]["clickstream"]["error"].as_str().unwrap().starts_with("S3.AccessDenied:"), "{report}");
    // Fixed: the kept record is delivered.
    remove_policy(&fl, "firehose-delivery", "no-writes").await;
    let report = fl.flush(None).await;
    assert_eq!(report["streams"]["clickstream"]["pending_records"], 0, "{report}");
    assert_eq!(objects().await, 3);
}
