//! The server itself: banner, health endpoints, routing of unemulated services, clean shutdown,
//! persistence across restarts.

use crate::common::Firelocal;

#[tokio::test]
async fn health_endpoints_report_services() {
    let fl = Firelocal::start(&[]);
    let v: serde_json::Value = fl.http().get(format!("{}/_firelocal/health", fl.endpoint)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["services"]["s3"], "running");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let v: serde_json::Value = fl.http().get(format!("{}/_localstack/health", fl.endpoint)).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["services"]["s3"], "running");
    assert_eq!(v["services"]["firehose"], "running");
    assert_eq!(v["services"]["athena"], "running");
    assert_eq!(v["services"]["glue"], "running");
    assert_eq!(v["services"]["quicksight"], "running");
    assert_eq!(v["services"]["cloudformation"], "running");
    assert_eq!(v["services"]["lambda"], "running");
    assert_eq!(v["services"]["apigateway"], "running");
    let r = fl.http().get(format!("{}/_firelocal/nope", fl.endpoint)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn unemulated_services_get_an_aws_error_naming_them() {
    let fl = Firelocal::start(&[]);
    // awsJson: an unknown X-Amz-Target.
    let r = fl
        .http()
        .post(format!("{}/", fl.endpoint))
        .header("x-amz-target", "DynamoDB_20120810.ListTables")
        .header("content-type", "application/x-amz-json-1.0")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    assert!(r.headers().contains_key("x-amzn-requestid"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["__type"], "NotImplemented");
    assert!(v["message"].as_str().unwrap().contains("DynamoDB_20120810"));
    // A service firelocal does not know, by its SigV4 scope, in its protocol (awsQuery XML).
    let r = fl
        .http()
        .post(format!("{}/", fl.endpoint))
        .header("authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListQueues&Version=2012-11-05")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    let body = r.text().await.unwrap();
    assert!(body.contains("<Code>NotImplemented</Code>") && body.contains("sqs"), "{body}");
}

#[tokio::test]
async fn sigterm_exits_cleanly() {
    let fl = Firelocal::start(&[]);
    assert_eq!(fl.stop(), Some(0));
}

#[tokio::test]
async fn data_dir_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fl = Firelocal::start(&["--data-dir", d]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("keep").send().await.unwrap();
    let big = vec![b'x'; 100_000];
    s3.put_object().bucket("keep").key("small").body(b"tiny".to_vec().into()).send().await.unwrap();
    s3.put_object().bucket("keep").key("big").body(big.clone().into()).send().await.unwrap();
    assert_eq!(fl.stop(), Some(0));

    let fl = Firelocal::start(&["--data-dir", d]);
    let s3 = fl.s3();
    let small = s3.get_object().bucket("keep").key("small").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(&small[..], b"tiny");
    let got = s3.get_object().bucket("keep").key("big").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(got.to_vec(), big);
}

#[tokio::test]
async fn ephemeral_state_is_gone_after_exit() {
    let fl = Firelocal::start(&[]);
    fl.s3().create_bucket().bucket("gone").send().await.unwrap();
    assert_eq!(fl.stop(), Some(0));
    let fl = Firelocal::start(&[]);
    assert!(fl.s3().head_bucket().bucket("gone").send().await.is_err());
}

/// botocore waits for `100 Continue` even on an empty PUT, as S3 sends it; without it the next
/// request on the same keep-alive connection hangs.
#[tokio::test]
async fn expect_continue_is_answered_for_empty_bodies() {
    use std::io::{Read, Write};
    let fl = Firelocal::start(&[]);
    fl.s3().create_bucket().bucket("expect").send().await.unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", fl.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    for key in ["empty", "again"] {
        write!(s, "PUT /expect/{key} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&got).contains("content-length: 0\r\n") || !got.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed");
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), "{text}");
    }
}

