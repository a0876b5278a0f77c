//! The engine end to end over an in-memory catalog and object store: DDL-shaped tables,
//! NDJSON (plain and gzip) in Hive partitions, and queries checked against known answers.

use std::collections::BTreeMap;
use std::io::Write;

use bytes::Bytes;
use firelocal_sql::catalog::serde_names;
use firelocal_sql::{ColumnDef, Context, ObjectInfo, PartitionDef, TableDef, run_query};

struct Mem {
    tables: Vec<TableDef>,
    parts: BTreeMap<String, Vec<PartitionDef>>,
    objects: BTreeMap<(String, String), Bytes>,
    cache: firelocal_sql::scan::ScanCache,
    stop: std::sync::atomic::AtomicBool,
}

impl Context for Mem {
    fn database_exists(&self, d: &str) -> bool {
        d == "db"
    }
    fn table(&self, d: &str, n: &str) -> Result<Option<TableDef>, String> {
        Ok(self.tables.iter().find(|t| t.database == d && t.name == n).cloned())
    }
    fn partitions(&self, _d: &str, n: &str) -> Result<Vec<PartitionDef>, String> {
        Ok(self.parts.get(n).cloned().unwrap_or_default())
    }
    fn list_objects(&self, b: &str, p: &str) -> Result<Vec<ObjectInfo>, String> {
        Ok(self.objects.iter().filter(|((bb, k), _)| bb == b && k.starts_with(p)).map(|((_, k), v)| ObjectInfo { key: k.clone(), size: v.len() as u64, etag: format!("{}", v.len()) }).collect())
    }
    fn scan_cache(&self) -> Option<&firelocal_sql::scan::ScanCache> {
        Some(&self.cache)
    }
    fn cancelled(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn get_object(&self, b: &str, k: &str) -> Result<Bytes, String> {
        self.objects.get(&(b.to_string(), k.to_string())).cloned().ok_or_else(|| "NoSuchKey".into())
    }
}

fn col(n: &str, t: &str) -> ColumnDef {
    ColumnDef { name: n.into(), type_name: t.into(), comment: None }
}

fn gz(s: &str) -> Bytes {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(s.as_bytes());
    Bytes::from(e.finish().unwrap_or_default())
}

fn fixture() -> Mem {
    let clicks = TableDef {
        database: "db".into(),
        name: "clicks".into(),
        columns: vec![col("element_clicked", "string"), col("time_spent", "int"), col("user_id", "bigint"), col("ts", "timestamp"), col("tags", "array<string>"), col("price", "double")],
        partition_keys: vec![col("dt", "string")],
        location: "s3://b/events/".into(),
        serde: serde_names::OPENX_JSON.into(),
        table_type: "EXTERNAL_TABLE".into(),
        ..Default::default()
    };
    let day1 = "{\"element_clicked\":\"buy\",\"time_spent\":10,\"user_id\":1,\"ts\":\"2023-11-16 10:00:00\",\"tags\":[\"a\",\"b\"],\"price\":2.5}\n{\"Element_Clicked\":\"view\",\"time_spent\":5,\"user_id\":2,\"ts\":\"2023-11-16 11:30:00\",\"tags\":[]}\n";
    let day2 = "{\"element_clicked\":\"buy\",\"time_spent\":7,\"user_id\":1,\"ts\":\"2023-11-17 09:15:00\",\"tags\":[\"c\"],\"price\":4}\n{\"element_clicked\":\"view\",\"time_spent\":-3,\"ts\":\"2023-11-17 23:59:59\",\"extra\":1}\n{\"element_clicked\":null,\"time_spent\":1,\"user_id\":3,\"ts\":\"2023-11-17 00:00:01\"}\n";
    let mut objects = BTreeMap::new();
    objects.insert(("b".into(), "events/dt=2023-11-16/a.json".into()), Bytes::from(day1));
    objects.insert(("b".into(), "events/dt=2023-11-17/b.json.gz".into()), gz(day2));
    let mut parts = BTreeMap::new();
    parts.insert(
        "clicks".into(),
        vec![
            PartitionDef { values: vec!["2023-11-16".into()], location: "s3://b/events/dt=2023-11-16/".into() },
            PartitionDef { values: vec!["2023-11-17".into()], location: "s3://b/events/dt=2023-11-17/".into() },
        ],
    );
    Mem { tables: vec![clicks], parts, objects, cache: firelocal_sql::scan::ScanCache::new(64 << 20), stop: Default::default() }
}

fn rows(m: &Mem, sql: &str) -> Vec<Vec<String>> {
    match run_query(sql, "db", m, 1_700_000_000_000) {
        Ok(r) => r.rows.into_iter().map(|r| r.into_iter().map(|v| v.unwrap_or_else(|| "NULL".into())).collect()).collect(),
        Err(e) => panic!("{sql}: {e}"),
    }
}

fn one(m: &Mem, sql: &str) -> String {
    let r = rows(m, sql);
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r[0].join("|")
}

fn err(m: &Mem, sql: &str) -> String {
    match run_query(sql, "db", m, 0) {
        Ok(r) => panic!("{sql} should fail, got {:?}", r.rows),
        Err(e) => e.to_string(),
    }
}

#[test]
fn seed_queries() {
    let m = fixture();
    assert_eq!(one(&m, "SELECT count(*) FROM clicks"), "5");
    let g = rows(&m, "SELECT element_clicked, count(*) AS n FROM clicks GROUP BY element_clicked ORDER BY n DESC, element_clicked");
    assert_eq!(g, vec![vec!["buy", "2"], vec!["view", "2"], vec!["NULL", "1"]]);
    assert_eq!(rows(&m, "SELECT * FROM clicks LIMIT 10").len(), 5);
    assert_eq!(one(&m, "SELECT count(*) FROM clicks WHERE dt = '2023-11-17'"), "3");
    let r = run_query("SELECT count(*) FROM clicks WHERE dt = '2023-11-16'", "db", &m, 0).map(|r| r.bytes_scanned).unwrap_or(0);
    assert_eq!(r, m.objects.iter().next().map(|(_, v)| v.len() as u64).unwrap_or(0), "only the matching partition is read");
}

#[test]
fn semantics() {
    let m = fixture();
    // Twice: the second run reads the scan cache.
    assert_eq!(one(&m, "SELECT sum(time_spent), count(*) FROM clicks"), "20|5");
    assert_eq!(one(&m, "SELECT sum(time_spent), count(*) FROM clicks"), "20|5");
    assert_eq!(one(&m, "SELECT sum(time_spent), avg(time_spent), min(ts), max(price) FROM clicks"), "20|4.0|2023-11-16 10:00:00.000|4.0");
    assert_eq!(one(&m, "SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7.0 / 2"), "3|-3|1|-1|3.5");
    assert_eq!(one(&m, "SELECT sum(price) FROM clicks WHERE price IS NULL"), "NULL");
    assert_eq!(one(&m, "SELECT count(DISTINCT user_id), approx_distinct(user_id), count(user_id) FROM clicks"), "3|3|4");
    assert_eq!(one(&m, "SELECT date_trunc('hour', ts) FROM clicks WHERE user_id = 2"), "2023-11-16 11:00:00.000");
    assert_eq!(one(&m, "SELECT date_format(ts, '%Y-%m-%d %H'), year(ts), hour(ts) FROM clicks WHERE user_id = 2"), "2023-11-16 11|2023|11");
    assert_eq!(one(&m, "SELECT CAST('2023-11-16 00:00:00' AS TIMESTAMP) < ts FROM clicks WHERE user_id = 2"), "true");
    assert_eq!(one(&m, "SELECT count(*) FROM clicks WHERE ts BETWEEN TIMESTAMP '2023-11-16 00:00:00' AND CAST('2023-11-16 23:59:59' AS TIMESTAMP)"), "2");
    assert_eq!(one(&m, "SELECT coalesce(NULL, element_clicked), nullif(time_spent, 5) FROM clicks WHERE user_id = 2"), "view|NULL");
    assert_eq!(one(&m, "SELECT cardinality(tags), tags FROM clicks WHERE user_id = 1 AND dt = '2023-11-16'"), "2|[a, b]");
    assert_eq!(one(&m, "SELECT count(*) FROM clicks CROSS JOIN UNNEST(tags) AS t(tag)"), "3");
    assert_eq!(one(&m, "SELECT upper(element_clicked) || '-' || CAST(time_spent AS varchar) FROM clicks WHERE user_id = 2"), "VIEW-5");
    assert_eq!(one(&m, "SELECT element_clicked FROM clicks WHERE element_clicked LIKE 'b%' LIMIT 1"), "buy");
    assert_eq!(one(&m, "SELECT json_extract_scalar('{\"a\":{\"b\":3}}', '$.a.b'), split_part('a/b/c', '/', 2), regexp_extract('x12y', '[0-9]+')"), "3|b|12");
    assert_eq!(one(&m, "SELECT date_diff('hour', TIMESTAMP '2023-11-16 00:00:00', TIMESTAMP '2023-11-16 05:59:00'), date_add('day', 1, DATE '2023-11-30')"), "5|2023-12-01");
    assert_eq!(one(&m, "SELECT to_unixtime(TIMESTAMP '1970-01-01 00:00:10'), from_unixtime(10)"), "10.0|1970-01-01 00:00:10.000 UTC");
    assert_eq!(one(&m, "SELECT CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END, if(true, 1, 2)"), "b|1");
}

#[test]
fn windows_joins_sets() {
    let m = fixture();
    let r = rows(&m, "SELECT user_id, time_spent, row_number() OVER (PARTITION BY user_id ORDER BY time_spent DESC) AS rn, sum(time_spent) OVER (PARTITION BY user_id) AS tot FROM clicks WHERE user_id = 1 ORDER BY rn");
    assert_eq!(r, vec![vec!["1", "10", "1", "17"], vec!["1", "7", "2", "17"]]);
    let r = rows(&m, "SELECT time_spent, rank() OVER (ORDER BY element_clicked), lag(time_spent) OVER (ORDER BY time_spent) FROM clicks WHERE element_clicked IS NOT NULL ORDER BY time_spent");
    assert_eq!(r, vec![vec!["-3", "3", "NULL"], vec!["5", "3", "-3"], vec!["7", "1", "5"], vec!["10", "1", "7"]]);
    let r = rows(&m, "WITH u AS (SELECT user_id, count(*) AS n FROM clicks GROUP BY 1) SELECT a.user_id, a.n, b.time_spent FROM u a JOIN clicks b ON a.user_id = b.user_id WHERE a.n > 1 ORDER BY b.time_spent");
    assert_eq!(r, vec![vec!["1", "2", "7"], vec!["1", "2", "10"]]);
    assert_eq!(one(&m, "SELECT count(*) FROM (SELECT user_id FROM clicks UNION SELECT user_id FROM clicks)"), "4");
    assert_eq!(one(&m, "SELECT count(*) FROM (SELECT 1 AS x UNION ALL SELECT 2 LIMIT 1)"), "1");
    assert_eq!(one(&m, "SELECT count(*) FROM clicks WHERE time_spent > (SELECT avg(time_spent) FROM clicks)"), "3");
    assert_eq!(one(&m, "SELECT count(*) FROM clicks WHERE user_id IN (SELECT user_id FROM clicks WHERE price > 3)"), "2");
    let r = rows(&m, "SELECT c.user_id, d.user_id FROM clicks c LEFT JOIN (SELECT user_id FROM clicks WHERE price > 3) d ON c.user_id = d.user_id WHERE c.dt = '2023-11-16' ORDER BY 1");
    assert_eq!(r, vec![vec!["1", "1"], vec!["2", "NULL"]]);
}

#[test]
fn errors_are_athenas() {
    let m = fixture();
    assert!(err(&m, "SELECT nope FROM clicks").starts_with("COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"));
    assert!(err(&m, "SELECT * FROM missing").contains("TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.missing' does not exist"));
    assert!(err(&m, "SELECT element_clicked, count(*) FROM clicks").contains("must be an aggregate expression or appear in GROUP BY clause"));
    assert!(err(&m, "SELECT frobnicate(1)").contains("Function 'frobnicate' not registered"));
    assert!(err(&m, "SELECT count(*) FROM clicks WHERE ts > 5").contains("Cannot apply operator: timestamp(3) > integer"));
    assert!(err(&m, "SELECT CAST('abc' AS integer)").starts_with("INVALID_CAST_ARGUMENT"));
    assert_eq!(one(&m, "SELECT TRY_CAST('abc' AS integer)"), "NULL");
}

#[test]
fn substr_edges() {
    let m = fixture();
    assert_eq!(one(&m, "SELECT substr('abc', -2), substr('a', -2), substr('abc', 2), substr('abc', 1, 2), substr('abc', 0)"), "bc||bc|ab|");
}

#[test]
fn double_division_is_ieee() {
    let m = fixture();
    let r = rows(&m, "SELECT CAST(time_spent AS double) / 10 FROM clicks ORDER BY 1");
    assert_eq!(r, vec![vec!["-0.3"], vec!["0.1"], vec!["0.5"], vec!["0.7"], vec!["1.0"]]);
    assert!(err(&m, "SELECT time_spent / 0 FROM clicks").starts_with("DIVISION_BY_ZERO"));
}

#[test]
fn review_edges() {
    let m = fixture();
    // Functions over a column and a constant on no rows.
    assert_eq!(rows(&m, "SELECT time_spent / 2, CAST(time_spent AS double) / 2, substr(element_clicked, 1, 2) FROM clicks WHERE 1 = 0").len(), 0);
    // strpos is literal and counts characters; NULL stays NULL.
    assert_eq!(one(&m, "SELECT strpos('abc', '.'), strpos('héllo', 'l'), strpos(NULL, 'a'), strpos('a(b', '(')"), "0|3|NULL|2");
    // Subscripts are 1-based; element_at counts negatives from the end.
    assert_eq!(one(&m, "SELECT element_at(ARRAY[1, 2, 3], -1), element_at(ARRAY[1, 2, 3], 5)"), "3|NULL");
    assert!(err(&m, "SELECT ARRAY[1, 2, 3][0]").contains("Array subscript"));
    // NOT IN over an empty subquery keeps NULLs.
    assert_eq!(one(&m, "SELECT count(*) FROM clicks WHERE user_id NOT IN (SELECT user_id FROM clicks WHERE 1 = 0)"), "5");
    // USING makes one column.
    assert_eq!(one(&m, "SELECT count(user_id) FROM clicks a JOIN (SELECT DISTINCT user_id FROM clicks) b USING (user_id)"), "4");
    // A RIGHT JOIN's left table is not pruned by WHERE ... IS NULL.
    let r = rows(&m, "SELECT count(*) FROM clicks a RIGHT JOIN (SELECT 99 AS id) b ON a.user_id = b.id WHERE a.dt IS NULL");
    assert_eq!(r, vec![vec!["1"]]);
    assert!(err(&m, "SELECT 1 LIMIT -1").starts_with("SYNTAX_ERROR"));
    assert_eq!(one(&m, "SELECT last_value(time_spent) OVER (PARTITION BY dt) FROM clicks WHERE user_id = 2"), "5");
    let deep = format!("SELECT {}1{}", "(".repeat(300), ")".repeat(300));
    assert!(err(&m, &deep).starts_with("QUERY_TOO_COMPLEX"));
}

#[test]
fn a_cancelled_query_stops_scanning() {
    let m = fixture();
    m.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(err(&m, "SELECT count(*) FROM clicks").starts_with("USER_CANCELLED"));
}
