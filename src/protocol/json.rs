//! awsJson1_0 / awsJson1_1 bodies: typed inputs parsed with serde (a malformed body is
//! `SerializationException`, as AWS answers), outputs rendered with the protocol's content type,
//! blobs as base64 and timestamps as epoch seconds.

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AwsError, HttpResponse, Protocol, response};

/// Parses a request body into `T`; an empty body counts as `{}`.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| {
        AwsError::new(StatusCode::BAD_REQUEST, "SerializationException", format!("Could not parse the request body: {e}"))
    })
}

/// A 200 response with a JSON body in the protocol's content type.
pub fn ok<T: Serialize>(protocol: Protocol, value: &T) -> HttpResponse {
    let ct = match protocol {
        Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
        Protocol::AwsJson1_1 => "application/x-amz-json-1.1",
        _ => "application/json",
    };
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    response(StatusCode::OK, vec![("content-type", ct.into())], Bytes::from(body))
}

/// The awsJson timestamp: epoch seconds with millisecond precision.
pub fn epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// `ValidationException` in AWS's words: `1 validation error detected: Value ... at '<field>'
/// failed to satisfy constraint: <constraint>`.
pub fn validation_error(field: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::new(
        StatusCode::BAD_REQUEST,
        "ValidationException",
        format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"),
    )
}

/// One page of `items` for list operations whose NextToken is the index to continue from;
/// `Err` when the token is not one this function handed out.
pub fn index_page<T>(items: Vec<T>, token: Option<&str>, max: usize) -> Result<(Vec<T>, Option<String>), ()> {
    let start: usize = match token {
        Some(t) if !t.is_empty() => t.parse().map_err(|_| ())?,
        _ => 0,
    };
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(end.saturating_sub(start)).collect(), next))
}

/// Serde helper for blobs: base64 in JSON, bytes in Rust.
pub mod blob {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Decodes a base64 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(s.as_bytes()).map(Bytes::from).map_err(serde::de::Error::custom)
    }

    /// Encodes as a base64 string.
    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct In {
        name: String,
        #[serde(with = "blob")]
        data: Bytes,
    }

    #[test]
    fn parses_and_rejects() {
        let v: In = parse(br#"{"Name":"x","Data":"aGk="}"#).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((v.name.as_str(), &v.data[..]), ("x", &b"hi"[..]));
        let e = parse::<In>(b"{not json").err().map(|e| e.code);
        assert_eq!(e, Some("SerializationException"));
        let e = parse::<In>(br#"{"Name":"x","Data":"!!"}"#).err().map(|e| e.code);
        assert_eq!(e, Some("SerializationException"));
    }

    #[test]
    fn index_pages() {
        let items: Vec<u32> = (0..5).collect();
        assert_eq!(index_page(items.clone(), None, 2), Ok((vec![0, 1], Some("2".into()))));
        assert_eq!(index_page(items.clone(), Some("4"), 2), Ok((vec![4], None)));
        assert_eq!(index_page(items.clone(), Some("99"), 2), Ok((vec![], None)));
        assert_eq!(index_page(items.clone(), Some("18446744073709551615"), 2), Ok((vec![], None)));
        assert!(index_page(items, Some("x"), 2).is_err());
    }
}
