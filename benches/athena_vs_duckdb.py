"""Athena benchmark: firelocal's StartQueryExecution -> SUCCEEDED time against duckdb's
read_json on the same files, in the same run, plus the small-table latency.

Generates N clickstream events (default 1,000,000, ~250 MB of NDJSON) across date partitions,
writes them to a local folder (for duckdb) and uploads the same bytes to a running firelocal
(for Athena), creates the table, MSCK REPAIRs it, then times each query REPEAT times and
reports the median of both engines.

Usage:
    ./target/release/firelocal serve --port 4700 [--athena-scan-cache-mb 0] &
    python benches/athena_vs_duckdb.py http://127.0.0.1:4700 [events] [repeat]

"first" is the first run of a query (its columns not yet decoded); "median" is over REPEAT runs
(later runs read decoded columns from the scan cache unless the server runs with
--athena-scan-cache-mb 0); "server" is Statistics.TotalExecutionTimeInMillis (submission to
completion as the service measures it, without the client's polling granularity). The client
polls every POLL_SECONDS (default 0.02).

Needs boto3 and duckdb (pip install boto3 duckdb).
"""

import json
import os
import random
import statistics
import sys
import shutil
import tempfile
import time
import uuid

import boto3
import duckdb

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 5
# The client's polling interval. boto3 costs ~1 ms of CPU a call, so polling faster steals a
# noticeable share of the 2 cores from the engine; pyathena itself polls every second.
POLL = float(os.environ.get("POLL_SECONDS", "0.02"))
DAYS = ["2023-11-10", "2023-11-11", "2023-11-12", "2023-11-13", "2023-11-14", "2023-11-15", "2023-11-16"]
FILES_PER_DAY = 4
ELEMENTS = ["buy_now", "add_to_cart", "view_product", "search", "checkout", "wishlist", "share", "review"]
MENUS = ["home", "category", "search_results", "recommendations", "cart"]

kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
s3, athena = boto3.client("s3", **kw), boto3.client("athena", **kw)


def generate(root):
    rng = random.Random(7)
    per_file = EVENTS // (len(DAYS) * FILES_PER_DAY)
    total = 0
    paths = []
    for day in DAYS:
        for f in range(FILES_PER_DAY):
            lines = []
            for _ in range(per_file):
                h, m, s = rng.randrange(24), rng.randrange(60), rng.randrange(60)
                lines.append(json.dumps({
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "session_id": f"s-{rng.randrange(50_000):06d}",
                    "user_id": rng.randrange(20_000),
                    "element_clicked": rng.choice(ELEMENTS),
                    "source_menu": rng.choice(MENUS),
                    "page": f"/products/{rng.randrange(5000)}",
                    "time_spent": rng.randrange(1, 60_000),
                    "price": round(rng.uniform(1, 500), 2),
                    "is_mobile": rng.random() < 0.6,
                    "created_at": f"{day} {h:02d}:{m:02d}:{s:02d}",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
                }))
            body = ("\n".join(lines) + "\n").encode()
            rel = f"events/dt={day}/part-{f:04d}.json"
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(body)
            paths.append((rel, path))
            total += len(body)
    return paths, total, per_file * len(DAYS) * FILES_PER_DAY


