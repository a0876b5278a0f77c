//! Which service is a request for? In order: the `X-Amz-Target` header (awsJson services), the
//! service in the SigV4 credential scope, the query-protocol `Action` parameter, path prefixes,
//! then the `Host` header. S3 is the fallback, as on real endpoints.

use crate::protocol::{AwsRequest, Protocol};

/// The services firelocal knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceId {
    S3,
    Firehose,
    Lambda,
    ApiGateway,
    ExecuteApi,
    Athena,
    Glue,
    Iam,
    Sts,
    Logs,
    CloudFormation,
    QuickSight,
}

/// What the router knows about a service: its names on the wire and whether it is emulated.
pub struct ServiceInfo {
    pub id: ServiceId,
    /// The name users know it by (and health reports).
    pub name: &'static str,
    /// The SigV4 signing name.
    pub signing_name: &'static str,
    /// The `X-Amz-Target` prefix of awsJson services.
    pub target_prefix: Option<&'static str>,
    pub protocol: Protocol,
    pub emulated: bool,
}

const fn info(
    id: ServiceId,
    name: &'static str,
    signing_name: &'static str,
    target_prefix: Option<&'static str>,
    protocol: Protocol,
    emulated: bool,
) -> ServiceInfo {
    ServiceInfo { id, name, signing_name, target_prefix, protocol, emulated }
}

/// Every service firelocal knows, emulated or not yet.
pub const SERVICES: &[ServiceInfo] = &[
    info(ServiceId::S3, "s3", "s3", None, Protocol::RestXml, true),
    info(ServiceId::Firehose, "firehose", "firehose", Some("Firehose_20150804"), Protocol::AwsJson1_1, true),
    info(ServiceId::Lambda, "lambda", "lambda", None, Protocol::RestJson1, true),
    info(ServiceId::ApiGateway, "apigateway", "apigateway", None, Protocol::RestJson1, true),
    info(ServiceId::ExecuteApi, "execute-api", "execute-api", None, Protocol::RestJson1, true),
    info(ServiceId::Athena, "athena", "athena", Some("AmazonAthena"), Protocol::AwsJson1_1, true),
    info(ServiceId::Glue, "glue", "glue", Some("AWSGlue"), Protocol::AwsJson1_1, true),
    info(ServiceId::Iam, "iam", "iam", None, Protocol::AwsQuery, true),
    info(ServiceId::Sts, "sts", "sts", None, Protocol::AwsQuery, true),
    info(ServiceId::Logs, "logs", "logs", Some("Logs_20140328"), Protocol::AwsJson1_1, true),
    info(ServiceId::CloudFormation, "cloudformation", "cloudformation", None, Protocol::AwsQuery, true),
    info(ServiceId::QuickSight, "quicksight", "quicksight", None, Protocol::RestJson1, true),
];

impl ServiceId {
    /// The service's table entry.
    pub fn info(self) -> &'static ServiceInfo {
        SERVICES.iter().find(|s| s.id == self).unwrap_or(&SERVICES[0])
    }
}

/// Where the router sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A service firelocal knows.
    Service(ServiceId),
    /// A service firelocal does not know at all: answered with an error naming it.
    Unknown { name: String, protocol: Protocol },
}

impl Route {
    /// The protocol errors for this route are rendered in.
    pub fn protocol(&self) -> Protocol {
        match self {
            Route::Service(id) => id.info().protocol,
            Route::Unknown { protocol, .. } => *protocol,
        }
    }

    /// The service's name, for logs.
    pub fn name(&self) -> &str {
        match self {
            Route::Service(id) => id.info().name,
            Route::Unknown { name, .. } => name,
        }
    }
}

const STS_ACTIONS: &[&str] = &[
    "AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetCallerIdentity", "GetSessionToken",
    "GetFederationToken", "GetAccessKeyInfo", "DecodeAuthorizationMessage",
];

/// Picks the service for a request.
pub fn route(req: &AwsRequest) -> Route {
    if let Some(target) = req.header("x-amz-target") {
        let prefix = target.split('.').next().unwrap_or(target);
        if let Some(s) = SERVICES.iter().find(|s| s.target_prefix == Some(prefix)) {
            return Route::Service(s.id);
        }
        let protocol = if req.header("content-type").is_some_and(|c| c.contains("amz-json-1.0")) {
            Protocol::AwsJson1_0
        } else {
            Protocol::AwsJson1_1
        };
        return Route::Unknown { name: prefix.to_string(), protocol };
    }
    if let Some(cred) = &req.auth {
        if let Some(s) = SERVICES.iter().find(|s| s.signing_name == cred.service) {
            return Route::Service(s.id);
        }
        let protocol = if action(req).is_some() { Protocol::AwsQuery } else { Protocol::RestJson1 };
        return Route::Unknown { name: cred.service.clone(), protocol };
    }
    if let Some(a) = action(req) {
        return Route::Service(if STS_ACTIONS.contains(&a.as_str()) {
            ServiceId::Sts
        } else if a.contains("Stack") || a.contains("ChangeSet") || matches!(a.as_str(), "ValidateTemplate" | "GetTemplate" | "GetTemplateSummary" | "ListExports" | "ListImports") {
            ServiceId::CloudFormation
        } else {
            ServiceId::Iam
        });
    }
    let path = req.path.as_str();
    if path.starts_with("/restapis/") && path.contains("/_user_request_/") {
        return Route::Service(ServiceId::ExecuteApi);
    }
    const API_GATEWAY_PREFIXES: &[&str] = &["/restapis", "/apikeys", "/usageplans", "/domainnames", "/account"];
    if API_GATEWAY_PREFIXES.iter().any(|p| path == *p || path.starts_with(&format!("{p}/"))) {
        return Route::Service(ServiceId::ApiGateway);
    }
    if path.starts_with("/accounts/") {
        return Route::Service(ServiceId::QuickSight);
    }
    if path.starts_with("/2015-03-31/functions") || path.starts_with("/2018-06-01/runtime") {
        return Route::Service(ServiceId::Lambda);
    }
    if req.host.contains(".execute-api.") {
        return Route::Service(ServiceId::ExecuteApi);
    }
    Route::Service(ServiceId::S3)
}

