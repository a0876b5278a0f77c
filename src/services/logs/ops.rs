//! CloudWatch Logs' state and operations: log groups, streams and events in memory, with the
//! paging tokens and error codes of the AWS API.

use std::collections::BTreeMap;

use http::StatusCode;
use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::engine::lambda::LogLine;
use crate::protocol::AwsError;
use crate::protocol::time::now_millis;

/// Logs' errors, mapped to AWS codes in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsError {
    ResourceNotFound(String),
    ResourceAlreadyExists(String),
    InvalidParameter(String),
}

impl LogsError {
    /// The AWS error for this failure.
    pub fn to_aws(&self) -> AwsError {
        match self {
            LogsError::ResourceNotFound(m) => AwsError::new(StatusCode::BAD_REQUEST, "ResourceNotFoundException", m.clone()),
            LogsError::ResourceAlreadyExists(m) => AwsError::new(StatusCode::BAD_REQUEST, "ResourceAlreadyExistsException", m.clone()),
            LogsError::InvalidParameter(m) => AwsError::new(StatusCode::BAD_REQUEST, "InvalidParameterException", m.clone()),
        }
    }
}

/// One stored event.
#[derive(Debug, Clone)]
pub struct Event {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
}

#[derive(Default)]
struct Stream {
    created: i64,
    events: Vec<Event>,
}

#[derive(Default)]
struct Group {
    created: i64,
    /// PutRetentionPolicy's days (shown by DescribeLogGroups; events are in memory only, so
    /// none outlives the process anyway).
    retention: Option<i64>,
    streams: BTreeMap<String, Stream>,
}

/// The Logs service.
pub struct Logs {
    region: String,
    groups: Mutex<BTreeMap<String, Group>>,
}

fn group_missing() -> LogsError {
    LogsError::ResourceNotFound("The specified log group does not exist.".into())
}

fn stream_missing() -> LogsError {
    LogsError::ResourceNotFound("The specified log stream does not exist.".into())
}

/// A filter pattern, as CloudWatch Logs reads unstructured events: every plain term (or quoted
/// phrase) must appear, `-term` must not, and if there are `?term`s at least one must appear.
/// Empty matches all.
fn matches(pattern: &str, message: &str) -> bool {
    let mut terms = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            terms.push(&r[..end]);
            rest = r.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            terms.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
    }
    let (mut any, mut any_matched) = (false, false);
    for t in terms {
        if let Some(t) = t.strip_prefix('?') {
            any = true;
            any_matched |= message.contains(t.trim_matches('"'));
        } else if let Some(t) = t.strip_prefix('-').filter(|t| !t.is_empty()) {
            if message.contains(t.trim_matches('"')) {
                return false;
            }
        } else if !message.contains(t) {
            return false;
        }
    }
    !any || any_matched
}

fn parse_token(token: Option<&str>, prefix: char) -> Option<usize> {
    token?.strip_prefix(prefix)?.strip_prefix('/')?.parse().ok()
}

impl Logs {
    /// An empty store.
    pub fn new(region: &str) -> Logs {
        Logs { region: region.to_string(), groups: Mutex::new(BTreeMap::new()) }
    }

    fn group_arn(&self, g: &str) -> String {
        format!("arn:aws:logs:{}:000000000000:log-group:{g}", self.region)
    }

    /// Appends lines (creating the group and stream as Lambda does).
    /// Whether a log group, and a stream in it, exist.
    pub fn exists(&self, group: &str, stream: &str) -> (bool, bool) {
        let groups = self.groups.lock();
        let g = groups.get(group);
        (g.is_some(), g.is_some_and(|g| g.streams.contains_key(stream)))
    }

    /// The accesses writing to `group`/`stream` takes, as Lambda makes them: CreateLogGroup if the
    /// group is missing, CreateLogStream if the stream is, then PutLogEvents.
    pub fn write_access(&self, group: &str, stream: &str) -> Vec<crate::services::iam::authz::Access> {
        use crate::services::iam::authz::Access;
        let account = crate::services::iam::ops::ACCOUNT;
        let group_arn = format!("arn:aws:logs:{}:{account}:log-group:{group}", self.region);
        let (has_group, has_stream) = self.exists(group, stream);
        let mut out = Vec::new();
        if !has_group {
            out.push(Access::new("logs:CreateLogGroup", format!("{group_arn}:log-stream:")));
        }
        if !has_stream {
            out.push(Access::new("logs:CreateLogStream", format!("{group_arn}:log-stream:{stream}")));
        }
        out.push(Access::new("logs:PutLogEvents", format!("{group_arn}:log-stream:{stream}")));
        out
    }

