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
