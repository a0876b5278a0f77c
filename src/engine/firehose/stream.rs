//! One delivery stream's owner task: the only code that touches its buffer and its log. Callers
//! talk to it through a [`StreamHandle`] (a bounded channel, so a stream that cannot keep up
//! pushes back on PutRecord instead of growing without bound).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::deliver::{self, DeliveryError, Outcome};
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

/// What a stream's task shows the console: its buffer and its latest deliveries.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct StreamStats {
    pub buffered_records: usize,
    pub buffered_bytes: usize,
    pub delivered_records: u64,
    /// The last ten deliveries, newest last.
    pub deliveries: std::collections::VecDeque<DeliverySummary>,
    pub last_error: Option<String>,
}

/// One delivery: when, how many records, the objects written, or why it failed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DeliverySummary {
    pub at_ms: i64,
    pub records: usize,
    pub objects: Vec<String>,
    pub error: Option<String>,
}

/// Why a put was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum PutError {
    /// The stream's task is gone (the stream is being deleted).
    Gone,
    /// The durable log could not be written.
    Log(String),
}

enum Command {
    Put(Vec<Record>, oneshot::Sender<Result<usize, PutError>>),
    Flush(oneshot::Sender<FlushReport>),
    Reconfigure(Arc<DeliveryConfig>, oneshot::Sender<FlushReport>),
    Stop { destroy_log: bool, done: oneshot::Sender<FlushReport> },
    Hold { buffer: oneshot::Sender<Vec<Record>>, release: oneshot::Receiver<()> },
}

/// A handle on a stream's task.
#[derive(Clone)]
pub struct StreamHandle {
    tx: mpsc::Sender<Command>,
    stats: Arc<parking_lot::Mutex<StreamStats>>,
}

impl StreamHandle {
    /// The stream's buffer and latest deliveries, now.
    pub fn stats(&self) -> StreamStats {
        self.stats.lock().clone()
    }

