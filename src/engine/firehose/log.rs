//! The durable record log: with `--data-dir`, every accepted record is appended to a segment
//! file before PutRecord returns, and segments are deleted only once their records are in S3.
//! A segment is a sequence of `[arrival ms: i64 LE][length: u32 LE][bytes]` frames; a torn
//! frame at the end (a crash mid-write) is ignored on replay.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::Record;

/// One stream's log folder (named by the stream's id, never by its name).
pub struct RecordLog {
    dir: PathBuf,
    current: u64,
    file: File,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(segment_name(id))
}

/// The file name of segment `id` in a stream's log folder.
pub fn segment_name(id: u64) -> String {
    format!("{id:020}.log")
}

/// Records as a segment's frames.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let size: usize = records.iter().map(|r| 12 + r.data.len()).sum();
    let mut buf = Vec::with_capacity(size);
    for r in records {
        buf.extend_from_slice(&r.arrival_ms.to_le_bytes());
        buf.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        buf.extend_from_slice(&r.data);
    }
    buf
}

fn segment_ids(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut ids: Vec<u64> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".log")?.parse().ok())
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

fn read_segment(path: &Path, out: &mut Vec<Record>) -> std::io::Result<()> {
    let mut r = BufReader::new(File::open(path)?);
    let mut head = [0u8; 12];
    loop {
        if r.read_exact(&mut head).is_err() {
            return Ok(());
        }
        let arrival_ms = i64::from_le_bytes([head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7]]);
        let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
        let mut data = vec![0u8; len];
        if r.read_exact(&mut data).is_err() {
            return Ok(());
        }
        out.push(Record { arrival_ms, data: Bytes::from(data) });
    }
}

impl RecordLog {
    /// Opens (creating) the log in `dir`; returns it with the records left by an earlier run and
    /// the segments that hold them.
    pub fn open(dir: &Path) -> std::io::Result<(RecordLog, Vec<Record>, Vec<u64>)> {
        std::fs::create_dir_all(dir)?;
        let ids = segment_ids(dir)?;
        let mut records = Vec::new();
        for id in &ids {
            read_segment(&segment_path(dir, *id), &mut records)?;
        }
        let current = ids.last().map_or(1, |l| l + 1);
        let file = OpenOptions::new().create(true).append(true).open(segment_path(dir, current))?;
        Ok((RecordLog { dir: dir.to_path_buf(), current, file }, records, ids))
    }

    /// The segment new records go to.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// Appends records in one write.
    pub fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        self.file.write_all(&encode(records))
    }

    /// Starts a new segment; returns the id of the one just closed.
    pub fn rotate(&mut self) -> std::io::Result<u64> {
        let closed = self.current;
        self.current += 1;
        self.file = OpenOptions::new().create(true).append(true).open(segment_path(&self.dir, self.current))?;
        Ok(closed)
    }

    /// Deletes segments whose records are all delivered.
    pub fn remove(&self, ids: &[u64]) {
        for id in ids {
            if let Err(e) = std::fs::remove_file(segment_path(&self.dir, *id))
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(segment = id, error = %e, "could not delete a delivered log segment");
            }
        }
    }

    /// Deletes the whole log (the stream was deleted).
    pub fn destroy(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_ignores_torn_tail() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let (mut log, old, ids) = RecordLog::open(dir.path())?;
        assert!(old.is_empty() && ids.is_empty());
        log.append(&[Record { arrival_ms: 5, data: Bytes::from_static(b"one") }, Record { arrival_ms: 6, data: Bytes::from_static(b"two") }])?;
        let closed = log.rotate()?;
        log.append(&[Record { arrival_ms: 7, data: Bytes::from_static(b"three") }])?;
        // A torn frame at the end of the current segment.
        {
            let mut f = OpenOptions::new().append(true).open(segment_path(dir.path(), log.current()))?;
            f.write_all(&[1, 2, 3])?;
        }
        drop(log);
        let (log, records, ids) = RecordLog::open(dir.path())?;
        let data: Vec<&[u8]> = records.iter().map(|r| &r.data[..]).collect();
        assert_eq!(data, vec![&b"one"[..], b"two", b"three"]);
        assert_eq!(ids, vec![closed, closed + 1]);
        log.remove(&ids);
        drop(log);
        let (_, records, _) = RecordLog::open(dir.path())?;
        assert!(records.is_empty());
        Ok(())
    }
}
