//! Snapshots: the whole state of a running firelocal in one `tar.zst` file, and back.
//!
//! A snapshot is a data directory packed: `firelocal-snapshot.json` (the manifest, always the
//! first entry), `state.sqlite` (every service's tables), the object files under `s3/blobs/`,
//! the functions' code under `lambda/code/`, and each delivery stream's buffered records as one
//! log segment under `firehose/<stream id>/`. Restoring unpacks it into a data directory, so a
//! server started on it replays the buffers and serves the objects exactly as after a restart.
//!
//! Saving is consistent while traffic flows: every stream pauses (its delivery in flight
//! completes, its buffer is copied), the state database is copied in one read per connection,
//! then the streams go on; file deletions wait until the files are packed. A record is thus
//! either in the copied buffer or in the copied bucket, never both, never neither.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::engine::firehose::{Record, log};
use crate::services::Services;
use crate::state::Root;

/// The manifest's name, the archive's first entry.
pub const MANIFEST: &str = "firelocal-snapshot.json";
/// What the manifest's `format` says.
pub const FORMAT: &str = "firelocal-snapshot";
/// The snapshot format this firelocal writes; it reads this one and older ones.
pub const VERSION: u32 = 1;

/// The archive's first entry: what wrote it and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The firelocal version that wrote it.
    pub firelocal: String,
    /// When it was taken (RFC 3339).
    pub created: String,
    #[serde(default)]
    pub buckets: u64,
    #[serde(default)]
    pub objects: u64,
    #[serde(default)]
    pub functions: u64,
    #[serde(default)]
    pub stacks: u64,
    #[serde(default)]
    pub tables: u64,
    /// Per delivery stream (by id), the records buffered when the snapshot was taken.
    #[serde(default)]
    pub buffered_records: std::collections::BTreeMap<String, u64>,
}

/// Takes a snapshot of the running services: the `tar.zst` bytes.
pub async fn save(services: &Services, root: &Arc<Root>) -> Result<Vec<u8>, String> {
    let deletions = root.hold_deletions();
    let staging = tempfile::Builder::new().prefix(".snapshot-").tempdir_in(&root.dir).map_err(|e| format!("cannot create a staging folder: {e}"))?;
    let db_path = staging.path().join("state.sqlite");
    let held = services.firehose.hold_all().await;
    let copy = {
        let (root, db_path) = (root.clone(), db_path.clone());
        tokio::task::spawn_blocking(move || root.backup(&db_path)).await.map_err(|e| e.to_string())
    };
    // The state copy and the buffers agree now: the streams go on.
    let streams: Vec<(String, Vec<Record>)> = held
        .into_iter()
        .map(|(id, records, release)| {
            let _ = release.send(());
            (id, records)
        })
        .collect();
    copy??;
    let root = root.clone();
    tokio::task::spawn_blocking(move || {
        let packed = pack(&root, &db_path, &streams);
        drop(deletions);
        drop(staging);
        packed
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `SELECT count(*)` of `sql`, 0 when its table does not exist.
fn count(db: &Connection, sql: &str) -> u64 {
    db.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).unwrap_or(0)
}

/// The code folders (relative to the data directory) of the functions in the state copy.
fn code_dirs(db: &Connection, root: &Path) -> Vec<PathBuf> {
    let docs: Vec<String> = match db.prepare("SELECT doc FROM lambda_functions") {
        Ok(mut st) => st.query_map([], |r| r.get(0)).map(|rows| rows.filter_map(Result::ok).collect()).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let code = root.join("lambda").join("code");
    let mut dirs: Vec<PathBuf> = docs
        .iter()
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter(|d| d["hot_reload"] != serde_json::Value::Bool(true))
        .filter_map(|d| Some(PathBuf::from(d["code_dir"].as_str()?)))
        .filter(|p| p.starts_with(&code))
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

fn pack(root: &Root, db_path: &Path, streams: &[(String, Vec<Record>)]) -> Result<Vec<u8>, String> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let db = Connection::open(db_path).map_err(|e| e.to_string())?;
    let blobs = crate::services::s3::store::Store::blob_files(&db).unwrap_or_default();
    let code = code_dirs(&db, &root.dir);
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        firelocal: crate::server::health::VERSION.into(),
        created: crate::protocol::time::iso8601_millis(crate::protocol::time::now_millis()),
        buckets: count(&db, "SELECT count(*) FROM s3_buckets"),
        objects: count(&db, "SELECT count(*) FROM s3_objects"),
        functions: count(&db, "SELECT count(DISTINCT name) FROM lambda_functions"),
        stacks: count(&db, "SELECT count(*) FROM cloudformation_stacks"),
        tables: count(&db, "SELECT count(*) FROM glue_tables"),
        buffered_records: streams.iter().filter(|s| !s.1.is_empty()).map(|(id, r)| (id.clone(), r.len() as u64)).collect(),
    };
    drop(db);
    let encoder = zstd::Encoder::new(Vec::new(), 3).map_err(io("zstd"))?;
    let mut tar = tar::Builder::new(encoder);
    tar.mode(tar::HeaderMode::Deterministic);
    let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    append_bytes(&mut tar, MANIFEST, &manifest_json).map_err(io("manifest"))?;
    tar.append_path_with_name(db_path, "state.sqlite").map_err(io("state.sqlite"))?;
    for b in &blobs {
        match tar.append_path_with_name(root.dir.join(b), b) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => tracing::warn!(blob = %b.display(), "an object's file is missing; the snapshot leaves it out"),
            Err(e) => return Err(format!("{}: {e}", b.display())),
        }
    }
    for d in &code {
        tar.append_dir_all(d, root.dir.join(d)).map_err(io("function code"))?;
    }
    for (id, records) in streams.iter().filter(|s| !s.1.is_empty()) {
        append_bytes(&mut tar, &format!("firehose/{id}/{}", log::segment_name(1)), &log::encode(records)).map_err(io("buffered records"))?;
    }
    let encoder = tar.into_inner().map_err(io("archive"))?;
    encoder.finish().map_err(io("zstd"))
}

fn append_bytes<W: std::io::Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
}

