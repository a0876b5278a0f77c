"""Amazon Athena and AWS Glue Data Catalog compatibility tests driven by boto3, PyAthena and the
AWS CLI.

Each test builds its own bucket and database, so tests are independent. Every assertion states
what real Athena (engine v3) / Glue does. Where the exact real-AWS value is uncertain, the test
asserts the less specific thing.

The only firelocal-specific piece is `POST /_firelocal/firehose/flush` (see docs/firehose.md),
which stands in for waiting out a Firehose buffering interval.
"""

import collections
import datetime as dt
import gzip
import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, make_client

ROLE = "arn:aws:iam::000000000000:role/firehose_delivery_role"
FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
QUERY_TIMEOUT = 30.0

# A small, known clickstream data set: (dt, events) laid out like Firehose delivers it.
ELEMENTS = ("add_to_cart", "buy_now", "search", "nav_home")
MENUS = ("top", "side", None)
DATES = ("2023-11-14", "2023-11-15", "2023-11-16")
PER_DATE = {"2023-11-14": 4, "2023-11-15": 6, "2023-11-16": 5}

CLICKS_DDL = """CREATE EXTERNAL TABLE {table} (
  element_clicked string,
  time_spent int,
  source_menu string,
  created_at timestamp
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://{bucket}/{prefix}'"""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def athena(firelocal_endpoint):
    return make_client(firelocal_endpoint, "athena")


@pytest.fixture(scope="session")
def glue(firelocal_endpoint):
    return make_client(firelocal_endpoint, "glue")


@pytest.fixture(scope="session")
def firehose(firelocal_endpoint):
    return make_client(firelocal_endpoint, "firehose")


def uniq(stem="ct"):
    return f"{stem}_{uuid.uuid4().hex[:10]}"


def code(err: ClientError):
    return err.response["Error"]["Code"]


def expect_error(expected_code, fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    codes = (expected_code,) if isinstance(expected_code, str) else expected_code
    assert code(ei.value) in codes, ei.value.response
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, ei.value.response
    return ei.value


def start(athena, sql, db=None, output=None, **kwargs):
    if db:
        kwargs["QueryExecutionContext"] = {"Database": db}
    if output:
        kwargs["ResultConfiguration"] = {"OutputLocation": output}
    return athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]


