//! One module per AWS service. Each has a wire layer (parse/render), its logic (`ops`), its
//! state (`store`) and one error enum mapped to AWS codes. Services call each other through
//! their typed APIs, in process (Firehose writes objects with `s3::ops::put_object`).

pub mod firehose;
pub mod s3;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::firehose::stream::EngineSettings;

/// Every emulated service's state, shared by all connections.
pub struct Services {
    pub s3: Arc<s3::S3>,
    pub firehose: firehose::Firehose,
}

/// What opening the services needs beyond the data directory.
pub struct Options<'a> {
    pub region: &'a str,
    pub firehose_max_interval: Option<Duration>,
}

impl Services {
    /// Opens every service's store under `dir` (persistent or not); must run inside the runtime
    /// (Firehose starts one task per stored delivery stream and replays its log).
    pub fn open(dir: &Path, persistent: bool, opts: Options<'_>) -> Result<Services, String> {
        let store = s3::store::Store::open(dir, persistent).map_err(|e| format!("S3 store: {e:?}"))?;
        let s3 = Arc::new(s3::S3 { store, region: opts.region.to_string() });
        let settings = EngineSettings { s3: s3.clone(), max_interval: opts.firehose_max_interval };
        let firehose = firehose::Firehose::open(dir, persistent, opts.region, settings).map_err(|e| format!("Firehose store: {e:?}"))?;
        Ok(Services { s3, firehose })
    }

    /// Delivers every Firehose buffer and stops the delivery tasks (clean shutdown).
    pub async fn shutdown(&self) {
        self.firehose.shutdown().await;
    }
}
