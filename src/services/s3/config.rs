//! Bucket configurations (`?cors`, `?lifecycle`, `?tagging`, `?encryption`...): which ones S3 has,
//! the XML each takes, how each is checked, and what a Get answers when none was set. The
//! documents are stored as parsed and written back normalised, with S3's namespace.

use crate::protocol::xml::{Element, XmlWriter};

use super::error::{S3Error, S3Result};

/// A bucket configuration kind: its sub-resource and what a Get answers when it was never set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The query sub-resource (`cors`).
    pub sub: &'static str,
    /// The document's root element.
    pub root: &'static str,
    /// The operation names for GET, PUT and DELETE (DELETE `None`: S3 has no such call).
    pub ops: [Option<&'static str>; 3],
    /// The IAM actions for GET, PUT and DELETE.
    pub actions: [&'static str; 3],
    /// What a Get answers when nothing is stored.
    pub unset: Unset,
    /// Whether a bucket starts with this document (S3's defaults since 2023).
    pub initial: Option<&'static str>,
}

/// What a Get of a configuration that is not set answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unset {
    /// This error code and message (404).
    Error(&'static str, &'static str),
    /// This document (S3's default).
    Default(&'static str),
}

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Every bucket configuration firelocal stores.
pub const KINDS: &[Kind] = &[
    Kind {
        sub: "cors",
        root: "CORSConfiguration",
        ops: [Some("GetBucketCors"), Some("PutBucketCors"), Some("DeleteBucketCors")],
        actions: ["s3:GetBucketCORS", "s3:PutBucketCORS", "s3:PutBucketCORS"],
        unset: Unset::Error("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
        initial: None,
    },
    Kind {
        sub: "lifecycle",
        root: "LifecycleConfiguration",
        ops: [Some("GetBucketLifecycleConfiguration"), Some("PutBucketLifecycleConfiguration"), Some("DeleteBucketLifecycle")],
        actions: ["s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:PutLifecycleConfiguration"],
        unset: Unset::Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
        initial: None,
    },
    Kind {
        sub: "tagging",
        root: "Tagging",
        ops: [Some("GetBucketTagging"), Some("PutBucketTagging"), Some("DeleteBucketTagging")],
        actions: ["s3:GetBucketTagging", "s3:PutBucketTagging", "s3:PutBucketTagging"],
        unset: Unset::Error("NoSuchTagSet", "The TagSet does not exist"),
        initial: None,
    },
    Kind {
        sub: "encryption",
        root: "ServerSideEncryptionConfiguration",
        ops: [Some("GetBucketEncryption"), Some("PutBucketEncryption"), Some("DeleteBucketEncryption")],
        actions: ["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:PutEncryptionConfiguration"],
        // Every bucket has SSE-S3 by default (since January 2023); deleting resets to it.
        unset: Unset::Default(
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
        ),
        initial: None,
    },
    Kind {
        sub: "publicAccessBlock",
        root: "PublicAccessBlockConfiguration",
        ops: [Some("GetPublicAccessBlock"), Some("PutPublicAccessBlock"), Some("DeletePublicAccessBlock")],
        actions: ["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"],
        unset: Unset::Error("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
        // New buckets block public access (since April 2023).
        initial: Some(
            "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>",
        ),
    },
    Kind {
        sub: "ownershipControls",
        root: "OwnershipControls",
        ops: [Some("GetBucketOwnershipControls"), Some("PutBucketOwnershipControls"), Some("DeleteBucketOwnershipControls")],
        actions: ["s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"],
        unset: Unset::Error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
        // New buckets have ACLs disabled (since April 2023).
        initial: Some("<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>"),
    },
    Kind {
        sub: "website",
        root: "WebsiteConfiguration",
        ops: [Some("GetBucketWebsite"), Some("PutBucketWebsite"), Some("DeleteBucketWebsite")],
        actions: ["s3:GetBucketWebsite", "s3:PutBucketWebsite", "s3:DeleteBucketWebsite"],
        unset: Unset::Error("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
        initial: None,
    },
    Kind {
        sub: "accelerate",
        root: "AccelerateConfiguration",
        ops: [Some("GetBucketAccelerateConfiguration"), Some("PutBucketAccelerateConfiguration"), None],
        actions: ["s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration", ""],
        unset: Unset::Default("<AccelerateConfiguration/>"),
        initial: None,
    },
    Kind {
        sub: "requestPayment",
        root: "RequestPaymentConfiguration",
        ops: [Some("GetBucketRequestPayment"), Some("PutBucketRequestPayment"), None],
        actions: ["s3:GetBucketRequestPayment", "s3:PutBucketRequestPayment", ""],
        unset: Unset::Default("<RequestPaymentConfiguration><Payer>BucketOwner</Payer></RequestPaymentConfiguration>"),
        initial: None,
    },
    Kind {
        sub: "logging",
        root: "BucketLoggingStatus",
        ops: [Some("GetBucketLogging"), Some("PutBucketLogging"), None],
        actions: ["s3:GetBucketLogging", "s3:PutBucketLogging", ""],
        unset: Unset::Default("<BucketLoggingStatus/>"),
        initial: None,
    },
    Kind {
        sub: "versioning",
        root: "VersioningConfiguration",
        ops: [Some("GetBucketVersioning"), Some("PutBucketVersioning"), None],
        actions: ["s3:GetBucketVersioning", "s3:PutBucketVersioning", ""],
        unset: Unset::Default("<VersioningConfiguration/>"),
        initial: None,
    },
];

/// The configuration a bucket-level request names by its sub-resource, if any.
pub fn kind_of(has_query: impl Fn(&str) -> bool) -> Option<&'static Kind> {
    KINDS.iter().find(|k| has_query(k.sub))
}

/// Writes a parsed document back as XML, S3's namespace on the root.
pub fn render(doc: &Element) -> String {
    doc.to_document(NS)
}

fn malformed(why: impl Into<String>) -> S3Error {
    S3Error::MalformedXml(why.into())
}

fn one_of(value: Option<&str>, allowed: &[&str], what: &str) -> S3Result<()> {
    match value {
        Some(v) if allowed.contains(&v.trim()) => Ok(()),
        Some(v) => Err(malformed(format!("{what} must be one of {}, not {v:?}", allowed.join(", ")))),
        None => Err(malformed(format!("{what} is required"))),
    }
}

fn boolean(el: &Element, name: &str) -> S3Result<()> {
    match el.child_text(name).map(str::trim) {
        None | Some("true" | "false") => Ok(()),
        Some(v) => Err(malformed(format!("{name} must be true or false, not {v:?}"))),
    }
}

/// Checks a configuration document as S3 does before storing it.
pub fn validate(kind: &Kind, doc: &Element) -> S3Result<()> {
    if doc.name != kind.root {
        return Err(malformed(format!("expected <{}>, found <{}>", kind.root, doc.name)));
    }
    match kind.sub {
        "cors" => validate_cors(doc),
        "lifecycle" => super::lifecycle::Rule::parse_all(doc).map(|_| ()),
        "tagging" => tags(doc, 50).map(|_| ()),
        "encryption" => {
            let rules: Vec<_> = doc.children_named("Rule").collect();
            if rules.is_empty() {
                return Err(malformed("a Rule is required"));
            }
            for r in rules {
                let by_default = r.child("ApplyServerSideEncryptionByDefault").ok_or_else(|| malformed("ApplyServerSideEncryptionByDefault is required"))?;
                one_of(by_default.child_text("SSEAlgorithm"), &["AES256", "aws:kms", "aws:kms:dsse"], "SSEAlgorithm")?;
                if by_default.child_text("SSEAlgorithm").map(str::trim) == Some("AES256") && by_default.child("KMSMasterKeyID").is_some() {
                    return Err(S3Error::InvalidArgument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse".into()));
                }
                boolean(r, "BucketKeyEnabled")?;
            }
            Ok(())
        }
        "publicAccessBlock" => ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].iter().try_for_each(|n| boolean(doc, n)),
        "ownershipControls" => {
            let rule = doc.child("Rule").ok_or_else(|| malformed("a Rule is required"))?;
            one_of(rule.child_text("ObjectOwnership"), &["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"], "ObjectOwnership")
        }
        "website" => {
            if doc.child("RedirectAllRequestsTo").is_some() {
                if doc.child("IndexDocument").is_some() || doc.child("RoutingRules").is_some() {
                    return Err(S3Error::InvalidArgument("RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.".into()));
                }
                return Ok(());
            }
            let suffix = doc.child("IndexDocument").and_then(|i| i.child_text("Suffix")).unwrap_or_default();
            if suffix.is_empty() || suffix.contains('/') {
                return Err(S3Error::InvalidArgument("The IndexDocument Suffix is not well formed".into()));
            }
            Ok(())
        }
        "accelerate" => one_of(doc.child_text("Status"), &["Enabled", "Suspended"], "Status"),
        "requestPayment" => one_of(doc.child_text("Payer"), &["Requester", "BucketOwner"], "Payer"),
        "versioning" => {
            if doc.child_text("MfaDelete").is_some_and(|m| m.trim() == "Enabled") {
                return Err(S3Error::NotImplemented("MFA delete (MfaDelete=Enabled needs an MFA device, which firelocal does not have)".into()));
            }
            match doc.child_text("Status").map(str::trim) {
                None | Some("Suspended" | "Enabled") => Ok(()),
                Some(v) => Err(malformed(format!("Status must be Enabled or Suspended, not {v:?}"))),
            }
        }
        _ => Ok(()),
    }
}

fn validate_cors(doc: &Element) -> S3Result<()> {
    let rules: Vec<_> = doc.children_named("CORSRule").collect();
    if rules.is_empty() || rules.len() > 100 {
        return Err(malformed("a CORS configuration has 1 to 100 CORSRule elements"));
    }
    for r in rules {
        let methods: Vec<&str> = r.children_named("AllowedMethod").map(|m| m.text.trim()).collect();
        if methods.is_empty() || r.child("AllowedOrigin").is_none() {
            return Err(malformed("each CORSRule needs an AllowedMethod and an AllowedOrigin"));
        }
        if let Some(m) = methods.iter().find(|m| !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(m)) {
            return Err(S3Error::InvalidRequest(format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}")));
        }
        for o in r.children_named("AllowedOrigin") {
            if o.text.matches('*').count() > 1 {
                return Err(S3Error::InvalidRequest(format!("AllowedOrigin \"{}\" can not have more than one wildcard.", o.text)));
            }
        }
        if let Some(age) = r.child_text("MaxAgeSeconds")
            && age.trim().parse::<u32>().is_err()
        {
            return Err(malformed(format!("MaxAgeSeconds must be a whole number, not {age:?}")));
        }
    }
    Ok(())
}

/// The tags of a `<Tagging><TagSet><Tag>` document, checked as S3 checks them: at most `max`,
/// keys 1 to 128 characters, values at most 256, no key twice, no `aws:` prefix.
pub fn tags(doc: &Element, max: usize) -> S3Result<Vec<(String, String)>> {
    let set = doc.child("TagSet").ok_or_else(|| malformed("TagSet is required"))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for t in set.children_named("Tag") {
        let key = t.child_text("Key").ok_or_else(|| malformed("each Tag needs a Key"))?.to_string();
        let value = t.child_text("Value").unwrap_or_default().to_string();
        out.push((key, value));
    }
    check_tags(&out, max)?;
    Ok(out)
}

/// S3's tag rules (see [`tags`]).
pub fn check_tags(tags: &[(String, String)], max: usize) -> S3Result<()> {
    if tags.len() > max {
        return Err(S3Error::InvalidTag(if max == 10 { "Object tags cannot be greater than 10".into() } else { format!("Bucket tag count cannot be greater than {max}") }));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(S3Error::InvalidTag("The TagKey you have provided is invalid".into()));
        }
        if v.chars().count() > 256 {
            return Err(S3Error::InvalidTag("The TagValue you have provided is invalid".into()));
        }
        if k.starts_with("aws:") {
            return Err(S3Error::InvalidTag("System tags cannot be added/updated by requester".into()));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(S3Error::InvalidTag("Cannot provide multiple Tags with the same key".into()));
        }
    }
    Ok(())
}

/// A `<Tagging>` document for these tags.
pub fn tagging_xml(tags: &[(String, String)]) -> String {
    let mut w = XmlWriter::new();
    w.open_ns("Tagging", NS).open("TagSet");
    for (k, v) in tags {
        w.open("Tag").elem("Key", k).elem("Value", v).close("Tag");
    }
    w.close("TagSet").close("Tagging");
    w.finish()
}

/// Parses `x-amz-tagging` (`k1=v1&k2=v2`, URL-encoded).
pub fn parse_tag_header(header: &str) -> S3Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in header.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| crate::protocol::percent_decode(&s.replace('+', " "));
        out.push((dec(k), dec(v)));
    }
    check_tags(&out, 10)?;
    Ok(out)
}

/// One CORS rule, as applied to requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorsRule {
    pub origins: Vec<String>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub max_age: Option<u32>,
}

