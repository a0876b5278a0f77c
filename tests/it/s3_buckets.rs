//! S3 buckets through aws-sdk-s3: create (with and without a LocationConstraint), head, list,
//! location, delete, and each bucket error.

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::common::{Firelocal, code, status};

#[tokio::test]
async fn bucket_lifecycle() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    s3.create_bucket().bucket("alpha").send().await.unwrap();
    let eu = fl.s3_in("eu-west-1");
    eu.create_bucket()
        .bucket("beta.eu")
        .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::EuWest1).build())
        .send()
        .await
        .unwrap();

    let head = s3.head_bucket().bucket("beta.eu").send().await.unwrap();
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let loc = s3.get_bucket_location().bucket("alpha").send().await.unwrap();
    // us-east-1 is the empty constraint (aws-sdk-rust reads it as an empty variant, as against AWS).
    assert_eq!(loc.location_constraint().map_or("", |c| c.as_str()), "");
    let loc = s3.get_bucket_location().bucket("beta.eu").send().await.unwrap();
    assert_eq!(loc.location_constraint(), Some(&BucketLocationConstraint::EuWest1));

    let names: Vec<String> = s3.list_buckets().send().await.unwrap().buckets().iter().filter_map(|b| b.name().map(String::from)).collect();
    assert_eq!(names, vec!["alpha", "beta.eu"]);

    s3.put_object().bucket("alpha").key("k").body(b"v".to_vec().into()).send().await.unwrap();
    let e = s3.delete_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("BucketNotEmpty".into(), 409));
    s3.delete_object().bucket("alpha").key("k").send().await.unwrap();
    s3.delete_bucket().bucket("alpha").send().await.unwrap();
    let e = s3.head_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(status(&e), 404);
}

#[tokio::test]
async fn bucket_errors() {
    let fl = Firelocal::start(&[]);
    let s3 = fl.s3();
    // Re-creating a bucket you own: 200 in us-east-1 (AWS's legacy behaviour), 409 elsewhere.
    s3.create_bucket().bucket("dup").send().await.unwrap();
    s3.create_bucket().bucket("dup").send().await.unwrap();
    let eu = fl.s3_in("eu-west-1");
    let in_eu = || {
        eu.create_bucket()
            .bucket("dup-eu")
            .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::EuWest1).build())
            .send()
    };
    in_eu().await.unwrap();
    let e = in_eu().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("BucketAlreadyOwnedByYou".into(), 409));
    for bad in ["ab", "Upper", "under_score", "-dash", "a..b", "10.0.0.1"] {
        let e = s3.create_bucket().bucket(bad).send().await.unwrap_err();
        assert_eq!((code(&e), status(&e)), ("InvalidBucketName".into(), 400), "{bad}");
    }
    let e = s3.delete_bucket().bucket("missing").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("NoSuchBucket".into(), 404));
    let e = s3.list_objects_v2().bucket("missing").send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
    let e = s3.put_object().bucket("missing").key("k").body(b"x".to_vec().into()).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
    // A region-specific endpoint needs a matching constraint, as on AWS.
    let e = fl.s3_in("eu-west-1").create_bucket().bucket("noconstraint").send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("IllegalLocationConstraintException".into(), 400));
    let e = s3
        .create_bucket()
        .bucket("explicit-us-east-1")
        .create_bucket_configuration(CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from("us-east-1")).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidLocationConstraint");
}
