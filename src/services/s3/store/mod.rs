//! S3's state: bucket, object, upload and part metadata in SQLite; object bytes inline in SQLite
//! when small, else in files named by a random id under `<data>/s3/blobs/`. Keys and bucket names
//! never become paths, so no name can reach outside the data directory.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::checksum::Algorithm;
use super::error::{S3Error, S3Result};

mod blob;
mod multipart;

pub use blob::BlobWriter;

/// Objects up to this size live inline in SQLite (one lookup serves a GET); larger ones in files.
const INLINE_MAX: usize = 16 * 1024;

/// The HTTP metadata stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    /// `x-amz-meta-*` pairs, names lower-cased and without the prefix.
    pub user: Vec<(String, String)>,
    /// The storage class when not STANDARD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The object's tags (`x-amz-tagging`, PutObjectTagging), in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Server-side encryption asked for (`aws:kms`, `aws:kms:dsse`) and its key; none is SSE-S3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<(String, Option<String>)>,
    /// A multipart object's parts in order: size and checksum (for `partNumber` reads and
    /// GetObjectAttributes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(u64, Option<String>)>,
}

/// Whether an object's checksum covers the whole object or is a checksum of part checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumType {
    FullObject,
    Composite,
}

impl ChecksumType {
    /// `FULL_OBJECT` / `COMPOSITE`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::FullObject => "FULL_OBJECT",
            ChecksumType::Composite => "COMPOSITE",
        }
    }

    /// Parses the `x-amz-checksum-type` header value.
    pub fn parse(s: &str) -> Option<ChecksumType> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FULL_OBJECT" => Some(ChecksumType::FullObject),
            "COMPOSITE" => Some(ChecksumType::Composite),
            _ => None,
        }
    }
}

/// A stored checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub value: String,
    pub kind: ChecksumType,
}

/// Where an object's or part's bytes are.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Inline(Bytes),
    File(String),
}

/// One object's metadata (and a handle on its bytes).
#[derive(Debug, Clone)]
pub struct ObjectRow {
    pub key: String,
    pub size: u64,
    /// The ETag without quotes.
    pub etag: String,
    pub last_modified: i64,
    pub meta: ObjectMeta,
    pub checksum: Option<Checksum>,
    pub parts_count: Option<u32>,
    pub data: Data,
    /// The version id; `None` is the `null` version (every object of a never-versioned bucket).
    pub version_id: Option<String>,
}

/// A bucket's versioning state (PutBucketVersioning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never configured: each key has one version, `null`.
    Unversioned,
    Enabled,
    /// New writes make `null` versions; existing versions are kept.
    Suspended,
}

/// One entry of ListObjectVersions: a version or a delete marker.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    /// The version (a delete marker has no data, size 0 and an empty ETag).
    pub row: ObjectRow,
    pub delete_marker: bool,
    pub is_latest: bool,
    /// The order of writes: larger is newer.
    pub seq: i64,
}

/// What a DeleteObject did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deletion {
    /// An object version or delete marker was removed, or a delete marker was created.
    pub changed: bool,
    /// The version removed, or the delete marker created (`null` is `Some("null")`); `None` for
    /// a bucket that was never versioned.
    pub version_id: Option<String>,
    /// The request created a delete marker, or removed one by its version id.
    pub delete_marker: bool,
}

