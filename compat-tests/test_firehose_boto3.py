"""Kinesis Data Firehose compatibility tests driven by boto3 (and a few AWS CLI v1 calls).

Delivery is checked where it lands: in firelocal's own S3, through the boto3 S3 client. Every
assertion states what real AWS Firehose does; a failure here is a firelocal bug, not a test to
loosen. The only firelocal-specific piece is `POST /_firelocal/firehose/flush`, which stands in
for waiting out the buffering interval (and the `--firehose-max-interval` option, which has its
own test).
"""

import base64
import contextlib
import datetime as dt
import gzip
import json
import os
import re
import select
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client

HERE = Path(__file__).resolve().parent
ROLE = "arn:aws:iam::000000000000:role/firehose_delivery_role"
ACCOUNT = "000000000000"
SEED_PREFIX = "clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
SEED_ERROR_PREFIX = "errors/!{firehose:error-output-type}/"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STAMP_RE = r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})"
MAX_RECORD = 1_024_000  # 1,000 KiB: the largest record Firehose accepts


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def firehose(firelocal_endpoint):
    return make_client(firelocal_endpoint, "firehose")


def uniq(stem):
    """A unique, valid delivery stream name."""
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def bucket_arn(bucket):
    return f"arn:aws:s3:::{bucket}"


def s3_dest(bucket, **extra):
    return {"RoleARN": ROLE, "BucketARN": bucket_arn(bucket), **extra}


def seed_dest(bucket, compression):
    return s3_dest(
        bucket,
        Prefix=SEED_PREFIX,
        ErrorOutputPrefix=SEED_ERROR_PREFIX,
        BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 300},
        CompressionFormat=compression,
    )


def create_stream(fh, name, dest, **kwargs):
    return fh.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration=dest, **kwargs
    )


def code(err: ClientError):
    return err.response["Error"]["Code"]


