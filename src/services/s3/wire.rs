//! S3's wire layer (restXml): which operation a request is, its typed input, and the XML and
//! headers of its response. Business rules live in `ops`; this file only translates.

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

/// The first of the bucket's CORS rules that allows this origin, method and request headers.
fn cors_rule(s3: &S3, bucket: &str, origin: &str, method: &str, headers: &[&str]) -> Option<config::CorsRule> {
    let doc = s3.store.config(bucket, "cors").ok().flatten()?;
    let doc = xml::parse(doc.as_bytes()).ok()?;
    config::cors_rules(&doc).into_iter().find(|r| r.allows(origin, method, headers))
}

/// `OPTIONS` on a bucket or object: a CORS preflight, answered from the bucket's rules.
fn preflight(s3: &S3, req: &AwsRequest, addr: &Address) -> S3Result<HttpResponse> {
    let bucket = addr.bucket.as_deref().unwrap_or_default();
    let (Some(origin), Some(method)) = (req.header("origin"), req.header("access-control-request-method")) else {
        return Err(S3Error::CorsBadRequest);
    };
    let resource = if addr.key.is_some() { "OBJECT" } else { "BUCKET" };
    let forbidden = |message| S3Error::CorsForbidden { message, method: method.to_string(), resource };
    if s3.store.config(bucket, "cors")?.is_none() {
        return Err(forbidden("CORSResponse: CORS is not enabled for this bucket."));
    }
    let requested = req.header("access-control-request-headers");
    let headers: Vec<&str> = requested.map(|h| h.split(',').map(str::trim).filter(|h| !h.is_empty()).collect()).unwrap_or_default();
    let rule = cors_rule(s3, bucket, origin, method, &headers).ok_or_else(|| {
        forbidden("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
    })?;
    Ok(empty(StatusCode::OK, rule.response_headers(origin, requested)))
}

/// GetBucket<Config>: the stored document, S3's default, or S3's error for a missing one.
fn get_config(s3: &S3, kind: &config::Kind, bucket: &str) -> S3Result<HttpResponse> {
    let doc = match (s3.store.config(bucket, kind.sub)?, kind.unset) {
        (Some(doc), _) => doc,
        (None, Unset::Default(doc)) => config::render(&parse_xml_body(doc.as_bytes())?),
        (None, Unset::Error(code, message)) => return Err(S3Error::NoSuchConfiguration { code, message, bucket: bucket.to_string() }),
    };
    Ok(response(StatusCode::OK, vec![("content-type", "application/xml".into())], Bytes::from(doc)))
}

/// PutBucket<Config>: checked as S3 checks it, then stored.
fn put_config(s3: &S3, req: &AwsRequest, kind: &config::Kind, bucket: &str) -> S3Result<HttpResponse> {
    let payload = payload(req)?;
    integrity(req, &payload)?.verify(&payload.data)?;
    let doc = parse_xml_body(&payload.data)?;
    config::validate(kind, &doc)?;
    // A versioning document without a Status changes nothing: a bucket never goes back to
    // unversioned.
    if kind.sub == "versioning" && doc.child("Status").is_none() {
        s3.store.bucket(bucket)?;
        return Ok(empty(StatusCode::OK, vec![]));
    }
    s3.set_config(bucket, kind.sub, Some(&config::render(&doc)))?;
    let status = if kind.sub == "tagging" { StatusCode::NO_CONTENT } else { StatusCode::OK };
    Ok(empty(status, vec![]))
}

/// The ACL document S3 returns while only the owner has access.
fn acl_xml() -> XmlWriter {
    let mut w = XmlWriter::new();
    w.open_ns("AccessControlPolicy", NS);
    owner(&mut w, "Owner");
    w.open("AccessControlList").open("Grant");
    w.open_attrs("Grantee", &[("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser")]);
    w.elem("ID", OWNER_ID).elem("DisplayName", OWNER_NAME).close("Grantee");
    w.elem("Permission", "FULL_CONTROL").close("Grant").close("AccessControlList").close("AccessControlPolicy");
    w
}

/// PutBucketAcl / PutObjectAcl: a canned ACL header, grant headers, or an ACL document.
fn put_acl(s3: &S3, req: &AwsRequest, bucket: &str, key: Option<&str>) -> S3Result<HttpResponse> {
    let body = payload(req)?.data;
    let document = !body.iter().all(u8::is_ascii_whitespace);
    if document {
        let doc = parse_xml_body(&body)?;
        if doc.name != "AccessControlPolicy" {
            return Err(S3Error::MalformedXml(format!("expected <AccessControlPolicy>, found <{}>", doc.name)));
        }
    }
    // No header and no document: the call sets nothing but the owner's access.
    let acl = requested_acl(req).unwrap_or(if document { None } else { Some("private") });
    ops::check_acl_write(s3, bucket, acl)?;
    match key {
        Some(k) => {
            let obj = s3.store.object(bucket, k)?;
            s3.notify("ObjectAcl:Put", bucket, k, Some(&obj));
        }
        None => s3.store.bucket(bucket).map(|_| ())?,
    }
    Ok(empty(StatusCode::OK, vec![]))
}

/// GetObjectAttributes: the attributes `x-amz-object-attributes` names, the parts paged by
/// `x-amz-max-parts` / `x-amz-part-number-marker`.
fn get_object_attributes(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let wanted: Vec<String> = req.header("x-amz-object-attributes").unwrap_or_default().split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    const KNOWN: &[&str] = &["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
    if wanted.is_empty() {
        return Err(S3Error::InvalidArgument("Invalid attribute name specified.".into()));
    }
    if let Some(a) = wanted.iter().find(|a| !KNOWN.contains(&a.as_str())) {
        return Err(S3Error::InvalidArgument(format!("Invalid attribute name specified: {a}")));
    }
    let obj = s3.object(bucket, key, version_param(req))?;
    let has = |a: &str| wanted.iter().any(|w| w == a);
    let mut w = XmlWriter::new();
    w.open_ns("GetObjectAttributesResponse", NS);
    if has("ETag") {
        w.elem("ETag", &obj.etag);
    }
    if has("Checksum") && let Some(c) = &obj.checksum {
        w.open("Checksum").elem(c.algorithm.xml_name(), &c.value).elem("ChecksumType", c.kind.name()).close("Checksum");
    }
    if has("ObjectParts") && !obj.meta.parts.is_empty() {
        let max = req.header("x-amz-max-parts").and_then(|m| m.trim().parse::<usize>().ok()).unwrap_or(1000).min(1000);
        let marker = req.header("x-amz-part-number-marker").and_then(|m| m.trim().parse::<usize>().ok()).unwrap_or(0);
        let shown: Vec<(usize, &(u64, Option<String>))> = obj.meta.parts.iter().enumerate().map(|(i, p)| (i + 1, p)).filter(|(n, _)| *n > marker).take(max).collect();
        let truncated = shown.last().is_some_and(|(n, _)| *n < obj.meta.parts.len());
        w.open("ObjectParts").elem("PartsCount", &obj.meta.parts.len().to_string()).elem("PartNumberMarker", &marker.to_string());
        if let Some((n, _)) = shown.last() {
            w.elem("NextPartNumberMarker", &n.to_string());
        }
        w.elem("MaxParts", &max.to_string()).elem("IsTruncated", if truncated { "true" } else { "false" });
        let algorithm = obj.checksum.as_ref().filter(|c| c.kind == ChecksumType::Composite).map(|c| c.algorithm);
        for (n, (size, checksum)) in shown {
            w.open("Part").elem("PartNumber", &n.to_string()).elem("Size", &size.to_string());
            if let (Some(a), Some(c)) = (algorithm, checksum) {
                w.elem(a.xml_name(), c);
            }
            w.close("Part");
        }
        w.close("ObjectParts");
    }
    if has("StorageClass") {
        w.elem("StorageClass", obj.meta.storage_class.as_deref().unwrap_or("STANDARD"));
    }
    if has("ObjectSize") {
        w.elem("ObjectSize", &obj.size.to_string());
    }
    w.close("GetObjectAttributesResponse");
    let mut h = vec![("last-modified", http_date(obj.last_modified))];
    version_header(&mut h, obj.version_id.as_deref());
    Ok(xml_response(StatusCode::OK, h, w))
}

/// POST Object: a browser form upload, checked against its policy (and, with
/// `--verify-signatures`, its signature), stored as a PUT would store it, answered as
/// `success_action_redirect` / `success_action_status` ask.
fn post_object(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    use super::post;
    s3.store.bucket(bucket)?;
    let content_type = req.header("content-type").unwrap_or_default();
    if !content_type.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(S3Error::PreconditionFailed("Bucket POST must be of the enclosure-type multipart/form-data"));
    }
    let form = post::parse(content_type, req.body.clone())?;
    let file = form.file().ok_or_else(|| S3Error::InvalidArgument("POST requires exactly one file upload per request.".into()))?;
    let key_field = form.get("key").ok_or_else(|| S3Error::InvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.".into()))?;
    let key = key_field.replace("${filename}", file.file_name.as_deref().unwrap_or_default());
    post::check_policy(&form, bucket, &key, file.value.len() as u64, crate::protocol::time::now_millis() / 1000)?;
    if let Some(lookup) = s3.secrets.get() {
        post::check_signature(&form, lookup.as_ref())?;
    }
    if let Some(acl) = form.get("acl") {
        ops::check_acl_write(s3, bucket, Some(&acl))?;
    }
    let user: Vec<(String, String)> = form.fields.iter().filter_map(|f| Some((f.name.strip_prefix("x-amz-meta-")?.to_string(), String::from_utf8_lossy(&f.value).into_owned()))).collect();
    let tags = match form.get("tagging") {
        Some(xml) => config::tags(&parse_xml_body(xml.as_bytes())?, 10)?,
        None => Vec::new(),
    };
    let sse = requested_sse(form.get("x-amz-server-side-encryption").as_deref(), form.get("x-amz-server-side-encryption-aws-kms-key-id"))?;
    let meta = ObjectMeta {
        // As on S3, the file part's own Content-Type is not used: only the form field.
        content_type: form.get("content-type"),
        content_encoding: form.get("content-encoding"),
        content_disposition: form.get("content-disposition"),
        content_language: form.get("content-language"),
        cache_control: form.get("cache-control"),
        expires: form.get("expires"),
        user,
        storage_class: ops::storage_class(form.get("x-amz-storage-class").as_deref())?,
        tags,
        sse,
        parts: Vec::new(),
    };
    let expected = checksum::ALL.into_iter().find_map(|a| form.get(a.header()).map(|v| (a, v.trim().to_string())));
    let integrity = Integrity { content_md5: form.get("content-md5"), algorithm: expected.as_ref().map(|(a, _)| *a), expected };
    let body = file.value.clone();
    let input = ops::PutObjectInput { bucket: bucket.to_string(), key: key.clone(), body, meta, integrity, if_none_match: None, if_match: None, event: Some("ObjectCreated:Post") };
    let obj = ops::put_object(s3, input)?;
    let host = req.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let location = format!("http://{host}/{bucket}/{}", url_encode(&key).replace("%2F", "/"));
    let mut h = vec![("etag", quoted(&obj.etag)), ("location", location.clone())];
    sse_headers(&mut h, &obj.meta, &s3.region);
    version_header(&mut h, obj.version_id.as_deref());
    if let Some(redirect) = form.get("success_action_redirect").or_else(|| form.get("redirect")).filter(|r| r.starts_with("http://") || r.starts_with("https://")) {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let target = format!("{redirect}{sep}bucket={}&key={}&etag={}", url_encode(bucket), url_encode(&key), url_encode(&quoted(&obj.etag)));
        h.retain(|(n, _)| *n != "location");
        h.push(("location", target));
        return Ok(empty(StatusCode::SEE_OTHER, h));
    }
    match form.get("success_action_status").as_deref().map(str::trim) {
        Some("201") => {
            let mut w = XmlWriter::new();
            w.open_ns("PostResponse", NS).elem("Location", &location).elem("Bucket", bucket).elem("Key", &key).elem("ETag", &quoted(&obj.etag)).close("PostResponse");
            Ok(xml_response(StatusCode::CREATED, h, w))
        }
        Some("200") => Ok(empty(StatusCode::OK, h)),
        _ => Ok(empty(StatusCode::NO_CONTENT, h)),
    }
}

/// GetBucketNotificationConfiguration: the stored destinations, or an empty configuration.
fn get_notification(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
    let doc = match s3.store.config(bucket, "notification")? {
        Some(d) => d,
        None => super::notify::render(&[]),
    };
    Ok(response(StatusCode::OK, vec![("content-type", "application/xml".into())], Bytes::from(doc)))
}

/// PutBucketNotificationConfiguration: Lambda destinations, checked (the function exists and
/// lets S3 invoke it, unless `x-amz-skip-destination-validation`), stored and applied.
fn put_notification(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let payload = payload(req)?;
    integrity(req, &payload)?.verify(&payload.data)?;
    let targets = super::notify::parse(&parse_xml_body(&payload.data)?)?;
    s3.store.bucket(bucket)?;
    if !req.header("x-amz-skip-destination-validation").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        s3.notifications.check_destinations(bucket, &targets)?;
    }
    let doc = (!targets.is_empty()).then(|| super::notify::render(&targets));
    s3.set_config(bucket, "notification", doc.as_deref())?;
    s3.notifications.set(bucket, targets);
    Ok(empty(StatusCode::OK, vec![]))
}

/// GetObjectTagging / PutObjectTagging / DeleteObjectTagging.
fn object_tagging(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    match req.method {
        Method::GET => {
            let obj = s3.object(bucket, key, version_param(req))?;
            let mut h = vec![("content-type", "application/xml".into())];
            version_header(&mut h, obj.version_id.as_deref());
            Ok(response(StatusCode::OK, h, Bytes::from(config::tagging_xml(&obj.meta.tags))))
        }
        Method::PUT => {
            let payload = payload(req)?;
            integrity(req, &payload)?.verify(&payload.data)?;
            let doc = parse_xml_body(&payload.data)?;
            if doc.name != "Tagging" {
                return Err(S3Error::MalformedXml(format!("expected <Tagging>, found <{}>", doc.name)));
            }
            let version = s3.store.set_object_tags(bucket, key, version_param(req), config::tags(&doc, 10)?)?;
            s3.notify("ObjectTagging:Put", bucket, key, None);
            let mut h = Vec::new();
            version_header(&mut h, version.as_deref());
            Ok(empty(StatusCode::OK, h))
        }
        _ => {
            let version = s3.store.set_object_tags(bucket, key, version_param(req), Vec::new())?;
            s3.notify("ObjectTagging:Delete", bucket, key, None);
            let mut h = Vec::new();
            version_header(&mut h, version.as_deref());
            Ok(empty(StatusCode::NO_CONTENT, h))
        }
    }
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

// ------------------------------------------------------------------ request bodies

/// The payload of a request: aws-chunked bodies decoded, with their trailing headers, and the
/// `x-amz-content-sha256` / `x-amz-decoded-content-length` claims checked.
pub struct Payload {
    pub data: Bytes,
    pub trailers: Vec<(String, String)>,
}

fn is_aws_chunked(req: &AwsRequest) -> bool {
    req.header("content-encoding").is_some_and(|ce| ce.split(',').any(|t| t.trim().eq_ignore_ascii_case("aws-chunked")))
        || req.header("x-amz-content-sha256").is_some_and(|s| s.starts_with("STREAMING-"))
}

/// Decodes and checks a request's payload.
pub fn payload(req: &AwsRequest) -> S3Result<Payload> {
    if is_aws_chunked(req) {
        let decoded = crate::protocol::aws_chunked::decode(&req.body).map_err(S3Error::IncompleteBody)?;
        if let Some(len) = req.header("x-amz-decoded-content-length")
            && len.trim().parse::<usize>().ok() != Some(decoded.data.len())
        {
            return Err(S3Error::IncompleteBody(format!(
                "You did not provide the number of bytes specified by the x-amz-decoded-content-length header ({len}); got {}",
                decoded.data.len()
            )));
        }
        return Ok(Payload { data: decoded.data, trailers: decoded.trailers });
    }
    if let Some(claimed) = req.header("x-amz-content-sha256")
        && claimed.len() == 64
        && claimed.bytes().all(|b| b.is_ascii_hexdigit())
    {
        use sha2::Digest;
        let computed = hex::encode(sha2::Sha256::digest(&req.body));
        if !computed.eq_ignore_ascii_case(claimed) {
            return Err(S3Error::ContentSha256Mismatch { client: claimed.to_string(), computed });
        }
    }
    Ok(Payload { data: req.body.clone(), trailers: Vec::new() })
}

/// A checksum algorithm named in a header; an unknown name is InvalidRequest.
fn algorithm_header(req: &AwsRequest, name: &str) -> S3Result<Option<Algorithm>> {
    req.header(name)
        .map(|a| Algorithm::parse(a).ok_or_else(|| S3Error::InvalidRequest(format!("Checksum algorithm {a} is not supported."))))
        .transpose()
}

/// What the client claims about a payload's integrity, from headers and trailers.
fn integrity(req: &AwsRequest, payload: &Payload) -> S3Result<Integrity> {
    let algorithm = match algorithm_header(req, "x-amz-sdk-checksum-algorithm")? {
        Some(a) => Some(a),
        None => algorithm_header(req, "x-amz-checksum-algorithm")?,
    };
    let mut expected = None;
    for a in checksum::ALL {
        let value = req
            .header(a.header())
            .map(str::to_string)
            .or_else(|| payload.trailers.iter().find(|(n, _)| n == a.header()).map(|(_, v)| v.clone()));
        if let Some(v) = value {
            if expected.is_some() {
                return Err(S3Error::InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.".into()));
            }
            expected = Some((a, v));
        }
    }
    Ok(Integrity { content_md5: req.header("content-md5").map(str::to_string), algorithm, expected })
}

/// Content-* headers, `x-amz-meta-*` and `x-amz-storage-class` of a request, as stored with an
/// object.
fn object_meta(req: &AwsRequest) -> S3Result<ObjectMeta> {
    let h = |n: &str| req.header(n).map(str::to_string);
    let content_encoding = req.header("content-encoding").and_then(|ce| {
        let rest: Vec<&str> = ce.split(',').map(str::trim).filter(|t| !t.eq_ignore_ascii_case("aws-chunked") && !t.is_empty()).collect();
        (!rest.is_empty()).then(|| rest.join(","))
    });
    let mut user: Vec<(String, String)> = req
        .headers
        .iter()
        .filter_map(|(n, v)| {
            let name = n.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        })
        .collect();
    user.sort();
    let tags = match req.header("x-amz-tagging") {
        Some(t) => config::parse_tag_header(t)?,
        None => Vec::new(),
    };
    let sse = requested_sse(req.header("x-amz-server-side-encryption"), h("x-amz-server-side-encryption-aws-kms-key-id"))?;
    if sse.is_none() && req.header("x-amz-server-side-encryption-aws-kms-key-id").is_some() {
        return Err(S3Error::InvalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms".into()));
    }
    Ok(ObjectMeta {
        content_type: h("content-type"),
        content_encoding,
        content_disposition: h("content-disposition"),
        content_language: h("content-language"),
        cache_control: h("cache-control"),
        expires: h("expires"),
        user,
        storage_class: ops::storage_class(req.header("x-amz-storage-class"))?,
        tags,
        sse,
        parts: Vec::new(),
    })
}

/// The ACL a request asks for: `None` when it names none, `Some(Some(canned))` for
/// `x-amz-acl`, `Some(None)` for `x-amz-grant-*` headers.
fn requested_acl(req: &AwsRequest) -> Option<Option<&str>> {
    match req.header("x-amz-acl") {
        Some(a) => Some(Some(a)),
        None if req.headers.keys().any(|n| n.as_str().starts_with("x-amz-grant-")) => Some(None),
        None => None,
    }
}

/// The server-side encryption a write asks for (header or form field) and its KMS key: `None`
/// for SSE-S3 (the default), `InvalidArgument` for an algorithm S3 does not have.
fn requested_sse(algorithm: Option<&str>, key: Option<String>) -> S3Result<Option<(String, Option<String>)>> {
    match algorithm.map(str::trim) {
        None | Some("AES256") => Ok(None),
        Some(alg @ ("aws:kms" | "aws:kms:dsse")) => Ok(Some((alg.to_string(), key))),
        Some(other) => Err(S3Error::InvalidArgument(format!("The encryption method specified is not supported: {other}"))),
    }
}

/// The metadata of a new object: the request's, with the bucket's default encryption when the
/// request names none, and its `x-amz-acl` checked against the bucket's ownership controls.
fn new_object_meta(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<ObjectMeta> {
    let mut meta = object_meta(req)?;
    if let Some(acl) = requested_acl(req) {
        ops::check_acl_write(s3, bucket, acl)?;
    }
    if meta.sse.is_none() {
        meta.sse = s3.kms_default(bucket);
    }
    Ok(meta)
}

/// `x-amz-server-side-encryption` (and the KMS key) for an object: SSE-S3 unless it asked for KMS.
fn sse_headers(h: &mut Vec<(&'static str, String)>, meta: &ObjectMeta, region: &str) {
    match &meta.sse {
        None => h.push(("x-amz-server-side-encryption", "AES256".into())),
        Some((alg, key)) => {
            h.push(("x-amz-server-side-encryption", alg.clone()));
            h.push(("x-amz-server-side-encryption-aws-kms-key-id", key.clone().unwrap_or_else(|| format!("arn:aws:kms:{region}:000000000000:alias/aws/s3"))));
        }
    }
}

fn parse_xml_body(body: &[u8]) -> S3Result<xml::Element> {
    xml::parse(body).map_err(S3Error::MalformedXml)
}

fn conditions(req: &AwsRequest, prefix: &str) -> Conditions {
    let h = |n: &str| req.header(&format!("{prefix}{n}")).map(str::to_string);
    Conditions {
        if_match: h("if-match"),
        if_none_match: h("if-none-match"),
        if_modified_since: h("if-modified-since").and_then(|d| parse_http_date(&d)),
        if_unmodified_since: h("if-unmodified-since").and_then(|d| parse_http_date(&d)),
    }
}

/// Parses `x-amz-copy-source` (`[/]bucket/key[?versionId=...]`, URL-encoded): bucket, key and
/// the source version.
fn copy_source(req: &AwsRequest) -> S3Result<(String, String, Option<String>)> {
    let raw = req.header("x-amz-copy-source").unwrap_or_default();
    let (raw, version) = match raw.split_once("?versionId=") {
        Some((s, v)) => (s, Some(percent_decode(v))),
        None => (raw, None),
    };
    let decoded = percent_decode(raw);
    let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
    match trimmed.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string(), version)),
        _ => Err(S3Error::InvalidArgument("Invalid copy source object key".into())),
    }
}

/// The `versionId` a request names (empty counts as none).
fn version_param(req: &AwsRequest) -> Option<&str> {
    req.query_param("versionId").filter(|v| !v.is_empty())
}

/// `x-amz-version-id`, for a version of a versioned bucket.
fn version_header(h: &mut Vec<(&'static str, String)>, version: Option<&str>) {
    if let Some(v) = version {
        h.push(("x-amz-version-id", v.to_string()));
    }
}

fn part_number(req: &AwsRequest) -> S3Result<u32> {
    req.query_param("partNumber")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| S3Error::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into()))
}

fn parse_max(req: &AwsRequest, name: &str, default: usize) -> S3Result<usize> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => Err(S3Error::InvalidArgument(format!("Argument {name} must be an integer between 0 and 2147483647"))),
            Ok(n) => Ok((n as usize).min(default)),
            Err(_) => Err(S3Error::InvalidArgument(format!("Provided {name} not an integer or within integer range"))),
        },
    }
}

