//! Entry points for the cargo-fuzz targets in `fuzz/` and for the `fuzz_regressions` test, which
//! replays every input the fuzzers found on stable: one function per target, each feeding
//! arbitrary bytes to the same code the server runs on a client's bytes. Each must return
//! (whatever the input) without panicking, hanging or allocating without bound.
//!
//! Several targets take a request in a small text form, `METHOD TARGET` on the first line,
//! `Name: value` header lines, an empty line, then the body, which goes through
//! [`crate::server::aws_request`] as a real request does. Services with state get a fresh,
//! in-memory store per input, so every crash reproduces from its input alone.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::FutureExt;
use serde_json::Value;

use crate::protocol::{self, AwsRequest, aws_chunked, sigv4};
use crate::server::router::{self, Route, ServiceId};
use crate::services::s3::{self, S3};
use crate::state::Root;

/// A fixed "now" (2024-01-02T03:04:05Z), so presigned-URL and skew checks do not depend on the clock.
const NOW: i64 = 1_704_164_645;

/// Splits a fuzz input into a request: `METHOD TARGET`, header lines, an empty line, the body.
/// `None` when the head is not a request hyper would accept.
pub fn request(data: &[u8]) -> Option<AwsRequest> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    let (method, target) = match first.iter().position(|b| *b == b' ') {
        Some(i) => (&first[..i], &first[i + 1..]),
        None => (first, &b"/"[..]),
    };
    let mut builder = http::Request::builder().method(http::Method::from_bytes(method).ok()?).uri(http::Uri::try_from(target).ok()?);
    for line in lines {
        let Some(i) = line.iter().position(|b| *b == b':') else { continue };
        let name = http::HeaderName::from_bytes(line[..i].trim_ascii()).ok()?;
        let value = http::HeaderValue::from_bytes(line[i + 1..].trim_ascii()).ok()?;
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    Some(crate::server::aws_request(parts, Bytes::copy_from_slice(body), "fuzz".into(), Some(std::net::Ipv4Addr::LOCALHOST.into())))
}

/// The data directory the fuzzed services share (blob files, logs); one per process.
fn data_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("firelocal-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    })
    .clone()
}

/// An ephemeral state root (in-memory SQLite).
fn root() -> Arc<Root> {
    Root::new(&data_dir(), false)
}

/// A fresh S3 with the bucket `fuzz` and the object `fuzz/key`, set up through the wire layer.
fn s3_fixture() -> Option<S3> {
    let store = s3::store::Store::open(&root()).ok()?;
    let s3 = S3::new(store, "us-east-1").ok()?;
    for setup in [&b"PUT /fuzz\nhost: localhost\n\n"[..], b"PUT /fuzz/key\nhost: localhost\n\nhello"] {
        let req = request(setup)?;
        let _ = s3::wire::handle(&s3, &req);
    }
    Some(s3)
}

/// awsJson1_1 bodies: a request routed by `X-Amz-Target`, answered by Glue or CloudWatch Logs
/// (fresh in-memory stores), or for Firehose parsed as its input and, for
/// CreateDeliveryStream, validated as the service does (destination, prefixes, jq, processors)
/// without starting a stream. Every body is also read by the generic awsJson parser.
pub fn aws_json(data: &[u8]) {
    let Some(req) = request(data) else { return };
    let _ = protocol::json::parse::<Value>(&req.body);
    let target = req.header("x-amz-target").unwrap_or_default();
    match router::route(&req) {
        Route::Service(ServiceId::Glue) => {
            if let Ok(glue) = crate::services::glue::ops::Glue::open(&root(), "us-east-1") {
                let _ = crate::services::glue::wire::handle(&glue, &req);
            }
        }
        Route::Service(ServiceId::Logs) => {
            let logs = crate::services::logs::ops::Logs::new("us-east-1");
            let _ = crate::services::logs::wire::handle(&logs, &req).now_or_never();
        }
        Route::Service(ServiceId::Firehose) => {
            let _ = crate::services::firehose::wire::access(&req, "us-east-1");
            if target.ends_with(".CreateDeliveryStream") {
                firehose_create(&req.body);
            }
        }
        _ => {}
    }
}

