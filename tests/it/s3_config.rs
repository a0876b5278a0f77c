//! S3 bucket configurations, object tags, CORS and ListObjectVersions through aws-sdk-s3:
//! the calls as the Rust SDK makes them (its own XML and checksums), and AWS's errors.

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, ServerSideEncryption, Tag, Tagging,
};

use crate::common::{Firelocal, code, status};

#[tokio::test]
async fn configurations_round_trip_and_errors() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("conf").send().await.unwrap();

    // Never set: S3's own errors.
    let e = s3.get_bucket_tagging().bucket("conf").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchTagSet".into(), 404));
    let e = s3.get_bucket_cors().bucket("conf").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchCORSConfiguration".into(), 404));
    let e = s3.get_bucket_lifecycle_configuration().bucket("conf").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchLifecycleConfiguration".into(), 404));
    // S3's defaults for a new bucket.
    let enc = s3.get_bucket_encryption().bucket("conf").send().await.unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().map(|d| d.sse_algorithm()), Some(&ServerSideEncryption::Aes256));
    let own = s3.get_bucket_ownership_controls().bucket("conf").send().await.unwrap();
    assert_eq!(own.ownership_controls().unwrap().rules()[0].object_ownership(), &ObjectOwnership::BucketOwnerEnforced);

    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    s3.put_bucket_tagging().bucket("conf").tagging(Tagging::builder().tag_set(tag("team", "clicks")).build().unwrap()).send().await.unwrap();
    let tags = s3.get_bucket_tagging().bucket("conf").send().await.unwrap();
    assert_eq!(tags.tag_set().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), vec![("team", "clicks")]);

    let cors = CorsConfiguration::builder()
        .cors_rules(CorsRule::builder().allowed_methods("GET").allowed_methods("PUT").allowed_origins("http://localhost:8080").max_age_seconds(60).build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_cors().bucket("conf").cors_configuration(cors).send().await.unwrap();
    let got = s3.get_bucket_cors().bucket("conf").send().await.unwrap();
    assert_eq!(got.cors_rules()[0].allowed_methods(), ["GET", "PUT"]);
    assert_eq!(got.cors_rules()[0].max_age_seconds(), Some(60));

    let lifecycle = BucketLifecycleConfiguration::builder()
        .rules(
            LifecycleRule::builder()
                .id("tmp")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
                .expiration(LifecycleExpiration::builder().days(7).build())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration().bucket("conf").lifecycle_configuration(lifecycle).send().await.unwrap();
    let got = s3.get_bucket_lifecycle_configuration().bucket("conf").send().await.unwrap();
    assert_eq!(got.rules()[0].id(), Some("tmp"));
    assert_eq!(got.rules()[0].expiration().and_then(|e| e.days()), Some(7));

    let controls = OwnershipControls::builder().rules(OwnershipControlsRule::builder().object_ownership(ObjectOwnership::ObjectWriter).build().unwrap()).build().unwrap();
    s3.put_bucket_ownership_controls().bucket("conf").ownership_controls(controls).send().await.unwrap();
    s3.delete_bucket_ownership_controls().bucket("conf").send().await.unwrap();
    let e = s3.get_bucket_ownership_controls().bucket("conf").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("OwnershipControlsNotFoundError".into(), 404));

    // Object tags: on PUT, read back, counted on GET, and the limits.
    s3.put_object().bucket("conf").key("o").tagging("a=1&b=2").body(b"x".to_vec().into()).send().await.unwrap();
    let t = s3.get_object_tagging().bucket("conf").key("o").send().await.unwrap();
    assert_eq!(t.tag_set().len(), 2);
    assert_eq!(s3.get_object().bucket("conf").key("o").send().await.unwrap().tag_count(), Some(2));
    let eleven = Tagging::builder().set_tag_set(Some((0..11).map(|i| tag(&format!("k{i}"), "v")).collect())).build().unwrap();
    let e = s3.put_object_tagging().bucket("conf").key("o").tagging(eleven).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidTag".into(), 400));

    // A never-versioned bucket lists each object once, version "null".
    let v = s3.list_object_versions().bucket("conf").send().await.unwrap();
    assert_eq!(v.versions().iter().map(|v| (v.key(), v.version_id(), v.is_latest())).collect::<Vec<_>>(), vec![(Some("o"), Some("null"), Some(true))]);
    assert!(s3.get_bucket_versioning().bucket("conf").send().await.unwrap().status().is_none());
}

