//! S3's operations as plain functions on typed inputs: no HTTP here. The wire layer parses a
//! request into these inputs and renders the outputs.

use bytes::Bytes;

use super::checksum::{self, Algorithm};
use super::error::{S3Error, S3Result};
use super::store::{BucketRow, Checksum, ChecksumType, Data, Deletion, ObjectMeta, ObjectRow, PartRow, Store, UploadRow, VersionEntry};
use crate::protocol::time::now_millis;

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

// ---------------------------------------------------------------- objects

/// PutObject's input.
#[derive(Debug, Default)]
pub struct PutObjectInput {
    pub bucket: String,
    pub key: String,
    pub body: Bytes,
    pub meta: ObjectMeta,
    pub integrity: Integrity,
    /// Conditional write: `If-None-Match: *` or `If-Match: <etag>`.
    pub if_none_match: Option<String>,
    pub if_match: Option<String>,
    /// The notification event this write is (`ObjectCreated:Post`); `None` is a PUT.
    pub event: Option<&'static str>,
}

/// Checks the user metadata size limit.
fn check_metadata(meta: &ObjectMeta) -> S3Result<()> {
    let size: usize = meta.user.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_USER_METADATA_BYTES {
        return Err(S3Error::MetadataTooLarge);
    }
    Ok(())
}

/// PutObject: verifies integrity, stores the bytes, then the metadata.
pub fn put_object(s3: &S3, input: PutObjectInput) -> S3Result<ObjectRow> {
    validate_key(&input.key)?;
    check_metadata(&input.meta)?;
    if input.body.len() as u64 > MAX_OBJECT_SIZE {
        return Err(S3Error::EntityTooLarge);
    }
    let checksum = input.integrity.verify(&input.body)?;
    let size = input.body.len() as u64;
    let etag = checksum::md5_hex(&input.body);
    let data = s3.store.write_data(input.body)?;
    let mut row = ObjectRow {
        key: input.key,
        size,
        etag,
        last_modified: now_seconds(),
        meta: input.meta,
        checksum: checksum.map(|(algorithm, value)| Checksum { algorithm, value, kind: ChecksumType::FullObject }),
        parts_count: None,
        data: data.clone(),
        version_id: None,
    };
    let (if_none_match, if_match) = (input.if_none_match, input.if_match);
    let key = row.key.clone();
    let result = s3.store.put_object(&input.bucket, &mut row, |current| conditional_write(current, &key, if_none_match.as_deref(), if_match.as_deref()));
    if result.is_err() {
        s3.store.drop_data(&data);
    }
    result?;
    s3.notify(input.event.unwrap_or("ObjectCreated:Put"), &input.bucket, &row.key, Some(&row));
    Ok(row)
}

/// S3's conditional writes: `If-None-Match: *` fails if the key exists; `If-Match` needs a match.
fn conditional_write(current: Option<&ObjectRow>, key: &str, if_none_match: Option<&str>, if_match: Option<&str>) -> S3Result<()> {
    if let Some(inm) = if_none_match {
        if inm.trim() != "*" {
            return Err(S3Error::NotImplemented("If-None-Match on writes takes only '*'".into()));
        }
        if current.is_some() {
            return Err(S3Error::PreconditionFailed("If-None-Match"));
        }
    }
    if let Some(m) = if_match {
        match current {
            None => return Err(S3Error::NoSuchKey(key.to_string())),
            Some(c) if !etag_matches(m, &c.etag) => return Err(S3Error::PreconditionFailed("If-Match")),
            Some(_) => {}
        }
    }
    Ok(())
}

/// GetObject / HeadObject: the object, checked against the conditions, and the resolved range.
/// Archived objects (GLACIER, DEEP_ARCHIVE) can be inspected (`head`) but not read.
pub fn get_object(
    s3: &S3,
    (bucket, key, version): (&str, &str, Option<&str>),
    conditions: &Conditions,
    range: Option<(ByteRange, &str)>,
    head: bool,
) -> S3Result<(ObjectRow, Option<(u64, u64)>)> {
    let obj = s3.object(bucket, key, version)?;
    if !head && let Some(c) = obj.meta.storage_class.as_deref().filter(|c| ["GLACIER", "DEEP_ARCHIVE"].contains(c)) {
        return Err(S3Error::InvalidObjectState(c.to_string()));
    }
    conditions.check(&obj)?;
    let range = match range {
        Some((r, raw)) => Some(r.resolve(obj.size, raw)?),
        None => None,
    };
    Ok((obj, range))
}

