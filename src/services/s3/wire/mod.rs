//! S3's wire layer (restXml): which operation a request is, its typed input, and the XML and
//! headers of its response. Business rules live in `ops`; this module only translates:
//! `mod.rs` names the operation and dispatches, each sub-module renders one family of operations.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::{Method, StatusCode};

use super::checksum::{self, Algorithm};
use super::config::{self, Unset};
use super::error::{S3Error, S3Result};
use super::ops::{self, ByteRange, CompletedPart, Conditions, Integrity, ListEntry, ListInput, S3};
use super::store::{ChecksumType, ObjectMeta, ObjectRow};
use crate::protocol::time::{http_date, iso8601_millis, parse_http_date};
use crate::protocol::xml::{self, XmlWriter};
use crate::protocol::{AwsRequest, HttpResponse, percent_decode, response, url_encode};
use crate::services::iam::authz::Access;

mod bucket;
mod list;
mod multipart;
mod object;
mod request;
mod subresources;

use bucket::*;
use list::*;
use multipart::*;
use object::*;
pub use request::{Payload, payload};
use request::*;
use subresources::*;

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
const OWNER_NAME: &str = "webfile";

/// Sub-resources firelocal's S3 does not implement yet: a request naming one gets a clear
/// `NotImplemented` instead of being mistaken for a plain bucket or object operation.
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "analytics", "intelligent-tiering", "inventory", "legal-hold", "metadataTable", "metrics",
    "object-lock", "policyStatus", "replication", "restore", "retention", "select", "torrent", "renameObject",
];

