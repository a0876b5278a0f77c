"""Soak (issue #14): the seed's mixed traffic from 32 concurrent clients for a while against one
firelocal (the clickstream stack deployed with --init): API Gateway POSTs through the VTL
template into Firehose and the Python transform, PutRecordBatch, S3 PUT / GET / LIST, Athena
queries and console pages. Every minute (or `--every` seconds) it reports requests, errors, p99
latency, the server's RSS, open file descriptors and child processes (Lambda workers).

    python compat-tests/soak.py --seconds 600          # the figures in docs/hardening.md

compat-tests/test_soak.py runs a short version in CI.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import threading
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from conftest import _firelocal_bin, _read_banner

ROOT = Path(__file__).resolve().parent.parent


def proc_stats(pid):
    """(RSS MiB, open fds, child processes) of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    children = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == pid)
    return rss, fds, children


def _ppid(p):
    try:
        return int(p.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def run(seconds, clients=32, every=60, binary=None):
    binary = binary or _firelocal_bin()
    proc = subprocess.Popen(
        [str(binary), "serve", "--port", "0", "--log-level", "warn", "--firehose-max-interval", "2s", "--init", str(ROOT / "fixtures" / "clickstream.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    endpoint = _read_banner(proc, 60)
    outputs = requests.get(f"{endpoint}/_firelocal/console/api/stacks/clickstream/outputs", timeout=10).json()
    cfg = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}, max_pool_connections=clients)
    mk = lambda s: boto3.client(s, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
    s3, fh, athena = mk("s3"), mk("firehose"), mk("athena")
    s3.create_bucket(Bucket="soak")
    lock = threading.Lock()
    window = {"latencies": [], "errors": [], "count": 0}
    stop = threading.Event()

    def record(started, error=None):
        with lock:
            window["latencies"].append(time.monotonic() - started)
            window["count"] += 1
            if error:
                window["errors"].append(error)

    def client_loop(i):
        http = requests.Session()
        rng = random.Random(i)
        while not stop.is_set():
            op = rng.choices(["api", "batch", "put", "get", "list", "athena", "console"], weights=[30, 20, 20, 15, 8, 2, 5])[0]
            t = time.monotonic()
            try:
                if op == "api":
                    r = http.post(endpoint + outputs["LocalInvokePath"], json={"element_clicked": rng.choice(["nav", "buy", "search"]), "time_spent": rng.randint(1, 60)}, timeout=30)
                    assert r.status_code == 200, r.text
                elif op == "batch":
                    out = fh.put_record_batch(DeliveryStreamName=outputs["StreamName"], Records=[{"Data": json.dumps({"element_clicked": "batch", "time_spent": 1}).encode()}] * 20)
                    assert out["FailedPutCount"] == 0
                elif op == "put":
                    s3.put_object(Bucket="soak", Key=f"k{rng.randint(0, 500)}", Body=os.urandom(rng.choice([512, 4096, 40_000])))
                elif op == "get":
                    try:
                        s3.get_object(Bucket="soak", Key=f"k{rng.randint(0, 500)}")["Body"].read()
                    except s3.exceptions.NoSuchKey:
                        pass
                elif op == "list":
                    s3.list_objects_v2(Bucket="soak", MaxKeys=100)
                elif op == "athena":
                    q = athena.start_query_execution(QueryString=f"SELECT count(*) FROM {outputs['TableName']}", QueryExecutionContext={"Database": outputs["DatabaseName"]}, WorkGroup=outputs["WorkGroup"])
                    while athena.get_query_execution(QueryExecutionId=q["QueryExecutionId"])["QueryExecution"]["Status"]["State"] in ("QUEUED", "RUNNING"):
                        time.sleep(0.05)
                else:
                    r = http.get(f"{endpoint}/_firelocal/console/{rng.choice(['', 'firehose', 'lambda', 's3', 'athena'])}", timeout=30)
                    assert r.status_code == 200
                record(t)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                record(t, f"{op}: {e!r}"[:300])

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    rows = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            time.sleep(min(every, max(0.1, seconds - (time.monotonic() - started))))
            with lock:
                lat, errors, count = window["latencies"], window["errors"], window["count"]
                window.update(latencies=[], errors=[], count=0)
            rss, fds, children = proc_stats(proc.pid)
            p99 = statistics.quantiles(lat, n=100)[98] * 1000 if len(lat) > 1 else 0.0
            rows.append({"t_s": round(time.monotonic() - started), "requests": count, "errors": len(errors), "p99_ms": round(p99, 1), "rss_mib": round(rss, 1), "fds": fds, "children": children, "first_errors": errors[:3]})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=30)
        proc.terminate()
        proc.wait(timeout=60)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--every", type=int, default=60)
    args = ap.parse_args()
    rows = run(args.seconds, args.clients, args.every)
    total = sum(r["requests"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    half = [r["rss_mib"] for r in rows[len(rows) // 2:]]
    print(json.dumps({"requests": total, "errors": errors, "rss_growth_last_half_pct": round((max(half) / min(half) - 1) * 100, 1) if half else 0}))