/// The byte range of part `n` (1-based) of an object, as `(start, len)`, and the part count; a
/// simple object is one part.
pub fn part_range(obj: &ObjectRow, n: u32) -> S3Result<((u64, u64), usize)> {
    let sizes: Vec<u64> = if obj.meta.parts.is_empty() { vec![obj.size] } else { obj.meta.parts.iter().map(|p| p.0).collect() };
    let i = (n as usize).checked_sub(1).filter(|i| *i < sizes.len()).ok_or(S3Error::InvalidPartNumber)?;
    let start: u64 = sizes[..i].iter().sum();
    Ok(((start, sizes[i]), sizes.len()))
}

/// DeleteObjects' per-key outcome.
pub struct DeleteOutcome {
    pub key: String,
    /// The version id the request named.
    pub version: Option<String>,
    pub result: S3Result<Deletion>,
}

/// DeleteObjects: each key (or key version) independently; a missing key counts as deleted.
pub fn delete_objects(s3: &S3, bucket: &str, keys: Vec<(String, Option<String>)>) -> S3Result<Vec<DeleteOutcome>> {
    if keys.len() > MAX_DELETE_KEYS {
        return Err(S3Error::MalformedXml(format!("at most {MAX_DELETE_KEYS} keys can be deleted at once")));
    }
    s3.store.bucket(bucket)?;
    Ok(keys
        .into_iter()
        .map(|(key, version)| {
            let result = s3.delete_object(bucket, &key, version.as_deref(), "ObjectRemoved:Delete");
            DeleteOutcome { key, version, result }
        })
        .collect())
}

/// CopyObject's input.
#[derive(Debug, Default)]
pub struct CopyObjectInput {
    pub bucket: String,
    pub key: String,
    pub source_bucket: String,
    pub source_key: String,
    /// The source version (`?versionId=` in `x-amz-copy-source`); the current one when `None`.
    pub source_version: Option<String>,
    pub source_conditions: Conditions,
    /// `Some` when `x-amz-metadata-directive: REPLACE`.
    pub replace_meta: Option<ObjectMeta>,
    /// A checksum algorithm requested for the new object.
    pub checksum_algorithm: Option<Algorithm>,
    /// `x-amz-storage-class` of the copy (`Some(None)` is STANDARD); `None` keeps the source's.
    pub storage_class: Option<Option<String>>,
    /// The copy's tags with `x-amz-tagging-directive: REPLACE`; `None` keeps the source's.
    pub tags: Option<Vec<(String, String)>>,
}

/// CopyObject: copies bytes and (by default) metadata.
/// Returns the new object and the source version it was copied from.
pub fn copy_object(s3: &S3, input: CopyObjectInput) -> S3Result<(ObjectRow, ObjectRow)> {
    validate_key(&input.key)?;
    s3.store.bucket(&input.bucket)?;
    let src = copy_source_object(s3, &input.source_bucket, &input.source_key, input.source_version.as_deref())?;
    input.source_conditions.check_copy_source(&src)?;
    let same_class = input.storage_class.as_ref().is_none_or(|c| c.as_deref() == src.meta.storage_class.as_deref());
    // Copying a given version onto its own key is how a previous version is restored.
    if input.source_bucket == input.bucket
        && input.source_key == input.key
        && input.source_version.is_none()
        && input.replace_meta.is_none()
        && input.checksum_algorithm.is_none()
        && same_class
    {
        return Err(S3Error::InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
        ));
    }
    let bytes = s3.store.read_data(&src.data, None)?;
    let checksum = match (input.checksum_algorithm, &src.checksum) {
        (Some(a), _) => Some(Checksum { algorithm: a, value: a.checksum(&bytes), kind: ChecksumType::FullObject }),
        (None, Some(c)) if c.kind == ChecksumType::FullObject => Some(c.clone()),
        (None, Some(c)) => Some(Checksum { algorithm: c.algorithm, value: c.algorithm.checksum(&bytes), kind: ChecksumType::FullObject }),
        (None, None) => None,
    };
    let mut meta = match input.replace_meta {
        Some(m) => {
            check_metadata(&m)?;
            m
        }
        None => src.meta.clone(),
    };
    meta.storage_class = match input.storage_class {
        Some(c) => c,
        None => src.meta.storage_class.clone(),
    };
    meta.tags = input.tags.unwrap_or_else(|| src.meta.tags.clone());
    // A copy is one part, whatever the source was.
    meta.parts = Vec::new();
    let etag = if src.parts_count.is_some() { checksum::md5_hex(&bytes) } else { src.etag.clone() };
    let data = s3.store.write_data(bytes)?;
    let mut row = ObjectRow {
        key: input.key,
        size: src.size,
        etag,
        last_modified: now_seconds(),
        meta,
        checksum,
        parts_count: None,
        data: data.clone(),
        version_id: None,
    };
    let result = s3.store.put_object(&input.bucket, &mut row, |_| Ok(()));
    if result.is_err() {
        s3.store.drop_data(&data);
    }
    result?;
    s3.notify("ObjectCreated:Copy", &input.bucket, &row.key, Some(&row));
    Ok((row, src))
}

