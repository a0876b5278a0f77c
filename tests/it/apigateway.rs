//! API Gateway through aws-sdk-apigateway, invoked with plain HTTP: the seed's clickstream API
//! (AWS integration into Firehose PutRecord, through to S3), both invoke URL forms, MOCK CORS
//! preflight, Lambda proxy, route matching, template selection, and the error answers.

use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
use aws_sdk_lambda::types::{FunctionCode, Runtime};

use crate::common::{Firelocal, bucket, fixture_zip};

fn code<E: aws_sdk_apigateway::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}

const SEED_TEMPLATE: &str = r#"{"DeliveryStreamName": "clickstream", "Record": {"Data": "$util.base64Encode($input.body)"}}"#;

/// The seed's API: POST /clickstream -> Firehose PutRecord. Returns (api id, resource id).
async fn seed_api(fl: &Firelocal) -> (String, String) {
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("clickstream-api").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let res = gw.create_resource().rest_api_id(&id).parent_id(api.root_resource_id().unwrap()).path_part("clickstream").send().await.unwrap();
    let rid = res.id().unwrap().to_string();
    gw.put_method().rest_api_id(&id).resource_id(&rid).http_method("POST").authorization_type("NONE").send().await.unwrap();
    gw.put_integration()
        .rest_api_id(&id)
        .resource_id(&rid)
        .http_method("POST")
        .r#type(IntegrationType::Aws)
        .integration_http_method("POST")
        .uri("arn:aws:apigateway:us-east-1:firehose:action/PutRecord")
        .credentials("arn:aws:iam::000000000000:role/apigateway-firehose")
        .request_templates("application/json", SEED_TEMPLATE)
        .send()
        .await
        .unwrap();
    gw.put_method_response().rest_api_id(&id).resource_id(&rid).http_method("POST").status_code("200").send().await.unwrap();
    gw.put_integration_response().rest_api_id(&id).resource_id(&rid).http_method("POST").status_code("200").selection_pattern("").send().await.unwrap();
    gw.put_integration_response()
        .rest_api_id(&id)
        .resource_id(&rid)
        .http_method("POST")
        .status_code("400")
        .selection_pattern("4\\d{2}")
        .response_templates("application/json", r#"{"error": $input.json('$.__type')}"#)
        .send()
        .await
        .unwrap();
    (id, rid)
}

#[tokio::test]
async fn seed_clickstream_api_into_firehose_and_s3() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "clickstream-data").await;
    fl.firehose()
        .create_delivery_stream()
        .delivery_stream_name("clickstream")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::000000000000:role/firehose")
                .bucket_arn(format!("arn:aws:s3:::{b}"))
                .prefix("clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/")
                .error_output_prefix("errors/!{firehose:error-output-type}/")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (id, _) = seed_api(&fl).await;
    let gw = fl.apigateway();
    // Not deployed yet: no stage serves it.
    let url = format!("{}/restapis/{id}/prod/_user_request_/clickstream", fl.endpoint);
    let r = fl.http().post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 403);
    gw.create_deployment().rest_api_id(&id).stage_name("prod").send().await.unwrap();

    let http = fl.http();
    let mut sent = String::new();
    for i in 0..5 {
        let event = format!("{{\"event_id\":{i},\"element_clicked\":\"button-{i}\"}}");
        let r = http.post(&url).header("content-type", "application/json").body(event.clone()).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["RecordId"].as_str().is_some_and(|s| !s.is_empty()) && v["Encrypted"] == false, "{v}");
        sent.push_str(&event);
    }
    // The host form of the invoke URL.
    let r = http
        .post(format!("{}/prod/clickstream", fl.endpoint))
        .header("host", format!("{id}.execute-api.localhost:{}", fl.port))
        .body(r#"{"via":"host"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sent.push_str(r#"{"via":"host"}"#);
    fl.flush(None).await;
    let list = s3.list_objects_v2().bucket(&b).prefix("clickstream/").send().await.unwrap();
    assert_eq!(list.contents().len(), 1);
    let key = list.contents()[0].key().unwrap();
    let body = s3.get_object().bucket(&b).key(key).send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(String::from_utf8(body.to_vec()).unwrap(), sent);

    // A Firehose error comes back through the 4xx integration response.
    fl.firehose().delete_delivery_stream().delivery_stream_name("clickstream").send().await.unwrap();
    let r = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "ResourceNotFoundException");

    // Unknown route and method: AWS's 403 Missing Authentication Token.
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["message"], "Missing Authentication Token");
    let r = http.post(format!("{}/restapis/{id}/prod/_user_request_/other", fl.endpoint)).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn control_plane_and_errors() {
    let fl = Firelocal::start(&[]);
    let gw = fl.apigateway();
    let (id, rid) = seed_api(&fl).await;
    let apis = gw.get_rest_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    let resources = gw.get_resources().rest_api_id(&id).send().await.unwrap();
    let paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    assert_eq!(paths, vec!["/", "/clickstream"]);
    let m = gw.get_method().rest_api_id(&id).resource_id(&rid).http_method("POST").send().await.unwrap();
    assert_eq!(m.method_integration().and_then(|i| i.uri()), Some("arn:aws:apigateway:us-east-1:firehose:action/PutRecord"));
    let i = gw.get_integration().rest_api_id(&id).resource_id(&rid).http_method("POST").send().await.unwrap();
    assert_eq!(i.request_templates().and_then(|t| t.get("application/json")).map(String::as_str), Some(SEED_TEMPLATE));

    let e = gw.get_rest_api().rest_api_id("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "NotFoundException");
    let e = gw.create_resource().rest_api_id(&id).parent_id(resources.items()[0].id().unwrap()).path_part("clickstream").send().await.unwrap_err();
    assert_eq!(code(&e), "ConflictException");
    let e = gw.put_method().rest_api_id(&id).resource_id(&rid).http_method("POST").authorization_type("NONE").send().await.unwrap_err();
    assert_eq!(code(&e), "ConflictException");
    let e = gw.put_method().rest_api_id(&id).resource_id(&rid).http_method("FETCH").authorization_type("NONE").send().await.unwrap_err();
    assert_eq!(code(&e), "BadRequestException");
    let e = gw.get_integration().rest_api_id(&id).resource_id("zzzz").http_method("POST").send().await.unwrap_err();
    assert_eq!(code(&e), "NotFoundException");

    // Stages: variables, update, delete.
    let d = gw.create_deployment().rest_api_id(&id).stage_name("dev").variables("stream", "clickstream").send().await.unwrap();
    let st = gw.get_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap();
    assert_eq!(st.deployment_id(), d.id());
    assert_eq!(st.variables().and_then(|v| v.get("stream")).map(String::as_str), Some("clickstream"));
    gw.update_stage()
        .rest_api_id(&id)
        .stage_name("dev")
        .patch_operations(PatchOperation::builder().op(Op::Replace).path("/variables/stream").value("other").build())
        .send()
        .await
        .unwrap();
    let st = gw.get_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap();
    assert_eq!(st.variables().and_then(|v| v.get("stream")).map(String::as_str), Some("other"));
    assert_eq!(gw.get_stages().rest_api_id(&id).send().await.unwrap().item().len(), 1);
    gw.delete_stage().rest_api_id(&id).stage_name("dev").send().await.unwrap();
    gw.delete_rest_api().rest_api_id(&id).send().await.unwrap();
    assert!(gw.get_rest_apis().send().await.unwrap().items().is_empty());
}

#[tokio::test]
async fn mock_cors_preflight_routes_and_templates() {
    let fl = Firelocal::start(&[]);
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("routes").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let root = api.root_resource_id().unwrap().to_string();
    let items = gw.create_resource().rest_api_id(&id).parent_id(&root).path_part("items").send().await.unwrap().id().unwrap().to_string();
    let item = gw.create_resource().rest_api_id(&id).parent_id(&items).path_part("{itemId}").send().await.unwrap().id().unwrap().to_string();
    let fixed = gw.create_resource().rest_api_id(&id).parent_id(&items).path_part("special").send().await.unwrap().id().unwrap().to_string();
    let proxy = gw.create_resource().rest_api_id(&id).parent_id(&root).path_part("{proxy+}").send().await.unwrap().id().unwrap().to_string();
    // Each resource answers a MOCK that names which route matched.
    for (rid, method, name) in [(&item, "GET", "item"), (&fixed, "GET", "special"), (&proxy, "ANY", "proxy"), (&items, "OPTIONS", "cors")] {
        gw.put_method().rest_api_id(&id).resource_id(rid).http_method(method).authorization_type("NONE").send().await.unwrap();
        gw.put_integration()
            .rest_api_id(&id)
            .resource_id(rid)
            .http_method(method)
            .r#type(IntegrationType::Mock)
            .request_templates("application/json", r#"{"statusCode": 200}"#)
            .passthrough_behavior("NEVER")
            .send()
            .await
            .unwrap();
        let mut mr = gw.put_method_response().rest_api_id(&id).resource_id(rid).http_method(method).status_code("200");
        if name == "cors" {
            for h in ["Origin", "Methods", "Headers"] {
                mr = mr.response_parameters(format!("method.response.header.Access-Control-Allow-{h}"), false);
            }
        }
        mr.send().await.unwrap();
        let mut ir = gw
            .put_integration_response()
            .rest_api_id(&id)
            .resource_id(rid)
            .http_method(method)
            .status_code("200")
            .response_templates("application/json", format!(r#"{{"route": "{name}", "id": "$input.params('itemId')", "proxy": "$input.params('proxy')", "stage": "$context.stage"}}"#));
        if name == "cors" {
            ir = ir
                .response_parameters("method.response.header.Access-Control-Allow-Origin", "'*'")
                .response_parameters("method.response.header.Access-Control-Allow-Methods", "'POST,OPTIONS'")
                .response_parameters("method.response.header.Access-Control-Allow-Headers", "'Content-Type'");
        }
        ir.send().await.unwrap();
    }
    gw.create_deployment().rest_api_id(&id).stage_name("v1").send().await.unwrap();
    let base = format!("{}/restapis/{id}/v1/_user_request_", fl.endpoint);
    let get = |p: &str| {
        let url = format!("{base}{p}");
        let http = fl.http();
        async move { http.get(url).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    assert_eq!(get("/items/42").await, serde_json::json!({"route": "item", "id": "42", "proxy": "", "stage": "v1"}));
    assert_eq!(get("/items/special").await["route"], "special", "literal parts win over parameters");
    assert_eq!(get("/a/b/c").await, serde_json::json!({"route": "proxy", "id": "", "proxy": "a/b/c", "stage": "v1"}));

    let r = fl.http().request(reqwest::Method::OPTIONS, format!("{base}/items")).header("origin", "http://page.example").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["access-control-allow-methods"], "POST,OPTIONS");
    // NEVER passthrough: a content type with no template is 415.
    let r = fl.http().get(format!("{base}/items/1")).header("content-type", "text/plain").body("x").send().await.unwrap();
    assert_eq!(r.status(), 415);
    // A template that does not parse is AWS's 500.
    gw.put_integration()
        .rest_api_id(&id)
        .resource_id(&fixed)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "#if(")
        .send()
        .await
        .unwrap();
    gw.create_deployment().rest_api_id(&id).stage_name("v1").send().await.unwrap();
    let r = fl.http().get(format!("{base}/items/special")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["message"], "Internal server error");
}

#[tokio::test]
async fn lambda_proxy_integration() {
    let fl = Firelocal::start(&[]);
    let arn = fl
        .lambda()
        .create_function()
        .function_name("proxy")
        .runtime(Runtime::Python312)
        .role("arn:aws:iam::000000000000:role/lambda")
        .handler("app.handler")
        .code(FunctionCode::builder().zip_file(aws_sdk_lambda::primitives::Blob::new(fixture_zip("lambda/proxy-echo"))).build())
        .send()
        .await
        .unwrap()
        .function_arn()
        .unwrap()
        .to_string();
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("proxy").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let res = gw.create_resource().rest_api_id(&id).parent_id(api.root_resource_id().unwrap()).path_part("{name}").send().await.unwrap();
    let rid = res.id().unwrap();
    gw.put_method().rest_api_id(&id).resource_id(rid).http_method("ANY").authorization_type("NONE").send().await.unwrap();
    gw.put_integration()
        .rest_api_id(&id)
        .resource_id(rid)
        .http_method("ANY")
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"))
        .send()
        .await
        .unwrap();
    gw.create_deployment().rest_api_id(&id).stage_name("prod").variables("env", "local").send().await.unwrap();
    let url = format!("{}/restapis/{id}/prod/_user_request_/alice?x=1", fl.endpoint);
    let r = fl.http().put(&url).body("payload").send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-echo"], "yes");
    assert_eq!(r.headers().get_all("x-multi").iter().count(), 2);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["resource"], "/{name}");
    assert_eq!(v["path"], "/alice");
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["pathParameters"]["name"], "alice");
    assert_eq!(v["query"]["x"], "1");
    assert_eq!((v["stage"].as_str(), v["stageVariables"]["env"].as_str(), v["body"].as_str()), (Some("prod"), Some("local"), Some("payload")));
    // A malformed proxy response is AWS's 502.
    let r = fl.http().get(format!("{}/restapis/{id}/prod/_user_request_/bob?malformed=1", fl.endpoint)).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["message"], "Internal server error");
}

#[tokio::test]
async fn api_keys_and_http_proxy_to_a_loopback_service() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "behind-proxy").await;
    s3.put_object().bucket(&b).key("docs/readme.txt").body(b"proxied bytes".to_vec().into()).send().await.unwrap();
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("proxy-to-s3").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let res = gw.create_resource().rest_api_id(&id).parent_id(api.root_resource_id().unwrap()).path_part("{proxy+}").send().await.unwrap();
    let rid = res.id().unwrap();
    gw.put_method()
        .rest_api_id(&id)
        .resource_id(rid)
        .http_method("GET")
        .authorization_type("NONE")
        .api_key_required(true)
        .request_parameters("method.request.path.proxy", true)
        .send()
        .await
        .unwrap();
    // HTTP_PROXY to firelocal's own S3 (a loopback URL), with a mapped header.
    gw.put_integration()
        .rest_api_id(&id)
        .resource_id(rid)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://127.0.0.1:{}/{b}/{{proxy}}", fl.port))
        .request_parameters("integration.request.path.proxy", "method.request.path.proxy")
        .request_parameters("integration.request.header.x-amz-meta-ignored", "'literal'")
        .send()
        .await
        .unwrap();
    gw.create_deployment().rest_api_id(&id).stage_name("prod").send().await.unwrap();
    let url = format!("{}/restapis/{id}/prod/_user_request_/docs/readme.txt", fl.endpoint);
    assert_eq!(fl.http().get(&url).send().await.unwrap().status(), 403, "no key");
    assert_eq!(fl.http().get(&url).header("x-api-key", "wrong-key-wrong-key-wrong").send().await.unwrap().status(), 403);

    let key = gw.create_api_key().name("client").enabled(true).send().await.unwrap();
    let value = key.value().unwrap().to_string();
    assert_eq!(fl.http().get(&url).header("x-api-key", &value).send().await.unwrap().status(), 403, "a key outside any usage plan");
    let plan = gw
        .create_usage_plan()
        .name("basic")
        .api_stages(aws_sdk_apigateway::types::ApiStage::builder().api_id(&id).stage("prod").build())
        .send()
        .await
        .unwrap();
    gw.create_usage_plan_key().usage_plan_id(plan.id().unwrap()).key_id(key.id().unwrap()).key_type("API_KEY").send().await.unwrap();
    let r = fl.http().get(&url).header("x-api-key", &value).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "proxied bytes");
    let r = fl.http().get(format!("{}/restapis/{id}/prod/_user_request_/docs/missing", fl.endpoint)).header("x-api-key", &value).send().await.unwrap();
    assert_eq!(r.status(), 404, "the backend's status passes through");
    let keys = gw.get_usage_plan_keys().usage_plan_id(plan.id().unwrap()).send().await.unwrap();
    assert_eq!(keys.items().len(), 1);
    let e = gw.create_usage_plan_key().usage_plan_id(plan.id().unwrap()).key_id(key.id().unwrap()).key_type("API_KEY").send().await.unwrap_err();
    assert_eq!(code(&e), "ConflictException");
}