def wait(athena, qid, timeout=QUERY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if ex["Status"]["State"] in FINAL_STATES:
            return ex
        assert time.monotonic() < deadline, f"query {qid} still {ex['Status']['State']} after {timeout}s"
        time.sleep(0.02)


def run(athena, sql, db=None, output=None, **kwargs):
    """Starts `sql`, polls until a final state and returns the QueryExecution."""
    return wait(athena, start(athena, sql, db, output, **kwargs))


def ok(athena, sql, db=None, output=None, **kwargs):
    ex = run(athena, sql, db, output, **kwargs)
    assert ex["Status"]["State"] == "SUCCEEDED", (sql, ex["Status"])
    return ex


def results(athena, qid, page_size=1000):
    """All rows of GetQueryResults (header row included) as lists of str-or-None, and ColumnInfo."""
    rows, info, token = [], None, None
    while True:
        kw = {"QueryExecutionId": qid, "MaxResults": page_size}
        if token:
            kw["NextToken"] = token
        page = athena.get_query_results(**kw)
        if info is None:
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            return rows, info


def select(athena, sql, db, output):
    """Runs a SELECT; returns (column names, data rows) after checking the header row."""
    ex = ok(athena, sql, db, output)
    rows, info = results(athena, ex["QueryExecutionId"])
    names = [c["Name"] for c in info]
    assert rows and rows[0] == names, (rows[:1], names)
    return names, rows[1:]


def utility_values(athena, sql, db, output):
    """Runs a SHOW/DESCRIBE-like statement; returns the first cell of each row (a header row,
    if the result carries one, is dropped)."""
    ex = ok(athena, sql, db, output)
    rows, info = results(athena, ex["QueryExecutionId"])
    values = [r[0] for r in rows if r]
    if values and info and values[0] == info[0]["Name"]:
        values = values[1:]
    return [v.strip() if v else v for v in values]


def put_lines(s3, bucket, key, records, compress=False):
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    if compress:
        body = gzip.compress(body)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return body


def make_events():
    """{dt: [event, ...]} deterministic clickstream events."""
    out = {}
    i = 0
    for d in DATES:
        evs = []
        for j in range(PER_DATE[d]):
            evs.append(
                {
                    "element_clicked": ELEMENTS[i % len(ELEMENTS)],
                    "time_spent": 100 * (i + 1),
                    "source_menu": MENUS[i % len(MENUS)],
                    "created_at": f"{d} 10:{j:02d}:{i % 60:02d}",
                }
            )
            i += 1
        out[d] = evs
    return out


class Env:
    def __init__(self, s3, bucket, db):
        self.s3 = s3
        self.bucket = bucket
        self.db = db
        self.output = f"s3://{bucket}/results/"


@pytest.fixture
def env(athena, s3, bucket):
    e = Env(s3, bucket, uniq())
    ok(athena, f"CREATE DATABASE {e.db}", output=e.output)
    return e


@pytest.fixture
def clicks(athena, env):
    """`clicks` over events/dt=<date>/part-0.json, partitions loaded with MSCK REPAIR TABLE."""
    env.events = make_events()
    for d, evs in env.events.items():
        put_lines(env.s3, env.bucket, f"events/dt={d}/part-0.json", evs)
    ok(athena, CLICKS_DDL.format(table="clicks", bucket=env.bucket, prefix="events/"), env.db, env.output)
    ok(athena, "MSCK REPAIR TABLE clicks", env.db, env.output)
    return env


def counts_by_element(events):
    c = collections.Counter(e["element_clicked"] for evs in events.values() for e in evs)
    return dict(c)


def list_keys(s3, bucket, prefix=""):
    keys, kw = [], {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**kw)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        kw["ContinuationToken"] = page["NextContinuationToken"]


# --------------------------------------------------------------------------------------------
# 1. the seed pipeline: Firehose -> S3 -> Athena
# --------------------------------------------------------------------------------------------


def test_seed_pipeline_firehose_to_athena(athena, firehose, s3, bucket, firelocal_endpoint):
    stream = f"clicks-{uuid.uuid4().hex[:10]}"
    firehose.create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "events/dt=!{timestamp:yyyy-MM-dd}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "CompressionFormat": "UNCOMPRESSED",
        },
    )
    sent = []
    for i in range(50):
        sent.append(
            {
                "element_clicked": ELEMENTS[i % 3],
                "time_spent": i * 7,
                "source_menu": "top" if i % 2 else "side",
                "created_at": f"2023-11-15 12:{i // 60:02d}:{i % 60:02d}",
            }
        )
    day = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    resp = firehose.put_record_batch(
        DeliveryStreamName=stream, Records=[{"Data": (json.dumps(e) + "\n").encode()} for e in sent]
    )
    assert resp["FailedPutCount"] == 0, resp
    r = requests.post(f"{firelocal_endpoint}/_firelocal/firehose/flush", params={"stream": stream}, timeout=30)
    assert r.status_code == 200, r.text
    keys = list_keys(s3, bucket, "events/")
    assert keys and all(k.startswith("events/dt=") for k in keys), keys

    db, output = uniq(), f"s3://{bucket}/athena-results/"
    ok(athena, f"CREATE DATABASE {db}", output=output)
    ok(athena, CLICKS_DDL.format(table="t", bucket=bucket, prefix="events/"), db, output)
    ok(athena, "MSCK REPAIR TABLE t", db, output)

    names, rows = select(athena, "SELECT element_clicked, count(*) FROM t GROUP BY element_clicked", db, output)
    assert names == ["element_clicked", "_col1"]
    assert {r[0]: int(r[1]) for r in rows} == dict(collections.Counter(e["element_clicked"] for e in sent))

    names, rows = select(athena, "SELECT * FROM t LIMIT 10", db, output)
    assert names == ["element_clicked", "time_spent", "source_menu", "created_at", "dt"]
    assert len(rows) == 10
    assert all(r[4] in (day, (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()) for r in rows), rows
    sent_keys = {(e["element_clicked"], str(e["time_spent"]), e["source_menu"]) for e in sent}
    assert all((r[0], r[1], r[2]) in sent_keys for r in rows), rows


# --------------------------------------------------------------------------------------------
# 2. PyAthena
# --------------------------------------------------------------------------------------------


def _connect(endpoint, env, **kwargs):
    import pyathena

    return pyathena.connect(
        s3_staging_dir=env.output,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        schema_name=env.db,
        poll_interval=0.05,
        **kwargs,
    )


TYPED_SQL = (
    "SELECT element_clicked, time_spent, CAST(time_spent AS double) / 8 AS secs, created_at,"
    " CAST(created_at AS date) AS day FROM clicks WHERE dt = '2023-11-15' ORDER BY created_at"
)


def _typed_expected(env):
    out = []
    for e in sorted(env.events["2023-11-15"], key=lambda e: e["created_at"]):
        ts = dt.datetime.strptime(e["created_at"], "%Y-%m-%d %H:%M:%S")
        out.append((e["element_clicked"], e["time_spent"], e["time_spent"] / 8, ts, ts.date()))
    return out


def test_pyathena_cursor_typed_values(clicks, firelocal_endpoint):
    conn = _connect(firelocal_endpoint, clicks)
    try:
        cur = conn.cursor()
        cur.execute(TYPED_SQL)
        got = cur.fetchall()
        desc = [(d[0], d[1]) for d in cur.description]
    finally:
        conn.close()
    assert desc == [
        ("element_clicked", "varchar"), ("time_spent", "integer"), ("secs", "double"),
        ("created_at", "timestamp"), ("day", "date"),
    ]
    assert [tuple(r) for r in got] == _typed_expected(clicks)
    assert all(type(r[1]) is int and type(r[2]) is float and type(r[3]) is dt.datetime for r in got)
    assert all(type(r[4]) is dt.date for r in got)


def test_double_division_of_column_is_exact(athena, clicks):
    _, rows = select(
        athena, "SELECT time_spent, CAST(time_spent AS double) / 1000 FROM clicks ORDER BY time_spent",
        clicks.db, clicks.output,
    )
    # Java's Double.toString and Python's repr agree for these magnitudes (0.1 .. 1.5).
    assert rows == [[r[0], repr(int(r[0]) / 1000)] for r in rows]
    assert ["700", "0.7"] in rows


def test_pyathena_ddl_through_cursor(clicks, firelocal_endpoint):
    conn = _connect(firelocal_endpoint, clicks)
    try:
        cur = conn.cursor()
        cur.execute("SHOW TABLES")
        tables = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    assert "clicks" in tables


def test_pyathena_s3fs_cursor_reads_same_rows(clicks, firelocal_endpoint, monkeypatch):
    from pyathena.s3fs.cursor import S3FSCursor

    monkeypatch.setenv("AWS_ENDPOINT_URL", firelocal_endpoint)
    plain = _connect(firelocal_endpoint, clicks)
    s3fs = _connect(firelocal_endpoint, clicks, cursor_class=S3FSCursor)
    try:
        a = plain.cursor()
        a.execute(TYPED_SQL)
        want = [tuple(r) for r in a.fetchall()]
        b = s3fs.cursor()
        b.execute(TYPED_SQL)
        got = [tuple(r) for r in b.fetchall()]
    finally:
        plain.close()
        s3fs.close()
    assert got == want == _typed_expected(clicks)


def test_pyathena_pyformat_parameters(clicks, firelocal_endpoint):
    conn = _connect(firelocal_endpoint, clicks)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT count(*) FROM clicks WHERE element_clicked = %(el)s AND time_spent > %(t)d",
            {"el": "search", "t": 500},
        )
        (n,) = cur.fetchone()
    finally:
        conn.close()
    want = sum(1 for evs in clicks.events.values() for e in evs if e["element_clicked"] == "search" and e["time_spent"] > 500)
    assert n == want and want > 0


def test_execution_parameters_qmark(athena, clicks):
    qid = start(
        athena,
        "SELECT count(*) FROM clicks WHERE element_clicked = ? AND time_spent > ?",
        clicks.db,
        clicks.output,
        ExecutionParameters=["'search'", "500"],
    )
    ex = wait(athena, qid)
    assert ex["Status"]["State"] == "SUCCEEDED", ex["Status"]
    assert ex.get("ExecutionParameters") == ["'search'", "500"]
    rows, _ = results(athena, qid)
    want = sum(1 for evs in clicks.events.values() for e in evs if e["element_clicked"] == "search" and e["time_spent"] > 500)
    assert rows[1] == [str(want)]


# --------------------------------------------------------------------------------------------
# 3. Athena API shapes
# --------------------------------------------------------------------------------------------


