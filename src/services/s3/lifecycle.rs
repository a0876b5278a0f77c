//! Lifecycle rules: parsed and checked on PutBucketLifecycleConfiguration, and applied by a
//! sweep (`serve --s3-lifecycle-interval`) that expires objects and aborts stale uploads as S3's
//! background process does.

use crate::protocol::time::parse_http_date;
use crate::protocol::xml::Element;

use super::error::{S3Error, S3Result};
use super::ops::S3;
use super::store::ObjectRow;

const DAY: i64 = 86_400;

/// Which objects a rule applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub prefix: String,
    pub tags: Vec<(String, String)>,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

/// One lifecycle rule, as far as firelocal applies it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    /// Expire objects this many days after creation (rounded up to the next midnight UTC).
    pub expiration_days: Option<i64>,
    /// Expire objects from this date (epoch seconds, a midnight UTC).
    pub expiration_date: Option<i64>,
    /// Abort multipart uploads this many days after they were initiated.
    pub abort_upload_days: Option<i64>,
    /// Remove noncurrent versions this many days after they became noncurrent...
    pub noncurrent_days: Option<i64>,
    /// ...except the newest this many of each key.
    pub newer_noncurrent_versions: usize,
    /// Remove a delete marker once it is the only version left of its key.
    pub expired_object_delete_marker: bool,
}

fn invalid(m: impl Into<String>) -> S3Error {
    S3Error::InvalidArgument(m.into())
}

fn days(el: &Element, what: &str) -> S3Result<i64> {
    match el.text.trim().parse::<i64>() {
        Ok(d) if d > 0 => Ok(d),
        _ => Err(invalid(format!("'Days' for {what} action must be a positive integer"))),
    }
}

fn tag(el: &Element) -> (String, String) {
    (el.child_text("Key").unwrap_or_default().to_string(), el.child_text("Value").unwrap_or_default().to_string())
}

fn size(el: Option<&Element>) -> S3Result<Option<u64>> {
    el.map(|e| e.text.trim().parse::<u64>().map_err(|_| invalid("ObjectSize filters must be whole numbers of bytes"))).transpose()
}

fn filter(rule: &Element) -> S3Result<Filter> {
    let Some(f) = rule.child("Filter") else {
        // The legacy form: a Prefix beside the rule's Status.
        return Ok(Filter { prefix: rule.child_text("Prefix").unwrap_or_default().to_string(), ..Default::default() });
    };
    let scope = f.child("And").unwrap_or(f);
    let out = Filter {
        prefix: scope.child_text("Prefix").unwrap_or_default().to_string(),
        tags: scope.children_named("Tag").map(tag).collect(),
        size_greater_than: size(scope.child("ObjectSizeGreaterThan"))?,
        size_less_than: size(scope.child("ObjectSizeLessThan"))?,
    };
    let conditions = f.children.len();
    if f.child("And").is_none() && conditions > 1 {
        return Err(S3Error::MalformedXml("a lifecycle Filter with more than one condition must wrap them in <And>".into()));
    }
    Ok(out)
}

