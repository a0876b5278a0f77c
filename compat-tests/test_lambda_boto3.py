"""Lambda (and the CloudWatch Logs it writes to) driven by boto3, the AWS CLI and AWS's own
Python runtime interface client (awslambdaric).

Functions run as local processes over the Lambda Runtime API. Every assertion states what real
AWS Lambda does; a failure here is a firelocal bug, not a test to loosen. The firelocal-specific
pieces are the code sources AWS does not have (S3Bucket "hot-reload" with a local folder) and
the function's AWS_ENDPOINT_URL, which points its own SDK calls back at firelocal.
"""

import base64
import hashlib
import io
import json
import re
import subprocess
import time
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import HERE, REGION, make_client

ROLE = "arn:aws:iam::000000000000:role/lambda-exec"
ACCOUNT = "000000000000"
FIXTURES = HERE.parent / "fixtures" / "lambda"
# The venv's interpreter, by its venv path (not resolved), so that it sees the venv's packages.
VENV_PYTHON = HERE / ".venv" / "bin" / "python"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FAST_WAIT = {"Delay": 1, "MaxAttempts": 10}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lam(firelocal_endpoint):
    return make_client(firelocal_endpoint, "lambda")


@pytest.fixture(scope="session")
def logs(firelocal_endpoint):
    return make_client(firelocal_endpoint, "logs")


@pytest.fixture
def fn(lam, request):
    """A factory of unique function names; every function named is deleted after the test."""
    names = []
    stem = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:40].strip("-")

    def make(tag=""):
        name = f"ct-{stem}{'-' + tag if tag else ''}-{uuid.uuid4().hex[:8]}"
        names.append(name)
        return name

    yield make
    for name in names:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass


def zip_bytes(files):
    """A zip of {name: text or bytes}; `bootstrap` is executable, everything else 0644."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = ((0o100755 if name == "bootstrap" else 0o100644) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            data = files[name]
            z.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def fixture_zip(folder, extra=None):
    """A zip of one fixtures/lambda folder (plus `extra` files)."""
    root = FIXTURES / folder
    files = {p.name: p.read_bytes() for p in root.iterdir() if p.is_file()}
    files.update(extra or {})
    return zip_bytes(files)


def sha256_b64(b):
    return base64.b64encode(hashlib.sha256(b).digest()).decode()


def function_arn(name, qualifier=None):
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def create(lam, name, code, runtime="python3.12", handler="app.handler", wait=True, **kw):
    """CreateFunction with a zip (bytes) or a Code dict, then the `function_active_v2` waiter."""
    code = {"ZipFile": code} if isinstance(code, bytes) else code
    out = lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler, Code=code, **kw)
    if wait:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    return out


def invoke(lam, name, payload=None, **kw):
    """Invoke with LogType Tail: (response, decoded JSON payload, decoded log tail)."""
    body = json.dumps({} if payload is None else payload).encode()
    resp = lam.invoke(FunctionName=name, Payload=body, LogType="Tail", **kw)
    data = resp["Payload"].read()
    log = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace") if "LogResult" in resp else ""
    return resp, (json.loads(data) if data else None), log


def error_code(exc_info):
    e = exc_info.value
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def wait_until(cond, timeout=8.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def awslambdaric_bootstrap(handler="app.handler"):
    """A custom-runtime bootstrap that runs AWS's official Python runtime interface client."""
    return f'#!/bin/sh\nexec "{VENV_PYTHON}" -m awslambdaric {handler}\n'


