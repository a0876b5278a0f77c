//! Event notifications: PutBucketNotificationConfiguration checked as S3 checks it, and, on each
//! object event a configuration matches, the Lambda function invoked asynchronously with S3's
//! event document. The configurations are cached by bucket, so a PUT on a bucket without any
//! costs one map lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::RwLock;
use serde_json::json;

use crate::protocol::xml::{Element, XmlWriter};

use super::error::{S3Error, S3Result};
use super::store::Store;

/// The event types S3 accepts in a notification configuration (botocore's `Event` enum).
pub const EVENTS: &[&str] = &[
    "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:ObjectRestore:Delete", "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAnnotation:*", "s3:ObjectAnnotation:Put",
    "s3:ObjectAnnotation:Delete", "s3:ObjectRetention:Put",
];

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// One Lambda destination of a bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub id: String,
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

impl Target {
    /// Whether this destination wants `event` (`ObjectCreated:Put`) for `key`.
    fn wants(&self, event: &str, key: &str) -> bool {
        let family = event.split(':').next().unwrap_or_default();
        self.events.iter().any(|e| {
            let e = e.strip_prefix("s3:").unwrap_or(e);
            e == event || e.strip_suffix(":*") == Some(family)
        }) && self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.suffix.as_deref().is_none_or(|s| key.ends_with(s))
    }
}

/// Checks that a function exists and lets S3 invoke it for this bucket: `Err` says why not.
pub type DestinationCheck = Arc<dyn Fn(&str, &str) -> Result<(), String> + Send + Sync>;
/// Invokes a function asynchronously (InvocationType `Event`) with a payload.
pub type Invoker = Arc<dyn Fn(&str, Bytes) + Send + Sync>;

/// What S3 needs of Lambda, set once the Lambda service exists.
pub struct Hooks {
    pub check: DestinationCheck,
    pub invoke: Invoker,
}

/// One object event, as it happened.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`...
    pub name: &'static str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// Size and ETag, for the events that create an object.
    pub size: Option<u64>,
    pub etag: Option<&'a str>,
    /// The version created or removed, in a versioned bucket.
    pub version_id: Option<&'a str>,
}

/// The notification configurations of every bucket, and the hooks into Lambda.
#[derive(Default)]
pub struct Notifications {
    targets: RwLock<HashMap<String, Arc<Vec<Target>>>>,
    hooks: OnceLock<Hooks>,
    sequencer: AtomicU64,
}

impl Notifications {
    /// Loads the stored configurations.
    pub fn load(store: &Store) -> S3Result<Notifications> {
        let n = Notifications::default();
        for (bucket, doc) in store.configs("notification")? {
            if let Ok(el) = crate::protocol::xml::parse(doc.as_bytes())
                && let Ok(t) = parse(&el)
            {
                n.targets.write().insert(bucket, Arc::new(t));
            }
        }
        Ok(n)
    }

    /// Connects S3 to Lambda (once).
    pub fn set_hooks(&self, hooks: Hooks) {
        let _ = self.hooks.set(hooks);
    }

    /// Checks each destination (unless `skip`), as PutBucketNotificationConfiguration does.
    pub fn check_destinations(&self, bucket: &str, targets: &[Target]) -> S3Result<()> {
        let Some(hooks) = self.hooks.get() else { return Ok(()) };
        let failures: Vec<(String, String)> = targets.iter().filter_map(|t| (hooks.check)(&t.function_arn, bucket).err().map(|why| (t.function_arn.clone(), why))).collect();
        if failures.is_empty() { Ok(()) } else { Err(S3Error::DestinationValidation(failures)) }
    }

    /// Replaces a bucket's destinations (none: removed).
    pub fn set(&self, bucket: &str, targets: Vec<Target>) {
        let mut map = self.targets.write();
        if targets.is_empty() {
            map.remove(bucket);
        } else {
            map.insert(bucket.to_string(), Arc::new(targets));
        }
    }

