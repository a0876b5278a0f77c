//! Lambda's state: function definitions (every version) in SQLite, one JSON document each, so
//! functions survive a restart with `--data-dir`. Code lives unpacked under `<data>/lambda/code`.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, params};

use super::error::{LambdaError, LambdaResult};
use super::model::Function;

/// The function table.
pub struct Store {
    db: Mutex<Connection>,
}

impl Store {
    /// Opens the store in `dir` (persistent) or in memory.
    pub fn open(dir: &Path, persistent: bool) -> LambdaResult<Store> {
        let db = if persistent { Connection::open(dir.join("state.sqlite"))? } else { Connection::open_in_memory()? };
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS lambda_functions (name TEXT NOT NULL, version TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (name, version));",
        )?;
        Ok(Store { db: Mutex::new(db) })
    }

    /// Every stored function version.
    pub fn load(&self) -> LambdaResult<Vec<Function>> {
        let db = self.db.lock();
        let mut st = db.prepare("SELECT doc FROM lambda_functions ORDER BY name, version")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect())
    }

    /// Inserts or replaces one version.
    pub fn save(&self, f: &Function) -> LambdaResult<()> {
        let doc = serde_json::to_string(f).map_err(|e| LambdaError::Service(e.to_string()))?;
        self.db.lock().execute("INSERT OR REPLACE INTO lambda_functions (name, version, doc) VALUES (?1, ?2, ?3)", params![f.name, f.version, doc])?;
        Ok(())
    }

    /// Removes one version, or every version when `version` is `None`.
    pub fn delete(&self, name: &str, version: Option<&str>) -> LambdaResult<()> {
        let db = self.db.lock();
        match version {
            Some(v) => db.execute("DELETE FROM lambda_functions WHERE name = ?1 AND version = ?2", params![name, v])?,
            None => db.execute("DELETE FROM lambda_functions WHERE name = ?1", [name])?,
        };
        Ok(())
    }
}