/// Reads the manifest at the start of a snapshot and checks that this firelocal can load it.
fn check_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| format!("its manifest cannot be read ({e})"))?;
    if m.format != FORMAT {
        return Err(format!("its manifest says format '{}', not '{FORMAT}'", m.format));
    }
    if m.version == 0 || m.version > VERSION {
        return Err(format!(
            "it was written by firelocal {} in snapshot format {}, and this firelocal ({}) reads formats 1 to {VERSION}; load it with a firelocal at least as new as the one that wrote it",
            m.firelocal,
            m.version,
            crate::server::health::VERSION
        ));
    }
    Ok(m)
}

/// Whether an archive path may be unpacked: relative, no `..`, under a folder a snapshot has.
fn allowed(path: &Path) -> bool {
    let normal = path.components().all(|c| matches!(c, Component::Normal(_)));
    let first = path.components().next().and_then(|c| c.as_os_str().to_str());
    normal && matches!(first, Some("state.sqlite" | "s3" | "firehose" | "lambda"))
}

/// Unpacks the snapshot `file` into `target`, which must be absent or an empty folder. All or
/// nothing: the archive is unpacked and checked beside `target` first, then moved into place.
pub fn restore(file: &Path, target: &Path) -> Result<Manifest, String> {
    let bad = |why: String| format!("{} is not a snapshot this firelocal can load: {why}", file.display());
    if target.exists() {
        let mut entries = std::fs::read_dir(target).map_err(|e| format!("{}: {e}", target.display()))?;
        if entries.next().is_some() {
            return Err(format!("{} already holds state; restore a snapshot into an empty or new folder", target.display()));
        }
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let decoder = zstd::Decoder::new(input).map_err(|e| bad(format!("not zstd ({e})")))?;
    let staging = tempfile::Builder::new().prefix(".firelocal-restore-").tempdir_in(&parent).map_err(|e| format!("cannot create a staging folder: {e}"))?;
    let mut archive = tar::Archive::new(decoder);
    let mut manifest = None;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(format!("the archive is damaged ({e})")))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        if manifest.is_none() {
            if path != Path::new(MANIFEST) {
                return Err(bad(format!("it does not start with {MANIFEST}")));
            }
            let mut bytes = Vec::new();
            entry.by_ref().take(1 << 20).read_to_end(&mut bytes).map_err(|e| bad(e.to_string()))?;
            manifest = Some(check_manifest(&bytes).map_err(bad)?);
            continue;
        }
        let kind = entry.header().entry_type();
        if !allowed(&path) || !(kind.is_file() || kind.is_dir()) {
            return Err(bad(format!("it holds an entry firelocal does not write: {}", path.display())));
        }
        entry.unpack_in(staging.path()).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    }
    let manifest = manifest.ok_or_else(|| bad("it is empty".into()))?;
    let db = staging.path().join("state.sqlite");
    if !db.is_file() {
        return Err(bad("it has no state.sqlite".into()));
    }
    let check: String = Connection::open(&db).and_then(|c| c.query_row("PRAGMA quick_check", [], |r| r.get(0))).map_err(|e| bad(format!("its state database cannot be read ({e})")))?;
    if check != "ok" {
        return Err(bad(format!("its state database is damaged ({check})")));
    }
    if target.exists() {
        std::fs::remove_dir(target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let unpacked = staging.keep();
    std::fs::rename(&unpacked, target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&unpacked);
        format!("cannot move the restored state into {}: {e}", target.display())
    })?;
    Ok(manifest)
}