impl Rule {
    /// Parses and checks every rule of a `<LifecycleConfiguration>`, as S3 checks them.
    pub fn parse_all(doc: &Element) -> S3Result<Vec<Rule>> {
        let rules: Vec<&Element> = doc.children_named("Rule").collect();
        if rules.is_empty() {
            return Err(S3Error::MalformedXml("a lifecycle configuration needs at least one Rule".into()));
        }
        if rules.len() > 1000 {
            return Err(invalid("A lifecycle configuration can have up to 1,000 rules"));
        }
        let mut out: Vec<Rule> = Vec::new();
        for r in rules {
            let id = r.child_text("ID").unwrap_or_default().to_string();
            if id.chars().count() > 255 {
                return Err(invalid("ID length should not exceed allowed limit of 255"));
            }
            if !id.is_empty() && out.iter().any(|o| o.id == id) {
                return Err(invalid("Rule ID must be unique. Found same ID for more than one rule"));
            }
            let enabled = match r.child_text("Status").map(str::trim) {
                Some("Enabled") => true,
                Some("Disabled") => false,
                _ => return Err(S3Error::MalformedXml("each Rule needs a Status of Enabled or Disabled".into())),
            };
            let actions = ["Expiration", "Transition", "NoncurrentVersionExpiration", "NoncurrentVersionTransition", "AbortIncompleteMultipartUpload"];
            if !r.children.iter().any(|c| actions.contains(&c.name.as_str())) {
                return Err(invalid("At least one action needs to be specified in a rule"));
            }
            let (mut expiration_days, mut expiration_date) = (None, None);
            if let Some(e) = r.child("Expiration") {
                let given = ["Days", "Date", "ExpiredObjectDeleteMarker"].iter().filter(|n| e.child(n).is_some()).count();
                if given != 1 {
                    return Err(S3Error::MalformedXml("an Expiration has exactly one of Days, Date or ExpiredObjectDeleteMarker".into()));
                }
                if let Some(d) = e.child("Days") {
                    expiration_days = Some(days(d, "Expiration")?);
                }
                if let Some(d) = e.child_text("Date") {
                    let secs = parse_http_date(d).ok_or_else(|| invalid(format!("Invalid date: {d}")))?;
                    if secs.rem_euclid(DAY) != 0 {
                        return Err(invalid("'Date' must be at midnight GMT"));
                    }
                    expiration_date = Some(secs);
                }
            }
            let (mut noncurrent_days, mut newer_noncurrent_versions) = (None, 0);
            if let Some(n) = r.child("NoncurrentVersionExpiration") {
                let d = n.child("NoncurrentDays").ok_or_else(|| S3Error::MalformedXml("a NoncurrentVersionExpiration needs NoncurrentDays".into()))?;
                noncurrent_days = Some(days(d, "NoncurrentVersionExpiration")?);
                if let Some(k) = n.child_text("NewerNoncurrentVersions") {
                    newer_noncurrent_versions = k.trim().parse::<usize>().ok().filter(|k| (1..=100).contains(k)).ok_or_else(|| invalid("NewerNoncurrentVersions must be between 1 and 100"))?;
                }
            }
            let expired_object_delete_marker =
                r.child("Expiration").and_then(|e| e.child_text("ExpiredObjectDeleteMarker")).is_some_and(|v| v.trim() == "true");
            let abort_upload_days = match r.child("AbortIncompleteMultipartUpload").and_then(|a| a.child("DaysAfterInitiation")) {
                Some(d) => Some(days(d, "AbortIncompleteMultipartUpload")?),
                None => None,
            };
            let filter = filter(r)?;
            if abort_upload_days.is_some() && !filter.tags.is_empty() {
                return Err(S3Error::InvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.".into()));
            }
            if r.child("Expiration").is_some_and(|e| e.child("ExpiredObjectDeleteMarker").is_some()) && !filter.tags.is_empty() {
                return Err(S3Error::InvalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.".into()));
            }
            out.push(Rule {
                id,
                enabled,
                filter,
                expiration_days,
                expiration_date,
                abort_upload_days,
                noncurrent_days,
                newer_noncurrent_versions,
                expired_object_delete_marker,
            });
        }
        Ok(out)
    }

    fn matches(&self, obj: &ObjectRow) -> bool {
        let f = &self.filter;
        obj.key.starts_with(&f.prefix)
            && f.tags.iter().all(|t| obj.meta.tags.contains(t))
            && f.size_greater_than.is_none_or(|n| obj.size > n)
            && f.size_less_than.is_none_or(|n| obj.size < n)
    }

    /// When `obj` expires under this rule (epoch seconds), if it does.
    pub fn expires_at(&self, obj: &ObjectRow) -> Option<i64> {
        if !self.enabled || !self.matches(obj) {
            return None;
        }
        let by_days = self.expiration_days.map(|d| next_midnight(obj.last_modified / 1000 + d * DAY));
        by_days.or(self.expiration_date)
    }
}

/// S3 rounds a lifecycle time up to the next midnight UTC.
fn next_midnight(secs: i64) -> i64 {
    if secs.rem_euclid(DAY) == 0 { secs } else { secs - secs.rem_euclid(DAY) + DAY }
}

/// Applies every bucket's enabled rules at `now` (epoch seconds): deletes expired objects and
/// aborts stale uploads. Returns how many objects and uploads it removed.
pub fn sweep(s3: &S3, now: i64) -> S3Result<(usize, usize)> {
    let (mut objects, mut uploads) = (0, 0);
    for (bucket, doc) in s3.store.configs("lifecycle")? {
        let Ok(doc) = crate::protocol::xml::parse(doc.as_bytes()) else { continue };
        let Ok(rules) = Rule::parse_all(&doc) else { continue };
        for rule in rules.iter().filter(|r| r.enabled) {
            if rule.expiration_days.is_some() || rule.expiration_date.is_some() {
                let mut after: Vec<u8> = Vec::new();
                loop {
                    let page = s3.store.list_objects(&bucket, &after, &rule.filter.prefix, 1000)?;
                    let Some(last) = page.last() else { break };
                    after = last.key.as_bytes().to_vec();
                    for obj in &page {
                        if rule.expires_at(obj).is_some_and(|t| t <= now) {
                            s3.delete_object(&bucket, &obj.key, None, "LifecycleExpiration:Delete")?;
                            objects += 1;
                        }
                    }
                }
            }
            if let Some(days) = rule.noncurrent_days {
                let mut key: Option<String> = None;
                let mut newer = 0;
                for (obj, since, seq) in s3.store.noncurrent_versions(&bucket, &rule.filter.prefix, now * 1000)? {
                    // Versions come newest first within a key: the first ones may be kept.
                    if key.as_deref() != Some(obj.key.as_str()) {
                        key = Some(obj.key.clone());
                        newer = 0;
                    }
                    newer += 1;
                    if newer <= rule.newer_noncurrent_versions || !rule.matches(&obj) || next_midnight(since / 1000 + days * DAY) > now {
                        continue;
                    }
                    if s3.store.remove_noncurrent(&bucket, &obj.key, seq, false)? {
                        s3.notify("LifecycleExpiration:Delete", &bucket, &obj.key, Some(&obj));
                        objects += 1;
                    }
                }
            }
            if rule.expired_object_delete_marker {
                for (key, seq) in s3.store.lone_delete_markers(&bucket, &rule.filter.prefix)? {
                    if s3.store.remove_noncurrent(&bucket, &key, seq, true)? {
                        s3.notify("LifecycleExpiration:Delete", &bucket, &key, None);
                        objects += 1;
                    }
                }
            }
            if let Some(d) = rule.abort_upload_days {
                for u in s3.store.list_uploads(&bucket, &rule.filter.prefix)? {
                    if next_midnight(u.initiated / 1000 + d * DAY) <= now {
                        super::ops::abort_multipart_upload(s3, &bucket, &u.key, &u.upload_id)?;
                        uploads += 1;
                    }
                }
            }
        }
    }
    Ok((objects, uploads))
}

/// Sweeps every `every` until the task is aborted.
pub async fn run(s3: std::sync::Arc<S3>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s3 = s3.clone();
        let now = crate::protocol::time::now_millis() / 1000;
        match tokio::task::spawn_blocking(move || sweep(&s3, now)).await {
            Ok(Ok((0, 0))) => {}
            Ok(Ok((objects, uploads))) => tracing::info!(objects, uploads, "S3 lifecycle: expired objects and aborted uploads"),
            Ok(Err(e)) => tracing::warn!(error = ?e, "S3 lifecycle sweep failed"),
            Err(e) => tracing::warn!(error = %e, "S3 lifecycle sweep panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::parse;

    fn rules(xml: &str) -> S3Result<Vec<Rule>> {
        Rule::parse_all(&parse(xml.as_bytes()).map_err(S3Error::MalformedXml)?)
    }

    #[test]
    fn parses_and_checks_rules() -> S3Result<()> {
        let r = rules("<LifecycleConfiguration><Rule><ID>tmp</ID><Filter><And><Prefix>tmp/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>")?;
        assert_eq!(r[0].filter.prefix, "tmp/");
        assert_eq!(r[0].filter.tags, vec![("k".to_string(), "v".to_string())]);
        assert_eq!(r[0].expiration_days, Some(3));
        assert!(matches!(rules("<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/></Rule></LifecycleConfiguration>"), Err(S3Error::InvalidArgument(_))));
        assert!(matches!(rules("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>"), Err(S3Error::InvalidArgument(_))));
        assert!(matches!(rules("<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Date>2024-01-01T05:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>"), Err(S3Error::InvalidArgument(m)) if m.contains("midnight")));
        Ok(())
    }

    #[test]
    fn days_round_up_to_midnight() {
        assert_eq!(next_midnight(DAY * 10), DAY * 10);
        assert_eq!(next_midnight(DAY * 10 + 1), DAY * 11);
    }

    #[test]
    fn noncurrent_versions_and_lone_delete_markers_expire() -> S3Result<()> {
        use super::super::store::{Data, ObjectMeta, Store};
        let dir = tempfile::tempdir()?;
        let s3 = S3::new(Store::open(&crate::state::Root::new(dir.path(), false))?, "us-east-1")?;
        s3.store.create_bucket("b", "us-east-1", 0, &[])?;
        s3.set_config("b", "versioning", Some("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"))?;
        let put = |key: &str, at: i64| -> S3Result<Option<String>> {
            let mut r = ObjectRow {
                key: key.into(),
                size: 1,
                etag: "e".into(),
                last_modified: at * 1000,
                meta: ObjectMeta::default(),
                checksum: None,
                parts_count: None,
                data: Data::Inline(bytes::Bytes::from_static(b"x")),
                version_id: None,
            };
            s3.store.put_object("b", &mut r, |_| Ok(()))?;
            Ok(r.version_id)
        };
        // Three versions of `k` (two noncurrent from now), and `gone` with only a marker left.
        let now = crate::protocol::time::now_millis() / 1000;
        put("k", now)?;
        put("k", now)?;
        let newest = put("k", now)?;
        let gone = put("gone", now)?;
        s3.delete_object("b", "gone", None, "ObjectRemoved:Delete")?;
        s3.delete_object("b", "gone", gone.as_deref(), "ObjectRemoved:Delete")?;
        s3.set_config(
            "b",
            "lifecycle",
            Some("<LifecycleConfiguration><Rule><ID>r</ID><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>"),
        )?;
        let versions = |key: &str| -> S3Result<usize> { Ok(s3.store.list_versions("b", (b"", None), key, 100)?.len()) };
        assert_eq!(versions("k")?, 3);
        // Not yet two days after the versions became noncurrent.
        sweep(&s3, now + DAY)?;
        assert_eq!(versions("k")?, 3);
        assert_eq!(versions("gone")?, 0, "a lone delete marker goes at once");
        sweep(&s3, now + 4 * DAY)?;
        // The current version and the newest noncurrent one are kept.
        assert_eq!(versions("k")?, 2);
        assert_eq!(s3.store.object("b", "k")?.version_id, newest);
        Ok(())
    }
}
