//! Firehose's state: delivery stream definitions, one JSON document each in the shared state
//! store, so streams survive a restart with `--data-dir`. Buffered records live in the engine's log.


use super::error::FirehoseResult;
use super::model::DeliveryStream;
use crate::state::DocTable;

/// The stream table.
pub struct Store {
    docs: DocTable,
}

impl Store {
    /// Opens the store in `dir` (persistent) or in memory.
    pub fn open(root: &std::sync::Arc<crate::state::Root>) -> FirehoseResult<Store> {
        Ok(Store { docs: DocTable::open(root, "firehose_streams")? })
    }

    /// Every stored stream.
    pub fn load(&self) -> FirehoseResult<Vec<DeliveryStream>> {
        Ok(self.docs.load()?)
    }

    /// Inserts or replaces a stream.
    pub fn save(&self, s: &DeliveryStream) -> FirehoseResult<()> {
        Ok(self.docs.save(&s.name, "", s)?)
    }

    /// Removes a stream.
    pub fn delete(&self, name: &str) -> FirehoseResult<()> {
        Ok(self.docs.delete(name, None)?)
    }
}
