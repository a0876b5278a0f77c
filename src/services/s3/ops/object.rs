//! Object operations: PutObject (with conditional writes), GetObject, DeleteObjects and CopyObject.

use super::*;

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
pub(super) fn check_metadata(meta: &ObjectMeta) -> S3Result<()> {
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
pub(super) fn conditional_write(current: Option<&ObjectRow>, key: &str, if_none_match: Option<&str>, if_match: Option<&str>) -> S3Result<()> {
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
pub(super) fn copy_source_object(s3: &S3, bucket: &str, key: &str, version: Option<&str>) -> S3Result<ObjectRow> {
    s3.object(bucket, key, version).map_err(|e| match e {
        S3Error::DeleteMarker { by_version: true, .. } => {
            S3Error::InvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.".into())
        }
        e => e,
    })
}