def expect_error(expected_code, fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    assert code(ei.value) == expected_code, ei.value.response
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, ei.value.response
    return ei.value


def click(i):
    """One JSON click event, newline-terminated as a producer would send it."""
    return (
        json.dumps({"event_id": i, "element_clicked": f"button-{i % 3}", "user": f"u{i % 5}", "ts": 1700000000 + i})
        + "\n"
    ).encode()


def flush(endpoint, stream=None):
    """Delivers buffered records now; returns the per-stream report."""
    params = {"stream": stream} if stream else None
    r = requests.post(f"{endpoint}/_firelocal/firehose/flush", params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["streams"]


def list_keys(s3, bucket, prefix=""):
    keys = []
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def read(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def objects(s3, bucket, prefix=""):
    return {k: read(s3, bucket, k) for k in list_keys(s3, bucket, prefix)}


def utc_now():
    return dt.datetime.now(dt.timezone.utc)


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def wait_active(fh, name, timeout=5.0):
    def status():
        d = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        return d if d["DeliveryStreamStatus"] == "ACTIVE" else None

    d = wait_until(status, timeout)
    assert d, f"{name} did not become ACTIVE within {timeout}s"
    return d


def wait_deleted(fh, name, timeout=5.0):
    """AWS deletes asynchronously (DELETING, then gone); firelocal may be gone at once."""

    def gone():
        try:
            d = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        except ClientError as e:
            assert code(e) == "ResourceNotFoundException", e.response
            return True
        assert d["DeliveryStreamStatus"] == "DELETING", d
        return False

    assert wait_until(gone, timeout), f"{name} still described {timeout}s after DeleteDeliveryStream"


def assert_key(key, prefix_re, stream, version, ext, t0, t1):
    """`<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>`; the stamp is the (UTC)
    arrival time of the oldest record, so it lies between t0 and t1; returns the prefix groups."""
    m = re.fullmatch(rf"({prefix_re}){re.escape(stream)}-{version}-{STAMP_RE}-{UUID_RE}{re.escape(ext)}", key)
    assert m, key
    groups = m.groups()
    stamp = dt.datetime(*map(int, groups[-6:]), tzinfo=dt.timezone.utc)
    lo = t0.replace(microsecond=0) - dt.timedelta(seconds=2)
    assert lo <= stamp <= t1 + dt.timedelta(seconds=2), f"{key}: {stamp} not in [{t0}, {t1}]"
    return stamp, groups[1:-6]


# --------------------------------------------------------------------------------------------
# firelocal processes of our own (options the shared server does not have, crash/restart)
# --------------------------------------------------------------------------------------------

OWN_BANNER_RE = re.compile(r"^firelocal \S+ ready on (http://127\.0\.0\.1:\d+)")


def _binary():
    env = os.environ.get("FIRELOCAL_BIN")
    if env:
        p = Path(env)
        return p if p.is_absolute() else HERE.parent / p
    return HERE.parent / os.environ.get("CARGO_TARGET_DIR", "target") / "debug" / "firelocal"


class OwnServer:
    def __init__(self, tmp_path, *args):
        self.log_path = tmp_path / f"firelocal-{uuid.uuid4().hex[:8]}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(_binary()), "serve", "--port", "0", "--log-level", "warn", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        try:
            self.endpoint = self._banner(timeout=10)
        except BaseException:
            self.kill()
            raise
        self.s3 = make_client(self.endpoint, "s3")
        self.firehose = make_client(self.endpoint, "firehose")

    def _banner(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            for line in buf.decode("utf-8", "replace").splitlines():
                m = OWN_BANNER_RE.search(line)
                if m:
                    return m.group(1)
        raise AssertionError(f"no banner from firelocal; stdout {buf!r}; stderr {self.log_path.read_text()!r}")

    def kill(self):
        """SIGKILL: a crash."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close()

    def stop(self):
        """SIGTERM: a clean stop; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "still running 15 s after SIGTERM"
        self._close()
        return rc

    def _close(self):
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()


@contextlib.contextmanager
def own_server(tmp_path, *args):
    srv = OwnServer(tmp_path, *args)
    try:
        yield srv
    finally:
        if srv.proc.poll() is None:
            srv.kill()


# --------------------------------------------------------------------------------------------
# the seed stream: GZIP and UNCOMPRESSED delivery into S3
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression,ext", [("GZIP", ".gz"), ("UNCOMPRESSED", "")])
def test_seed_clickstream_delivery(firehose, s3, bucket, firelocal_endpoint, compression, ext):
    name = uniq(f"clickstream-{compression.lower()}")
    dest = seed_dest(bucket, compression)
    arn = create_stream(firehose, name, dest)["DeliveryStreamARN"]
    assert arn == f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{name}"

    # The full description (after the stream has become ACTIVE).
    d = wait_active(firehose, name)
    assert d["DeliveryStreamName"] == name
    assert d["DeliveryStreamARN"] == arn
    assert d["DeliveryStreamType"] == "DirectPut"
    assert d["VersionId"] == "1"
    assert isinstance(d["CreateTimestamp"], dt.datetime)
    assert d["HasMoreDestinations"] is False
    assert len(d["Destinations"]) == 1
    destination = d["Destinations"][0]
    assert destination["DestinationId"] == "destinationId-000000000001"
    ext_desc = destination["ExtendedS3DestinationDescription"]
    assert ext_desc["RoleARN"] == ROLE
    assert ext_desc["BucketARN"] == bucket_arn(bucket)
    assert ext_desc["Prefix"] == SEED_PREFIX
    assert ext_desc["ErrorOutputPrefix"] == SEED_ERROR_PREFIX
    assert ext_desc["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert ext_desc["CompressionFormat"] == compression
    assert ext_desc["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert ext_desc["S3BackupMode"] == "Disabled"
    # AWS also describes an ExtendedS3 destination in the older S3DestinationDescription shape.
    assert destination["S3DestinationDescription"]["BucketARN"] == bucket_arn(bucket)
    assert destination["S3DestinationDescription"]["Prefix"] == SEED_PREFIX

    t0 = utc_now()
    sent = b""
    for i in range(5):
        r = firehose.put_record(DeliveryStreamName=name, Record={"Data": click(i)})
        assert r["RecordId"]
        assert r["Encrypted"] is False
        sent += click(i)
    batch = [{"Data": click(i)} for i in range(5, 25)]
    out = firehose.put_record_batch(DeliveryStreamName=name, Records=batch)
    assert out["FailedPutCount"] == 0
    assert out["Encrypted"] is False
    assert len(out["RequestResponses"]) == 20
    for resp in out["RequestResponses"]:
        assert resp["RecordId"] and "ErrorCode" not in resp and "ErrorMessage" not in resp
    assert len({r["RecordId"] for r in out["RequestResponses"]}) == 20
    sent += b"".join(rec["Data"] for rec in batch)
    t1 = utc_now()

    # Buffered: nothing is in S3 until the buffer is delivered.
    assert list_keys(s3, bucket) == []
    report = flush(firelocal_endpoint, name)
    assert set(report) == {name}
    assert report[name]["error"] is None
    assert report[name]["pending_records"] == 0
    assert report[name]["error_objects"] == []
    assert len(report[name]["objects"]) == 1

    keys = list_keys(s3, bucket)
    assert keys == report[name]["objects"]
    key = keys[0]
    stamp, (year, month, day) = assert_key(
        key, r"clickstream/year=(\d{4})/month=(\d{2})/day=(\d{2})/", name, 1, ext, t0, t1
    )
    # The partitions are the same (UTC) arrival time as the name's stamp.
    assert (year, month, day) == (f"{stamp.year:04d}", f"{stamp.month:02d}", f"{stamp.day:02d}")
    assert (year, month, day) in {(t.strftime("%Y"), t.strftime("%m"), t.strftime("%d")) for t in (t0, t1)}

    obj = s3.get_object(Bucket=bucket, Key=key)
    body = obj["Body"].read()
    assert obj["ContentLength"] == len(body)
    assert obj["ContentType"] == "application/octet-stream"
    assert "ContentEncoding" not in obj  # Firehose stores .gz objects without Content-Encoding
    if compression == "GZIP":
        assert body[:2] == b"\x1f\x8b"
        body = gzip.decompress(body)
    # Records concatenated exactly as sent, in order, with no delimiter added.
    assert body == sent
    lines = body.decode().splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == list(range(25))

    # Delivered once: a second flush writes nothing new.
    report = flush(firelocal_endpoint, name)
    assert report[name]["objects"] == [] and report[name]["pending_records"] == 0
    assert list_keys(s3, bucket) == [key]


def test_default_prefix_is_utc_hour_partitions(firehose, s3, bucket, firelocal_endpoint):
    name = uniq("default-prefix")
    create_stream(firehose, name, s3_dest(bucket))
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    ext_desc = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    # AWS's defaults: 5 MiB / 300 s, uncompressed.
    assert ext_desc["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert ext_desc["CompressionFormat"] == "UNCOMPRESSED"
    t0 = utc_now()
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"one"})
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"two"})
    t1 = utc_now()
    flush(firelocal_endpoint, name)
    objs = objects(s3, bucket)
    assert len(objs) == 1
    key, body = next(iter(objs.items()))
    assert body == b"onetwo"
    stamp, (y, m, d_, h) = assert_key(key, r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/", name, 1, "", t0, t1)
    assert (y, m, d_, h) == (stamp.strftime("%Y"), stamp.strftime("%m"), stamp.strftime("%d"), stamp.strftime("%H"))


def test_flush_unknown_stream_is_resource_not_found(firelocal_endpoint):
    r = requests.post(f"{firelocal_endpoint}/_firelocal/firehose/flush", params={"stream": uniq("nope")}, timeout=10)
    assert r.status_code == 400
    assert r.json()["__type"] == "ResourceNotFoundException"


# --------------------------------------------------------------------------------------------
# PutRecord / PutRecordBatch limits
# --------------------------------------------------------------------------------------------


def test_batch_limits(firehose, s3, bucket, firelocal_endpoint):
    name = uniq("limits")
    create_stream(firehose, name, s3_dest(bucket, BufferingHints={"SizeInMBs": 128, "IntervalInSeconds": 900}))

    # More than 500 records.
    err = expect_error(
        "ValidationException",
        firehose.put_record_batch,
        DeliveryStreamName=name,
        Records=[{"Data": b"x"} for _ in range(501)],
    )
    assert "500" in err.response["Error"]["Message"]
    # More than 4 MiB in one request (each record within the 1,000 KiB limit).
    expect_error(
        "InvalidArgumentException",
        firehose.put_record_batch,
        DeliveryStreamName=name,
        Records=[{"Data": b"y" * 1_000_000} for _ in range(5)],
    )
    # A record of 1,000 KiB + 1 byte, alone or in a batch.
    err = expect_error(
        "ValidationException", firehose.put_record, DeliveryStreamName=name, Record={"Data": b"z" * (MAX_RECORD + 1)}
    )
    assert "1024000" in err.response["Error"]["Message"]
    expect_error(
        "ValidationException",
        firehose.put_record_batch,
        DeliveryStreamName=name,
        Records=[{"Data": b"ok"}, {"Data": b"z" * (MAX_RECORD + 1)}],
    )
    # Nothing from the refused requests was buffered.
    report = flush(firelocal_endpoint, name)
    assert report[name]["objects"] == [] and report[name]["pending_records"] == 0

    # Exactly at the limits everything is accepted: 500 records, and a 1,000 KiB record.
    records = [f"record-{i:03d};".encode() for i in range(500)]
    out = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    assert out["FailedPutCount"] == 0
    assert len(out["RequestResponses"]) == 500
    assert all(set(r) == {"RecordId"} for r in out["RequestResponses"])
    assert len({r["RecordId"] for r in out["RequestResponses"]}) == 500
    big = bytes(range(256)) * (MAX_RECORD // 256)
    assert len(big) == MAX_RECORD
    firehose.put_record(DeliveryStreamName=name, Record={"Data": big})

    report = flush(firelocal_endpoint, name)
    assert report[name]["pending_records"] == 0 and report[name]["error"] is None
    objs = objects(s3, bucket)
    assert len(objs) == 1
    # The batch's records are delivered in request order, then the big record, byte for byte.
    assert next(iter(objs.values())) == b"".join(records) + big


def test_put_record_batch_responses_in_request_order_with_mixed_sizes(firehose, s3, bucket, firelocal_endpoint):
    name = uniq("batch-order")
    create_stream(firehose, name, s3_dest(bucket))
    records = [(f"{i}:" + "#" * (i * 37 % 1000) + "\n").encode() for i in range(120)]
    out = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
    assert out["FailedPutCount"] == 0
    assert len(out["RequestResponses"]) == len(records)
    # A second batch appended after the first.
    more = [b"tail-1\n", b"tail-2\n"]
    out2 = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in more])
    assert out2["FailedPutCount"] == 0 and len(out2["RequestResponses"]) == 2
    assert not {r["RecordId"] for r in out["RequestResponses"]} & {r["RecordId"] for r in out2["RequestResponses"]}
    flush(firelocal_endpoint, name)
    (body,) = objects(s3, bucket).values()
    assert body == b"".join(records + more)


def test_put_to_missing_stream_is_resource_not_found(firehose):
    missing = uniq("missing")
    expect_error("ResourceNotFoundException", firehose.put_record, DeliveryStreamName=missing, Record={"Data": b"x"})
    expect_error(
        "ResourceNotFoundException", firehose.put_record_batch, DeliveryStreamName=missing, Records=[{"Data": b"x"}]
    )


def test_malformed_json_body_is_serialization_exception(firelocal_endpoint):
    r = requests.post(
        f"{firelocal_endpoint}/",
        headers={"X-Amz-Target": "Firehose_20150804.PutRecord", "Content-Type": "application/x-amz-json-1.1"},
        data=b'{"DeliveryStreamName": 5',
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["__type"] == "SerializationException"


# --------------------------------------------------------------------------------------------
# control plane
# --------------------------------------------------------------------------------------------


def test_list_delivery_streams_paging(firehose, bucket):
    # "zz" sorts after every other name this suite creates, so our streams end the listing.
    run = f"zz{uuid.uuid4().hex[:8]}"
    names = [f"{run}-{i:02d}" for i in range(12)]
    for n in names:
        create_stream(firehose, n, s3_dest(bucket))

    # Walk every page with a small Limit.
    seen, pages, start = [], 0, None
    while True:
        kwargs = {"Limit": 5}
        if start:
            kwargs["ExclusiveStartDeliveryStreamName"] = start
        page = firehose.list_delivery_streams(**kwargs)
        pages += 1
        assert 1 <= len(page["DeliveryStreamNames"]) <= 5, page
        seen += page["DeliveryStreamNames"]
        if not page["HasMoreDeliveryStreams"]:
            break
        assert len(page["DeliveryStreamNames"]) == 5, page
        start = page["DeliveryStreamNames"][-1]
        assert pages < 1000
    assert len(seen) == len(set(seen)), "no stream listed twice"
    assert seen == sorted(seen)
    assert seen[-12:] == names

    # Resuming after one of ours.
    page = firehose.list_delivery_streams(Limit=5, ExclusiveStartDeliveryStreamName=names[0])
    assert page["DeliveryStreamNames"] == names[1:6]
    assert page["HasMoreDeliveryStreams"] is True
    page = firehose.list_delivery_streams(Limit=10, ExclusiveStartDeliveryStreamName=names[9])
    assert page["DeliveryStreamNames"] == names[10:]
    assert page["HasMoreDeliveryStreams"] is False
    page = firehose.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName=names[9])
    assert page["DeliveryStreamNames"] == names[10:]
    assert page["HasMoreDeliveryStreams"] is False
    # The default Limit is 10.
    page = firehose.list_delivery_streams(ExclusiveStartDeliveryStreamName=names[0])
    assert page["DeliveryStreamNames"] == names[1:11]
    assert page["HasMoreDeliveryStreams"] is True

    # The type filter.
    page = firehose.list_delivery_streams(DeliveryStreamType="DirectPut", ExclusiveStartDeliveryStreamName=names[9])
    assert page["DeliveryStreamNames"] == names[10:]
    page = firehose.list_delivery_streams(
        DeliveryStreamType="KinesisStreamAsSource", ExclusiveStartDeliveryStreamName=names[0]
    )
    assert not set(page["DeliveryStreamNames"]) & set(names)


def test_create_errors(firehose, bucket):
    name = uniq("dup")
    create_stream(firehose, name, s3_dest(bucket))
    # The same name again.
    expect_error("ResourceInUseException", create_stream, firehose, name, s3_dest(bucket))
    # Missing.
    err = expect_error("ResourceNotFoundException", firehose.describe_delivery_stream, DeliveryStreamName=uniq("none"))
    assert "not found" in err.response["Error"]["Message"]

    rejected = {
        # Model constraints: ValidationException.
        "ValidationException": [
            ("bad name!", s3_dest(bucket)),
            (uniq("big-buffer"), s3_dest(bucket, BufferingHints={"SizeInMBs": 200, "IntervalInSeconds": 300})),
            (uniq("long-interval"), s3_dest(bucket, BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 901})),
            (uniq("bad-role"), {"RoleARN": "role", "BucketARN": bucket_arn(bucket)}),
            (uniq("empty-bucket"), {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::"}),
            (uniq("bad-compression"), s3_dest(bucket, CompressionFormat="BROTLI")),
        ],
        # Semantic rules: InvalidArgumentException.
        "InvalidArgumentException": [
            # Expressions in Prefix need an ErrorOutputPrefix.
            (uniq("no-error-prefix"), s3_dest(bucket, Prefix=SEED_PREFIX)),
            # Unknown namespace.
            (uniq("bad-expr"), s3_dest(bucket, Prefix="x/!{nope:y}/", ErrorOutputPrefix="e/")),
            # error-output-type belongs to the ErrorOutputPrefix only.
            (
                uniq("err-type-in-prefix"),
                s3_dest(bucket, Prefix="x/!{firehose:error-output-type}/", ErrorOutputPrefix="e/"),
            ),
        ],
    }
    # Exactly one destination.
    expect_error(
        "InvalidArgumentException",
        firehose.create_delivery_stream,
        DeliveryStreamName=uniq("two-destinations"),
        ExtendedS3DestinationConfiguration=s3_dest(bucket),
        S3DestinationConfiguration=s3_dest(bucket),
    )
    expect_error("InvalidArgumentException", firehose.create_delivery_stream, DeliveryStreamName=uniq("no-destination"))
    for expected, cases in rejected.items():
        for n, dest in cases:
            err = expect_error(expected, create_stream, firehose, n, dest)
            # Nothing was created.
            if expected == "InvalidArgumentException":
                expect_error("ResourceNotFoundException", firehose.describe_delivery_stream, DeliveryStreamName=n)
            if n.startswith("big-buffer"):
                message = err.response["Error"]["Message"]
                assert "sizeInMBs" in message and "128" in message, message
    # The duplicate attempt did not change the original.
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["VersionId"] == "1"


@pytest.mark.parametrize("arn", ["my-plain-bucket", "arn:aws:s3", "s3:::bucket"])
def test_bucket_arn_that_is_not_an_arn_is_validation_exception(firehose, bucket, arn):
    # AWS checks BucketARN against `arn:.*:s3:::[\w\.\-]{1,255}`: a ValidationException, on
    # create and on update alike.
    name = uniq("bad-bucket-arn")
    expect_error("ValidationException", create_stream, firehose, name, {"RoleARN": ROLE, "BucketARN": arn})
    expect_error("ResourceNotFoundException", firehose.describe_delivery_stream, DeliveryStreamName=name)

    create_stream(firehose, name, s3_dest(bucket))
    expect_error(
        "ValidationException",
        firehose.update_destination,
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        ExtendedS3DestinationUpdate={"BucketARN": arn},
    )
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["VersionId"] == "1"
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["BucketARN"] == bucket_arn(bucket)


def test_update_destination_versions(firehose, s3, bucket, firelocal_endpoint):
    name = uniq("update")
    create_stream(firehose, name, s3_dest(bucket, Prefix="v1/"))
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"before\n"})
    (key1,) = flush(firelocal_endpoint, name)[name]["objects"]
    assert re.fullmatch(rf"v1/{re.escape(name)}-1-{STAMP_RE}-{UUID_RE}", key1), key1

    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["VersionId"] == "1"
    dest_id = d["Destinations"][0]["DestinationId"]
    assert dest_id == "destinationId-000000000001"

    update = {"Prefix": "v2/", "CompressionFormat": "GZIP", "BufferingHints": {"SizeInMBs": 10, "IntervalInSeconds": 120}}
    # A version that never existed.
    expect_error(
        "ConcurrentModificationException",
        firehose.update_destination,
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="7",
        DestinationId=dest_id,
        ExtendedS3DestinationUpdate=update,
    )
    firehose.update_destination(
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="1",
        DestinationId=dest_id,
        ExtendedS3DestinationUpdate=update,
    )
    # The same (now stale) version again.
    expect_error(
        "ConcurrentModificationException",
        firehose.update_destination,
        DeliveryStreamName=name,
        CurrentDeliveryStreamVersionId="1",
        DestinationId=dest_id,
        ExtendedS3DestinationUpdate={"Prefix": "v3/"},
    )
    d = wait_active(firehose, name)
    assert d["VersionId"] == "2"
    assert isinstance(d["LastUpdateTimestamp"], dt.datetime)
    ext_desc = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert ext_desc["Prefix"] == "v2/"
    assert ext_desc["CompressionFormat"] == "GZIP"
    assert ext_desc["BufferingHints"] == {"SizeInMBs": 10, "IntervalInSeconds": 120}
    # Fields not in the update keep their values.
    assert ext_desc["RoleARN"] == ROLE and ext_desc["BucketARN"] == bucket_arn(bucket)

    t0 = utc_now()
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"after\n"})
    t1 = utc_now()
    (key2,) = flush(firelocal_endpoint, name)[name]["objects"]
    assert_key(key2, "v2/", name, 2, ".gz", t0, t1)
    assert f"{name}-2-" in key2
    assert gzip.decompress(read(s3, bucket, key2)) == b"after\n"
    assert read(s3, bucket, key1) == b"before\n"
    assert sorted(list_keys(s3, bucket)) == sorted([key1, key2])


