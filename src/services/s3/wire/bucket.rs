//! Bucket operations on the wire: ListBuckets, CreateBucket, HeadBucket, GetBucketLocation.

use super::*;

pub(super) fn list_buckets(s3: &S3, req: &AwsRequest) -> S3Result<HttpResponse> {
    let prefix = req.query_param("prefix").unwrap_or("");
    let region = req.query_param("bucket-region");
    let max = parse_max(req, "max-buckets", 10_000)?;
    let after = req.query_param("continuation-token").map(|t| String::from_utf8_lossy(&B64.decode(t).unwrap_or_default()).into_owned());
    let buckets: Vec<_> = s3
        .store
        .list_buckets()?
        .into_iter()
        .filter(|b| b.name.starts_with(prefix) && region.is_none_or(|r| b.region == r))
        .filter(|b| after.as_ref().is_none_or(|a| &b.name > a))
        .collect();
    let truncated = buckets.len() > max;
    let mut w = XmlWriter::new();
    w.open_ns("ListAllMyBucketsResult", NS);
    owner(&mut w, "Owner");
    w.open("Buckets");
    for b in buckets.iter().take(max) {
        w.open("Bucket")
            .elem("Name", &b.name)
            .elem("CreationDate", &iso8601_millis(b.created))
            .elem("BucketRegion", &b.region)
            .close("Bucket");
    }
    w.close("Buckets");
    if truncated && let Some(last) = buckets.get(max.saturating_sub(1)) {
        w.elem("ContinuationToken", &B64.encode(&last.name));
    }
    if req.has_query("prefix") {
        w.elem("Prefix", prefix);
    }
    w.close("ListAllMyBucketsResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
}

pub(super) fn create_bucket(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let constraint = if req.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let doc = parse_xml_body(&payload(req)?.data)?;
        if doc.name != "CreateBucketConfiguration" {
            return Err(S3Error::MalformedXml(format!("unexpected element <{}>", doc.name)));
        }
        doc.child_text("LocationConstraint").map(str::to_string)
    };
    let settings = ops::BucketSettings { ownership: req.header("x-amz-object-ownership"), acl: requested_acl(req) };
    ops::create_bucket(s3, bucket, constraint.as_deref(), req.region(&s3.region), settings)?;
    Ok(empty(StatusCode::OK, vec![("location", format!("/{bucket}"))]))
}

pub(super) fn head_bucket(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
    let b = s3.store.bucket(bucket)?;
    Ok(empty(StatusCode::OK, vec![("x-amz-bucket-region", b.region), ("x-amz-access-point-alias", "false".into())]))
}

pub(super) fn get_bucket_location(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
    let b = s3.store.bucket(bucket)?;
    let mut w = XmlWriter::new();
    if b.region == "us-east-1" {
        // us-east-1 is the empty constraint, written as an empty element as S3 does.
        w.empty_ns("LocationConstraint", NS);
    } else {
        w.open_ns("LocationConstraint", NS).text(&b.region).close("LocationConstraint");
    }
    Ok(xml_response(StatusCode::OK, vec![], w))
}
