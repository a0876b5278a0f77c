//! SigV4 parsing: who signed a request and for which region and service. The router reads the
//! service from the credential scope; services read the region. (Signature verification is an
//! opt-in that builds on this; by default any well-formed signature is accepted.)

/// The credential scope of a SigV4 signature: `AKID/date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    /// True for a presigned URL (the signature is in the query).
    pub presigned: bool,
}

/// Parses a `Credential=` value (`AKID/20240101/us-east-1/s3/aws4_request`).
fn parse_scope(value: &str, presigned: bool) -> Option<Credential> {
    let mut parts = value.trim().split('/');
    let access_key = parts.next()?.to_string();
    let date = parts.next()?.to_string();
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    if parts.next()? != "aws4_request" || access_key.is_empty() || service.is_empty() {
        return None;
    }
    Some(Credential { access_key, date, region, service, presigned })
}

/// Reads the credential from an `Authorization: AWS4-HMAC-SHA256 Credential=...` header.
pub fn from_authorization(header: &str) -> Option<Credential> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256")?;
    rest.split(',')
        .find_map(|part| part.trim().strip_prefix("Credential="))
        .and_then(|v| parse_scope(v, false))
}

/// Reads the credential from a presigned URL's decoded `X-Amz-Credential` query parameter.
pub fn from_presigned_query(credential: &str) -> Option<Credential> {
    parse_scope(credential, true)
}

/// Why a presigned URL is refused before its signature is even considered.
#[derive(Debug, Clone, PartialEq)]
pub enum PresignError {
    /// `X-Amz-Expires` over a week (or not a number).
    BadExpires(String),
    /// The URL has expired: `(expires at, now)` as epoch seconds.
    Expired { expires_at: i64, now: i64, expires: String },
}

/// Checks a presigned URL's validity window: SigV4 (`X-Amz-Date` + `X-Amz-Expires`, at most
/// 604800 s) or SigV2 (`Expires`, an epoch time). `query` is the decoded query string.
pub fn check_presigned_expiry(query: &[(String, String)], now: i64) -> Result<(), PresignError> {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let (Some(date), Some(expires)) = (get("X-Amz-Date"), get("X-Amz-Expires")) {
        let secs: i64 = expires.parse().map_err(|_| PresignError::BadExpires("X-Amz-Expires should be a number".into()))?;
        if !(0..=604_800).contains(&secs) {
            return Err(PresignError::BadExpires("X-Amz-Expires must be less than a week (in seconds) that is 604800".into()));
        }
        let signed = aws_smithy_types::DateTime::from_str(date, aws_smithy_types::date_time::Format::DateTime)
            .ok()
            .or_else(|| parse_basic_iso8601(date))
            .map(|d| d.secs())
            .ok_or_else(|| PresignError::BadExpires(format!("X-Amz-Date {date} is not a valid date")))?;
        if now > signed + secs {
            return Err(PresignError::Expired { expires_at: signed + secs, now, expires: expires.to_string() });
        }
    } else if let (Some(expires), Some(_)) = (get("Expires"), get("AWSAccessKeyId")) {
        if let Ok(at) = expires.parse::<i64>()
            && now > at
        {
            return Err(PresignError::Expired { expires_at: at, now, expires: expires.to_string() });
        }
    }
    Ok(())
}

/// `20240102T030405Z`, the SigV4 `X-Amz-Date` form.
fn parse_basic_iso8601(s: &str) -> Option<aws_smithy_types::DateTime> {
    if s.len() != 16 || !s.ends_with('Z') || s.as_bytes().get(8) != Some(&b'T') {
        return None;
    }
    let extended = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    aws_smithy_types::DateTime::from_str(&extended, aws_smithy_types::date_time::Format::DateTime).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_expiry() {
        let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let t0 = 1_704_164_645; // 2024-01-02T03:04:05Z
        let ok = q(&[("X-Amz-Date", "20240102T030405Z"), ("X-Amz-Expires", "60")]);
        assert_eq!(check_presigned_expiry(&ok, t0 + 60), Ok(()));
        assert!(matches!(check_presigned_expiry(&ok, t0 + 61), Err(PresignError::Expired { .. })));
        let week = q(&[("X-Amz-Date", "20240102T030405Z"), ("X-Amz-Expires", "604801")]);
        assert!(matches!(check_presigned_expiry(&week, t0), Err(PresignError::BadExpires(_))));
        let v2 = q(&[("AWSAccessKeyId", "test"), ("Expires", "100"), ("Signature", "x")]);
        assert!(matches!(check_presigned_expiry(&v2, 101), Err(PresignError::Expired { .. })));
        assert_eq!(check_presigned_expiry(&q(&[]), t0), Ok(()));
    }


    #[test]
    fn parses_authorization_header() {
        let h = "AWS4-HMAC-SHA256 Credential=test/20240101/eu-west-1/firehose/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let c = from_authorization(h).unwrap_or_else(|| panic!("no credential"));
        assert_eq!(c.access_key, "test");
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.service, "firehose");
        assert!(!c.presigned);
    }

    #[test]
    fn rejects_malformed_scopes() {
        assert!(from_authorization("AWS test:sig").is_none());
        assert!(from_authorization("AWS4-HMAC-SHA256 Credential=a/b/c").is_none());
        assert!(from_presigned_query("AKID/20240101/us-east-1/s3/aws4_request").is_some());
        assert!(from_presigned_query("AKID/20240101/us-east-1/s3/other").is_none());
    }
}