def test_tags(firehose, bucket):
    name = uniq("tags")
    create_stream(firehose, name, s3_dest(bucket), Tags=[{"Key": "team", "Value": "data"}])
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert tags["Tags"] == [{"Key": "team", "Value": "data"}]
    assert tags["HasMoreTags"] is False

    firehose.tag_delivery_stream(
        DeliveryStreamName=name, Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "analytics"}]
    )
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert {t["Key"]: t["Value"] for t in tags["Tags"]} == {"env": "test", "team": "analytics"}
    assert len(tags["Tags"]) == 2

    # Paging by tag key.
    page = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=1)
    assert len(page["Tags"]) == 1 and page["HasMoreTags"] is True
    rest = firehose.list_tags_for_delivery_stream(
        DeliveryStreamName=name, ExclusiveStartTagKey=page["Tags"][0]["Key"]
    )
    assert rest["HasMoreTags"] is False
    assert {t["Key"] for t in page["Tags"] + rest["Tags"]} == {"env", "team"}

    firehose.untag_delivery_stream(DeliveryStreamName=name, TagKeys=["team"])
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert tags["Tags"] == [{"Key": "env", "Value": "test"}]

    # At most 50 tags per stream: more in one request is a model violation, more in total a limit.
    expect_error(
        "ValidationException",
        create_stream,
        firehose,
        uniq("many-tags"),
        s3_dest(bucket),
        Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    )
    firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": f"k{i:02d}", "Value": "v"} for i in range(49)])
    expect_error(
        "LimitExceededException",
        firehose.tag_delivery_stream,
        DeliveryStreamName=name,
        Tags=[{"Key": "one-too-many", "Value": "v"}],
    )
    assert len(firehose.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=50)["Tags"]) == 50

    missing = uniq("missing")
    expect_error("ResourceNotFoundException", firehose.list_tags_for_delivery_stream, DeliveryStreamName=missing)
    expect_error(
        "ResourceNotFoundException",
        firehose.tag_delivery_stream,
        DeliveryStreamName=missing,
        Tags=[{"Key": "a", "Value": "b"}],
    )


