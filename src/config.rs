//! Server settings: from the command line or `FIRELOCAL_*` environment variables.

use std::path::PathBuf;

/// How `firelocal serve` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on. Keep the loopback default unless other hosts must reach it.
    #[arg(long, env = "FIRELOCAL_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port for every service (0 picks a free one; the banner prints it).
    #[arg(long, env = "FIRELOCAL_PORT", default_value_t = 4566)]
    pub port: u16,
    /// Keep state here across restarts. Without it, state is ephemeral and gone at exit.
    #[arg(long, env = "FIRELOCAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The default region (used when a request is not signed for one).
    #[arg(long, env = "FIRELOCAL_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Log filter: error, warn, info (one line per request), debug, trace, or a tracing filter.
    #[arg(long, env = "FIRELOCAL_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { host: "127.0.0.1".into(), port: 4566, data_dir: None, region: "us-east-1".into(), log_level: "info".into() }
    }
}
