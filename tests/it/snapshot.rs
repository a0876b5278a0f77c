//! Snapshots: `firelocal snapshot save` from a running server, `serve --snapshot` and
//! `snapshot load` to start from it, and the refusals (a newer format, a foreign entry, a data
//! directory that already holds state).

use std::io::Read;
use std::path::Path;
use std::process::Command;

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{BufferingHints, ExtendedS3DestinationConfiguration, Record};
use aws_sdk_lambda::types::{FunctionCode, Runtime};

use crate::common::{Firelocal, bucket, fixture_zip};

const ROLE: &str = "arn:aws:iam::000000000000:role/snapshot";

fn firelocal(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_firelocal")).args(args).output().unwrap()
}

/// Every line of every object under `prefix`.
async fn lines(s3: &aws_sdk_s3::Client, b: &str, prefix: &str) -> Vec<String> {
    let list = s3.list_objects_v2().bucket(b).prefix(prefix).send().await.unwrap();
    let mut out = Vec::new();
    for o in list.contents() {
        let body = s3.get_object().bucket(b).key(o.key().unwrap()).send().await.unwrap().body.collect().await.unwrap().into_bytes();
        out.extend(String::from_utf8_lossy(&body).lines().map(str::to_string));
    }
    out.sort();
    out
}

async fn get(s3: &aws_sdk_s3::Client, b: &str, key: &str) -> Vec<u8> {
    s3.get_object().bucket(b).key(key).send().await.unwrap().body.collect().await.unwrap().into_bytes().to_vec()
}

/// Rewrites a snapshot's archive: `edit` sees each entry's path and bytes and returns them, or
/// `None` to drop the entry; `extra` entries are appended.
fn rewrite(from: &Path, to: &Path, edit: impl Fn(&str, Vec<u8>) -> Option<(String, Vec<u8>)>, extra: &[(&str, &[u8])]) {
    let raw = zstd::decode_all(std::fs::File::open(from).unwrap()).unwrap();
    let mut archive = tar::Archive::new(&raw[..]);
    let mut out = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Written by hand so that any name (even `..`) reaches the archive as given.
        let name_bytes = name.as_bytes();
        h.as_old_mut().name[..name_bytes.len()].copy_from_slice(name_bytes);
        h.set_cksum();
        out.append(&h, data).unwrap();
    };
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if let Some((p, d)) = edit(&path, data) {
            add(&p, &d);
        }
    }
    for (p, d) in extra {
        add(p, d);
    }
    std::fs::write(to, zstd::encode_all(&out.into_inner().unwrap()[..], 3).unwrap()).unwrap();
}