def test_delete_delivery_stream(firehose, bucket):
    name = uniq("delete")
    create_stream(firehose, name, s3_dest(bucket))
    firehose.delete_delivery_stream(DeliveryStreamName=name)
    wait_deleted(firehose, name)
    expect_error("ResourceNotFoundException", firehose.put_record, DeliveryStreamName=name, Record={"Data": b"x"})
    assert name not in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
    expect_error("ResourceNotFoundException", firehose.delete_delivery_stream, DeliveryStreamName=name)
    # The name is free again.
    create_stream(firehose, name, s3_dest(bucket))
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["VersionId"] == "1"


# --------------------------------------------------------------------------------------------
# dynamic partitioning
# --------------------------------------------------------------------------------------------


def test_dynamic_partitioning_by_json_field(firehose, s3, bucket, firelocal_endpoint):
    name = uniq("dynamic")
    processing = {
        "Enabled": True,
        "Processors": [
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{element: .element_clicked}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            },
            {"Type": "AppendDelimiterToRecord"},
        ],
    }
    dest = s3_dest(
        bucket,
        Prefix="by-element/element=!{partitionKeyFromQuery:element}/year=!{timestamp:yyyy}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration=processing,
    )
    create_stream(firehose, name, dest)
    ext_desc = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["Destinations"][
        0
    ]["ExtendedS3DestinationDescription"]
    assert ext_desc["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert ext_desc["ProcessingConfiguration"]["Enabled"] is True
    assert [p["Type"] for p in ext_desc["ProcessingConfiguration"]["Processors"]] == [
        "MetadataExtraction",
        "AppendDelimiterToRecord",
    ]

    def rec(i, element):
        # Records without a trailing newline: AppendDelimiterToRecord adds it.
        return json.dumps({"element_clicked": element, "i": i}).encode()

    elements = ["buy-button", "nav.home", "search_box"]
    sent = [rec(i, elements[i % 3]) for i in range(12)]
    bad = b"this is not json"
    t0 = utc_now()
    firehose.put_record(DeliveryStreamName=name, Record={"Data": sent[0]})
    out = firehose.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": r} for r in sent[1:6]] + [{"Data": bad}] + [{"Data": r} for r in sent[6:]]
    )
    t1 = utc_now()
    assert out["FailedPutCount"] == 0 and len(out["RequestResponses"]) == 12

    report = flush(firelocal_endpoint, name)[name]
    assert report["error"] is None and report["pending_records"] == 0
    assert len(report["objects"]) == 3
    assert len(report["error_objects"]) == 1

    objs = objects(s3, bucket, "by-element/")
    assert sorted(objs) == sorted(report["objects"])
    by_element = {}
    for key, body in objs.items():
        _, (element, year) = assert_key(key, r"by-element/element=([^/]+)/year=(\d{4})/", name, 1, "", t0, t1)
        assert year in {t0.strftime("%Y"), t1.strftime("%Y")}
        assert element not in by_element, f"one object per partition: {sorted(objs)}"
        by_element[element] = body
    assert sorted(by_element) == sorted(elements)
    for element, body in by_element.items():
        # Exactly that element's records, in order, each followed by the delimiter.
        assert body == b"".join(r + b"\n" for r in sent if json.loads(r)["element_clicked"] == element), element

    errs = objects(s3, bucket, "errors/")
    assert sorted(errs) == report["error_objects"]
    ((err_key, err_body),) = errs.items()
    assert_key(err_key, "errors/partitioning-failed/", name, 1, "", t0, t1)
    lines = err_body.decode().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed"
    assert base64.b64decode(doc["rawData"]) == bad
    assert doc["errorMessage"]
    assert isinstance(doc["attemptsMade"], int)
    t0_ms, t1_ms = int(t0.timestamp() * 1000) - 2000, int(t1.timestamp() * 1000) + 2000
    assert t0_ms <= doc["arrivalTimestamp"] <= t1_ms
    assert doc["attemptEndingTimestamp"] >= doc["arrivalTimestamp"]