/// Where a request points: the bucket and key from virtual-hosted or path-style addressing.
#[derive(Debug, PartialEq)]
pub struct Address {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// The bucket named by a virtual-hosted `Host` (`<bucket>.s3.localhost`, `<bucket>.localhost`,
/// `<bucket>.s3.<region>.amazonaws.com`), if any.
pub fn bucket_from_host(host: &str) -> Option<&str> {
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with("s3.") || host.starts_with("s3-") {
        return None;
    }
    if let Some(i) = host.find(".s3.").or_else(|| host.find(".s3-")) {
        return Some(&host[..i]);
    }
    host.strip_suffix(".localhost").filter(|b| !b.is_empty() && !b.contains(".execute-api"))
}

/// Splits a request into bucket and key.
pub fn address(req: &AwsRequest) -> Address {
    let path = req.path.strip_prefix('/').unwrap_or(&req.path);
    if let Some(bucket) = bucket_from_host(&req.host) {
        let key = (!path.is_empty()).then(|| percent_decode(path));
        return Address { bucket: Some(bucket.to_string()), key };
    }
    if path.is_empty() {
        return Address { bucket: None, key: None };
    }
    match path.split_once('/') {
        Some((b, k)) => Address { bucket: Some(percent_decode(b)), key: (!k.is_empty()).then(|| percent_decode(k)) },
        None => Address { bucket: Some(percent_decode(path)), key: None },
    }
}

fn xml_response(status: StatusCode, mut headers: Vec<(&'static str, String)>, w: XmlWriter) -> HttpResponse {
    headers.push(("content-type", "application/xml".into()));
    response(status, headers, Bytes::from(w.finish()))
}

fn empty(status: StatusCode, headers: Vec<(&'static str, String)>) -> HttpResponse {
    response(status, headers, Bytes::new())
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

fn owner(w: &mut XmlWriter, tag: &str) {
    w.open(tag).elem("ID", OWNER_ID).elem("DisplayName", OWNER_NAME).close(tag);
}

/// Handles one S3 request: returns the response and the operation name for the log.
pub fn handle(s3: &S3, req: &AwsRequest) -> (HttpResponse, &'static str) {
    let addr = address(req);
    let (op, result) = dispatch(s3, req, &addr);
    let mut resp = result.unwrap_or_else(|e| {
        let head = req.method == Method::HEAD;
        match e {
            // A 304 has no body: only the matched version's validators.
            e @ S3Error::NotModified { .. } => empty(StatusCode::NOT_MODIFIED, e.headers()),
            e => {
                let mut resp = e.to_aws().render(crate::protocol::Protocol::RestXml, &req.request_id, head);
                for (n, v) in e.headers() {
                    if let Ok(v) = http::HeaderValue::from_str(&v) {
                        resp.headers_mut().insert(n, v);
                    }
                }
                resp
            }
        }
    });
    // A browser's request: the bucket's CORS rules decide which Access-Control-* headers it gets.
    if op != "PreflightRequest"
        && let (Some(origin), Some(bucket)) = (req.header("origin"), &addr.bucket)
        && let Some(rule) = cors_rule(s3, bucket, origin, req.method.as_str(), &[])
    {
        for (n, v) in rule.response_headers(origin, None) {
            if let Ok(v) = http::HeaderValue::from_str(&v) {
                resp.headers_mut().insert(n, v);
            }
        }
    }
    (resp, op)
}

fn dispatch(s3: &S3, req: &AwsRequest, addr: &Address) -> (&'static str, S3Result<HttpResponse>) {
    let now = crate::protocol::time::now_millis() / 1000;
    if let Err(e) = crate::protocol::sigv4::check_presigned_expiry(&req.query, now) {
        use crate::protocol::sigv4::PresignError;
        return (
            "Presigned",
            Err(match e {
                PresignError::BadExpires(m) => S3Error::AuthorizationQueryParameters(m),
                PresignError::Expired { expires_at, now, expires } => S3Error::RequestExpired { expires, expires_at, now },
            }),
        );
    }
    let op = operation(req, addr);
    let (bucket, key) = (addr.bucket.as_deref().unwrap_or_default(), addr.key.as_deref().unwrap_or_default());
    let result = match op {
        "Unsupported" => {
            let sub = UNSUPPORTED_SUBRESOURCES.iter().find(|s| req.has_query(s)).unwrap_or(&"");
            Err(S3Error::NotImplemented(format!("{} ?{sub}", req.method)))
        }
        "ListBuckets" => list_buckets(s3, req),
        "PreflightRequest" => preflight(s3, req, addr),
        "GetBucketAcl" => s3.store.bucket(bucket).map(|_| xml_response(StatusCode::OK, vec![], acl_xml())),
        "GetObjectAcl" => s3.object(bucket, key, version_param(req)).map(|_| xml_response(StatusCode::OK, vec![], acl_xml())),
        "PutBucketAcl" => put_acl(s3, req, bucket, None),
        "PutObjectAcl" => put_acl(s3, req, bucket, Some(key)),
        "GetObjectTagging" | "PutObjectTagging" | "DeleteObjectTagging" => object_tagging(s3, req, bucket, key),
        "ListObjectVersions" => list_object_versions(s3, req, bucket),
        "PostObject" => post_object(s3, req, bucket),
        "GetObjectAttributes" => get_object_attributes(s3, req, bucket, key),
        op if config::KINDS.iter().any(|k| k.ops.contains(&Some(op))) => {
            match config::kind_of(|q| req.has_query(q)) {
                Some(kind) if req.method == Method::GET => get_config(s3, kind, bucket),
                Some(kind) if req.method == Method::PUT => put_config(s3, req, kind, bucket),
                Some(kind) => s3.set_config(bucket, kind.sub, None).map(|_| empty(StatusCode::NO_CONTENT, vec![])),
                None => Err(S3Error::MethodNotAllowed(req.method.to_string())),
            }
        }
        "CreateBucket" => create_bucket(s3, req, bucket),
        "HeadBucket" => head_bucket(s3, bucket),
        "DeleteBucket" => s3.store.delete_bucket(bucket).map(|_| {
            s3.forget_bucket(bucket);
            empty(StatusCode::NO_CONTENT, vec![])
        }),
        "GetBucketLocation" => get_bucket_location(s3, bucket),
        "PutBucketPolicy" => payload(req).and_then(|p| ops::put_bucket_policy(s3, bucket, &p.data)).map(|_| empty(StatusCode::NO_CONTENT, vec![])),
        "GetBucketPolicy" => s3.store.bucket_policy(bucket).and_then(|p| p.ok_or_else(|| S3Error::NoSuchBucketPolicy(bucket.to_string()))).map(|p| response(StatusCode::OK, vec![("content-type", "application/json".into())], Bytes::from(p))),
        "DeleteBucketPolicy" => s3.store.set_bucket_policy(bucket, None).map(|_| empty(StatusCode::NO_CONTENT, vec![])),
        "ListMultipartUploads" => list_multipart_uploads(s3, req, bucket),
        "ListObjectsV2" => list_objects(s3, req, bucket, true),
        "ListObjects" => list_objects(s3, req, bucket, false),
        "DeleteObjects" => delete_objects(s3, req, bucket),
        "UploadPartCopy" => upload_part_copy(s3, req, bucket, key),
        "UploadPart" => upload_part(s3, req, bucket, key),
        "CopyObject" => copy_object(s3, req, bucket, key),
        "PutObject" => put_object(s3, req, bucket, key),
        "ListParts" => list_parts(s3, req, bucket, key),
        "GetObject" => get_object(s3, req, bucket, key, false),
        "HeadObject" => get_object(s3, req, bucket, key, true),
        "AbortMultipartUpload" => {
            ops::abort_multipart_upload(s3, bucket, key, req.query_param("uploadId").unwrap_or_default()).map(|_| empty(StatusCode::NO_CONTENT, vec![]))
        }
        "DeleteObject" => delete_object(s3, req, bucket, key),
        "GetBucketNotificationConfiguration" => get_notification(s3, bucket),
        "PutBucketNotificationConfiguration" => put_notification(s3, req, bucket),
        "CreateMultipartUpload" => create_multipart_upload(s3, req, bucket, key),
        "CompleteMultipartUpload" => complete_multipart_upload(s3, req, bucket, key),
        _ => Err(S3Error::MethodNotAllowed(req.method.to_string())),
    };
    (op, result)
}

/// The operation a request names (`PutObject`, `GetBucketCors`...).
pub fn operation_name(req: &AwsRequest) -> &'static str {
    operation(req, &address(req))
}

/// The operation a request names: its method, whether it addresses a bucket or an object, and
/// its sub-resource query parameters.
fn operation(req: &AwsRequest, addr: &Address) -> &'static str {
    if UNSUPPORTED_SUBRESOURCES.iter().any(|s| req.has_query(s)) {
        return "Unsupported";
    }
    let m = &req.method;
    if addr.bucket.is_none() {
        return if *m == Method::GET { "ListBuckets" } else { "Unknown" };
    }
    if *m == Method::OPTIONS {
        return "PreflightRequest";
    }
    if addr.key.is_none() {
        if let Some(kind) = config::kind_of(|q| req.has_query(q)) {
            let i = match *m {
                Method::GET => 0,
                Method::PUT => 1,
                Method::DELETE => 2,
                _ => return "Unknown",
            };
            return kind.ops[i].unwrap_or("Unknown");
        }
        return match *m {
            Method::GET if req.has_query("notification") => "GetBucketNotificationConfiguration",
            Method::PUT if req.has_query("notification") => "PutBucketNotificationConfiguration",
            Method::GET if req.has_query("acl") => "GetBucketAcl",
            Method::PUT if req.has_query("acl") => "PutBucketAcl",
            Method::GET if req.has_query("versions") => "ListObjectVersions",
            Method::PUT if req.has_query("policy") => "PutBucketPolicy",
            Method::GET if req.has_query("policy") => "GetBucketPolicy",
            Method::DELETE if req.has_query("policy") => "DeleteBucketPolicy",
            Method::PUT => "CreateBucket",
            Method::HEAD => "HeadBucket",
            Method::DELETE => "DeleteBucket",
            Method::GET if req.has_query("location") => "GetBucketLocation",
            Method::GET if req.has_query("uploads") => "ListMultipartUploads",
            Method::GET if req.query_param("list-type") == Some("2") => "ListObjectsV2",
            Method::GET => "ListObjects",
            Method::POST if req.has_query("delete") => "DeleteObjects",
            Method::POST => "PostObject",
            _ => "Unknown",
        };
    }
    let copy = req.header("x-amz-copy-source").is_some();
    if req.has_query("tagging") {
        return match *m {
            Method::GET => "GetObjectTagging",
            Method::PUT => "PutObjectTagging",
            Method::DELETE => "DeleteObjectTagging",
            _ => "Unknown",
        };
    }
    if req.has_query("attributes") {
        return if *m == Method::GET { "GetObjectAttributes" } else { "Unknown" };
    }
    if req.has_query("acl") {
        return match *m {
            Method::GET => "GetObjectAcl",
            Method::PUT => "PutObjectAcl",
            _ => "Unknown",
        };
    }
    if addr.key.is_some() && config::kind_of(|q| req.has_query(q)).is_some() {
        return "Unknown";
    }
    match *m {
        Method::PUT if req.has_query("uploadId") && copy => "UploadPartCopy",
        Method::PUT if req.has_query("uploadId") => "UploadPart",
        Method::PUT if copy => "CopyObject",
        Method::PUT => "PutObject",
        Method::GET if req.has_query("uploadId") => "ListParts",
        Method::GET => "GetObject",
        Method::HEAD => "HeadObject",
        Method::DELETE if req.has_query("uploadId") => "AbortMultipartUpload",
        Method::DELETE => "DeleteObject",
        Method::POST if req.has_query("uploads") => "CreateMultipartUpload",
        Method::POST if req.has_query("uploadId") => "CompleteMultipartUpload",
        _ => "Unknown",
    }
}

/// What an S3 call needs under `--enforce-iam`: the IAM action AWS checks for the operation
/// (HeadObject is `s3:GetObject`, ListObjectsV2 `s3:ListBucket`...) on the bucket or object ARN,
/// with the listing condition keys; a copy also needs `s3:GetObject` on its source, and
/// DeleteObjects `s3:DeleteObject` on each key.
pub fn access(req: &AwsRequest) -> Vec<Access> {
    let addr = address(req);
    let op = operation(req, &addr);
    let bucket_arn = format!("arn:aws:s3:::{}", addr.bucket.as_deref().unwrap_or_default());
    let object_arn = format!("{bucket_arn}/{}", addr.key.as_deref().unwrap_or_default());
    if addr.key.is_none()
        && let Some(kind) = config::kind_of(|q| req.has_query(q))
        && let Some(i) = kind.ops.iter().position(|o| *o == Some(op))
    {
        return vec![Access::new(kind.actions[i], bucket_arn)];
    }
    // With a version id, the object calls need their `...Version` actions.
    let versioned = match op {
        "GetObject" | "HeadObject" => Some("s3:GetObjectVersion"),
        "DeleteObject" => Some("s3:DeleteObjectVersion"),
        "GetObjectTagging" => Some("s3:GetObjectVersionTagging"),
        "PutObjectTagging" => Some("s3:PutObjectVersionTagging"),
        "DeleteObjectTagging" => Some("s3:DeleteObjectVersionTagging"),
        "GetObjectAcl" => Some("s3:GetObjectVersionAcl"),
        "GetObjectAttributes" => Some("s3:GetObjectVersionAttributes"),
        _ => None,
    };
    if let Some(action) = versioned.filter(|_| version_param(req).is_some()) {
        return vec![Access::new(action, object_arn)];
    }
    let action = match op {
        "ListBuckets" => return vec![Access::new("s3:ListAllMyBuckets", "*")],
        "ListObjectVersions" => return vec![Access::new("s3:ListBucketVersions", bucket_arn)],
        "PostObject" => {
            let key = req.header("content-type").and_then(|ct| super::post::parse(ct, req.body.clone()).ok()).and_then(|f| f.get("key")).unwrap_or_default();
            return vec![Access::new("s3:PutObject", format!("{bucket_arn}/{key}"))];
        }
        "GetObjectAttributes" => return vec![Access::new("s3:GetObjectAttributes", object_arn)],
        "GetBucketNotificationConfiguration" => return vec![Access::new("s3:GetBucketNotification", bucket_arn)],
        "PutBucketNotificationConfiguration" => return vec![Access::new("s3:PutBucketNotification", bucket_arn)],
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "s3:ListBucket",
        "ListMultipartUploads" => "s3:ListBucketMultipartUploads",
        "ListParts" => "s3:ListMultipartUploadParts",
        "HeadObject" => "s3:GetObject",
        "UploadPart" | "UploadPartCopy" | "CopyObject" | "CreateMultipartUpload" | "CompleteMultipartUpload" => "s3:PutObject",
        "DeleteObjects" => {
            let keys = delete_keys(req);
            return keys
                .iter()
                .map(|(k, v)| Access::new(if v.is_some() { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" }, format!("{bucket_arn}/{k}")))
                .collect();
        }
        "Unsupported" | "Unknown" => return vec![Access::new(format!("s3:{}", req.method), bucket_arn)],
        op => return vec![Access::new(format!("s3:{op}"), if addr.key.is_some() { object_arn } else { bucket_arn })],
    };
    let on_bucket = matches!(op, "HeadBucket" | "ListObjects" | "ListObjectsV2" | "ListMultipartUploads");
    let mut a = Access::new(action, if on_bucket { bucket_arn } else { object_arn });
    for (param, key) in [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
        if let Some(v) = req.query_param(param).filter(|_| on_bucket) {
            a = a.with(key, v);
        }
    }
    let mut out = vec![a];
    if let Some(src) = req.header("x-amz-copy-source") {
        let action = if src.contains("?versionId=") { "s3:GetObjectVersion" } else { "s3:GetObject" };
        let src = crate::protocol::percent_decode(src.split('?').next().unwrap_or(src));
        out.push(Access::new(action, format!("arn:aws:s3:::{}", src.trim_start_matches('/'))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_host_buckets() {
        assert_eq!(bucket_from_host("mybucket.s3.localhost"), Some("mybucket"));
        assert_eq!(bucket_from_host("my.bucket.localhost"), Some("my.bucket"));
        assert_eq!(bucket_from_host("b.s3.us-east-1.amazonaws.com"), Some("b"));
        assert_eq!(bucket_from_host("localhost"), None);
        assert_eq!(bucket_from_host("127.0.0.1"), None);
        assert_eq!(bucket_from_host("s3.localhost"), None);
        assert_eq!(bucket_from_host("abc.execute-api.localhost"), None);
    }

    #[test]
    fn tokens_round_trip() {
        let t = encode_token(&ListEntry::CommonPrefix("a/".into()));
        assert_eq!(decode_token(&t), Ok(("a/".to_string(), true)));
        assert!(decode_token("!!!").is_err());
        assert!(decode_token(&B64.encode("Xabc")).is_err());
    }
}