/// The rules of a stored CORS document.
pub fn cors_rules(doc: &Element) -> Vec<CorsRule> {
    let texts = |r: &Element, n: &str| r.children_named(n).map(|e| e.text.trim().to_string()).collect::<Vec<_>>();
    doc.children_named("CORSRule")
        .map(|r| CorsRule {
            origins: texts(r, "AllowedOrigin"),
            methods: texts(r, "AllowedMethod"),
            headers: texts(r, "AllowedHeader"),
            expose: texts(r, "ExposeHeader"),
            max_age: r.child_text("MaxAgeSeconds").and_then(|a| a.trim().parse().ok()),
        })
        .collect()
}

/// Whether `value` matches `pattern`, which may hold one `*` (case-insensitive when `fold`).
pub fn wildcard(pattern: &str, value: &str, fold: bool) -> bool {
    let (p, v) = if fold { (pattern.to_ascii_lowercase(), value.to_ascii_lowercase()) } else { (pattern.to_string(), value.to_string()) };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail),
    }
}

impl CorsRule {
    /// Whether this rule allows `origin` to use `method` with these request headers.
    pub fn allows(&self, origin: &str, method: &str, headers: &[&str]) -> bool {
        self.origins.iter().any(|o| wildcard(o, origin, false))
            && self.methods.iter().any(|m| m == method)
            && headers.iter().all(|h| self.headers.iter().any(|a| wildcard(a, h, true)))
    }

