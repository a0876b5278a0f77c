"""Fault injection for users (issue #14): AWS errors and latency injected through
`/_firelocal/faults` or `serve --faults FILE`, seen by boto3 exactly as AWS would send them, so
its retries recover from throttling and a pipeline's failure paths can be tested on purpose."""

import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client, serve


def add(endpoint, *rules):
    r = requests.post(f"{endpoint}/_firelocal/faults", data=json.dumps(list(rules)), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["faults"]


@pytest.fixture
def endpoint(firelocal_endpoint):
    yield firelocal_endpoint
    requests.delete(f"{firelocal_endpoint}/_firelocal/faults", timeout=10)


def once(endpoint, service="s3"):
    """A client that does not retry (the suite's clients retry once)."""
    return make_client(endpoint, service=service, retries={"total_max_attempts": 1, "mode": "standard"})


def stream_for(endpoint, bucket):
    fh = make_client(endpoint, service="firehose")
    name = f"faults-{uuid.uuid4().hex[:8]}"
    fh.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::000000000000:role/f", "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "f/"})
    return name


def test_boto3_retries_recover_from_injected_unavailability(endpoint, s3, bucket):
    name = stream_for(endpoint, bucket)
    [fault] = add(endpoint, {"service": "firehose", "operation": "PutRecord", "resource": name, "error": {"code": "ServiceUnavailableException"}, "count": 2})
    retrying = make_client(endpoint, service="firehose", retries={"max_attempts": 3, "mode": "standard"})
    out = retrying.put_record(DeliveryStreamName=name, Record={"Data": b'{"a":1}\n'})
    assert out["RecordId"] and out["ResponseMetadata"]["RetryAttempts"] == 2
    # The fault spent its count and removed itself; the record was accepted once.
    assert requests.get(f"{endpoint}/_firelocal/faults", timeout=10).json()["faults"] == []
    requests.post(f"{endpoint}/_firelocal/firehose/flush", params={"stream": name}, timeout=60).raise_for_status()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="f/")["Contents"]]
    assert b"".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys) == b'{"a":1}\n'
    assert fault["id"].startswith("fault-")


def test_injected_errors_are_what_aws_sends(endpoint, s3, bucket):
    name = stream_for(endpoint, bucket)
    fh = once(endpoint, "firehose")
    s3 = once(endpoint)
    add(endpoint, {"service": "firehose", "operation": "PutRecordBatch", "error": {"code": "ServiceUnavailableException", "message": "Slow down."}, "count": 1})
    with pytest.raises(fh.exceptions.ServiceUnavailableException) as ei:
        fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"x"}])
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503 and ei.value.response["Error"]["Message"] == "Slow down."
    assert fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"x"}])["FailedPutCount"] == 0
    # S3 in its XML shape.
    add(endpoint, {"service": "s3", "operation": "PutObject", "resource": bucket, "error": {"code": "SlowDown", "message": "Please reduce your request rate."}, "count": 1})
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert ei.value.response["Error"]["Code"] == "SlowDown" and ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Lambda throttling, in restJson1.
    lam = once(endpoint, "lambda")
    add(endpoint, {"service": "lambda", "operation": "Invoke", "error": {"code": "TooManyRequestsException", "message": "Rate Exceeded."}, "count": 1})
    with pytest.raises(lam.exceptions.TooManyRequestsException) as ei:
        lam.invoke(FunctionName="any-function", Payload=b"{}")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    # Only the named resource is hit.
    add(endpoint, {"service": "s3", "resource": "some-other-bucket", "error": {"code": "InternalError"}})
    s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
    listed = requests.get(f"{endpoint}/_firelocal/faults", timeout=10).json()["faults"]
    assert [(f["resource"], f["hits"]) for f in listed] == [("some-other-bucket", 0)]
    # The console lists what is in force.
    page = requests.get(f"{endpoint}/_firelocal/console/faults", timeout=10).text
    assert "some-other-bucket" in page and "InternalError" in page


def test_latency_and_probability(endpoint, bucket):
    s3 = once(endpoint)
    s3.put_object(Bucket=bucket, Key="slow", Body=b"x")
    add(endpoint, {"service": "s3", "operation": "GetObject", "resource": bucket, "latency_ms": 300})
    t = time.monotonic()
    assert s3.get_object(Bucket=bucket, Key="slow")["Body"].read() == b"x"
    assert time.monotonic() - t >= 0.3
    requests.delete(f"{endpoint}/_firelocal/faults", timeout=10)
    add(endpoint, {"service": "s3", "operation": "HeadObject", "resource": bucket, "error": {"code": "InternalError"}, "probability": 0.5})
    outcomes = []
    for _ in range(60):
        try:
            s3.head_object(Bucket=bucket, Key="slow")
            outcomes.append("ok")
        except ClientError as e:
            outcomes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert 5 < outcomes.count(500) < 55 and outcomes.count("ok") + outcomes.count(500) == 60, outcomes


def test_the_control_api_checks_rules(endpoint):
    for bad in [{"service": "s3"}, {"service": "s3", "error": {"code": "X"}, "probability": 2}, {"error": {"code": "X", "status": 200}}]:
        r = requests.post(f"{endpoint}/_firelocal/faults", data=json.dumps(bad), timeout=10)
        assert r.status_code == 400 and r.json()["__type"] == "InvalidFault", r.text
    r = requests.post(f"{endpoint}/_firelocal/faults", data="faults:\n  - service: s3\n    latency_ms: 5\n", timeout=10)
    assert r.status_code == 201
    fid = r.json()["faults"][0]["id"]
    assert requests.delete(f"{endpoint}/_firelocal/faults/{fid}", timeout=10).status_code == 200
    assert requests.delete(f"{endpoint}/_firelocal/faults/{fid}", timeout=10).status_code == 404


def test_faults_from_a_file_at_start(tmp_path_factory, tmp_path):
    spec = tmp_path / "faults.yaml"
    spec.write_text("faults:\n  - service: sts\n    operation: GetCallerIdentity\n    error: {code: Throttling, status: 400, message: Rate exceeded}\n    count: 1\n")
    with serve(tmp_path_factory, "--faults", str(spec)) as endpoint:
        sts = once(endpoint, "sts")
        with pytest.raises(ClientError) as ei:
            sts.get_caller_identity()
        assert ei.value.response["Error"]["Code"] == "Throttling" and ei.value.response["Error"]["Message"] == "Rate exceeded"
        assert sts.get_caller_identity()["Account"] == "000000000000"