def test_dynamic_partitioning_needs_64_mib_buffer(firehose, bucket):
    processing = {
        "Enabled": True,
        "Processors": [
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{k: .k}"},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                ],
            }
        ],
    }
    name = uniq("dyn-small")
    dest = s3_dest(
        bucket,
        Prefix="x/!{partitionKeyFromQuery:k}/",
        ErrorOutputPrefix="e/!{firehose:error-output-type}/",
        BufferingHints={"SizeInMBs": 32, "IntervalInSeconds": 60},
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration=processing,
    )
    expect_error("InvalidArgumentException", create_stream, firehose, name, dest)
    expect_error("ResourceNotFoundException", firehose.describe_delivery_stream, DeliveryStreamName=name)


# --------------------------------------------------------------------------------------------
# own processes: --firehose-max-interval, crash recovery, clean stop
# --------------------------------------------------------------------------------------------


def test_firehose_max_interval_delivers_without_flush(tmp_path):
    with own_server(tmp_path, "--firehose-max-interval", "300ms") as srv:
        fh, s3 = srv.firehose, srv.s3
        b = f"interval-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=b)
        name = uniq("interval")
        create_stream(fh, name, s3_dest(b, BufferingHints={"SizeInMBs": 128, "IntervalInSeconds": 900}))
        # The cap does not change the configuration.
        d = fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]["IntervalInSeconds"] == 900
        fh.put_record(DeliveryStreamName=name, Record={"Data": b"tick\n"})
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"tock\n"}])
        start = time.monotonic()
        keys = wait_until(lambda: list_keys(s3, b), timeout=3.0, interval=0.1)
        assert keys, "nothing delivered within 3 s with --firehose-max-interval 300ms"
        elapsed = time.monotonic() - start
        assert len(keys) == 1
        assert read(s3, b, keys[0]) == b"tick\ntock\n"
        assert elapsed < 3.0
        assert srv.stop() == 0


