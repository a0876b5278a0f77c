//! S3 objects through aws-sdk-s3 and plain HTTP: put/get/head/delete, metadata, ranges,
//! conditional requests, copy, batch delete, checksums, presigned URLs, virtual hosts, and keys
//! that must never become paths.

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, Delete, MetadataDirective, ObjectIdentifier};
use base64::Engine;

use crate::common::{Firelocal, bucket, code, status};

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(b))
}

#[tokio::test]
async fn put_get_head_with_metadata() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "objs").await;
    let body = b"hello, firelocal".to_vec();
    let put = s3
        .put_object()
        .bucket(&b)
        .key("dir/hello.txt")
        .body(body.clone().into())
        .content_type("text/plain")
        .content_encoding("identity")
        .content_disposition("attachment; filename=\"h.txt\"")
        .cache_control("max-age=60")
        .metadata("owner", "me")
        .metadata("Mixed-Case", "v")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(format!("\"{}\"", md5_hex(&body)).as_str()));

    let got = s3.get_object().bucket(&b).key("dir/hello.txt").send().await.unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.content_encoding(), Some("identity"));
    assert_eq!(got.content_disposition(), Some("attachment; filename=\"h.txt\""));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    let meta = got.metadata().cloned().unwrap_or_default();
    assert_eq!(meta.get("owner").map(String::as_str), Some("me"));
    assert_eq!(meta.get("mixed-case").map(String::as_str), Some("v"));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().to_vec(), body);

    let head = s3.head_object().bucket(&b).key("dir/hello.txt").send().await.unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.e_tag(), put.e_tag());

    // Without a Content-Type, S3 answers binary/octet-stream.
    let raw = fl.http().put(format!("{}/{b}/raw", fl.endpoint)).body("x").send().await.unwrap();
    assert_eq!(raw.status(), 200);
    let head = s3.head_object().bucket(&b).key("raw").send().await.unwrap();
    assert_eq!(head.content_type(), Some("binary/octet-stream"));

    s3.delete_object().bucket(&b).key("dir/hello.txt").send().await.unwrap();
    let e = s3.get_object().bucket(&b).key("dir/hello.txt").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchKey".into(), 404));
    let e = s3.head_object().bucket(&b).key("dir/hello.txt").send().await.unwrap_err();
    assert_eq!(status(&e), 404);
    // Deleting a missing key succeeds, as on S3.
    s3.delete_object().bucket(&b).key("never").send().await.unwrap();
}

#[tokio::test]
async fn ranges() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "ranges").await;
    let body: Vec<u8> = (0..=255u8).cycle().take(40_000).collect();
    s3.put_object().bucket(&b).key("r").body(body.clone().into()).send().await.unwrap();
    for (range, start, end) in [("bytes=0-4", 0usize, 4usize), ("bytes=-3", 39_997, 39_999), ("bytes=39990-", 39_990, 39_999), ("bytes=100-99999", 100, 39_999)] {
        let got = s3.get_object().bucket(&b).key("r").range(range).send().await.unwrap();
        assert_eq!(got.content_range(), Some(format!("bytes {start}-{end}/40000").as_str()), "{range}");
        assert_eq!(got.body.collect().await.unwrap().into_bytes().to_vec(), body[start..=end].to_vec(), "{range}");
    }
    let e = s3.get_object().bucket(&b).key("r").range("bytes=40000-").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidRange".into(), 416));
    // Invalid syntax is ignored: the whole object comes back.
    let r = fl.http().get(format!("{}/{b}/r", fl.endpoint)).header("range", "bytes=9-2").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 40_000);
}

#[tokio::test]
async fn conditional_requests() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "conds").await;
    let put = s3.put_object().bucket(&b).key("c").body(b"v1".to_vec().into()).send().await.unwrap();
    let etag = put.e_tag().unwrap().to_string();
    let past = DateTime::from_secs(1_000_000_000);
    let future = DateTime::from_secs(4_000_000_000);

    assert!(s3.get_object().bucket(&b).key("c").if_match(&etag).send().await.is_ok());
    let e = s3.get_object().bucket(&b).key("c").if_match("\"nope\"").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("PreconditionFailed".into(), 412));
    let e = s3.get_object().bucket(&b).key("c").if_none_match(&etag).send().await.unwrap_err();
    assert_eq!(status(&e), 304);
    let e = s3.get_object().bucket(&b).key("c").if_modified_since(future).send().await.unwrap_err();
    assert_eq!(status(&e), 304);
    assert!(s3.get_object().bucket(&b).key("c").if_modified_since(past).send().await.is_ok());
    let e = s3.get_object().bucket(&b).key("c").if_unmodified_since(past).send().await.unwrap_err();
    assert_eq!(status(&e), 412);
    let e = s3.head_object().bucket(&b).key("c").if_match("\"nope\"").send().await.unwrap_err();
    assert_eq!(status(&e), 412);

    // Conditional writes.
    let e = s3.put_object().bucket(&b).key("c").if_none_match("*").body(b"v2".to_vec().into()).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("PreconditionFailed".into(), 412));
    s3.put_object().bucket(&b).key("new").if_none_match("*").body(b"v".to_vec().into()).send().await.unwrap();
    s3.put_object().bucket(&b).key("c").if_match(&etag).body(b"v2".to_vec().into()).send().await.unwrap();
    let got = s3.get_object().bucket(&b).key("c").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], b"v2");
}