def test_get_query_execution_select_fields(athena, clicks):
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    ex = ok(athena, "SELECT * FROM clicks", clicks.db, clicks.output)
    qid = ex["QueryExecutionId"]
    assert ex["Query"] == "SELECT * FROM clicks"
    assert ex["StatementType"] == "DML"
    assert ex["QueryExecutionContext"]["Database"] == clicks.db
    assert ex["WorkGroup"] == "primary"
    st = ex["Status"]
    assert isinstance(st["SubmissionDateTime"], dt.datetime) and isinstance(st["CompletionDateTime"], dt.datetime)
    assert t0 <= st["SubmissionDateTime"] <= st["CompletionDateTime"]
    stats = ex["Statistics"]
    assert stats["DataScannedInBytes"] > 0
    assert stats["EngineExecutionTimeInMillis"] >= 0
    assert stats.get("TotalExecutionTimeInMillis", 0) >= 0
    assert ex["ResultConfiguration"]["OutputLocation"] == f"{clicks.output}{qid}.csv"
    keys = set(list_keys(clicks.s3, clicks.bucket, "results/"))
    assert f"results/{qid}.csv" in keys and f"results/{qid}.csv.metadata" in keys
    assert ex["EngineVersion"]["EffectiveEngineVersion"].startswith("Athena engine version")


def test_partition_pruning_reduces_data_scanned(athena, clicks):
    full = ok(athena, "SELECT count(*) FROM clicks", clicks.db, clicks.output)
    one = ok(athena, "SELECT count(*) FROM clicks WHERE dt = '2023-11-15'", clicks.db, clicks.output)
    rows, _ = results(athena, one["QueryExecutionId"])
    assert rows[1] == [str(PER_DATE["2023-11-15"])]
    full_b = full["Statistics"]["DataScannedInBytes"]
    one_b = one["Statistics"]["DataScannedInBytes"]
    assert 0 < one_b < full_b


def test_statement_types_and_txt_output_for_ddl(athena, clicks):
    ddl = ok(athena, "CREATE EXTERNAL TABLE x (a string) LOCATION 's3://%s/x/'" % clicks.bucket, clicks.db, clicks.output)
    assert ddl["StatementType"] == "DDL"
    assert ddl["ResultConfiguration"]["OutputLocation"] == f"{clicks.output}{ddl['QueryExecutionId']}.txt"
    show = ok(athena, "SHOW TABLES", clicks.db, clicks.output)
    assert show["StatementType"] == "UTILITY"
    assert show["ResultConfiguration"]["OutputLocation"] == f"{clicks.output}{show['QueryExecutionId']}.txt"
    desc = ok(athena, "DESCRIBE clicks", clicks.db, clicks.output)
    assert desc["StatementType"] == "UTILITY"


def test_result_csv_quoting(athena, env):
    ex = ok(athena, "SELECT 1 AS a, 'x,\"y\"' AS b, CAST(NULL AS varchar) AS c, 2.5 AS d", env.db, env.output)
    qid = ex["QueryExecutionId"]
    body = env.s3.get_object(Bucket=env.bucket, Key=f"results/{qid}.csv")["Body"].read().decode()
    assert body.splitlines() == ['"a","b","c","d"', '"1","x,""y""",,"2.5"']
    meta = env.s3.get_object(Bucket=env.bucket, Key=f"results/{qid}.csv.metadata")["Body"].read()
    assert len(meta) > 0


def test_get_query_results_paging(athena, clicks):
    ex = ok(athena, "SELECT time_spent FROM clicks ORDER BY time_spent", clicks.db, clicks.output)
    qid = ex["QueryExecutionId"]
    all_rows, _ = results(athena, qid)
    first = athena.get_query_results(QueryExecutionId=qid, MaxResults=2)
    r0 = [[d.get("VarCharValue") for d in r["Data"]] for r in first["ResultSet"]["Rows"]]
    assert r0 == [["time_spent"], ["100"]]
    assert first.get("NextToken")
    paged, _ = results(athena, qid, page_size=2)
    assert paged == all_rows
    assert len(all_rows) == 1 + sum(PER_DATE.values())
    assert [int(r[0]) for r in all_rows[1:]] == sorted(100 * (i + 1) for i in range(sum(PER_DATE.values())))


def test_get_query_results_max_results_over_1000(athena, env):
    ex = ok(athena, "SELECT 1", env.db, env.output)
    expect_error(
        ("InvalidRequestException", "ValidationException"),
        athena.get_query_results, QueryExecutionId=ex["QueryExecutionId"], MaxResults=1001,
    )


def test_null_datum_and_column_info(athena, env):
    ex = ok(
        athena,
        "SELECT CAST(NULL AS varchar) AS n, CAST(1.25 AS decimal(10, 2)) AS dec, 'a' AS s, 7 AS i",
        env.db, env.output,
    )
    page = athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])
    rows = page["ResultSet"]["Rows"]
    assert rows[1]["Data"][0] == {}
    assert rows[1]["Data"][1:] == [{"VarCharValue": "1.25"}, {"VarCharValue": "a"}, {"VarCharValue": "7"}]
    info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    for c in info:
        for k in ("Name", "Type", "Precision", "Scale", "Nullable", "CatalogName", "SchemaName", "TableName", "Label"):
            assert k in c, (k, c)
    assert [c["Name"] for c in info] == ["n", "dec", "s", "i"]
    assert [c["Type"] for c in info] == ["varchar", "decimal", "varchar", "integer"]
    assert (info[1]["Precision"], info[1]["Scale"]) == (10, 2)
    assert info[3]["Precision"] == 10


def test_stop_finished_query_is_harmless(athena, env):
    ex = ok(athena, "SELECT 1", env.db, env.output)
    athena.stop_query_execution(QueryExecutionId=ex["QueryExecutionId"])
    again = athena.get_query_execution(QueryExecutionId=ex["QueryExecutionId"])["QueryExecution"]
    assert again["Status"]["State"] == "SUCCEEDED"
    rows, _ = results(athena, ex["QueryExecutionId"])
    assert rows == [["_col0"], ["1"]]


def test_list_and_batch_get_query_executions(athena, env):
    ids = [ok(athena, f"SELECT {i}", env.db, env.output)["QueryExecutionId"] for i in range(3)]
    listed = []
    for page in athena.get_paginator("list_query_executions").paginate():
        listed += page["QueryExecutionIds"]
    assert set(ids) <= set(listed)
    unknown = str(uuid.uuid4())
    got = athena.batch_get_query_execution(QueryExecutionIds=ids + [unknown])
    assert sorted(e["QueryExecutionId"] for e in got["QueryExecutions"]) == sorted(ids)
    assert [u["QueryExecutionId"] for u in got["UnprocessedQueryExecutionIds"]] == [unknown]
    assert {e["Query"] for e in got["QueryExecutions"]} == {"SELECT 0", "SELECT 1", "SELECT 2"}