def test_kill_9_then_restart_delivers_every_record_once(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    b = f"crash-{uuid.uuid4().hex[:12]}"
    name = uniq("durable")
    records = [click(i) for i in range(100)]
    with own_server(tmp_path, "--data-dir", data_dir) as srv:
        srv.s3.create_bucket(Bucket=b)
        create_stream(srv.firehose, name, s3_dest(b))
        out = srv.firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])
        assert out["FailedPutCount"] == 0
        srv.kill()
        assert srv.proc.returncode == -signal.SIGKILL

    with own_server(tmp_path, "--data-dir", data_dir) as srv:
        # The stream survived the crash, and nothing had been delivered before it.
        d = srv.firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        assert d["DeliveryStreamName"] == name
        assert list_keys(srv.s3, b) == []
        report = flush(srv.endpoint, name)[name]
        assert report["error"] is None and report["pending_records"] == 0
        objs = objects(srv.s3, b)
        assert sorted(objs) == sorted(report["objects"])
        body = b"".join(objs[k] for k in sorted(objs))
        # Every record exactly once, in order.
        assert body == b"".join(records)
        assert srv.stop() == 0

    # Delivered records are not delivered again after another restart.
    with own_server(tmp_path, "--data-dir", data_dir) as srv:
        flush(srv.endpoint)
        assert sorted(list_keys(srv.s3, b)) == sorted(objs)
        assert srv.stop() == 0


