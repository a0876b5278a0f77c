//! S3 listings through aws-sdk-s3: ListObjectsV2 and ListObjects v1 with prefixes, delimiters,
//! pagination, start-after, fetch-owner and url encoding, in UTF-8 binary key order.

use aws_sdk_s3::types::EncodingType;

use crate::common::{Firelocal, bucket, code};

const KEYS: &[&str] = &[
    "2024/01/01/a.json", "2024/01/01/b.json", "2024/01/02/c.json", "2024/02/01/d.json", "2025/01/01/e.json",
    "README", "Zeta", "a", "a b", "a+b", "a/", "a/b", "a/c/d", "é", "日本/x", "\u{1F600}",
];

async fn seeded(fl: &Firelocal) -> (aws_sdk_s3::Client, String) {
    let s3 = fl.s3();
    let b = bucket(&s3, "listing").await;
    for k in KEYS {
        s3.put_object().bucket(&b).key(*k).body(k.as_bytes().to_vec().into()).send().await.unwrap();
    }
    (s3, b)
}

fn sorted_bytes(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    v.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    v
}

#[tokio::test]
async fn v2_pages_through_everything_in_byte_order() {
    let fl = Firelocal::start(&[]);
    let (s3, b) = seeded(&fl).await;
    let mut pages = s3.list_objects_v2().bucket(&b).max_keys(3).into_paginator().send();
    let mut all = Vec::new();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.key_count().unwrap() <= 3);
        all.extend(page.contents().iter().filter_map(|o| o.key().map(String::from)));
        n += 1;
    }
    assert_eq!(all, sorted_bytes(KEYS));
    assert_eq!(n, KEYS.len().div_ceil(3));
}

#[tokio::test]
async fn v2_delimiter_prefix_start_after_owner_and_encoding() {
    let fl = Firelocal::start(&[]);
    let (s3, b) = seeded(&fl).await;
    let out = s3.list_objects_v2().bucket(&b).delimiter("/").send().await.unwrap();
    let cps: Vec<&str> = out.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(cps, vec!["2024/", "2025/", "a/", "日本/"]);
    let keys: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["README", "Zeta", "a", "a b", "a+b", "é", "\u{1F600}"]);
    assert_eq!(out.key_count(), Some(11));

    let out = s3.list_objects_v2().bucket(&b).prefix("2024/").delimiter("/").send().await.unwrap();
    let cps: Vec<&str> = out.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(cps, vec!["2024/01/", "2024/02/"]);
    assert!(out.contents().is_empty());

    // Common prefixes count toward max-keys and pagination resumes past them.
    let mut pages = s3.list_objects_v2().bucket(&b).delimiter("/").max_keys(2).into_paginator().send();
    let mut seen = Vec::new();
    while let Some(p) = pages.next().await {
        let p = p.unwrap();
        seen.extend(p.common_prefixes().iter().filter_map(|c| c.prefix().map(String::from)));
        seen.extend(p.contents().iter().filter_map(|o| o.key().map(String::from)));
    }
    seen.sort();
    let mut want: Vec<String> =
        ["2024/", "2025/", "a/", "日本/", "README", "Zeta", "a", "a b", "a+b", "é", "\u{1F600}"].iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(seen, want);

    let out = s3.list_objects_v2().bucket(&b).start_after("a/b").send().await.unwrap();
    assert_eq!(out.contents().first().and_then(|o| o.key()), Some("a/c/d"));

    let out = s3.list_objects_v2().bucket(&b).prefix("a").fetch_owner(true).max_keys(1).send().await.unwrap();
    assert!(out.contents()[0].owner().and_then(|o| o.id()).is_some());
    assert_eq!(out.is_truncated(), Some(true));
    let out = s3.list_objects_v2().bucket(&b).prefix("a").max_keys(1).send().await.unwrap();
    assert!(out.contents()[0].owner().is_none());

    // With encoding-type=url keys come back URL-encoded (aws-sdk-rust leaves them so).
    let out = s3.list_objects_v2().bucket(&b).encoding_type(EncodingType::Url).prefix("a").send().await.unwrap();
    let keys: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["a", "a%20b", "a%2Bb", "a/", "a/b", "a/c/d"]);
    let raw = fl.http().get(format!("{}/{b}?list-type=2&encoding-type=url&prefix=a", fl.endpoint)).send().await.unwrap().text().await.unwrap();
    assert!(raw.contains("<Key>a%20b</Key>") && raw.contains("<Key>a%2Bb</Key>"), "{raw}");

    let e = s3.list_objects_v2().bucket(&b).continuation_token("garbage!").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    let e = s3.list_objects_v2().bucket(&b).max_keys(-1).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    let out = s3.list_objects_v2().bucket(&b).max_keys(0).send().await.unwrap();
    assert_eq!((out.key_count(), out.is_truncated()), (Some(0), Some(false)));
}