/// CreateDeliveryStream's checks, up to the point where the stream would start.
fn firehose_create(body: &[u8]) {
    use crate::services::firehose::{model::DeliveryStream, ops};
    let Ok(input) = protocol::json::parse::<ops::CreateDeliveryStreamInput>(body) else { return };
    if ops::validate_name(&input.delivery_stream_name).is_err() {
        return;
    }
    let (destination, field) = match (input.extended_s3_destination_configuration, input.s3_destination_configuration) {
        (Some(d), _) => (d, "extendedS3DestinationConfiguration"),
        (None, Some(d)) => (d, "s3DestinationConfiguration"),
        (None, None) => return,
    };
    let stream = DeliveryStream {
        id: "fuzz".into(),
        arn: String::new(),
        name: input.delivery_stream_name,
        stream_type: "DirectPut".into(),
        version_id: 1,
        created_ms: 0,
        updated_ms: None,
        destination,
        source: input.direct_put_source_configuration,
        encryption: input.delivery_stream_encryption_configuration_input,
        tags: Vec::new(),
    };
    let _ = ops::delivery_config(&stream, field);
}

/// restXml bodies: the body (after a selector byte) sent as the XML document of one of S3's
/// XML-taking operations, through `s3::wire::handle`; also read by the XML tree reader alone.
pub fn rest_xml(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let _ = protocol::xml::parse(body);
    let mut targets: Vec<String> = s3::config::KINDS.iter().map(|k| format!("PUT /fuzz?{}", k.sub)).collect();
    targets.extend(
        [
            "PUT /fuzz?notification",
            "PUT /fuzz?acl",
            "PUT /fuzz?policy",
            "POST /fuzz?delete",
            "PUT /fuzz/key?tagging",
            "PUT /fuzz/key?acl",
            "PUT /other",
            "POST /fuzz/key?uploadId=fuzz",
            "POST /fuzz/key?restore",
        ]
        .map(String::from),
    );
    let target = &targets[selector as usize % targets.len()];
    let mut raw = format!("{target}\nhost: localhost\ncontent-type: application/xml\n\n").into_bytes();
    raw.extend_from_slice(body);
    let (Some(req), Some(s3)) = (request(&raw), s3_fixture()) else { return };
    let _ = s3::wire::handle(&s3, &req);
}

/// awsQuery forms: the request's form read by the awsQuery helpers, then answered by IAM or STS
/// (a fresh in-memory IAM) when the router sends it there.
pub fn aws_query(data: &[u8]) {
    let Some(req) = request(data) else { return };
    let params = protocol::query::params(&req);
    let _ = protocol::query::members(&params, "Tags.member");
    let _ = protocol::query::key_values(&params, "Attributes.entry");
    let _ = router::action(&req);
    match router::route(&req) {
        Route::Service(ServiceId::Iam) => {
            if let Ok(iam) = crate::services::iam::ops::Iam::open(&root()) {
                let _ = crate::services::iam::wire::handle(&iam, &req);
            }
        }
        Route::Service(ServiceId::Sts) => {
            if let Ok(iam) = crate::services::iam::ops::Iam::open(&root()) {
                let sts = crate::services::sts::Sts::new(Arc::new(iam), false);
                let _ = sts.handle(&req);
            }
        }
        _ => {}
    }
}

/// aws-chunked bodies with trailers: decoded as S3 decodes an upload, and their chunk and
/// trailer signatures checked as `--verify-signatures` does.
pub fn aws_chunked(data: &[u8]) {
    let _ = aws_chunked::decode(data);
    let signed = sigv4::Signed {
        credential: sigv4::Credential { access_key: "test".into(), date: "20240102".into(), region: "us-east-1".into(), service: "s3".into(), presigned: false },
        signed_headers: vec!["host".into()],
        signature: "0".repeat(64),
        amz_date: "20240102T030405Z".into(),
    };
    let _ = sigv4::verify_chunks(data, &signed, "test");
}