def test_sigterm_delivers_buffers_before_exit(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    b = f"graceful-{uuid.uuid4().hex[:12]}"
    name = uniq("graceful")
    with own_server(tmp_path, "--data-dir", data_dir) as srv:
        srv.s3.create_bucket(Bucket=b)
        create_stream(srv.firehose, name, s3_dest(b, Prefix="bye/", CompressionFormat="GZIP"))
        srv.firehose.put_record(DeliveryStreamName=name, Record={"Data": b"good"})
        srv.firehose.put_record(DeliveryStreamName=name, Record={"Data": b"bye\n"})
        assert list_keys(srv.s3, b) == []
        assert srv.stop() == 0

    with own_server(tmp_path, "--data-dir", data_dir) as srv:
        # Already delivered at shutdown: present before any flush.
        keys = list_keys(srv.s3, b)
        assert len(keys) == 1
        assert re.fullmatch(rf"bye/{re.escape(name)}-1-{STAMP_RE}-{UUID_RE}\.gz", keys[0]), keys
        assert gzip.decompress(read(srv.s3, b, keys[0])) == b"goodbye\n"
        # And nothing is left to deliver.
        report = flush(srv.endpoint, name)[name]
        assert report["objects"] == [] and report["pending_records"] == 0
        assert srv.stop() == 0


# --------------------------------------------------------------------------------------------
# the AWS CLI (v1)
# --------------------------------------------------------------------------------------------


def test_aws_cli_create_list_describe_put(aws_cli, s3, bucket, firelocal_endpoint):
    name = uniq("cli")
    dest = json.dumps(seed_dest(bucket, "UNCOMPRESSED"))
    r = aws_cli(
        "firehose",
        "create-delivery-stream",
        "--delivery-stream-name",
        name,
        "--delivery-stream-type",
        "DirectPut",
        "--extended-s3-destination-configuration",
        dest,
        check=True,
    )
    assert json.loads(r.stdout)["DeliveryStreamARN"] == f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{name}"

    r = aws_cli("firehose", "list-delivery-streams", "--limit", "10000", check=True)
    listing = json.loads(r.stdout)
    assert name in listing["DeliveryStreamNames"]
    assert listing["HasMoreDeliveryStreams"] is False

    r = aws_cli("firehose", "describe-delivery-stream", "--delivery-stream-name", name, check=True)
    d = json.loads(r.stdout)["DeliveryStreamDescription"]
    assert d["DeliveryStreamName"] == name
    assert d["VersionId"] == "1"
    assert d["Destinations"][0]["DestinationId"] == "destinationId-000000000001"
    ext_desc = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert ext_desc["Prefix"] == SEED_PREFIX
    assert ext_desc["BucketARN"] == bucket_arn(bucket)
    assert ext_desc["CompressionFormat"] == "UNCOMPRESSED"

    # CLI v1 takes blob parameters as text and base64-encodes them itself.
    r = aws_cli(
        "firehose", "put-record", "--delivery-stream-name", name, "--record", json.dumps({"Data": '{"via":"cli"}\n'}), check=True
    )
    assert json.loads(r.stdout)["RecordId"]
    r = aws_cli(
        "firehose",
        "put-record-batch",
        "--delivery-stream-name",
        name,
        "--records",
        json.dumps([{"Data": '{"n":1}\n'}, {"Data": '{"n":2}\n'}]),
        check=True,
    )
    out = json.loads(r.stdout)
    assert out["FailedPutCount"] == 0 and len(out["RequestResponses"]) == 2

    (key,) = flush(firelocal_endpoint, name)[name]["objects"]
    assert key.startswith("clickstream/year=")
    assert read(s3, bucket, key) == b'{"via":"cli"}\n{"n":1}\n{"n":2}\n'

    r = aws_cli("firehose", "describe-delivery-stream", "--delivery-stream-name", uniq("absent"))
    assert r.returncode != 0
    assert "ResourceNotFoundException" in r.stderr
