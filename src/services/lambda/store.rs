//! Lambda's state: function definitions (every version), one JSON document each in the shared
//! state store, so functions survive a restart with `--data-dir`. Code lives unpacked under
//! `<data>/lambda/code`.


use super::error::LambdaResult;
use super::model::{Alias, Function};
use crate::state::DocTable;

/// The function table.
pub struct Store {
    docs: DocTable,
    aliases: DocTable,
}

impl Store {
    /// Opens the store in `dir` (persistent) or in memory.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> LambdaResult<Store> {
        Ok(Store { docs: DocTable::open(root, "lambda_functions")?, aliases: DocTable::open(root, "lambda_aliases")? })
    }

    /// Every stored function version.
    pub fn load(&self) -> LambdaResult<Vec<Function>> {
        Ok(self.docs.load()?)
    }

    /// Inserts or replaces one version.
    pub fn save(&self, f: &Function) -> LambdaResult<()> {
        Ok(self.docs.save(&f.name, &f.version, f)?)
    }

    /// Removes one version, or every version (and alias) when `version` is `None`.
    pub fn delete(&self, name: &str, version: Option<&str>) -> LambdaResult<()> {
        if version.is_none() {
            self.aliases.delete(name, None)?;
        }
        Ok(self.docs.delete(name, version)?)
    }

    /// Every stored alias.
    pub fn load_aliases(&self) -> LambdaResult<Vec<Alias>> {
        Ok(self.aliases.load()?)
    }

    /// Inserts or replaces an alias.
    pub fn save_alias(&self, a: &Alias) -> LambdaResult<()> {
        Ok(self.aliases.save(&a.function, &a.name, a)?)
    }

    /// Removes an alias.
    pub fn delete_alias(&self, function: &str, name: &str) -> LambdaResult<()> {
        Ok(self.aliases.delete(function, Some(name))?)
    }
}
