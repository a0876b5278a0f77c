//! One delivery stream's owner task: the only code that touches its buffer and its log. Callers
//! talk to it through a [`StreamHandle`] (a bounded channel, so a stream that cannot keep up
//! pushes back on PutRecord instead of growing without bound).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::deliver::{self, Outcome};
use super::log::RecordLog;
use super::{DeliveryConfig, Record};
use crate::services::s3::S3;

/// What a flush delivered.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FlushReport {
    /// Keys of the objects written.
    pub objects: Vec<String>,
    /// Keys of error-output objects written.
    pub error_objects: Vec<String>,
    /// Records still buffered because delivery failed (they will be retried).
    pub pending_records: usize,
    /// The last delivery error, if any.
    pub error: Option<String>,
}

/// Why a put was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum PutError {
    /// The stream's task is gone (the stream is being deleted).
    Gone,
    /// The buffer is over its bound because deliveries keep failing.
    Backpressure,
    /// The durable log could not be written.
    Log(String),
}

enum Command {
    Put(Vec<Record>, oneshot::Sender<Result<(), PutError>>),
    Flush(oneshot::Sender<FlushReport>),
    Reconfigure(Arc<DeliveryConfig>, oneshot::Sender<FlushReport>),
    Stop { destroy_log: bool, done: oneshot::Sender<FlushReport> },
}

/// A handle on a stream's task.
#[derive(Clone)]
pub struct StreamHandle {
    tx: mpsc::Sender<Command>,
}

impl StreamHandle {
    /// Accepts records (logged first when persistent); returns once they are safe.
    pub async fn put(&self, records: Vec<Record>) -> Result<(), PutError> {
        let (ack, rx) = oneshot::channel();
        self.tx.send(Command::Put(records, ack)).await.map_err(|_| PutError::Gone)?;
        rx.await.map_err(|_| PutError::Gone)?
    }