def have_awslambdaric():
    r = subprocess.run([str(VENV_PYTHON), "-c", "import awslambdaric.bootstrap"], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip().splitlines()[-1:] or [""]


FIREHOSE_EVENT = {
    "invocationId": "inv-1",
    "deliveryStreamArn": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/s",
    "region": REGION,
    "records": [
        {"recordId": "r1", "approximateArrivalTimestamp": 1700000000000, "data": base64.b64encode(b"abc").decode()},
        {"recordId": "r2", "approximateArrivalTimestamp": 1700000000001, "data": base64.b64encode(b"de\n").decode()},
    ],
}


# --------------------------------------------------------------------------------------------
# Python: lifecycle, context, environment
# --------------------------------------------------------------------------------------------


def test_python_create_get_list_and_waiter(lam, fn):
    name = fn()
    code = fixture_zip("python-echo")
    out = create(lam, name, code, Timeout=7, MemorySize=256, Description="echo", Environment={"Variables": {"GREETING": "hi"}})
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["FunctionName"] == name
    assert out["FunctionArn"] == function_arn(name)
    assert (out["Runtime"], out["Handler"], out["Role"]) == ("python3.12", "app.handler", ROLE)
    assert (out["Timeout"], out["MemorySize"], out["Description"], out["Version"]) == (7, 256, "echo", "$LATEST")
    assert out["CodeSha256"] == sha256_b64(code)
    assert out["CodeSize"] == len(code)
    assert out["Environment"]["Variables"] == {"GREETING": "hi"}
    assert out["PackageType"] == "Zip"
    assert out["Architectures"] == ["x86_64"]

    got = lam.get_function(FunctionName=name)
    c = got["Configuration"]
    assert c["State"] == "Active" and c["LastUpdateStatus"] == "Successful"
    assert c["CodeSha256"] == sha256_b64(code) and c["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"]
    # By ARN and partial ARN too.
    assert lam.get_function_configuration(FunctionName=function_arn(name))["FunctionName"] == name
    assert lam.get_function_configuration(FunctionName=f"{ACCOUNT}:function:{name}")["FunctionName"] == name

    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert names.count(name) == 1


def test_list_functions_paging(lam, fn):
    code = fixture_zip("python-echo")
    mine = {fn(f"p{i}") for i in range(3)}
    for n in mine:
        create(lam, n, code, wait=False)
    first = lam.list_functions(MaxItems=1)
    assert len(first["Functions"]) == 1 and first["NextMarker"]
    seen = []
    pages = 0
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        assert 1 <= len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
    assert pages >= 2
    assert len(seen) == len(set(seen)), "a function listed twice across pages"
    assert mine <= set(seen)


def test_python_context_and_environment(lam, fn, firelocal_endpoint):
    name = fn()
    create(lam, name, fixture_zip("python-echo"), Timeout=5, MemorySize=256, Environment={"Variables": {"GREETING": "hello"}})
    resp, body, log = invoke(lam, name, {"hello": "world"})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(UUID_RE, request_id)
    assert body["event"] == {"hello": "world"}
    assert body["function_name"] == name
    # The Python runtime's memory_limit_in_mb is the AWS_LAMBDA_FUNCTION_MEMORY_SIZE string.
    assert body["memory"] == "256"
    assert body["arn"] == function_arn(name)
    assert body["request_id"] == request_id
    assert 2500 < body["remaining_ms"] <= 5000
    assert body["env"] == {
        "GREETING": "hello",
        "AWS_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_ENDPOINT_URL": firelocal_endpoint,
        "_HANDLER": "app.handler",
    }

    # Invoked by ARN, the context has the same unqualified ARN.
    resp, body, _ = invoke(lam, function_arn(name), {})
    assert body["arn"] == function_arn(name)

    # A configuration change reaches the next invocation.
    lam.update_function_configuration(FunctionName=name, MemorySize=512, Environment={"Variables": {"GREETING": "bonjour"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    _, body, _ = invoke(lam, name, {})
    assert (body["memory"], body["env"]["GREETING"]) == ("512", "bonjour")


def test_function_runs_with_its_execution_role_credentials(lam, fn, firelocal_endpoint):
    """As on AWS, the runtime gets temporary credentials of the execution role, in a session
    named after the function: the function's own SDK calls identify as that role."""
    import boto3

    code = b"import os\ndef handler(event, context):\n    return {k: os.environ[k] for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n"
    name = fn()
    create(lam, name, zip_bytes({"app.py": code}))
    _, creds, _ = invoke(lam, name, {})
    assert creds["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    as_function = boto3.client("sts", endpoint_url=firelocal_endpoint, region_name=REGION, aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"], aws_session_token=creds["AWS_SESSION_TOKEN"])
    assert as_function.get_caller_identity()["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{ROLE.rsplit('/', 1)[1]}/{name}"
    # A code update starts new workers; they keep the same session.
    lam.update_function_code(FunctionName=name, ZipFile=zip_bytes({"app.py": code + b"# v2\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    _, again, _ = invoke(lam, name, {})
    assert again == creds


def test_python_client_context_reaches_handler(lam, fn):
    """The Python runtime exposes ClientContext as an object with client/custom/env attributes."""
    app = (
        "def handler(event, context):\n"
        "    cc = context.client_context\n"
        "    return {'custom': cc.custom, 'env': cc.env}\n"
    )
    name = fn()
    create(lam, name, zip_bytes({"app.py": app}))
    cc = {"custom": {"k": "v"}, "env": {"platform": "test"}, "client": {"app_title": "ct"}}
    resp, body, _ = invoke(lam, name, {}, ClientContext=base64.b64encode(json.dumps(cc).encode()).decode())
    assert "FunctionError" not in resp, body
    assert body == {"custom": {"k": "v"}, "env": {"platform": "test"}}


def test_python_update_publish_versions_and_delete(lam, fn):
    name = fn()
    v1_code = fixture_zip("python-echo")
    create(lam, name, v1_code, Environment={"Variables": {"GREETING": "one"}})
    _, body, _ = invoke(lam, name, {"n": 1})
    assert body["env"]["GREETING"] == "one"

    pub1 = lam.publish_version(FunctionName=name, Description="first")
    assert pub1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert pub1["Version"] == "1"
    assert pub1["FunctionArn"] == function_arn(name, "1")
    assert pub1["CodeSha256"] == sha256_b64(v1_code)
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1", WaiterConfig=FAST_WAIT)
    # Publishing an unchanged $LATEST returns the existing version.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"

    # New code: the waiter sees the update through, the next call runs the new code.
    v2_code = zip_bytes({"app.py": "def handler(event, context):\n    return {'code': 2, 'fn': context.function_name}\n"})
    upd = lam.update_function_code(FunctionName=name, ZipFile=v2_code)
    assert upd["CodeSha256"] == sha256_b64(v2_code) and upd["CodeSize"] == len(v2_code)
    assert upd["Version"] == "$LATEST"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha256_b64(v2_code)
    resp, body, _ = invoke(lam, name, {})
    assert body == {"code": 2, "fn": name}
    assert resp["ExecutedVersion"] == "$LATEST"

    # Version 1 still runs the old code and configuration, with a qualified ARN in its context.
    resp, body, _ = invoke(lam, name, {"old": True}, Qualifier="1")
    assert resp["ExecutedVersion"] == "1"
    assert body["event"] == {"old": True}
    assert body["env"]["GREETING"] == "one"
    assert body["arn"] == function_arn(name, "1")
    # So does name:1.
    resp, body, _ = invoke(lam, f"{name}:1", {})
    assert resp["ExecutedVersion"] == "1" and body["arn"] == function_arn(name, "1")
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["CodeSha256"] == sha256_b64(v1_code)

    # UpdateFunctionCode with Publish=True publishes version 2.
    v3_code = zip_bytes({"app.py": "def handler(event, context):\n    return 'three'\n"})
    pub2 = lam.update_function_code(FunctionName=name, ZipFile=v3_code, Publish=True)
    assert pub2["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    assert invoke(lam, name, {}, Qualifier="2")[1] == "three"

    # A stale RevisionId is refused.
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Description="x", RevisionId=pub1["RevisionId"] + "-stale")
    assert error_code(e) == ("PreconditionFailedException", 412)

    # Deleting one version leaves the rest.
    lam.delete_function(FunctionName=name, Qualifier="1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="1", Payload=b"{}")
    assert error_code(e) == ("ResourceNotFoundException", 404)

    # Deleting the function deletes everything.
    assert lam.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (lambda: lam.get_function(FunctionName=name), lambda: lam.invoke(FunctionName=name, Payload=b"{}")):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == ("ResourceNotFoundException", 404)
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert name not in names


@pytest.mark.parametrize(
    "runtime",
    ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"],
)
def test_python_runtimes_run_the_echo_fixture(lam, fn, runtime):
    name = fn()
    create(lam, name, fixture_zip("python-echo"), runtime=runtime)
    resp, body, log = invoke(lam, name, {"rt": runtime})
    assert "FunctionError" not in resp, body
    assert body["event"] == {"rt": runtime}
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == runtime


def test_firehose_blueprint_transform(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-transform"), handler="app.lambda_handler")
    resp, body, log = invoke(lam, name, FIREHOSE_EVENT)
    assert "FunctionError" not in resp, body
    assert [r["recordId"] for r in body["records"]] == ["r1", "r2"]
    assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"abc\n", b"de\n"]
    assert all(r["result"] == "Ok" for r in body["records"])
    assert "Processed 2 records." in log


# --------------------------------------------------------------------------------------------
# Node.js and custom runtimes
# --------------------------------------------------------------------------------------------

NODE_APP = r"""
exports.handler = async (event, context) => {
  console.log('node got ' + JSON.stringify(event));
  if (event.fail) { throw new TypeError(event.fail); }
  return {
    functionName: context.functionName,
    memory: context.memoryLimitInMB,
    arn: context.invokedFunctionArn,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis(),
    greeting: process.env.GREETING,
    region: process.env.AWS_REGION,
  };
};
exports.cb = (event, context, callback) => { callback(null, { viaCallback: event.x }); };
"""


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs20.x", "nodejs22.x"])
def test_node_transform_fixture(lam, fn, runtime):
    name = fn()
    create(lam, name, fixture_zip("node-transform"), runtime=runtime, handler="index.handler")
    resp, body, log = invoke(lam, name, FIREHOSE_EVENT)
    assert "FunctionError" not in resp, body
    assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"abc\n", b"de\n"]
    assert "Processed 2 records." in log
    rid = resp["ResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {rid} Version: $LATEST"), log


def test_node_context_environment_errors_and_callback(lam, fn):
    name = fn()
    create(lam, name, zip_bytes({"index.js": NODE_APP}), runtime="nodejs20.x", handler="index.handler", Timeout=4,
           Environment={"Variables": {"GREETING": "hallo"}})
    resp, body, log = invoke(lam, name, {"a": 1})
    assert "FunctionError" not in resp, body
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["functionName"] == name
    assert str(body["memory"]) == "128"
    assert body["arn"] == function_arn(name)
    assert body["requestId"] == rid
    assert 1500 < body["remaining"] <= 4000
    assert (body["greeting"], body["region"]) == ("hallo", REGION)
    assert 'node got {"a":1}' in log

    resp, body, log = invoke(lam, name, {"fail": "bad thing"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "bad thing"
    assert body["trace"][0] == "TypeError: bad thing"
    # The worker survives a function error.
    assert "FunctionError" not in invoke(lam, name, {})[0]

    lam.update_function_configuration(FunctionName=name, Handler="index.cb")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    assert invoke(lam, name, {"x": 5})[1] == {"viaCallback": 5}


def test_node_console_log_lines_carry_timestamp_request_id_and_level(lam, fn):
    """The Node.js runtime writes console.log as `<ISO time>\\t<request id>\\tINFO\\t<message>`."""
    name = fn()
    create(lam, name, fixture_zip("node-transform"), runtime="nodejs20.x", handler="index.handler")
    resp, _, log = invoke(lam, name, FIREHOSE_EVENT)
    rid = resp["ResponseMetadata"]["RequestId"]
    line = next(line for line in log.splitlines() if "Processed 2 records." in line)
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\tINFO\tProcessed 2 records\.", line), repr(line)


@pytest.mark.parametrize("runtime", ["provided", "provided.al2", "provided.al2023"])
def test_custom_runtime_bootstrap(lam, fn, runtime):
    name = fn()
    create(lam, name, fixture_zip("provided-transform"), runtime=runtime, handler="unused")
    resp, body, log = invoke(lam, name, FIREHOSE_EVENT)
    assert "FunctionError" not in resp, body
    assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"ABC\n", b"DE\n"]
    rid = resp["ResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {rid} Version: $LATEST") and f"END RequestId: {rid}" in log, log
    # Warm: the same process answers again.
    resp, body, log = invoke(lam, name, FIREHOSE_EVENT)
    assert "FunctionError" not in resp and "Init Duration" not in log


def test_custom_runtime_without_bootstrap_is_a_function_error(lam, fn):
    """A provided.* package with no bootstrap: 200, Unhandled, Runtime.InvalidEntrypoint."""
    name = fn()
    create(lam, name, zip_bytes({"app.py": "x = 1\n"}), runtime="provided.al2023", handler="unused")
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(resp["Payload"].read())
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]" in body["errorMessage"]


# --------------------------------------------------------------------------------------------
# Log tails, function errors, timeouts, crashes, init errors
# --------------------------------------------------------------------------------------------


def test_tail_log_start_end_report_and_init_duration(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"), MemorySize=192)
    resp, _, log = invoke(lam, name, {"hello": "tail"})
    rid = resp["ResponseMetadata"]["RequestId"]
    lines = log.rstrip("\n").split("\n")
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert "event received {'hello': 'tail'}" in lines
    end_at = lines.index(f"END RequestId: {rid}")
    report = lines[end_at + 1]
    assert re.match(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 192 MB\t"
        rf"Max Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        report,
    ), report
    # Warm: no Init Duration.
    resp, _, log = invoke(lam, name, {})
    assert "REPORT RequestId: " + resp["ResponseMetadata"]["RequestId"] in log
    assert "Init Duration" not in log
    # Without LogType there is no LogResult.
    assert "LogResult" not in lam.invoke(FunctionName=name, Payload=b"{}")


def test_tail_log_is_the_last_4kb(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    resp, body, log = invoke(lam, name, {"action": "log", "bytes": 10000})
    assert "FunctionError" not in resp
    raw = base64.b64decode(resp["LogResult"])
    assert len(raw) <= 4096
    assert len(raw) > 3000
    rid = resp["ResponseMetadata"]["RequestId"]
    assert "START RequestId" not in log  # cut off: only the tail is kept
    assert f"END RequestId: {rid}" in log and f"REPORT RequestId: {rid}" in log
    assert "xxxxxxxxxx" in log


def test_function_error_unhandled(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    resp, body, log = invoke(lam, name, {"action": "raise", "message": "bad input"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input"
    assert body["requestId"] == rid
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert all(isinstance(s, str) for s in body["stackTrace"])
    assert any("app.py" in s and "in handler" in s for s in body["stackTrace"]), body["stackTrace"]
    assert "[ERROR] ValueError: bad input" in log
    # The same worker serves the next request.
    resp, body, log = invoke(lam, name, {"n": 2})
    assert "FunctionError" not in resp and body["event"] == {"n": 2}
    assert "Init Duration" not in log


def test_function_error_log_has_the_traceback(lam, fn):
    """AWS's Python runtime logs `[ERROR] Type: message` followed by the traceback."""
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    _, _, log = invoke(lam, name, {"action": "raise", "message": "with trace"})
    lines = log.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("[ERROR] ValueError: with trace"))
    assert "Traceback (most recent call last):" in "\n".join(lines[at:]), log
    assert 'app.py", line' in log, log


def test_timeout(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"), Timeout=1)
    t0 = time.monotonic()
    resp, body, log = invoke(lam, name, {"action": "sleep", "seconds": 5})
    elapsed = time.monotonic() - t0
    assert elapsed < 4, f"the timeout took {elapsed:.1f}s"
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"] == f"RequestId: {rid} Error: Task timed out after 1.00 seconds"
    assert "Task timed out after 1.00 seconds" in log
    assert f"END RequestId: {rid}" in log and f"REPORT RequestId: {rid}" in log
    # A fresh environment serves the next call.
    resp, body, log = invoke(lam, name, {"after": "timeout"})
    assert "FunctionError" not in resp and body["event"] == {"after": "timeout"}
    assert "Init Duration" in log


def test_runtime_exit_error(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    resp, body, log = invoke(lam, name, {"action": "exit"})
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"] == f"RequestId: {rid} Error: Runtime exited with error: exit status 3"
    resp, body, _ = invoke(lam, name, {"after": "crash"})
    assert "FunctionError" not in resp and body["event"] == {"after": "crash"}


def test_import_and_handler_errors(lam, fn):
    code = fixture_zip("python-echo")
    missing = fn("mod")
    create(lam, missing, code, handler="missing_module.handler")
    resp, body, _ = invoke(lam, missing, {})
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'missing_module': No module named 'missing_module'"
    # Still failing on the next call (every cold start fails the same way).
    assert invoke(lam, missing, {})[1]["errorType"] == "Runtime.ImportModuleError"

    nohandler = fn("fn")
    create(lam, nohandler, code, handler="app.nope")
    resp, body, _ = invoke(lam, nohandler, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nope' missing on module 'app'"


def test_syntax_error_in_module(lam, fn):
    """A module that does not compile: Runtime.UserCodeSyntaxError, as AWS's Python runtime says."""
    name = fn()
    create(lam, name, zip_bytes({"app.py": "def handler(event, context)\n    return 1\n"}))
    resp, body, _ = invoke(lam, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app'"), body


# --------------------------------------------------------------------------------------------
# Invocation types and payloads
# --------------------------------------------------------------------------------------------


def test_dry_run(lam, logs, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    resp = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""
    assert "FunctionError" not in resp
    # Nothing ran, so nothing was logged.
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert groups == []
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name + "-missing", InvocationType="DryRun")
    assert error_code(e) == ("ResourceNotFoundException", 404)


def test_event_invocation_runs_in_the_background(lam, logs, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    marker = f"async-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"action": "sleep", "seconds": 2, "marker": marker}))
    elapsed = time.monotonic() - t0
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    assert elapsed < 1.5, f"Event invoke waited {elapsed:.1f}s for the function"
    group = f"/aws/lambda/{name}"

    def find(pattern):
        try:
            return logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return []
            raise

    started = wait_until(lambda: find('"START RequestId"'), timeout=8)
    assert started, "no START line for the asynchronous invocation"
    rid = re.match(rf"START RequestId: ({UUID_RE}) Version: \$LATEST", started[0]["message"]).group(1)
    assert wait_until(lambda: find(f'"{marker}"'), timeout=8), "the function never printed the event"
    reports = wait_until(lambda: find('"REPORT RequestId"'), timeout=8)
    assert reports and reports[0]["message"].startswith(f"REPORT RequestId: {rid}")


def test_payload_limits_and_content(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    # 6 MB synchronous.
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=json.dumps("x" * 6_300_000).encode())
    assert error_code(e) == ("RequestTooLargeException", 413)
    # 1 MB asynchronous.
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps("x" * 1_100_000).encode())
    assert error_code(e) == ("RequestTooLargeException", 413)
    # Not JSON.
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{not json")
    assert error_code(e) == ("InvalidRequestContentException", 400)
    # A 1 MB synchronous payload round-trips.
    big = {"blob": "y" * 1_000_000}
    resp, body, _ = invoke(lam, name, big)
    assert "FunctionError" not in resp and body["event"] == big
    # No payload at all: the handler sees {}.
    resp = lam.invoke(FunctionName=name)
    assert json.loads(resp["Payload"].read())["event"] == {}


def test_async_payload_up_to_1mb_is_accepted(lam, fn):
    """Asynchronous invocations take payloads up to 1 MB (the limit was 256 KB until late 2025)."""
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps("x" * 300_000).encode())
    assert resp["StatusCode"] == 202


def test_response_larger_than_6mb_is_a_function_error(lam, fn):
    name = fn()
    create(lam, name, zip_bytes({"app.py": "def handler(event, context):\n    return 'z' * 7_000_000\n"}), MemorySize=512)
    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(resp["Payload"].read())
    assert resp["StatusCode"] == 200
    assert resp.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in body["errorMessage"], body["errorMessage"]


# --------------------------------------------------------------------------------------------
# Control-plane errors
# --------------------------------------------------------------------------------------------


def test_control_plane_errors(lam, fn):
    name = fn()
    code = fixture_zip("python-echo")
    create(lam, name, code)
    with pytest.raises(ClientError) as e:
        create(lam, name, code, wait=False)
    assert error_code(e) == ("ResourceConflictException", 409)

    with pytest.raises(ClientError) as e:
        create(lam, fn("old"), code, runtime="python2.7", wait=False)
    assert error_code(e) == ("InvalidParameterValueException", 400)

    with pytest.raises(ClientError) as e:
        create(lam, fn("badzip"), b"this is not a zip", wait=False)
    assert error_code(e) == ("InvalidParameterValueException", 400)

    with pytest.raises(ClientError) as e:
        create(lam, fn("t"), code, Timeout=901, wait=False)
    assert error_code(e) == ("ValidationException", 400)

    with pytest.raises(ClientError) as e:
        create(lam, fn("m"), code, MemorySize=20000, wait=False)
    assert error_code(e) == ("ValidationException", 400)

    with pytest.raises(ClientError) as e:
        create(lam, "bad name!", code, wait=False)
    assert error_code(e) == ("ValidationException", 400)

    missing = fn("missing")
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=missing, Payload=b"{}")
    assert error_code(e) == ("ResourceNotFoundException", 404)
    assert e.value.response["Error"]["Message"] == f"Function not found: {function_arn(missing)}"
    for call in (
        lambda: lam.get_function(FunctionName=missing),
        lambda: lam.delete_function(FunctionName=missing),
        lambda: lam.update_function_configuration(FunctionName=missing, Description="x"),
        lambda: lam.publish_version(FunctionName=missing),
        lambda: lam.get_function(FunctionName=name, Qualifier="7"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == ("ResourceNotFoundException", 404)


def test_permissions(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_code(e) == ("ResourceNotFoundException", 404)
    out = lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::some-bucket", SourceAccount=ACCOUNT)
    stmt = json.loads(out["Statement"])
    assert stmt["Sid"] == "s3" and stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    assert stmt["Resource"] == function_arn(name)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    assert error_code(e) == ("ResourceConflictException", 409)
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["s3"]
    assert policy["Statement"][0]["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::some-bucket"
    lam.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="s3")
    assert error_code(e) == ("ResourceNotFoundException", 404)


# --------------------------------------------------------------------------------------------
# Code from S3, hot reload
# --------------------------------------------------------------------------------------------


def test_the_timeout_does_not_count_the_cold_start(lam, fn):
    # AWS limits the init phase to 10 s on its own: a slow import does not eat the timeout.
    code = zip_bytes({"app.py": "import time\ntime.sleep(1.5)\n\ndef handler(event, context):\n    return context.get_remaining_time_in_millis()\n"})
    name = fn()
    create(lam, name, code, Timeout=1)
    resp, remaining, _ = invoke(lam, name, {})
    assert "FunctionError" not in resp, remaining
    assert 500 < remaining <= 1000


def test_code_from_s3(lam, s3, bucket, fn):
    name = fn()
    code = fixture_zip("python-echo")
    s3.put_object(Bucket=bucket, Key="pkg/echo.zip", Body=code)
    out = create(lam, name, {"S3Bucket": bucket, "S3Key": "pkg/echo.zip"})
    assert out["CodeSha256"] == sha256_b64(code) and out["CodeSize"] == len(code)
    resp, body, _ = invoke(lam, name, {"from": "s3"})
    assert "FunctionError" not in resp and body["event"] == {"from": "s3"}

    v2 = zip_bytes({"app.py": "def handler(event, context):\n    return 's3-v2'\n"})
    s3.put_object(Bucket=bucket, Key="pkg/v2.zip", Body=v2)
    upd = lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/v2.zip")
    assert upd["CodeSha256"] == sha256_b64(v2)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    assert invoke(lam, name, {})[1] == "s3-v2"

    with pytest.raises(ClientError) as e:
        create(lam, fn("nokey"), {"S3Bucket": bucket, "S3Key": "pkg/missing.zip"}, wait=False)
    assert error_code(e) == ("InvalidParameterValueException", 400)


def test_code_from_a_version_of_an_s3_object(lam, s3, bucket, fn):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = zip_bytes({"app.py": "def handler(event, context):\n    return 'old'\n"})
    new = zip_bytes({"app.py": "def handler(event, context):\n    return 'new'\n"})
    v_old = s3.put_object(Bucket=bucket, Key="pkg/app.zip", Body=old)["VersionId"]
    v_new = s3.put_object(Bucket=bucket, Key="pkg/app.zip", Body=new)["VersionId"]
    name = fn()
    out = create(lam, name, {"S3Bucket": bucket, "S3Key": "pkg/app.zip", "S3ObjectVersion": v_old})
    assert out["CodeSha256"] == sha256_b64(old)
    assert invoke(lam, name, {})[1] == "old"
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/app.zip", S3ObjectVersion=v_new)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    assert invoke(lam, name, {})[1] == "new"
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/app.zip", S3ObjectVersion="0" * 32)
    assert error_code(e) == ("InvalidParameterValueException", 400)
    assert "NoSuchVersion" in e.value.response["Error"]["Message"]
    assert invoke(lam, name, {})[1] == "new"


def test_hot_reload_folder(lam, fn, tmp_path):
    name = fn()
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v1'\n")
    create(lam, name, {"S3Bucket": "hot-reload", "S3Key": str(tmp_path)})
    assert invoke(lam, name, {})[1] == "v1"
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
    # A configuration update retires the warm environment; the next cold start reads the folder.
    lam.update_function_configuration(FunctionName=name, Description="reload")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    assert invoke(lam, name, {})[1] == "v2"

    with pytest.raises(ClientError) as e:
        create(lam, fn("rel"), {"S3Bucket": "hot-reload", "S3Key": "relative/path"}, wait=False)
    assert error_code(e) == ("InvalidParameterValueException", 400)


# --------------------------------------------------------------------------------------------
# CloudWatch Logs
# --------------------------------------------------------------------------------------------


def test_logs_api_reads_function_output(lam, logs, fn):
    name = fn()
    group = f"/aws/lambda/{name}"
    create(lam, name, fixture_zip("python-echo"))
    m1, m2 = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    r1, _, _ = invoke(lam, name, {"marker": m1})
    rid1 = r1["ResponseMetadata"]["RequestId"]
    time.sleep(0.05)
    # A configuration change means a new execution environment, hence a new log stream.
    lam.update_function_configuration(FunctionName=name, Description="new env")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    r2, _, _ = invoke(lam, name, {"marker": m2})
    rid2 = r2["ResponseMetadata"]["RequestId"]

    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"

    streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert len(streams) == 2
    for s in streams:
        assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", s["logStreamName"]), s["logStreamName"]
        assert s["firstEventTimestamp"] <= s["lastEventTimestamp"]
    newer, older = streams[0]["logStreamName"], streams[1]["logStreamName"]
    assert streams[0]["lastEventTimestamp"] >= streams[1]["lastEventTimestamp"]

    def messages(stream):
        ev = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
        assert [e["timestamp"] for e in ev] == sorted(e["timestamp"] for e in ev)
        return [e["message"] for e in ev]

    old = messages(older)
    # Oldest first: START, the function's output, END, REPORT.
    start = next(i for i, m in enumerate(old) if m.startswith(f"START RequestId: {rid1} Version: $LATEST"))
    out = next(i for i, m in enumerate(old) if m1 in m)
    end = next(i for i, m in enumerate(old) if m.startswith(f"END RequestId: {rid1}"))
    report = next(i for i, m in enumerate(old) if m.startswith(f"REPORT RequestId: {rid1}"))
    assert start < out < end < report
    assert not any(m2 in m for m in old)
    assert any(m2 in m for m in messages(newer))
    # Without startFromHead, GetLogEvents returns the newest events; limit trims from the old end.
    last = logs.get_log_events(logGroupName=group, logStreamName=older, limit=1)["events"]
    assert last[0]["message"].startswith(f"REPORT RequestId: {rid1}")

    hits = logs.filter_log_events(logGroupName=group, filterPattern=f'"{m1}"')["events"]
    assert len(hits) == 1 and hits[0]["logStreamName"] == older and m1 in hits[0]["message"]
    reports = logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]
    assert [r["message"].split("\t")[0] for r in reports] == [f"REPORT RequestId: {rid1}", f"REPORT RequestId: {rid2}"]
    only_new = logs.filter_log_events(logGroupName=group, logStreamNames=[newer], filterPattern="REPORT")["events"]
    assert len(only_new) == 1 and rid2 in only_new[0]["message"]

    with pytest.raises(ClientError) as e:
        logs.get_log_events(logGroupName=group, logStreamName="no-such-stream")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName=group + "-missing")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _two_marked_invocations(lam, fn):
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    a, b = f"alpha{uuid.uuid4().hex[:8]}", f"beta{uuid.uuid4().hex[:8]}"
    invoke(lam, name, {"marker": a})
    invoke(lam, name, {"marker": b})
    return f"/aws/lambda/{name}", a, b


def test_logs_filter_pattern_or_terms(lam, logs, fn):
    """Filter pattern syntax: `?a ?b` matches events with either term."""
    group, a, b = _two_marked_invocations(lam, fn)
    either = logs.filter_log_events(logGroupName=group, filterPattern=f"?{a} ?{b}")["events"]
    assert sorted(a in e["message"] for e in either) == [False, True], [e["message"] for e in either]
    assert any(b in e["message"] for e in either)


def test_logs_filter_pattern_exclusion_term(lam, logs, fn):
    """Filter pattern syntax: `a -b` matches events with a and without b."""
    group, a, b = _two_marked_invocations(lam, fn)
    not_b = logs.filter_log_events(logGroupName=group, filterPattern=f"received -{b}")["events"]
    assert [a in e["message"] for e in not_b] == [True], [e["message"] for e in not_b]


def test_logs_describe_streams_order_by_time_rejects_prefix(lam, logs, fn):
    """orderBy LastEventTime cannot be combined with logStreamNamePrefix."""
    name = fn()
    create(lam, name, fixture_zip("python-echo"))
    invoke(lam, name, {})
    with pytest.raises(ClientError) as e:
        logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}", orderBy="LastEventTime", logStreamNamePrefix="20")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_logs_put_and_read_own_stream(logs):
    group = f"/ct/app-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName=group)
    assert e.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s1",
                        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(5)])
    ev = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True, limit=2)
    assert [e["message"] for e in ev["events"]] == ["line 0", "line 1"]
    nxt = logs.get_log_events(logGroupName=group, logStreamName="s1", startFromHead=True, limit=2, nextToken=ev["nextForwardToken"])
    assert [e["message"] for e in nxt["events"]] == ["line 2", "line 3"]
    hits = logs.filter_log_events(logGroupName=group, filterPattern='"line 4"')["events"]
    assert [h["message"] for h in hits] == ["line 4"]


# --------------------------------------------------------------------------------------------
# AWS's official runtime interface client (awslambdaric) against firelocal's Runtime API
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ric():
    ok, why = have_awslambdaric()
    if not ok:
        pytest.skip(f"awslambdaric is not importable in {VENV_PYTHON}: {why[0]}")


def test_awslambdaric_runs_the_echo_function(lam, fn, ric):
    name = fn()
    code = fixture_zip("python-echo", {"bootstrap": awslambdaric_bootstrap()})
    create(lam, name, code, runtime="provided.al2023", handler="app.handler", Timeout=6, MemorySize=256,
           Environment={"Variables": {"GREETING": "ric"}})
    resp, body, log = invoke(lam, name, {"via": "awslambdaric"})
    assert "FunctionError" not in resp, body
    rid = resp["ResponseMetadata"]["RequestId"]
    assert body["event"] == {"via": "awslambdaric"}
    assert body["function_name"] == name
    assert body["memory"] == "256"
    assert body["arn"] == function_arn(name)
    assert body["request_id"] == rid
    assert 1000 < body["remaining_ms"] <= 6000
    assert body["env"]["GREETING"] == "ric"
    assert log.startswith(f"START RequestId: {rid} Version: $LATEST")
    assert "event received {'via': 'awslambdaric'}" in log

    # A handler error, reported by awslambdaric through /invocation/{id}/error.
    resp, body, log = invoke(lam, name, {"action": "raise", "message": "ric failure"})
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "ric failure"
    assert body["requestId"] == resp["ResponseMetadata"]["RequestId"]
    assert any("app.py" in s for s in body["stackTrace"])
    assert "[ERROR] ValueError: ric failure" in log
    # awslambdaric logs the traceback after the [ERROR] line, in the same event (lines joined by \r).
    assert "Traceback (most recent call last):" in log and 'app.py", line' in log, log
    # The same process carries on.
    resp, body, log = invoke(lam, name, {"n": 3})
    assert "FunctionError" not in resp and body["event"] == {"n": 3}
    assert "Init Duration" not in log

    # A timeout kills it; a new one starts.
    lam.update_function_configuration(FunctionName=name, Timeout=1)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    resp, body, _ = invoke(lam, name, {"action": "sleep", "seconds": 4})
    assert resp["FunctionError"] == "Unhandled" and body["errorType"] == "Sandbox.Timedout"
    assert invoke(lam, name, {"n": 4})[1]["event"] == {"n": 4}


def test_awslambdaric_init_error(lam, fn, ric):
    name = fn()
    code = fixture_zip("python-echo", {"bootstrap": awslambdaric_bootstrap("missing_module.handler")})
    create(lam, name, code, runtime="provided.al2023", handler="missing_module.handler")
    resp, body, _ = invoke(lam, name, {})
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Unable to import module 'missing_module'"), body

    # A syntax error, as the official client reports it.
    bad = fn("syntax")
    code = zip_bytes({"app.py": "def handler(event, context)\n    return 1\n", "bootstrap": awslambdaric_bootstrap()})
    create(lam, bad, code, runtime="provided.al2023")
    resp, body, _ = invoke(lam, bad, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert body["errorMessage"].startswith("Syntax error in module 'app'"), body


RIC_BOTO3_APP = """
import boto3


def handler(event, context):
    cc = context.client_context
    if event.get("bucket"):
        # No endpoint configured here: AWS_ENDPOINT_URL keeps the call on firelocal.
        boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=context.aws_request_id.encode())
    return {"custom": cc.custom if cc else None, "request_id": context.aws_request_id}
"""


def test_awslambdaric_function_uses_boto3_locally_and_client_context(lam, s3, bucket, fn, ric):
    name = fn()
    code = zip_bytes({"app.py": RIC_BOTO3_APP, "bootstrap": awslambdaric_bootstrap()})
    create(lam, name, code, runtime="provided.al2023", Timeout=15)
    cc = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}, "env": {}, "client": {}}).encode()).decode()
    resp, body, log = invoke(lam, name, {"bucket": bucket, "key": "sync.txt"}, ClientContext=cc)
    assert "FunctionError" not in resp, (body, log)
    assert body["custom"] == {"tenant": "t1"}
    rid = resp["ResponseMetadata"]["RequestId"]
    assert s3.get_object(Bucket=bucket, Key="sync.txt")["Body"].read() == rid.encode()

    # An Event invocation runs too: its object appears.
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"bucket": bucket, "key": "async.txt"}))
    assert resp["StatusCode"] == 202

    def landed():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return "async.txt" in keys

    assert wait_until(landed, timeout=10), "the asynchronous invocation never wrote its object"


# --------------------------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------------------------


def test_cli_list_functions_and_invoke(lam, fn, aws_cli, tmp_path):
    name = fn()
    create(lam, name, fixture_zip("python-echo"), Environment={"Variables": {"GREETING": "cli"}})

    r = aws_cli("lambda", "list-functions", check=True)
    listed = {f["FunctionName"]: f for f in json.loads(r.stdout)["Functions"]}
    assert name in listed
    assert listed[name]["Runtime"] == "python3.12" and listed[name]["FunctionArn"] == function_arn(name)

    out = tmp_path / "out.json"
    r = aws_cli("lambda", "invoke", "--function-name", name, "--payload", '{"hello": "cli"}', out, check=True)
    meta = json.loads(r.stdout)
    assert meta == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    body = json.loads(out.read_text())
    assert body["event"] == {"hello": "cli"}
    assert body["function_name"] == name and body["env"]["GREETING"] == "cli"

    # Tail logs and a function error through the CLI.
    r = aws_cli("lambda", "invoke", "--function-name", name, "--log-type", "Tail",
                "--payload", '{"action": "raise", "message": "cli boom"}', out, check=True)
    meta = json.loads(r.stdout)
    assert meta["StatusCode"] == 200 and meta["FunctionError"] == "Unhandled"
    assert "[ERROR] ValueError: cli boom" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out.read_text())["errorMessage"] == "cli boom"

    r = aws_cli("lambda", "invoke", "--function-name", name, "--invocation-type", "Event", "--payload", "{}", out, check=True)
    assert json.loads(r.stdout)["StatusCode"] == 202

    r = aws_cli("lambda", "invoke", "--function-name", name + "-nope", out)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr


def test_aliases_point_at_versions_and_route_invocations(lam, fn):
    name = fn()
    create(lam, name, zip_bytes({"app.py": "def handler(event, context):\n    return 'one'\n"}))
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=zip_bytes({"app.py": "def handler(event, context):\n    return 'two'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    v2 = lam.publish_version(FunctionName=name)["Version"]

    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1, Description="prod traffic")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == function_arn(name, "live") and created["FunctionVersion"] == v1
    resp, body, _ = invoke(lam, name, Qualifier="live")
    assert body == "one" and resp["ExecutedVersion"] == v1
    resp, body, _ = invoke(lam, f"{name}:live")
    assert body == "one"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1)
    assert error_code(e) == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="123", FunctionVersion=v1)
    assert error_code(e)[1] == 400
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="other", FunctionVersion="99")
    assert error_code(e) == ("ResourceNotFoundException", 404)

    # Everything to version 2, then all of it back through the routing weights.
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion=v2, RevisionId=created["RevisionId"])
    assert updated["FunctionVersion"] == v2 and updated["RevisionId"] != created["RevisionId"]
    assert invoke(lam, name, Qualifier="live")[1] == "two"
    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {v1: 1.0}})
    assert {invoke(lam, name, Qualifier="live")[0]["ExecutedVersion"] for _ in range(3)} == {v1}
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=name, Name="live", RevisionId="stale")
    assert error_code(e) == ("PreconditionFailedException", 412)
    assert lam.get_alias(FunctionName=name, Name="live")["RoutingConfig"] == {"AdditionalVersionWeights": {v1: 1.0}}
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    assert lam.list_aliases(FunctionName=name, FunctionVersion=v1)["Aliases"] == []
    # A version an alias uses cannot be deleted.
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier=v2)
    assert error_code(e) == ("ResourceConflictException", 409)
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert error_code(e) == ("ResourceNotFoundException", 404)
    lam.delete_function(FunctionName=name, Qualifier=v2)
