//! How stacks create resources: through firelocal's own API, in process. Each call is an
//! `AwsRequest` signed as the stack's caller and handed to the server's router, so it meets the
//! same validation, IAM checks and service code as the same call on the wire.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::protocol::sigv4::Credential;
use crate::protocol::{AwsRequest, HttpResponse, xml};

/// The server's request handler (routing, IAM, dispatch), for calls made on a caller's behalf.
pub type Dispatch = Arc<dyn Fn(AwsRequest) -> BoxFuture<'static, HttpResponse> + Send + Sync>;

/// A failed call: the service's error code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resource handler returned message: \"{}\" (HandlerErrorCode: {})", self.message, handler_code(&self.code))
    }
}

/// CloudFormation's handler error code for a service error code.
fn handler_code(code: &str) -> &'static str {
    match code {
        c if c.contains("AlreadyExists") || c == "ResourceConflictException" || c == "ConflictException" || c == "BucketAlreadyOwnedByYou" => "AlreadyExists",
        c if c.contains("NotFound") || c.contains("NoSuch") || c == "EntityNotFoundException" => "NotFound",
        c if c.contains("AccessDenied") || c.contains("NotAuthorized") => "AccessDenied",
        c if c.contains("NotImplemented") || c.contains("Unsupported") || c.contains("UnknownOperation") => "NotUpdatable",
        c if c.contains("Throttl") => "Throttling",
        c if c.contains("Conflict") || c.contains("NotEmpty") => "ResourceConflict",
        _ => "InvalidRequest",
    }
}

/// A client for one caller (the access key and region the stack operation was signed with).
#[derive(Clone)]
pub struct Api {
    pub dispatch: Dispatch,
    pub access_key: String,
    pub region: String,
}

impl Api {
    fn request(&self, service: &str, method: Method, path: &str, query: Vec<(String, String)>, headers: &[(&str, &str)], body: Bytes) -> AwsRequest {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                h.insert(k, v);
            }
        }
        let credential = Credential { access_key: self.access_key.clone(), date: "20240101".into(), region: self.region.clone(), service: service.into(), presigned: false };
        AwsRequest {
            method,
            path: path.to_string(),
            query,
            headers: h,
            body,
            request_id: uuid::Uuid::new_v4().to_string(),
            auth: Some(credential),
            host: "localhost".into(),
            peer: None,
        }
    }

    async fn send(&self, req: AwsRequest) -> Result<(u16, Bytes), Failure> {
        let resp = (self.dispatch)(req).await;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if status < 300 {
            return Ok((status, body));
        }
        Err(failure(&body))
    }

    /// An awsJson call (`X-Amz-Target: <prefix>.<operation>`).
    pub async fn json(&self, service: &str, target: &str, body: &Value) -> Result<Value, Failure> {
        let req = self.request(service, Method::POST, "/", Vec::new(), &[("x-amz-target", target), ("content-type", "application/x-amz-json-1.1")], Bytes::from(body.to_string()));
        let (_, out) = self.send(req).await?;
        Ok(serde_json::from_slice(&out).unwrap_or(Value::Null))
    }

    /// A restJson call (Lambda, API Gateway). `path` is already percent-encoded.
    pub async fn rest(&self, service: &str, method: Method, path: &str, query: &[(&str, &str)], body: Option<&Value>) -> Result<Value, Failure> {
        let q = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let b = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let req = self.request(service, method, path, q, &[("content-type", "application/json")], b);
        let (_, out) = self.send(req).await?;
        Ok(serde_json::from_slice(&out).unwrap_or(Value::Null))
    }

    /// An awsQuery call (IAM): form parameters in, the result element out.
    pub async fn query(&self, service: &str, action: &str, params: &[(&str, String)]) -> Result<xml::Element, Failure> {
        let mut form = vec![("Action".to_string(), action.to_string()), ("Version".to_string(), "2010-05-08".to_string())];
        form.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let body = form.iter().map(|(k, v)| format!("{}={}", crate::protocol::url_encode(k), crate::protocol::url_encode(v))).collect::<Vec<_>>().join("&");
        let req = self.request(service, Method::POST, "/", Vec::new(), &[("content-type", "application/x-www-form-urlencoded")], Bytes::from(body));
        let (_, out) = self.send(req).await?;
        let doc = xml::parse(&out).unwrap_or_default();
        Ok(doc.child(&format!("{action}Result")).cloned().unwrap_or_default())
    }

    /// A restXml call (S3). Returns the body.
    pub async fn s3(&self, method: Method, path: &str, query: &[(&str, &str)], body: Bytes) -> Result<Bytes, Failure> {
        self.s3_with(method, path, query, &[], body).await
    }

    /// An S3 call with extra headers.
    pub async fn s3_with(&self, method: Method, path: &str, query: &[(&str, &str)], headers: &[(&str, &str)], body: Bytes) -> Result<Bytes, Failure> {
        let q = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let req = self.request("s3", method, path, q, headers, body);
        self.send(req).await.map(|(_, b)| b)
    }
}

/// The error code and message of a failed response (JSON or XML).
fn failure(body: &[u8]) -> Failure {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let code = v.get("__type").or_else(|| v.get("code")).or_else(|| v.get("Code")).and_then(Value::as_str).unwrap_or("InternalFailure");
        let code = code.rsplit('#').next().unwrap_or(code).to_string();
        let message = v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).unwrap_or_default().to_string();
        return Failure { code, message };
    }
    let doc = xml::parse(body).unwrap_or_default();
    let err = if doc.name == "Error" { Some(&doc) } else { doc.child("Error") };
    Failure {
        code: err.and_then(|e| e.child_text("Code")).unwrap_or("InternalFailure").to_string(),
        message: err.and_then(|e| e.child_text("Message")).unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_from_each_protocol() {
        assert_eq!(failure(br#"{"__type":"com.amazon#ResourceInUseException","message":"in use"}"#), Failure { code: "ResourceInUseException".into(), message: "in use".into() });
        assert_eq!(failure(b"<Error><Code>BucketNotEmpty</Code><Message>not empty</Message></Error>").code, "BucketNotEmpty");
        assert_eq!(failure(b"<ErrorResponse><Error><Code>NoSuchEntity</Code><Message>m</Message></Error></ErrorResponse>").code, "NoSuchEntity");
        let f = Failure { code: "EntityAlreadyExists".into(), message: "Role r already exists.".into() };
        assert_eq!(f.to_string(), "Resource handler returned message: \"Role r already exists.\" (HandlerErrorCode: AlreadyExists)");
    }
}
