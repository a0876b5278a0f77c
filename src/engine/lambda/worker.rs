//! One worker: a runtime process with its own Runtime API, its stdout/stderr captured line by
//! line (for the invocation's log tail and for CloudWatch Logs), and a watch on its exit.
//!
//! firelocal keeps a write end of each output pipe: after an invocation it writes a marker line
//! into both and waits for the readers to reach it, so every line the function printed before
//! it answered is in the log tail (a pipe keeps its bytes in order).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::{oneshot, watch};

use super::runtime_api::RuntimeApi;
use super::{EngineError, FunctionSpec, LogLine, LogSink};
use crate::protocol::time::now_millis;

/// A started worker.
pub struct Worker {
    pub api: RuntimeApi,
    /// Dropping or sending kills the process.
    kill: Option<oneshot::Sender<()>>,
    pid: Option<u32>,
    /// Lines written since the last `take_log`.
    log: Arc<Mutex<Vec<String>>>,
    /// Set once the process has exited (its exit code, or -1 for a signal).
    pub exited: watch::Receiver<Option<i32>>,
    pub stream_name: String,
    pub started: Instant,
    /// False until the worker served its first invocation (that one reports Init Duration).
    pub warm: bool,
    /// firelocal's own write ends of the stdout and stderr pipes (for the sync marker).
    markers: Vec<std::io::PipeWriter>,
    /// How many markers the readers have reached.
    synced: watch::Receiver<u64>,
    /// How many markers were written into each pipe.
    marks: u64,
}

/// The marker line (never logged); control characters keep it from clashing with output.
const MARKER: &str = "\u{1}firelocal-log-sync\u{1}";

/// The real path of `python3` (resolved once: version-manager shims such as pyenv's add tens of
/// milliseconds to every cold start when run through their wrapper script).
pub async fn python_executable() -> std::path::PathBuf {
    static PYTHON: tokio::sync::OnceCell<std::path::PathBuf> = tokio::sync::OnceCell::const_new();
    PYTHON
        .get_or_init(|| async {
            let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().await;
            match out {
                Ok(o) if o.status.success() => {
                    let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
                    if p.is_empty() { "python3".into() } else { p.into() }
                }
                _ => "python3".into(),
            }
        })
        .await
        .clone()
}