#[tokio::test]
async fn cors_preflight_over_http() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("web").send().await.unwrap();
    let cors = CorsConfiguration::builder()
        .cors_rules(CorsRule::builder().allowed_methods("PUT").allowed_origins("http://localhost:*").allowed_headers("*").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_cors().bucket("web").cors_configuration(cors).send().await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/web/clicks.json", fl.endpoint);
    let ok = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://localhost:8080")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type, x-amz-date")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://localhost:8080");
    assert_eq!(ok.headers()["access-control-allow-headers"], "content-type, x-amz-date");
    let no = http.request(reqwest::Method::OPTIONS, &url).header("origin", "http://evil.example").header("access-control-request-method", "PUT").send().await.unwrap();
    assert_eq!(no.status(), 403);
    assert!(no.text().await.unwrap().contains("<Code>AccessForbidden</Code>"));
    // The server still answers the next request.
    assert!(s3.head_bucket().bucket("web").send().await.is_ok());
}

#[tokio::test]
async fn versioning_through_the_rust_sdk() {
    use aws_sdk_s3::types::{BucketVersioningStatus, Delete, ObjectIdentifier, VersioningConfiguration};
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("ver").send().await.unwrap();
    let enabled = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    s3.put_bucket_versioning().bucket("ver").versioning_configuration(enabled).send().await.unwrap();
    let got = s3.get_bucket_versioning().bucket("ver").send().await.unwrap();
    assert_eq!(got.status(), Some(&BucketVersioningStatus::Enabled));

    let put = |body: &'static str| s3.put_object().bucket("ver").key("k").body(body.as_bytes().to_vec().into()).send();
    let v1 = put("one").await.unwrap().version_id().unwrap().to_string();
    let v2 = put("two").await.unwrap().version_id().unwrap().to_string();
    assert_ne!(v1, v2);
    let old = s3.get_object().bucket("ver").key("k").version_id(&v1).send().await.unwrap();
    assert_eq!(old.version_id(), Some(v1.as_str()));
    assert_eq!(old.body.collect().await.unwrap().into_bytes().as_ref(), b"one");

    let del = s3.delete_object().bucket("ver").key("k").send().await.unwrap();
    assert_eq!(del.delete_marker(), Some(true));
    let marker = del.version_id().unwrap().to_string();
    let e = s3.get_object().bucket("ver").key("k").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchKey".into(), 404));
    let e = s3.head_object().bucket("ver").key("k").version_id(&marker).send().await.unwrap_err();
    assert_eq!(status(&e), 405);

    let listed = s3.list_object_versions().bucket("ver").send().await.unwrap();
    let versions: Vec<(&str, bool)> = listed.versions().iter().map(|v| (v.version_id().unwrap_or(""), v.is_latest().unwrap_or(false))).collect();
    assert_eq!(versions, vec![(v2.as_str(), false), (v1.as_str(), false)]);
    assert_eq!(listed.delete_markers().iter().map(|m| m.version_id().unwrap_or("")).collect::<Vec<_>>(), vec![marker.as_str()]);

    // Empty the bucket version by version, as tools do before deleting it.
    let mut ids = vec![ObjectIdentifier::builder().key("k").version_id(&marker).build().unwrap()];
    ids.extend([&v1, &v2].map(|v| ObjectIdentifier::builder().key("k").version_id(v).build().unwrap()));
    let out = s3.delete_objects().bucket("ver").delete(Delete::builder().set_objects(Some(ids)).build().unwrap()).send().await.unwrap();
    assert_eq!(out.deleted().len(), 3);
    assert!(out.deleted().iter().any(|d| d.delete_marker() == Some(true) && d.delete_marker_version_id() == Some(marker.as_str())));
    s3.delete_bucket().bucket("ver").send().await.unwrap();
}