/// `firelocal snapshot ...`.
#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub command: SnapshotCommand,
}

/// What `firelocal snapshot` does.
#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// Save the whole state of a running firelocal (consistent while traffic flows).
    Save {
        /// Where to write the snapshot (`.tar.zst`).
        file: PathBuf,
        /// The running firelocal.
        #[arg(long, env = "AWS_ENDPOINT_URL", default_value = "http://127.0.0.1:4566")]
        endpoint: String,
    },
    /// Unpack a snapshot into a data directory (then `firelocal serve --data-dir DIR`).
    Load {
        /// The snapshot (`.tar.zst`).
        file: PathBuf,
        /// An empty or new folder.
        #[arg(long)]
        data_dir: PathBuf,
    },
}

/// Runs `firelocal snapshot save|load` and prints what it did.
pub fn run(args: SnapshotArgs) -> Result<(), String> {
    match args.command {
        SnapshotCommand::Save { file, endpoint } => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            let authority = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
            let request = http::Request::builder()
                .method("GET")
                .uri("/_firelocal/snapshot")
                .header("host", &authority)
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .map_err(|e| e.to_string())?;
            let (status, body) = rt.block_on(crate::replay::send(&authority, request))?;
            if status != 200 {
                return Err(format!("{endpoint} answered {status}: {}", String::from_utf8_lossy(&body)));
            }
            // Written beside the target, then renamed: a reader never sees half a snapshot.
            let partial = file.with_extension("partial");
            std::fs::write(&partial, &body).and_then(|_| std::fs::rename(&partial, &file)).map_err(|e| format!("{}: {e}", file.display()))?;
            println!("saved {} ({} bytes)", file.display(), body.len());
            Ok(())
        }
        SnapshotCommand::Load { file, data_dir } => {
            let m = restore(&file, &data_dir)?;
            println!(
                "restored {} into {}: {} buckets, {} objects, {} functions, {} stacks, {} tables, {} buffered records (taken {} by firelocal {})",
                file.display(),
                data_dir.display(),
                m.buckets,
                m.objects,
                m.functions,
                m.stacks,
                m.tables,
                m.buffered_records.values().sum::<u64>(),
                m.created,
                m.firelocal
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_stay_inside_the_snapshot_folders() {
        for ok in ["state.sqlite", "s3/blobs/ab/abcdef", "firehose/id/00000000000000000001.log", "lambda/code/x/index.py"] {
            assert!(allowed(Path::new(ok)), "{ok}");
        }
        for bad in ["../etc/passwd", "/etc/passwd", "s3/../../x", "other/file", "", "./state.sqlite"] {
            assert!(!allowed(Path::new(bad)), "{bad}");
        }
    }

    #[test]
    fn manifests_from_newer_or_other_writers_are_refused() {
        let m = |format: &str, version: u32| serde_json::to_vec(&serde_json::json!({"format": format, "version": version, "firelocal": "9.0.0", "created": "x"})).unwrap_or_default();
        assert!(check_manifest(&m(FORMAT, 1)).is_ok());
        let newer = check_manifest(&m(FORMAT, VERSION + 1)).err().unwrap_or_default();
        assert!(newer.contains("firelocal 9.0.0") && newer.contains(&format!("format {}", VERSION + 1)), "{newer}");
        assert!(check_manifest(&m("something-else", 1)).is_err());
        assert!(check_manifest(&m(FORMAT, 0)).is_err());
        assert!(check_manifest(b"not json").is_err());
    }

    #[test]
    fn a_damaged_archive_leaves_the_target_untouched() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("s.tar.zst");
        std::fs::write(&file, b"not a snapshot").map_err(|e| e.to_string())?;
        let target = dir.path().join("data");
        assert!(restore(&file, &target).is_err());
        assert!(!target.exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).map_err(|e| e.to_string())?.filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        Ok(())
    }
}
