//! `firelocal bench snapshot`: prepares the seed's pipeline with `firelocal demo` (10,000 clicks
//! through API Gateway, Firehose, the transform Lambda, S3, Athena and QuickSight), then times
//! `GET /_firelocal/snapshot` (what `firelocal snapshot save` calls) and starting a new server
//! from the file (`serve --snapshot`, to the first answered request) against a plain start.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::firehose::call;
use super::{BenchArgs, spawn_server, spawn_server_with};

/// Runs the benchmark.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let (server, _) = spawn_server(&args.server_log_level, args.persistent)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    let demo = std::process::Command::new(&exe).args(["demo", "--endpoint", &endpoint, "--events", "10000", "--exit"]).output().map_err(|e| e.to_string())?;
    if !demo.status.success() {
        return Err(format!("the demo failed: {}", String::from_utf8_lossy(&demo.stderr)));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let runs = args.starts.max(1);
    let mut saves = Vec::new();
    let mut snapshot = Bytes::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (status, body) = rt.block_on(call(server.port, "GET", "/_firelocal/snapshot", &[], Bytes::new()))?;
        saves.push(t.elapsed());
        if status != 200 {
            return Err(format!("the snapshot failed ({status}): {}", String::from_utf8_lossy(&body)));
        }
        snapshot = body;
    }
    drop(server);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("demo.tar.zst");
    std::fs::write(&file, &snapshot).map_err(|e| e.to_string())?;
    let file = file.to_str().ok_or("the temp path is not UTF-8")?;
    let (mut plain, mut restored) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        plain.push(spawn_server(&args.server_log_level, false)?.1);
        restored.push(spawn_server_with(&args.server_log_level, false, &["--snapshot", file])?.1);
    }
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        (ms(v[v.len() / 2]), ms(v[v.len() - 1]))
    };
    let ((s50, smax), (p50, pmax), (r50, rmax)) = (stats(saves), stats(plain), stats(restored));
    println!("| the demo's state (10,000 clicks, {} KiB snapshot), {runs} runs | median ms | worst ms |", snapshot.len() / 1024);
    println!("|---|---|---|");
    println!("| snapshot save (GET /_firelocal/snapshot) | {s50:.1} | {smax:.1} |");
    println!("| serve, empty state, to first answer | {p50:.1} | {pmax:.1} |");
    println!("| serve --snapshot, to first answer | {r50:.1} | {rmax:.1} |");
    Ok(())
}
