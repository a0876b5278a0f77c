//! Firehose's state: delivery stream definitions in SQLite (one JSON document per stream), so
//! streams survive a restart with `--data-dir`. Buffered records live in the engine's log.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, params};

use super::error::FirehoseResult;
use super::model::DeliveryStream;

/// The stream table.
pub struct Store {
    db: Mutex<Connection>,
}

impl Store {
    /// Opens the store in `dir` (persistent) or in memory.
    pub fn open(dir: &Path, persistent: bool) -> FirehoseResult<Store> {
        let db = if persistent { Connection::open(dir.join("state.sqlite"))? } else { Connection::open_in_memory()? };
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS firehose_streams (name TEXT PRIMARY KEY, doc TEXT NOT NULL);",
        )?;
        Ok(Store { db: Mutex::new(db) })
    }

    /// Every stored stream.
    pub fn load(&self) -> FirehoseResult<Vec<DeliveryStream>> {
        let db = self.db.lock();
        let mut st = db.prepare("SELECT doc FROM firehose_streams ORDER BY name")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect())
    }

    /// Inserts or replaces a stream.
    pub fn save(&self, s: &DeliveryStream) -> FirehoseResult<()> {
        let doc = serde_json::to_string(s).map_err(|e| super::error::FirehoseError::Internal(e.to_string()))?;
        self.db.lock().execute("INSERT OR REPLACE INTO firehose_streams (name, doc) VALUES (?1, ?2)", params![s.name, doc])?;
        Ok(())
    }

    /// Removes a stream.
    pub fn delete(&self, name: &str) -> FirehoseResult<()> {
        self.db.lock().execute("DELETE FROM firehose_streams WHERE name = ?1", [name])?;
        Ok(())
    }
}
