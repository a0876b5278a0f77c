//! Browser form uploads (POST Object): the `multipart/form-data` fields, the POST policy
//! (expiry, conditions, no field left uncovered) and its SigV4 or SigV2 signature, as S3 checks
//! them before it stores the `file` field.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use futures_util::FutureExt;
use serde_json::Value;

use super::error::{S3Error, S3Result};

/// One form field (names lower-cased; S3 matches them case-insensitively).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub value: Bytes,
    pub file_name: Option<String>,
}

/// The parsed form: every field up to and including `file` (S3 ignores what follows it).
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<Field>,
}

impl Form {
    /// The text of a field.
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.name == name).map(|f| String::from_utf8_lossy(&f.value).into_owned())
    }

    /// The `file` field.
    pub fn file(&self) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == "file")
    }
}

/// Parses a `multipart/form-data` body (with `multer`, over the body already in memory).
pub fn parse(content_type: &str, body: Bytes) -> S3Result<Form> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| S3Error::MalformedPostRequest(format!("the Content-Type has no multipart boundary ({e})")))?;
    let stream = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(body)]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let read = async move {
        let mut form = Form::default();
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_ascii_lowercase();
            let file_name = field.file_name().map(str::to_string);
            let value = field.bytes().await?;
            let last = name == "file";
            form.fields.push(Field { name, value, file_name });
            if last {
                break;
            }
        }
        Ok::<Form, multer::Error>(form)
    };
    // The stream is in memory, so the parse never waits.
    match read.now_or_never() {
        Some(Ok(form)) => Ok(form),
        Some(Err(e)) => Err(S3Error::MalformedPostRequest(format!("The body of your POST request is not well-formed multipart/form-data ({e})"))),
        None => Err(S3Error::MalformedPostRequest("The body of your POST request is not well-formed multipart/form-data".into())),
    }
}

/// Fields a policy need not mention.
fn exempt(name: &str) -> bool {
    matches!(name, "file" | "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid") || name.starts_with("x-ignore-")
}

fn denied(why: impl std::fmt::Display) -> S3Error {
    S3Error::AccessDenied(format!("Invalid according to Policy: {why}"))
}

/// Checks the form against its base64 `policy` at `now` (epoch seconds): not expired, every
/// condition met (`bucket`, exact matches, `eq`, `starts-with`, `content-length-range`), and no
/// field the conditions do not cover.
pub fn check_policy(form: &Form, bucket: &str, key: &str, size: u64, now: i64) -> S3Result<()> {
    let Some(encoded) = form.get("policy") else {
        return Ok(());
    };
    let raw = B64.decode(encoded.trim()).map_err(|_| S3Error::InvalidPolicyDocument("Invalid Policy: Invalid 'Base64' encoding.".into()))?;
    let policy: Value = serde_json::from_slice(&raw).map_err(|e| S3Error::InvalidPolicyDocument(format!("Invalid Policy: Invalid JSON ({e}).")))?;
    let expiration = policy.get("expiration").and_then(Value::as_str).ok_or_else(|| S3Error::InvalidPolicyDocument("Invalid Policy: Policy missing expiration.".into()))?;
    let expires = crate::protocol::time::parse_http_date(expiration).ok_or_else(|| S3Error::InvalidPolicyDocument(format!("Invalid Policy: Invalid 'expiration' value: '{expiration}'")))?;
    if expires < now {
        return Err(denied("Policy expired."));
    }
    let conditions = policy.get("conditions").and_then(Value::as_array).ok_or_else(|| S3Error::InvalidPolicyDocument("Invalid Policy: Policy missing conditions.".into()))?;
    let value_of = |name: &str| -> Option<String> {
        match name {
            "bucket" => Some(bucket.to_string()),
            "key" => Some(key.to_string()),
            n => form.get(n),
        }
    };
    let mut covered: Vec<String> = vec!["bucket".into()];
    for c in conditions {
        match c {
            Value::Object(m) => {
                for (name, want) in m {
                    let name = name.to_ascii_lowercase();
                    let want = want.as_str().map(str::to_string).unwrap_or_else(|| want.to_string());
                    if value_of(&name).as_deref() != Some(want.as_str()) {
                        return Err(denied(format!("Policy Condition failed: [\"eq\", \"${name}\", \"{want}\"]")));
                    }
                    covered.push(name);
                }
            }
            Value::Array(a) => {
                let op = a.first().and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
                if op == "content-length-range" {
                    let bound = |i: usize| a.get(i).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
                    let (Some(min), Some(max)) = (bound(1), bound(2)) else {
                        return Err(S3Error::InvalidPolicyDocument("Invalid Policy: Invalid content-length-range condition.".into()));
                    };
                    if size > max {
                        return Err(S3Error::EntityTooLargeFor { proposed: size, max });
                    }
                    if size < min {
                        return Err(S3Error::EntityTooSmallFor { proposed: size, min });
                    }
                    continue;
                }
                let field = a.get(1).and_then(Value::as_str).unwrap_or_default();
                let want = a.get(2).and_then(Value::as_str).unwrap_or_default();
                let name = field.trim_start_matches('$').to_ascii_lowercase();
                let have = value_of(&name).unwrap_or_default();
                let ok = match op.as_str() {
                    "eq" => have == want,
                    // A Content-Type may list several values; each must start with the prefix.
                    "starts-with" if name == "content-type" => have.split(',').all(|v| v.trim().starts_with(want)),
                    "starts-with" => have.starts_with(want),
                    _ => return Err(S3Error::InvalidPolicyDocument(format!("Invalid Policy: Invalid Condition: unknown operator '{op}'"))),
                };
                if !ok {
                    return Err(denied(format!("Policy Condition failed: [\"{op}\", \"{field}\", \"{want}\"]")));
                }
                covered.push(name);
            }
            _ => return Err(S3Error::InvalidPolicyDocument("Invalid Policy: Invalid Simple-Condition.".into())),
        }
    }
    if let Some(extra) = form.fields.iter().map(|f| f.name.as_str()).find(|n| !exempt(n) && !covered.iter().any(|c| c == n)) {
        return Err(denied(format!("Extra input fields: {extra}")));
    }
    Ok(())
}

