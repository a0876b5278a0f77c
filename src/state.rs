//! The state store shared by every service: one SQLite file (`<data>/state.sqlite`) when state is
//! persistent, an in-memory database otherwise, and a small table of JSON documents for services
//! whose resources are documents (delivery streams, functions).

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Opens a connection to the state database (WAL, relaxed fsync: an emulator favours speed).
pub fn open_db(dir: &Path, persistent: bool) -> rusqlite::Result<Connection> {
    let db = if persistent { Connection::open(dir.join("state.sqlite"))? } else { Connection::open_in_memory()? };
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")?;
    Ok(db)
}

/// A table of JSON documents keyed by (name, part), e.g. (function, version).
pub struct DocTable {
    db: Mutex<Connection>,
    table: &'static str,
}

impl DocTable {
    /// Opens (creating) `table`.
    pub fn open(dir: &Path, persistent: bool, table: &'static str) -> rusqlite::Result<DocTable> {
        let db = open_db(dir, persistent)?;
        db.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (name TEXT NOT NULL, part TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (name, part));"
        ))?;
        Ok(DocTable { db: Mutex::new(db), table })
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
        let t = DocTable::open(dir.path(), true, "docs")?;
        t.save("f", "$LATEST", &serde_json::json!({"v": 1}))?;
        t.save("f", "1", &serde_json::json!({"v": 2}))?;
        t.save("g", "", &serde_json::json!({"v": 3}))?;
        t.delete("f", Some("1"))?;
        drop(t);
        let t = DocTable::open(dir.path(), true, "docs")?;
        let all: Vec<serde_json::Value> = t.load()?;
        assert_eq!(all, vec![serde_json::json!({"v": 1}), serde_json::json!({"v": 3})]);
        t.delete("f", None)?;
        assert_eq!(t.load::<serde_json::Value>()?.len(), 1);
        Ok(())
    }
}
