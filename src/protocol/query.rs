//! The awsQuery protocol (IAM, STS, CloudFormation): form-encoded `Action=...&Param=...` input
//! with `.member.N` lists, and `<ActionResponse><ActionResult>...` XML output.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::StatusCode;

use super::xml::XmlWriter;
use super::{AwsRequest, HttpResponse, parse_query, response};

/// A request's parameters: the query string, then a form body.
pub fn params(req: &AwsRequest) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = req.query.iter().cloned().collect();
    if let Ok(body) = std::str::from_utf8(&req.body) {
        out.extend(parse_query(body));
    }
    out
}

/// `Prefix.member.1`, `Prefix.member.2`, ... in order.
pub fn members(params: &BTreeMap<String, String>, prefix: &str) -> Vec<String> {
    (1..).map_while(|i| params.get(&format!("{prefix}.member.{i}")).cloned()).collect()
}

/// `Prefix.member.N.Key` / `.Value` pairs (tags).
pub fn key_values(params: &BTreeMap<String, String>, prefix: &str) -> Vec<(String, String)> {
    (1..)
        .map_while(|i| {
            let k = params.get(&format!("{prefix}.member.{i}.Key"))?;
            Some((k.clone(), params.get(&format!("{prefix}.member.{i}.Value")).cloned().unwrap_or_default()))
        })
        .collect()
}

/// `<{action}Response xmlns=ns><{action}Result>…</{action}Result><ResponseMetadata>…`.
pub fn ok(action: &str, ns: &str, request_id: &str, result: impl FnOnce(&mut XmlWriter)) -> HttpResponse {
    let mut w = XmlWriter::new();
    w.open_ns(&format!("{action}Response"), ns);
    w.open(&format!("{action}Result"));
    result(&mut w);
    w.close(&format!("{action}Result"));
    w.open("ResponseMetadata").elem("RequestId", request_id).close("ResponseMetadata");
    w.close(&format!("{action}Response"));
    response(StatusCode::OK, vec![("content-type", "text/xml".into()), ("x-amzn-requestid", request_id.to_string())], Bytes::from(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_lists() {
        let p: BTreeMap<String, String> =
            [("A.member.1", "x"), ("A.member.2", "y"), ("T.member.1.Key", "k"), ("T.member.1.Value", "v")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(members(&p, "A"), vec!["x", "y"]);
        assert_eq!(key_values(&p, "T"), vec![("k".to_string(), "v".to_string())]);
        assert!(members(&p, "B").is_empty());
    }
}
