//! S3's operations as plain functions on typed inputs: no HTTP here. The wire layer parses a
//! request into these inputs and renders the outputs.

use bytes::Bytes;

use super::checksum::{self, Algorithm};
use super::error::{S3Error, S3Result};
use super::store::{BucketRow, Checksum, ChecksumType, Data, Deletion, ObjectMeta, ObjectRow, PartRow, Store, UploadRow, VersionEntry};
use crate::protocol::time::now_millis;

mod list;
mod multipart;
mod object;

pub use list::*;
pub use multipart::*;
pub use object::*;

/// Now, to the whole second: S3 keeps LastModified with second precision, so listings
/// (`...:05.000Z`) and the `Last-Modified` header agree.
fn now_seconds() -> i64 {
    now_millis() / 1000 * 1000
}

/// The storage classes S3 accepts in `x-amz-storage-class`.
pub const STORAGE_CLASSES: &[&str] = &[
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE",
    "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
];

/// Validates a storage class; `STANDARD` is stored as none (S3 does not echo it).
pub fn storage_class(value: Option<&str>) -> S3Result<Option<String>> {
    match value {
        None | Some("STANDARD") => Ok(None),
        Some(c) if STORAGE_CLASSES.contains(&c) => Ok(Some(c.to_string())),
        Some(_) => Err(S3Error::InvalidStorageClass),
    }
}

/// S3's limits.
pub const MAX_KEY_BYTES: usize = 1024;
pub const MAX_USER_METADATA_BYTES: usize = 2048;
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub const MAX_PART_NUMBER: u32 = 10_000;
pub const MAX_DELETE_KEYS: usize = 1000;
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// The S3 service: its store, the region it runs in, and its event notifications.
pub struct S3 {
    pub store: Store,
    pub region: String,
    pub notifications: super::notify::Notifications,
    /// With `--verify-signatures`: the secret of an access key, to check POST policy signatures.
    pub secrets: std::sync::OnceLock<SecretLookup>,
    /// The buckets whose default encryption is KMS (algorithm, key), so a PUT needs no lookup.
    kms_defaults: parking_lot::RwLock<std::collections::HashMap<String, (String, Option<String>)>>,
}

/// The KMS default of a stored `ServerSideEncryptionConfiguration`, if it has one.
fn kms_default(doc: &str) -> Option<(String, Option<String>)> {
    let doc = crate::protocol::xml::parse(doc.as_bytes()).ok()?;
    let by_default = doc.child("Rule")?.child("ApplyServerSideEncryptionByDefault")?;
    let alg = by_default.child_text("SSEAlgorithm").filter(|a| *a != "AES256")?;
    Some((alg.to_string(), by_default.child_text("KMSMasterKeyID").map(str::to_string)))
}

/// Finds the secret of an access key.
pub type SecretLookup = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl S3 {
    /// Opens S3 on its store.
    pub fn new(store: Store, region: &str) -> S3Result<S3> {
        let notifications = super::notify::Notifications::load(&store)?;
        let kms = store.configs("encryption")?.into_iter().filter_map(|(b, doc)| Some((b, kms_default(&doc)?))).collect();
        Ok(S3 { store, region: region.to_string(), notifications, secrets: std::sync::OnceLock::new(), kms_defaults: parking_lot::RwLock::new(kms) })
    }

    /// Sets (`Some`) or removes a bucket configuration, keeping what the write path caches.
    pub fn set_config(&self, bucket: &str, kind: &str, doc: Option<&str>) -> S3Result<()> {
        self.store.set_config(bucket, kind, doc)?;
        if kind == "encryption" {
            match doc.and_then(kms_default) {
                Some(d) => self.kms_defaults.write().insert(bucket.to_string(), d),
                None => self.kms_defaults.write().remove(bucket),
            };
        }
        Ok(())
    }

    /// The bucket's default KMS encryption (algorithm, key), if it has one.
    pub fn kms_default(&self, bucket: &str) -> Option<(String, Option<String>)> {
        let map = self.kms_defaults.read();
        if map.is_empty() { None } else { map.get(bucket).cloned() }
    }

    /// A bucket was deleted: forget what is cached for it.
    pub fn forget_bucket(&self, bucket: &str) {
        self.kms_defaults.write().remove(bucket);
        self.notifications.set(bucket, Vec::new());
    }

    /// Tells the bucket's notification destinations that `event` happened to this object.
    pub fn notify(&self, name: &'static str, bucket: &str, key: &str, obj: Option<&ObjectRow>) {
        let event = super::notify::Event {
            name,
            bucket,
            key,
            size: obj.map(|o| o.size),
            etag: obj.map(|o| o.etag.as_str()),
            version_id: obj.and_then(|o| o.version_id.as_deref()),
        };
        self.notifications.emit(&self.region, event);
    }

    /// Deletes an object (or, with `version`, one version of it) and, if that changed anything,
    /// sends `event` (`ObjectRemoved:Delete`...), or its `DeleteMarkerCreated` form when the
    /// delete made a marker.
    pub fn delete_object(&self, bucket: &str, key: &str, version: Option<&str>, event: &'static str) -> S3Result<Deletion> {
        let d = self.store.delete_object(bucket, key, version, now_seconds())?;
        if d.changed {
            let name = match (d.delete_marker && version.is_none(), event.starts_with("Lifecycle")) {
                (false, _) => event,
                (true, true) => "LifecycleExpiration:DeleteMarkerCreated",
                (true, false) => "ObjectRemoved:DeleteMarkerCreated",
            };
            let e = super::notify::Event { name, bucket, key, size: None, etag: None, version_id: d.version_id.as_deref().filter(|v| *v != "null") };
            self.notifications.emit(&self.region, e);
        }
        Ok(d)
    }

    /// An object's current version, or the version named.
    pub fn object(&self, bucket: &str, key: &str, version: Option<&str>) -> S3Result<ObjectRow> {
        match version {
            Some(v) => self.store.object_version(bucket, key, v),
            None => self.store.object(bucket, key),
        }
    }
}