    /// Delivers everything buffered now and reports what was written.
    pub async fn flush(&self) -> FlushReport {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).await.is_err() {
            return FlushReport::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Delivers what is buffered with the old configuration, then switches to `cfg`.
    pub async fn reconfigure(&self, cfg: Arc<DeliveryConfig>) -> FlushReport {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Reconfigure(cfg, done)).await.is_err() {
            return FlushReport::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Flushes and ends the task; `destroy_log` removes the log (the stream is deleted).
    pub async fn stop(&self, destroy_log: bool) -> FlushReport {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Stop { destroy_log, done }).await.is_err() {
            return FlushReport::default();
        }
        rx.await.unwrap_or_default()
    }
}

/// Settings shared by every stream task.
#[derive(Clone)]
pub struct EngineSettings {
    pub s3: Arc<S3>,
    /// Caps every stream's buffer interval (`--firehose-max-interval`).
    pub max_interval: Option<Duration>,
}

struct Task {
    cfg: Arc<DeliveryConfig>,
    settings: EngineSettings,
    buffer: Vec<Record>,
    buffered_bytes: usize,
    /// When the oldest buffered record arrived (drives the interval flush).
    oldest: Option<Instant>,
    log: Option<RecordLog>,
    /// Log segments holding the records now in `buffer`.
    segments: Vec<u64>,
    /// After a failed delivery: when to try again.
    retry_at: Option<Instant>,
    failures: u32,
    last_error: Option<String>,
}

/// Starts a stream's task. With `log_dir`, records left by an earlier run are replayed into the
/// buffer (and delivered on the next flush).
pub fn spawn(cfg: Arc<DeliveryConfig>, settings: EngineSettings, log_dir: Option<PathBuf>) -> std::io::Result<StreamHandle> {
    let (log, buffer, mut segments) = match log_dir {
        Some(dir) => {
            let (log, records, segs) = RecordLog::open(&dir)?;
            (Some(log), records, segs)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    if let Some(l) = &log {
        segments.push(l.current());
    }
    let buffered_bytes = buffer.iter().map(|r| r.data.len()).sum();
    let oldest = (!buffer.is_empty()).then(Instant::now);
    if !buffer.is_empty() {
        tracing::info!(stream = %cfg.stream_name, records = buffer.len(), "replayed buffered records from the log");
    }
    let task = Task { cfg, settings, buffer, buffered_bytes, oldest, log, segments, retry_at: None, failures: 0, last_error: None };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(task.run(rx));
    Ok(StreamHandle { tx })
}

impl Task {
    fn interval(&self) -> Duration {
        match self.settings.max_interval {
            Some(max) => self.cfg.interval.min(max),
            None => self.cfg.interval,
        }
    }

    /// When the buffer is due: its interval, or the retry time after a failure.
    fn due(&self) -> Option<Instant> {
        let oldest = self.oldest?;
        Some(self.retry_at.unwrap_or(oldest + self.interval()))
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        loop {
            let due = self.due();
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                _ = async { if let Some(d) = due { tokio::time::sleep_until(d).await } else { std::future::pending::<()>().await } } => {
                    self.deliver().await;
                    continue;
                }
            };
            let Some(cmd) = cmd else {
                // Every handle is gone: deliver what is left and end.
                self.deliver().await;
                return;
            };
            match cmd {
                Command::Put(records, ack) => {
                    let result = self.accept(records);
                    let _ = ack.send(result);
                    if self.buffered_bytes >= self.cfg.size_bytes && self.retry_at.is_none() {
                        self.deliver().await;
                    }
                }
                Command::Flush(done) => {
                    let report = self.deliver().await;
                    let _ = done.send(report);
                }
                Command::Reconfigure(cfg, done) => {
                    let report = self.deliver().await;
                    self.cfg = cfg;
                    let _ = done.send(report);
                }
                Command::Stop { destroy_log, done } => {
                    let report = if destroy_log { FlushReport::default() } else { self.deliver().await };
                    if destroy_log && let Some(log) = self.log.take() {
                        log.destroy();
                    }
                    let _ = done.send(report);
                    return;
                }
            }
        }
    }

    fn accept(&mut self, records: Vec<Record>) -> Result<(), PutError> {
        // Deliveries are failing and the buffer is well past its size: push back (nothing is lost).
        if self.retry_at.is_some() && self.buffered_bytes > self.cfg.size_bytes.saturating_mul(4).max(64 << 20) {
            return Err(PutError::Backpressure);
        }
        if let Some(log) = &mut self.log {
            log.append(&records).map_err(|e| PutError::Log(e.to_string()))?;
        }
        if self.oldest.is_none() {
            self.oldest = Some(Instant::now());
        }
        self.buffered_bytes += records.iter().map(|r| r.data.len()).sum::<usize>();
        self.buffer.extend(records);
        Ok(())
    }

    /// Delivers the whole buffer (on a blocking thread); failed records return to the buffer.
    async fn deliver(&mut self) -> FlushReport {
        if self.buffer.is_empty() {
            return FlushReport { error: self.last_error.clone(), ..Default::default() };
        }
        let records = std::mem::take(&mut self.buffer);
        self.buffered_bytes = 0;
        self.oldest = None;
        let mut segments = std::mem::take(&mut self.segments);
        if let Some(log) = &mut self.log {
            match log.rotate() {
                Ok(_) => self.segments = vec![log.current()],
                Err(e) => {
                    tracing::warn!(stream = %self.cfg.stream_name, error = %e, "could not rotate the record log");
                    self.segments = segments.clone();
                }
            }
        }
        let (cfg, s3) = (self.cfg.clone(), self.settings.s3.clone());
        let outcome = match tokio::task::spawn_blocking(move || deliver::deliver(&cfg, &s3, records)).await {
            Ok(o) => o,
            Err(e) => Outcome { error: Some(format!("delivery task failed: {e}")), ..Default::default() },
        };
        let pending = outcome.undelivered.len();
        if outcome.undelivered.is_empty() {
            if let Some(log) = &self.log {
                log.remove(&segments);
            }
            self.failures = 0;
            self.retry_at = None;
            self.last_error = None;
        } else {
            // Keep the failed records (and the segments that hold them) ahead of newer ones.
            self.failures += 1;
            let backoff = Duration::from_millis(500u64.saturating_mul(1 << self.failures.min(4))).min(Duration::from_secs(5));
            self.retry_at = Some(Instant::now() + backoff);
            self.last_error = outcome.error.clone();
            tracing::warn!(stream = %self.cfg.stream_name, records = pending, error = ?outcome.error, "delivery failed; will retry");
            let mut undelivered = outcome.undelivered;
            self.buffered_bytes += undelivered.iter().map(|r| r.data.len()).sum::<usize>();
            undelivered.append(&mut self.buffer);
            self.buffer = undelivered;
            self.oldest = Some(Instant::now());
            segments.append(&mut self.segments);
            self.segments = segments;
        }
        FlushReport { objects: outcome.objects, error_objects: outcome.error_objects, pending_records: pending, error: outcome.error }
    }
}
