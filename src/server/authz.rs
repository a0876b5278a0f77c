//! `--enforce-iam` at the door: identifies each request's caller from its access key, asks the
//! service's access table what the call needs, and has IAM decide; a denial is answered in the
//! service's own error shape (this is the one place those shapes are chosen).

use http::{Method, StatusCode};

use super::AppState;
use super::router::{Route, ServiceId};
use crate::protocol::{AwsError, AwsRequest, HttpResponse};
use crate::services::iam::authz::{Caller, Guard, Principal};
use crate::services::{apigateway, athena, firehose, glue, iam, lambda, logs, s3};

/// Who signed the request, as STS and IAM know the key.
pub fn caller(state: &AppState, req: &AwsRequest) -> Caller {
    let principal = match req.access_key() {
        None => Principal::Anonymous,
        Some(k) => Principal::from_arn(&state.services.sts.caller(Some(k)).2),
    };
    Caller { principal, source_ip: req.peer }
}

/// Checks a request against its caller's policies. `Ok` carries a guard for work the call starts
/// on the caller's behalf (an Athena query's reads and writes), `None` when nothing is enforced.
pub fn check(state: &AppState, route: &Route, req: &AwsRequest) -> Result<Option<Guard>, HttpResponse> {
    let Some(iam) = &state.services.enforce_iam else { return Ok(None) };
    let Route::Service(id) = route else { return Ok(None) };
    let caller = caller(state, req);
    if caller.principal == Principal::Root {
        return Ok(None);
    }
    let region = state.config.region.as_str();
    let s = &state.services;
    let accesses = match id {
        ServiceId::S3 if req.method == Method::OPTIONS => return Ok(None),
        ServiceId::Lambda if req.path.starts_with("/2018-06-01/runtime") => return Ok(None),
        ServiceId::S3 => s3::wire::access(req),
        ServiceId::Firehose => firehose::wire::access(req, region),
        ServiceId::Lambda => lambda::wire::access(req, region),
        ServiceId::Logs => logs::wire::access(req, region),
        ServiceId::Glue => glue::wire::access(req, region),
        ServiceId::Athena => athena::wire::access(&s.athena, req, region),
        ServiceId::Iam => iam::wire::access(&s.iam, req, &caller.principal.arn()),
        ServiceId::ApiGateway => apigateway::wire::access(req, region),
        ServiceId::QuickSight => crate::services::quicksight::wire::access(req, region),
        // STS decides AssumeRole itself and lets anyone ask who they are; invoking a REST API
        // is not an IAM call unless its method says AWS_IAM; the rest are not emulated.
        _ => return Ok(None),
    };
    let deny = |e: AwsError| e.render(route.protocol(), &req.request_id, req.method == Method::HEAD);
    // S3 also weighs the bucket's own policy (which may let anonymous callers in).
    let bucket_policy = match id {
        ServiceId::S3 => s3::wire::address(req).bucket.and_then(|b| s.s3.store.bucket_policy(&b).ok().flatten()).and_then(|p| serde_json::from_str(&p).ok()),
        _ => None,
    };
    let anonymous = caller.principal == Principal::Anonymous;
    if anonymous && bucket_policy.is_none() {
        return Err(deny(missing_authentication(*id)));
    }
    for a in &accesses {
        iam.authorize_with(&caller, a, bucket_policy.as_ref()).map_err(|m| deny(if anonymous { missing_authentication(*id) } else { access_denied(*id, m) }))?;
    }
    Ok(Some(iam.guard(caller)))
}

/// The error a service answers a denied call with.
fn access_denied(id: ServiceId, message: String) -> AwsError {
    match id {
        ServiceId::S3 => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", message),
        ServiceId::Iam | ServiceId::Sts => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", message),
        ServiceId::Lambda | ServiceId::ApiGateway | ServiceId::QuickSight => AwsError::new(StatusCode::FORBIDDEN, "AccessDeniedException", message),
        _ => AwsError::new(StatusCode::BAD_REQUEST, "AccessDeniedException", message),
    }
}

/// The error a service answers an unsigned call with.
fn missing_authentication(id: ServiceId) -> AwsError {
    match id {
        ServiceId::S3 => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
        ServiceId::Iam | ServiceId::Sts => AwsError::new(StatusCode::FORBIDDEN, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        ServiceId::Lambda | ServiceId::ApiGateway => AwsError::new(StatusCode::FORBIDDEN, "MissingAuthenticationTokenException", "Missing Authentication Token"),
        _ => AwsError::new(StatusCode::BAD_REQUEST, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    }
}
