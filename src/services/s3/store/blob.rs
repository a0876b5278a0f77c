//! Object bytes outside SQLite: blob files named by a random id under `<data>/s3/blobs/<2 hex>/`,
//! written whole or streamed, read by range or memory-mapped, and dropped once no row names them.

use super::*;

impl Store {
    pub(super) fn blob_path(&self, id: &str) -> PathBuf {
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

    /// The whole of an object's bytes for a scan: a large file is mapped rather than copied
    /// (Athena reads hundreds of megabytes this way; the kernel's copy was a tenth of a cold
    /// scan's time).
    pub fn map_data(&self, data: &Data) -> S3Result<Bytes> {
        let Data::File(id) = data else { return self.read_data(data, None) };
        let file = std::fs::File::open(self.blob_path(id))?;
        if file.metadata()?.len() < 1 << 20 {
            return self.read_data(data, None);
        }
        // SAFETY: a blob file is written once, under a fresh random name, before any row names
        // it, and is never written or truncated afterwards: it is only unlinked (which leaves
        // an existing mapping valid). So the mapped bytes cannot change while they are read.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Bytes::from_owner(map))
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
        let mut st = db.prepare(FILES_SQL)?;
        let ids: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids.iter().map(|id| Path::new("s3").join("blobs").join(&id[..2.min(id.len())]).join(id)).collect())
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
