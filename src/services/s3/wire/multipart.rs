//! Multipart uploads on the wire: create, UploadPart(Copy), complete, abort, ListParts and
//! ListMultipartUploads.

use super::*;

pub(super) fn create_multipart_upload(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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

pub(super) fn upload_part(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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

pub(super) fn upload_part_copy(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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

pub(super) fn complete_multipart_upload(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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

pub(super) fn list_parts(s3: &S3, req: &AwsRequest, bucket: &str, key: &str) -> S3Result<HttpResponse> {
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

pub(super) fn list_multipart_uploads(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
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
