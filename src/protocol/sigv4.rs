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

#[cfg(test)]
mod tests {
    use super::*;

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