def test_client_request_token_idempotency(athena, env):
    token = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    a = start(athena, "SELECT 42", env.db, env.output, ClientRequestToken=token)
    b = start(athena, "SELECT 42", env.db, env.output, ClientRequestToken=token)
    assert a == b
    expect_error(
        "InvalidRequestException",
        athena.start_query_execution,
        QueryString="SELECT 43",
        QueryExecutionContext={"Database": env.db},
        ResultConfiguration={"OutputLocation": env.output},
        ClientRequestToken=token,
    )


def test_get_query_execution_unknown_id(athena):
    expect_error("InvalidRequestException", athena.get_query_execution, QueryExecutionId=str(uuid.uuid4()))


def test_start_without_output_location_in_primary(athena, env):
    expect_error("InvalidRequestException", athena.start_query_execution, QueryString="SELECT 1")


def test_syntax_error_rejected_at_start(athena, env):
    err = expect_error(
        "InvalidRequestException", athena.start_query_execution,
        QueryString="SELEC 1", ResultConfiguration={"OutputLocation": env.output},
    )
    assert err.response.get("AthenaErrorCode") == "MALFORMED_QUERY", err.response


def test_missing_table_fails_with_table_not_found(athena, env):
    ex = run(athena, "SELECT * FROM no_such_table", env.db, env.output)
    st = ex["Status"]
    assert st["State"] == "FAILED"
    assert "TABLE_NOT_FOUND" in st["StateChangeReason"]
    assert "no_such_table" in st["StateChangeReason"]
    assert st["AthenaError"]["ErrorCategory"] == 2
    assert st["AthenaError"]["ErrorType"] == 1301


def test_get_query_results_of_failed_query(athena, env):
    ex = run(athena, "SELECT * FROM no_such_table", env.db, env.output)
    assert ex["Status"]["State"] == "FAILED"
    expect_error("InvalidRequestException", athena.get_query_results, QueryExecutionId=ex["QueryExecutionId"])


# --------------------------------------------------------------------------------------------
# 4. work groups and named queries
# --------------------------------------------------------------------------------------------


def test_workgroup_output_location_used(athena, env):
    wg = uniq("wg")
    loc = f"s3://{env.bucket}/wg-results/"
    athena.create_work_group(Name=wg, Configuration={"ResultConfiguration": {"OutputLocation": loc}})
    qid = athena.start_query_execution(
        QueryString="SELECT 'hello' AS greeting", WorkGroup=wg, QueryExecutionContext={"Database": env.db}
    )["QueryExecutionId"]
    ex = wait(athena, qid)
    assert ex["Status"]["State"] == "SUCCEEDED", ex["Status"]
    assert ex["WorkGroup"] == wg
    assert ex["ResultConfiguration"]["OutputLocation"] == f"{loc}{qid}.csv"
    body = env.s3.get_object(Bucket=env.bucket, Key=f"wg-results/{qid}.csv")["Body"].read().decode()
    assert body.splitlines() == ['"greeting"', '"hello"']
    listed = athena.list_query_executions(WorkGroup=wg)["QueryExecutionIds"]
    assert qid in listed


def test_workgroup_crud(athena, env):
    wg = uniq("wg")
    loc = f"s3://{env.bucket}/a/"
    athena.create_work_group(
        Name=wg, Description="ct", Configuration={"ResultConfiguration": {"OutputLocation": loc}}
    )
    expect_error("InvalidRequestException", athena.create_work_group, Name=wg)
    got = athena.get_work_group(WorkGroup=wg)["WorkGroup"]
    assert got["Name"] == wg and got["State"] == "ENABLED" and got["Description"] == "ct"
    assert got["Configuration"]["ResultConfiguration"]["OutputLocation"] == loc
    names = [w["Name"] for w in athena.list_work_groups(MaxResults=50)["WorkGroups"]]
    assert "primary" in names and wg in names
    new = f"s3://{env.bucket}/b/"
    athena.update_work_group(
        WorkGroup=wg, ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": new}}
    )
    got = athena.get_work_group(WorkGroup=wg)["WorkGroup"]
    assert got["Configuration"]["ResultConfiguration"]["OutputLocation"] == new
    qid = athena.start_query_execution(QueryString="SELECT 1", WorkGroup=wg)["QueryExecutionId"]
    assert wait(athena, qid)["ResultConfiguration"]["OutputLocation"] == f"{new}{qid}.csv"
    athena.delete_work_group(WorkGroup=wg, RecursiveDeleteOption=True)
    expect_error("InvalidRequestException", athena.get_work_group, WorkGroup=wg)
    prim = athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert prim["Name"] == "primary" and prim["State"] == "ENABLED"


def test_enforced_workgroup_configuration_overrides_client(athena, env):
    wg = uniq("wg")
    loc = f"s3://{env.bucket}/enforced/"
    athena.create_work_group(
        Name=wg,
        Configuration={"ResultConfiguration": {"OutputLocation": loc}, "EnforceWorkGroupConfiguration": True},
    )
    qid = athena.start_query_execution(
        QueryString="SELECT 1", WorkGroup=wg, ResultConfiguration={"OutputLocation": f"s3://{env.bucket}/client/"}
    )["QueryExecutionId"]
    ex = wait(athena, qid)
    assert ex["ResultConfiguration"]["OutputLocation"] == f"{loc}{qid}.csv"
    assert f"enforced/{qid}.csv" in list_keys(env.s3, env.bucket, "enforced/")


def test_start_in_unknown_workgroup(athena, env):
    expect_error(
        "InvalidRequestException", athena.start_query_execution,
        QueryString="SELECT 1", WorkGroup=uniq("nowg"), ResultConfiguration={"OutputLocation": env.output},
    )


