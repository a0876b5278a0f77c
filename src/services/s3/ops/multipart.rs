//! Multipart uploads: create, UploadPart(Copy), complete, abort and ListMultipartUploads.

use super::*;

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

pub(super) fn check_part_number(n: u32) -> S3Result<()> {
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

pub(super) fn store_part(s3: &S3, upload_id: &str, part_number: u32, body: Bytes, checksum: Option<String>) -> S3Result<PartRow> {
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
