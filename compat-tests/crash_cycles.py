"""Crash cycles (issue #14): firelocal with --data-dir is killed with SIGKILL at random moments
while Firehose records and S3 objects flow in, then restarted. At the end every acknowledged
record must have been delivered (at least once; duplicates are counted), every acknowledged
object must be readable, the S3 catalog and its files must agree (no orphan file, no row without
its file), and the start after a crash must stay fast.

    python compat-tests/crash_cycles.py --cycles 100      # the figures in docs/hardening.md

compat-tests/test_crash_cycles.py runs a short version in CI.
"""

import argparse
import json
import os
import random
import sqlite3
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from conftest import _firelocal_bin, _read_banner


def client(endpoint, service):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=5),
    )


def start(binary, data_dir):
    """Starts firelocal on a free port: (process, endpoint, seconds to the ready line)."""
    t = time.monotonic()
    proc = subprocess.Popen(
        [str(binary), "serve", "--port", "0", "--data-dir", str(data_dir), "--log-level", "warn", "--firehose-max-interval", "1s"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    endpoint = _read_banner(proc, 30)
    return proc, endpoint, time.monotonic() - t


def traffic(endpoint, state, stop):
    """Sends record batches and objects until `stop` is set or the server dies; remembers what
    was acknowledged."""
    fh, s3 = client(endpoint, "firehose"), client(endpoint, "s3")
    while not stop.is_set():
        try:
            seqs = list(range(state["next"], state["next"] + 10))
            state["next"] += 10
            out = fh.put_record_batch(DeliveryStreamName="crash", Records=[{"Data": (json.dumps({"seq": s}) + "\n").encode()} for s in seqs])
            for s, r in zip(seqs, out["RequestResponses"]):
                if "RecordId" in r:
                    state["acked"].add(s)
            key = f"objects/{state['next']}"
            body = os.urandom(random.choice([100, 20_000, 70_000]))
            s3.put_object(Bucket="crash", Key=key, Body=body)
            state["objects"][key] = len(body)
        except Exception:
            return


def catalog_check(data_dir):
    """(orphan files, rows whose file is missing) in the S3 store of a stopped server."""
    db = sqlite3.connect(Path(data_dir) / "state.sqlite")
    named = {r[0] for r in db.execute("SELECT file FROM s3_objects WHERE file IS NOT NULL UNION SELECT file FROM s3_parts WHERE file IS NOT NULL")}
    db.close()
    on_disk = {p.name for p in (Path(data_dir) / "s3" / "blobs").glob("*/*") if p.is_file()}
    return len(on_disk - named), len(named - on_disk)


def run(cycles, seed=7, binary=None, data_dir=None):
    random.seed(seed)
    binary = binary or _firelocal_bin()
    own_dir = data_dir is None
    data_dir = data_dir or tempfile.mkdtemp(prefix="crash-cycles-")
    state = {"next": 0, "acked": set(), "objects": {}}
    starts = []
    for cycle in range(cycles):
        proc, endpoint, took = start(binary, data_dir)
        if cycle == 0:
            client(endpoint, "s3").create_bucket(Bucket="crash")
            client(endpoint, "firehose").create_delivery_stream(
                DeliveryStreamName="crash",
                ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": "arn:aws:s3:::crash", "Prefix": "c/",
                                                   "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1}},
            )
        else:
            starts.append(took)
        stop = threading.Event()
        writer = threading.Thread(target=traffic, args=(endpoint, state, stop))
        writer.start()
        time.sleep(random.uniform(0.05, 0.6))
        proc.kill()
        proc.wait()
        stop.set()
        writer.join()
    # A last clean start: deliver everything, then read it all back.
    proc, endpoint, took = start(binary, data_dir)
    starts.append(took)
    requests.post(f"{endpoint}/_firelocal/firehose/flush", timeout=120).raise_for_status()
    s3 = client(endpoint, "s3")
    delivered = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash", Prefix="c/"):
        for o in page.get("Contents", []):
            for line in s3.get_object(Bucket="crash", Key=o["Key"])["Body"].read().splitlines():
                delivered.append(json.loads(line)["seq"])
    lost_objects = [k for k, size in state["objects"].items() if s3.head_object(Bucket="crash", Key=k)["ContentLength"] != size]
    proc.terminate()
    proc.wait(timeout=30)
    orphans, missing = catalog_check(data_dir)
    if own_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
    seen = set(delivered)
    return {
        "cycles": cycles,
        "records_acknowledged": len(state["acked"]),
        "records_delivered": len(delivered),
        "records_lost": len(state["acked"] - seen),
        "duplicates": len(delivered) - len(seen),
        "objects_acknowledged": len(state["objects"]),
        "objects_lost_or_wrong": len(lost_objects),
        "orphan_files": orphans,
        "rows_without_file": missing,
        "start_after_crash_ms_median": round(statistics.median(starts) * 1000, 1),
        "start_after_crash_ms_max": round(max(starts) * 1000, 1),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(json.dumps(run(args.cycles, args.seed), indent=2))
