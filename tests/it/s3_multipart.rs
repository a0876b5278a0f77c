//! S3 multipart uploads through aws-sdk-s3: a 20 MiB upload with checksums, part listing,
//! upload listing, abort, part copy, and each completion error.

use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};

use crate::common::{Firelocal, bucket, code, status};

const MIB: usize = 1024 * 1024;

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[tokio::test]
async fn twenty_mib_upload_with_crc32_checksums() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "mpu").await;
    let parts = [data(8 * MIB, 1), data(8 * MIB, 2), data(4 * MIB, 3)];
    let up = s3.create_multipart_upload().bucket(&b).key("big.bin").checksum_algorithm(ChecksumAlgorithm::Crc32).send().await.unwrap();
    let id = up.upload_id().unwrap().to_string();
    let mut done = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let r = s3
            .upload_part()
            .bucket(&b)
            .key("big.bin")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(p.clone().into())
            .send()
            .await
            .unwrap();
        assert!(r.checksum_crc32().is_some());
        done.push(CompletedPart::builder().part_number(n).e_tag(r.e_tag().unwrap()).set_checksum_crc32(r.checksum_crc32().map(String::from)).build());
    }
    let listed = s3.list_parts().bucket(&b).key("big.bin").upload_id(&id).send().await.unwrap();
    assert_eq!(listed.parts().iter().map(|p| p.size().unwrap_or(0)).collect::<Vec<_>>(), vec![8 * MIB as i64, 8 * MIB as i64, 4 * MIB as i64]);
    let uploads = s3.list_multipart_uploads().bucket(&b).send().await.unwrap();
    assert_eq!(uploads.uploads().iter().filter_map(|u| u.upload_id()).collect::<Vec<_>>(), vec![id.as_str()]);

    let c = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("big.bin")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(done)).build())
        .send()
        .await
        .unwrap();
    assert!(c.e_tag().unwrap().ends_with("-3\""), "{:?}", c.e_tag());
    assert!(c.checksum_crc32().unwrap().ends_with("-3"));

    let got = s3.get_object().bucket(&b).key("big.bin").checksum_mode(ChecksumMode::Enabled).send().await.unwrap();
    assert_eq!(got.content_length(), Some(20 * MIB as i64));
    assert_eq!(got.e_tag(), c.e_tag());
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), 20 * MIB);
    assert!(bytes[..8 * MIB] == parts[0][..] && bytes[8 * MIB..16 * MIB] == parts[1][..] && bytes[16 * MIB..] == parts[2][..]);
    // The upload is gone.
    assert!(s3.list_multipart_uploads().bucket(&b).send().await.unwrap().uploads().is_empty());
    let e = s3.list_parts().bucket(&b).key("big.bin").upload_id(&id).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchUpload".into(), 404));
}

#[tokio::test]
async fn completion_errors_abort_and_part_copy() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    let b = bucket(&s3, "mpu-errors").await;
    let id = s3.create_multipart_upload().bucket(&b).key("k").send().await.unwrap().upload_id().unwrap().to_string();
    let small = s3.upload_part().bucket(&b).key("k").upload_id(&id).part_number(1).body(data(1000, 0).into()).send().await.unwrap();
    let last = s3.upload_part().bucket(&b).key("k").upload_id(&id).part_number(2).body(data(10, 0).into()).send().await.unwrap();
    let part = |n: i32, etag: &str| CompletedPart::builder().part_number(n).e_tag(etag).build();
    let complete = |parts: Vec<CompletedPart>| {
        s3.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
    };
    let e = complete(vec![part(1, "\"0000\"")]).await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidPart".into(), 400));
    let e = complete(vec![part(2, last.e_tag().unwrap()), part(1, small.e_tag().unwrap())]).await.unwrap_err();
    assert_eq!(code(&e), "InvalidPartOrder");
    let e = complete(vec![part(1, small.e_tag().unwrap()), part(2, last.e_tag().unwrap())]).await.unwrap_err();
    assert_eq!(code(&e), "EntityTooSmall");
    let e = s3.upload_part().bucket(&b).key("k").upload_id(&id).part_number(10_001).body(data(1, 0).into()).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    // A single small part is a valid upload.
    complete(vec![part(1, small.e_tag().unwrap())]).await.unwrap();

    let id = s3.create_multipart_upload().bucket(&b).key("gone").send().await.unwrap().upload_id().unwrap().to_string();
    s3.abort_multipart_upload().bucket(&b).key("gone").upload_id(&id).send().await.unwrap();
    let e = s3.upload_part().bucket(&b).key("gone").upload_id(&id).part_number(1).body(data(1, 0).into()).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    let e = s3.abort_multipart_upload().bucket(&b).key("gone").upload_id("nope").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");

    // UploadPartCopy from a range of an existing object.
    let src = data(6 * MIB, 9);
    s3.put_object().bucket(&b).key("src").body(src.clone().into()).send().await.unwrap();
    let id = s3.create_multipart_upload().bucket(&b).key("copied").send().await.unwrap().upload_id().unwrap().to_string();
    let p1 = s3
        .upload_part_copy()
        .bucket(&b)
        .key("copied")
        .upload_id(&id)
        .part_number(1)
        .copy_source(format!("{b}/src"))
        .copy_source_range(format!("bytes=0-{}", 5 * MIB - 1))
        .send()
        .await
        .unwrap();
    let p2 = s3
        .upload_part_copy()
        .bucket(&b)
        .key("copied")
        .upload_id(&id)
        .part_number(2)
        .copy_source(format!("{b}/src"))
        .copy_source_range(format!("bytes={}-{}", 5 * MIB, 6 * MIB - 1))
        .send()
        .await
        .unwrap();
    let parts = vec![
        part(1, p1.copy_part_result().unwrap().e_tag().unwrap()),
        part(2, p2.copy_part_result().unwrap().e_tag().unwrap()),
    ];
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("copied")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket(&b).key("copied").send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert!(got.to_vec() == src);
}
