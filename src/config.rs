//! Server settings: from the command line or `FIRELOCAL_*` environment variables.

use std::path::PathBuf;
use std::time::Duration;

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
    /// Caps every Firehose buffer interval (e.g. `1s`, `250ms`), so tests never wait minutes.
    #[arg(long, env = "FIRELOCAL_FIREHOSE_MAX_INTERVAL", value_parser = parse_duration)]
    pub firehose_max_interval: Option<Duration>,
    /// How often S3 lifecycle rules are applied (expired objects deleted, stale multipart
    /// uploads aborted); S3 itself does it about once a day.
    #[arg(long, env = "FIRELOCAL_S3_LIFECYCLE_INTERVAL", value_parser = parse_duration, default_value = "60s")]
    pub s3_lifecycle_interval: Duration,
    /// Megabytes of decoded table columns Athena keeps between queries (0 turns the cache off).
    /// Entries are keyed by each object's ETag, so a changed object is always read again.
    #[arg(long, env = "FIRELOCAL_ATHENA_SCAN_CACHE_MB", default_value_t = 512)]
    pub athena_scan_cache_mb: usize,
    /// Verify SigV4 signatures (wrong secrets, unknown keys and skewed clocks are refused as AWS
    /// refuses them). Unsigned requests stay anonymous. Off by default: any signature is accepted.
    #[arg(long, env = "FIRELOCAL_VERIFY_SIGNATURES")]
    pub verify_signatures: bool,
    /// Enforce IAM on the hops the pipeline makes on a role's behalf: API Gateway AWS
    /// integrations act as their `credentials` role, Firehose as its `RoleARN` (S3 writes and
    /// Lambda transforms); the roles' trust policies must let those services assume them.
    #[arg(long, env = "FIRELOCAL_ENFORCE_IAM")]
    pub enforce_iam: bool,
    /// CloudFormation templates to deploy at start-up, each as the stack named after its file
    /// (`clickstream.yaml` is stack `clickstream`). The server reports ready once every stack is
    /// complete, or exits non-zero with the failed resources' events. With `--data-dir` a
    /// restart leaves an unchanged stack alone and updates a changed one.
    #[arg(long = "init", env = "FIRELOCAL_INIT", value_delimiter = ',')]
    pub init: Vec<PathBuf>,
    /// A parameter for the `--init` templates, `KEY=VALUE` (repeatable; each template takes the
    /// ones it declares).
    #[arg(long = "init-param", value_name = "KEY=VALUE")]
    pub init_params: Vec<String>,
    /// Append every request and response to this file, one JSON object a line (credentials
    /// redacted), for `firelocal replay`.
    #[arg(long, env = "FIRELOCAL_RECORD", value_name = "FILE.jsonl")]
    pub record: Option<PathBuf>,
    /// Inject faults from this file (JSON or YAML rules, as `POST /_firelocal/faults` takes them):
    /// AWS errors and latency by service, operation and resource.
    #[arg(long, env = "FIRELOCAL_FAULTS", value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Start from the state in this snapshot (`firelocal snapshot save`): unpacked into
    /// `--data-dir`, which must then be empty or new, or into the ephemeral state's folder.
    #[arg(long, env = "FIRELOCAL_SNAPSHOT", value_name = "FILE.tar.zst")]
    pub snapshot: Option<PathBuf>,
}

/// Parses `1s`, `250ms`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a duration (use e.g. 1s, 250ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("'{s}' has an unknown unit (use ms, s or m)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{s}' is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl Default for Config {
    fn default() -> Self {
        Config { host: "127.0.0.1".into(), port: 4566, data_dir: None, region: "us-east-1".into(), log_level: "info".into(), firehose_max_interval: None, s3_lifecycle_interval: Duration::from_secs(60), athena_scan_cache_mb: 512, verify_signatures: false, enforce_iam: false, init: Vec::new(), init_params: Vec::new(), record: None, snapshot: None, faults: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