/// Checks the form's signature over its policy with the caller's secret: SigV4
/// (`x-amz-signature`) or SigV2 (`signature`). `secret_for` finds the secret of an access key.
pub fn check_signature(form: &Form, secret_for: &dyn Fn(&str) -> Option<String>) -> S3Result<()> {
    let Some(policy) = form.get("policy") else { return Ok(()) };
    let mismatch = || S3Error::SignatureDoesNotMatch("The request signature we calculated does not match the signature you provided. Check your key and signing method.".into());
    if let Some(signature) = form.get("x-amz-signature") {
        let credential = form.get("x-amz-credential").unwrap_or_default();
        let parsed = crate::protocol::sigv4::from_presigned_query(&credential).ok_or_else(|| S3Error::InvalidArgument(format!("Invalid x-amz-credential: {credential}")))?;
        let secret = secret_for(&parsed.access_key).ok_or_else(|| S3Error::InvalidAccessKeyId(parsed.access_key.clone()))?;
        if crate::protocol::sigv4::post_policy_v4(&secret, &parsed, &policy) != signature.trim() {
            return Err(mismatch());
        }
        return Ok(());
    }
    if let Some(signature) = form.get("signature") {
        let key = form.get("awsaccesskeyid").unwrap_or_default();
        let secret = secret_for(&key).ok_or(S3Error::InvalidAccessKeyId(key))?;
        if crate::protocol::sigv4::post_policy_v2(&secret, &policy) != signature.trim() {
            return Err(mismatch());
        }
        return Ok(());
    }
    Err(S3Error::InvalidArgument("Bucket POST must contain a field named 'x-amz-signature' (or 'signature') when a policy is given".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> Form {
        Form { fields: fields.iter().map(|(n, v)| Field { name: n.to_string(), value: Bytes::from(v.to_string()), file_name: None }).collect() }
    }

    fn policy(conditions: serde_json::Value, expiration: &str) -> String {
        B64.encode(serde_json::json!({ "expiration": expiration, "conditions": conditions }).to_string())
    }

    #[test]
    fn conditions_as_s3_checks_them() {
        let p = policy(serde_json::json!([{"bucket": "b"}, ["starts-with", "$key", "uploads/"], ["content-length-range", 1, 10]]), "2100-01-01T00:00:00Z");
        let ok = form(&[("key", "uploads/a"), ("policy", &p)]);
        assert!(check_policy(&ok, "b", "uploads/a", 5, 0).is_ok());
        assert!(matches!(check_policy(&ok, "other", "uploads/a", 5, 0), Err(S3Error::AccessDenied(m)) if m.contains("bucket")));
        assert!(matches!(check_policy(&ok, "b", "elsewhere/a", 5, 0), Err(S3Error::AccessDenied(m)) if m.contains("starts-with")));
        assert!(matches!(check_policy(&ok, "b", "uploads/a", 11, 0), Err(S3Error::EntityTooLargeFor { .. })));
        let extra = form(&[("key", "uploads/a"), ("policy", &p), ("content-type", "text/plain")]);
        assert!(matches!(check_policy(&extra, "b", "uploads/a", 5, 0), Err(S3Error::AccessDenied(m)) if m.contains("Extra input fields: content-type")));
        let old = form(&[("key", "uploads/a"), ("policy", &policy(serde_json::json!([]), "2000-01-01T00:00:00Z"))]);
        assert!(matches!(check_policy(&old, "b", "uploads/a", 5, 1_000_000_000_000), Err(S3Error::AccessDenied(m)) if m.contains("expired")));
    }

    #[test]
    fn parses_form_data() -> S3Result<()> {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"Key\"\r\n\r\nuploads/${filename}\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n--XX--\r\n";
        let f = parse("multipart/form-data; boundary=XX", Bytes::from(body))?;
        assert_eq!(f.get("key").as_deref(), Some("uploads/${filename}"));
        assert_eq!(f.file().map(|f| (f.value.clone(), f.file_name.clone())), Some((Bytes::from("hello"), Some("a.txt".into()))));
        assert!(f.get("after").is_none());
        assert!(parse("multipart/form-data; boundary=XX", Bytes::from("garbage")).is_err());
        Ok(())
    }
}
