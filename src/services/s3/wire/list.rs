//! Listings on the wire: ListObjects (v1 and v2) and ListObjectVersions, with continuation tokens,
//! common prefixes and `encoding-type=url`.

use super::*;

/// Continuation tokens are opaque to clients: `K<key>` resumes after a key, `P<prefix>` after
/// everything under a common prefix.
pub(super) fn encode_token(entry: &ListEntry) -> String {
    match entry {
        ListEntry::Object(o) => B64.encode(format!("K{}", o.key)),
        ListEntry::CommonPrefix(p) => B64.encode(format!("P{p}")),
    }
}

pub(super) fn decode_token(token: &str) -> S3Result<(String, bool)> {
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
pub(super) fn common_prefixes(w: &mut XmlWriter, entries: &[ListEntry], enc: &dyn Fn(&str) -> String) {
    for e in entries {
        if let ListEntry::CommonPrefix(p) = e {
            w.open("CommonPrefixes").elem("Prefix", &enc(p)).close("CommonPrefixes");
        }
    }
}

/// Whether a listing asked for `encoding-type=url` (any other value is refused).
pub(super) fn url_encoding(req: &AwsRequest) -> S3Result<bool> {
    match req.query_param("encoding-type") {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::InvalidArgument("Invalid Encoding Method specified in Request".into())),
    }
}

/// How a listing writes keys: URL-encoded (slashes kept) with `encoding-type=url`, else as is.
pub(super) fn key_encoder(url: bool) -> impl Fn(&str) -> String {
    move |s: &str| if url { url_encode(s).replace("%2F", "/") } else { s.to_string() }
}

/// Whether a resume marker is itself a common prefix (it ends at the first delimiter after the
/// prefix), so the page resumes past everything under it.
pub(super) fn marker_is_common_prefix(marker: &str, prefix: &str, delimiter: Option<&str>) -> bool {
    delimiter.is_some_and(|d| marker.starts_with(prefix) && marker[prefix.len()..].find(d).map(|i| prefix.len() + i + d.len()) == Some(marker.len()))
}

/// The elements after the markers that ListObjects (v1, v2) and ListObjectVersions share.
pub(super) fn listing_settings(w: &mut XmlWriter, max_keys: usize, delimiter: Option<&str>, url: bool, truncated: bool, enc: &dyn Fn(&str) -> String) {
    w.elem("MaxKeys", &max_keys.to_string());
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(d));
    }
    if url {
        w.elem("EncodingType", "url");
    }
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
}

pub(super) fn list_objects(s3: &S3, req: &AwsRequest, bucket: &str, v2: bool) -> S3Result<HttpResponse> {
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
pub(super) fn list_object_versions(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<HttpResponse> {
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
