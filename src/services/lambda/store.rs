//! Lambda's state: function definitions (every version), one JSON document each in the shared
//! state store, so functions survive a restart with `--data-dir`. Code lives unpacked under
//! `<data>/lambda/code`.

use std::path::Path;

use super::error::LambdaResult;
use super::model::Function;
use crate::state::DocTable;

/// The function table.
pub struct Store {
    docs: DocTable,
}

impl Store {
    /// Opens the store in `dir` (persistent) or in memory.
    pub fn open(dir: &Path, persistent: bool) -> LambdaResult<Store> {
        Ok(Store { docs: DocTable::open(dir, persistent, "lambda_functions")? })
    }

    /// Every stored function version.
    pub fn load(&self) -> LambdaResult<Vec<Function>> {
        Ok(self.docs.load()?)
    }

    /// Inserts or replaces one version.
    pub fn save(&self, f: &Function) -> LambdaResult<()> {
        Ok(self.docs.save(&f.name, &f.version, f)?)
    }

    /// Removes one version, or every version when `version` is `None`.
    pub fn delete(&self, name: &str, version: Option<&str>) -> LambdaResult<()> {
        Ok(self.docs.delete(name, version)?)
    }
}
