//! S3's state: bucket, object, upload and part metadata in SQLite; object bytes inline in SQLite
//! when small, else in files named by a random id under `<data>/s3/blobs/`. Keys and bucket names
//! never become paths, so no name can reach outside the data directory.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::checksum::Algorithm;
use super::error::{S3Error, S3Result};

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
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS s3_buckets (name TEXT PRIMARY KEY, region TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS s3_bucket_policies (bucket TEXT PRIMARY KEY, policy TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS s3_bucket_configs (bucket TEXT NOT NULL, kind TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (bucket, kind));
CREATE TABLE IF NOT EXISTS s3_objects (
  bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL, meta TEXT NOT NULL, checksum TEXT, parts_count INTEGER,
  inline BLOB, file TEXT, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated INTEGER NOT NULL,
  meta TEXT NOT NULL, checksum_algorithm TEXT, checksum_type TEXT);
CREATE TABLE IF NOT EXISTS s3_parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL, checksum TEXT, inline BLOB, file TEXT,
  PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;
";

const OBJECT_COLUMNS: &str = "key, size, etag, last_modified, meta, checksum, parts_count, inline, file";

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
    })
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
        db.lock().execute_batch(SCHEMA)?;
        let store = Store { db, blobs, root: root.clone() };
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
            let mut st = db.prepare("SELECT file FROM s3_objects WHERE file IS NOT NULL UNION SELECT file FROM s3_parts WHERE file IS NOT NULL")?;
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

    fn blob_path(&self, id: &str) -> PathBuf {
        // Ids are generated here (hex uuids), never taken from a request.
        self.blobs.join(&id[..2.min(id.len())]).join(id)
    }

    /// Stores bytes: inline when small, else in a new file. Returns where they are.
    pub fn write_data(&self, data: Bytes) -> S3Result<Data> {
        if data.len() <= INLINE_MAX {
            return Ok(Data::Inline(data));
        }
        let mut w = self.data_writer()?;
        w.write(&data)?;
        w.finish()
    }

    /// A writer that streams a large object into a new blob file.
    pub fn data_writer(&self) -> S3Result<BlobWriter> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let path = self.blob_path(&id);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::File::create(&path)?;
        Ok(BlobWriter { id, file: std::io::BufWriter::with_capacity(1 << 20, file) })
    }

    /// Reads `len` bytes at `offset` (the whole object when `range` is `None`).
    pub fn read_data(&self, data: &Data, range: Option<(u64, u64)>) -> S3Result<Bytes> {
        match data {
            Data::Inline(b) => Ok(match range {
                Some((start, len)) => {
                    let s = (start as usize).min(b.len());
                    let e = (s + len as usize).min(b.len());
                    b.slice(s..e)
                }
                None => b.clone(),
            }),
            Data::File(id) => {
                let path = self.blob_path(id);
                match range {
                    None => Ok(Bytes::from(std::fs::read(path)?)),
                    Some((start, len)) => {
                        use std::io::{Read, Seek, SeekFrom};
                        let mut f = std::fs::File::open(path)?;
                        f.seek(SeekFrom::Start(start))?;
                        let mut buf = Vec::with_capacity(len as usize);
                        f.take(len).read_to_end(&mut buf)?;
                        Ok(Bytes::from(buf))
                    }
                }
            }
        }
    }

    /// Deletes the file behind `data`, if any (once a snapshot under way has copied it).
    /// Failures are logged, not returned: the metadata no longer points at it.
    pub fn drop_data(&self, data: &Data) {
        if let Data::File(id) = data {
            self.root.discard(self.blob_path(id));
        }
    }

    /// The blob files the objects and upload parts in `db` (a copy of the state) refer to, as
    /// paths relative to the data directory.
    pub fn blob_files(db: &Connection) -> rusqlite::Result<Vec<PathBuf>> {
        let mut st = db.prepare("SELECT file FROM s3_objects WHERE file IS NOT NULL UNION SELECT file FROM s3_parts WHERE file IS NOT NULL")?;
        let ids: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids.iter().map(|id| Path::new("s3").join("blobs").join(&id[..2.min(id.len())]).join(id)).collect())
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
        Ok(())
    }

    /// Every bucket that has a configuration of this kind, with the document.
    pub fn configs(&self, kind: &str) -> S3Result<Vec<(String, String)>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached("SELECT bucket, doc FROM s3_bucket_configs WHERE kind = ?1 ORDER BY bucket")?;
        let rows = st.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces an existing object's tags (`NoSuchKey` if it is gone).
    pub fn set_object_tags(&self, bucket: &str, key: &str, tags: Vec<(String, String)>) -> S3Result<()> {
        let db = self.db.lock();
        let meta: Option<String> =
            db.prepare_cached("SELECT meta FROM s3_objects WHERE bucket = ?1 AND key = ?2")?.query_row(params![bucket, key.as_bytes()], |r| r.get(0)).optional()?;
        let Some(meta) = meta else {
            Self::bucket_in(&db, bucket)?;
            return Err(S3Error::NoSuchKey(key.to_string()));
        };
        let mut meta: ObjectMeta = serde_json::from_str(&meta).map_err(|e| S3Error::Internal(format!("stored metadata: {e}")))?;
        meta.tags = tags;
        db.prepare_cached("UPDATE s3_objects SET meta = ?3 WHERE bucket = ?1 AND key = ?2")?.execute(params![bucket, key.as_bytes(), to_json(&meta)])?;
        Ok(())
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
                db.query_row("SELECT EXISTS (SELECT 1 FROM s3_objects WHERE bucket = ?1)", [name], |r| r.get(0))?;
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
            files
        };
        for f in parts {
            self.drop_data(&Data::File(f));
        }
        Ok(())
    }

    // --- objects ---

    /// An object's metadata, `NoSuchKey`, or `NoSuchBucket`.
    pub fn object(&self, bucket: &str, key: &str) -> S3Result<ObjectRow> {
        let db = self.db.lock();
        let row = db
            .prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2"))?
            .query_row(params![bucket, key.as_bytes()], object_from_row)
            .optional()?;
        match row {
            Some(r) => Ok(r),
            None => {
                Self::bucket_in(&db, bucket)?;
                Err(S3Error::NoSuchKey(key.to_string()))
            }
        }
    }

    /// Stores an object's metadata (replacing any previous version, whose file is deleted).
    /// `check` runs under the lock with the current object, for conditional writes.
    pub fn put_object(
        &self,
        bucket: &str,
        obj: &ObjectRow,
        check: impl FnOnce(Option<&ObjectRow>) -> S3Result<()>,
    ) -> S3Result<()> {
        let old = {
            let db = self.db.lock();
            Self::bucket_in(&db, bucket)?;
            let old = db
                .prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2"))?
                .query_row(params![bucket, obj.key.as_bytes()], object_from_row)
                .optional()?;
            check(old.as_ref())?;
            let (inline, file) = split_data(&obj.data);
            db.prepare_cached(
                "INSERT OR REPLACE INTO s3_objects (bucket, key, size, etag, last_modified, meta, checksum, parts_count, inline, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
            ])?;
            old
        };
        if let Some(old) = old
            && old.data != obj.data
        {
            self.drop_data(&old.data);
        }
        Ok(())
    }

    /// Deletes an object; deleting a missing key succeeds, as on S3. `NoSuchBucket` still applies.
    /// Whether there was an object.
    pub fn delete_object(&self, bucket: &str, key: &str) -> S3Result<bool> {
        let old = {
            let db = self.db.lock();
            Self::bucket_in(&db, bucket)?;
            let old: Option<(Option<String>,)> = db
                .prepare_cached("DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2 RETURNING file")?
                .query_row(params![bucket, key.as_bytes()], |r| Ok((r.get(0)?,)))
                .optional()?;
            old
        };
        let existed = old.is_some();
        if let Some((Some(f),)) = old {
            self.drop_data(&Data::File(f));
        }
        Ok(existed)
    }

    /// Up to `limit` objects with keys greater than `after` (bytes) that start with `prefix`,
    /// in UTF-8 binary order. The data handle of each row is not needed for listings.
    pub fn list_objects(&self, bucket: &str, after: &[u8], prefix: &str, limit: usize) -> S3Result<Vec<ObjectRow>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(
            "SELECT key, size, etag, last_modified, meta, checksum, parts_count, NULL, NULL FROM s3_objects
             WHERE bucket = ?1 AND key > ?2 AND key >= ?3 ORDER BY key LIMIT ?4",
        )?;
        let rows = st.query_map(params![bucket, after, prefix.as_bytes(), limit as i64], object_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            let r = r?;
            if !r.key.starts_with(prefix) {
                break;
            }
            out.push(r);
        }
        Ok(out)
    }

    // --- multipart uploads ---

    /// Records a new upload.
    pub fn create_upload(&self, u: &UploadRow) -> S3Result<()> {
        let db = self.db.lock();
        Self::bucket_in(&db, &u.bucket)?;
        db.execute(
            "INSERT INTO s3_uploads (upload_id, bucket, key, initiated, meta, checksum_algorithm, checksum_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                u.upload_id,
                u.bucket,
                u.key.as_bytes(),
                u.initiated,
                to_json(&u.meta),
                u.checksum_algorithm.map(|a| a.name()),
                u.checksum_type.map(|t| t.name()),
            ],
        )?;
        Ok(())
    }

    fn upload_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
        let key: Vec<u8> = r.get(2)?;
        Ok(UploadRow {
            upload_id: r.get(0)?,
            bucket: r.get(1)?,
            key: String::from_utf8_lossy(&key).into_owned(),
            initiated: r.get(3)?,
            meta: from_json(&r.get::<_, String>(4)?),
            checksum_algorithm: r.get::<_, Option<String>>(5)?.and_then(|a| Algorithm::parse(&a)),
            checksum_type: r.get::<_, Option<String>>(6)?.and_then(|t| ChecksumType::parse(&t)),
        })
    }

    /// The upload `id` of `bucket`/`key`, or `NoSuchUpload` (`NoSuchBucket` first).
    pub fn upload(&self, bucket: &str, key: &str, id: &str) -> S3Result<UploadRow> {
        let db = self.db.lock();
        Self::bucket_in(&db, bucket)?;
        db.prepare_cached(
            "SELECT upload_id, bucket, key, initiated, meta, checksum_algorithm, checksum_type FROM s3_uploads
             WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3",
        )?
        .query_row(params![id, bucket, key.as_bytes()], Self::upload_from_row)
        .optional()?
        .ok_or_else(|| S3Error::NoSuchUpload(id.to_string()))
    }

    /// Uploads in a bucket with keys starting with `prefix`, ordered by key then initiation.
    pub fn list_uploads(&self, bucket: &str, prefix: &str) -> S3Result<Vec<UploadRow>> {
        let db = self.db.lock();
        Self::bucket_in(&db, bucket)?;
        let mut st = db.prepare_cached(
            "SELECT upload_id, bucket, key, initiated, meta, checksum_algorithm, checksum_type FROM s3_uploads
             WHERE bucket = ?1 AND key >= ?2 ORDER BY key, initiated, upload_id",
        )?;
        let rows = st.query_map(params![bucket, prefix.as_bytes()], Self::upload_from_row)?;
        let mut out = Vec::new();
        for r in rows {
            let r = r?;
            if !r.key.starts_with(prefix) {
                break;
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Stores a part (replacing an earlier upload of the same number).
    pub fn put_part(&self, upload_id: &str, p: &PartRow) -> S3Result<()> {
        let old: Option<Option<String>> = {
            let db = self.db.lock();
            let exists: bool =
                db.query_row("SELECT EXISTS (SELECT 1 FROM s3_uploads WHERE upload_id = ?1)", [upload_id], |r| r.get(0))?;
            if !exists {
                return Err(S3Error::NoSuchUpload(upload_id.to_string()));
            }
            let old = db
                .query_row(
                    "SELECT file FROM s3_parts WHERE upload_id = ?1 AND part_number = ?2",
                    params![upload_id, p.part_number],
                    |r| r.get(0),
                )
                .optional()?;
            let (inline, file) = split_data(&p.data);
            db.execute(
                "INSERT OR REPLACE INTO s3_parts (upload_id, part_number, size, etag, last_modified, checksum, inline, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![upload_id, p.part_number, p.size as i64, p.etag, p.last_modified, p.checksum, inline, file],
            )?;
            old
        };
        if let Some(Some(f)) = old {
            self.drop_data(&Data::File(f));
        }
        Ok(())
    }

    /// The parts of an upload, by part number.
    pub fn parts(&self, upload_id: &str) -> S3Result<Vec<PartRow>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached(
            "SELECT part_number, size, etag, last_modified, checksum, inline, file FROM s3_parts WHERE upload_id = ?1 ORDER BY part_number",
        )?;
        let rows = st.query_map([upload_id], |r| {
            Ok(PartRow {
                part_number: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
                etag: r.get(2)?,
                last_modified: r.get(3)?,
                checksum: r.get(4)?,
                data: data_of(r.get(5)?, r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes an upload and its parts' rows; returns the part data for the caller to drop
    /// (or keep, when completion moved it into the object).
    pub fn remove_upload(&self, upload_id: &str) -> S3Result<Vec<Data>> {
        let mut db = self.db.lock();
        let tx = db.transaction()?;
        let files: Vec<Data> = {
            let mut st = tx.prepare("SELECT file FROM s3_parts WHERE upload_id = ?1 AND file IS NOT NULL")?;
            st.query_map([upload_id], |r| Ok(Data::File(r.get(0)?)))?.collect::<Result<_, _>>()?
        };
        tx.execute("DELETE FROM s3_parts WHERE upload_id = ?1", [upload_id])?;
        let n = tx.execute("DELETE FROM s3_uploads WHERE upload_id = ?1", [upload_id])?;
        tx.commit()?;
        if n == 0 {
            return Err(S3Error::NoSuchUpload(upload_id.to_string()));
        }
        Ok(files)
    }
}

/// Streams bytes into a new blob file; `finish` returns its [`Data`] handle.
pub struct BlobWriter {
    id: String,
    file: std::io::BufWriter<std::fs::File>,
}

impl BlobWriter {
    /// Appends bytes.
    pub fn write(&mut self, data: &[u8]) -> S3Result<()> {
        use std::io::Write;
        self.file.write_all(data)?;
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(mut self) -> S3Result<Data> {
        use std::io::Write;
        self.file.flush()?;
        Ok(Data::File(self.id))
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
        }
    }

    #[test]
    fn listing_is_in_utf8_byte_order_and_prefix_bounded() -> S3Result<()> {
        let dir = tempfile::tempdir()?;
        let s = Store::open(&crate::state::Root::new(dir.path(), false))?;
        s.create_bucket("b", "us-east-1", 0, &[])?;
        for k in ["a", "é", "z", "A", "a/b", "ab", "\u{10FFFF}"] {
            s.put_object("b", &row(k, Data::Inline(Bytes::new())), |_| Ok(()))?;
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
        s.put_object("b", &row("../../../etc/passwd", data.clone()), |_| Ok(()))?;
        assert_eq!(s.read_data(&data, None)?, big);
        assert_eq!(s.read_data(&data, Some((INLINE_MAX as u64 - 1, 5)))?.len(), 2);
        // Overwriting drops the old file.
        s.put_object("b", &row("../../../etc/passwd", Data::Inline(Bytes::from_static(b"x"))), |_| Ok(()))?;
        assert!(!s.blob_path(id).exists());
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
            s.put_object("b", &row("k", kept.clone()), |_| Ok(()))?;
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
}