/// The object a copy reads: the version named, or the current one. A delete marker named by
/// its id cannot be copied.
fn copy_source_object(s3: &S3, bucket: &str, key: &str, version: Option<&str>) -> S3Result<ObjectRow> {
    s3.object(bucket, key, version).map_err(|e| match e {
        S3Error::DeleteMarker { by_version: true, .. } => {
            S3Error::InvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.".into())
        }
        e => e,
    })
}

// ---------------------------------------------------------------- listing

/// One listing page's request, shared by ListObjects (v1) and ListObjectsV2.
#[derive(Debug, Default, Clone)]
pub struct ListInput {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub max_keys: usize,
    /// Start strictly after this key (StartAfter, marker, or the decoded continuation token).
    pub after: String,
    /// When the resume point is a common prefix, every key under it is skipped.
    pub after_is_prefix: bool,
}

/// One entry of a listing, in order.
#[derive(Debug)]
pub enum ListEntry {
    Object(ObjectRow),
    CommonPrefix(String),
}

impl ListEntry {
    /// The key or the common prefix: where the next page resumes.
    pub fn name(&self) -> &str {
        match self {
            ListEntry::Object(o) => &o.key,
            ListEntry::CommonPrefix(p) => p,
        }
    }
}

/// A listing page.
#[derive(Debug)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    pub truncated: bool,
}

/// A byte string greater than every UTF-8 string starting with `prefix` and smaller than any
/// other greater string: UTF-8 never contains 0xFF.
fn past_prefix(prefix: &str) -> Vec<u8> {
    let mut b = prefix.as_bytes().to_vec();
    b.push(0xFF);
    b
}

/// The common prefix a listed key rolls into: the prefix and the rest of the key up to and
/// including the delimiter's first occurrence after the prefix.
fn common_prefix(key: &str, input: &ListInput) -> Option<String> {
    let d = input.delimiter.as_deref().filter(|d| !d.is_empty())?;
    let rest = key.get(input.prefix.len()..)?;
    rest.find(d).map(|i| format!("{}{}", input.prefix, &rest[..i + d.len()]))
}

/// Lists keys in UTF-8 binary order, rolling keys that contain the delimiter after the prefix
/// into common prefixes; each common prefix counts as one key toward `max_keys`.
pub fn list_objects(s3: &S3, bucket: &str, input: &ListInput) -> S3Result<ListPage> {
    s3.store.bucket(bucket)?;
    let mut entries = Vec::new();
    if input.max_keys == 0 {
        return Ok(ListPage { entries, truncated: false });
    }
    let mut cursor: Vec<u8> = if input.after_is_prefix && !input.after.is_empty() {
        past_prefix(&input.after)
    } else {
        input.after.as_bytes().to_vec()
    };
    const BATCH: usize = 1000;
    loop {
        let rows = s3.store.list_objects(bucket, &cursor, &input.prefix, BATCH)?;
        let exhausted = rows.len() < BATCH;
        let mut skip_until: Option<Vec<u8>> = None;
        for row in rows {
            if skip_until.as_ref().is_some_and(|past| row.key.as_bytes() < past.as_slice()) {
                continue;
            }
            skip_until = None;
            let cp = common_prefix(&row.key, input);
            if entries.len() == input.max_keys {
                return Ok(ListPage { entries, truncated: true });
            }
            match cp {
                Some(cp) => {
                    skip_until = Some(past_prefix(&cp));
                    entries.push(ListEntry::CommonPrefix(cp));
                }
                None => entries.push(ListEntry::Object(row)),
            }
        }
        if exhausted {
            return Ok(ListPage { entries, truncated: false });
        }
        // Continue after the last key seen (or past the last common prefix).
        cursor = match (skip_until, entries.last()) {
            (Some(past), _) => past,
            (None, Some(ListEntry::Object(o))) => o.key.as_bytes().to_vec(),
            _ => cursor,
        };
    }
}