#[tokio::test]
async fn snapshot_round_trip_keeps_objects_buffers_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("state.tar.zst");
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "snapshot-src").await;
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    s3.put_object().bucket(&b).key("small.txt").body(b"hello".to_vec().into()).send().await.unwrap();
    s3.put_object().bucket(&b).key("big.bin").body(big.clone().into()).send().await.unwrap();
    s3.put_object().bucket(&b).key("gone.bin").body(big.clone().into()).send().await.unwrap();
    s3.delete_object().bucket(&b).key("gone.bin").send().await.unwrap();

    // A stream whose records stay buffered (five minutes, 128 MB).
    let fh = fl.firehose();
    let dest = ExtendedS3DestinationConfiguration::builder()
        .role_arn(ROLE)
        .bucket_arn(format!("arn:aws:s3:::{b}"))
        .prefix("fh/")
        .buffering_hints(BufferingHints::builder().size_in_mbs(128).interval_in_seconds(300).build())
        .build()
        .unwrap();
    fh.create_delivery_stream().delivery_stream_name("held").extended_s3_destination_configuration(dest).send().await.unwrap();
    let records: Vec<Record> = (0..300).map(|i| Record::builder().data(Blob::new(format!("rec-{i:04}\n"))).build().unwrap()).collect();
    fh.put_record_batch().delivery_stream_name("held").set_records(Some(records)).send().await.unwrap();

    fl.lambda()
        .create_function()
        .function_name("echo")
        .runtime(Runtime::Python312)
        .role(ROLE)
        .handler("app.handler")
        .code(FunctionCode::builder().zip_file(aws_sdk_lambda::primitives::Blob::new(fixture_zip("lambda/python-echo"))).build())
        .send()
        .await
        .unwrap();

    let saved = firelocal(&["snapshot", "save", snap.to_str().unwrap(), "--endpoint", &fl.endpoint]);
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    assert!(String::from_utf8_lossy(&saved.stdout).starts_with("saved "));

    // The source goes on: its buffer was only copied, and its stream still delivers.
    fh.put_record().delivery_stream_name("held").record(Record::builder().data(Blob::new("after\n")).build().unwrap()).send().await.unwrap();
    fl.flush(Some("held")).await;
    let src_lines = lines(&s3, &b, "fh/").await;
    assert_eq!(src_lines.len(), 301);

    // A second server starts from the snapshot: objects, the buffered records, the function.
    let copy = Firelocal::start(&["--snapshot", snap.to_str().unwrap()]);
    let s3c = copy.s3();
    assert_eq!(get(&s3c, &b, "small.txt").await, b"hello");
    assert_eq!(get(&s3c, &b, "big.bin").await, big);
    let keys: Vec<String> = s3c.list_objects_v2().bucket(&b).send().await.unwrap().contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
    assert_eq!(keys, vec!["big.bin", "small.txt"], "nothing delivered yet, the deleted object stays deleted");
    copy.flush(Some("held")).await;
    let restored = lines(&s3c, &b, "fh/").await;
    let expected: Vec<String> = (0..300).map(|i| format!("rec-{i:04}")).collect();
    assert_eq!(restored, expected, "every buffered record, once");
    let out = copy.lambda().invoke().function_name("echo").payload(aws_sdk_lambda::primitives::Blob::new(r#"{"k":"v"}"#)).send().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["event"]["k"], "v");
    assert_eq!(copy.stop(), Some(0));

    // `snapshot load` unpacks into a data directory that `serve --data-dir` then runs on.
    let data = dir.path().join("data");
    let loaded = firelocal(&["snapshot", "load", snap.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    let summary = String::from_utf8_lossy(&loaded.stdout);
    assert!(summary.contains("1 buckets, 2 objects, 1 functions"), "{summary}");
    assert!(summary.contains("300 buffered records"), "{summary}");
    let again = Firelocal::start(&["--data-dir", data.to_str().unwrap()]);
    assert_eq!(get(&again.s3(), &b, "big.bin").await, big);
    again.flush(None).await;
    assert_eq!(lines(&again.s3(), &b, "fh/").await.len(), 300);
    assert_eq!(again.stop(), Some(0));

    // A data directory that holds state is never overwritten.
    let refused = firelocal(&["serve", "--port", "0", "--data-dir", data.to_str().unwrap(), "--snapshot", snap.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already holds state"), "{}", String::from_utf8_lossy(&refused.stderr));
}

#[tokio::test]
async fn snapshots_firelocal_cannot_load_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.tar.zst");
    let fl = Firelocal::start(&[]);
    let b = bucket(&fl.s3(), "snapshot-refused").await;
    fl.s3().put_object().bucket(&b).key("k").body(vec![7u8; 50_000].into()).send().await.unwrap();
    let saved = firelocal(&["snapshot", "save", snap.to_str().unwrap(), "--endpoint", &fl.endpoint]);
    assert!(saved.status.success());

    let load = |file: &Path, into: &Path| firelocal(&["snapshot", "load", file.to_str().unwrap(), "--data-dir", into.to_str().unwrap()]);

    // From a newer firelocal: refused, saying which format and which firelocal wrote it.
    let newer = dir.path().join("newer.tar.zst");
    rewrite(
        &snap,
        &newer,
        |p, d| {
            if p != "firelocal-snapshot.json" {
                return Some((p.into(), d));
            }
            let mut m: serde_json::Value = serde_json::from_slice(&d).unwrap();
            m["version"] = 99.into();
            m["firelocal"] = "9.9.9".into();
            Some((p.into(), m.to_string().into_bytes()))
        },
        &[],
    );
    let into = dir.path().join("a");
    let out = load(&newer, &into);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("firelocal 9.9.9") && err.contains("format 99"), "{err}");
    assert!(!into.exists(), "nothing is half-loaded");

    // An entry that would land outside the data directory.
    let evil = dir.path().join("evil.tar.zst");
    rewrite(&snap, &evil, |p, d| Some((p.into(), d)), &[("s3/../../escaped.txt", b"x")]);
    let out = load(&evil, &into);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not write"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!into.exists() && !dir.path().join("escaped.txt").exists());

    // No manifest first, or a truncated archive: refused, nothing left behind.
    let headless = dir.path().join("headless.tar.zst");
    rewrite(&snap, &headless, |p, d| (p != "firelocal-snapshot.json").then(|| (p.to_string(), d)), &[]);
    assert!(String::from_utf8_lossy(&load(&headless, &into).stderr).contains("does not start with firelocal-snapshot.json"));
    let truncated = dir.path().join("truncated.tar.zst");
    let bytes = std::fs::read(&snap).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(!load(&truncated, &into).status.success());
    assert!(!into.exists());
    let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with(".firelocal-restore")), "{names:?}");

    // The untouched snapshot still loads.
    let out = load(&snap, &into);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
