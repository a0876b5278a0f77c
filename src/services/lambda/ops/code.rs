//! Function code: the zip (inline, from an S3 object or version, or a hot-reload folder),
//! unpacked with its size limit and without escaping its folder.

use super::*;

impl Lambda {
    /// Unpacks (or locates) code: returns (code dir, sha256, size, hot reload).
    pub(super) fn install_code(&self, code: &FunctionCode) -> LambdaResult<(String, String, u64, bool)> {
        if code.image_uri.is_some() {
            return Err(LambdaError::InvalidParameterValue("firelocal runs Zip packages, not container images (ImageUri)".into()));
        }
        let zip = match (&code.zip_file, code.s3_bucket.as_deref(), code.s3_key.as_deref()) {
            (Some(z), None, None) => z.clone(),
            (None, Some(HOT_RELOAD_BUCKET), Some(path)) => {
                let p = Path::new(path);
                if !p.is_absolute() || !p.is_dir() {
                    return Err(LambdaError::InvalidParameterValue(format!("The hot-reload S3Key must be an absolute path to an existing folder: {path}")));
                }
                let sha = sha256_b64(path.as_bytes());
                return Ok((path.to_string(), sha, 0, true));
            }
            (None, Some(bucket), Some(key)) => {
                let found = match code.s3_object_version.as_deref() {
                    Some(v) => self.s3.store.object_version(bucket, key, v),
                    None => self.s3.store.object(bucket, key),
                };
                let obj = found.map_err(|e| {
                    let (code, message) = match e {
                        S3Error::NoSuchVersion { .. } | S3Error::InvalidArgument(_) => ("NoSuchVersion", "The specified version does not exist."),
                        _ => ("NoSuchKey", "The specified key does not exist."),
                    };
                    LambdaError::InvalidParameterValue(format!("Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message} (s3://{bucket}/{key})"))
                })?;
                self.s3.store.read_data(&obj.data, None).map_err(|e| LambdaError::Service(format!("{e:?}")))?
            }
            _ => return Err(LambdaError::InvalidParameterValue("Please provide a source for function code (ZipFile, or S3Bucket and S3Key).".into())),
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = self.root.join("code").join(&id);
        std::fs::create_dir_all(&dir).map_err(|e| LambdaError::Service(e.to_string()))?;
        if let Err(e) = unzip(&zip, &dir) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok((dir.display().to_string(), sha256_b64(&zip), zip.len() as u64, false))
    }
}

/// Unpacks a zip into `dest`, refusing entries that would land outside it.
pub(super) fn unzip(bytes: &[u8], dest: &Path) -> LambdaResult<u64> {
    let bad = || LambdaError::InvalidParameterValue("Could not unzip uploaded file. Please check your file, then try to upload again.".into());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| bad())?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| bad())?;
        let Some(rel) = entry.enclosed_name() else { return Err(bad()) };
        let path = dest.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| LambdaError::Service(e.to_string()))?;
            continue;
        }
        total += entry.size();
        if total > MAX_UNZIPPED {
            return Err(LambdaError::InvalidParameterValue(format!("Unzipped size must be smaller than {MAX_UNZIPPED} bytes")));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| LambdaError::Service(e.to_string()))?;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data).map_err(|_| bad())?;
        std::fs::write(&path, &data).map_err(|e| LambdaError::Service(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
            let exec = rel.file_name().is_some_and(|n| n == "bootstrap");
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(if exec { mode | 0o755 } else { mode | 0o444 }));
        }
    }
    Ok(total)
}

pub(super) fn sha256_b64(b: &[u8]) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b))
}