    /// Sends `event` to every destination of its bucket that wants it.
    pub fn emit(&self, region: &str, event: Event<'_>) {
        let targets = {
            let map = self.targets.read();
            if map.is_empty() {
                return;
            }
            match map.get(event.bucket) {
                Some(t) => t.clone(),
                None => return,
            }
        };
        let Some(hooks) = self.hooks.get() else { return };
        for t in targets.iter().filter(|t| t.wants(event.name, event.key)) {
            let sequencer = format!("{:016X}", (crate::protocol::time::now_millis() as u64) << 16 | (self.sequencer.fetch_add(1, Ordering::Relaxed) & 0xFFFF));
            let payload = event_json(region, &event, &t.id, &sequencer);
            (hooks.invoke)(&t.function_arn, Bytes::from(payload.to_string()));
        }
    }
}

/// S3's event document (`Records[]`, event version 2.1), as a function receives it.
pub fn event_json(region: &str, e: &Event<'_>, configuration_id: &str, sequencer: &str) -> serde_json::Value {
    let mut object = json!({ "key": encode_key(e.key), "sequencer": sequencer });
    if let Some(size) = e.size {
        object["size"] = json!(size);
    }
    if let Some(etag) = e.etag {
        object["eTag"] = json!(etag);
    }
    if let Some(v) = e.version_id {
        object["versionId"] = json!(v);
    }
    json!({ "Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": crate::protocol::time::iso8601_millis(crate::protocol::time::now_millis()),
        "eventName": e.name,
        "userIdentity": { "principalId": "AWS:000000000000" },
        "requestParameters": { "sourceIPAddress": "127.0.0.1" },
        "responseElements": { "x-amz-request-id": uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase(), "x-amz-id-2": "firelocal" },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": { "name": e.bucket, "ownerIdentity": { "principalId": "000000000000" }, "arn": format!("arn:aws:s3:::{}", e.bucket) },
            "object": object,
        },
    }]})
}

/// Keys in events are URL-encoded as S3 encodes them there: spaces become `+`.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn invalid(m: impl Into<String>) -> S3Error {
    S3Error::InvalidArgument(m.into())
}

/// Parses and checks a `<NotificationConfiguration>`: Lambda destinations only (SQS, SNS and
/// EventBridge are refused, naming them), known events, prefix/suffix rules, no overlap. Ids
/// are generated where missing.
pub fn parse(doc: &Element) -> S3Result<Vec<Target>> {
    if doc.name != "NotificationConfiguration" {
        return Err(S3Error::MalformedXml(format!("expected <NotificationConfiguration>, found <{}>", doc.name)));
    }
    for (element, what) in [("QueueConfiguration", "SQS queues"), ("TopicConfiguration", "SNS topics"), ("EventBridgeConfiguration", "EventBridge")] {
        if doc.child(element).is_some() {
            return Err(S3Error::NotImplemented(format!(
                "event notifications to {what} ({element}): firelocal does not run that service; use a LambdaFunctionConfiguration"
            )));
        }
    }
    let mut out: Vec<Target> = Vec::new();
    for c in doc.children_named("CloudFunctionConfiguration") {
        let function_arn = c.child_text("CloudFunction").map(str::trim).filter(|a| !a.is_empty()).ok_or_else(|| invalid("A LambdaFunctionArn is required"))?;
        let events: Vec<String> = c.children_named("Event").map(|e| e.text.trim().to_string()).collect();
        if events.is_empty() {
            return Err(invalid("At least one event is required"));
        }
        if let Some(e) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(invalid(format!("The event is not supported for notifications: {e}")));
        }
        let (mut prefix, mut suffix) = (None, None);
        for rule in c.child("Filter").and_then(|f| f.child("S3Key")).map(|k| k.children_named("FilterRule").collect::<Vec<_>>()).unwrap_or_default() {
            let value = rule.child_text("Value").unwrap_or_default().to_string();
            let slot = match rule.child_text("Name").map(|n| n.trim().to_ascii_lowercase()).as_deref() {
                Some("prefix") => &mut prefix,
                Some("suffix") => &mut suffix,
                _ => return Err(invalid("filter rule name must be either prefix or suffix")),
            };
            if slot.is_some() {
                return Err(invalid("Cannot specify more than one prefix or suffix rule in a filter."));
            }
            *slot = Some(value);
        }
        let id = c.child_text("Id").map(str::to_string).filter(|i| !i.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let t = Target { id, function_arn: function_arn.to_string(), events, prefix, suffix };
        if out.iter().any(|o| overlaps(o, &t)) {
            return Err(invalid("Configurations overlap. Configurations on the same bucket cannot share a common event type."));
        }
        out.push(t);
    }
    Ok(out)
}