/// SigV4 (and S3's SigV2): the credential from `Authorization` or a presigned query, the
/// presigned validity window, the signature parts, and verification with the secret `test`.
pub fn sigv4_auth(data: &[u8]) {
    let Some(req) = request(data) else { return };
    let auth = req.header("authorization");
    let _ = auth.map(sigv4::from_authorization);
    let _ = req.query_param("X-Amz-Credential").map(sigv4::from_presigned_query);
    let _ = sigv4::check_presigned_expiry(&req.query, NOW);
    let _ = req.access_key();
    let signable = sigv4::SignableRequest { method: req.method.as_str(), raw_path: &req.path, query: &req.query, headers: &req.headers, body: &req.body };
    let _ = sigv4::verify_v2(&signable, "/fuzz", "test");
    if let Some(Ok(parts)) = sigv4::signed_parts(auth, &req.query, req.header("x-amz-date")) {
        let _ = sigv4::verify(&signable, &parts, "test", NOW);
        let _ = sigv4::verify_chunks(&req.body, &parts, "test");
        let _ = sigv4::post_policy_v4("test", &parts.credential, "e30=");
    }
}

/// S3 requests: bucket and key from path or `Host`, the operation from method and query, IAM's
/// view of it, the payload, and the whole request answered by a fresh S3 holding `fuzz/key`.
pub fn s3_request(data: &[u8]) {
    let Some(req) = request(data) else { return };
    let _ = s3::wire::address(&req);
    let _ = s3::wire::operation_name(&req);
    let _ = s3::wire::access(&req);
    let _ = s3::wire::payload(&req);
    let Some(s3) = s3_fixture() else { return };
    let _ = s3::wire::handle(&s3, &req);
}

/// API Gateway mapping templates: any UTF-8 parsed and rendered over a small JSON body.
pub fn vtl(data: &[u8]) {
    use crate::engine::vtl::{Input, Val, render};
    if let Ok(template) = std::str::from_utf8(data) {
        let input = Input { body: r#"{"a":[1,2,{"b":"c"}],"s":"x"}"#.into(), ..Default::default() };
        let _ = render(template, input, Val::Null, Val::Null);
    }
}

/// A tiny catalog and object store for the SQL target: `db.clicks`, one partition, two rows.
struct SqlContext {
    table: firelocal_sql::TableDef,
    objects: BTreeMap<String, Bytes>,
}

impl firelocal_sql::Context for SqlContext {
    fn database_exists(&self, d: &str) -> bool {
        d == "db" || d == "default"
    }
    fn table(&self, d: &str, n: &str) -> Result<Option<firelocal_sql::TableDef>, String> {
        Ok((d == self.table.database && n == self.table.name).then(|| self.table.clone()))
    }
    fn partitions(&self, _: &str, _: &str) -> Result<Vec<firelocal_sql::PartitionDef>, String> {
        Ok(vec![firelocal_sql::PartitionDef { values: vec!["2024-01-02".into()], location: "s3://b/events/dt=2024-01-02/".into() }])
    }
    fn list_objects(&self, b: &str, p: &str) -> Result<Vec<firelocal_sql::ObjectInfo>, String> {
        Ok(self
            .objects
            .iter()
            .filter(|(k, _)| b == "b" && k.starts_with(p))
            .map(|(k, v)| firelocal_sql::ObjectInfo { key: k.clone(), size: v.len() as u64, etag: v.len().to_string() })
            .collect())
    }
    fn get_object(&self, b: &str, k: &str) -> Result<Bytes, String> {
        self.objects.get(k).filter(|_| b == "b").cloned().ok_or_else(|| "NoSuchKey".into())
    }
}

fn sql_context() -> &'static SqlContext {
    static CTX: OnceLock<SqlContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let col = |n: &str, t: &str| firelocal_sql::ColumnDef { name: n.into(), type_name: t.into(), comment: None };
        let table = firelocal_sql::TableDef {
            database: "db".into(),
            name: "clicks".into(),
            columns: vec![col("element_clicked", "string"), col("time_spent", "int"), col("ts", "timestamp"), col("tags", "array<string>"), col("price", "double")],
            partition_keys: vec![col("dt", "string")],
            location: "s3://b/events/".into(),
            serde: firelocal_sql::catalog::serde_names::OPENX_JSON.into(),
            table_type: "EXTERNAL_TABLE".into(),
            ..Default::default()
        };
        let rows = "{\"element_clicked\":\"buy\",\"time_spent\":10,\"ts\":\"2024-01-02 10:00:00\",\"tags\":[\"a\"],\"price\":2.5}\n{\"element_clicked\":\"view\",\"time_spent\":-3}\n";
        let objects = BTreeMap::from([("events/dt=2024-01-02/a.json".to_string(), Bytes::from(rows))]);
        SqlContext { table, objects }
    })
}