#[tokio::test]
async fn openapi_import_and_put() {
    let fl = Firelocal::start(&[]);
    let gw = fl.apigateway();
    let doc = r#"
openapi: "3.0.1"
info:
  title: imported-api
paths:
  /hello/{name}:
    get:
      parameters:
        - { name: name, in: path, required: true }
      responses: { "200": { description: ok } }
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses:
          default:
            statusCode: "200"
            responseTemplates: { application/json: '{"hello": "$input.params(''name'')"}' }
"#;
    let api = gw.import_rest_api().body(aws_sdk_apigateway::primitives::Blob::new(doc)).send().await.unwrap();
    let id = api.id().unwrap().to_string();
    assert_eq!(api.name(), Some("imported-api"));
    let paths: Vec<String> = gw.get_resources().rest_api_id(&id).send().await.unwrap().items().iter().filter_map(|r| r.path().map(String::from)).collect();
    assert_eq!(paths, vec!["/", "/hello", "/hello/{name}"]);
    gw.create_deployment().rest_api_id(&id).stage_name("v1").send().await.unwrap();
    let r = fl.http().get(format!("{}/restapis/{id}/v1/_user_request_/hello/world", fl.endpoint)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"hello": "world"}));

    // PutRestApi in overwrite mode replaces the resources.
    let doc2 = r#"{"openapi": "3.0.1", "info": {"title": "v2"}, "paths": {"/bye": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}, "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"bye\": true}"}}}}}}}}"#;
    gw.put_rest_api().rest_api_id(&id).mode(aws_sdk_apigateway::types::PutMode::Overwrite).body(aws_sdk_apigateway::primitives::Blob::new(doc2)).send().await.unwrap();
    let paths: Vec<String> = gw.get_resources().rest_api_id(&id).send().await.unwrap().items().iter().filter_map(|r| r.path().map(String::from)).collect();
    assert_eq!(paths, vec!["/", "/bye"]);
    let e = gw.import_rest_api().body(aws_sdk_apigateway::primitives::Blob::new("not an api")).send().await.unwrap_err();
    assert_eq!(code(&e), "BadRequestException");
}