/// Why a signature was refused (`--verify-signatures`).
#[derive(Debug, Clone, PartialEq)]
pub enum SignatureError {
    /// The access key is not known.
    UnknownKey(String),
    /// The Authorization header or presigned query lacks a part.
    Incomplete(String),
    /// The signature does not match what the secret gives.
    Mismatch { string_to_sign: String, canonical_request: String },
    /// The request time is more than 15 minutes away from the server's.
    TooSkewed,
}

/// The parts of a SigV4 signature as a request carries them.
#[derive(Debug, Clone)]
pub struct Signed {
    pub credential: Credential,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// `X-Amz-Date` (`20240102T030405Z`).
    pub amz_date: String,
}

/// Extracts the signature parts from an `Authorization` header or a presigned query.
pub fn signed_parts(authorization: Option<&str>, query: &[(String, String)], x_amz_date: Option<&str>) -> Option<Result<Signed, SignatureError>> {
    let incomplete = |m: &str| Some(Err(SignatureError::Incomplete(m.to_string())));
    if let Some(h) = authorization.filter(|h| h.starts_with("AWS4-HMAC-SHA256")) {
        let rest = &h["AWS4-HMAC-SHA256".len()..];
        let field = |name: &str| rest.split(',').find_map(|p| p.trim().strip_prefix(name).map(str::to_string));
        let Some(credential) = field("Credential=").and_then(|c| parse_scope(&c, false)) else { return incomplete("Authorization header requires a valid 'Credential' parameter.") };
        let Some(signed) = field("SignedHeaders=") else { return incomplete("Authorization header requires 'SignedHeaders' parameter.") };
        let Some(signature) = field("Signature=") else { return incomplete("Authorization header requires 'Signature' parameter.") };
        let Some(amz_date) = x_amz_date else { return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.") };
        return Some(Ok(Signed { credential, signed_headers: signed.split(';').map(str::to_string).collect(), signature, amz_date: amz_date.to_string() }));
    }
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let cred = get("X-Amz-Credential")?;
    let Some(credential) = parse_scope(&cred, true) else { return incomplete("X-Amz-Credential is not valid.") };
    let (Some(signed), Some(signature), Some(amz_date)) = (get("X-Amz-SignedHeaders"), get("X-Amz-Signature"), get("X-Amz-Date")) else {
        return incomplete("Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
    };
    Some(Ok(Signed { credential, signed_headers: signed.split(';').map(str::to_string).collect(), signature, amz_date }))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut m = match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// URI-encodes as SigV4 does (RFC 3986 unreserved characters kept; `/` kept when `path`).
fn sig_encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (path && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Everything the canonical request is built from.
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// The path exactly as sent (already percent-encoded once).
    pub raw_path: &'a str,
    /// The decoded query parameters.
    pub query: &'a [(String, String)],
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// Verifies a SigV4 signature with `secret`. S3 signs its path as sent; other services encode it
/// once more. `now` is epoch seconds (for the 15-minute skew check on header signatures).
pub fn verify(req: &SignableRequest<'_>, signed: &Signed, secret: &str, now: i64) -> Result<(), SignatureError> {
    let presigned = signed.credential.presigned;
    if !presigned
        && let Some(t) = parse_basic_iso8601(&signed.amz_date)
        && (t.secs() - now).abs() > 900
    {
        return Err(SignatureError::TooSkewed);
    }
    let s3 = signed.credential.service == "s3";
    let path = if req.raw_path.is_empty() { "/" } else { req.raw_path };
    let canonical_uri = if s3 { path.to_string() } else { sig_encode(path, true) };
    let mut q: Vec<(String, String)> = req.query.iter().filter(|(k, _)| k != "X-Amz-Signature").map(|(k, v)| (sig_encode(k, false), sig_encode(v, false))).collect();
    q.sort();
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut canonical_headers = String::new();
    for name in &signed.signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = match req.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
        Some(h) => h.to_string(),
        None if presigned && s3 => "UNSIGNED-PAYLOAD".to_string(),
        None => sha256_hex(req.body),
    };
    let canonical_request = format!("{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}", req.method, signed.signed_headers.join(";"));
    let c = &signed.credential;
    let scope = format!("{}/{}/{}/aws4_request", c.date, c.region, c.service);
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{}\n{scope}\n{}", signed.amz_date, sha256_hex(canonical_request.as_bytes()));
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), c.date.as_bytes());
    let k_region = hmac(&k_date, c.region.as_bytes());
    let k_service = hmac(&k_region, c.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let expected = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    if expected.eq_ignore_ascii_case(&signed.signature) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { string_to_sign, canonical_request })
    }
}

#[cfg(test)]
mod verify_tests {
    use super::*;

    /// AWS's documented example (S3 GetObject with a Range header, secret
    /// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
    #[test]
    fn aws_documented_s3_example() {
        let mut headers = http::HeaderMap::new();
        for (k, v) in [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("x-amz-date", "20130524T000000Z"),
        ] {
            if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(v)) {
                headers.insert(k, v);
            }
        }
        let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        let signed = match signed_parts(Some(auth), &[], Some("20130524T000000Z")) {
            Some(Ok(s)) => s,
            other => panic!("{other:?}"),
        };
        let req = SignableRequest { method: "GET", raw_path: "/test.txt", query: &[], headers: &headers, body: b"" };
        let t = 1_369_353_600; // 2013-05-24T00:00:00Z
        assert_eq!(verify(&req, &signed, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", t), Ok(()));
        assert!(matches!(verify(&req, &signed, "wrong", t), Err(SignatureError::Mismatch { .. })));
        assert_eq!(verify(&req, &signed, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", t + 3600), Err(SignatureError::TooSkewed));
    }
}