/// One ListObjectVersions entry, in order.
#[derive(Debug)]
pub enum VersionListEntry {
    Version(VersionEntry),
    CommonPrefix(String),
}

/// A ListObjectVersions page.
#[derive(Debug)]
pub struct VersionPage {
    pub entries: Vec<VersionListEntry>,
    pub truncated: bool,
}

/// Lists versions and delete markers by key in UTF-8 binary order, newest first within a key,
/// after the key marker (and, with `version_marker`, after that version of it); keys that
/// contain the delimiter after the prefix roll into common prefixes, each one entry.
pub fn list_object_versions(s3: &S3, bucket: &str, input: &ListInput, version_marker: Option<&str>) -> S3Result<VersionPage> {
    s3.store.bucket(bucket)?;
    let mut entries = Vec::new();
    if input.max_keys == 0 {
        return Ok(VersionPage { entries, truncated: false });
    }
    let mut cursor: (Vec<u8>, Option<i64>) = match version_marker {
        _ if input.after_is_prefix && !input.after.is_empty() => (past_prefix(&input.after), None),
        Some(v) => match s3.store.version_seq(bucket, &input.after, v)? {
            Some(seq) => (input.after.as_bytes().to_vec(), Some(seq)),
            None if !super::store::valid_version_id(v) => return Err(S3Error::InvalidArgument("Invalid version id specified".into())),
            // A version deleted since the last page: resume after its key.
            None => (input.after.as_bytes().to_vec(), None),
        },
        None => (input.after.as_bytes().to_vec(), None),
    };
    const BATCH: usize = 1000;
    loop {
        let rows = s3.store.list_versions(bucket, (&cursor.0, cursor.1), &input.prefix, BATCH)?;
        let exhausted = rows.len() < BATCH;
        let mut skip_until: Option<Vec<u8>> = None;
        let mut last: Option<(Vec<u8>, i64)> = None;
        for row in rows {
            if skip_until.as_ref().is_some_and(|past| row.row.key.as_bytes() < past.as_slice()) {
                continue;
            }
            skip_until = None;
            let cp = common_prefix(&row.row.key, input);
            if entries.len() == input.max_keys {
                return Ok(VersionPage { entries, truncated: true });
            }
            match cp {
                Some(cp) => {
                    skip_until = Some(past_prefix(&cp));
                    entries.push(VersionListEntry::CommonPrefix(cp));
                }
                None => {
                    last = Some((row.row.key.as_bytes().to_vec(), row.seq));
                    entries.push(VersionListEntry::Version(row));
                }
            }
        }
        if exhausted {
            return Ok(VersionPage { entries, truncated: false });
        }
        cursor = match (skip_until, last) {
            (Some(past), _) => (past, None),
            (None, Some((key, seq))) => (key, Some(seq)),
            (None, None) => cursor,
        };
    }
}

// ---------------------------------------------------------------- multipart