/// Validates a bucket name by S3's rules for new buckets.
pub fn validate_bucket_name(name: &str) -> S3Result<()> {
    let bytes = name.as_bytes();
    let ok_chars = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-');
    let ends_ok = bytes.first().is_some_and(|b| b.is_ascii_alphanumeric()) && bytes.last().is_some_and(|b| b.is_ascii_alphanumeric());
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    let reserved = name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.starts_with("amzn-s3-demo-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
        || name.ends_with(".mrap")
        || name.ends_with("--x-s3");
    if (3..=63).contains(&name.len()) && ok_chars && ends_ok && !name.contains("..") && !name.contains(".-") && !name.contains("-.") && !ip_like && !reserved {
        Ok(())
    } else {
        Err(S3Error::InvalidBucketName(name.to_string()))
    }
}

/// Validates an object key's length.
pub fn validate_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLong);
    }
    Ok(())
}

/// What a client asked for and claimed about a body's integrity.
#[derive(Debug, Default, Clone)]
pub struct Integrity {
    /// `Content-MD5` (base64), verified when present.
    pub content_md5: Option<String>,
    /// A checksum algorithm the client wants stored (`x-amz-sdk-checksum-algorithm` or
    /// `x-amz-checksum-algorithm`) even if it sent no value.
    pub algorithm: Option<Algorithm>,
    /// A checksum value the client sent (header or trailer), verified when present.
    pub expected: Option<(Algorithm, String)>,
}

impl Integrity {
    /// Verifies `data` against what the client claimed; returns the checksum to store.
    pub fn verify(&self, data: &[u8]) -> S3Result<Option<(Algorithm, String)>> {
        if let Some(md5) = &self.content_md5 {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD.decode(md5.trim()).map_err(|_| S3Error::InvalidDigest)?;
            if raw.len() != 16 {
                return Err(S3Error::InvalidDigest);
            }
            if hex::encode(raw) != checksum::md5_hex(data) {
                return Err(S3Error::BadDigest("The Content-MD5 you specified did not match what we received.".into()));
            }
        }
        if let Some((alg, value)) = &self.expected {
            let computed = alg.checksum(data);
            if &computed != value.trim() {
                return Err(S3Error::BadDigest(format!("The {} you specified did not match the calculated checksum.", alg.name())));
            }
            return Ok(Some((*alg, computed)));
        }
        Ok(self.algorithm.map(|a| (a, a.checksum(data))))
    }
}

/// Conditions on a read (GET/HEAD) or on a copy source.
#[derive(Debug, Default, Clone)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(|t| t.trim().trim_start_matches("W/").trim_matches('"')).any(|t| t == "*" || t == etag)
}

impl Conditions {
    /// Evaluates the conditions in S3's order: 412 for If-Match / If-Unmodified-Since, 304 for
    /// If-None-Match / If-Modified-Since.
    pub fn check(&self, obj: &ObjectRow) -> S3Result<()> {
        let modified = obj.last_modified.div_euclid(1000);
        if let Some(m) = &self.if_match {
            if !etag_matches(m, &obj.etag) {
                return Err(S3Error::PreconditionFailed("If-Match"));
            }
        } else if let Some(t) = self.if_unmodified_since
            && modified > t
        {
            return Err(S3Error::PreconditionFailed("If-Unmodified-Since"));
        }
        if let Some(m) = &self.if_none_match {
            if etag_matches(m, &obj.etag) {
                return Err(not_modified(obj));
            }
        } else if let Some(t) = self.if_modified_since
            && modified <= t
        {
            return Err(not_modified(obj));
        }
        Ok(())
    }