def test_named_queries(athena, env):
    sql = "SELECT element_clicked, count(*) FROM clicks GROUP BY 1"
    nid = athena.create_named_query(Name="top-clicks", Database=env.db, QueryString=sql, Description="d")["NamedQueryId"]
    nid2 = athena.create_named_query(Name="other", Database=env.db, QueryString="SELECT 1")["NamedQueryId"]
    got = athena.get_named_query(NamedQueryId=nid)["NamedQuery"]
    assert got["Name"] == "top-clicks" and got["Database"] == env.db and got["QueryString"] == sql
    assert got["Description"] == "d" and got["NamedQueryId"] == nid and got["WorkGroup"] == "primary"
    listed = []
    for page in athena.get_paginator("list_named_queries").paginate():
        listed += page["NamedQueryIds"]
    assert {nid, nid2} <= set(listed)
    unknown = str(uuid.uuid4())
    batch = athena.batch_get_named_query(NamedQueryIds=[nid, nid2, unknown])
    assert sorted(q["NamedQueryId"] for q in batch["NamedQueries"]) == sorted([nid, nid2])
    assert [u["NamedQueryId"] for u in batch["UnprocessedNamedQueryIds"]] == [unknown]
    athena.delete_named_query(NamedQueryId=nid)
    expect_error("InvalidRequestException", athena.get_named_query, NamedQueryId=nid)
    athena.delete_named_query(NamedQueryId=nid2)


# --------------------------------------------------------------------------------------------
# 5. catalog metadata through the Athena API
# --------------------------------------------------------------------------------------------


def test_data_catalogs(athena):
    cats = athena.list_data_catalogs()["DataCatalogsSummary"]
    assert {"CatalogName": "AwsDataCatalog", "Type": "GLUE"} in [
        {"CatalogName": c["CatalogName"], "Type": c["Type"]} for c in cats
    ]
    got = athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]
    assert got["Name"] == "AwsDataCatalog" and got["Type"] == "GLUE"


def test_list_databases_and_table_metadata(athena, clicks):
    dbs = []
    for page in athena.get_paginator("list_databases").paginate(CatalogName="AwsDataCatalog"):
        dbs += [d["Name"] for d in page["DatabaseList"]]
    assert clicks.db in dbs
    assert athena.get_database(CatalogName="AwsDataCatalog", DatabaseName=clicks.db)["Database"]["Name"] == clicks.db
    tables = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=clicks.db)["TableMetadataList"]
    assert [t["Name"] for t in tables] == ["clicks"]
    t = tables[0]
    assert [(c["Name"], c["Type"]) for c in t["Columns"]] == [
        ("element_clicked", "string"), ("time_spent", "int"), ("source_menu", "string"), ("created_at", "timestamp")
    ]
    assert [(c["Name"], c["Type"]) for c in t["PartitionKeys"]] == [("dt", "string")]
    assert t["TableType"] == "EXTERNAL_TABLE"
    one = athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=clicks.db, TableName="clicks")
    one = one["TableMetadata"]
    assert one["Name"] == "clicks" and one["Columns"] == t["Columns"] and one["PartitionKeys"] == t["PartitionKeys"]
    assert one["Parameters"].get("location", f"s3://{clicks.bucket}/events/") == f"s3://{clicks.bucket}/events/"


def test_get_table_metadata_unknown_table(athena, env):
    expect_error(
        "MetadataException", athena.get_table_metadata,
        CatalogName="AwsDataCatalog", DatabaseName=env.db, TableName="nope",
    )


# --------------------------------------------------------------------------------------------
# 6. the Glue API
# --------------------------------------------------------------------------------------------


def _json_sd(location, columns):
    return {
        "Columns": [{"Name": n, "Type": t} for n, t in columns],
        "Location": location,
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}},
    }


COLS = [("element_clicked", "string"), ("time_spent", "int"), ("source_menu", "string"), ("created_at", "timestamp")]


def test_glue_databases(glue):
    name = uniq()
    glue.create_database(DatabaseInput={"Name": name, "Description": "ct db"})
    got = glue.get_database(Name=name)["Database"]
    assert got["Name"] == name and got["Description"] == "ct db"
    names = []
    for page in glue.get_paginator("get_databases").paginate():
        names += [d["Name"] for d in page["DatabaseList"]]
    assert "default" in names and name in names
    glue.delete_database(Name=name)
    expect_error("EntityNotFoundException", glue.get_database, Name=name)


def test_glue_created_table_is_queryable(athena, glue, env):
    events = make_events()
    for d, evs in events.items():
        put_lines(env.s3, env.bucket, f"g/dt={d}/data.json", evs)
    glue.create_table(
        DatabaseName=env.db,
        TableInput={
            "Name": "gclicks",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "json", "EXTERNAL": "TRUE"},
            "StorageDescriptor": _json_sd(f"s3://{env.bucket}/g/", COLS),
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )
    glue.batch_create_partition(
        DatabaseName=env.db,
        TableName="gclicks",
        PartitionInputList=[
            {"Values": [d], "StorageDescriptor": _json_sd(f"s3://{env.bucket}/g/dt={d}/", COLS)} for d in DATES
        ],
    )
    _, rows = select(athena, "SELECT dt, count(*), sum(time_spent) FROM gclicks GROUP BY dt ORDER BY dt", env.db, env.output)
    assert rows == [[d, str(len(evs)), str(sum(e["time_spent"] for e in evs))] for d, evs in sorted(events.items())]