    /// Offers records; returns how many (a prefix of them) were accepted and are safe (logged
    /// first when persistent). Fewer than all only while deliveries keep failing and the buffer
    /// is at its bound: the rest are refused, never dropped after acceptance.
    pub async fn put(&self, records: Vec<Record>) -> Result<usize, PutError> {
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

    /// Pauses the stream for a snapshot: the delivery in flight completes, then the task hands
    /// over a copy of its buffer and neither delivers nor accepts anything until the returned
    /// sender is used or dropped (a minute at most). `None` when the stream is gone.
    pub async fn hold(&self) -> Option<(Vec<Record>, oneshot::Sender<()>)> {
        let (buffer, rx) = oneshot::channel();
        let (release, wait) = oneshot::channel();
        self.tx.send(Command::Hold { buffer, release: wait }).await.ok()?;
        Some((rx.await.ok()?, release))
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
    /// Runs Lambda processors (data transformation).
    pub lambda: Option<Arc<crate::services::lambda::Lambda>>,
    /// Caps every stream's buffer interval (`--firehose-max-interval`).
    pub max_interval: Option<Duration>,
    /// IAM when `--enforce-iam` is on: deliveries act as the stream's RoleARN.
    pub iam: Option<Arc<crate::services::iam::Iam>>,
    /// CloudWatch Logs, for streams with CloudWatchLoggingOptions.
    pub logs: Option<Arc<crate::services::logs::Logs>>,
    /// Injected faults: deliveries obey the request rules for S3 PutObject and Lambda Invoke.
    pub faults: Arc<crate::faults::Faults>,
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
    stats: Arc<parking_lot::Mutex<StreamStats>>,
}

/// A delivery running on a blocking thread while the task keeps accepting records.
struct Inflight {
    handle: tokio::task::JoinHandle<Outcome>,
    /// How many records it carries.
    records: usize,
    /// Log segments holding the records being delivered.
    segments: Vec<u64>,
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
    let stats = Arc::new(parking_lot::Mutex::new(StreamStats { buffered_records: buffer.len(), buffered_bytes, ..Default::default() }));
    let task = Task { cfg, settings, buffer, buffered_bytes, oldest, log, segments, retry_at: None, failures: 0, last_error: None, stats: stats.clone() };
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(task.run(rx));
    Ok(StreamHandle { tx, stats })
}

/// Merges a later report into an earlier one.
fn merge(mut a: FlushReport, b: FlushReport) -> FlushReport {
    a.objects.extend(b.objects);
    a.error_objects.extend(b.error_objects);
    a.pending_records = b.pending_records;
    a.error = b.error.or(a.error);
    a
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

    /// While deliveries fail, the buffer may hold this much before new records are refused.
    fn bound(&self) -> usize {
        self.cfg.size_bytes.saturating_mul(4)
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut inflight: Option<Inflight> = None;
        loop {
            let due = if inflight.is_none() { self.due() } else { None };
            tokio::select! {
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else {
                        // Every handle is gone: deliver what is left and end.
                        self.flush(&mut inflight).await;
                        return;
                    };
                    match cmd {
                        Command::Put(records, ack) => {
                            // A full buffer waits for the delivery in flight, then starts its own:
                            // memory stays within about twice the buffer size.
                            if self.buffered_bytes >= self.cfg.size_bytes && self.retry_at.is_none() {
                                if inflight.is_some() {
                                    self.finish(&mut inflight).await;
                                }
                                if self.retry_at.is_none() {
                                    inflight = self.start();
                                }
                            }
                            let _ = ack.send(self.accept(records));
                            if self.buffered_bytes >= self.cfg.size_bytes && self.retry_at.is_none() && inflight.is_none() {
                                inflight = self.start();
                            }
                        }
                        Command::Flush(done) => {
                            let _ = done.send(self.flush(&mut inflight).await);
                        }
                        Command::Reconfigure(cfg, done) => {
                            let report = self.flush(&mut inflight).await;
                            self.cfg = cfg;
                            let _ = done.send(report);
                        }
                        Command::Hold { buffer, release } => {
                            self.finish(&mut inflight).await;
                            if buffer.send(self.buffer.clone()).is_ok() {
                                let _ = tokio::time::timeout(Duration::from_secs(60), release).await;
                            }
                        }
                        Command::Stop { destroy_log, done } => {
                            let report = if destroy_log {
                                self.finish(&mut inflight).await;
                                FlushReport::default()
                            } else {
                                self.flush(&mut inflight).await
                            };
                            if destroy_log && let Some(log) = self.log.take() {
                                log.destroy();
                            }
                            let _ = done.send(report);
                            return;
                        }
                    }
                }
                _ = async { match due { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending::<()>().await } } => {
                    inflight = self.start();
                }
                result = async { match inflight.as_mut() { Some(i) => (&mut i.handle).await, None => std::future::pending().await } } => {
                    if let Some(done) = inflight.take() {
                        let report = self.complete(done.segments, result);
                        self.record(done.records, &report);
                    }
                }
            }
        }
    }

    /// Accepts records (logging them first); returns how many were taken.
    fn accept(&mut self, mut records: Vec<Record>) -> Result<usize, PutError> {
        if self.retry_at.is_some() {
            // Deliveries are failing: take only what fits under the bound (nothing is lost).
            let mut room = self.bound().saturating_sub(self.buffered_bytes);
            let fits = records.iter().take_while(|r| {
                let ok = r.data.len() <= room;
                room = room.saturating_sub(r.data.len());
                ok
            });
            let n = fits.count();
            records.truncate(n);
        }
        if records.is_empty() {
            return Ok(0);
        }
        if let Some(log) = &mut self.log {
            log.append(&records).map_err(|e| PutError::Log(e.to_string()))?;
        }
        if self.oldest.is_none() {
            self.oldest = Some(Instant::now());
        }
        self.buffered_bytes += records.iter().map(|r| r.data.len()).sum::<usize>();
        let n = records.len();
        self.buffer.extend(records);
        self.publish();
        Ok(n)
    }

    /// Starts delivering the buffer on a blocking thread (new records go to a fresh buffer and
    /// log segment meanwhile).
    fn start(&mut self) -> Option<Inflight> {
        if self.buffer.is_empty() {
            return None;
        }
        let records = std::mem::take(&mut self.buffer);
        let count = records.len();
        self.buffered_bytes = 0;
        self.publish();
        self.oldest = None;
        self.retry_at = None;
        let segments = std::mem::take(&mut self.segments);
        if let Some(log) = &mut self.log {
            match log.rotate() {
                Ok(_) => self.segments = vec![log.current()],
                Err(e) => {
                    // Keep appending to the same segment; it stays until everything in it is delivered.
                    tracing::warn!(stream = %self.cfg.stream_name, error = %e, "could not rotate the record log");
                    self.segments = segments.clone();
                }
            }
        }
        let (cfg, settings) = (self.cfg.clone(), self.settings.clone());
        let handle = tokio::task::spawn_blocking(move || deliver::deliver(&cfg, &settings, records));
        Some(Inflight { handle, records: count, segments })
    }

    /// Waits for the delivery in flight and books its outcome: delivered segments are deleted;
    /// failed records go back to the front of the buffer for a retry.
    async fn finish(&mut self, inflight: &mut Option<Inflight>) -> FlushReport {
        let Some(Inflight { handle, records, segments }) = inflight.take() else {
            return FlushReport { pending_records: self.buffer.len(), error: self.last_error.clone(), ..Default::default() };
        };
        let result = handle.await;
        let report = self.complete(segments, result);
        self.record(records, &report);
        report
    }

    /// Logs a failed delivery as Firehose does when CloudWatchLoggingOptions is enabled: one
    /// JSON event in the configured group and stream, which must exist (as on AWS, nothing is
    /// logged otherwise).
    fn log_error(&self, error: Option<&DeliveryError>) {
        let (Some(logs), Some((group, stream)), Some(error)) = (&self.settings.logs, &self.cfg.error_log, error) else { return };
        let mut event = deliver::stream_fields(&self.cfg);
        event.insert("message".into(), error.message.clone().into());
        event.insert("errorCode".into(), error.code.as_deref().unwrap_or("InternalError").into());
        let _ = logs.put_log_events(group, stream, vec![(crate::protocol::time::now_millis(), serde_json::Value::Object(event).to_string())]);
    }

    /// Shows the buffer as it is now.
    fn publish(&self) {
        let mut st = self.stats.lock();
        st.buffered_records = self.buffer.len();
        st.buffered_bytes = self.buffered_bytes;
    }

    /// Adds a finished delivery to the stats.
    fn record(&self, records: usize, report: &FlushReport) {
        let mut st = self.stats.lock();
        st.buffered_records = self.buffer.len();
        st.buffered_bytes = self.buffered_bytes;
        st.delivered_records += records.saturating_sub(report.pending_records) as u64;
        st.last_error = self.last_error.clone();
        st.deliveries.push_back(DeliverySummary { at_ms: crate::protocol::time::now_millis(), records, objects: report.objects.clone(), error: report.error.clone() });
        while st.deliveries.len() > 10 {
            st.deliveries.pop_front();
        }
    }

    /// Books a finished delivery's outcome.
    fn complete(&mut self, mut segments: Vec<u64>, result: Result<Outcome, tokio::task::JoinError>) -> FlushReport {
        let outcome = match result {
            Ok(o) => o,
            Err(e) => Outcome { error: Some(DeliveryError::internal(format!("delivery task failed: {e}"))), ..Default::default() },
        };
        let pending = outcome.undelivered.len();
        if outcome.undelivered.is_empty() {
            if let Some(log) = &self.log {
                log.remove(&segments.into_iter().filter(|s| !self.segments.contains(s)).collect::<Vec<_>>());
            }
            self.failures = 0;
            self.last_error = None;
        } else {
            self.failures += 1;
            let backoff = Duration::from_millis(500u64.saturating_mul(1 << self.failures.min(4))).min(Duration::from_secs(5));
            self.retry_at = Some(Instant::now() + backoff);
            self.last_error = outcome.error.as_ref().map(DeliveryError::to_string);
            self.log_error(outcome.error.as_ref());
            tracing::warn!(stream = %self.cfg.stream_name, records = pending, error = ?self.last_error, "delivery failed; will retry");
            let mut undelivered = outcome.undelivered;
            self.buffered_bytes += undelivered.iter().map(|r| r.data.len()).sum::<usize>();
            undelivered.append(&mut self.buffer);
            self.buffer = undelivered;
            self.oldest = Some(Instant::now());
            segments.append(&mut self.segments);
            segments.sort_unstable();
            segments.dedup();
            self.segments = segments;
        }
        FlushReport {
            objects: outcome.objects,
            error_objects: outcome.error_objects,
            pending_records: pending,
            error: outcome.error.map(|e| e.to_string()),
        }
    }

    /// Delivers everything now: the delivery in flight, then the buffer.
    async fn flush(&mut self, inflight: &mut Option<Inflight>) -> FlushReport {
        let first = self.finish(inflight).await;
        *inflight = self.start();
        let second = self.finish(inflight).await;
        let mut report = merge(first, second);
        report.pending_records = self.buffer.len();
        report
    }
}