/// A new version id: 32 characters, as opaque to clients as S3's.
pub fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `v` could name a version: `null` or an id this store made.
pub fn valid_version_id(v: &str) -> bool {
    v == "null" || (v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A bucket.
#[derive(Debug, Clone)]
pub struct BucketRow {
    pub name: String,
    pub region: String,
    pub created: i64,
}

/// A multipart upload in progress.
#[derive(Debug, Clone)]
pub struct UploadRow {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: i64,
    pub meta: ObjectMeta,
    pub checksum_algorithm: Option<Algorithm>,
    pub checksum_type: Option<ChecksumType>,
}

/// One uploaded part.
#[derive(Debug, Clone)]
pub struct PartRow {
    pub part_number: u32,
    pub size: u64,
    pub etag: String,
    pub last_modified: i64,
    pub checksum: Option<String>,
    pub data: Data,
}

/// The S3 store: a SQLite connection and a blob folder.
pub struct Store {
    db: crate::state::Db,
    blobs: PathBuf,
    root: std::sync::Arc<crate::state::Root>,
    /// The order of object writes across versions (advanced under the database lock).
    seq: std::sync::atomic::AtomicI64,
    /// Each versioned bucket's state (kept with its `versioning` configuration; a bucket not
    /// here was never versioned), so a write needs no lookup.
    versioning: parking_lot::RwLock<std::collections::HashMap<String, Versioning>>,
}

/// The versioning state a stored `<VersioningConfiguration>` document sets.
fn versioning_of(doc: &str) -> Versioning {
    let status = crate::protocol::xml::parse(doc.as_bytes()).ok().and_then(|d| d.child_text("Status").map(|s| s.trim().to_string()));
    match status.as_deref() {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => Versioning::Unversioned,
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS s3_buckets (name TEXT PRIMARY KEY, region TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS s3_bucket_policies (bucket TEXT PRIMARY KEY, policy TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS s3_bucket_configs (bucket TEXT NOT NULL, kind TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (bucket, kind));
CREATE TABLE IF NOT EXISTS s3_objects (
  bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL, meta TEXT NOT NULL, checksum TEXT, parts_count INTEGER,
  inline BLOB, file TEXT, version_id TEXT, seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_versions (
  bucket TEXT NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL, version_id TEXT NOT NULL, delete_marker INTEGER NOT NULL,
  size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified INTEGER NOT NULL, meta TEXT NOT NULL, checksum TEXT,
  parts_count INTEGER, inline BLOB, file TEXT, noncurrent_since INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS s3_versions_by_id ON s3_versions (bucket, key, version_id);
CREATE TABLE IF NOT EXISTS s3_uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated INTEGER NOT NULL,
  meta TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT);
CREATE TABLE IF NOT EXISTS s3_parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL, checksum TEXT, inline BLOB, file TEXT,
  PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;
";

/// The columns [`object_from_row`] reads, in order (both object tables have them).
const OBJECT_COLUMNS: &str = "key, size, etag, last_modified, meta, checksum, parts_count, inline, file, version_id";

/// Where the blob files that rows name are listed.
const FILES_SQL: &str = "SELECT file FROM s3_objects WHERE file IS NOT NULL UNION SELECT file FROM s3_versions WHERE file IS NOT NULL UNION SELECT file FROM s3_parts WHERE file IS NOT NULL";

/// Columns added since the first release: (table, column, definition). Older data directories
/// and snapshots get them when they open.
const MIGRATIONS: &[(&str, &str, &str)] =
    &[("s3_objects", "version_id", "version_id TEXT"), ("s3_objects", "seq", "seq INTEGER NOT NULL DEFAULT 0")];

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn from_json<T: for<'de> Deserialize<'de> + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

fn data_of(inline: Option<Vec<u8>>, file: Option<String>) -> Data {
    match (inline, file) {
        (_, Some(f)) => Data::File(f),
        (Some(b), None) => Data::Inline(Bytes::from(b)),
        (None, None) => Data::Inline(Bytes::new()),
    }
}

fn object_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectRow> {
    let key: Vec<u8> = r.get(0)?;
    let checksum: Option<String> = r.get(5)?;
    Ok(ObjectRow {
        key: String::from_utf8_lossy(&key).into_owned(),
        size: r.get::<_, i64>(1)? as u64,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        meta: from_json(&r.get::<_, String>(4)?),
        checksum: checksum.and_then(|c| serde_json::from_str(&c).ok()),
        parts_count: r.get::<_, Option<i64>>(6)?.map(|n| n as u32),
        data: data_of(r.get(7)?, r.get(8)?),
        version_id: r.get::<_, Option<String>>(9)?.filter(|v| v != "null"),
    })
}

/// Rows in key order, up to the first whose key leaves `prefix` (the SQL bounds only the start).
fn under_prefix<T>(rows: impl Iterator<Item = rusqlite::Result<T>>, prefix: &str, key: impl Fn(&T) -> &str) -> S3Result<Vec<T>> {
    let mut out = Vec::new();
    for r in rows {
        let r = r?;
        if !key(&r).starts_with(prefix) {
            break;
        }
        out.push(r);
    }
    Ok(out)
}

/// `Some(v)` → `v`, `None` → `null`: how the version tables spell a version id.
fn version_name(v: Option<&str>) -> &str {
    v.unwrap_or("null")
}

fn split_data(data: &Data) -> (Option<&[u8]>, Option<&str>) {
    match data {
        Data::Inline(b) => (Some(b.as_ref()), None),
        Data::File(f) => (None, Some(f.as_str())),
    }
}

impl Store {
    /// Opens the store: its tables in the state database, blobs under `<data>/s3/blobs`.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> S3Result<Store> {
        let blobs = root.dir.join("s3").join("blobs");
        std::fs::create_dir_all(&blobs)?;
        let db = root.open_db()?;
        let seq = {
            let conn = db.lock();
            for (table, column, def) in MIGRATIONS {
                let has: bool = conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}')"), [], |r| r.get(0))?;
                let exists: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?1)", [table], |r| r.get(0))?;
                if exists && !has {
                    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {def}"))?;
                }
            }
            conn.execute_batch(SCHEMA)?;
            conn.query_row("SELECT MAX(COALESCE((SELECT MAX(seq) FROM s3_objects), 0), COALESCE((SELECT MAX(seq) FROM s3_versions), 0))", [], |r| r.get::<_, i64>(0))?
        };
        let store = Store { db, blobs, root: root.clone(), seq: std::sync::atomic::AtomicI64::new(seq), versioning: Default::default() };
        let states: Vec<(String, Versioning)> = store.configs("versioning")?.into_iter().map(|(b, doc)| (b, versioning_of(&doc))).collect();
        store.versioning.write().extend(states);
        match store.sweep_orphans() {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed object files no object or part refers to (left by a crash)"),
            Err(e) => tracing::warn!(error = ?e, "could not look for orphaned object files"),
        }
        Ok(store)
    }

    /// Removes blob files that no object or part row names: what a crash leaves between writing
    /// a file and committing its row, or between deleting a row and its file. Runs at start-up,
    /// before any request.
    fn sweep_orphans(&self) -> S3Result<usize> {
        let referenced: std::collections::HashSet<String> = {
            let db = self.db.lock();
            let mut st = db.prepare(FILES_SQL)?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for dir in std::fs::read_dir(&self.blobs)?.flatten() {
            let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if f.path().is_file() && !referenced.contains(&name) && std::fs::remove_file(f.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    // --- buckets ---

    /// Creates a bucket with its initial configurations; `BucketAlreadyOwnedByYou` when it
    /// exists.
    pub fn create_bucket(&self, name: &str, region: &str, now: i64, configs: &[(&str, String)]) -> S3Result<()> {
        let mut db = self.db.lock();
        let tx = db.transaction()?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO s3_buckets (name, region, created) VALUES (?1, ?2, ?3)",
            params![name, region, now],
        )?;
        if n == 0 {
            return Err(S3Error::BucketAlreadyOwnedByYou(name.to_string()));
        }
        for (kind, doc) in configs {
            tx.execute("INSERT OR REPLACE INTO s3_bucket_configs (bucket, kind, doc) VALUES (?1, ?2, ?3)", params![name, kind, doc])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A bucket's stored configuration document of this kind (`cors`...), if set.
    pub fn config(&self, bucket: &str, kind: &str) -> S3Result<Option<String>> {
        let db = self.db.lock();
        Self::bucket_in(&db, bucket)?;
        Ok(db.prepare_cached("SELECT doc FROM s3_bucket_configs WHERE bucket = ?1 AND kind = ?2")?.query_row([bucket, kind], |r| r.get(0)).optional()?)
    }

    /// Sets (`Some`) or removes (`None`) a bucket's configuration of this kind.
    pub fn set_config(&self, bucket: &str, kind: &str, doc: Option<&str>) -> S3Result<()> {
        let db = self.db.lock();
        Self::bucket_in(&db, bucket)?;
        match doc {
            Some(d) => db.execute("INSERT OR REPLACE INTO s3_bucket_configs (bucket, kind, doc) VALUES (?1, ?2, ?3)", params![bucket, kind, d])?,
            None => db.execute("DELETE FROM s3_bucket_configs WHERE bucket = ?1 AND kind = ?2", [bucket, kind])?,
        };
        if kind == "versioning" {
            // Under the database lock, so writes see the state and the document in step.
            match doc.map(versioning_of) {
                Some(v) if v != Versioning::Unversioned => self.versioning.write().insert(bucket.to_string(), v),
                _ => self.versioning.write().remove(bucket),
            };
        }
        Ok(())
    }

    /// Every bucket that has a configuration of this kind, with the document.
    pub fn configs(&self, kind: &str) -> S3Result<Vec<(String, String)>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached("SELECT bucket, doc FROM s3_bucket_configs WHERE kind = ?1 ORDER BY bucket")?;
        let rows = st.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the tags of an object's current version, or of the version named (`NoSuchKey`,
    /// `NoSuchVersion`... if it is gone).
    /// Returns the version whose tags were set.
    pub fn set_object_tags(&self, bucket: &str, key: &str, version: Option<&str>, tags: Vec<(String, String)>) -> S3Result<Option<String>> {
        let db = self.db.lock();
        let mut row = match version {
            Some(v) => Self::object_version_in(&db, bucket, key, v)?,
            None => Self::object_in(&db, bucket, key)?,
        };
        row.meta.tags = tags;
        let meta = to_json(&row.meta);
        let id = version_name(row.version_id.as_deref());
        let n = db
            .prepare_cached("UPDATE s3_objects SET meta = ?3 WHERE bucket = ?1 AND key = ?2 AND COALESCE(version_id, 'null') = ?4")?
            .execute(params![bucket, key.as_bytes(), meta, id])?;
        if n == 0 {
            db.prepare_cached("UPDATE s3_versions SET meta = ?3 WHERE bucket = ?1 AND key = ?2 AND version_id = ?4")?.execute(params![bucket, key.as_bytes(), meta, id])?;
        }
        Ok(row.version_id)
    }

    /// The bucket, or `NoSuchBucket`.
    pub fn bucket(&self, name: &str) -> S3Result<BucketRow> {
        let db = self.db.lock();
        Self::bucket_in(&db, name)
    }

    fn bucket_in(db: &Connection, name: &str) -> S3Result<BucketRow> {
        db.prepare_cached("SELECT name, region, created FROM s3_buckets WHERE name = ?1")?
            .query_row([name], |r| Ok(BucketRow { name: r.get(0)?, region: r.get(1)?, created: r.get(2)? }))
            .optional()?
            .ok_or_else(|| S3Error::NoSuchBucket(name.to_string()))
    }

    /// A bucket's policy document, if it has one (`NoSuchBucket` if the bucket is missing).
    pub fn bucket_policy(&self, name: &str) -> S3Result<Option<String>> {
        let db = self.db.lock();
        Self::bucket_in(&db, name)?;
        Ok(db.prepare_cached("SELECT policy FROM s3_bucket_policies WHERE bucket = ?1")?.query_row([name], |r| r.get(0)).optional()?)
    }

    /// Sets (`Some`) or removes (`None`) a bucket's policy.
    pub fn set_bucket_policy(&self, name: &str, policy: Option<&str>) -> S3Result<()> {
        let db = self.db.lock();
        Self::bucket_in(&db, name)?;
        match policy {
            Some(p) => db.execute("INSERT OR REPLACE INTO s3_bucket_policies (bucket, policy) VALUES (?1, ?2)", params![name, p])?,
            None => db.execute("DELETE FROM s3_bucket_policies WHERE bucket = ?1", [name])?,
        };
        Ok(())
    }

    /// Every bucket, by name.
    pub fn list_buckets(&self) -> S3Result<Vec<BucketRow>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached("SELECT name, region, created FROM s3_buckets ORDER BY name")?;
        let rows = st.query_map([], |r| Ok(BucketRow { name: r.get(0)?, region: r.get(1)?, created: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes an empty bucket (`BucketNotEmpty` otherwise); its unfinished uploads go with it.
    pub fn delete_bucket(&self, name: &str) -> S3Result<()> {
        let parts = {
            let mut db = self.db.lock();
            Self::bucket_in(&db, name)?;
            let has_objects: bool =
                db.query_row("SELECT EXISTS (SELECT 1 FROM s3_objects WHERE bucket = ?1) OR EXISTS (SELECT 1 FROM s3_versions WHERE bucket = ?1)", [name], |r| r.get(0))?;
            if has_objects {
                return Err(S3Error::BucketNotEmpty(name.to_string()));
            }
            let tx = db.transaction()?;
            let files: Vec<String> = {
                let mut st = tx.prepare(
                    "SELECT file FROM s3_parts WHERE file IS NOT NULL AND upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = ?1)",
                )?;
                st.query_map([name], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            tx.execute("DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = ?1)", [name])?;
            tx.execute("DELETE FROM s3_uploads WHERE bucket = ?1", [name])?;
            tx.execute("DELETE FROM s3_buckets WHERE name = ?1", [name])?;
            tx.execute("DELETE FROM s3_bucket_policies WHERE bucket = ?1", [name])?;
            tx.execute("DELETE FROM s3_bucket_configs WHERE bucket = ?1", [name])?;
            tx.commit()?;
            self.versioning.write().remove(name);
            files
        };
        for f in parts {
            self.drop_data(&Data::File(f));
        }
        Ok(())
    }

    // --- objects ---

    /// The bucket's versioning state.
    fn versioning_in(&self, bucket: &str) -> Versioning {
        let states = self.versioning.read();
        if states.is_empty() { Versioning::Unversioned } else { states.get(bucket).copied().unwrap_or(Versioning::Unversioned) }
    }

    fn next_seq(&self) -> i64 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    /// The current version of an object (never a delete marker), if any.
    fn current_in(db: &Connection, bucket: &str, key: &str) -> S3Result<Option<ObjectRow>> {
        Ok(db
            .prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2"))?
            .query_row(params![bucket, key.as_bytes()], object_from_row)
            .optional()?)
    }

    /// The current version of a key, if any: its version id and its blob file.
    fn current_file_in(db: &Connection, bucket: &str, key: &str) -> S3Result<Option<(Option<String>, Option<String>)>> {
        Ok(db
            .prepare_cached("SELECT version_id, file FROM s3_objects WHERE bucket = ?1 AND key = ?2")?
            .query_row(params![bucket, key.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The newest noncurrent entry of a key: (seq, version id, is a delete marker, last modified).
    fn newest_version_in(db: &Connection, bucket: &str, key: &str) -> S3Result<Option<(i64, String, bool, i64)>> {
        Ok(db
            .prepare_cached("SELECT seq, version_id, delete_marker, last_modified FROM s3_versions WHERE bucket = ?1 AND key = ?2 ORDER BY seq DESC LIMIT 1")?
            .query_row(params![bucket, key.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?)))
            .optional()?)
    }

    /// The error for a key whose latest version is missing: a delete marker, or no key at all.
    fn missing_in(db: &Connection, bucket: &str, key: &str) -> S3Error {
        match Self::bucket_in(db, bucket) {
            Err(e) => e,
            Ok(_) => match Self::newest_version_in(db, bucket, key) {
                Ok(Some((_, version_id, true, last_modified))) => {
                    S3Error::DeleteMarker { key: key.to_string(), version_id, last_modified, by_version: false }
                }
                Err(e) => e,
                _ => S3Error::NoSuchKey(key.to_string()),
            },
        }
    }

    /// An object's current version, `NoSuchKey` (with the delete marker when that is the latest
    /// version), or `NoSuchBucket`.
    pub fn object(&self, bucket: &str, key: &str) -> S3Result<ObjectRow> {
        Self::object_in(&self.db.lock(), bucket, key)
    }

    fn object_in(db: &Connection, bucket: &str, key: &str) -> S3Result<ObjectRow> {
        match Self::current_in(db, bucket, key)? {
            Some(r) => Ok(r),
            None => Err(Self::missing_in(db, bucket, key)),
        }
    }

    /// One version of an object by id (`null` included). A delete marker answers
    /// `DeleteMarker`; an unknown id `NoSuchVersion`, or `InvalidArgument` when it cannot be one.
    pub fn object_version(&self, bucket: &str, key: &str, version: &str) -> S3Result<ObjectRow> {
        Self::object_version_in(&self.db.lock(), bucket, key, version)
    }

    fn object_version_in(db: &Connection, bucket: &str, key: &str, version: &str) -> S3Result<ObjectRow> {
        if let Some(r) = Self::current_in(db, bucket, key)?.filter(|r| version_name(r.version_id.as_deref()) == version) {
            return Ok(r);
        }
        let found = db
            .prepare_cached(&format!("SELECT {OBJECT_COLUMNS}, delete_marker FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"))?
            .query_row(params![bucket, key.as_bytes(), version], |r| Ok((object_from_row(r)?, r.get::<_, i64>(10)? != 0)))
            .optional()?;
        match found {
            Some((row, false)) => Ok(row),
            Some((row, true)) => Err(S3Error::DeleteMarker {
                key: key.to_string(),
                version_id: version.to_string(),
                last_modified: row.last_modified,
                by_version: true,
            }),
            None => {
                Self::bucket_in(db, bucket)?;
                if !valid_version_id(version) {
                    return Err(S3Error::InvalidArgument("Invalid version id specified".into()));
                }
                Err(S3Error::NoSuchVersion { key: key.to_string(), version_id: version.to_string() })
            }
        }
    }

    /// Moves the current version of a key, if any, among the noncurrent ones.
    fn retire_current(tx: &Connection, bucket: &str, key: &str, now: i64) -> S3Result<()> {
        tx.prepare_cached(
            "INSERT INTO s3_versions (bucket, key, seq, version_id, delete_marker, size, etag, last_modified, meta, checksum, parts_count, inline, file, noncurrent_since)
             SELECT bucket, key, seq, COALESCE(version_id, 'null'), 0, size, etag, last_modified, meta, checksum, parts_count, inline, file, ?3
             FROM s3_objects WHERE bucket = ?1 AND key = ?2",
        )?
        .execute(params![bucket, key.as_bytes(), now])?;
        tx.prepare_cached("DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2")?.execute(params![bucket, key.as_bytes()])?;
        Ok(())
    }

    /// Removes the noncurrent `null` versions (or delete markers) of a key; returns their files.
    fn remove_null_versions(tx: &Connection, bucket: &str, key: &str) -> S3Result<Vec<String>> {
        let mut st = tx.prepare_cached("DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND version_id = 'null' RETURNING file")?;
        let files = st.query_map(params![bucket, key.as_bytes()], |r| r.get::<_, Option<String>>(0))?;
        Ok(files.filter_map(|f| f.transpose()).collect::<Result<_, _>>()?)
    }

    /// Makes the newest noncurrent version of a key current again, unless it is a delete marker
    /// (after the current version was deleted by id).
    fn promote_newest(tx: &Connection, bucket: &str, key: &str) -> S3Result<()> {
        let Some((seq, _, false, _)) = Self::newest_version_in(tx, bucket, key)? else { return Ok(()) };
        tx.prepare_cached(
            "INSERT INTO s3_objects (bucket, key, size, etag, last_modified, meta, checksum, parts_count, inline, file, version_id, seq)
             SELECT bucket, key, size, etag, last_modified, meta, checksum, parts_count, inline, file, NULLIF(version_id, 'null'), seq
             FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
        )?
        .execute(params![bucket, key.as_bytes(), seq])?;
        tx.prepare_cached("DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3")?.execute(params![bucket, key.as_bytes(), seq])?;
        Ok(())
    }

    fn insert_current(tx: &Connection, bucket: &str, obj: &ObjectRow, seq: i64) -> S3Result<()> {
        let (inline, file) = split_data(&obj.data);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO s3_objects (bucket, key, size, etag, last_modified, meta, checksum, parts_count, inline, file, version_id, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            bucket,
            obj.key.as_bytes(),
            obj.size as i64,
            obj.etag,
            obj.last_modified,
            to_json(&obj.meta),
            obj.checksum.as_ref().map(to_json),
            obj.parts_count.map(|n| n as i64),
            inline,
            file,
            obj.version_id,
            seq,
        ])?;
        Ok(())
    }

    /// Stores an object as the key's new current version. In a versioned bucket the previous one
    /// becomes noncurrent; otherwise the `null` version is replaced and its file deleted. Sets
    /// `obj.version_id`. `check` runs under the lock with the current object, for conditional
    /// writes.
    pub fn put_object(
        &self,
        bucket: &str,
        obj: &mut ObjectRow,
        check: impl FnOnce(Option<&ObjectRow>) -> S3Result<()>,
    ) -> S3Result<()> {
        let dropped = {
            let mut db = self.db.lock();
            Self::bucket_in(&db, bucket)?;
            let old = Self::current_in(&db, bucket, &obj.key)?;
            check(old.as_ref())?;
            let versioning = self.versioning_in(bucket);
            let seq = self.next_seq();
            if versioning == Versioning::Unversioned {
                // Never versioned: one statement replaces the only (`null`) version.
                obj.version_id = None;
                Self::insert_current(&db, bucket, obj, seq)?;
                Vec::from_iter(old.map(|o| o.data).filter(|d| *d != obj.data))
            } else {
                let tx = db.transaction()?;
                let mut dropped = Vec::new();
                if versioning == Versioning::Enabled {
                    obj.version_id = Some(new_version_id());
                    Self::retire_current(&tx, bucket, &obj.key, obj.last_modified)?;
                } else {
                    // Suspended: the new `null` version replaces any other, current or not.
                    obj.version_id = None;
                    match old {
                        Some(old) if old.version_id.is_some() => Self::retire_current(&tx, bucket, &obj.key, obj.last_modified)?,
                        Some(old) if old.data != obj.data => dropped.push(old.data),
                        _ => {}
                    }
                    dropped.extend(Self::remove_null_versions(&tx, bucket, &obj.key)?.into_iter().map(Data::File));
                }
                Self::insert_current(&tx, bucket, obj, seq)?;
                tx.commit()?;
                dropped
            }
        };
        for d in dropped {
            self.drop_data(&d);
        }
        Ok(())
    }

    /// Deletes an object as S3 does. Without `version`: in a versioned bucket, a delete marker
    /// becomes the latest version (replacing the `null` version when versioning is suspended);
    /// otherwise the object goes, and a missing key succeeds. With `version`: that version or
    /// delete marker is removed for good, and the next newest becomes current.
    pub fn delete_object(&self, bucket: &str, key: &str, version: Option<&str>, now: i64) -> S3Result<Deletion> {
        let (deletion, files) = {
            let mut db = self.db.lock();
            Self::bucket_in(&db, bucket)?;
            let versioning = self.versioning_in(bucket);
            let tx = db.transaction()?;
            let mut files: Vec<String> = Vec::new();
            let deletion = match version {
                None if versioning == Versioning::Unversioned => {
                    let old: Option<Option<String>> = tx
                        .prepare_cached("DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2 RETURNING file")?
                        .query_row(params![bucket, key.as_bytes()], |r| r.get(0))
                        .optional()?;
                    let changed = old.is_some();
                    files.extend(old.flatten());
                    Deletion { changed, version_id: None, delete_marker: false }
                }
                None => {
                    let marker = if versioning == Versioning::Enabled { new_version_id() } else { "null".to_string() };
                    if versioning == Versioning::Suspended {
                        let old = Self::current_file_in(&tx, bucket, key)?;
                        if let Some((None, file)) = old {
                            tx.prepare_cached("DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2")?.execute(params![bucket, key.as_bytes()])?;
                            files.extend(file);
                        }
                        files.extend(Self::remove_null_versions(&tx, bucket, key)?);
                    }
                    Self::retire_current(&tx, bucket, key, now)?;
                    tx.prepare_cached(
                        "INSERT INTO s3_versions (bucket, key, seq, version_id, delete_marker, size, etag, last_modified, meta, noncurrent_since)
                         VALUES (?1, ?2, ?3, ?4, 1, 0, '', ?5, '{}', ?5)",
                    )?
                    .execute(params![bucket, key.as_bytes(), self.next_seq(), marker, now])?;
                    Deletion { changed: true, version_id: Some(marker), delete_marker: true }
                }
                Some(v) => {
                    let current = Self::current_file_in(&tx, bucket, key)?;
                    match current {
                        Some((id, file)) if version_name(id.as_deref()) == v => {
                            tx.prepare_cached("DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2")?.execute(params![bucket, key.as_bytes()])?;
                            files.extend(file);
                            Self::promote_newest(&tx, bucket, key)?;
                            Deletion { changed: true, version_id: Some(v.to_string()), delete_marker: false }
                        }
                        _ => {
                            let removed: Option<(bool, Option<String>)> = tx
                                .prepare_cached("DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 RETURNING delete_marker, file")?
                                .query_row(params![bucket, key.as_bytes(), v], |r| Ok((r.get::<_, i64>(0)? != 0, r.get(1)?)))
                                .optional()?;
                            match removed {
                                Some((marker, file)) => {
                                    files.extend(file);
                                    if current.is_none() {
                                        Self::promote_newest(&tx, bucket, key)?;
                                    }
                                    Deletion { changed: true, version_id: Some(v.to_string()), delete_marker: marker }
                                }
                                None if !valid_version_id(v) => return Err(S3Error::InvalidArgument("Invalid version id specified".into())),
                                None => Deletion { changed: false, version_id: Some(v.to_string()), delete_marker: false },
                            }
                        }
                    }
                }
            };
            tx.commit()?;
            (deletion, files)
        };
        for f in files {
            self.drop_data(&Data::File(f));
        }
        Ok(deletion)
    }

    /// Removes one noncurrent version or delete marker for good, by its place in the write order,
    /// if it is still noncurrent (and, with `only_lone`, still the key's only version): what
    /// lifecycle rules expire, without ever touching a version that has become current since.
    /// Whether it was removed.
    pub fn remove_noncurrent(&self, bucket: &str, key: &str, seq: i64, only_lone: bool) -> S3Result<bool> {
        let file = {
            let db = self.db.lock();
            let removed: Option<Option<String>> = db
                .prepare_cached(
                    "DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3
                       AND (?4 = 0 OR (NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = ?1 AND o.key = ?2)
                                       AND (SELECT COUNT(*) FROM s3_versions n WHERE n.bucket = ?1 AND n.key = ?2) = 1))
                     RETURNING file",
                )?
                .query_row(params![bucket, key.as_bytes(), seq, only_lone], |r| r.get(0))
                .optional()?;
            match removed {
                None => return Ok(false),
                Some(f) => f,
            }
        };
        if let Some(f) = file {
            self.drop_data(&Data::File(f));
        }
        Ok(true)
    }

    /// Up to `limit` objects with keys greater than `after` (bytes) that start with `prefix`,
    /// in UTF-8 binary order. The data handle of each row is not needed for listings.
    pub fn list_objects(&self, bucket: &str, after: &[u8], prefix: &str, limit: usize) -> S3Result<Vec<ObjectRow>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(
            "SELECT key, size, etag, last_modified, meta, checksum, parts_count, NULL, NULL, version_id FROM s3_objects
             WHERE bucket = ?1 AND key > ?2 AND key >= ?3 ORDER BY key LIMIT ?4",
        )?;
        let rows = st.query_map(params![bucket, after, prefix.as_bytes(), limit as i64], object_from_row)?;
        under_prefix(rows, prefix, |r| r.key.as_str())
    }

    /// The write order (`seq`) of a version of a key, if it exists: where a ListObjectVersions
    /// page that ended on it resumes.
    pub fn version_seq(&self, bucket: &str, key: &str, version: &str) -> S3Result<Option<i64>> {
        let db = self.db.lock();
        let current: Option<i64> = db
            .prepare_cached("SELECT seq FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND COALESCE(version_id, 'null') = ?3")?
            .query_row(params![bucket, key.as_bytes(), version], |r| r.get(0))
            .optional()?;
        if current.is_some() {
            return Ok(current);
        }
        Ok(db
            .prepare_cached("SELECT seq FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3")?
            .query_row(params![bucket, key.as_bytes(), version], |r| r.get(0))
            .optional()?)
    }

    /// Up to `limit` versions and delete markers of keys starting with `prefix`, by key and then
    /// newest first, after the version `after` (a key, and the `seq` of a version of it; `None`
    /// skips the whole key).
    pub fn list_versions(&self, bucket: &str, after: (&[u8], Option<i64>), prefix: &str, limit: usize) -> S3Result<Vec<VersionEntry>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(
            "SELECT key, size, etag, last_modified, meta, checksum, parts_count, NULL, NULL, version_id, seq, 0, 1 FROM s3_objects
               WHERE bucket = ?1 AND key >= ?2 AND key >= ?3 AND (key > ?2 OR seq < ?5)
             UNION ALL
             SELECT key, size, etag, last_modified, meta, checksum, parts_count, NULL, NULL, version_id, seq, delete_marker,
                    delete_marker = 1
                    AND NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = v.bucket AND o.key = v.key)
                    AND seq = (SELECT MAX(seq) FROM s3_versions n WHERE n.bucket = v.bucket AND n.key = v.key)
               FROM s3_versions v WHERE bucket = ?1 AND key >= ?2 AND key >= ?3 AND (key > ?2 OR seq < ?5)
             ORDER BY key, seq DESC LIMIT ?4",
        )?;
        let rows = st.query_map(params![bucket, after.0, prefix.as_bytes(), limit as i64, after.1.unwrap_or(i64::MIN)], |r| {
            Ok(VersionEntry { row: object_from_row(r)?, seq: r.get(10)?, delete_marker: r.get::<_, i64>(11)? != 0, is_latest: r.get::<_, i64>(12)? != 0 })
        })?;
        let mut out = Vec::new();
        for r in rows {
            let r = r?;
            if !r.row.key.starts_with(prefix) {
                break;
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Noncurrent versions (not delete markers) that became noncurrent at or before `before`
    /// (epoch millis), with the time they did: what NoncurrentVersionExpiration removes.
    /// Each with the time it became noncurrent and its place in the write order.
    pub fn noncurrent_versions(&self, bucket: &str, prefix: &str, before: i64) -> S3Result<Vec<(ObjectRow, i64, i64)>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(&format!(
            "SELECT {OBJECT_COLUMNS}, noncurrent_since, seq FROM s3_versions
             WHERE bucket = ?1 AND key >= ?2 AND delete_marker = 0 AND noncurrent_since <= ?3 ORDER BY key, seq DESC"
        ))?;
        let rows = st.query_map(params![bucket, prefix.as_bytes(), before], |r| Ok((object_from_row(r)?, r.get::<_, i64>(10)?, r.get::<_, i64>(11)?)))?;
        let mut out = Vec::new();
        for r in rows {
            let r = r?;
            if r.0.key.starts_with(prefix) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Delete markers that are the only version left of their key: what
    /// `ExpiredObjectDeleteMarker` removes. (key, place in the write order).
    pub fn lone_delete_markers(&self, bucket: &str, prefix: &str) -> S3Result<Vec<(String, i64)>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(
            "SELECT key, seq FROM s3_versions v WHERE bucket = ?1 AND key >= ?2 AND delete_marker = 1
               AND NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = v.bucket AND o.key = v.key)
               AND (SELECT COUNT(*) FROM s3_versions n WHERE n.bucket = v.bucket AND n.key = v.key) = 1",
        )?;
        let rows = st.query_map(params![bucket, prefix.as_bytes()], |r| Ok((String::from_utf8_lossy(&r.get::<_, Vec<u8>>(0)?).into_owned(), r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?.into_iter().filter(|(k, _)| k.starts_with(prefix)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, data: Data) -> ObjectRow {
        ObjectRow {
            key: key.into(),
            size: 0,
            etag: "e".into(),
            last_modified: 0,
            meta: ObjectMeta::default(),
            checksum: None,
            parts_count: None,
            data,
            version_id: None,
        }
    }

    #[test]
    fn listing_is_in_utf8_byte_order_and_prefix_bounded() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let s = Store::open(&crate::state::Root::new(dir.path(), false))?;
        s.create_bucket("b", "us-east-1", 0, &[])?;
        for k in ["a", "é", "z", "A", "a/b", "ab", "\u{10FFFF}"] {
            s.put_object("b", &mut row(k, Data::Inline(Bytes::new())), |_| Ok(()))?;
        }
        let keys: Vec<String> = s.list_objects("b", b"", "", 100)?.into_iter().map(|r| r.key).collect();
        assert_eq!(keys, vec!["A", "a", "a/b", "ab", "z", "é", "\u{10FFFF}"]);
        let keys: Vec<String> = s.list_objects("b", b"a", "a", 100)?.into_iter().map(|r| r.key).collect();
        assert_eq!(keys, vec!["a/b", "ab"]);
        Ok(())
    }

    #[test]
    fn large_data_goes_to_files_named_by_id_inside_the_blob_dir() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let s = Store::open(&crate::state::Root::new(dir.path(), true))?;
        s.create_bucket("b", "us-east-1", 0, &[])?;
        let big = Bytes::from(vec![7u8; INLINE_MAX + 1]);
        let data = s.write_data(big.clone())?;
        let Data::File(id) = &data else { panic!("expected a file") };
        assert!(s.blob_path(id).starts_with(dir.path()));
        s.put_object("b", &mut row("../../../etc/passwd", data.clone()), |_| Ok(()))?;
        assert_eq!(s.read_data(&data, None)?, big);
        assert_eq!(s.read_data(&data, Some((INLINE_MAX as u64 - 1, 5)))?.len(), 2);
        // Overwriting drops the old file.
        s.put_object("b", &mut row("../../../etc/passwd", Data::Inline(Bytes::from_static(b"x"))), |_| Ok(()))?;
        assert!(!s.blob_path(id).exists());
        Ok(())
    }

    #[test]
    fn a_mapped_object_reads_as_its_bytes_and_outlives_its_deletion() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let s = Store::open(&crate::state::Root::new(dir.path(), true))?;
        let big = Bytes::from((0..(3 << 20)).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        let data = s.write_data(big.clone())?;
        let mapped = s.map_data(&data)?;
        assert_eq!(mapped, big);
        s.drop_data(&data);
        assert_eq!(mapped, big, "a mapping survives the unlink");
        assert_eq!(s.map_data(&Data::Inline(Bytes::from_static(b"x")))?, Bytes::from_static(b"x"));
        Ok(())
    }

    #[test]
    fn a_restart_removes_files_no_row_names() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let (kept, orphan) = {
            let root = crate::state::Root::new(dir.path(), true);
            let s = Store::open(&root)?;
            s.create_bucket("b", "us-east-1", 0, &[])?;
            let kept = s.write_data(Bytes::from(vec![1u8; INLINE_MAX + 1]))?;
            s.put_object("b", &mut row("k", kept.clone()), |_| Ok(()))?;
            // A file written but never committed, as a crash leaves it.
            let orphan = s.write_data(Bytes::from(vec![2u8; INLINE_MAX + 1]))?;
            (kept, orphan)
        };
        let s = Store::open(&crate::state::Root::new(dir.path(), true))?;
        let path = |d: &Data| match d {
            Data::File(id) => s.blob_path(id),
            Data::Inline(_) => PathBuf::new(),
        };
        assert!(path(&kept).is_file() && !path(&orphan).exists());
        assert_eq!(s.read_data(&kept, None)?.len(), INLINE_MAX + 1);
        Ok(())
    }

    fn enable_versioning(s: &Store, status: &str) -> S3Result<()> {
        s.set_config("b", "versioning", Some(&format!("<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>")))
    }

    #[test]
    fn versions_markers_and_promotion_keep_their_files() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let s = Store::open(&crate::state::Root::new(dir.path(), true))?;
        s.create_bucket("b", "us-east-1", 0, &[])?;
        enable_versioning(&s, "Enabled")?;
        let big = |n: u8| Bytes::from(vec![n; INLINE_MAX + 1]);
        let mut v1 = row("k", s.write_data(big(1))?);
        s.put_object("b", &mut v1, |_| Ok(()))?;
        let mut v2 = row("k", s.write_data(big(2))?);
        s.put_object("b", &mut v2, |_| Ok(()))?;
        let (id1, id2) = (v1.version_id.clone().unwrap_or_default(), v2.version_id.clone().unwrap_or_default());
        assert!(valid_version_id(&id1) && id1 != id2);
        // Both files live on: the old version is kept.
        assert_eq!(s.read_data(&s.object_version("b", "k", &id1)?.data, None)?, big(1));
        let d = s.delete_object("b", "k", None, 5)?;
        assert!(d.delete_marker && d.changed);
        let marker = d.version_id.unwrap_or_default();
        assert!(matches!(s.object("b", "k"), Err(S3Error::DeleteMarker { by_version: false, .. })));
        assert!(matches!(s.object_version("b", "k", &marker), Err(S3Error::DeleteMarker { by_version: true, .. })));
        let listed = s.list_versions("b", (b"", None), "", 10)?;
        let summary: Vec<(bool, bool)> = listed.iter().map(|v| (v.delete_marker, v.is_latest)).collect();
        assert_eq!(summary, vec![(true, true), (false, false), (false, false)]);
        // Deleting the marker by id promotes v2; deleting v2 for good removes its file.
        s.delete_object("b", "k", Some(&marker), 6)?;
        assert_eq!(s.object("b", "k")?.version_id.as_deref(), Some(id2.as_str()));
        s.delete_object("b", "k", Some(&id2), 7)?;
        let Data::File(f2) = &v2.data else { panic!("expected a file") };
        assert!(!s.blob_path(f2).exists());
        assert_eq!(s.object("b", "k")?.version_id.as_deref(), Some(id1.as_str()));
        assert!(matches!(s.delete_bucket("b"), Err(S3Error::BucketNotEmpty(_))));
        // Suspended: a null version replaces the previous null one, and the enabled-era
        // version is kept beneath it.
        enable_versioning(&s, "Suspended")?;
        let mut n1 = row("k", s.write_data(big(3))?);
        s.put_object("b", &mut n1, |_| Ok(()))?;
        let mut n2 = row("k", Data::Inline(Bytes::from_static(b"n2")));
        s.put_object("b", &mut n2, |_| Ok(()))?;
        assert_eq!(n2.version_id, None);
        let Data::File(f3) = &n1.data else { panic!("expected a file") };
        assert!(!s.blob_path(f3).exists());
        let ids: Vec<Option<String>> = s.list_versions("b", (b"", None), "", 10)?.into_iter().map(|v| v.row.version_id).collect();
        assert_eq!(ids, vec![None, Some(id1.clone())]);
        // Paging resumes after a given version.
        let seq = s.version_seq("b", "k", "null")?;
        let rest: Vec<Option<String>> = s.list_versions("b", (b"k", seq), "", 10)?.into_iter().map(|v| v.row.version_id).collect();
        assert_eq!(rest, vec![Some(id1)]);
        Ok(())
    }

    #[test]
    fn an_older_data_directory_gains_the_version_columns() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        {
            let root = crate::state::Root::new(dir.path(), true);
            let db = root.open_db()?;
            db.lock().execute_batch(
                "CREATE TABLE s3_objects (bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                 last_modified INTEGER NOT NULL, meta TEXT NOT NULL, checksum TEXT, parts_count INTEGER,
                 inline BLOB, file TEXT, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
                 CREATE TABLE s3_buckets (name TEXT PRIMARY KEY, region TEXT NOT NULL, created INTEGER NOT NULL);
                 INSERT INTO s3_buckets VALUES ('b', 'us-east-1', 0);
                 INSERT INTO s3_objects VALUES ('b', CAST('old' AS BLOB), 1, 'e', 0, '{}', NULL, NULL, x'61', NULL);",
            )?;
        }
        let s = Store::open(&crate::state::Root::new(dir.path(), true))?;
        assert_eq!(s.object("b", "old")?.version_id, None);
        let mut r = row("new", Data::Inline(Bytes::new()));
        s.put_object("b", &mut r, |_| Ok(()))?;
        assert_eq!(s.list_objects("b", b"", "", 10)?.len(), 2);
        Ok(())
    }
}
