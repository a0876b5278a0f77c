//! The catalog's documents in the shared state database: databases, tables (Glue's `Table`
//! JSON) and partitions (Glue's `Partition` JSON, keyed by their values).


use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::error::GlueResult;

/// The catalog tables.
pub struct Store {
    db: crate::state::Db,
}

fn parse(s: String) -> Value {
    serde_json::from_str(&s).unwrap_or(Value::Null)
}

impl Store {
    /// Opens (creating) the catalog in the state database.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> GlueResult<Store> {
        let db = root.open_db()?;
        db.lock().execute_batch(
            "CREATE TABLE IF NOT EXISTS glue_databases (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS glue_tables (db TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (db, name));
             CREATE TABLE IF NOT EXISTS glue_partitions (db TEXT NOT NULL, tbl TEXT NOT NULL, vals TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (db, tbl, vals));",
        )?;
        Ok(Store { db })
    }

    pub fn database(&self, name: &str) -> GlueResult<Option<Value>> {
        Ok(self.db.lock().query_row("SELECT doc FROM glue_databases WHERE name = ?1", [name], |r| r.get(0)).optional()?.map(parse))
    }

    pub fn databases(&self) -> GlueResult<Vec<Value>> {
        let db = self.db.lock();
        let mut st = db.prepare_cached("SELECT doc FROM glue_databases ORDER BY name")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().map(parse).collect())
    }

    /// Inserts a database; false if it exists.
    pub fn insert_database(&self, name: &str, doc: &Value) -> GlueResult<bool> {
        Ok(self.db.lock().execute("INSERT OR IGNORE INTO glue_databases (name, doc) VALUES (?1, ?2)", params![name, doc.to_string()])? == 1)
    }

    pub fn put_database(&self, name: &str, doc: &Value) -> GlueResult<()> {
        self.db.lock().execute("INSERT OR REPLACE INTO glue_databases (name, doc) VALUES (?1, ?2)", params![name, doc.to_string()])?;
        Ok(())
    }

    /// Deletes a database with its tables and partitions.
    pub fn delete_database(&self, name: &str) -> GlueResult<()> {
        let mut db = self.db.lock();
        let tx = db.transaction()?;
        tx.execute("DELETE FROM glue_partitions WHERE db = ?1", [name])?;
        tx.execute("DELETE FROM glue_tables WHERE db = ?1", [name])?;
        tx.execute("DELETE FROM glue_databases WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    pub fn table(&self, db: &str, name: &str) -> GlueResult<Option<Value>> {
        Ok(self.db.lock().query_row("SELECT doc FROM glue_tables WHERE db = ?1 AND name = ?2", [db, name], |r| r.get(0)).optional()?.map(parse))
    }

    pub fn tables(&self, db: &str) -> GlueResult<Vec<Value>> {
        let conn = self.db.lock();
        let mut st = conn.prepare_cached("SELECT doc FROM glue_tables WHERE db = ?1 ORDER BY name")?;
        let rows = st.query_map([db], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().map(parse).collect())
    }

    /// Inserts a table; false if it exists.
    pub fn insert_table(&self, db: &str, name: &str, doc: &Value) -> GlueResult<bool> {
        Ok(self.db.lock().execute("INSERT OR IGNORE INTO glue_tables (db, name, doc) VALUES (?1, ?2, ?3)", params![db, name, doc.to_string()])? == 1)
    }

    pub fn put_table(&self, db: &str, name: &str, doc: &Value) -> GlueResult<()> {
        self.db.lock().execute("INSERT OR REPLACE INTO glue_tables (db, name, doc) VALUES (?1, ?2, ?3)", params![db, name, doc.to_string()])?;
        Ok(())
    }

    /// Deletes a table and its partitions.
    pub fn delete_table(&self, db: &str, name: &str) -> GlueResult<()> {
        let mut conn = self.db.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM glue_partitions WHERE db = ?1 AND tbl = ?2", [db, name])?;
        tx.execute("DELETE FROM glue_tables WHERE db = ?1 AND name = ?2", [db, name])?;
        tx.commit()?;
        Ok(())
    }

    /// The key a partition's values are stored under.
    pub fn values_key(values: &[String]) -> String {
        serde_json::to_string(values).unwrap_or_default()
    }

    pub fn partition(&self, db: &str, tbl: &str, values: &[String]) -> GlueResult<Option<Value>> {
        let k = Self::values_key(values);
        Ok(self.db.lock().query_row("SELECT doc FROM glue_partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3", [db, tbl, &k], |r| r.get(0)).optional()?.map(parse))
    }

    pub fn partitions(&self, db: &str, tbl: &str) -> GlueResult<Vec<Value>> {
        let conn = self.db.lock();
        let mut st = conn.prepare_cached("SELECT doc FROM glue_partitions WHERE db = ?1 AND tbl = ?2 ORDER BY vals")?;
        let rows = st.query_map([db, tbl], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().map(parse).collect())
    }

    /// Inserts partitions in one transaction; returns, per partition, whether it was new.
    pub fn insert_partitions(&self, db: &str, tbl: &str, parts: &[(Vec<String>, Value)], replace: bool) -> GlueResult<Vec<bool>> {
        let mut conn = self.db.lock();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(parts.len());
        {
            let sql = if replace { "INSERT OR REPLACE INTO glue_partitions (db, tbl, vals, doc) VALUES (?1, ?2, ?3, ?4)" } else { "INSERT OR IGNORE INTO glue_partitions (db, tbl, vals, doc) VALUES (?1, ?2, ?3, ?4)" };
            let mut st = tx.prepare_cached(sql)?;
            for (vals, doc) in parts {
                out.push(st.execute(params![db, tbl, Self::values_key(vals), doc.to_string()])? == 1);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Deletes one partition; false if it did not exist.
    pub fn delete_partition(&self, db: &str, tbl: &str, values: &[String]) -> GlueResult<bool> {
        Ok(self.db.lock().execute("DELETE FROM glue_partitions WHERE db = ?1 AND tbl = ?2 AND vals = ?3", [db, tbl, &Self::values_key(values)])? == 1)
    }
}