/// IAM and STS over awsQuery: a role, AssumeRole credentials, and who each caller is.
#[tokio::test]
async fn iam_roles_and_sts_identities() {
    let fl = Firelocal::start(&[]);
    let post = |service: &'static str, access_key: &'static str, form: String| {
        let http = fl.http();
        let url = format!("{}/", fl.endpoint);
        async move {
            let auth = format!("AWS4-HMAC-SHA256 Credential={access_key}/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0");
            let r = http.post(url).header("authorization", auth).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let trust = crate::common::form_encode(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#);
    let (status, body) = post("iam", "test", format!("Action=CreateRole&Version=2010-05-08&RoleName=firehose-delivery&AssumeRolePolicyDocument={trust}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Arn>arn:aws:iam::000000000000:role/firehose-delivery</Arn>"), "{body}");
    assert!(body.contains("<AssumeRolePolicyDocument>%7B%22Version%22"), "documents are URL-encoded: {body}");
    let (status, body) = post("iam", "test", format!("Action=CreateRole&Version=2010-05-08&RoleName=firehose-delivery&AssumeRolePolicyDocument={trust}")).await;
    assert_eq!(status, 409);
    assert!(body.contains("<Code>EntityAlreadyExists</Code>"), "{body}");
    let (status, body) = post("iam", "test", "Action=PutRolePolicy&Version=2010-05-08&RoleName=firehose-delivery&PolicyName=p&PolicyDocument=%7B".into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>MalformedPolicyDocument</Code>"), "{body}");
    let (status, body) = post("iam", "test", "Action=AttachRolePolicy&Version=2010-05-08&RoleName=firehose-delivery&PolicyArn=arn:aws:iam::aws:policy/AmazonS3FullAccess".into()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post("iam", "test", "Action=DeleteRole&Version=2010-05-08&RoleName=firehose-delivery".into()).await;
    assert_eq!(status, 409, "attached policies block deletion: {body}");

    let (_, body) = post("sts", "test", "Action=GetCallerIdentity&Version=2011-06-15".into()).await;
    assert!(body.contains("<Arn>arn:aws:iam::000000000000:root</Arn>") && body.contains("<Account>000000000000</Account>"), "{body}");
    let (status, body) = post("sts", "test", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/firehose-delivery&RoleSessionName=delivery".into()).await;
    assert_eq!(status, 200, "{body}");
    let key = body.split("<AccessKeyId>").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    let (_, body) = post("sts", Box::leak(key.into_boxed_str()), "Action=GetCallerIdentity&Version=2011-06-15".into()).await;
    assert!(body.contains("<Arn>arn:aws:sts::000000000000:assumed-role/firehose-delivery/delivery</Arn>"), "{body}");
    let (status, body) = post("sts", "test", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/missing&RoleSessionName=x1".into()).await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}

/// `--verify-signatures`: the right secret works (header and presigned), a wrong secret or an
/// unknown key is refused as each protocol refuses it, unsigned requests stay anonymous.
#[tokio::test]
async fn verify_signatures_mode() {
    let fl = Firelocal::start(&["--verify-signatures"]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("signed").send().await.unwrap();
    s3.put_object().bucket("signed").key("dir/a b+c.txt").body(b"ok".to_vec().into()).send().await.unwrap();
    let listed = s3.list_objects_v2().bucket("signed").prefix("dir/").delimiter("/").send().await.unwrap();
    assert_eq!(listed.contents().len(), 1);
    let cfg = aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60)).unwrap();
    let url = s3.get_object().bucket("signed").key("dir/a b+c.txt").presigned(cfg).await.unwrap();
    assert_eq!(fl.http().get(url.uri()).send().await.unwrap().text().await.unwrap(), "ok");

    let wrong = aws_sdk_s3::Client::from_conf(
        s3.config().to_builder().credentials_provider(aws_sdk_s3::config::Credentials::new("test", "not-the-secret", None, None, "static")).build(),
    );
    let e = wrong.get_object().bucket("signed").key("dir/a b+c.txt").send().await.unwrap_err();
    assert_eq!(crate::common::code(&e), "SignatureDoesNotMatch");
    let unknown = aws_sdk_s3::Client::from_conf(
        s3.config().to_builder().credentials_provider(aws_sdk_s3::config::Credentials::new("AKIAUNKNOWN", "x", None, None, "static")).build(),
    );
    let e = unknown.list_buckets().send().await.unwrap_err();
    assert_eq!(crate::common::code(&e), "InvalidAccessKeyId");

    // JSON services answer with their own codes.
    let fh = fl.firehose();
    let bad_fh = aws_sdk_firehose::Client::from_conf(
        fh.config().to_builder().credentials_provider(aws_sdk_firehose::config::Credentials::new("test", "nope", None, None, "static")).build(),
    );
    use aws_sdk_firehose::error::ProvideErrorMetadata;
    let e = bad_fh.list_delivery_streams().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidSignatureException"));
    fh.list_delivery_streams().send().await.unwrap();
    // Unsigned requests are anonymous.
    assert_eq!(fl.http().get(format!("{}/signed/dir/a%20b%2Bc.txt", fl.endpoint)).send().await.unwrap().status(), 200);
}

/// `firelocal demo`: the seed's pipeline deployed, clicks sent through the REST API, and Athena's
/// count of them printed, all from one command; it checks its own result and exits non-zero when
/// a hop fails.
#[test]
fn the_demo_runs_the_whole_pipeline() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_firelocal")).args(["demo", "--port", "0", "--events", "300", "--concurrency", "8", "--exit"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("stack clickstream: 19 resources"), "{stdout}");
    let total = stdout.lines().find(|l| l.trim_start().starts_with("total")).and_then(|l| l.split_whitespace().last()).unwrap_or_default();
    assert_eq!(total, "300", "{stdout}");
    assert!(stdout.contains("menu_item") && stdout.contains("█") && stdout.contains("/_firelocal/console/dashboards/clickstream-clicks"), "{stdout}");
    // Seeded: the same command gives the same counts.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_firelocal")).args(["gen-events", "--count", "5", "--seed", "9"]).output().unwrap();
    let twice = std::process::Command::new(env!("CARGO_BIN_EXE_firelocal")).args(["gen-events", "--count", "5", "--seed", "9"]).output().unwrap();
    assert_eq!(again.stdout, twice.stdout);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&again.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|e| e["element_clicked"].is_string() && e["restaurant_name"].is_string() && e["created_at"].is_string()));
}

/// `serve --record` then `firelocal replay`: the recording of a demo run replays with no
/// difference; a response changed in the recording is reported, with a non-zero exit; and the
/// recorded seed run in fixtures/ replays cleanly.
#[test]
fn record_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.jsonl");
    let fl = Firelocal::start(&["--record", file.to_str().unwrap()]);
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_firelocal")).args(["demo", "--endpoint", &fl.endpoint, "--events", "20", "--concurrency", "1", "--exit"]).output().unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stdout));
    fl.stop();
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(recorded.lines().count() > 20 && recorded.contains("\"authorization\":\"REDACTED\"") && !recorded.contains("Signature=0"));
    let replay = |path: &std::path::Path| std::process::Command::new(env!("CARGO_BIN_EXE_firelocal")).args(["replay", path.to_str().unwrap()]).output().unwrap();
    let out = replay(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no differences"));
    // One answer changed: Athena's count of the first element.
    let changed: String = recorded
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["operation"] == "GetQueryResults" && v["response"]["body"].as_str().is_some_and(|b| b.contains("clicks")) {
                let body = v["response"]["body"].as_str().unwrap().replacen("\"VarCharValue\":\"menu_item\"", "\"VarCharValue\":\"menu_items\"", 1);
                v["response"]["body"] = body.into();
            }
            v.to_string() + "\n"
        })
        .collect();
    let changed_file = dir.path().join("changed.jsonl");
    std::fs::write(&changed_file, changed).unwrap();
    let out = replay(&changed_file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("athena GetQueryResults") && stdout.contains("\"menu_items\" → \"menu_item\"") && stdout.contains("1 differ"), "{stdout}");
    // The recorded seed run kept in fixtures/.
    let out = replay(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recordings/seed-demo.jsonl")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