    pub fn ingest(&self, lines: Vec<LogLine>) {
        let now = now_millis();
        let mut groups = self.groups.lock();
        for l in lines {
            let g = groups.entry(l.group).or_insert_with(|| Group { created: now, ..Default::default() });
            let s = g.streams.entry(l.stream).or_insert_with(|| Stream { created: now, ..Default::default() });
            s.events.push(Event { timestamp: l.timestamp_ms, ingestion_time: now, message: l.message });
        }
    }

    /// CreateLogGroup.
    pub fn create_log_group(&self, name: &str) -> Result<(), LogsError> {
        if name.is_empty() || name.len() > 512 {
            return Err(LogsError::InvalidParameter("logGroupName must be 1 to 512 characters".into()));
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b)) {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
            )));
        }
        let mut groups = self.groups.lock();
        if groups.contains_key(name) {
            return Err(LogsError::ResourceAlreadyExists("The specified log group already exists".into()));
        }
        groups.insert(name.to_string(), Group { created: now_millis(), ..Default::default() });
        Ok(())
    }

    /// PutRetentionPolicy (`None`: DeleteRetentionPolicy).
    pub fn set_retention(&self, group: &str, days: Option<i64>) -> Result<(), LogsError> {
        const DAYS: &[i64] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
        if let Some(d) = days
            && !DAYS.contains(&d)
        {
            return Err(LogsError::InvalidParameter(format!("1 validation error detected: Value '{d}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {DAYS:?}")));
        }
        self.groups.lock().get_mut(group).map(|g| g.retention = days).ok_or_else(group_missing)
    }

    /// DeleteLogGroup.
    pub fn delete_log_group(&self, name: &str) -> Result<(), LogsError> {
        self.groups.lock().remove(name).map(|_| ()).ok_or_else(group_missing)
    }

    /// CreateLogStream.
    pub fn create_log_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        let mut groups = self.groups.lock();
        let g = groups.get_mut(group).ok_or_else(group_missing)?;
        if g.streams.contains_key(stream) {
            return Err(LogsError::ResourceAlreadyExists("The specified log stream already exists".into()));
        }
        g.streams.insert(stream.to_string(), Stream { created: now_millis(), ..Default::default() });
        Ok(())
    }

    /// PutLogEvents.
    pub fn put_log_events(&self, group: &str, stream: &str, events: Vec<(i64, String)>) -> Result<(), LogsError> {
        let now = now_millis();
        let mut groups = self.groups.lock();
        let s = groups.get_mut(group).ok_or_else(group_missing)?.streams.get_mut(stream).ok_or_else(stream_missing)?;
        s.events.extend(events.into_iter().map(|(timestamp, message)| Event { timestamp, ingestion_time: now, message }));
        Ok(())
    }

    /// DescribeLogGroups.
    pub fn describe_log_groups(&self, prefix: Option<&str>, limit: usize, token: Option<&str>) -> Value {
        let groups = self.groups.lock();
        let skip = parse_token(token, 'g').unwrap_or(0);
        let all: Vec<Value> = groups
            .iter()
            .filter(|(n, _)| prefix.is_none_or(|p| n.starts_with(p)))
            .map(|(n, g)| {
                let bytes: usize = g.streams.values().flat_map(|s| s.events.iter()).map(|e| e.message.len()).sum();
                let mut v = json!({ "logGroupName": n, "creationTime": g.created, "metricFilterCount": 0, "arn": format!("{}:*", self.group_arn(n)), "logGroupArn": self.group_arn(n), "storedBytes": bytes });
                if let Some(d) = g.retention {
                    v["retentionInDays"] = json!(d);
                }
                v
            })
            .collect();
        page(all, skip, limit, "logGroups", 'g')
    }

    /// DescribeLogStreams.
    pub fn describe_log_streams(&self, group: &str, prefix: Option<&str>, by_time: bool, descending: bool, limit: usize, token: Option<&str>) -> Result<Value, LogsError> {
        if by_time && prefix.is_some() {
            return Err(LogsError::InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.".into()));
        }
        let groups = self.groups.lock();
        let g = groups.get(group).ok_or_else(group_missing)?;
        let mut all: Vec<(i64, Value)> = g
            .streams
            .iter()
            .filter(|(n, _)| prefix.is_none_or(|p| n.starts_with(p)))
            .map(|(n, s)| {
                let mut v = json!({ "logStreamName": n, "creationTime": s.created, "arn": format!("{}:log-stream:{n}", self.group_arn(group)), "storedBytes": 0 });
                if let (Some(first), Some(last)) = (s.events.first(), s.events.last()) {
                    v["firstEventTimestamp"] = first.timestamp.into();
                    v["lastEventTimestamp"] = last.timestamp.into();
                    v["lastIngestionTime"] = last.ingestion_time.into();
                }
                (s.events.last().map_or(s.created, |e| e.timestamp), v)
            })
            .collect();
        if by_time {
            all.sort_by_key(|(t, _)| *t);
        }
        if descending {
            all.reverse();
        }
        Ok(page(all.into_iter().map(|(_, v)| v).collect(), parse_token(token, 's').unwrap_or(0), limit, "logStreams", 's'))
    }

    /// GetLogEvents: the newest `limit` events by default, the oldest with `start_from_head`.
    pub fn get_log_events(&self, group: &str, stream: &str, range: (Option<i64>, Option<i64>), limit: usize, from_head: bool, token: Option<&str>) -> Result<Value, LogsError> {
        let groups = self.groups.lock();
        let s = groups.get(group).ok_or_else(group_missing)?.streams.get(stream).ok_or_else(stream_missing)?;
        let events: Vec<&Event> = s.events.iter().filter(|e| range.0.is_none_or(|t| e.timestamp >= t) && range.1.is_none_or(|t| e.timestamp < t)).collect();
        let n = events.len();
        let (start, end) = match (parse_token(token, 'f'), parse_token(token, 'b')) {
            (Some(f), _) => (f.min(n), (f + limit).min(n)),
            (_, Some(b)) => (b.min(n).saturating_sub(limit), b.min(n)),
            _ if from_head => (0, limit.min(n)),
            _ => (n.saturating_sub(limit), n),
        };
        let out: Vec<Value> = events[start..end].iter().map(|e| json!({ "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time })).collect();
        Ok(json!({ "events": out, "nextForwardToken": format!("f/{end}"), "nextBackwardToken": format!("b/{start}") }))
    }

    /// FilterLogEvents across a group's streams, in time order.
    pub fn filter_log_events(&self, group: &str, streams: Option<&[String]>, pattern: &str, range: (Option<i64>, Option<i64>), limit: usize, token: Option<&str>) -> Result<Value, LogsError> {
        let groups = self.groups.lock();
        let g = groups.get(group).ok_or_else(group_missing)?;
        let mut all: Vec<(i64, usize, Value)> = Vec::new();
        for (name, s) in &g.streams {
            if streams.is_some_and(|l| !l.iter().any(|x| x == name)) {
                continue;
            }
            for (i, e) in s.events.iter().enumerate() {
                if range.0.is_some_and(|t| e.timestamp < t) || range.1.is_some_and(|t| e.timestamp >= t) || !matches(pattern, &e.message) {
                    continue;
                }
                all.push((e.timestamp, all.len(), json!({ "logStreamName": name, "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time, "eventId": format!("{:020}{:010}", e.timestamp, i) })));
            }
        }
        all.sort_by_key(|(t, i, _)| (*t, *i));
        let mut out = page(all.into_iter().map(|(_, _, v)| v).collect(), parse_token(token, 'e').unwrap_or(0), limit, "events", 'e');
        out["searchedLogStreams"] = json!([]);
        Ok(out)
    }
}

fn page(all: Vec<Value>, skip: usize, limit: usize, field: &str, kind: char) -> Value {
    let end = (skip + limit).min(all.len());
    let mut out = json!({ field: all.get(skip.min(all.len())..end).unwrap_or_default() });
    if end < all.len() {
        out["nextToken"] = format!("{kind}/{end}").into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR", "an ERROR here"));
        assert!(matches("\"Task timed out\" abc", "abc: Task timed out after 1.00 seconds"));
        assert!(!matches("ERROR WARN", "an ERROR here"));
        assert!(matches("?ERROR ?WARN", "a WARN here"));
        assert!(!matches("?ERROR ?WARN", "all fine"));
        assert!(matches("received -b", "received a"));
        assert!(!matches("received -b", "received b"));
    }

    #[test]
    fn events_page_forward_and_back() -> Result<(), LogsError> {
        let logs = Logs::new("us-east-1");
        logs.ingest((0..5).map(|i| LogLine { role: "r".into(), group: "g".into(), stream: "s".into(), timestamp_ms: i, message: format!("m{i}") }).collect());
        let last = logs.get_log_events("g", "s", (None, None), 2, false, None)?;
        assert_eq!(last["events"][1]["message"], "m4");
        let first = logs.get_log_events("g", "s", (None, None), 2, true, None)?;
        assert_eq!(first["events"][0]["message"], "m0");
        let next = logs.get_log_events("g", "s", (None, None), 2, true, first["nextForwardToken"].as_str())?;
        assert_eq!(next["events"][0]["message"], "m2");
        assert_eq!(logs.get_log_events("nope", "s", (None, None), 2, true, None).err(), Some(group_missing()));
        Ok(())
    }
}
