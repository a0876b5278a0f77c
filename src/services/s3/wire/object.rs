//! Object operations on the wire: PutObject, GetObject / HeadObject, CopyObject, DeleteObject(s).

use super::*;

pub(super) fn checksum_headers(h: &mut Vec<(&'static str, String)>, alg: Algorithm, value: &str, kind: ChecksumType) {
    h.push((alg.header(), value.to_string()));
    h.push(("x-amz-checksum-type", kind.name().to_string()));
}

pub(super) fn put_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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
pub(super) fn object_headers(req: &AwsRequest, obj: &ObjectRow, ranged: bool, region: &str) -> Vec<(&'static str, String)> {
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
pub(super) fn with_user_meta(mut resp: HttpResponse, obj: &ObjectRow) -> HttpResponse {
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

pub(super) fn get_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str, head: bool) -> S3Result<HttpResponse> {
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

pub(super) fn copy_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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
pub(super) fn object_keys(doc: &xml::Element) -> Vec<(String, Option<String>)> {
    doc.children_named("Object")
        .map(|o| (o.child_text("Key").unwrap_or_default().to_string(), o.child_text("VersionId").filter(|v| !v.is_empty()).map(str::to_string)))
        .collect()
}

/// The keys a DeleteObjects request names (none if its body does not parse).
pub(super) fn delete_keys(req: &AwsRequest) -> Vec<(String, Option<String>)> {
    payload(req).ok().and_then(|p| parse_xml_body(&p.data).ok()).map(|d| object_keys(&d)).unwrap_or_default()
}

/// DeleteObject: 204, with the version removed or the delete marker made.
pub(super) fn delete_object(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
    let d = s3.delete_object(bucket, key, version_param(req), "ObjectRemoved:Delete")?;
    let mut h = Vec::new();
    if d.delete_marker {
        h.push(("x-amz-delete-marker", "true".to_string()));
    }
    version_header(&mut h, d.version_id.as_deref());
    Ok(empty(StatusCode::NO_CONTENT, h))
}

pub(super) fn delete_objects(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
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