    /// The same conditions applied to a copy source, where every failure is a 412.
    pub fn check_copy_source(&self, obj: &ObjectRow) -> S3Result<()> {
        self.check(obj).map_err(|e| match e {
            S3Error::NotModified { .. } => S3Error::PreconditionFailed("x-amz-copy-source-If-None-Match"),
            other => other,
        })
    }
}

/// The 304 for `obj`: its ETag, Last-Modified and version id.
fn not_modified(obj: &ObjectRow) -> S3Error {
    S3Error::NotModified { etag: obj.etag.clone(), last_modified: obj.last_modified, version_id: obj.version_id.clone() }
}

/// A byte range request, as parsed from `Range: bytes=...`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ByteRange {
    /// `bytes=start-` or `bytes=start-end`.
    From { start: u64, end: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a single range; `None` for syntax S3 ignores (then the whole object is sent).
    pub fn parse(s: &str) -> Option<ByteRange> {
        let spec = s.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() {
            return b.parse().ok().map(ByteRange::Suffix);
        }
        let start = a.parse().ok()?;
        let end = if b.is_empty() { None } else { Some(b.parse().ok()?) };
        if end.is_some_and(|e| e < start) {
            return None;
        }
        Some(ByteRange::From { start, end })
    }

    /// The (offset, length) within an object of `size` bytes, or `InvalidRange`.
    pub fn resolve(self, size: u64, raw: &str) -> S3Result<(u64, u64)> {
        let invalid = || S3Error::InvalidRange { requested: raw.to_string(), size };
        match self {
            ByteRange::From { start, end } => {
                if start >= size {
                    return Err(invalid());
                }
                let last = end.map_or(size - 1, |e| e.min(size - 1));
                Ok((start, last - start + 1))
            }
            ByteRange::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(invalid());
                }
                let n = n.min(size);
                Ok((size - n, n))
            }
        }
    }
}

// ---------------------------------------------------------------- buckets

/// The bucket and key an S3 URL names (a TemplateURL, a QuickSight manifest entry): `s3://b/k`, `https://b.s3[.region].amazonaws.com/k`,
/// `https://s3[.region].amazonaws.com/b/k`, or firelocal's own `http://localhost:4566/b/k`.
pub fn url_location(url: &str) -> Option<(String, String)> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let (b, k) = rest.split_once('/')?;
        return Some((b.to_string(), k.to_string()));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let host = host.split(':').next().unwrap_or(host);
    let path = crate::protocol::percent_decode(path.split('?').next().unwrap_or(path));
    if let Some(b) = host.split_once(".s3").map(|(b, _)| b).filter(|b| !b.is_empty() && host.contains("amazonaws.com")) {
        return Some((b.to_string(), path));
    }
    let (b, k) = path.split_once('/')?;
    Some((b.to_string(), k.to_string()))
}

