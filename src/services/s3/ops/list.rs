//! Listings: ListObjects (v1 and v2) pages with common prefixes, and ListObjectVersions.

use super::*;

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
pub(super) fn past_prefix(prefix: &str) -> Vec<u8> {
    let mut b = prefix.as_bytes().to_vec();
    b.push(0xFF);
    b
}

/// The common prefix a listed key rolls into: the prefix and the rest of the key up to and
/// including the delimiter's first occurrence after the prefix.
pub(super) fn common_prefix(key: &str, input: &ListInput) -> Option<String> {
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
            None if !crate::services::s3::store::valid_version_id(v) => return Err(S3Error::InvalidArgument("Invalid version id specified".into())),
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
