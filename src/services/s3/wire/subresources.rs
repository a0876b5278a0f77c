//! S3's sub-resources on the wire: CORS preflight, configuration documents (`config::KINDS`), ACLs,
//! event notification, object tagging, GetObjectAttributes and browser POST uploads.

use super::*;

/// The first of the bucket's CORS rules that allows this origin, method and request headers.
pub(super) fn cors_rule(s3: &S3, bucket: &str, origin: &str, method: &str, headers: &[&str]) -> Option<config::CorsRule> {
    let doc = s3.store.config(bucket, "cors").ok().flatten()?;
    let doc = xml::parse(doc.as_bytes()).ok()?;
    config::cors_rules(&doc).into_iter().find(|r| r.allows(origin, method, headers))
}

/// `OPTIONS` on a bucket or object: a CORS preflight, answered from the bucket's rules.
pub(super) fn preflight(s3: &S3, req: &AwsRequest, addr: &Address) -> S3Result<HttpResponse> {
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
pub(super) fn get_config(s3: &S3, kind: &config::Kind, bucket: &str) -> S3Result<HttpResponse> {
    let doc = match (s3.store.config(bucket, kind.sub)?, kind.unset) {
        (Some(doc), _) => doc,
        (None, Unset::Default(doc)) => config::render(&parse_xml_body(doc.as_bytes())?),
        (None, Unset::Error(code, message)) => return Err(S3Error::NoSuchConfiguration { code, message, bucket: bucket.to_string() }),
    };
    Ok(response(StatusCode::OK, vec![("content-type", "application/xml".into())], Bytes::from(doc)))
}

/// PutBucket<Config>: checked as S3 checks it, then stored.
pub(super) fn put_config(s3: &S3, req: &AwsRequest, kind: &config::Kind, bucket: &str) -> S3Result<HttpResponse> {
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
pub(super) fn acl_xml() -> XmlWriter {
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
pub(super) fn put_acl(s3: &S3, req: &AwsRequest, bucket: &str, key: Option<&str>) -> S3Result<HttpResponse> {
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
pub(super) fn get_object_attributes(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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
pub(super) fn post_object(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    use crate::services::s3::post;
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
pub(super) fn get_notification(s3: &S3, bucket: &str) -> S3Result<HttpResponse> {
    let doc = match s3.store.config(bucket, "notification")? {
        Some(d) => d,
        None => crate::services::s3::notify::render(&[]),
    };
    Ok(response(StatusCode::OK, vec![("content-type", "application/xml".into())], Bytes::from(doc)))
}

/// PutBucketNotificationConfiguration: Lambda destinations, checked (the function exists and
/// lets S3 invoke it, unless `x-amz-skip-destination-validation`), stored and applied.
pub(super) fn put_notification(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
    let payload = payload(req)?;
    integrity(req, &payload)?.verify(&payload.data)?;
    let targets = crate::services::s3::notify::parse(&parse_xml_body(&payload.data)?)?;
    s3.store.bucket(bucket)?;
    if !req.header("x-amz-skip-destination-validation").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        s3.notifications.check_destinations(bucket, &targets)?;
    }
    let doc = (!targets.is_empty()).then(|| crate::services::s3::notify::render(&targets));
    s3.set_config(bucket, "notification", doc.as_deref())?;
    s3.notifications.set(bucket, targets);
    Ok(empty(StatusCode::OK, vec![]))
}

/// GetObjectTagging / PutObjectTagging / DeleteObjectTagging.
pub(super) fn object_tagging(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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
