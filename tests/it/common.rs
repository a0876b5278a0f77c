//! Starting the real binary and building clients for it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// A running firelocal process; killed on drop.
pub struct Firelocal {
    child: Option<Child>,
    pub endpoint: String,
    pub port: u16,
}

impl Firelocal {
    /// Starts `firelocal serve --port 0` with extra arguments and waits for its banner.
    pub fn start(extra: &[&str]) -> Firelocal {
        let mut child = Command::new(env!("CARGO_BIN_EXE_firelocal"))
            .args(["serve", "--port", "0", "--log-level", "warn"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn firelocal");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("banner");
        let endpoint = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no endpoint in banner {line:?}"))
            .to_string();
        let port = endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        Firelocal { child: Some(child), endpoint, port }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status code.
    pub fn stop(mut self) -> Option<i32> {
        terminate(self.child.take()?)
    }

    /// An S3 client (path-style addressing) for this server.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3_in("us-east-1")
    }

    /// An S3 client signing for `region`.
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .force_path_style(true)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A Firehose client for this server.
    pub fn firehose(&self) -> aws_sdk_firehose::Client {
        let conf = aws_sdk_firehose::Config::builder()
            .behavior_version(aws_sdk_firehose::config::BehaviorVersion::latest())
            .region(aws_sdk_firehose::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_firehose::config::Credentials::new("test", "test", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_firehose::Client::from_conf(conf)
    }

    /// A Lambda client for this server.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_lambda::config::Credentials::new("test", "test", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    /// An API Gateway client for this server.
    pub fn apigateway(&self) -> aws_sdk_apigateway::Client {
        let conf = aws_sdk_apigateway::Config::builder()
            .behavior_version(aws_sdk_apigateway::config::BehaviorVersion::latest())
            .region(aws_sdk_apigateway::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_apigateway::config::Credentials::new("test", "test", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_apigateway::Client::from_conf(conf)
    }

    /// An Athena client for this server.
    pub fn athena(&self) -> aws_sdk_athena::Client {
        let conf = aws_sdk_athena::Config::builder()
            .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
            .region(aws_sdk_athena::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_athena::config::Credentials::new("test", "test", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_athena::Client::from_conf(conf)
    }

    /// A CloudWatch Logs client for this server.
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new("test", "test", None, None, "static"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    /// `POST /_firelocal/firehose/flush[?stream=NAME]`: the per-stream reports.
    pub async fn flush(&self, stream: Option<&str>) -> serde_json::Value {
        let url = match stream {
            Some(s) => format!("{}/_firelocal/firehose/flush?stream={s}", self.endpoint),
            None => format!("{}/_firelocal/firehose/flush", self.endpoint),
        };
        let r = self.http().post(url).send().await.expect("flush");
        assert_eq!(r.status(), 200);
        r.json().await.expect("flush report")
    }

    /// Kills the process with SIGKILL (no chance to flush).
    pub fn kill9(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A plain HTTP client.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }
}

/// SIGTERM, then up to 5 s for a clean exit (which removes an ephemeral server's temp folder),
/// then SIGKILL. The exit status code, if it exited by itself.
fn terminate(mut child: Child) -> Option<i32> {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

impl Drop for Firelocal {
    fn drop(&mut self) {
        if let Some(c) = self.child.take() {
            terminate(c);
        }
    }
}

/// The AWS error code of an SDK error.
pub fn code<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}

/// The HTTP status of an SDK service error.
pub fn status<E, R: std::fmt::Debug>(e: &aws_sdk_s3::error::SdkError<E, R>) -> u16
where
    R: HasStatus,
{
    e.raw_response().map(|r| r.status_code()).unwrap_or(0)
}

/// Lets [`status`] read the raw response of any SDK error.
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Creates a bucket and returns its name.
pub async fn bucket(s3: &aws_sdk_s3::Client, name: &str) -> String {
    s3.create_bucket().bucket(name).send().await.expect("create bucket");
    name.to_string()
}

/// Zips a folder of `fixtures/` (keeping the executable bit of `bootstrap`).
pub fn fixture_zip(folder: &str) -> Vec<u8> {
    use std::io::Write;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(folder);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut entries: Vec<_> = std::fs::read_dir(&root).expect("fixture folder").filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let mode = if name == "bootstrap" { 0o755 } else { 0o644 };
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(mode);
        w.start_file(name, opts).expect("zip entry");
        w.write_all(&std::fs::read(e.path()).expect("fixture file")).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

/// Percent-encodes a form value.
pub fn form_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