/// Athena SQL: parameter substitution, statement classification (Hive DDL by hand, the rest
/// through sqlparser), and a query planned and run by the engine over a two-row table; also
/// the text as a Glue GetPartitions expression.
pub fn athena_sql(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sql = firelocal_sql::substitute_parameters(text, &["'x'".to_string()]).unwrap_or_else(|_| text.to_string());
    let keys = [("dt".to_string(), firelocal_sql::SqlType::Varchar)];
    let parts = [firelocal_sql::PartitionDef { values: vec!["2024-01-02".into()], location: "s3://b/events/dt=2024-01-02/".into() }];
    let _ = firelocal_sql::filter_partitions(&keys, &parts, &sql);
    if let Ok(firelocal_sql::ddl::Statement::Query(q)) = firelocal_sql::ddl::parse_statement(&sql)
        && firelocal_sql::check_syntax(&q).is_ok()
    {
        let _ = firelocal_sql::run_query(&q, "db", sql_context(), NOW * 1000);
    }
}

/// CloudFormation templates (YAML with short tags, or JSON): parsed, checked, ordered, their
/// parameters and conditions resolved and every resource's properties and every output run
/// through the intrinsic functions, as CreateStack does before it creates anything.
pub fn cfn_template(data: &[u8]) {
    use crate::services::cloudformation::{resources, template};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(t) = template::parse(text) else { return };
    if template::validate(&t).is_err() || template::unresolved(&t).is_some() {
        return;
    }
    let res = t.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
    let _ = template::creation_order(&res);
    let _ = template::parameter_decls(&t);
    let Ok(params) = template::resolve_parameters(&t, &BTreeMap::new()) else { return };
    let (created, exports) = (BTreeMap::new(), |_: &str| None);
    let mut scope = template::Scope {
        params: &params,
        pseudo: template::pseudo("us-east-1", "000000000000", "fuzz", "arn:aws:cloudformation:us-east-1:000000000000:stack/fuzz/1"),
        mappings: t.get("Mappings").unwrap_or(&Value::Null),
        conditions: BTreeMap::new(),
        resources: &created,
        exports: &exports,
        region: "us-east-1".into(),
    };
    if scope.evaluate_conditions(&t).is_err() {
        return;
    }
    for r in res.values() {
        let props = r.get("Properties").unwrap_or(&Value::Null);
        let _ = resources::capability(r.get("Type").and_then(Value::as_str).unwrap_or_default(), props);
        let _ = scope.resolve(props);
    }
    if let Some(outputs) = t.get("Outputs") {
        let _ = scope.resolve(outputs);
    }
}

/// QuickSight: a JSON document read as a data set (PhysicalTableMap + LogicalTableMap, with
/// calculated columns translated to SQL) or as a dashboard definition (validated, and each
/// visual computed over a small table and pushed down to SQL); any other text is a calculated
/// field expression.
pub fn quicksight_definition(data: &[u8]) {
    use crate::services::quicksight::{dataset, expr, visual};
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = expr::to_sql(text);
        }
        return;
    };
    if let Some(physical) = v.get("PhysicalTableMap") {
        let _ = dataset::plan(physical, v.get("LogicalTableMap"));
    }
    let definition = v.get("Definition").unwrap_or(&v);
    let schema = vec![("element_clicked".to_string(), "STRING".to_string()), ("time_spent".to_string(), "INTEGER".to_string()), ("price".to_string(), "DECIMAL".to_string()), ("ts".to_string(), "DATETIME".to_string())];
    let data_sets = HashMap::from([("clicks".to_string(), schema.clone())]);
    if visual::validate(definition, &data_sets).is_err() {
        return;
    }
    let some = |s: &str| Some(s.to_string());
    let rows = vec![
        vec![some("buy"), some("10"), some("2.5"), some("2024-01-02 10:00:00.000")],
        vec![some("view"), some("-3"), None, None],
        vec![None, some("7"), some("1e3"), some("2024-01-03 00:00:00.000")],
    ];
    let table = visual::Table::from_rows(schema, rows);
    for (sheet, vis) in visual::visuals(definition) {
        let _ = visual::data_set_of(&vis);
        let _ = visual::compute(definition, &sheet, &vis, &table);
        if let Some((_, rebuild)) = visual::pushdown(definition, &sheet, &vis, "SELECT * FROM \"db\".\"clicks\"") {
            let _ = rebuild(vec![vec![some("buy"), some("2")]]);
        }
    }
}