// ------------------------------------------------------------------ buckets

fn list_buckets(s3: &S3, req: &AwsRequest) -> S3Result<HttpResponse> {
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

fn create_bucket(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
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

fn head_bucket(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
    let b = s3.store.bucket(bucket)?;
    Ok(empty(StatusCode::OK, vec![("x-amz-bucket-region", b.region), ("x-amz-access-point-alias", "false".into())]))
}

fn get_bucket_location(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
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

// ------------------------------------------------------------------ objects

fn checksum_headers(h: &mut Vec<(&'static str, String)>, alg: Algorithm, value: &str, kind: ChecksumType) {
    h.push((alg.header(), value.to_string()));
    h.push(("x-amz-checksum-type", kind.name().to_string()));
}

fn put_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let payload = payload(req)?;
    let integrity = integrity(req, &payload)?;
    let obj = ops::put_object(
        s3,
        ops::PutObjectInput {
            bucket: bucket.to_string(),
            key: key.to_string(),
            meta: new_object_meta(s3, req, bucket)?,
            integrity,
            body: payload.data,
            if_none_match: req.header("if-none-match").map(str::to_string),
            if_match: req.header("if-match").map(str::to_string),
            event: None,
        },
    )?;
    let mut h = vec![("etag", quoted(&obj.etag))];
    sse_headers(&mut h, &obj.meta, &s3.region);
    if let Some(c) = &obj.checksum {
        checksum_headers(&mut h, c.algorithm, &c.value, c.kind);
    }
    version_header(&mut h, obj.version_id.as_deref());
    Ok(empty(StatusCode::OK, h))
}

/// The headers GET and HEAD send for an object.
fn object_headers(req: &AwsRequest, obj: &ObjectRow, ranged: bool, region: &str) -> Vec<(&'static str, String)> {
    let q = |n: &str| req.query_param(n).map(str::to_string);
    let m = &obj.meta;
    let mut h = vec![
        ("etag", quoted(&obj.etag)),
        ("last-modified", http_date(obj.last_modified)),
        ("accept-ranges", "bytes".to_string()),
        ("content-type", q("response-content-type").or(m.content_type.clone()).unwrap_or_else(|| "binary/octet-stream".into())),
    ];
    sse_headers(&mut h, m, region);
    // The `null` version shows as such when it was asked for by id.
    version_header(&mut h, obj.version_id.as_deref().or(req.query_param("versionId").filter(|v| *v == "null")));
    if !m.tags.is_empty() && req.method == Method::GET {
        h.push(("x-amz-tagging-count", m.tags.len().to_string()));
    }
    let optional = [
        ("content-encoding", q("response-content-encoding").or(m.content_encoding.clone())),
        ("content-disposition", q("response-content-disposition").or(m.content_disposition.clone())),
        ("content-language", q("response-content-language").or(m.content_language.clone())),
        ("cache-control", q("response-cache-control").or(m.cache_control.clone())),
        ("expires", q("response-expires").or(m.expires.clone())),
    ];
    h.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
    if let Some(c) = &m.storage_class {
        h.push(("x-amz-storage-class", c.clone()));
    }
    let checksum_mode = req.header("x-amz-checksum-mode").is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"));
    if checksum_mode && !ranged && let Some(c) = &obj.checksum {
        checksum_headers(&mut h, c.algorithm, &c.value, c.kind);
    }
    h
}

/// Adds `x-amz-meta-*` headers (dynamic names, so they are appended after the static ones).
fn with_user_meta(mut resp: HttpResponse, obj: &ObjectRow) -> HttpResponse {
    for (k, v) in &obj.meta.user {
        // Values with non-ASCII characters come back RFC 2047-encoded, as S3 returns them.
        let v = if v.is_ascii() { v.clone() } else { format!("=?UTF-8?B?{}?=", B64.encode(v.as_bytes())) };
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

fn get_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str, head: bool) -> S3Result<HttpResponse> {
    let part = match req.query_param("partNumber") {
        Some(_) if req.header("range").is_some() => return Err(S3Error::InvalidRequest("Cannot specify both Range header and partNumber query parameter".into())),
        Some(n) => Some(n.trim().parse::<u32>().ok().filter(|n| (1..=ops::MAX_PART_NUMBER).contains(n)).ok_or_else(|| {
            S3Error::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into())
        })?),
        None => None,
    };
    let raw_range = req.header("range");
    let range = raw_range.and_then(|r| ByteRange::parse(r).map(|p| (p, r)));
    let (obj, mut resolved) = ops::get_object(s3, (bucket, key, version_param(req)), &conditions(req, ""), range, head)?;
    let mut parts_count = None;
    if let Some(n) = part {
        let (r, count) = ops::part_range(&obj, n)?;
        // A simple object read as part 1 is the whole object, as S3 answers it.
        if !obj.meta.parts.is_empty() {
            resolved = Some(r);
            parts_count = Some(count);
        }
    }
    let mut h = object_headers(req, &obj, resolved.is_some(), &s3.region);
    if let Some(c) = parts_count {
        h.push(("x-amz-mp-parts-count", c.to_string()));
    }
    let status = match resolved {
        Some((start, len)) => {
            h.push(("content-range", format!("bytes {}-{}/{}", start, start + len - 1, obj.size)));
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    if head {
        let len = resolved.map_or(obj.size, |(_, l)| l);
        h.push(("content-length", len.to_string()));
        return Ok(with_user_meta(empty(status, h), &obj));
    }
    let body = s3.store.read_data(&obj.data, resolved)?;
    Ok(with_user_meta(response(status, h, body), &obj))
}

fn copy_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let (source_bucket, source_key, source_version) = copy_source(req)?;
    let replace = match req.header("x-amz-metadata-directive").map(str::to_ascii_uppercase).as_deref() {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => return Err(S3Error::InvalidArgument(format!("Unknown metadata directive: {other}"))),
    };
    let checksum_algorithm = algorithm_header(req, "x-amz-checksum-algorithm")?;
    let tags = match req.header("x-amz-tagging-directive").map(str::to_ascii_uppercase).as_deref() {
        None | Some("COPY") => None,
        Some("REPLACE") => Some(config::parse_tag_header(req.header("x-amz-tagging").unwrap_or_default())?),
        Some(other) => return Err(S3Error::InvalidArgument(format!("Unknown tagging directive: {other}"))),
    };
    let meta = new_object_meta(s3, req, bucket)?;
    let (obj, src) = ops::copy_object(
        s3,
        ops::CopyObjectInput {
            bucket: bucket.to_string(),
            key: key.to_string(),
            source_bucket,
            source_key,
            source_version,
            source_conditions: conditions(req, "x-amz-copy-source-"),
            replace_meta: if replace { Some(meta) } else { None },
            checksum_algorithm,
            storage_class: match req.header("x-amz-storage-class") {
                Some(c) => Some(ops::storage_class(Some(c))?),
                None => None,
            },
            tags,
        },
    )?;
    let mut w = XmlWriter::new();
    w.open_ns("CopyObjectResult", NS).elem("LastModified", &iso8601_millis(obj.last_modified)).elem("ETag", &quoted(&obj.etag));
    if let Some(c) = &obj.checksum {
        w.elem(c.algorithm.xml_name(), &c.value).elem("ChecksumType", c.kind.name());
    }
    w.close("CopyObjectResult");
    let mut h = Vec::new();
    sse_headers(&mut h, &obj.meta, &s3.region);
    version_header(&mut h, obj.version_id.as_deref());
    if let Some(v) = &src.version_id {
        h.push(("x-amz-copy-source-version-id", v.clone()));
    }
    Ok(xml_response(StatusCode::OK, h, w))
}

/// The keys a `<Delete>` document names, with their version ids.
fn object_keys(doc: &xml::Element) -> Vec<(String, Option<String>)> {
    doc.children_named("Object")
        .map(|o| (o.child_text("Key").unwrap_or_default().to_string(), o.child_text("VersionId").filter(|v| !v.is_empty()).map(str::to_string)))
        .collect()
}

/// The keys a DeleteObjects request names (none if its body does not parse).
fn delete_keys(req: &AwsRequest) -> Vec<(String, Option<String>)> {
    payload(req).ok().and_then(|p| parse_xml_body(&p.data).ok()).map(|d| object_keys(&d)).unwrap_or_default()
}

/// DeleteObject: 204, with the version removed or the delete marker made.
fn delete_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let d = s3.delete_object(bucket, key, version_param(req), "ObjectRemoved:Delete")?;
    let mut h = Vec::new();
    if d.delete_marker {
        h.push(("x-amz-delete-marker", "true".to_string()));
    }
    version_header(&mut h, d.version_id.as_deref());
    Ok(empty(StatusCode::NO_CONTENT, h))
}

fn delete_objects(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let payload = payload(req)?;
    integrity(req, &payload)?.verify(&payload.data)?;
    let doc = parse_xml_body(&payload.data)?;
    if doc.name != "Delete" {
        return Err(S3Error::MalformedXml(format!("unexpected element <{}>", doc.name)));
    }
    let quiet = doc.child_text("Quiet").is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let keys = object_keys(&doc);
    if keys.is_empty() {
        return Err(S3Error::MalformedXml("no <Object> to delete".into()));
    }
    let outcomes = ops::delete_objects(s3, bucket, keys)?;
    let mut w = XmlWriter::new();
    w.open_ns("DeleteResult", NS);
    for o in outcomes {
        match o.result {
            Ok(_) if quiet => {}
            Ok(d) => {
                w.open("Deleted").elem("Key", &o.key);
                if let Some(v) = &o.version {
                    w.elem("VersionId", v);
                }
                if d.delete_marker {
                    w.elem("DeleteMarker", "true").elem("DeleteMarkerVersionId", d.version_id.as_deref().unwrap_or("null"));
                }
                w.close("Deleted");
            }
            Err(e) => {
                let aws = e.to_aws();
                w.open("Error").elem("Key", &o.key);
                if let Some(v) = &o.version {
                    w.elem("VersionId", v);
                }
                w.elem("Code", aws.code).elem("Message", &aws.message).close("Error");
            }
        }
    }
    w.close("DeleteResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
}

// ------------------------------------------------------------------ listing

/// Continuation tokens are opaque to clients: `K<key>` resumes after a key, `P<prefix>` after
/// everything under a common prefix.
fn encode_token(entry: &ListEntry) -> String {
    match entry {
        ListEntry::Object(o) => B64.encode(format!("K{}", o.key)),
        ListEntry::CommonPrefix(p) => B64.encode(format!("P{p}")),
    }
}

fn decode_token(token: &str) -> S3Result<(String, bool)> {
    let invalid = || S3Error::InvalidArgument("The continuation token provided is incorrect".into());
    let raw = B64.decode(token.trim()).map_err(|_| invalid())?;
    let s = String::from_utf8(raw).map_err(|_| invalid())?;
    match s.split_at_checked(1) {
        Some(("K", k)) => Ok((k.to_string(), false)),
        Some(("P", p)) => Ok((p.to_string(), true)),
        _ => Err(invalid()),
    }
}

/// `<CommonPrefixes>` for each common prefix of a listing page.
fn common_prefixes(w: &mut XmlWriter, entries: &[ListEntry], enc: &dyn Fn(&str) -> String) {
    for e in entries {
        if let ListEntry::CommonPrefix(p) = e {
            w.open("CommonPrefixes").elem("Prefix", &enc(p)).close("CommonPrefixes");
        }
    }
}

/// Whether a listing asked for `encoding-type=url` (any other value is refused).
fn url_encoding(req: &AwsRequest) -> S3Result<bool> {
    match req.query_param("encoding-type") {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::InvalidArgument("Invalid Encoding Method specified in Request".into())),
    }
}

/// How a listing writes keys: URL-encoded (slashes kept) with `encoding-type=url`, else as is.
fn key_encoder(url: bool) -> impl Fn(&str) -> String {
    move |s: &str| if url { url_encode(s).replace("%2F", "/") } else { s.to_string() }
}

/// Whether a resume marker is itself a common prefix (it ends at the first delimiter after the
/// prefix), so the page resumes past everything under it.
fn marker_is_common_prefix(marker: &str, prefix: &str, delimiter: Option<&str>) -> bool {
    delimiter.is_some_and(|d| marker.starts_with(prefix) && marker[prefix.len()..].find(d).map(|i| prefix.len() + i + d.len()) == Some(marker.len()))
}

/// The elements after the markers that ListObjects (v1, v2) and ListObjectVersions share.
fn listing_settings(w: &mut XmlWriter, max_keys: usize, delimiter: Option<&str>, url: bool, truncated: bool, enc: &dyn Fn(&str) -> String) {
    w.elem("MaxKeys", &max_keys.to_string());
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(d));
    }
    if url {
        w.elem("EncodingType", "url");
    }
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
}

fn list_objects(s3: &S3, req: &AwsRequest, bucket: &str, v2: bool) -> S3Result<HttpResponse> {
    let url = url_encoding(req)?;
    let enc = key_encoder(url);
    let prefix = req.query_param("prefix").unwrap_or("").to_string();
    let delimiter = req.query_param("delimiter").filter(|d| !d.is_empty()).map(str::to_string);
    let max_keys = parse_max(req, "max-keys", 1000)?;
    let token = if v2 { req.query_param("continuation-token") } else { None };
    let start_after = if v2 { req.query_param("start-after") } else { req.query_param("marker") }.unwrap_or("");
    let (after, after_is_prefix) = match token {
        Some(t) => decode_token(t)?,
        None => {
            // A v1 marker that is itself a common prefix resumes past everything under it.
            (start_after.to_string(), !v2 && marker_is_common_prefix(start_after, &prefix, delimiter.as_deref()))
        }
    };
    let input = ListInput { prefix: prefix.clone(), delimiter: delimiter.clone(), max_keys, after, after_is_prefix };
    let page = ops::list_objects(s3, bucket, &input)?;
    let fetch_owner = !v2 || req.query_param("fetch-owner").is_some_and(|v| v == "true");

    let mut w = XmlWriter::new();
    w.open_ns("ListBucketResult", NS);
    w.elem("Name", bucket).elem("Prefix", &enc(&prefix));
    if v2 {
        if let Some(t) = token {
            w.elem("ContinuationToken", t);
        }
        if page.truncated && let Some(last) = page.entries.last() {
            w.elem("NextContinuationToken", &encode_token(last));
        }
        if !start_after.is_empty() {
            w.elem("StartAfter", &enc(start_after));
        }
        w.elem("KeyCount", &page.entries.len().to_string());
    } else {
        w.elem("Marker", &enc(start_after));
        if page.truncated && delimiter.is_some() && let Some(last) = page.entries.last() {
            w.elem("NextMarker", &enc(last.name()));
        }
    }
    listing_settings(&mut w, max_keys, delimiter.as_deref(), url, page.truncated, &enc);
    for e in &page.entries {
        if let ListEntry::Object(o) = e {
            w.open("Contents").elem("Key", &enc(&o.key)).elem("LastModified", &iso8601_millis(o.last_modified)).elem("ETag", &quoted(&o.etag));
            if let Some(c) = &o.checksum {
                w.elem("ChecksumAlgorithm", c.algorithm.name()).elem("ChecksumType", c.kind.name());
            }
            w.elem("Size", &o.size.to_string());
            if fetch_owner {
                owner(&mut w, "Owner");
            }
            w.elem("StorageClass", o.meta.storage_class.as_deref().unwrap_or("STANDARD")).close("Contents");
        }
    }
    common_prefixes(&mut w, &page.entries, &enc);
    w.close("ListBucketResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
}

/// ListObjectVersions: every version and delete marker, newest first within a key. Objects of a
/// bucket that was never versioned are listed once each, as version `null`.
fn list_object_versions(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let url = url_encoding(req)?;
    let enc = key_encoder(url);
    let prefix = req.query_param("prefix").unwrap_or("").to_string();
    let delimiter = req.query_param("delimiter").filter(|d| !d.is_empty()).map(str::to_string);
    let max_keys = parse_max(req, "max-keys", 1000)?;
    let key_marker = req.query_param("key-marker").unwrap_or("");
    let version_marker = req.query_param("version-id-marker").filter(|v| !v.is_empty());
    if version_marker.is_some() && key_marker.is_empty() {
        return Err(S3Error::InvalidArgument("A version-id marker cannot be specified without a key marker.".into()));
    }
    let after_is_prefix = marker_is_common_prefix(key_marker, &prefix, delimiter.as_deref());
    let input = ListInput { prefix: prefix.clone(), delimiter: delimiter.clone(), max_keys, after: key_marker.to_string(), after_is_prefix };
    let page = ops::list_object_versions(s3, bucket, &input, version_marker)?;
    let mut w = XmlWriter::new();
    w.open_ns("ListVersionsResult", NS).elem("Name", bucket).elem("Prefix", &enc(&prefix));
    w.elem("KeyMarker", &enc(key_marker)).elem("VersionIdMarker", version_marker.unwrap_or(""));
    if page.truncated {
        match page.entries.last() {
            Some(ops::VersionListEntry::Version(v)) => {
                w.elem("NextKeyMarker", &enc(&v.row.key)).elem("NextVersionIdMarker", v.row.version_id.as_deref().unwrap_or("null"));
            }
            Some(ops::VersionListEntry::CommonPrefix(p)) => {
                w.elem("NextKeyMarker", &enc(p));
            }
            None => {}
        }
    }
    listing_settings(&mut w, max_keys, delimiter.as_deref(), url, page.truncated, &enc);
    let mut prefixes = Vec::new();
    for e in &page.entries {
        match e {
            ops::VersionListEntry::Version(v) => {
                let o = &v.row;
                let tag = if v.delete_marker { "DeleteMarker" } else { "Version" };
                w.open(tag).elem("Key", &enc(&o.key)).elem("VersionId", o.version_id.as_deref().unwrap_or("null"));
                w.elem("IsLatest", if v.is_latest { "true" } else { "false" }).elem("LastModified", &iso8601_millis(o.last_modified));
                if !v.delete_marker {
                    w.elem("ETag", &quoted(&o.etag)).elem("Size", &o.size.to_string());
                }
                owner(&mut w, "Owner");
                if !v.delete_marker {
                    w.elem("StorageClass", o.meta.storage_class.as_deref().unwrap_or("STANDARD"));
                }
                w.close(tag);
            }
            ops::VersionListEntry::CommonPrefix(p) => prefixes.push(ListEntry::CommonPrefix(p.clone())),
        }
    }
    common_prefixes(&mut w, &prefixes, &enc);
    w.close("ListVersionsResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
}

// ------------------------------------------------------------------ multipart

fn create_multipart_upload(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let algorithm = algorithm_header(req, "x-amz-checksum-algorithm")?;
    let kind = req
        .header("x-amz-checksum-type")
        .map(|t| ChecksumType::parse(t).ok_or_else(|| S3Error::InvalidRequest(format!("Value for x-amz-checksum-type header is invalid: {t}"))))
        .transpose()?;
    let u = ops::create_multipart_upload(s3, bucket, key, new_object_meta(s3, req, bucket)?, algorithm, kind)?;
    let mut h = Vec::new();
    sse_headers(&mut h, &u.meta, &s3.region);
    if let (Some(a), Some(t)) = (u.checksum_algorithm, u.checksum_type) {
        h.push(("x-amz-checksum-algorithm", a.name().to_string()));
        h.push(("x-amz-checksum-type", t.name().to_string()));
    }
    let mut w = XmlWriter::new();
    w.open_ns("InitiateMultipartUploadResult", NS).elem("Bucket", bucket).elem("Key", key).elem("UploadId", &u.upload_id);
    w.close("InitiateMultipartUploadResult");
    Ok(xml_response(StatusCode::OK, h, w))
}

fn upload_part(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let n = part_number(req)?;
    let payload = payload(req)?;
    let integrity = integrity(req, &payload)?;
    let upload_id = req.query_param("uploadId").unwrap_or_default();
    let part = ops::upload_part(s3, bucket, key, upload_id, n, payload.data, &integrity)?;
    let mut h = vec![("etag", quoted(&part.etag)), ("x-amz-server-side-encryption", "AES256".into())];
    let alg = integrity.expected.as_ref().map(|(a, _)| *a).or(integrity.algorithm).or(s3.store.upload(bucket, key, upload_id)?.checksum_algorithm);
    if let (Some(a), Some(c)) = (alg, &part.checksum) {
        h.push((a.header(), c.clone()));
    }
    Ok(empty(StatusCode::OK, h))
}

fn upload_part_copy(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let n = part_number(req)?;
    let (sb, sk, sv) = copy_source(req)?;
    let raw_range = req.header("x-amz-copy-source-range");
    let range = match raw_range {
        Some(r) => Some((
            ByteRange::parse(r).filter(|p| matches!(p, ByteRange::From { end: Some(_), .. })).ok_or_else(|| {
                S3Error::InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy".into())
            })?,
            r,
        )),
        None => None,
    };
    let upload_id = req.query_param("uploadId").unwrap_or_default();
    let (part, source_version) = ops::upload_part_copy(s3, bucket, key, upload_id, n, (&sb, &sk, sv.as_deref()), range, &conditions(req, "x-amz-copy-source-"))?;
    let mut w = XmlWriter::new();
    w.open_ns("CopyPartResult", NS).elem("LastModified", &iso8601_millis(part.last_modified)).elem("ETag", &quoted(&part.etag));
    if let (Some(c), Some(a)) = (&part.checksum, s3.store.upload(bucket, key, upload_id)?.checksum_algorithm) {
        w.elem(a.xml_name(), c);
    }
    w.close("CopyPartResult");
    let mut h = Vec::new();
    if let Some(v) = source_version {
        h.push(("x-amz-copy-source-version-id", v));
    }
    Ok(xml_response(StatusCode::OK, h, w))
}

fn complete_multipart_upload(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let upload_id = req.query_param("uploadId").unwrap_or_default();
    let payload = payload(req)?;
    let doc = parse_xml_body(&payload.data)?;
    if doc.name != "CompleteMultipartUpload" {
        return Err(S3Error::MalformedXml(format!("unexpected element <{}>", doc.name)));
    }
    let mut parts = Vec::new();
    for p in doc.children_named("Part") {
        let part_number = p
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| S3Error::MalformedXml("a <Part> has no valid <PartNumber>".into()))?;
        let etag = p.child_text("ETag").unwrap_or_default().to_string();
        let checksum = checksum::ALL.into_iter().find_map(|a| p.child_text(a.xml_name()).map(|v| (a, v.trim().to_string())));
        parts.push(CompletedPart { part_number, etag, checksum });
    }
    // A full-object checksum of the whole upload may come as a header.
    let full = checksum::ALL.into_iter().find_map(|a| req.header(a.header()).map(|v| (a, v.trim().to_string())));
    let full = full.filter(|_| req.header("x-amz-checksum-type").is_some_and(|t| t.eq_ignore_ascii_case("FULL_OBJECT")));
    let obj = ops::complete_multipart_upload(s3, bucket, key, upload_id, &parts, full)?;
    let host = req.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let mut w = XmlWriter::new();
    w.open_ns("CompleteMultipartUploadResult", NS)
        .elem("Location", &format!("http://{host}/{bucket}/{}", url_encode(key).replace("%2F", "/")))
        .elem("Bucket", bucket)
        .elem("Key", key)
        .elem("ETag", &quoted(&obj.etag));
    if let Some(c) = &obj.checksum {
        w.elem(c.algorithm.xml_name(), &c.value).elem("ChecksumType", c.kind.name());
    }
    w.close("CompleteMultipartUploadResult");
    let mut h = Vec::new();
    sse_headers(&mut h, &obj.meta, &s3.region);
    version_header(&mut h, obj.version_id.as_deref());
    Ok(xml_response(StatusCode::OK, h, w))
}

fn list_parts(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let upload_id = req.query_param("uploadId").unwrap_or_default();
    let upload = s3.store.upload(bucket, key, upload_id)?;
    let max = parse_max(req, "max-parts", 1000)?;
    let marker: u32 = req.query_param("part-number-marker").and_then(|m| m.parse().ok()).unwrap_or(0);
    let parts: Vec<_> = s3.store.parts(upload_id)?.into_iter().filter(|p| p.part_number > marker).collect();
    let truncated = parts.len() > max;
    let mut w = XmlWriter::new();
    w.open_ns("ListPartsResult", NS).elem("Bucket", bucket).elem("Key", key).elem("UploadId", upload_id);
    w.elem("PartNumberMarker", &marker.to_string());
    let shown = &parts[..parts.len().min(max)];
    if let Some(last) = shown.last() {
        w.elem("NextPartNumberMarker", &last.part_number.to_string());
    }
    w.elem("MaxParts", &max.to_string()).elem("IsTruncated", if truncated { "true" } else { "false" });
    for p in shown {
        w.open("Part")
            .elem("PartNumber", &p.part_number.to_string())
            .elem("LastModified", &iso8601_millis(p.last_modified))
            .elem("ETag", &quoted(&p.etag))
            .elem("Size", &p.size.to_string());
        if let (Some(a), Some(c)) = (upload.checksum_algorithm, &p.checksum) {
            w.elem(a.xml_name(), c);
        }
        w.close("Part");
    }
    owner(&mut w, "Initiator");
    owner(&mut w, "Owner");
    w.elem("StorageClass", upload.meta.storage_class.as_deref().unwrap_or("STANDARD"));
    if let (Some(a), Some(t)) = (upload.checksum_algorithm, upload.checksum_type) {
        w.elem("ChecksumAlgorithm", a.name()).elem("ChecksumType", t.name());
    }
    w.close("ListPartsResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
}

fn list_multipart_uploads(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let prefix = req.query_param("prefix").unwrap_or("");
    let delimiter = req.query_param("delimiter");
    let key_marker = req.query_param("key-marker").filter(|m| !m.is_empty());
    let upload_id_marker = req.query_param("upload-id-marker").filter(|m| !m.is_empty());
    let max = parse_max(req, "max-uploads", 1000)?;
    let page = ops::list_multipart_uploads(s3, bucket, prefix, delimiter, key_marker, upload_id_marker, max)?;
    let mut w = XmlWriter::new();
    w.open_ns("ListMultipartUploadsResult", NS).elem("Bucket", bucket);
    w.elem("KeyMarker", key_marker.unwrap_or("")).elem("UploadIdMarker", upload_id_marker.unwrap_or(""));
    if page.truncated && let Some(last) = page.uploads.last() {
        w.elem("NextKeyMarker", &last.key).elem("NextUploadIdMarker", &last.upload_id);
    }
    w.elem("Prefix", prefix);
    if let Some(d) = delimiter {
        w.elem("Delimiter", d);
    }
    w.elem("MaxUploads", &max.to_string()).elem("IsTruncated", if page.truncated { "true" } else { "false" });
    for u in &page.uploads {
        w.open("Upload").elem("Key", &u.key).elem("UploadId", &u.upload_id);
        owner(&mut w, "Initiator");
        owner(&mut w, "Owner");
        w.elem("StorageClass", u.meta.storage_class.as_deref().unwrap_or("STANDARD")).elem("Initiated", &iso8601_millis(u.initiated));
        if let Some(a) = u.checksum_algorithm {
            w.elem("ChecksumAlgorithm", a.name());
        }
        w.close("Upload");
    }
    for p in &page.common_prefixes {
        w.open("CommonPrefixes").elem("Prefix", p).close("CommonPrefixes");
    }
    w.close("ListMultipartUploadsResult");
    Ok(xml_response(StatusCode::OK, vec![], w))
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
