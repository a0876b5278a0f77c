//! `firelocal bench`: placeholder replaced below.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {}
pub fn run(_a: BenchArgs) -> Result<(), String> { Ok(()) }