def run(sql, db="bench"):
    t0 = time.perf_counter()
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": db}, ResultConfiguration={"OutputLocation": "s3://bench/results/"})["QueryExecutionId"]
    while True:
        st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if st["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(POLL)
    elapsed = time.perf_counter() - t0
    total_ms = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Statistics"]["TotalExecutionTimeInMillis"]
    if st["State"] != "SUCCEEDED":
        raise SystemExit(f"{sql}: {st}")
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"][1:]
    run.server_ms = total_ms
    return elapsed, [[d.get("VarCharValue") for d in r["Data"]] for r in rows]


QUERIES = {
    "group_by": (
        "SELECT element_clicked, count(*) AS n, avg(time_spent) AS avg_ms FROM clicks GROUP BY element_clicked ORDER BY n DESC",
        "SELECT element_clicked, count(*) AS n, avg(time_spent) AS avg_ms FROM clicks GROUP BY element_clicked ORDER BY n DESC",
    ),
    "time_bucketed": (
        "SELECT date_trunc('hour', created_at) AS hour, count(*) AS n, count(DISTINCT session_id) AS sessions FROM clicks"
        " WHERE dt BETWEEN '2023-11-12' AND '2023-11-14' AND element_clicked = 'buy_now' GROUP BY 1 ORDER BY 1",
        "SELECT date_trunc('hour', created_at) AS hour, count(*) AS n, count(DISTINCT session_id) AS sessions FROM clicks"
        " WHERE dt BETWEEN '2023-11-12' AND '2023-11-14' AND element_clicked = 'buy_now' GROUP BY 1 ORDER BY 1",
    ),
}


def main():
    root = tempfile.mkdtemp(prefix="athena-bench-")
    try:
        bench(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench(root):
    t0 = time.perf_counter()
    paths, size, n = generate(root)
    print(f"generated {n} events, {size / 1e6:.0f} MB NDJSON in {len(paths)} files ({time.perf_counter() - t0:.1f} s)")
    s3.create_bucket(Bucket="bench")
    for rel, path in paths:
        with open(path, "rb") as fh:
            s3.put_object(Bucket="bench", Key=rel, Body=fh.read())
    run("CREATE DATABASE IF NOT EXISTS bench", "default")
    run("CREATE EXTERNAL TABLE clicks (event_id string, session_id string, user_id bigint, element_clicked string, source_menu string,"
        " page string, time_spent int, price double, is_mobile boolean, created_at timestamp, user_agent string)"
        " PARTITIONED BY (dt string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://bench/events/'")
    run("MSCK REPAIR TABLE clicks")

    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW clicks AS SELECT * FROM read_json('{root}/events/*/*.json', format='newline_delimited', hive_partitioning=true,"
        " columns={event_id: 'VARCHAR', session_id: 'VARCHAR', user_id: 'BIGINT', element_clicked: 'VARCHAR', source_menu: 'VARCHAR',"
        " page: 'VARCHAR', time_spent: 'INTEGER', price: 'DOUBLE', is_mobile: 'BOOLEAN', created_at: 'TIMESTAMP', user_agent: 'VARCHAR'})"
    )
    print(f"{'query':<16}{'first s':>9}{'median s':>10}{'server ms':>11}{'duckdb s':>10}{'ratio':>7}{'server ratio':>14}   rows")
    for name, (athena_sql, duck_sql) in QUERIES.items():
        fl, dk, srv = [], [], []
        rows = None
        for _ in range(REPEAT):
            e, rows = run(athena_sql)
            fl.append(e)
            srv.append(run.server_ms)
            t = time.perf_counter()
            drows = con.execute(duck_sql).fetchall()
            dk.append(time.perf_counter() - t)
        assert len(rows) == len(drows), (name, len(rows), len(drows))
        f, d = statistics.median(fl), statistics.median(dk)
        sm = statistics.median(srv)
        print(f"{name:<16}{fl[0]:>9.3f}{f:>10.3f}{sm:>11.0f}{d:>10.3f}{f / d:>7.2f}{sm / 1000 / d:>14.2f}   {len(rows)}")

    # Small table: 1,000 rows, start to SUCCEEDED.
    small = "\n".join(json.dumps({"element_clicked": ELEMENTS[i % 8], "time_spent": i}) for i in range(1000)) + "\n"
    s3.put_object(Bucket="bench", Key="small/part-0000.json", Body=small.encode())
    run("CREATE EXTERNAL TABLE small (element_clicked string, time_spent int) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://bench/small/'")
    global POLL
    POLL = 0.001
    lat, srv = [], []
    for _ in range(50):
        lat.append(run("SELECT element_clicked, count(*) FROM small GROUP BY 1")[0])
        srv.append(run.server_ms)
    lat.sort()
    srv.sort()
    print(f"small table (1,000 rows) start->SUCCEEDED: client p50 {lat[25] * 1000:.1f} ms, p90 {lat[45] * 1000:.1f} ms; server p50 {srv[25]} ms, p90 {srv[45]} ms")


if __name__ == "__main__":
    main()