/// Firehose dynamic partitioning: the first line is a MetadataExtractionQuery (jq), compiled
/// and run on the rest as a record, and on a fixed record.
pub fn jq(data: &[u8]) {
    use crate::engine::firehose::partition::Query;
    let (code, record) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(code) = std::str::from_utf8(code) else { return };
    let Ok(q) = Query::compile(code) else { return };
    let _ = q.keys(record);
    let _ = q.keys(br#"{"customer_id":"c-1","event":{"type":"click","n":3},"tags":["a","b"],"ts":1704164645}"#);
}

/// S3 browser form uploads: the first line is the `Content-Type` (with its boundary), the rest the
/// multipart/form-data body; parsed, its POST policy and signature checked as S3 checks them,
/// and the whole POST answered by a fresh S3.
pub fn form_post(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(content_type) = std::str::from_utf8(content_type) else { return };
    if let Ok(form) = s3::post::parse(content_type, Bytes::copy_from_slice(body)) {
        let key = form.get("key").unwrap_or_default();
        let _ = s3::post::check_policy(&form, "fuzz", &key, 5, NOW);
        let _ = s3::post::check_signature(&form, &|_: &str| Some("test".to_string()));
    }
    let Ok(value) = http::HeaderValue::from_str(content_type) else { return };
    let mut raw = b"POST /fuzz\nhost: localhost\n\n".to_vec();
    raw.extend_from_slice(body);
    let (Some(mut req), Some(s3)) = (request(&raw), s3_fixture()) else { return };
    req.headers.insert(http::header::CONTENT_TYPE, value);
    let _ = s3::wire::handle(&s3, &req);
}

/// Every target by name, for the regression test.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("aws_json", aws_json),
    ("rest_xml", rest_xml),
    ("aws_query", aws_query),
    ("aws_chunked", aws_chunked),
    ("sigv4_auth", sigv4_auth),
    ("s3_request", s3_request),
    ("vtl", vtl),
    ("athena_sql", athena_sql),
    ("cfn_template", cfn_template),
    ("quicksight_definition", quicksight_definition),
    ("jq", jq),
    ("form_post", form_post),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_text_becomes_a_request() {
        let r = request(b"PUT /b/k?tagging HTTP\nHost: B.s3.localhost:4566\nx-amz-date: 1\n\nbody");
        assert!(r.is_none(), "a space in the target is not a URI");
        let r = request(b"PUT /b/k?tagging\nHost: B.s3.localhost:4566\nx-amz-date: 1\n\nbody");
        let r = r.unwrap_or_else(|| panic!("should parse"));
        assert_eq!((r.method.as_str(), r.path.as_str(), r.host.as_str(), &r.body[..]), ("PUT", "/b/k", "b.s3.localhost", &b"body"[..]));
        assert!(r.has_query("tagging"));
    }

    /// Every input a fuzzer found (fixtures/fuzz-regressions/<target>/<what-it-is>) runs through
    /// its target again without a panic, each well within the fuzzers' 1 s.
    #[test]
    fn fuzz_regressions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
        let mut failed = Vec::new();
        let mut ran = 0;
        for (name, target) in TARGETS {
            let Ok(entries) = std::fs::read_dir(dir.join(name)) else { continue };
            let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            for file in files {
                let data = std::fs::read(&file).unwrap_or_default();
                let started = std::time::Instant::now();
                let outcome = std::panic::catch_unwind(|| target(&data));
                let took = started.elapsed();
                ran += 1;
                if outcome.is_err() {
                    failed.push(format!("{name}/{}: panicked", file.display()));
                } else if took > std::time::Duration::from_secs(5) {
                    failed.push(format!("{name}/{}: took {took:?}", file.display()));
                }
            }
        }
        assert!(failed.is_empty(), "{} of {ran} fuzz regressions failed:\n{}", failed.len(), failed.join("\n"));
    }
}