    /// The `Access-Control-*` headers S3 sends when this rule matched.
    pub fn response_headers(&self, origin: &str, preflight_headers: Option<&str>) -> Vec<(&'static str, String)> {
        let any = self.origins.iter().any(|o| o == "*");
        let mut h = vec![("access-control-allow-origin", if any { "*".to_string() } else { origin.to_string() })];
        h.push(("access-control-allow-methods", self.methods.join(", ")));
        if let Some(req) = preflight_headers.filter(|r| !r.trim().is_empty()) {
            h.push(("access-control-allow-headers", req.to_string()));
        }
        if !self.expose.is_empty() {
            h.push(("access-control-expose-headers", self.expose.join(", ")));
        }
        if let Some(age) = self.max_age {
            h.push(("access-control-max-age", age.to_string()));
        }
        if !any {
            h.push(("access-control-allow-credentials", "true".into()));
        }
        h.push(("vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".into()));
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::parse;

    #[test]
    fn documents_round_trip_with_the_namespace() {
        let doc = parse(b"<Tagging><TagSet><Tag><Key>team</Key><Value>data &amp; ml</Value></Tag></TagSet></Tagging>").unwrap_or_default();
        let xml = render(&doc);
        assert!(xml.contains("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), "{xml}");
        assert_eq!(parse(xml.as_bytes()).ok(), Some(doc));
    }

    #[test]
    fn tag_rules() {
        let t = |n: usize| (0..n).map(|i| (format!("k{i}"), "v".to_string())).collect::<Vec<_>>();
        assert!(check_tags(&t(10), 10).is_ok());
        assert!(matches!(check_tags(&t(11), 10), Err(S3Error::InvalidTag(m)) if m.contains("greater than 10")));
        assert!(check_tags(&[("a".into(), "1".into()), ("a".into(), "2".into())], 10).is_err());
        assert!(check_tags(&[("aws:x".into(), "1".into())], 10).is_err());
        assert_eq!(parse_tag_header("a=1&b%20c=d+e").ok(), Some(vec![("a".into(), "1".into()), ("b c".into(), "d e".into())]));
    }

    #[test]
    fn cors_matching() {
        let r = CorsRule { origins: vec!["https://*.example.com".into()], methods: vec!["GET".into(), "PUT".into()], headers: vec!["x-amz-*".into(), "Content-Type".into()], ..Default::default() };
        assert!(r.allows("https://app.example.com", "PUT", &["content-type", "x-amz-date"]));
        assert!(!r.allows("https://example.org", "PUT", &[]));
        assert!(!r.allows("https://app.example.com", "DELETE", &[]));
        assert!(!r.allows("https://app.example.com", "GET", &["authorization"]));
    }

    #[test]
    fn checks_as_s3_does() {
        let cors = kind_of(|q| q == "cors").copied();
        let Some(cors) = cors else { panic!("cors is a kind") };
        let bad = parse(b"<CORSConfiguration><CORSRule><AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>").unwrap_or_default();
        assert!(matches!(validate(&cors, &bad), Err(S3Error::InvalidRequest(_))));
        let wrong_root = parse(b"<Tagging/>").unwrap_or_default();
        assert!(matches!(validate(&cors, &wrong_root), Err(S3Error::MalformedXml(_))));
    }
}