#[tokio::test]
async fn v1_markers() {
    let fl = Firelocal::start(&[]);
    let (s3, b) = seeded(&fl).await;
    // Without a delimiter, clients page with the last key as the marker.
    let mut marker: Option<String> = None;
    let mut all = Vec::new();
    loop {
        let out = s3.list_objects().bucket(&b).max_keys(5).set_marker(marker.clone()).send().await.unwrap();
        assert!(out.next_marker().is_none());
        let keys: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(String::from)).collect();
        assert!(out.contents().iter().all(|o| o.owner().is_some()));
        all.extend(keys.clone());
        if out.is_truncated() != Some(true) {
            break;
        }
        marker = keys.last().cloned();
    }
    assert_eq!(all, sorted_bytes(KEYS));
    // With a delimiter, NextMarker is returned and may be a common prefix.
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let out = s3.list_objects().bucket(&b).delimiter("/").max_keys(2).set_marker(marker.clone()).send().await.unwrap();
        seen.extend(out.common_prefixes().iter().filter_map(|c| c.prefix().map(String::from)));
        seen.extend(out.contents().iter().filter_map(|o| o.key().map(String::from)));
        if out.is_truncated() != Some(true) {
            break;
        }
        marker = Some(out.next_marker().expect("NextMarker with a delimiter").to_string());
    }
    assert_eq!(seen.len(), 11, "{seen:?}");
}

/// One page of a listing: keys as they are, common prefixes as `P:<prefix>`.
fn entries(contents: &[aws_sdk_s3::types::Object], prefixes: &[aws_sdk_s3::types::CommonPrefix]) -> Vec<String> {
    let mut v: Vec<String> = contents.iter().filter_map(|o| o.key().map(String::from)).collect();
    v.extend(prefixes.iter().filter_map(|p| p.prefix().map(|p| format!("P:{p}"))));
    // S3 returns contents then common prefixes; compare in key order.
    v.sort_by(|a, b| a.trim_start_matches("P:").as_bytes().cmp(b.trim_start_matches("P:").as_bytes()));
    v
}

/// The data-driven cases of fixtures/s3/listing.json, through ListObjectsV2 and ListObjects.
#[tokio::test]
async fn listing_fixture_cases() {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/s3/listing.json")).unwrap()).unwrap();
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "fixture-listing").await;
    for k in fixture["keys"].as_array().unwrap() {
        s3.put_object().bucket(&b).key(k.as_str().unwrap()).body(b"x".to_vec().into()).send().await.unwrap();
    }
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let s = |f: &str| case[f].as_str().map(String::from);
        let max = case["max_keys"].as_i64().map(|n| n as i32);
        let want: Vec<Vec<String>> = serde_json::from_value(case["pages"].clone()).unwrap();

        // ListObjectsV2 with continuation tokens.
        let mut got = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = s3
                .list_objects_v2()
                .bucket(&b)
                .set_prefix(s("prefix"))
                .set_delimiter(s("delimiter"))
                .set_start_after(s("start_after"))
                .set_max_keys(max)
                .set_continuation_token(token.clone())
                .send()
                .await
                .unwrap();
            let page = entries(out.contents(), out.common_prefixes());
            assert_eq!(out.key_count(), Some(page.len() as i32), "{name}: KeyCount");
            got.push(page);
            if out.is_truncated() != Some(true) {
                assert!(out.next_continuation_token().is_none(), "{name}");
                break;
            }
            token = Some(out.next_continuation_token().unwrap().to_string());
            assert!(got.len() <= want.len(), "{name}: too many pages {got:?}");
        }
        assert_eq!(got, want, "{name} (v2)");

        // ListObjects v1 with markers (NextMarker with a delimiter, else the last key).
        let mut got = Vec::new();
        let mut marker = s("start_after");
        loop {
            let out = s3
                .list_objects()
                .bucket(&b)
                .set_prefix(s("prefix"))
                .set_delimiter(s("delimiter"))
                .set_max_keys(max)
                .set_marker(marker.clone())
                .send()
                .await
                .unwrap();
            let page = entries(out.contents(), out.common_prefixes());
            let last_key = out.contents().last().and_then(|o| o.key()).map(String::from);
            got.push(page);
            if out.is_truncated() != Some(true) {
                break;
            }
            marker = if case["delimiter"].is_string() { out.next_marker().map(String::from) } else { last_key };
            assert!(marker.is_some() && got.len() <= want.len(), "{name}: v1 paging stalled {got:?}");
        }
        assert_eq!(got, want, "{name} (v1)");
    }
}
