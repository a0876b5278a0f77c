"""Snapshots of the seed's whole pipeline, taken while clicks keep flowing through API Gateway:
a second firelocal started from the file (`serve --snapshot`) has every click the first one had
acknowledged before the save began, each exactly once (in S3 or still buffered), and the
pipeline itself (stack, API, transform Lambda, stream, Glue table, Athena, QuickSight) keeps
working on it."""

import json
import pathlib
import subprocess
import threading
import time
import urllib.request

from conftest import _firelocal_bin, make_client, serve

ROOT = pathlib.Path(__file__).resolve().parent.parent


def post(endpoint, path, seq, element="snapshot_click"):
    body = json.dumps({"element_clicked": element, "time_spent": seq, "source_menu": "test", "created_at": "2026-11-26 10:00:00"}).encode()
    req = urllib.request.Request(endpoint + path, data=body, method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200, r.read()


def flush(endpoint):
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/_firelocal/firehose/flush", method="POST"), timeout=60).read()


def outputs(endpoint):
    return json.loads(urllib.request.urlopen(f"{endpoint}/_firelocal/console/api/stacks/clickstream/outputs").read())


def clicks(endpoint, bucket):
    s3 = make_client(endpoint, "s3")
    seqs = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="clickstream/"):
        for o in page.get("Contents", []):
            for line in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode().splitlines():
                seqs.append(json.loads(line)["time_spent"])
    return seqs


def athena(endpoint, sql, database, workgroup):
    client = make_client(endpoint, "athena")
    qid = client.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup)["QueryExecutionId"]
    for _ in range(600):
        state = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    assert state["State"] == "SUCCEEDED", state
    rows = client.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in r["Data"]] for r in rows[1:]]


def test_a_snapshot_taken_under_traffic_restores_the_whole_pipeline(tmp_path_factory, tmp_path):
    snap = tmp_path / "pipeline.tar.zst"
    template = str(ROOT / "fixtures" / "clickstream.yaml")
    with serve(tmp_path_factory, "--init", template, "--init-param", "BufferSeconds=900") as a:
        out = outputs(a)
        path = out["LocalInvokePath"]
        # Some clicks delivered to S3, some left buffered.
        for seq in range(0, 40):
            post(a, path, seq)
        flush(a)
        for seq in range(40, 80):
            post(a, path, seq)

        # Clicks keep coming while the snapshot is taken.
        acked, stop = [], threading.Event()

        def traffic():
            seq = 1000
            while not stop.is_set():
                post(a, path, seq)
                acked.append((time.monotonic(), seq))
                seq += 1

        t = threading.Thread(target=traffic)
        t.start()
        time.sleep(0.3)
        started = time.monotonic()
        saved = subprocess.run([str(_firelocal_bin()), "snapshot", "save", str(snap), "--endpoint", a], capture_output=True, text=True, timeout=120)
        time.sleep(0.2)
        stop.set()
        t.join()
        assert saved.returncode == 0, saved.stderr
        before = {seq for at, seq in acked if at < started}
        all_acked = {seq for _, seq in acked} | set(range(80))
        assert len(before) > 0

    with serve(tmp_path_factory, "--snapshot", str(snap)) as b:
        assert outputs(b) == out
        cfn = make_client(b, "cloudformation")
        assert cfn.describe_stacks(StackName="clickstream")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        flush(b)
        restored = clicks(b, out["BucketName"])
        assert len(restored) == len(set(restored)), "no click twice"
        assert set(range(80)) | before <= set(restored), "every click acknowledged before the save"
        assert set(restored) <= all_acked

        # The restored pipeline runs: API -> Firehose -> transform Lambda -> S3 -> Athena.
        post(b, path, 5_000_000, element="after_restore")
        flush(b)
        assert 5_000_000 in clicks(b, out["BucketName"])
        db, wg = out["DatabaseName"], out["WorkGroup"]
        athena(b, f"MSCK REPAIR TABLE {out['TableName']}", db, wg)
        rows = athena(b, f"SELECT count(*), count(DISTINCT time_spent) FROM {out['TableName']}", db, wg)
        assert rows == [[str(len(restored) + 1), str(len(restored) + 1)]]

        qs = make_client(b, "quicksight")
        ids = [d["DashboardId"] for d in qs.list_dashboards(AwsAccountId="000000000000")["DashboardSummaryList"]]
        assert out["DashboardId"] in ids
        assert make_client(b, "lambda").get_function(FunctionName="clickstream-transform")["Configuration"]["State"] == "Active"