/// Two destinations overlap when they share an event type and a key could match both filters.
fn overlaps(a: &Target, b: &Target) -> bool {
    let family = |e: &str| e.trim_start_matches("s3:").split(':').next().unwrap_or_default().to_string();
    let shares = a.events.iter().any(|x| b.events.iter().any(|y| x == y || ((x.ends_with(":*") || y.ends_with(":*")) && family(x) == family(y))));
    let related = |x: &Option<String>, y: &Option<String>, f: fn(&str, &str) -> bool| match (x, y) {
        (Some(x), Some(y)) => f(x, y) || f(y, x),
        _ => true,
    };
    shares && related(&a.prefix, &b.prefix, |x, y| x.starts_with(y)) && related(&a.suffix, &b.suffix, |x, y| x.ends_with(y))
}

/// The configuration document for these destinations, as GetBucketNotificationConfiguration
/// returns it.
pub fn render(targets: &[Target]) -> String {
    let mut w = XmlWriter::new();
    if targets.is_empty() {
        w.empty_ns("NotificationConfiguration", NS);
        return w.finish();
    }
    w.open_ns("NotificationConfiguration", NS);
    for t in targets {
        w.open("CloudFunctionConfiguration").elem("Id", &t.id).elem("CloudFunction", &t.function_arn);
        for e in &t.events {
            w.elem("Event", e);
        }
        if t.prefix.is_some() || t.suffix.is_some() {
            w.open("Filter").open("S3Key");
            for (name, v) in [("Prefix", &t.prefix), ("Suffix", &t.suffix)] {
                if let Some(v) = v {
                    w.open("FilterRule").elem("Name", name).elem("Value", v).close("FilterRule");
                }
            }
            w.close("S3Key").close("Filter");
        }
        w.close("CloudFunctionConfiguration");
    }
    w.close("NotificationConfiguration");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> Target {
        Target { id: "t".into(), function_arn: "f".into(), events: events.iter().map(|e| e.to_string()).collect(), prefix: prefix.map(Into::into), suffix: suffix.map(Into::into) }
    }

    #[test]
    fn matching_and_overlap() {
        let t = target(&["s3:ObjectCreated:*"], Some("raw/"), Some(".json"));
        assert!(t.wants("ObjectCreated:Put", "raw/a.json"));
        assert!(t.wants("ObjectCreated:CompleteMultipartUpload", "raw/a.json"));
        assert!(!t.wants("ObjectRemoved:Delete", "raw/a.json"));
        assert!(!t.wants("ObjectCreated:Put", "summary/a.json"));
        assert!(overlaps(&t, &target(&["s3:ObjectCreated:Put"], Some("raw/2024/"), None)));
        assert!(!overlaps(&t, &target(&["s3:ObjectCreated:Put"], Some("summary/"), None)));
        assert!(!overlaps(&t, &target(&["s3:ObjectRemoved:*"], Some("raw/"), None)));
        assert!(!overlaps(&t, &target(&["s3:ObjectCreated:*"], Some("raw/"), Some(".csv"))));
    }

    #[test]
    fn keys_are_encoded_as_in_s3_events() {
        assert_eq!(encode_key("raw/2024/a b+c.json"), "raw/2024/a+b%2Bc.json");
        assert_eq!(encode_key("é"), "%C3%A9");
    }
}