#[tokio::test]
async fn copy_object_and_metadata_directive() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "copies").await;
    s3.put_object().bucket(&b).key("src").content_type("text/csv").metadata("a", "1").body(b"a,b\n".to_vec().into()).send().await.unwrap();
    let c = s3.copy_object().bucket(&b).key("dst").copy_source(format!("{b}/src")).send().await.unwrap();
    assert_eq!(c.copy_object_result().and_then(|r| r.e_tag()), Some(format!("\"{}\"", md5_hex(b"a,b\n")).as_str()));
    let h = s3.head_object().bucket(&b).key("dst").send().await.unwrap();
    assert_eq!(h.content_type(), Some("text/csv"));
    assert_eq!(h.metadata().and_then(|m| m.get("a")).map(String::as_str), Some("1"));

    s3.copy_object()
        .bucket(&b)
        .key("dst2")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("b", "2")
        .send()
        .await
        .unwrap();
    let h = s3.head_object().bucket(&b).key("dst2").send().await.unwrap();
    assert_eq!(h.content_type(), Some("application/json"));
    let m = h.metadata().cloned().unwrap_or_default();
    assert_eq!((m.get("a"), m.get("b").map(String::as_str)), (None, Some("2")));

    let e = s3.copy_object().bucket(&b).key("src").copy_source(format!("{b}/src")).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidRequest".into(), 400));
    let e = s3.copy_object().bucket(&b).key("x").copy_source(format!("{b}/missing")).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
    let e = s3.copy_object().bucket(&b).key("x").copy_source(format!("{b}/src")).copy_source_if_match("\"zz\"").send().await.unwrap_err();
    assert_eq!(status(&e), 412);
}

#[tokio::test]
async fn delete_objects_quiet_and_verbose() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "batch").await;
    for k in ["a", "b", "c", "d"] {
        s3.put_object().bucket(&b).key(k).body(b"x".to_vec().into()).send().await.unwrap();
    }
    let ids = |keys: &[&str]| keys.iter().map(|k| ObjectIdentifier::builder().key(*k).build().unwrap()).collect::<Vec<_>>();
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(Delete::builder().set_objects(Some(ids(&["a", "b", "zz"]))).build().unwrap())
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["a", "b", "zz"]);
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(Delete::builder().set_objects(Some(ids(&["c"]))).quiet(true).build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(out.deleted().is_empty() && out.errors().is_empty());
    let left: Vec<String> = s3.list_objects_v2().bucket(&b).send().await.unwrap().contents().iter().filter_map(|o| o.key().map(String::from)).collect();
    assert_eq!(left, vec!["d"]);
    // Malformed XML gets MalformedXML.
    let r = fl.http().post(format!("{}/{b}?delete", fl.endpoint)).body("<Delete><Object>").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<Code>MalformedXML</Code>"));
}

#[tokio::test]
async fn checksums_round_trip_and_are_verified() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "sums").await;
    let body = b"Hello world".to_vec();
    let expected = [
        (ChecksumAlgorithm::Crc32, "i9aeUg=="),
        (ChecksumAlgorithm::Crc32C, "crUfeA=="),
        (ChecksumAlgorithm::Crc64Nvme, "OOJZ0D8xKts="),
        (ChecksumAlgorithm::Sha1, "e1AsOh9IyGCa4hLN+2Od7jlnP14="),
        (ChecksumAlgorithm::Sha256, "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="),
    ];
    for (alg, value) in expected {
        let key = format!("k-{}", alg.as_str());
        // The SDK sends the body aws-chunked with the checksum in a trailer.
        s3.put_object().bucket(&b).key(&key).checksum_algorithm(alg.clone()).body(ByteStream::from(body.clone())).send().await.unwrap();
        let h = s3.head_object().bucket(&b).key(&key).checksum_mode(ChecksumMode::Enabled).send().await.unwrap();
        let got = match alg {
            ChecksumAlgorithm::Crc32 => h.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => h.checksum_crc32_c(),
            ChecksumAlgorithm::Crc64Nvme => h.checksum_crc64_nvme(),
            ChecksumAlgorithm::Sha1 => h.checksum_sha1(),
            _ => h.checksum_sha256(),
        };
        assert_eq!(got, Some(value), "{alg:?}");
        // The SDK validates the checksum on GET itself; a wrong one would fail here.
        let g = s3.get_object().bucket(&b).key(&key).checksum_mode(ChecksumMode::Enabled).send().await.unwrap();
        assert_eq!(g.body.collect().await.unwrap().into_bytes().to_vec(), body);
    }
    // A wrong explicit checksum is BadDigest, and nothing is stored.
    let e = s3.put_object().bucket(&b).key("bad").checksum_crc32("AAAAAA==").body(body.clone().into()).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("BadDigest".into(), 400));
    let e = s3.head_object().bucket(&b).key("bad").send().await.unwrap_err();
    assert_eq!(status(&e), 404);
    let wrong_md5 = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
    let e = s3.put_object().bucket(&b).key("bad").content_md5(wrong_md5).body(body.clone().into()).send().await.unwrap_err();
    assert_eq!(code(&e), "BadDigest");
    // A malformed aws-chunked body is IncompleteBody, never a 500.
    let r = fl
        .http()
        .put(format!("{}/{b}/chunked", fl.endpoint))
        .header("content-encoding", "aws-chunked")
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .body("zz\r\nabc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("IncompleteBody"));
    // A signed payload hash that does not match is XAmzContentSHA256Mismatch.
    let r = fl.http().put(format!("{}/{b}/sha", fl.endpoint)).header("x-amz-content-sha256", "0".repeat(64)).body("abc").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("XAmzContentSHA256Mismatch"));
}

