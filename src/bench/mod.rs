//! `firelocal bench s3|firehose|lambda|cloudformation`. `s3` starts the real binary, measures startup-to-ready time and idle RSS,
//! then drives PUT and GET of 1 KiB and 1 MiB objects at several concurrencies with its own
//! keep-alive HTTP/1.1 load generator, and prints a Markdown table (requests/s, MB/s, p50/p99).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

mod cloudformation;
mod firehose;
mod lambda;
mod snapshot;

/// Arguments of `firelocal bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// What to benchmark: s3, firehose, lambda, cloudformation or snapshot.
    #[arg(default_value = "s3")]
    pub target: String,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Concurrency levels (connections), comma-separated.
    #[arg(long, default_value = "1,32", value_delimiter = ',')]
    pub connections: Vec<usize>,
    /// How many cold starts to time.
    #[arg(long, default_value_t = 20)]
    pub starts: usize,
    /// Log level of the server under test (`info` logs one line per request).
    #[arg(long, default_value = "warn")]
    pub server_log_level: String,
    /// Run the server with a temporary `--data-dir` (durable state and the Firehose record log).
    #[arg(long)]
    pub persistent: bool,
}

/// A server started for a benchmark; killed on drop.
pub struct Spawned {
    pub child: Child,
    pub port: u16,
    _data: Option<tempfile::TempDir>,
}

impl Drop for Spawned {
    /// SIGTERM first, so the server removes its ephemeral temp folder; SIGKILL after 5 s.
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `firelocal serve --port 0` and waits until it answers: the server and the time it took.
pub fn spawn_server(log_level: &str, persistent: bool) -> Result<(Spawned, Duration), String> {
    spawn_server_with(log_level, persistent, &[])
}

/// [`spawn_server`] with more `serve` arguments.
pub fn spawn_server_with(log_level: &str, persistent: bool, args: &[&str]) -> Result<(Spawned, Duration), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let data = if persistent { Some(tempfile::tempdir().map_err(|e| e.to_string())?) } else { None };
    let mut extra: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if let Some(d) = &data {
        extra.extend(["--data-dir".to_string(), d.path().display().to_string()]);
    }
    let t0 = Instant::now();
    let mut child = Command::new(exe)
        .args(["serve", "--port", "0", "--log-level", log_level])
        .args(&extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
    let port: u16 = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .and_then(|u| u.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no port in banner {line:?}"))?;
    // Ready = the first health request answered.
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /_firelocal/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && &buf[9..12] == b"200" {
                break;
            }
        }
        if t0.elapsed() > Duration::from_secs(10) {
            return Err("server did not become ready in 10 s".into());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok((Spawned { child, port, _data: data }, t0.elapsed()))
}

/// A `/proc/<pid>/status` field in KiB (VmRSS, VmHWM).
pub fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// One scenario's figures.
pub struct Figures {
    pub requests: usize,
    pub errors: usize,
    pub secs: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Builds the `i`-th request of connection `conn`.
pub type RequestFactory = Arc<dyn Fn(usize, usize) -> Result<http::Request<Full<Bytes>>, String> + Send + Sync>;

async fn connection_loop(port: u16, conn_id: usize, make: RequestFactory, deadline: Instant) -> Result<(Vec<u32>, usize), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut lat = Vec::with_capacity(100_000);
    let mut errors = 0;
    let mut i = 0usize;
    while Instant::now() < deadline {
        let req = make(conn_id, i)?;
        let t = Instant::now();
        sender.ready().await.map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let ok = resp.status().is_success();
        let _ = resp.into_body().collect().await.map_err(|e| e.to_string())?;
        lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if !ok {
            errors += 1;
        }
        i += 1;
    }
    Ok((lat, errors))
}

/// Drives `conns` keep-alive connections for `secs` seconds with requests from `make`.
pub async fn run_scenario(port: u16, make: RequestFactory, conns: usize, secs: f64) -> Result<Figures, String> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..conns).map(|c| tokio::spawn(connection_loop(port, c, make.clone(), deadline))).collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.map_err(|e| e.to_string())??;
        all.extend(lat);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0) as u64;
    Ok(Figures { requests: all.len(), errors, secs, p50_us: pct(0.50), p99_us: pct(0.99) })
}

/// PUTs `size` bytes at `key`.
pub async fn put_fixture(port: u16, key: &str, size: usize) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method("PUT")
        .uri(key)
        .header("host", "localhost")
        .body(Full::new(Bytes::from(vec![b'x'; size])))
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("PUT {key} gave {}", resp.status()));
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Runs the benchmark and prints the figures.
pub fn run(args: BenchArgs) -> Result<(), String> {
    match args.target.as_str() {
        "s3" => run_s3(args),
        "firehose" => firehose::run(args),
        "lambda" => lambda::run(args),
        "cloudformation" => cloudformation::run(args),
        "snapshot" => snapshot::run(args),
        other => Err(format!("unknown benchmark {other:?} (available: s3, firehose, lambda, cloudformation, snapshot)")),
    }
}

fn run_s3(args: BenchArgs) -> Result<(), String> {
    // Startup to ready.
    let mut starts = Vec::new();
    for _ in 0..args.starts.max(1) {
        let (_server, t) = spawn_server("warn", args.persistent)?;
        starts.push(t);
    }
    let (min, max) = (starts.iter().min().copied().unwrap_or_default(), starts.iter().max().copied().unwrap_or_default());
    let (server, _) = spawn_server(&args.server_log_level, args.persistent)?;
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(server.child.id(), "VmRSS:");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let port = server.port;
    println!("## S3 benchmark (`firelocal bench s3 --duration {}`)\n", args.duration);
    println!(
        "- startup to first answered request: median {:.1} ms (min {:.1}, max {:.1}) over {} starts",
        median(starts.clone()).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        starts.len()
    );
    println!("- idle RSS: {} MiB\n", idle.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)));
    println!("| operation | size | connections | requests/s | MB/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    rt.block_on(async {
        put_fixture(port, "/bench", 0).await?;
        for size in [1024usize, 1024 * 1024] {
            put_fixture(port, &format!("/bench/get-{size}"), size).await?;
            for method in [http::Method::PUT, http::Method::GET] {
                for &c in &args.connections {
                    let m = method.clone();
                    let payload = Bytes::from(vec![b'x'; size]);
                    let make: RequestFactory = Arc::new(move |conn, i| {
                        let (uri, body) = if m == http::Method::PUT {
                            (format!("/bench/put-{size}-{conn}-{}", i % 100), payload.clone())
                        } else {
                            (format!("/bench/get-{size}"), Bytes::new())
                        };
                        http::Request::builder().method(m.clone()).uri(uri).header("host", "localhost").body(Full::new(body)).map_err(|e| e.to_string())
                    });
                    let f = run_scenario(port, make, c, args.duration).await?;
                    let rps = f.requests as f64 / f.secs;
                    println!(
                        "| {} | {} | {} | {:.0} | {:.1} | {:.2} ms | {:.2} ms | {} |",
                        method,
                        if size == 1024 { "1 KiB" } else { "1 MiB" },
                        c,
                        rps,
                        rps * size as f64 / 1e6,
                        f.p50_us as f64 / 1e3,
                        f.p99_us as f64 / 1e3,
                        f.errors
                    );
                }
            }
        }
        Ok::<(), String>(())
    })?;
    let peak = rss_kib(server.child.id(), "VmHWM:");
    println!("\n- peak RSS of the server during the run: {} MiB", peak.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)));
    Ok(())
}