/// PutBucketPolicy: checks the document as S3 does (JSON, statements with Effect, Principal,
/// Action on `s3:` actions and Resource inside this bucket) and stores it.
pub fn put_bucket_policy(s3: &S3, bucket: &str, body: &[u8]) -> S3Result<()> {
    let bad = |m: &str| S3Error::MalformedPolicy(m.to_string());
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad("Policies must be valid JSON and the first byte must be '{'"))?;
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => return Err(bad("Missing required field Statement")),
    };
    let list = |v: Option<&serde_json::Value>| -> Vec<String> {
        match v {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    for st in &statements {
        if !matches!(st.get("Effect").and_then(|e| e.as_str()), Some("Allow" | "Deny")) {
            return Err(bad("Invalid effect"));
        }
        if st.get("Principal").is_none() && st.get("NotPrincipal").is_none() {
            return Err(bad("Missing required field Principal"));
        }
        let actions = list(st.get("Action").or_else(|| st.get("NotAction")));
        if actions.is_empty() || actions.iter().any(|a| a != "*" && !a.to_ascii_lowercase().starts_with("s3:")) {
            return Err(bad("Policy has invalid action"));
        }
        let resources = list(st.get("Resource").or_else(|| st.get("NotResource")));
        let own = format!("arn:aws:s3:::{bucket}");
        if resources.is_empty() || resources.iter().any(|r| r != &own && !r.starts_with(&format!("{own}/"))) {
            return Err(bad("Policy has invalid resource"));
        }
    }
    s3.store.set_bucket_policy(bucket, Some(&String::from_utf8_lossy(body)))
}

/// The canned ACLs S3 accepts in `x-amz-acl`.
pub const CANNED_ACLS: &[&str] =
    &["private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"];

/// Whether an ACL request (a canned ACL, or `None` for grants or an ACL document) only gives
/// the owner full control, the one kind S3 accepts while ACLs are disabled.
fn owner_only(acl: Option<&str>) -> bool {
    matches!(acl, Some("private" | "bucket-owner-full-control"))
}

/// Checks a canned ACL name.
pub fn check_canned_acl(acl: &str) -> S3Result<()> {
    if CANNED_ACLS.contains(&acl) { Ok(()) } else { Err(S3Error::InvalidArgument(format!("Invalid canned ACL: {acl}"))) }
}

/// Whether the bucket's ownership controls disable ACLs (`BucketOwnerEnforced`, the default).
pub fn acls_disabled(s3: &S3, bucket: &str) -> S3Result<bool> {
    Ok(s3.store.config(bucket, "ownershipControls")?.is_some_and(|d| d.contains("BucketOwnerEnforced")))
}

/// PutBucketAcl / PutObjectAcl / `x-amz-acl` on a write: `acl` is the canned ACL, `None` for
/// explicit grants. Refused as S3 refuses it while the bucket's ACLs are disabled.
pub fn check_acl_write(s3: &S3, bucket: &str, acl: Option<&str>) -> S3Result<()> {
    if let Some(a) = acl {
        check_canned_acl(a)?;
    }
    if !owner_only(acl) && acls_disabled(s3, bucket)? {
        return Err(S3Error::AccessControlListNotSupported);
    }
    Ok(())
}

/// CreateBucket's optional settings: `x-amz-object-ownership` and an ACL (`Some(None)` for
/// explicit grants).
#[derive(Debug, Default)]
pub struct BucketSettings<'a> {
    pub ownership: Option<&'a str>,
    pub acl: Option<Option<&'a str>>,
}