/// How to run a runtime: the program and its arguments.
async fn command_for(spec: &FunctionSpec) -> Result<(std::path::PathBuf, Vec<String>), EngineError> {
    let rt = spec.runtime.as_str();
    if rt.starts_with("python") {
        Ok((python_executable().await, vec![spec.runtime_dir.join("python.py").display().to_string()]))
    } else if rt.starts_with("nodejs") {
        Ok(("node".into(), vec![spec.runtime_dir.join("node.js").display().to_string()]))
    } else if rt.starts_with("provided") {
        let bootstrap = spec.code_dir.join("bootstrap");
        if !bootstrap.is_file() {
            return Err(EngineError::Entrypoint("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into()));
        }
        Ok((bootstrap, vec![]))
    } else {
        Err(EngineError::Entrypoint(format!("firelocal cannot run runtime {rt}")))
    }
}

impl Worker {
    /// Starts the runtime process for `spec` with its Runtime API.
    pub async fn start(spec: &FunctionSpec, sink: &LogSink) -> Result<Worker, EngineError> {
        let api = RuntimeApi::start().await.map_err(|e| EngineError::Spawn(format!("cannot open a Runtime API endpoint: {e}")))?;
        let (program, args) = command_for(spec).await?;
        let stream_name = {
            let c = crate::engine::firehose::prefix::civil(now_millis());
            format!("{:04}/{:02}/{:02}/[{}]{}", c.year, c.month, c.day, spec.version, uuid::Uuid::new_v4().simple())
        };
        let mut cmd = Command::new(&program);
        let pipe = || -> Result<(std::io::PipeReader, std::io::PipeWriter, std::io::PipeWriter), EngineError> {
            let (r, w) = std::io::pipe().map_err(|e| EngineError::Spawn(format!("cannot create a pipe: {e}")))?;
            let mine = w.try_clone().map_err(|e| EngineError::Spawn(format!("cannot create a pipe: {e}")))?;
            Ok((r, w, mine))
        };
        let (out_r, out_w, out_mine) = pipe()?;
        let (err_r, err_w, err_mine) = pipe()?;
        cmd.args(&args).current_dir(&spec.code_dir).stdin(Stdio::null()).stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w)).kill_on_drop(true);
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") || k.starts_with("_X_AMZN") || k == "_HANDLER" || k == "LAMBDA_TASK_ROOT" {
                cmd.env_remove(k);
            }
        }
        let runtime_label = spec.runtime.clone();
        let vars: Vec<(String, String)> = vec![
            ("AWS_LAMBDA_RUNTIME_API".into(), api.addr.to_string()),
            ("_HANDLER".into(), spec.handler.clone()),
            ("LAMBDA_TASK_ROOT".into(), spec.code_dir.display().to_string()),
            ("LAMBDA_RUNTIME_DIR".into(), spec.runtime_dir.display().to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME".into(), spec.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), spec.version.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), spec.memory_mb.to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME".into(), spec.log_group.clone()),
            ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream_name.clone()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
            ("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{runtime_label}")),
            ("AWS_REGION".into(), spec.region.clone()),
            ("AWS_DEFAULT_REGION".into(), spec.region.clone()),
            ("AWS_ACCESS_KEY_ID".into(), spec.credentials.0.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), spec.credentials.1.clone()),
            ("AWS_SESSION_TOKEN".into(), spec.credentials.2.clone()),
            ("AWS_ENDPOINT_URL".into(), spec.endpoint.clone()),
            ("PYTHONUNBUFFERED".into(), "1".into()),
            ("TZ".into(), ":UTC".into()),
        ];
        cmd.envs(vars);
        cmd.envs(spec.env.iter().cloned());
        let mut child = cmd.spawn().map_err(|e| EngineError::Entrypoint(format!("cannot start {}: {e}", program.display())))?;

        // The Command holds the child's write ends: drop them so that only the child's copies
        // and ours remain.
        drop(cmd);
        let log: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
        let (synced_tx, synced) = watch::channel(0u64);
        let synced_tx = Arc::new(synced_tx);
        for out in [out_r, err_r] {
            let out = tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(out)).map_err(|e| EngineError::Spawn(format!("cannot read the function's output: {e}")))?;
            let (log, sink, group, stream, synced_tx) = (log.clone(), sink.clone(), spec.log_group.clone(), stream_name.clone(), synced_tx.clone());
            let role: Arc<str> = spec.role.as_str().into();
            tokio::spawn(async move {
                let mut lines = BufReader::new(out).lines();
                while let Ok(Some(mut line)) = lines.next_line().await {
                    let marked = line.ends_with(MARKER);
                    if marked {
                        line.truncate(line.len() - MARKER.len());
                    }
                    if !line.is_empty() || !marked {
                        sink(vec![LogLine { role: role.clone(), group: group.clone(), stream: stream.clone(), timestamp_ms: now_millis(), message: line.clone() }]);
                        log.lock().push(line);
                    }
                    if marked {
                        synced_tx.send_modify(|n| *n += 1);
                    }
                }
            });
        }
        // The process is owned by this task: it reports the exit, and kills the process when the
        // worker asks (or is dropped).
        let pid = child.id();
        let (tx, exited) = watch::channel(None);
        let (kill, kill_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let code = tokio::select! {
                status = child.wait() => status.ok().and_then(|s| s.code()).unwrap_or(-1),
                _ = kill_rx => {
                    let _ = child.kill().await;
                    -9
                }
            };
            let _ = tx.send(Some(code));
        });
        Ok(Worker { api, kill: Some(kill), pid, log, exited, stream_name, started: Instant::now(), warm: false, markers: vec![out_mine, err_mine], synced, marks: 0 })
    }

    /// Waits (up to a second) until the output readers have read everything the process wrote
    /// so far: a marker goes into each pipe behind it, and the readers count the markers.
    pub async fn sync_log(&mut self) {
        use std::io::Write;
        // A full pipe would block the write until the reader drains it: not on this thread.
        let writers: Vec<std::io::PipeWriter> = self.markers.iter().filter_map(|w| w.try_clone().ok()).collect();
        let written = tokio::task::spawn_blocking(move || writers.into_iter().filter(|mut w| writeln!(w, "{MARKER}").is_ok()).count() as u64).await.unwrap_or(0);
        self.marks += written;
        let target = self.marks;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), self.synced.wait_for(|n| *n >= target)).await;
    }

    /// The lines written since the last call.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock())
    }

    /// The process's peak resident memory (VmHWM) in MB.
    pub fn max_memory_mb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        let kib: u64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib.div_ceil(1024))
    }

    /// The exit code, once the process has exited.
    pub fn exit_code(&self) -> Option<i32> {
        *self.exited.borrow()
    }

    /// Kills the process without waiting (its exit shows in `exited`).
    pub fn signal_kill(&mut self) {
        if let Some(k) = self.kill.take() {
            let _ = k.send(());
        }
    }

    /// Kills the process and waits until it is gone.
    pub async fn kill(mut self) {
        if let Some(k) = self.kill.take() {
            let _ = k.send(());
        }
        let _ = self.exited.wait_for(Option::is_some).await;
    }
}
