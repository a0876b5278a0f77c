//! `AWS::S3::Bucket`'s configuration properties (Tags, CorsConfiguration, LifecycleConfiguration,
//! NotificationConfiguration, BucketEncryption...) turned into the S3 sub-resource documents
//! (`?tagging`, `?cors`, ...) and applied through S3's own API, as CloudFormation applies them.

use http::Method;
use serde_json::Value;

use crate::protocol::url_encode;
use crate::protocol::xml::Element;

use super::super::api::Api;

/// Every bucket property firelocal applies, besides `BucketName`.
pub const PROPERTIES: &[&str] = &[
    "Tags", "BucketEncryption", "PublicAccessBlockConfiguration", "OwnershipControls", "CorsConfiguration", "LifecycleConfiguration",
    "NotificationConfiguration", "VersioningConfiguration", "WebsiteConfiguration", "AccelerateConfiguration", "LoggingConfiguration",
];

const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `<name>value</name>` for each listed property present in `v` (renamed `(cfn, s3)`).
fn leaves(v: &Value, names: &[(&str, &str)]) -> Vec<Element> {
    names.iter().filter_map(|(cfn, s3)| v.get(*cfn).map(|x| Element::leaf(s3, text(x)))).collect()
}

/// `<name>item</name>` for each item of a list property.
fn each(v: &Value, cfn: &str, s3: &str) -> Vec<Element> {
    v.get(cfn).and_then(Value::as_array).map(|a| a.iter().map(|x| Element::leaf(s3, text(x))).collect()).unwrap_or_default()
}

fn items(v: &Value, key: &str) -> Vec<Value> {
    v.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn tag(t: &Value) -> Element {
    Element::node("Tag", leaves(t, &[("Key", "Key"), ("Value", "Value")]))
}

/// The S3 document (sub-resource, root element) for one bucket property.
fn document(property: &str, v: &Value) -> Option<(&'static str, Element)> {
    let doc = match property {
        "Tags" => ("tagging", Element::node("Tagging", vec![Element::node("TagSet", v.as_array()?.iter().map(tag).collect())])),
        "BucketEncryption" => {
            let rules = items(v, "ServerSideEncryptionConfiguration")
                .iter()
                .map(|r| {
                    let by_default = r.get("ServerSideEncryptionByDefault").map(|d| leaves(d, &[("SSEAlgorithm", "SSEAlgorithm"), ("KMSMasterKeyID", "KMSMasterKeyID")])).unwrap_or_default();
                    let mut rule = vec![Element::node("ApplyServerSideEncryptionByDefault", by_default)];
                    rule.extend(leaves(r, &[("BucketKeyEnabled", "BucketKeyEnabled")]));
                    Element::node("Rule", rule)
                })
                .collect();
            ("encryption", Element::node("ServerSideEncryptionConfiguration", rules))
        }
        "PublicAccessBlockConfiguration" => {
            let names = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].map(|n| (n, n));
            ("publicAccessBlock", Element::node("PublicAccessBlockConfiguration", leaves(v, &names)))
        }
        "OwnershipControls" => {
            let rules = items(v, "Rules").iter().map(|r| Element::node("Rule", leaves(r, &[("ObjectOwnership", "ObjectOwnership")]))).collect();
            ("ownershipControls", Element::node("OwnershipControls", rules))
        }
        "CorsConfiguration" => {
            let rules = items(v, "CorsRules")
                .iter()
                .map(|r| {
                    let mut c = leaves(r, &[("Id", "ID")]);
                    c.extend(each(r, "AllowedHeaders", "AllowedHeader"));
                    c.extend(each(r, "AllowedMethods", "AllowedMethod"));
                    c.extend(each(r, "AllowedOrigins", "AllowedOrigin"));
                    c.extend(each(r, "ExposedHeaders", "ExposeHeader"));
                    c.extend(leaves(r, &[("MaxAge", "MaxAgeSeconds")]));
                    Element::node("CORSRule", c)
                })
                .collect();
            ("cors", Element::node("CORSConfiguration", rules))
        }
        "LifecycleConfiguration" => ("lifecycle", Element::node("LifecycleConfiguration", items(v, "Rules").iter().map(lifecycle_rule).collect())),
        "NotificationConfiguration" => {
            let mut out: Vec<Element> = items(v, "LambdaConfigurations")
                .iter()
                .map(|c| {
                    let mut e = vec![Element::leaf("CloudFunction", c.get("Function").map(text).unwrap_or_default()), Element::leaf("Event", c.get("Event").map(text).unwrap_or_default())];
                    let rules: Vec<Element> = c
                        .pointer("/Filter/S3Key/Rules")
                        .and_then(Value::as_array)
                        .map(|rs| rs.iter().map(|r| Element::node("FilterRule", leaves(r, &[("Name", "Name"), ("Value", "Value")]))).collect())
                        .unwrap_or_default();
                    if !rules.is_empty() {
                        e.push(Element::node("Filter", vec![Element::node("S3Key", rules)]));
                    }
                    Element::node("CloudFunctionConfiguration", e)
                })
                .collect();
            // Destinations firelocal does not run go through, so S3 refuses them by name.
            for (cfn, s3, arn) in [("QueueConfigurations", "QueueConfiguration", "Queue"), ("TopicConfigurations", "TopicConfiguration", "Topic")] {
                for c in items(v, cfn) {
                    out.push(Element::node(s3, vec![Element::leaf(arn, c.get(arn).map(text).unwrap_or_default()), Element::leaf("Event", c.get("Event").map(text).unwrap_or_default())]));
                }
            }
            if v.get("EventBridgeConfiguration").is_some() {
                out.push(Element::node("EventBridgeConfiguration", vec![]));
            }
            ("notification", Element::node("NotificationConfiguration", out))
        }
        "VersioningConfiguration" => ("versioning", Element::node("VersioningConfiguration", leaves(v, &[("Status", "Status")]))),
        "WebsiteConfiguration" => {
            let mut e = Vec::new();
            if let Some(i) = v.get("IndexDocument") {
                e.push(Element::node("IndexDocument", vec![Element::leaf("Suffix", text(i))]));
            }
            if let Some(d) = v.get("ErrorDocument") {
                e.push(Element::node("ErrorDocument", vec![Element::leaf("Key", text(d))]));
            }
            if let Some(r) = v.get("RedirectAllRequestsTo") {
                e.push(Element::node("RedirectAllRequestsTo", leaves(r, &[("HostName", "HostName"), ("Protocol", "Protocol")])));
            }
            ("website", Element::node("WebsiteConfiguration", e))
        }
        "AccelerateConfiguration" => ("accelerate", Element::node("AccelerateConfiguration", leaves(v, &[("AccelerationStatus", "Status")]))),
        "LoggingConfiguration" => {
            let enabled = leaves(v, &[("DestinationBucketName", "TargetBucket"), ("LogFilePrefix", "TargetPrefix")]);
            ("logging", Element::node("BucketLoggingStatus", vec![Element::node("LoggingEnabled", enabled)]))
        }
        _ => return None,
    };
    Some(doc)
}

