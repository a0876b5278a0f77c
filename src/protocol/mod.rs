//! Protocol code written once for every service: the request/response types the router hands to
//! services, AWS error shapes per protocol, SigV4 parsing, aws-chunked bodies, XML and timestamps.

pub mod aws_chunked;
pub mod error;
pub mod json;
pub mod query;
pub mod sigv4;
pub mod time;
pub mod xml;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::Full;

pub use error::{AwsError, Protocol};

/// The body type of every response firelocal sends.
pub type Body = Full<Bytes>;
/// A finished HTTP response.
pub type HttpResponse = http::Response<Body>;

/// One decoded request as a service's wire layer sees it: the body is fully read, the query is
/// percent-decoded, and the SigV4 scope (if any) is parsed.
#[derive(Debug)]
pub struct AwsRequest {
    pub method: Method,
    /// The raw (still percent-encoded) path, exactly as sent.
    pub path: String,
    /// Query parameters, percent-decoded, in the order sent.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The request id echoed in every response and error.
    pub request_id: String,
    /// Credential scope from the `Authorization` header or a presigned query.
    pub auth: Option<sigv4::Credential>,
    /// Host header without the port, lower-cased.
    pub host: String,
    /// The client's address (for `aws:SourceIp`).
    pub peer: Option<std::net::IpAddr>,
}

impl AwsRequest {
    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether a query parameter is present (with or without a value).
    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// A header value as UTF-8 text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The access key the request is signed with: SigV4 (header or presigned query) or SigV2 (an
    /// `AWS AKID:signature` header or an `AWSAccessKeyId` query).
    pub fn access_key(&self) -> Option<&str> {
        if let Some(c) = &self.auth {
            return Some(c.access_key.as_str());
        }
        if let Some(k) = self.header("authorization").and_then(|h| h.strip_prefix("AWS ")).and_then(|r| r.split(':').next()) {
            return Some(k.trim());
        }
        self.query_param("AWSAccessKeyId")
    }

    /// The region the client signed for, else the server's default.
    pub fn region<'a>(&'a self, default: &'a str) -> &'a str {
        self.auth.as_ref().map(|c| c.region.as_str()).unwrap_or(default)
    }
}

/// The deepest nesting of `(`, `[` and `{` in client text, string literals included (erring on
/// the safe side): parsers that recurse once per bracket (jq, YAML flow collections, QuickSight
/// expressions) are given text only below a bound, so no input can overflow a thread's stack
/// or take quadratic time.
pub fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in text.bytes() {
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Percent-decodes a URL component (`+` stays a plus, as in paths and SigV4 queries).
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Parses a query string (`a=1&b&c=x%20y`) into decoded pairs; `+` means a space, as in forms.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Characters S3 and SigV4 leave unencoded: `A-Za-z0-9-_.~`.
const URI_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// URL-encodes a value as AWS does for `encoding-type=url` and canonical requests.
pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URI_UNRESERVED).to_string()
}

/// Builds a response with a status, headers and body.
pub fn response(status: StatusCode, headers: Vec<(&'static str, String)>, body: Bytes) -> HttpResponse {
    let mut resp = http::Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes_and_keeps_empty_values() {
        let q = parse_query("uploads&prefix=a%2Fb+c&max-keys=2");
        assert_eq!(q[0], ("uploads".into(), "".into()));
        assert_eq!(q[1], ("prefix".into(), "a/b c".into()));
        assert_eq!(q[2], ("max-keys".into(), "2".into()));
    }

    #[test]
    fn url_encode_matches_aws() {
        assert_eq!(url_encode("a b/c~d_e.f-g+h"), "a%20b%2Fc~d_e.f-g%2Bh");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}