#[tokio::test]
async fn presigned_urls_work_from_plain_http() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "presign").await;
    let cfg = aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(300)).unwrap();
    let put = s3.put_object().bucket(&b).key("p.txt").presigned(cfg.clone()).await.unwrap();
    let r = fl.http().put(put.uri()).body("presigned body").send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let get = s3.get_object().bucket(&b).key("p.txt").presigned(cfg).await.unwrap();
    assert!(get.uri().contains("X-Amz-Signature="));
    let r = fl.http().get(get.uri()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "presigned body");
}

#[tokio::test]
async fn virtual_hosted_addressing() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "vhost").await;
    for host in [format!("{b}.s3.localhost:{}", fl.port), format!("{b}.localhost:{}", fl.port)] {
        let r = fl.http().put(format!("{}/a/b.txt", fl.endpoint)).header("host", &host).body("via host").send().await.unwrap();
        assert_eq!(r.status(), 200, "{host}");
        let r = fl.http().get(format!("{}/a/b.txt", fl.endpoint)).header("host", &host).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "via host");
        let r = fl.http().get(format!("{}/?list-type=2", fl.endpoint)).header("host", &host).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("<Key>a/b.txt</Key>"));
    }
}

/// Every stored file stays inside the data dir, whatever the key; keys round-trip exactly.
#[tokio::test]
async fn keys_never_become_paths() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let fl = Firelocal::start(&["--data-dir", data.to_str().unwrap()]);
    let s3 = fl.s3();
    let b = bucket(&s3, "paths").await;
    let big = vec![b'z'; 64 * 1024];
    let long = "k".repeat(1024);
    let keys = [
        "../../escape", "../../../../../../tmp/firelocal-escape", "a//b", "/leading", "./dot", "%2F..%2F..%2Fenc",
        "sp ace+plus", "unicodé/日本語", "q?x=1&y#z", "tab\there", "back\\slash", long.as_str(),
    ];
    for k in keys {
        s3.put_object().bucket(&b).key(k).body(big.clone().into()).send().await.unwrap_or_else(|e| panic!("{k}: {e:?}"));
        let got = s3.get_object().bucket(&b).key(k).send().await.unwrap().body.collect().await.unwrap().into_bytes();
        assert_eq!(got.len(), big.len(), "{k}");
    }
    let listed: Vec<String> = s3.list_objects_v2().bucket(&b).send().await.unwrap().contents().iter().filter_map(|o| o.key().map(String::from)).collect();
    let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(listed, want);
    // Nothing was written next to the data dir, and every file inside it is ours.
    let siblings: Vec<_> = std::fs::read_dir(parent.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(siblings, vec![std::ffi::OsString::from("data")]);
    assert!(!std::path::Path::new("/tmp/firelocal-escape").exists());
    // Top level: the state database and one folder per service; under s3/, only blob files
    // named by random ids.
    for e in std::fs::read_dir(&data).unwrap().filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(name.starts_with("state.sqlite") || ["s3", "lambda", "firehose"].contains(&name.as_str()), "{name}");
    }
    let mut stack = vec![data.join("s3")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                assert!(name == "blobs" || (name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit())), "{name}");
                stack.push(e.path());
            } else {
                assert!(name.len() == 32 && name.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
            }
        }
    }
    let too_long = "k".repeat(1025);
    let e = s3.put_object().bucket(&b).key(&too_long).body(b"x".to_vec().into()).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("KeyTooLongError".into(), 400));
}