def test_athena_table_visible_in_glue(glue, clicks):
    t = glue.get_table(DatabaseName=clicks.db, Name="clicks")["Table"]
    assert t["Name"] == "clicks" and t["DatabaseName"] == clicks.db
    assert t["TableType"] == "EXTERNAL_TABLE"
    sd = t["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == COLS
    assert sd["Location"].rstrip("/") == f"s3://{clicks.bucket}/events"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert [(c["Name"], c["Type"]) for c in t["PartitionKeys"]] == [("dt", "string")]
    parts = glue.get_partitions(DatabaseName=clicks.db, TableName="clicks")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == list(DATES)


def test_glue_get_tables_expression_and_update_table(glue, env):
    for name in ("clicks_a", "clicks_b", "other"):
        glue.create_table(
            DatabaseName=env.db,
            TableInput={"Name": name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": _json_sd(f"s3://{env.bucket}/{name}/", COLS)},
        )
    all_names = sorted(t["Name"] for t in glue.get_tables(DatabaseName=env.db)["TableList"])
    assert all_names == ["clicks_a", "clicks_b", "other"]
    some = sorted(t["Name"] for t in glue.get_tables(DatabaseName=env.db, Expression="clicks_.*")["TableList"])
    assert some == ["clicks_a", "clicks_b"]
    glue.update_table(
        DatabaseName=env.db,
        TableInput={
            "Name": "other",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"owner_team": "web"},
            "StorageDescriptor": _json_sd(f"s3://{env.bucket}/other2/", COLS + [("page", "string")]),
        },
    )
    t = glue.get_table(DatabaseName=env.db, Name="other")["Table"]
    assert t["Parameters"]["owner_team"] == "web"
    assert t["StorageDescriptor"]["Location"] == f"s3://{env.bucket}/other2/"
    assert t["StorageDescriptor"]["Columns"][-1] == {"Name": "page", "Type": "string"}


def test_glue_partitions(glue, env):
    glue.create_table(
        DatabaseName=env.db,
        TableInput={
            "Name": "p",
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": _json_sd(f"s3://{env.bucket}/p/", COLS),
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )
    resp = glue.batch_create_partition(
        DatabaseName=env.db,
        TableName="p",
        PartitionInputList=[{"Values": [d], "StorageDescriptor": _json_sd(f"s3://{env.bucket}/p/dt={d}/", COLS)} for d in DATES],
    )
    assert not resp.get("Errors"), resp
    got = glue.get_partitions(DatabaseName=env.db, TableName="p", Expression="dt = '2023-11-16'")["Partitions"]
    assert [p["Values"] for p in got] == [["2023-11-16"]]
    got = glue.get_partitions(DatabaseName=env.db, TableName="p", Expression="dt > '2023-11-14'")["Partitions"]
    assert sorted(p["Values"][0] for p in got) == ["2023-11-15", "2023-11-16"]
    one = glue.get_partition(DatabaseName=env.db, TableName="p", PartitionValues=["2023-11-15"])["Partition"]
    assert one["Values"] == ["2023-11-15"]
    assert one["StorageDescriptor"]["Location"] == f"s3://{env.bucket}/p/dt=2023-11-15/"
    again = glue.batch_create_partition(
        DatabaseName=env.db, TableName="p",
        PartitionInputList=[{"Values": ["2023-11-15"], "StorageDescriptor": _json_sd(f"s3://{env.bucket}/p/x/", COLS)}],
    )
    assert [e["ErrorDetail"]["ErrorCode"] for e in again["Errors"]] == ["AlreadyExistsException"]
    glue.batch_delete_partition(DatabaseName=env.db, TableName="p", PartitionsToDelete=[{"Values": ["2023-11-15"]}])
    expect_error("EntityNotFoundException", glue.get_partition, DatabaseName=env.db, TableName="p", PartitionValues=["2023-11-15"])
    left = glue.get_partitions(DatabaseName=env.db, TableName="p")["Partitions"]
    assert sorted(p["Values"][0] for p in left) == ["2023-11-14", "2023-11-16"]


def test_glue_errors(glue, env):
    expect_error("EntityNotFoundException", glue.get_database, Name=uniq("missing"))
    expect_error("EntityNotFoundException", glue.get_table, DatabaseName=env.db, Name="missing")
    expect_error("EntityNotFoundException", glue.get_table, DatabaseName=uniq("missing"), Name="missing")
    expect_error("AlreadyExistsException", glue.create_database, DatabaseInput={"Name": env.db})
    ti = {"Name": "dup", "TableType": "EXTERNAL_TABLE", "StorageDescriptor": _json_sd(f"s3://{env.bucket}/dup/", COLS)}
    glue.create_table(DatabaseName=env.db, TableInput=ti)
    expect_error("AlreadyExistsException", glue.create_table, DatabaseName=env.db, TableInput=ti)


def test_glue_delete_table_and_missing_database(athena, glue, clicks):
    expect_error(
        "EntityNotFoundException", glue.create_table,
        DatabaseName=uniq("nodb"), TableInput={"Name": "t", "StorageDescriptor": _json_sd(f"s3://{clicks.bucket}/x/", COLS)},
    )
    glue.delete_table(DatabaseName=clicks.db, Name="clicks")
    expect_error("EntityNotFoundException", glue.get_table, DatabaseName=clicks.db, Name="clicks")
    ex = run(athena, "SELECT count(*) FROM clicks", clicks.db, clicks.output)
    assert ex["Status"]["State"] == "FAILED" and "TABLE_NOT_FOUND" in ex["Status"]["StateChangeReason"]


# --------------------------------------------------------------------------------------------
# 7. DDL
# --------------------------------------------------------------------------------------------


def test_alter_table_add_and_drop_partition(athena, clicks):
    extra = [{"element_clicked": "buy_now", "time_spent": 1, "source_menu": "top", "created_at": "2023-11-20 00:00:00"}] * 3
    put_lines(clicks.s3, clicks.bucket, "elsewhere/20/a.json", extra)
    ok(
        athena,
        f"ALTER TABLE clicks ADD PARTITION (dt = '2023-11-20') LOCATION 's3://{clicks.bucket}/elsewhere/20/'",
        clicks.db, clicks.output,
    )
    _, rows = select(athena, "SELECT count(*) FROM clicks WHERE dt = '2023-11-20'", clicks.db, clicks.output)
    assert rows == [["3"]]
    assert "dt=2023-11-20" in utility_values(athena, "SHOW PARTITIONS clicks", clicks.db, clicks.output)
    ok(athena, "ALTER TABLE clicks DROP PARTITION (dt = '2023-11-20')", clicks.db, clicks.output)
    parts = utility_values(athena, "SHOW PARTITIONS clicks", clicks.db, clicks.output)
    assert sorted(parts) == [f"dt={d}" for d in DATES]
    _, rows = select(athena, "SELECT count(*) FROM clicks WHERE dt = '2023-11-20'", clicks.db, clicks.output)
    assert rows == [["0"]]
    assert list_keys(clicks.s3, clicks.bucket, "elsewhere/") == ["elsewhere/20/a.json"]


def test_show_statements(athena, clicks):
    assert "clicks" in utility_values(athena, "SHOW TABLES", clicks.db, clicks.output)
    assert clicks.db in utility_values(athena, "SHOW DATABASES", clicks.db, clicks.output)
    cols = utility_values(athena, "SHOW COLUMNS IN clicks", clicks.db, clicks.output)
    assert cols == ["element_clicked", "time_spent", "source_menu", "created_at", "dt"]
    ex = ok(athena, "DESCRIBE clicks", clicks.db, clicks.output)
    text = "\n".join("\t".join(v or "" for v in r) for r in results(athena, ex["QueryExecutionId"])[0])
    for name in ("element_clicked", "time_spent", "created_at", "dt"):
        assert name in text
    ex = ok(athena, "SHOW CREATE TABLE clicks", clicks.db, clicks.output)
    ddl = "\n".join(r[0] or "" for r in results(athena, ex["QueryExecutionId"])[0])
    assert "CREATE EXTERNAL TABLE" in ddl
    assert "org.openx.data.jsonserde.JsonSerDe" in ddl
    assert f"s3://{clicks.bucket}/events" in ddl
    assert "PARTITIONED BY" in ddl


def test_drop_table_keeps_data(athena, clicks):
    ok(athena, "DROP TABLE clicks", clicks.db, clicks.output)
    assert "clicks" not in utility_values(athena, "SHOW TABLES", clicks.db, clicks.output)
    ex = run(athena, "SELECT count(*) FROM clicks", clicks.db, clicks.output)
    assert ex["Status"]["State"] == "FAILED" and "TABLE_NOT_FOUND" in ex["Status"]["StateChangeReason"]
    assert len(list_keys(clicks.s3, clicks.bucket, "events/")) == len(DATES)
    ok(athena, "DROP TABLE IF EXISTS clicks", clicks.db, clicks.output)


def test_create_view(athena, clicks):
    ok(
        athena,
        "CREATE VIEW per_element AS SELECT element_clicked, count(*) AS n FROM clicks GROUP BY element_clicked",
        clicks.db, clicks.output,
    )
    names, rows = select(athena, "SELECT * FROM per_element", clicks.db, clicks.output)
    assert names == ["element_clicked", "n"]
    assert {r[0]: int(r[1]) for r in rows} == counts_by_element(clicks.events)
    _, rows = select(athena, "SELECT n FROM per_element WHERE element_clicked = 'search'", clicks.db, clicks.output)
    assert rows == [[str(counts_by_element(clicks.events)["search"])]]


def test_view_is_a_virtual_view_in_glue(athena, glue, clicks):
    ok(athena, "CREATE VIEW v AS SELECT element_clicked FROM clicks", clicks.db, clicks.output)
    t = glue.get_table(DatabaseName=clicks.db, Name="v")["Table"]
    assert t["TableType"] == "VIRTUAL_VIEW"
    assert t["ViewOriginalText"].startswith("/* Presto View: ")


def test_msck_repair_picks_up_new_partitions(athena, clicks):
    put_lines(clicks.s3, clicks.bucket, "events/dt=2023-11-17/part-0.json", make_events()["2023-11-14"])
    ok(athena, "MSCK REPAIR TABLE clicks", clicks.db, clicks.output)
    parts = utility_values(athena, "SHOW PARTITIONS clicks", clicks.db, clicks.output)
    assert sorted(parts) == [f"dt={d}" for d in DATES] + ["dt=2023-11-17"]
    _, rows = select(athena, "SELECT count(*) FROM clicks WHERE dt = '2023-11-17'", clicks.db, clicks.output)
    assert rows == [[str(PER_DATE["2023-11-14"])]]


def test_create_database_twice(athena, env):
    ex = run(athena, f"CREATE DATABASE {env.db}", output=env.output)
    assert ex["Status"]["State"] == "FAILED"
    assert "already exists" in ex["Status"]["StateChangeReason"].lower()
    ok(athena, f"CREATE DATABASE IF NOT EXISTS {env.db}", output=env.output)


def test_qualified_name_from_another_database(athena, clicks):
    _, rows = select(athena, f"SELECT count(*) FROM {clicks.db}.clicks", "default", clicks.output)
    assert rows == [[str(sum(PER_DATE.values()))]]
    _, rows = select(athena, f'SELECT count(*) FROM awsdatacatalog."{clicks.db}"."clicks"', "default", clicks.output)
    assert rows == [[str(sum(PER_DATE.values()))]]


def test_unknown_database_fails_with_schema_not_found(athena, env):
    ex = run(athena, "SELECT * FROM t", uniq("nodb"), env.output)
    assert ex["Status"]["State"] == "FAILED"
    assert "SCHEMA_NOT_FOUND" in ex["Status"]["StateChangeReason"]


def test_ddl_results_have_no_rows(athena, env):
    ex = ok(athena, f"CREATE EXTERNAL TABLE e (a string) LOCATION 's3://{env.bucket}/e/'", env.db, env.output)
    page = athena.get_query_results(QueryExecutionId=ex["QueryExecutionId"])
    assert page["ResultSet"]["Rows"] == []


def test_pyathena_failed_query_raises(clicks, firelocal_endpoint):
    from pyathena.error import OperationalError

    conn = _connect(firelocal_endpoint, clicks)
    try:
        with pytest.raises(OperationalError) as ei:
            conn.cursor().execute("SELECT * FROM no_such_table")
    finally:
        conn.close()
    assert "TABLE_NOT_FOUND" in str(ei.value)


AGG_SQL = "SELECT element_clicked, count(*) AS n, sum(time_spent) AS total FROM clicks GROUP BY element_clicked"


def test_ctas_parquet(athena, clicks):
    _, want = select(athena, AGG_SQL, clicks.db, clicks.output)
    ok(
        athena,
        f"CREATE TABLE t2 WITH (format = 'PARQUET', external_location = 's3://{clicks.bucket}/ctas/') AS {AGG_SQL}",
        clicks.db, clicks.output,
    )
    names, got = select(athena, "SELECT element_clicked, n, total FROM t2", clicks.db, clicks.output)
    assert names == ["element_clicked", "n", "total"]
    assert sorted(got) == sorted(want)
    keys = list_keys(clicks.s3, clicks.bucket, "ctas/")
    assert keys
    bodies = [clicks.s3.get_object(Bucket=clicks.bucket, Key=k)["Body"].read() for k in keys]
    assert any(b[:4] == b"PAR1" and b[-4:] == b"PAR1" for b in bodies)


def test_ctas_json(athena, clicks):
    _, want = select(athena, AGG_SQL, clicks.db, clicks.output)
    ok(
        athena,
        f"CREATE TABLE tj WITH (format = 'JSON', external_location = 's3://{clicks.bucket}/ctas-json/') AS {AGG_SQL}",
        clicks.db, clicks.output,
    )
    _, got = select(athena, "SELECT element_clicked, n, total FROM tj", clicks.db, clicks.output)
    assert sorted(got) == sorted(want)
    assert list_keys(clicks.s3, clicks.bucket, "ctas-json/")


def test_ctas_partitioned(athena, clicks):
    ok(
        athena,
        f"CREATE TABLE tp WITH (format = 'PARQUET', external_location = 's3://{clicks.bucket}/ctas-p/',"
        f" partitioned_by = ARRAY['dt']) AS SELECT element_clicked, time_spent, dt FROM clicks",
        clicks.db, clicks.output,
    )
    _, rows = select(athena, "SELECT dt, count(*) FROM tp GROUP BY dt ORDER BY dt", clicks.db, clicks.output)
    assert rows == [[d, str(PER_DATE[d])] for d in DATES]
    keys = list_keys(clicks.s3, clicks.bucket, "ctas-p/")
    assert {k.split("/")[1] for k in keys} == {f"dt={d}" for d in DATES}
    assert sorted(utility_values(athena, "SHOW PARTITIONS tp", clicks.db, clicks.output)) == [f"dt={d}" for d in DATES]


def test_partition_projection_without_msck(athena, env):
    evs = make_events()["2023-11-15"]
    put_lines(env.s3, env.bucket, "proj/2023-11-15/x.json", evs)
    ok(
        athena,
        f"""CREATE EXTERNAL TABLE proj (element_clicked string, time_spent int)
        PARTITIONED BY (dt string)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://{env.bucket}/proj/'
        TBLPROPERTIES (
          'projection.enabled' = 'true',
          'projection.dt.type' = 'date',
          'projection.dt.range' = '2023-11-14,2023-11-16',
          'projection.dt.format' = 'yyyy-MM-dd',
          'storage.location.template' = 's3://{env.bucket}/proj/${{dt}}/'
        )""",
        env.db, env.output,
    )
    _, rows = select(athena, "SELECT dt, count(*) FROM proj GROUP BY dt", env.db, env.output)
    assert rows == [["2023-11-15", str(len(evs))]]
    _, rows = select(athena, "SELECT count(*) FROM proj WHERE dt = '2023-11-15'", env.db, env.output)
    assert rows == [[str(len(evs))]]
    _, rows = select(athena, "SELECT count(*) FROM proj WHERE dt = '2023-11-14'", env.db, env.output)
    assert rows == [["0"]]


def test_gzip_ndjson_objects_are_read(athena, env):
    evs = [e for d in DATES for e in make_events()[d]]
    put_lines(env.s3, env.bucket, "gz/part-1.json.gz", evs[:7], compress=True)
    put_lines(env.s3, env.bucket, "gz/part-2.json", evs[7:])
    ok(
        athena,
        f"CREATE EXTERNAL TABLE gz (element_clicked string, time_spent int) ROW FORMAT SERDE"
        f" 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{env.bucket}/gz/'",
        env.db, env.output,
    )
    _, rows = select(athena, "SELECT count(*), sum(time_spent) FROM gz", env.db, env.output)
    assert rows == [[str(len(evs)), str(sum(e["time_spent"] for e in evs))]]


def test_open_csv_serde_skip_header(athena, env):
    body = 'name,qty,note\n"a",1,"x, y"\n"b",2,"plain"\n"c",3,"say ""hi"""\n'
    env.s3.put_object(Bucket=env.bucket, Key="csv/data.csv", Body=body.encode())
    ok(
        athena,
        f"""CREATE EXTERNAL TABLE csvt (name string, qty string, note string)
        ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
        WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\\\\')
        LOCATION 's3://{env.bucket}/csv/'
        TBLPROPERTIES ('skip.header.line.count' = '1')""",
        env.db, env.output,
    )
    _, rows = select(athena, "SELECT name, CAST(qty AS integer), note FROM csvt ORDER BY name", env.db, env.output)
    assert rows == [["a", "1", "x, y"], ["b", "2", "plain"], ["c", "3", 'say "hi"']]


def test_row_format_delimited(athena, env):
    env.s3.put_object(Bucket=env.bucket, Key="delim/d.csv", Body=b"a,1,2.5\nb,2,3.5\nc,3,\n")
    ok(
        athena,
        f"""CREATE EXTERNAL TABLE delim (name string, n int, x double)
        ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
        LOCATION 's3://{env.bucket}/delim/'""",
        env.db, env.output,
    )
    _, rows = select(athena, "SELECT name, n, x FROM delim ORDER BY name", env.db, env.output)
    assert rows == [["a", "1", "2.5"], ["b", "2", "3.5"], ["c", "3", None]]
    _, rows = select(athena, "SELECT sum(n), sum(x) FROM delim", env.db, env.output)
    assert rows == [["6", "6.0"]]


MALFORMED = b'{"element_clicked":"search","time_spent":1}\n{not json\n{"element_clicked":"buy_now","time_spent":2}\n'


def test_ignore_malformed_json(athena, env):
    env.s3.put_object(Bucket=env.bucket, Key="bad/a.json", Body=MALFORMED)
    ok(
        athena,
        f"""CREATE EXTERNAL TABLE bad (element_clicked string, time_spent int)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
        LOCATION 's3://{env.bucket}/bad/'""",
        env.db, env.output,
    )
    _, rows = select(
        athena, "SELECT element_clicked, time_spent FROM bad WHERE element_clicked IS NOT NULL ORDER BY time_spent",
        env.db, env.output,
    )
    assert rows == [["search", "1"], ["buy_now", "2"]]


def test_malformed_json_fails_without_ignore(athena, env):
    env.s3.put_object(Bucket=env.bucket, Key="bad/a.json", Body=MALFORMED)
    ok(
        athena,
        f"""CREATE EXTERNAL TABLE bad (element_clicked string, time_spent int)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
        LOCATION 's3://{env.bucket}/bad/'""",
        env.db, env.output,
    )
    ex = run(athena, "SELECT * FROM bad", env.db, env.output)
    assert ex["Status"]["State"] == "FAILED"
    assert "HIVE_CURSOR_ERROR" in ex["Status"]["StateChangeReason"]


# --------------------------------------------------------------------------------------------
# 8. the AWS CLI
# --------------------------------------------------------------------------------------------


def test_aws_cli_start_and_get_results(aws_cli, athena, bucket):
    out = aws_cli(
        "athena", "start-query-execution",
        "--query-string", "SELECT 'cli' AS source, 3 AS n",
        "--result-configuration", f"OutputLocation=s3://{bucket}/cli/",
        "--output", "json",
        check=True,
    )
    qid = json.loads(out.stdout)["QueryExecutionId"]
    assert wait(athena, qid)["Status"]["State"] == "SUCCEEDED"
    got = aws_cli("athena", "get-query-execution", "--query-execution-id", qid, "--output", "json", check=True)
    assert json.loads(got.stdout)["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
    res = aws_cli("athena", "get-query-results", "--query-execution-id", qid, "--output", "json", check=True)
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in json.loads(res.stdout)["ResultSet"]["Rows"]]
    assert rows == [["source", "n"], ["cli", "3"]]
