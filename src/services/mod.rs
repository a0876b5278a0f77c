//! One module per AWS service. Each has a wire layer (parse/render), its logic (`ops`), its
//! state (`store`) and one error enum mapped to AWS codes.

pub mod s3;

use std::path::Path;

/// Every emulated service's state, shared by all connections.
pub struct Services {
    pub s3: s3::S3,
}

impl Services {
    /// Opens every service's store under `dir` (persistent or not) for `region`.
    pub fn open(dir: &Path, persistent: bool, region: &str) -> Result<Services, String> {
        let store = s3::store::Store::open(dir, persistent).map_err(|e| format!("{e:?}"))?;
        Ok(Services { s3: s3::S3 { store, region: region.to_string() } })
    }
}