/// The query-protocol `Action`, from the query string or a form body.
pub fn action(req: &AwsRequest) -> Option<String> {
    if let Some(a) = req.query_param("Action") {
        return Some(a.to_string());
    }
    let form = req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form && let Ok(body) = std::str::from_utf8(&req.body) {
        return crate::protocol::parse_query(body).into_iter().find(|(k, _)| k == "Action").map(|(_, v)| v);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sigv4;

    fn req(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> AwsRequest {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (http::HeaderName::from_bytes(k.as_bytes()), http::HeaderValue::from_str(v)) {
                h.insert(k, v);
            }
        }
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        let auth = h.get("authorization").and_then(|v| v.to_str().ok()).and_then(sigv4::from_authorization);
        let host = h.get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_string();
        AwsRequest {
            method: method.parse().unwrap_or(http::Method::GET),
            path: p.into(),
            query: crate::protocol::parse_query(q),
            headers: h,
            body: bytes::Bytes::from(body.to_string()),
            request_id: "r".into(),
            auth,
            host,
            peer: None,
        }
    }

    fn auth(service: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x")
    }

    #[test]
    fn routing_table() {
        let cases: Vec<(AwsRequest, Route)> = vec![
            (req("POST", "/", &[("x-amz-target", "Firehose_20150804.PutRecord")], "{}"), Route::Service(ServiceId::Firehose)),
            (req("POST", "/", &[("x-amz-target", "AmazonAthena.StartQueryExecution")], "{}"), Route::Service(ServiceId::Athena)),
            (req("POST", "/", &[("x-amz-target", "AWSGlue.GetTable")], "{}"), Route::Service(ServiceId::Glue)),
            (req("POST", "/", &[("x-amz-target", "Logs_20140328.GetLogEvents")], "{}"), Route::Service(ServiceId::Logs)),
            (
                req("POST", "/", &[("x-amz-target", "DynamoDB_20120810.GetItem"), ("content-type", "application/x-amz-json-1.0")], "{}"),
                Route::Unknown { name: "DynamoDB_20120810".into(), protocol: Protocol::AwsJson1_0 },
            ),
            (req("GET", "/b/k", &[("authorization", &auth("s3"))], ""), Route::Service(ServiceId::S3)),
            (req("GET", "/2015-03-31/functions", &[("authorization", &auth("lambda"))], ""), Route::Service(ServiceId::Lambda)),
            (req("POST", "/", &[("authorization", &auth("sts"))], "Action=GetCallerIdentity"), Route::Service(ServiceId::Sts)),
            (
                req("POST", "/", &[("authorization", &auth("sqs")), ("content-type", "application/x-www-form-urlencoded")], "Action=SendMessage"),
                Route::Unknown { name: "sqs".into(), protocol: Protocol::AwsQuery },
            ),
            (req("POST", "/", &[("content-type", "application/x-www-form-urlencoded")], "Action=GetCallerIdentity&Version=2011-06-15"), Route::Service(ServiceId::Sts)),
            (req("GET", "/?Action=ListRoles", &[], ""), Route::Service(ServiceId::Iam)),
            (req("POST", "/?Action=CreateStack", &[], ""), Route::Service(ServiceId::CloudFormation)),
            (req("POST", "/restapis/abc/prod/_user_request_/clickstream", &[], "{}"), Route::Service(ServiceId::ExecuteApi)),
            (req("GET", "/restapis", &[], ""), Route::Service(ServiceId::ApiGateway)),
            (req("POST", "/prod/clickstream", &[("host", "abc123.execute-api.localhost")], "{}"), Route::Service(ServiceId::ExecuteApi)),
            (req("GET", "/bucket/key", &[], ""), Route::Service(ServiceId::S3)),
            (req("PUT", "/k", &[("host", "bucket.s3.localhost")], ""), Route::Service(ServiceId::S3)),
        ];
        for (r, want) in cases {
            assert_eq!(route(&r), want, "{} {} {:?}", r.method, r.path, r.headers);
        }
    }
}
