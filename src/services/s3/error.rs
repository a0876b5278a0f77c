//! S3's errors: one enum, mapped to AWS codes, statuses and extra fields in one place.

use http::StatusCode;

use crate::protocol::AwsError;

/// Everything an S3 operation can fail with.
#[derive(Debug, Clone, PartialEq)]
pub enum S3Error {
    NoSuchBucket(String),
    NoSuchKey(String),
    NoSuchUpload(String),
    /// A version id that names no version of the key.
    NoSuchVersion { key: String, version_id: String },
    /// The version asked for is a delete marker: 405 when it was named by id, else 404
    /// NoSuchKey; either way with `x-amz-delete-marker` and the marker's version id.
    DeleteMarker { key: String, version_id: String, last_modified: i64, by_version: bool },
    NoSuchBucketPolicy(String),
    /// A bucket configuration that is not set: S3's code and message for it, and the bucket.
    NoSuchConfiguration { code: &'static str, message: &'static str, bucket: String },
    InvalidTag(String),
    MalformedPostRequest(String),
    InvalidPolicyDocument(String),
    AccessDenied(String),
    SignatureDoesNotMatch(String),
    InvalidAccessKeyId(String),
    EntityTooLargeFor { proposed: u64, max: u64 },
    EntityTooSmallFor { proposed: u64, min: u64 },
    AccessControlListNotSupported,
    InvalidBucketAclWithObjectOwnership,
    /// A CORS preflight or request the bucket's rules do not allow (403 AccessForbidden).
    CorsForbidden { message: &'static str, method: String, resource: &'static str },
    /// A preflight without `Origin` or `Access-Control-Request-Method`.
    CorsBadRequest,
    /// Notification destinations S3 could not validate: (function ARN, why).
    DestinationValidation(Vec<(String, String)>),
    MalformedPolicy(String),
    BucketAlreadyOwnedByYou(String),
    BucketNotEmpty(String),
    InvalidBucketName(String),
    InvalidArgument(String),
    InvalidRequest(String),
    InvalidRange { requested: String, size: u64 },
    InvalidPart(String),
    InvalidPartOrder,
    InvalidPartNumber,
    EntityTooSmall,
    EntityTooLarge,
    KeyTooLong,
    InvalidStorageClass,
    InvalidObjectState(String),
    MetadataTooLarge,
    MalformedXml(String),
    BadDigest(String),
    InvalidDigest,
    ContentSha256Mismatch { client: String, computed: String },
    IncompleteBody(String),
    PreconditionFailed(&'static str),
    /// A 304, carrying the validators of the version that matched.
    NotModified { etag: String, last_modified: i64, version_id: Option<String> },
    IllegalLocationConstraint(String),
    InvalidLocationConstraint(String),
    NotImplemented(String),
    MethodNotAllowed(String),
    /// A presigned URL past its expiry: `(X-Amz-Expires, expires at, now)` (epoch seconds).
    RequestExpired { expires: String, expires_at: i64, now: i64 },
    AuthorizationQueryParameters(String),
    Internal(String),
}

impl S3Error {
    /// The AWS code, status, message and extra fields for this error.
    pub fn to_aws(&self) -> AwsError {
        use S3Error::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            NoSuchBucket(b) => AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist")
                .with("BucketName", b),
            NoSuchKey(k) => AwsError::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", k),
            NoSuchUpload(id) => AwsError::new(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            )
            .with("UploadId", id),
            NoSuchVersion { key, version_id } => AwsError::new(StatusCode::NOT_FOUND, "NoSuchVersion", "The specified version does not exist.")
                .with("Key", key)
                .with("VersionId", version_id),
            DeleteMarker { by_version: true, .. } => {
                AwsError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "The specified method is not allowed against this resource.")
                    .with("Method", "GET")
                    .with("ResourceType", "DeleteMarker")
            }
            DeleteMarker { key, .. } => AwsError::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", key),
            NoSuchBucketPolicy(b) => AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucketPolicy", "The bucket policy does not exist").with("BucketName", b),
            MalformedPolicy(m) => AwsError::new(bad, "MalformedPolicy", m.clone()),
            NoSuchConfiguration { code, message, bucket } => AwsError::new(StatusCode::NOT_FOUND, code, *message).with("BucketName", bucket),
            InvalidTag(m) => AwsError::new(bad, "InvalidTag", m.clone()),
            MalformedPostRequest(m) => AwsError::new(bad, "MalformedPOSTRequest", m.clone()),
            InvalidPolicyDocument(m) => AwsError::new(bad, "InvalidPolicyDocument", m.clone()),
            AccessDenied(m) => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", m.clone()),
            SignatureDoesNotMatch(m) => AwsError::new(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", m.clone()),
            InvalidAccessKeyId(k) => {
                AwsError::new(StatusCode::FORBIDDEN, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.").with("AWSAccessKeyId", k)
            }
            EntityTooLargeFor { proposed, max } => AwsError::new(bad, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                .with("ProposedSize", proposed.to_string())
                .with("MaxSizeAllowed", max.to_string()),
            EntityTooSmallFor { proposed, min } => AwsError::new(bad, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
                .with("ProposedSize", proposed.to_string())
                .with("MinSizeAllowed", min.to_string()),
            AccessControlListNotSupported => AwsError::new(bad, "AccessControlListNotSupported", "The bucket does not allow ACLs"),
            InvalidBucketAclWithObjectOwnership => AwsError::new(
                bad,
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            ),
            CorsForbidden { message, method, resource } => {
                AwsError::new(StatusCode::FORBIDDEN, "AccessForbidden", *message).with("Method", method).with("ResourceType", *resource)
            }
            CorsBadRequest => AwsError::new(bad, "BadRequest", "Insufficient information. Origin request header needed."),
            DestinationValidation(failures) => {
                let detail: Vec<String> = failures.iter().map(|(arn, why)| format!("{arn}: {why}")).collect();
                let (arn, why) = failures.first().cloned().unwrap_or_default();
                AwsError::new(bad, "InvalidArgument", format!("Unable to validate the following destination configurations ({})", detail.join("; ")))
                    .with("ArgumentName1", arn)
                    .with("ArgumentValue1", why)
            }
            BucketAlreadyOwnedByYou(b) => AwsError::new(
                StatusCode::CONFLICT,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
            .with("BucketName", b),
            BucketNotEmpty(b) => AwsError::new(StatusCode::CONFLICT, "BucketNotEmpty", "The bucket you tried to delete is not empty")
                .with("BucketName", b),
            InvalidBucketName(b) => AwsError::new(bad, "InvalidBucketName", "The specified bucket is not valid.").with("BucketName", b),
            InvalidArgument(m) => AwsError::new(bad, "InvalidArgument", m.clone()),
            InvalidRequest(m) => AwsError::new(bad, "InvalidRequest", m.clone()),
            InvalidRange { requested, size } => {
                AwsError::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "The requested range is not satisfiable")
                    .with("RangeRequested", requested)
                    .with("ActualObjectSize", size.to_string())
            }
            InvalidPart(m) => AwsError::new(bad, "InvalidPart", m.clone()),
            InvalidPartNumber => AwsError::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidPartNumber", "The requested partnumber is not satisfiable"),
            InvalidPartOrder => AwsError::new(bad, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number."),
            EntityTooSmall => AwsError::new(bad, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size."),
            EntityTooLarge => AwsError::new(bad, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."),
            KeyTooLong => AwsError::new(bad, "KeyTooLongError", "Your key is too long"),
            InvalidStorageClass => AwsError::new(bad, "InvalidStorageClass", "The storage class you specified is not valid"),
            InvalidObjectState(class) => AwsError::new(
                StatusCode::FORBIDDEN,
                "InvalidObjectState",
                "The operation is not valid for the object's storage class",
            )
            .with("StorageClass", class),
            MetadataTooLarge => AwsError::new(bad, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size."),
            MalformedXml(why) => AwsError::new(
                bad,
                "MalformedXML",
                format!("The XML you provided was not well-formed or did not validate against our published schema ({why})"),
            ),
            BadDigest(m) => AwsError::new(bad, "BadDigest", m.clone()),
            InvalidDigest => AwsError::new(bad, "InvalidDigest", "The Content-MD5 you specified is not valid."),
            ContentSha256Mismatch { client, computed } => AwsError::new(
                bad,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .with("ClientComputedContentSHA256", client)
            .with("S3ComputedContentSHA256", computed),
            IncompleteBody(m) => AwsError::new(bad, "IncompleteBody", m.clone()),
            PreconditionFailed(condition) => AwsError::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
            .with("Condition", *condition),
            NotModified { .. } => AwsError::new(StatusCode::NOT_MODIFIED, "NotModified", "Not Modified"),
            IllegalLocationConstraint(m) => AwsError::new(bad, "IllegalLocationConstraintException", m.clone()),
            InvalidLocationConstraint(c) => {
                AwsError::new(bad, "InvalidLocationConstraint", "The specified location-constraint is not valid").with("LocationConstraint", c)
            }
            NotImplemented(what) => AwsError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                format!("A header or query you provided implies functionality that firelocal does not implement yet: {what}"),
            ),
            MethodNotAllowed(m) => AwsError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )
            .with("Method", m),
            RequestExpired { expires, expires_at, now } => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired")
                .with("X-Amz-Expires", expires)
                .with("Expires", crate::protocol::time::iso8601_millis(expires_at * 1000))
                .with("ServerTime", crate::protocol::time::iso8601_millis(now * 1000)),
            AuthorizationQueryParameters(m) => AwsError::new(bad, "AuthorizationQueryParametersError", m.clone()),
            Internal(m) => AwsError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("We encountered an internal error: {m}")),
        }
    }
}

impl S3Error {
    /// Headers an error response carries besides its body: a delete marker's.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            S3Error::DeleteMarker { version_id, last_modified, by_version, .. } => {
                let mut h = vec![
                    ("x-amz-delete-marker", "true".into()),
                    ("x-amz-version-id", version_id.clone()),
                    ("last-modified", crate::protocol::time::http_date(*last_modified)),
                ];
                if *by_version {
                    // What a delete marker named by id allows.
                    h.push(("allow", "DELETE".into()));
                }
                h
            }
            S3Error::NotModified { etag, last_modified, version_id } => {
                let mut h = vec![("etag", format!("\"{etag}\"")), ("last-modified", crate::protocol::time::http_date(*last_modified))];
                if let Some(v) = version_id {
                    h.push(("x-amz-version-id", v.clone()));
                }
                h
            }
            _ => Vec::new(),
        }
    }
}

impl From<rusqlite::Error> for S3Error {
    fn from(e: rusqlite::Error) -> Self {
        S3Error::Internal(format!("state store: {e}"))
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> Self {
        S3Error::Internal(format!("object storage: {e}"))
    }
}

/// The result of an S3 operation.
pub type S3Result<T> = Result<T, S3Error>;