fn lifecycle_rule(r: &Value) -> Element {
    let mut conditions: Vec<Element> = leaves(r, &[("Prefix", "Prefix")]);
    conditions.extend(items(r, "TagFilters").iter().map(tag));
    conditions.extend(leaves(r, &[("ObjectSizeGreaterThan", "ObjectSizeGreaterThan"), ("ObjectSizeLessThan", "ObjectSizeLessThan")]));
    let filter = if conditions.len() > 1 { vec![Element::node("And", conditions)] } else { conditions };
    let mut e = leaves(r, &[("Id", "ID")]);
    e.push(Element::node("Filter", filter));
    e.extend(leaves(r, &[("Status", "Status")]));
    let expiration = leaves(r, &[("ExpirationInDays", "Days"), ("ExpirationDate", "Date")]);
    if !expiration.is_empty() {
        e.push(Element::node("Expiration", expiration));
    }
    for t in items(r, "Transitions") {
        e.push(Element::node("Transition", leaves(&t, &[("TransitionInDays", "Days"), ("TransitionDate", "Date"), ("StorageClass", "StorageClass")])));
    }
    if let Some(a) = r.get("AbortIncompleteMultipartUpload") {
        e.push(Element::node("AbortIncompleteMultipartUpload", leaves(a, &[("DaysAfterInitiation", "DaysAfterInitiation")])));
    }
    Element::node("Rule", e)
}

/// Applies the configuration properties that differ between `old` and `new` to `bucket`: a
/// changed one is PUT, a removed one DELETEd (or reset, for those S3 cannot delete).
pub async fn apply(api: &Api, bucket: &str, old: &Value, new: &Value) -> Result<(), String> {
    let path = format!("/{}", url_encode(bucket));
    for property in PROPERTIES {
        let (before, after) = (old.get(*property), new.get(*property));
        if before == after {
            continue;
        }
        let result = match after.and_then(|v| document(property, v)) {
            Some((sub, doc)) => api.s3(Method::PUT, &path, &[(sub, "")], bytes::Bytes::from(doc.to_document(NS))).await,
            None => match before.and_then(|v| document(property, v)) {
                Some((sub @ ("versioning" | "accelerate" | "logging"), _)) => {
                    let reset = match sub {
                        "versioning" => Element::node("VersioningConfiguration", vec![Element::leaf("Status", "Suspended")]),
                        "accelerate" => Element::node("AccelerateConfiguration", vec![Element::leaf("Status", "Suspended")]),
                        _ => Element::node("BucketLoggingStatus", vec![]),
                    };
                    api.s3(Method::PUT, &path, &[(sub, "")], bytes::Bytes::from(reset.to_document(NS))).await
                }
                Some(("notification", _)) => api.s3(Method::PUT, &path, &[("notification", "")], bytes::Bytes::from(Element::node("NotificationConfiguration", vec![]).to_document(NS))).await,
                Some((sub, _)) => api.s3(Method::DELETE, &path, &[(sub, "")], bytes::Bytes::new()).await,
                None => continue,
            },
        };
        result.map_err(|f| format!("{property}: {f}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloudformation_shapes_become_s3_documents() {
        let (sub, doc) = document("CorsConfiguration", &json!({"CorsRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAge": 60}]})).unwrap_or(("", Element::default()));
        assert_eq!(sub, "cors");
        let xml = doc.to_document(NS);
        assert!(xml.contains("<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>"), "{xml}");
        let (_, doc) = document("LifecycleConfiguration", &json!({"Rules": [{"Id": "tmp", "Status": "Enabled", "Prefix": "tmp/", "TagFilters": [{"Key": "k", "Value": "v"}], "ExpirationInDays": 3}]}))
            .unwrap_or(("", Element::default()));
        let xml = doc.to_document(NS);
        assert!(xml.contains("<Filter><And><Prefix>tmp/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>"), "{xml}");
        let (_, doc) = document("NotificationConfiguration", &json!({"LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": "arn:f", "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "raw/"}]}}}]}))
            .unwrap_or(("", Element::default()));
        assert!(doc.to_document(NS).contains("<CloudFunctionConfiguration><CloudFunction>arn:f</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>"));
    }
}
