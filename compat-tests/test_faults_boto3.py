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


# ---------------------------------------------------------------------- pipeline-internal faults


def flush(endpoint, name):
    r = requests.post(f"{endpoint}/_firelocal/firehose/flush", params={"stream": name}, timeout=120)
    r.raise_for_status()
    return r.json()["streams"][name]


def test_partial_put_record_batch_failure_and_the_client_resends(endpoint, s3, bucket):
    name = stream_for(endpoint, bucket)
    fh = once(endpoint, "firehose")
    add(endpoint, {"service": "firehose", "operation": "PutRecordBatch", "resource": name, "partial": {"every": 2}, "count": 1})
    records = [{"Data": f'{{"n":{i}}}\n'.encode()} for i in range(5)]
    out = fh.put_record_batch(DeliveryStreamName=name, Records=records)
    assert out["FailedPutCount"] == 2
    failed = [i for i, r in enumerate(out["RequestResponses"]) if "ErrorCode" in r]
    assert failed == [1, 3]
    assert {out["RequestResponses"][i]["ErrorCode"] for i in failed} == {"ServiceUnavailableException"}
    assert all("RecordId" in r for i, r in enumerate(out["RequestResponses"]) if i not in failed)
    # What a producer does with FailedPutCount: send the failed records again.
    again = fh.put_record_batch(DeliveryStreamName=name, Records=[records[i] for i in failed])
    assert again["FailedPutCount"] == 0
    report = flush(endpoint, name)
    data = b"".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in report["objects"])
    assert sorted(data.splitlines()) == sorted(r["Data"].strip() for r in records), "each record delivered exactly once"


def test_injected_s3_slowdown_fails_a_delivery_which_is_retried(endpoint, s3, bucket):
    name = stream_for(endpoint, bucket)
    fh = once(endpoint, "firehose")
    add(endpoint, {"service": "s3", "operation": "PutObject", "resource": bucket, "error": {"code": "SlowDown", "message": "Please reduce your request rate."}, "count": 1})
    fh.put_record(DeliveryStreamName=name, Record={"Data": b'{"late":true}\n'})
    first = flush(endpoint, name)
    assert first["objects"] == [] and first["pending_records"] == 1
    assert first["error"].startswith("S3.SlowDown")
    # The stream retries (as Firehose retries an S3 destination until it succeeds).
    second = flush(endpoint, name)
    assert second["pending_records"] == 0 and len(second["objects"]) == 1
    assert s3.get_object(Bucket=bucket, Key=second["objects"][0])["Body"].read() == b'{"late":true}\n'


def transform_stream(endpoint, bucket, function_arn, retries="0"):
    fh = make_client(endpoint, service="firehose")
    name = f"faults-t-{uuid.uuid4().hex[:8]}"
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/f",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "ok/",
            "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": function_arn},
                            {"ParameterName": "NumberOfRetries", "ParameterValue": retries},
                        ],
                    }
                ],
            },
        },
    )
    return name


@pytest.fixture
def transform_fn(endpoint):
    from test_lambda_boto3 import ROLE, fixture_zip

    lam = make_client(endpoint, service="lambda")
    name = f"faults-fn-{uuid.uuid4().hex[:8]}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.lambda_handler", Code={"ZipFile": fixture_zip("python-transform")})["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    yield name, arn
    lam.delete_function(FunctionName=name)


@pytest.mark.parametrize("how, reason", [("crash", "Runtime.ExitError"), ("timeout", "Sandbox.Timedout")])
def test_a_crashing_or_hanging_transform_sends_records_to_processing_failed(endpoint, s3, bucket, transform_fn, how, reason):
    fn_name, fn_arn = transform_fn
    name = transform_stream(endpoint, bucket, fn_arn, retries="1")
    add(endpoint, {"service": "lambda", "operation": "Invoke", "resource": fn_name, "invocation": how})
    fh = once(endpoint, "firehose")
    fh.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b'{"a":1}'}, {"Data": b'{"a":2}'}])
    report = flush(endpoint, name)
    assert report["objects"] == [] and len(report["error_objects"]) == 1
    key = report["error_objects"][0]
    assert key.startswith("err/processing-failed/")
    lines = [json.loads(l) for l in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    assert [base64_decode(l["rawData"]) for l in lines] == [b'{"a":1}', b'{"a":2}']
    for l in lines:
        assert l["errorCode"] == "Lambda.FunctionError" and reason in l["errorMessage"]
        assert l["attemptsMade"] == 2 and l["lambdaArn"] == fn_arn
        assert set(l) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaArn"}
    # A direct Invoke sees the same ending, as Lambda reports it.
    lam = once(endpoint, "lambda")
    resp = lam.invoke(FunctionName=fn_name, Payload=b"{}")
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == reason
    # With the fault removed, the same function transforms again.
    requests.delete(f"{endpoint}/_firelocal/faults", timeout=10)
    fh.put_record(DeliveryStreamName=name, Record={"Data": b'{"a":3}'})
    ok = flush(endpoint, name)
    assert len(ok["objects"]) == 1 and ok["error_objects"] == []


def test_throttled_transform_invocations_are_retried(endpoint, s3, bucket, transform_fn):
    fn_name, fn_arn = transform_fn
    name = transform_stream(endpoint, bucket, fn_arn, retries="2")
    add(endpoint, {"service": "lambda", "operation": "Invoke", "resource": fn_name, "error": {"code": "TooManyRequestsException"}, "count": 2})
    once(endpoint, "firehose").put_record(DeliveryStreamName=name, Record={"Data": b'{"t":1}'})
    report = flush(endpoint, name)
    assert report["error_objects"] == [] and len(report["objects"]) == 1
    assert s3.get_object(Bucket=bucket, Key=report["objects"][0])["Body"].read() == b'{"t":1}\n'
    # With no retries left, throttling sends the records to processing-failed with Firehose's code.
    strict = transform_stream(endpoint, bucket, fn_arn, retries="0")
    add(endpoint, {"service": "lambda", "operation": "Invoke", "resource": fn_arn, "error": {"code": "TooManyRequestsException"}, "count": 1})
    once(endpoint, "firehose").put_record(DeliveryStreamName=strict, Record={"Data": b'{"t":2}'})
    failed = flush(endpoint, strict)
    [line] = s3.get_object(Bucket=bucket, Key=failed["error_objects"][0])["Body"].read().splitlines()
    assert json.loads(line)["errorCode"] == "Lambda.InvokeLimitExceeded"


def base64_decode(s):
    import base64

    return base64.b64decode(s)
