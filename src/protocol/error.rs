//! AWS error shapes, one renderer per wire protocol. Every service maps its own error enum to an
//! [`AwsError`] in one place and lets [`AwsError::render`] produce the bytes the SDKs expect.

use bytes::Bytes;
use http::StatusCode;

use super::{HttpResponse, response, xml::XmlWriter};

/// The wire protocols AWS services speak (from the botocore service models).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
    RestJson1,
    RestXml,
    AwsQuery,
}

/// An error as AWS reports it: the HTTP status, the error code the SDK turns into an exception
/// type, a human message, and extra fields some codes carry (e.g. S3's `<BucketName>`).
#[derive(Debug, Clone)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra elements: rendered as XML children (restXml) or JSON fields.
    pub fields: Vec<(&'static str, String)>,
}

impl AwsError {
    /// A new error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AwsError { status, code, message: message.into(), fields: Vec::new() }
    }

    /// Adds an extra field.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// The error for a service firelocal does not emulate (yet).
    pub fn service_not_emulated(service: &str) -> Self {
        AwsError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("firelocal does not emulate the service '{service}'"),
        )
    }

    /// Renders the error in a protocol's shape. `head` drops the body (HEAD responses have none).
    pub fn render(&self, protocol: Protocol, request_id: &str, head: bool) -> HttpResponse {
        let mut headers: Vec<(&'static str, String)> = Vec::with_capacity(4);
        let body = match protocol {
            Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1 => {
                headers.push(("x-amzn-RequestId", request_id.to_string()));
                headers.push(("x-amzn-ErrorType", self.code.to_string()));
                let ct = match protocol {
                    Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
                    Protocol::AwsJson1_1 => "application/x-amz-json-1.1",
                    _ => "application/json",
                };
                headers.push(("content-type", ct.to_string()));
                let mut obj = serde_json::Map::new();
                obj.insert("__type".into(), self.code.into());
                // restJson1 services (Lambda, API Gateway) spell it `message`; awsJson ones accept both.
                obj.insert("message".into(), self.message.clone().into());
                for (k, v) in &self.fields {
                    obj.insert((*k).into(), v.clone().into());
                }
                serde_json::Value::Object(obj).to_string()
            }
            Protocol::RestXml => {
                headers.push(("x-amz-request-id", request_id.to_string()));
                headers.push(("x-amz-id-2", host_id(request_id)));
                headers.push(("content-type", "application/xml".to_string()));
                let mut w = XmlWriter::new();
                w.open("Error");
                w.elem("Code", self.code);
                w.elem("Message", &self.message);
                for (k, v) in &self.fields {
                    w.elem(k, v);
                }
                w.elem("RequestId", request_id);
                w.elem("HostId", &host_id(request_id));
                w.close("Error");
                w.finish()
            }
            Protocol::AwsQuery => {
                headers.push(("x-amzn-RequestId", request_id.to_string()));
                headers.push(("content-type", "text/xml".to_string()));
                let sender = if self.status.is_server_error() { "Receiver" } else { "Sender" };
                let mut w = XmlWriter::new();
                w.open("ErrorResponse");
                w.open("Error");
                w.elem("Type", sender);
                w.elem("Code", self.code);
                w.elem("Message", &self.message);
                for (k, v) in &self.fields {
                    w.elem(k, v);
                }
                w.close("Error");
                w.elem("RequestId", request_id);
                w.close("ErrorResponse");
                w.finish()
            }
        };
        let body = if head { Bytes::new() } else { Bytes::from(body) };
        response(self.status, headers, body)
    }
}

/// The `x-amz-id-2` host id S3 sends beside its request id (an opaque token; derived, not random).
pub fn host_id(request_id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("firelocal/{request_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(r: HttpResponse) -> String {
        String::from_utf8(r.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default().to_vec()).unwrap_or_default()
    }

    #[tokio::test]
    async fn rest_xml_error_shape() {
        let e = AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", "b<1>");
        let r = e.render(Protocol::RestXml, "REQ1", false);
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-amz-request-id"], "REQ1");
        let b = body_of(r).await;
        assert!(b.contains("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b&lt;1&gt;</BucketName><RequestId>REQ1</RequestId>"), "{b}");
    }

    #[tokio::test]
    async fn json_and_query_error_shapes() {
        let e = AwsError::new(StatusCode::BAD_REQUEST, "ResourceNotFoundException", "nope");
        let r = e.render(Protocol::AwsJson1_1, "R", false);
        assert_eq!(r.headers()["x-amzn-requestid"], "R");
        let v: serde_json::Value = serde_json::from_str(&body_of(r).await).unwrap_or_default();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(v["message"], "nope");
        let q = body_of(e.render(Protocol::AwsQuery, "R", false)).await;
        assert!(q.contains("<ErrorResponse><Error><Type>Sender</Type><Code>ResourceNotFoundException</Code>"), "{q}");
        assert!(body_of(e.render(Protocol::RestXml, "R", true)).await.is_empty());
    }
}