/// CreateMultipartUpload.
pub fn create_multipart_upload(
    s3: &S3,
    bucket: &str,
    key: &str,
    meta: ObjectMeta,
    checksum_algorithm: Option<Algorithm>,
    checksum_type: Option<ChecksumType>,
) -> S3Result<UploadRow> {
    validate_key(key)?;
    check_metadata(&meta)?;
    if checksum_type.is_some() && checksum_algorithm.is_none() {
        return Err(S3Error::InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.".into()));
    }
    if let (Some(a), Some(ChecksumType::Composite)) = (checksum_algorithm, checksum_type)
        && a == Algorithm::Crc64Nvme
    {
        return Err(S3Error::InvalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.".into()));
    }
    let upload = UploadRow {
        upload_id: uuid::Uuid::new_v4().simple().to_string(),
        bucket: bucket.to_string(),
        key: key.to_string(),
        initiated: now_millis(),
        meta,
        checksum_algorithm,
        checksum_type: checksum_algorithm.map(|a| {
            checksum_type.unwrap_or(if a.full_object_by_default() { ChecksumType::FullObject } else { ChecksumType::Composite })
        }),
    };
    s3.store.create_upload(&upload)?;
    Ok(upload)
}

fn check_part_number(n: u32) -> S3Result<()> {
    if !(1..=MAX_PART_NUMBER).contains(&n) {
        return Err(S3Error::InvalidArgument(format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive")));
    }
    Ok(())
}

/// UploadPart: stores one part's bytes.
pub fn upload_part(s3: &S3, bucket: &str, key: &str, upload_id: &str, part_number: u32, body: Bytes, integrity: &Integrity) -> S3Result<PartRow> {
    check_part_number(part_number)?;
    let upload = s3.store.upload(bucket, key, upload_id)?;
    let mut checked = integrity.verify(&body)?;
    if checked.is_none()
        && let Some(a) = upload.checksum_algorithm
    {
        checked = Some((a, a.checksum(&body)));
    }
    store_part(s3, upload_id, part_number, body, checked.map(|(_, v)| v))
}

fn store_part(s3: &S3, upload_id: &str, part_number: u32, body: Bytes, checksum: Option<String>) -> S3Result<PartRow> {
    let size = body.len() as u64;
    let etag = checksum::md5_hex(&body);
    let data = s3.store.write_data(body)?;
    let part = PartRow { part_number, size, etag, last_modified: now_seconds(), checksum, data: data.clone() };
    if let Err(e) = s3.store.put_part(upload_id, &part) {
        s3.store.drop_data(&data);
        return Err(e);
    }
    Ok(part)
}

/// UploadPartCopy: a part made from a range of an existing object.
#[allow(clippy::too_many_arguments)]
pub fn upload_part_copy(
    s3: &S3,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    source: (&str, &str, Option<&str>),
    source_range: Option<(ByteRange, &str)>,
    conditions: &Conditions,
) -> S3Result<(PartRow, Option<String>)> {
    check_part_number(part_number)?;
    let upload = s3.store.upload(bucket, key, upload_id)?;
    let src = copy_source_object(s3, source.0, source.1, source.2)?;
    conditions.check_copy_source(&src)?;
    let range = match source_range {
        Some((r, raw)) => Some(r.resolve(src.size, raw).map_err(|_| {
            S3Error::InvalidArgument(format!("Range specified is not valid for source object of size: {}", src.size))
        })?),
        None => None,
    };
    let bytes = s3.store.read_data(&src.data, range)?;
    let checksum = upload.checksum_algorithm.map(|a| a.checksum(&bytes));
    Ok((store_part(s3, upload_id, part_number, bytes, checksum)?, src.version_id))
}

/// One part named in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub part_number: u32,
    pub etag: String,
    pub checksum: Option<(Algorithm, String)>,
}

/// CompleteMultipartUpload: checks the part list, assembles the object, removes the upload.
pub fn complete_multipart_upload(
    s3: &S3,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[CompletedPart],
    full_object_checksum: Option<(Algorithm, String)>,
) -> S3Result<ObjectRow> {
    let upload = s3.store.upload(bucket, key, upload_id)?;
    if parts.is_empty() {
        return Err(S3Error::MalformedXml("the part list is empty".into()));
    }
    if parts.windows(2).any(|w| w[0].part_number >= w[1].part_number) {
        return Err(S3Error::InvalidPartOrder);
    }
    let stored = s3.store.parts(upload_id)?;
    let mut chosen: Vec<&PartRow> = Vec::with_capacity(parts.len());
    for p in parts {
        let invalid = || {
            S3Error::InvalidPart("One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.".into())
        };
        let s = stored.iter().find(|s| s.part_number == p.part_number).ok_or_else(invalid)?;
        if s.etag != p.etag.trim().trim_matches('"') {
            return Err(invalid());
        }
        if let (Some((_, claimed)), Some(actual)) = (&p.checksum, &s.checksum)
            && claimed != actual
        {
            return Err(invalid());
        }
        chosen.push(s);
    }
    if chosen[..chosen.len() - 1].iter().any(|p| p.size < MIN_PART_SIZE) {
        return Err(S3Error::EntityTooSmall);
    }
    let size: u64 = chosen.iter().map(|p| p.size).sum();
    if size > MAX_OBJECT_SIZE {
        return Err(S3Error::EntityTooLarge);
    }
    // Assemble the object's bytes, computing a full-object checksum on the way if one is due.
    let algorithm = upload.checksum_algorithm.or(full_object_checksum.as_ref().map(|(a, _)| *a));
    let kind = if full_object_checksum.is_some() { Some(ChecksumType::FullObject) } else { upload.checksum_type };
    let mut full_hasher = match (algorithm, kind) {
        (Some(a), Some(ChecksumType::FullObject)) => Some(a.hasher()),
        _ => None,
    };
    let data = if size as usize <= 16 * 1024 {
        let mut buf = Vec::with_capacity(size as usize);
        for p in &chosen {
            buf.extend_from_slice(&s3.store.read_data(&p.data, None)?);
        }
        if let Some(h) = full_hasher.as_mut() {
            h.update(&buf);
        }
        Data::Inline(Bytes::from(buf))
    } else {
        let mut w = s3.store.data_writer()?;
        for p in &chosen {
            let bytes = s3.store.read_data(&p.data, None)?;
            if let Some(h) = full_hasher.as_mut() {
                h.update(&bytes);
            }
            w.write(&bytes)?;
        }
        w.finish()?
    };
    let checksum = match (algorithm, kind, full_hasher) {
        (Some(a), _, Some(h)) => {
            let value = h.finish();
            if let Some((_, claimed)) = &full_object_checksum
                && claimed != &value
            {
                s3.store.drop_data(&data);
                return Err(S3Error::BadDigest(format!("The {} you specified did not match the calculated checksum.", a.name())));
            }
            Some(Checksum { algorithm: a, value, kind: ChecksumType::FullObject })
        }
        (Some(a), Some(ChecksumType::Composite), None) => {
            let part_sums: Option<Vec<String>> = chosen.iter().map(|p| p.checksum.clone()).collect();
            part_sums
                .and_then(|sums| checksum::composite(a, &sums))
                .map(|value| Checksum { algorithm: a, value, kind: ChecksumType::Composite })
        }
        _ => None,
    };
    let mut row = ObjectRow {
        key: key.to_string(),
        size,
        etag: checksum::multipart_etag(&chosen.iter().map(|p| p.etag.clone()).collect::<Vec<_>>()),
        last_modified: now_seconds(),
        meta: ObjectMeta { parts: chosen.iter().map(|p| (p.size, p.checksum.clone())).collect(), ..upload.meta.clone() },
        checksum,
        parts_count: Some(chosen.len() as u32),
        data: data.clone(),
        version_id: None,
    };
    if let Err(e) = s3.store.put_object(bucket, &mut row, |_| Ok(())) {
        s3.store.drop_data(&data);
        return Err(e);
    }
    for d in s3.store.remove_upload(upload_id)? {
        s3.store.drop_data(&d);
    }
    s3.notify("ObjectCreated:CompleteMultipartUpload", bucket, key, Some(&row));
    Ok(row)
}

/// AbortMultipartUpload.
pub fn abort_multipart_upload(s3: &S3, bucket: &str, key: &str, upload_id: &str) -> S3Result<()> {
    s3.store.upload(bucket, key, upload_id)?;
    for d in s3.store.remove_upload(upload_id)? {
        s3.store.drop_data(&d);
    }
    Ok(())
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

/// ListMultipartUploads' page: uploads, common prefixes, and whether more remain.
pub struct UploadsPage {
    pub uploads: Vec<UploadRow>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
}

/// ListMultipartUploads: uploads after (key-marker, upload-id-marker), grouped by delimiter.
pub fn list_multipart_uploads(
    s3: &S3,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: Option<&str>,
    upload_id_marker: Option<&str>,
    max_uploads: usize,
) -> S3Result<UploadsPage> {
    let all = s3.store.list_uploads(bucket, prefix)?;
    let mut page = UploadsPage { uploads: Vec::new(), common_prefixes: Vec::new(), truncated: false };
    for u in all {
        if let Some(km) = key_marker {
            let after = match upload_id_marker {
                Some(um) => (u.key.as_str(), u.upload_id.as_str()) > (km, um),
                None => u.key.as_str() > km,
            };
            if !after {
                continue;
            }
        }
        let cp = delimiter
            .filter(|d| !d.is_empty())
            .and_then(|d| u.key[prefix.len()..].find(d).map(|i| u.key[..prefix.len() + i + d.len()].to_string()));
        if cp.as_ref().is_some_and(|cp| page.common_prefixes.last() == Some(cp)) {
            continue;
        }
        if page.uploads.len() + page.common_prefixes.len() == max_uploads {
            page.truncated = true;
            break;
        }
        match cp {
            Some(cp) => page.common_prefixes.push(cp),
            None => page.uploads.push(u),
        }
    }
    Ok(page)
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
