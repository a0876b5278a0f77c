//! Reading S3 requests: payloads (aws-chunked decoding, content-sha256 and integrity checks),
//! object metadata headers, conditions, copy sources, version ids and paging parameters.

use super::*;

/// The payload of a request: aws-chunked bodies decoded, with their trailing headers, and the
/// `x-amz-content-sha256` / `x-amz-decoded-content-length` claims checked.
pub struct Payload {
    pub data: Bytes,
    pub trailers: Vec<(String, String)>,
}

pub(super) fn is_aws_chunked(req: &AwsRequest) -> bool {
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
pub(super) fn algorithm_header(req: &AwsRequest, name: &str) -> S3Result<Option<Algorithm>> {
    req.header(name)
        .map(|a| Algorithm::parse(a).ok_or_else(|| S3Error::InvalidRequest(format!("Checksum algorithm {a} is not supported."))))
        .transpose()
}

/// What the client claims about a payload's integrity, from headers and trailers.
pub(super) fn integrity(req: &AwsRequest, payload: &Payload) -> S3Result<Integrity> {
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
pub(super) fn object_meta(req: &AwsRequest) -> S3Result<ObjectMeta> {
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
pub(super) fn requested_acl(req: &AwsRequest) -> Option<Option<&str>> {
    match req.header("x-amz-acl") {
        Some(a) => Some(Some(a)),
        None if req.headers.keys().any(|n| n.as_str().starts_with("x-amz-grant-")) => Some(None),
        None => None,
    }
}

/// The server-side encryption a write asks for (header or form field) and its KMS key: `None`
/// for SSE-S3 (the default), `InvalidArgument` for an algorithm S3 does not have.
pub(super) fn requested_sse(algorithm: Option<&str>, key: Option<String>) -> S3Result<Option<(String, Option<String>)>> {
    match algorithm.map(str::trim) {
        None | Some("AES256") => Ok(None),
        Some(alg @ ("aws:kms" | "aws:kms:dsse")) => Ok(Some((alg.to_string(), key))),
        Some(other) => Err(S3Error::InvalidArgument(format!("The encryption method specified is not supported: {other}"))),
    }
}

/// The metadata of a new object: the request's, with the bucket's default encryption when the
/// request names none, and its `x-amz-acl` checked against the bucket's ownership controls.
pub(super) fn new_object_meta(s3: &S3, req: &AwsRequest, bucket: &str) -> S3Result<ObjectMeta> {
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
pub(super) fn sse_headers(h: &mut Vec<(&'static str, String)>, meta: &ObjectMeta, region: &str) {
    match &meta.sse {
        None => h.push(("x-amz-server-side-encryption", "AES256".into())),
        Some((alg, key)) => {
            h.push(("x-amz-server-side-encryption", alg.clone()));
            h.push(("x-amz-server-side-encryption-aws-kms-key-id", key.clone().unwrap_or_else(|| format!("arn:aws:kms:{region}:000000000000:alias/aws/s3"))));
        }
    }
}

pub(super) fn parse_xml_body(body: &[u8]) -> S3Result<xml::Element> {
    xml::parse(body).map_err(S3Error::MalformedXml)
}

pub(super) fn conditions(req: &AwsRequest, prefix: &str) -> Conditions {
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
pub(super) fn copy_source(req: &AwsRequest) -> S3Result<(String, String, Option<String>)> {
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
pub(super) fn version_param(req: &AwsRequest) -> Option<&str> {
    req.query_param("versionId").filter(|v| !v.is_empty())
}

/// `x-amz-version-id`, for a version of a versioned bucket.
pub(super) fn version_header(h: &mut Vec<(&'static str, String)>, version: Option<&str>) {
    if let Some(v) = version {
        h.push(("x-amz-version-id", v.to_string()));
    }
}

pub(super) fn part_number(req: &AwsRequest) -> S3Result<u32> {
    req.query_param("partNumber")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| S3Error::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive".into()))
}

pub(super) fn parse_max(req: &AwsRequest, name: &str, default: usize) -> S3Result<usize> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => Err(S3Error::InvalidArgument(format!("Argument {name} must be an integer between 0 and 2147483647"))),
            Ok(n) => Ok((n as usize).min(default)),
            Err(_) => Err(S3Error::InvalidArgument(format!("Provided {name} not an integer or within integer range"))),
        },
    }
}