#[tokio::test]
async fn aws_integration_to_s3_object_paths() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "api-objects").await;
    let gw = fl.apigateway();
    let api = gw.create_rest_api().name("objects").send().await.unwrap();
    let id = api.id().unwrap().to_string();
    let res = gw.create_resource().rest_api_id(&id).parent_id(api.root_resource_id().unwrap()).path_part("{item}").send().await.unwrap();
    let rid = res.id().unwrap();
    for method in ["PUT", "GET"] {
        gw.put_method().rest_api_id(&id).resource_id(rid).http_method(method).authorization_type("NONE").send().await.unwrap();
        gw.put_integration()
            .rest_api_id(&id)
            .resource_id(rid)
            .http_method(method)
            .r#type(IntegrationType::Aws)
            .integration_http_method(method)
            .uri(format!("arn:aws:apigateway:us-east-1:s3:path/{b}/uploads/{{key}}"))
            .request_parameters("integration.request.path.key", "method.request.path.item")
            .send()
            .await
            .unwrap();
        gw.put_integration_response().rest_api_id(&id).resource_id(rid).http_method(method).status_code("200").selection_pattern("").send().await.unwrap();
        gw.put_integration_response().rest_api_id(&id).resource_id(rid).http_method(method).status_code("404").selection_pattern("404").send().await.unwrap();
    }
    gw.create_deployment().rest_api_id(&id).stage_name("prod").send().await.unwrap();
    let url = format!("{}/restapis/{id}/prod/_user_request_/report.json", fl.endpoint);
    assert_eq!(fl.http().put(&url).header("content-type", "application/json").body(r#"{"ok":true}"#).send().await.unwrap().status(), 200);
    let stored = s3.get_object().bucket(&b).key("uploads/report.json").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(&stored[..], br#"{"ok":true}"#);
    let r = fl.http().get(&url).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, r#"{"ok":true}"#.to_string()));
    let r = fl.http().get(format!("{}/restapis/{id}/prod/_user_request_/missing", fl.endpoint)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