/// CreateBucket: `constraint` is the LocationConstraint from the body, `signing_region` the
/// region the request was signed for. A new bucket starts with S3's defaults: public access
/// blocked and ACLs disabled (`BucketOwnerEnforced`) unless `x-amz-object-ownership` says
/// otherwise.
pub fn create_bucket(s3: &S3, bucket: &str, constraint: Option<&str>, signing_region: &str, settings: BucketSettings<'_>) -> S3Result<BucketRow> {
    validate_bucket_name(bucket)?;
    let ownership = settings.ownership.unwrap_or("BucketOwnerEnforced");
    if !["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"].contains(&ownership) {
        return Err(S3Error::InvalidArgument(format!("Invalid x-amz-object-ownership header: {ownership}")));
    }
    if let Some(acl) = settings.acl {
        if let Some(a) = acl {
            check_canned_acl(a)?;
        }
        if ownership == "BucketOwnerEnforced" && !owner_only(acl) {
            return Err(S3Error::InvalidBucketAclWithObjectOwnership);
        }
    }
    let mut configs: Vec<(&str, String)> = Vec::new();
    for k in super::config::KINDS {
        if let Some(doc) = k.initial {
            let doc = if k.sub == "ownershipControls" { doc.replace("BucketOwnerEnforced", ownership) } else { doc.to_string() };
            configs.push((k.sub, super::config::render(&crate::protocol::xml::parse(doc.as_bytes()).map_err(S3Error::Internal)?)));
        }
    }
    let region = match constraint.filter(|c| !c.is_empty()) {
        Some("us-east-1") => return Err(S3Error::InvalidLocationConstraint("us-east-1".into())),
        Some("EU") => "eu-west-1".to_string(),
        Some(c) if c != signing_region && signing_region != "us-east-1" => {
            return Err(S3Error::IllegalLocationConstraint(format!(
                "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
            )));
        }
        Some(c) => c.to_string(),
        None if signing_region != "us-east-1" => {
            return Err(S3Error::IllegalLocationConstraint(
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.".into(),
            ));
        }
        None => "us-east-1".to_string(),
    };
    let now = now_seconds();
    match s3.store.create_bucket(bucket, &region, now, &configs) {
        // "For legacy compatibility, if you re-create an existing bucket that you already own in
        // the North Virginia Region, Amazon S3 returns 200 OK."
        Err(S3Error::BucketAlreadyOwnedByYou(_)) if region == "us-east-1" => {
            let existing = s3.store.bucket(bucket)?;
            if existing.region == "us-east-1" {
                return Ok(existing);
            }
            Err(S3Error::BucketAlreadyOwnedByYou(bucket.to_string()))
        }
        Err(e) => Err(e),
        Ok(()) => Ok(BucketRow { name: bucket.to_string(), region, created: now }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.logs", "a1b", "clickstream-raw-000000000000"] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "ABC", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc", "a_b", "a.-b", &"a".repeat(64), "x-s3alias", "my/bucket"] {
            assert_eq!(validate_bucket_name(bad), Err(S3Error::InvalidBucketName(bad.to_string())), "{bad}");
        }
    }

    #[test]
    fn ranges() {
        let r = |s: &str| ByteRange::parse(s);
        assert_eq!(r("bytes=0-9").map(|x| x.resolve(100, "")), Some(Ok((0, 10))));
        assert_eq!(r("bytes=90-").map(|x| x.resolve(100, "")), Some(Ok((90, 10))));
        assert_eq!(r("bytes=-10").map(|x| x.resolve(100, "")), Some(Ok((90, 10))));
        assert_eq!(r("bytes=-1000").map(|x| x.resolve(100, "")), Some(Ok((0, 100))));
        assert_eq!(r("bytes=50-1000").map(|x| x.resolve(100, "")), Some(Ok((50, 50))));
        assert!(matches!(r("bytes=100-").map(|x| x.resolve(100, "")), Some(Err(S3Error::InvalidRange { .. }))));
        assert!(matches!(r("bytes=0-").map(|x| x.resolve(0, "")), Some(Err(S3Error::InvalidRange { .. }))));
        assert_eq!(r("bytes=5-1"), None);
        assert_eq!(r("bytes=0-1,3-4"), None);
        assert_eq!(r("items=0-1"), None);
        assert_eq!(r("bytes=x-"), None);
    }

    fn obj(etag: &str, modified_secs: i64) -> ObjectRow {
        ObjectRow {
            key: "k".into(),
            size: 1,
            etag: etag.into(),
            last_modified: modified_secs * 1000 + 500,
            meta: ObjectMeta::default(),
            checksum: None,
            parts_count: None,
            data: Data::Inline(Bytes::new()),
            version_id: None,
        }
    }

    #[test]
    fn conditions_follow_s3_precedence() {
        let o = obj("abc", 1000);
        let c = |m: Option<&str>, n: Option<&str>, ms: Option<i64>, us: Option<i64>| Conditions {
            if_match: m.map(Into::into),
            if_none_match: n.map(Into::into),
            if_modified_since: ms,
            if_unmodified_since: us,
        }
        .check(&o);
        assert_eq!(c(Some("\"abc\""), None, None, None), Ok(()));
        assert_eq!(c(Some("\"x\""), None, None, None), Err(S3Error::PreconditionFailed("If-Match")));
        assert_eq!(c(Some("*"), None, None, None), Ok(()));
        // If-Match true wins over If-Unmodified-Since false.
        assert_eq!(c(Some("abc"), None, None, Some(10)), Ok(()));
        assert_eq!(c(None, None, None, Some(10)), Err(S3Error::PreconditionFailed("If-Unmodified-Since")));
        assert_eq!(c(None, None, None, Some(1000)), Ok(()));
        assert!(matches!(c(None, Some("\"abc\""), None, None), Err(S3Error::NotModified { ref etag, .. }) if etag == "abc"));
        assert_eq!(c(None, Some("\"x\""), Some(2000), None), Ok(()));
        assert!(matches!(c(None, None, Some(1000), None), Err(S3Error::NotModified { .. })));
        assert_eq!(c(None, None, Some(999), None), Ok(()));
    }
}

#[cfg(test)]
mod url_tests {
    use super::url_location;

    #[test]
    fn s3_urls() {
        assert_eq!(url_location("s3://b/t.yaml"), Some(("b".into(), "t.yaml".into())));
        assert_eq!(url_location("https://b.s3.amazonaws.com/dir/t.yaml"), Some(("b".into(), "dir/t.yaml".into())));
        assert_eq!(url_location("https://b.s3.eu-west-1.amazonaws.com/t.yaml"), Some(("b".into(), "t.yaml".into())));
        assert_eq!(url_location("https://s3.amazonaws.com/b/t.yaml"), Some(("b".into(), "t.yaml".into())));
        assert_eq!(url_location("http://localhost:4566/b/dir/t.yaml"), Some(("b".into(), "dir/t.yaml".into())));
    }
}
