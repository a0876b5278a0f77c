//! Multipart upload and part metadata (`s3_uploads`, `s3_parts`).

use super::*;

impl Store {
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

    pub(super) fn upload_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
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
        under_prefix(rows, prefix, |r| r.key.as_str())
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
