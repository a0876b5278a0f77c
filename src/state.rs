//! The state store shared by every service: one SQLite file (`<data>/state.sqlite`) when state is
//! persistent, in-memory databases otherwise, and a small table of JSON documents for services
//! whose resources are documents (delivery streams, functions). [`Root`] knows every connection
//! and defers file deletions while a snapshot copies files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One SQLite connection, shared by a store's callers.
pub type Db = Arc<Mutex<Connection>>;

/// Where state lives: the data directory, whether SQLite is on disk, and every connection opened
/// on it (a snapshot copies them all).
pub struct Root {
    /// The data directory (a temporary one when state is ephemeral).
    pub dir: PathBuf,
    /// SQLite in `<dir>/state.sqlite` (else each connection is its own in-memory database).
    pub persistent: bool,
    dbs: Mutex<Vec<Db>>,
    /// While snapshots are being taken (the count), file deletions wait in the list.
    deferred: Mutex<(usize, Vec<PathBuf>)>,
}

impl Root {
    /// A root at `dir`.
    pub fn new(dir: &Path, persistent: bool) -> Arc<Root> {
        Arc::new(Root { dir: dir.to_path_buf(), persistent, dbs: Mutex::new(Vec::new()), deferred: Mutex::new((0, Vec::new())) })
    }

    /// Opens a connection to the state database (WAL, relaxed fsync: an emulator favours speed).
    pub fn open_db(&self) -> rusqlite::Result<Db> {
        let db = if self.persistent { Connection::open(self.dir.join("state.sqlite"))? } else { Connection::open_in_memory()? };
        db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")?;
        let db = Arc::new(Mutex::new(db));
        self.dbs.lock().push(db.clone());
        Ok(db)
    }

    /// Deletes a file or folder of state now, or once the snapshots under way are taken.
    pub fn discard(&self, path: PathBuf) {
        {
            let mut d = self.deferred.lock();
            if d.0 > 0 {
                d.1.push(path);
                return;
            }
        }
        remove(&path);
    }

    /// Holds file deletions back until the guard is dropped.
    pub fn hold_deletions(self: &Arc<Self>) -> DeletionHold {
        self.deferred.lock().0 += 1;
        DeletionHold(self.clone())
    }

    /// Writes every table of every connection into one new SQLite file at `to`, each connection
    /// read in one transaction. Persistent state is one database, so one read is consistent
    /// across every service.
    pub fn backup(&self, to: &Path) -> Result<(), String> {
        let dbs: Vec<Db> = self.dbs.lock().clone();
        let vacuum = |db: &Db, path: &Path| -> Result<(), String> {
            let path = path.to_str().ok_or("the snapshot path is not UTF-8")?;
            db.lock().execute("VACUUM INTO ?1", [path]).map(|_| ()).map_err(|e| format!("cannot copy the state database: {e}"))
        };
        if self.persistent {
            return match dbs.first() {
                Some(db) => vacuum(db, to),
                None => Err("no state database is open".into()),
            };
        }
        let target = Connection::open(to).map_err(|e| e.to_string())?;
        let part = to.with_extension("part");
        for db in &dbs {
            let _ = std::fs::remove_file(&part);
            vacuum(db, &part)?;
            merge(&target, &part).map_err(|e| format!("cannot merge the state databases: {e}"))?;
        }
        let _ = std::fs::remove_file(&part);
        Ok(())
    }
}

/// Copies the tables (and their indexes) of the database file `part` into `target`; tables
/// already there are left alone.
fn merge(target: &Connection, part: &Path) -> rusqlite::Result<()> {
    target.execute("ATTACH DATABASE ?1 AS part", [part.to_string_lossy()])?;
    let result = (|| {
        let objects: Vec<(String, String, String)> = {
            let mut st = target.prepare("SELECT type, name, sql FROM part.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', rowid")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
        };
        for (kind, name, sql) in objects {
            let exists: bool = target.query_row("SELECT count(*) FROM main.sqlite_master WHERE name = ?1", [&name], |r| r.get::<_, i64>(0))? > 0;
            if exists {
                continue;
            }
            // The stored CREATE statement, unqualified, creates the object in `main`.
            target.execute_batch(&sql)?;
            if kind == "table" {
                let quoted = name.replace('"', "\"\"");
                target.execute_batch(&format!("INSERT INTO main.\"{quoted}\" SELECT * FROM part.\"{quoted}\""))?;
            }
        }
        Ok(())
    })();
    target.execute_batch("DETACH DATABASE part")?;
    result
}

fn remove(path: &Path) {
    let r = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    if let Err(e) = r
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not delete a state file");
    }
}

/// Held while a snapshot copies files; dropping it performs the deletions it held back.
pub struct DeletionHold(Arc<Root>);

impl Drop for DeletionHold {
    fn drop(&mut self) {
        let due = {
            let mut d = self.0.deferred.lock();
            d.0 -= 1;
            if d.0 == 0 { std::mem::take(&mut d.1) } else { Vec::new() }
        };
        for p in due {
            remove(&p);
        }
    }
}

/// A table of JSON documents keyed by (name, part), e.g. (function, version).
pub struct DocTable {
    db: Db,
    table: &'static str,
}

impl DocTable {
    /// Opens (creating) `table`.
    pub fn open(root: &Root, table: &'static str) -> rusqlite::Result<DocTable> {
        let db = root.open_db()?;
        db.lock().execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (name TEXT NOT NULL, part TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (name, part));"
        ))?;
        Ok(DocTable { db, table })
    }

    /// Every document, by name then part; documents that no longer parse are skipped.
    pub fn load<T: DeserializeOwned>(&self) -> rusqlite::Result<Vec<T>> {
        let db = self.db.lock();
        let mut st = db.prepare(&format!("SELECT doc FROM {} ORDER BY name, part", self.table))?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect())
    }

    /// Inserts or replaces one document.
    pub fn save<T: Serialize>(&self, name: &str, part: &str, doc: &T) -> rusqlite::Result<()> {
        let doc = serde_json::to_string(doc).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        self.db.lock().execute(&format!("INSERT OR REPLACE INTO {} (name, part, doc) VALUES (?1, ?2, ?3)", self.table), params![name, part, doc])?;
        Ok(())
    }

    /// Removes one part of a name, or every part when `part` is `None`.
    pub fn delete(&self, name: &str, part: Option<&str>) -> rusqlite::Result<()> {
        let db = self.db.lock();
        match part {
            Some(p) => db.execute(&format!("DELETE FROM {} WHERE name = ?1 AND part = ?2", self.table), params![name, p])?,
            None => db.execute(&format!("DELETE FROM {} WHERE name = ?1", self.table), [name])?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_persist() -> rusqlite::Result<()> {
        let dir = tempfile::tempdir().map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let t = DocTable::open(&Root::new(dir.path(), true), "docs")?;
        t.save("f", "$LATEST", &serde_json::json!({"v": 1}))?;
        t.save("f", "1", &serde_json::json!({"v": 2}))?;
        t.save("g", "", &serde_json::json!({"v": 3}))?;
        t.delete("f", Some("1"))?;
        drop(t);
        let t = DocTable::open(&Root::new(dir.path(), true), "docs")?;
        let all: Vec<serde_json::Value> = t.load()?;
        assert_eq!(all, vec![serde_json::json!({"v": 1}), serde_json::json!({"v": 3})]);
        t.delete("f", None)?;
        assert_eq!(t.load::<serde_json::Value>()?.len(), 1);
        Ok(())
    }
}
