"""API Gateway REST API compatibility tests: the control plane through boto3 (and one AWS CLI
call), the data plane through plain HTTP on both invoke URL forms.

Every assertion states what real API Gateway does; a failure here is a firelocal bug, not a test
to loosen. The firelocal-specific pieces are the invoke URLs
(`{endpoint}/restapis/{api}/{stage}/_user_request_/{path}` and `Host: {api}.execute-api.localhost`)
and `POST /_firelocal/firehose/flush`, which stands in for waiting out Firehose's buffer.
"""

import datetime as dt
import io
import json
import re
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import HERE, REGION, make_client

ACCOUNT = "000000000000"
FIREHOSE_ROLE = "arn:aws:iam::000000000000:role/firehose_delivery_role"
APIGW_ROLE = "arn:aws:iam::000000000000:role/apigateway-firehose"
LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-exec"
FIXTURES = HERE.parent / "fixtures" / "lambda"
SEED_PREFIX = "clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
SEED_ERROR_PREFIX = "errors/!{firehose:error-output-type}/"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STAMP_RE = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
FAST_WAIT = {"Delay": 1, "MaxAttempts": 20}
HTTP_TIMEOUT = 30

# The seed's request template: the raw request body becomes one Firehose record.
SEED_TEMPLATE = '{"DeliveryStreamName": "%s", "Record": {"Data": "$util.base64Encode($input.body)"}}'
FIREHOSE_PUT_RECORD = "arn:aws:apigateway:us-east-1:firehose:action/PutRecord"
FIREHOSE_PUT_RECORD_BATCH = "arn:aws:apigateway:us-east-1:firehose:action/PutRecordBatch"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def apigw(firelocal_endpoint):
    return make_client(firelocal_endpoint, "apigateway")


@pytest.fixture(scope="session")
def firehose(firelocal_endpoint):
    return make_client(firelocal_endpoint, "firehose")


@pytest.fixture(scope="session")
def lam(firelocal_endpoint):
    return make_client(firelocal_endpoint, "lambda")


def uniq(stem):
    return f"{stem}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def api(apigw):
    """A factory of REST APIs, (id, root resource id); every API made is deleted afterwards."""
    made = []

    def make(stem="api", **kw):
        out = apigw.create_rest_api(name=uniq(stem), **kw)
        made.append(out["id"])
        return out["id"], out["rootResourceId"]

    yield make
    for api_id in made:
        try:
            apigw.delete_rest_api(restApiId=api_id)
        except ClientError:
            pass


@pytest.fixture
def function(lam):
    """A factory of Lambda functions from a fixtures/lambda folder; returns the function ARN."""
    made = []

    def make(folder, handler):
        name = uniq(f"ct-apigw-{folder}")
        code = _fixture_zip(folder)
        arn = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=LAMBDA_ROLE, Handler=handler, Code={"ZipFile": code}
        )["FunctionArn"]
        made.append(name)
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
        return arn

    yield make
    for name in made:
        try:
            lam.delete_function(FunctionName=name)
        except ClientError:
            pass


def _fixture_zip(folder):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted((FIXTURES / folder).iterdir()):
            if p.is_file():
                info = zipfile.ZipInfo(p.name, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, p.read_bytes())
    return buf.getvalue()


def allow_apigateway(lam, function_arn, api_id):
    """The resource policy statement a user adds so that API Gateway may invoke the function."""
    lam.add_permission(
        FunctionName=function_arn,
        StatementId=uniq("apigateway"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/*/*",
    )


def lambda_uri(function_arn):
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def url(endpoint, api_id, stage, path=""):
    """The path form of the invoke URL."""
    return f"{endpoint}/restapis/{api_id}/{stage}/_user_request_/{path.lstrip('/')}"


def host_call(endpoint, port, api_id, method, stage, path, **kw):
    """A request on the host form of the invoke URL: `Host: {api}.execute-api.localhost:PORT`."""
    headers = {"Host": f"{api_id}.execute-api.localhost:{port}", **kw.pop("headers", {})}
    return requests.request(method, f"{endpoint}/{stage}/{path.lstrip('/')}", headers=headers, timeout=HTTP_TIMEOUT, **kw)


def call(method, target, **kw):
    return requests.request(method, target, timeout=HTTP_TIMEOUT, **kw)


def error_of(exc_info):
    e = exc_info.value
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    assert error_of(ei) == (code, status), ei.value.response
    return ei.value.response["Error"].get("Message", "")


def add_resource(apigw, api_id, parent, part):
    return apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]


def mock_method(apigw, api_id, rid, method, response_template, request_template='{"statusCode": 200}', **ir):
    """A MOCK method whose 200 integration response renders `response_template`."""
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod=method, authorizationType="NONE")
    apigw.put_method_response(
        restApiId=api_id,
        resourceId=rid,
        httpMethod=method,
        statusCode="200",
        responseParameters={k: False for k in ir.get("responseParameters", {})},
    )
    apigw.put_integration(
        restApiId=api_id,
        resourceId=rid,
        httpMethod=method,
        type="MOCK",
        requestTemplates={"application/json": request_template},
    )
    apigw.put_integration_response(
        restApiId=api_id,
        resourceId=rid,
        httpMethod=method,
        statusCode="200",
        responseTemplates={"application/json": response_template},
        **ir,
    )


# Firehose ----------------------------------------------------------------------------------


def create_seed_stream(firehose, bucket, name, processing=None):
    dest = {
        "RoleARN": FIREHOSE_ROLE,
        "BucketARN": f"arn:aws:s3:::{bucket}",
        "Prefix": SEED_PREFIX,
        "ErrorOutputPrefix": SEED_ERROR_PREFIX,
        "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        "CompressionFormat": "UNCOMPRESSED",
    }
    if processing:
        dest["ProcessingConfiguration"] = processing
    firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration=dest
    )
    status = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert status["DeliveryStreamStatus"] in ("CREATING", "ACTIVE")


def flush(endpoint, stream):
    r = requests.post(f"{endpoint}/_firelocal/firehose/flush", params={"stream": stream}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["streams"]


def s3_objects(s3, bucket, prefix=""):
    out = {}
    for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


def assert_seed_key(key, stream):
    """`clickstream/year=YYYY/month=MM/day=DD/<stream>-1-<stamp>-<uuid>`, in today's UTC date."""
    m = re.fullmatch(
        rf"clickstream/year=(\d{{4}})/month=(\d{{2}})/day=(\d{{2}})/{re.escape(stream)}-1-{STAMP_RE}-{UUID_RE}", key
    )
    assert m, key
    today = {
        (d.strftime("%Y"), d.strftime("%m"), d.strftime("%d"))
        for d in (dt.datetime.now(dt.timezone.utc), dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    }
    assert m.groups() in today, key


def concatenated_json(data):
    """The JSON documents of a Firehose object whose records were written back to back."""
    text = data.decode()
    dec = json.JSONDecoder()
    docs, i = [], 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            break
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)
    return docs


def build_seed_api(apigw, api, stream, template=None, action_uri=FIREHOSE_PUT_RECORD, part="clickstream"):
    """The seed's REST API exactly as a user builds it: POST /clickstream -> Firehose PutRecord."""
    api_id, root = api("clickstream-api", description="clickstream ingest", endpointConfiguration={"types": ["REGIONAL"]})
    rid = add_resource(apigw, api_id, root, part)
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id,
        resourceId=rid,
        httpMethod="POST",
        type="AWS",
        integrationHttpMethod="POST",
        uri=action_uri,
        credentials=APIGW_ROLE,
        requestTemplates={"application/json": template or SEED_TEMPLATE % stream},
    )
    apigw.put_method_response(
        restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200", responseModels={"application/json": "Empty"}
    )
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200", selectionPattern=""
    )
    return api_id, rid


def click(i):
    return json.dumps({"event_id": i, "element_clicked": f"button-{i % 3}", "page": "/home", "ts": 1700000000 + i})


# --------------------------------------------------------------------------------------------
# the seed flow: API Gateway -> Firehose -> S3
# --------------------------------------------------------------------------------------------


def test_seed_clickstream_api_into_firehose_and_s3(
    apigw, firehose, s3, bucket, api, firelocal_endpoint, endpoint_port
):
    stream = uniq("clickstream")
    create_seed_stream(firehose, bucket, stream)
    api_id, rid = build_seed_api(apigw, api, stream)

    # Not deployed yet: there is no `prod` stage to serve it.
    r = call("POST", url(firelocal_endpoint, api_id, "prod", "clickstream"), json={"event_id": -1})
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}

    dep = apigw.create_deployment(restApiId=api_id, stageName="prod", description="first")
    assert dep["id"]
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert stage["deploymentId"] == dep["id"]

    sent = []
    record_ids = []
    for i in range(8):
        body = click(i)
        headers = {"Content-Type": "application/json"}
        if i % 3 == 2:
            r = host_call(firelocal_endpoint, endpoint_port, api_id, "POST", "prod", "clickstream", data=body, headers=headers)
        else:
            r = call("POST", url(firelocal_endpoint, api_id, "prod", "clickstream"), data=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        out = r.json()
        # Firehose's own PutRecord answer passes through the 200 integration response.
        assert set(out) == {"RecordId", "Encrypted"}, out
        assert isinstance(out["RecordId"], str) and out["RecordId"]
        assert out["Encrypted"] is False
        record_ids.append(out["RecordId"])
        sent.append(body)
    assert len(set(record_ids)) == len(record_ids)

    # Buffered in Firehose until the buffer is delivered.
    assert s3_objects(s3, bucket) == {}
    report = flush(firelocal_endpoint, stream)
    assert report[stream]["error"] is None and report[stream]["pending_records"] == 0

    objs = s3_objects(s3, bucket)
    assert len(objs) == 1, list(objs)
    key, data = next(iter(objs.items()))
    assert_seed_key(key, stream)
    # Every event, in order, byte for byte (the template adds no delimiter).
    assert data.decode() == "".join(sent)
    assert [d["event_id"] for d in concatenated_json(data)] == list(range(8))
    assert s3_objects(s3, bucket, "errors/") == {}


def test_seed_with_python_transform_lambda_writes_ndjson(
    apigw, firehose, s3, bucket, api, function, firelocal_endpoint, endpoint_port
):
    transform = function("python-transform", "app.lambda_handler")
    stream = uniq("clickstream-ndjson")
    processing = {
        "Enabled": True,
        "Processors": [
            {
                "Type": "Lambda",
                "Parameters": [
                    {"ParameterName": "LambdaArn", "ParameterValue": transform},
                    {"ParameterName": "NumberOfRetries", "ParameterValue": "1"},
                    {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
                    {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
                ],
            }
        ],
    }
    create_seed_stream(firehose, bucket, stream, processing)
    api_id, _ = build_seed_api(apigw, api, stream)
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    events = [click(i) for i in range(6)]
    for i, body in enumerate(events):
        if i % 2:
            r = host_call(firelocal_endpoint, endpoint_port, api_id, "POST", "prod", "clickstream", data=body,
                          headers={"Content-Type": "application/json"})
        else:
            r = call("POST", url(firelocal_endpoint, api_id, "prod", "clickstream"), data=body,
                     headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json()["Encrypted"] is False and r.json()["RecordId"]

    report = flush(firelocal_endpoint, stream)
    assert report[stream]["error"] is None, report
    objs = s3_objects(s3, bucket, "clickstream/")
    assert len(objs) == 1, list(objs)
    key, data = next(iter(objs.items()))
    assert_seed_key(key, stream)
    text = data.decode()
    # The blueprint transform newline-terminates every record: newline-delimited JSON.
    assert text.endswith("\n")
    assert text.split("\n")[:-1] == events
    assert [json.loads(line)["event_id"] for line in text.splitlines()] == list(range(6))
    assert s3_objects(s3, bucket, "errors/") == {}


# A request template that fans a JSON array out into PutRecordBatch records with documented
# $util functions only (API Gateway has no `$util.toJson`: that is AppSync's).
BATCH_TEMPLATES = {
    "input-json-index": (
        '{"DeliveryStreamName": "%s", "Records": ['
        "#foreach($e in $input.path('$.events'))"
        '#set($p = "$.events[$foreach.index]")'
        '{"Data": "$util.base64Encode($input.json($p))"}#if($foreach.hasNext),#end'
        "#end]}"
    ),
}


@pytest.mark.parametrize("variant", list(BATCH_TEMPLATES))
def test_put_record_batch_through_foreach_template(apigw, firehose, s3, bucket, api, firelocal_endpoint, variant):
    stream = uniq("batch")
    create_seed_stream(firehose, bucket, stream)
    api_id, _ = build_seed_api(
        apigw, api, stream, template=BATCH_TEMPLATES[variant] % stream, action_uri=FIREHOSE_PUT_RECORD_BATCH, part="batch"
    )
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    target = url(firelocal_endpoint, api_id, "prod", "batch")

    first = [{"event_id": i, "element_clicked": f"b{i}", "tags": ["x", i]} for i in range(5)]
    second = [{"event_id": 5, "nested": {"k": "v", "n": None, "ok": True}}]
    for events in (first, second):
        r = call("POST", target, json={"events": events})
        assert r.status_code == 200, r.text
        out = r.json()
        # Firehose's PutRecordBatch answer passes through.
        assert out["FailedPutCount"] == 0
        assert out["Encrypted"] is False
        assert len(out["RequestResponses"]) == len(events)
        assert all(rr.get("RecordId") and "ErrorCode" not in rr for rr in out["RequestResponses"])

    flush(firelocal_endpoint, stream)
    objs = s3_objects(s3, bucket, "clickstream/")
    assert len(objs) == 1, list(objs)
    key, data = next(iter(objs.items()))
    assert_seed_key(key, stream)
    assert concatenated_json(data) == first + second


def test_firehose_errors_select_integration_responses(apigw, api, firelocal_endpoint):
    """A Firehose error status is matched against selectionPattern like any backend status; with
    only the default response configured, AWS answers 200 with Firehose's error body."""
    missing = uniq("no-such-stream")
    api_id, rid = build_seed_api(apigw, api, missing)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    target = url(firelocal_endpoint, api_id, "prod", "clickstream")
    r = call("POST", target, json={"event_id": 1})
    assert r.status_code == 200, r.text
    assert r.json()["__type"] == "ResourceNotFoundException"

    apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="400")
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="400", selectionPattern="4\\d{2}",
        responseTemplates={"application/json": '{"error": $input.json(\'$.__type\')}'},
    )
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    r = call("POST", target, json={"event_id": 2})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "ResourceNotFoundException"}


# --------------------------------------------------------------------------------------------
# MOCK, CORS, routes, templates, stages and deployments
# --------------------------------------------------------------------------------------------


CORS_HEADERS = {
    "method.response.header.Access-Control-Allow-Origin": "'*'",
    "method.response.header.Access-Control-Allow-Methods": "'GET,POST,OPTIONS'",
    "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization'",
}


def test_mock_cors_preflight_and_status_selection(apigw, api, firelocal_endpoint, endpoint_port):
    api_id, root = api("cors")
    items = add_resource(apigw, api_id, root, "items")
    # The console's "Enable CORS": an OPTIONS MOCK answering the Access-Control-Allow-* headers.
    mock_method(apigw, api_id, items, "OPTIONS", "", responseParameters=CORS_HEADERS)
    # GET /items?code=NNN: a MOCK whose status comes from the request template.
    apigw.put_method(restApiId=api_id, resourceId=items, httpMethod="GET", authorizationType="NONE")
    for status in ("200", "404"):
        apigw.put_method_response(
            restApiId=api_id, resourceId=items, httpMethod="GET", statusCode=status,
            responseParameters={"method.response.header.Access-Control-Allow-Origin": False},
        )
    apigw.put_integration(
        restApiId=api_id, resourceId=items, httpMethod="GET", type="MOCK",
        requestTemplates={"application/json": "{\"statusCode\": $input.params('code')}"},
    )
    apigw.put_integration_response(
        restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="200", selectionPattern="2\\d{2}",
        responseTemplates={"application/json": '{"items": [], "code": "$input.params(\'code\')"}'},
        responseParameters={"method.response.header.Access-Control-Allow-Origin": "'*'"},
    )
    apigw.put_integration_response(
        restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="404", selectionPattern="404",
        responseTemplates={"application/json": '{"message": "no such item"}'},
    )
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    base = url(firelocal_endpoint, api_id, "v1", "items")

    pre = call("OPTIONS", base, headers={
        "Origin": "http://page.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert pre.status_code == 200, pre.text
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert pre.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert pre.headers["Access-Control-Allow-Headers"] == "Content-Type,X-Amz-Date,Authorization"
    assert pre.content == b""
    # The same preflight on the host form.
    pre = host_call(firelocal_endpoint, endpoint_port, api_id, "OPTIONS", "v1", "items", headers={"Origin": "http://x"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "*"

    r = call("GET", base, params={"code": "200"})
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "code": "200"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Content-Type"].startswith("application/json")
    r = call("GET", base, params={"code": "404"})
    assert r.status_code == 404
    assert r.json() == {"message": "no such item"}
    assert "Access-Control-Allow-Origin" not in r.headers
    # No integration response matches 503 and there is no default one: AWS's configuration error.
    r = call("GET", base, params={"code": "503"})
    assert r.status_code == 500
    assert r.json() == {"message": "Internal server error"}
    # A method the resource does not have.
    r = call("DELETE", base)
    assert r.status_code == 403
    assert r.json() == {"message": "Missing Authentication Token"}


def test_route_matching_params_proxy_any_and_literal_precedence(apigw, api, firelocal_endpoint, endpoint_port):
    api_id, root = api("routes")
    items = add_resource(apigw, api_id, root, "items")
    item = add_resource(apigw, api_id, items, "{itemId}")
    special = add_resource(apigw, api_id, items, "special")
    proxy = add_resource(apigw, api_id, root, "{proxy+}")
    tmpl = (
        '{"route": "%s", "id": "$input.params(\'itemId\')", "proxy": "$input.params(\'proxy\')", '
        '"method": "$context.httpMethod", "resourcePath": "$context.resourcePath"}'
    )
    for rid, method, name in [
        (items, "GET", "items"),
        (item, "GET", "item-get"),
        (item, "ANY", "item-any"),
        (special, "GET", "special"),
        (proxy, "ANY", "proxy"),
    ]:
        mock_method(apigw, api_id, rid, method, tmpl % name)
    apigw.create_deployment(restApiId=api_id, stageName="v1")

    def hit(method, path):
        r = call(method, url(firelocal_endpoint, api_id, "v1", path))
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        return r.json()

    assert hit("GET", "items") == {"route": "items", "id": "", "proxy": "", "method": "GET", "resourcePath": "/items"}
    assert hit("GET", "items/42") == {
        "route": "item-get", "id": "42", "proxy": "", "method": "GET", "resourcePath": "/items/{itemId}"
    }
    # ANY serves every method the resource does not define itself.
    for m in ("POST", "DELETE", "PATCH", "PUT"):
        assert hit(m, "items/42") == {
            "route": "item-any", "id": "42", "proxy": "", "method": m, "resourcePath": "/items/{itemId}"
        }
    # A literal path part wins over a {param} sibling.
    assert hit("GET", "items/special")["route"] == "special"
    assert hit("GET", "items/special-ish") == {
        "route": "item-get", "id": "special-ish", "proxy": "", "method": "GET", "resourcePath": "/items/{itemId}"
    }
    # {proxy+} is greedy: it takes whatever no more specific resource matches.
    assert hit("GET", "a/b/c") == {"route": "proxy", "id": "", "proxy": "a/b/c", "method": "GET", "resourcePath": "/{proxy+}"}
    assert hit("PATCH", "items/42/extra")["proxy"] == "items/42/extra"
    assert hit("GET", "other")["proxy"] == "other"
    # The host form routes the same way.
    r = host_call(firelocal_endpoint, endpoint_port, api_id, "GET", "v1", "items/7")
    assert r.status_code == 200 and r.json()["id"] == "7" and r.json()["route"] == "item-get"
    # {proxy+} does not match the root, which has no method of its own.
    r = call("GET", url(firelocal_endpoint, api_id, "v1", ""))
    assert r.status_code == 403
    assert r.json() == {"message": "Missing Authentication Token"}
    # An unknown stage of a deployed API.
    r = call("GET", url(firelocal_endpoint, api_id, "nostage", "items"))
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}


def test_passthrough_never_and_template_errors(apigw, api, firelocal_endpoint):
    api_id, root = api("passthrough")
    strict = add_resource(apigw, api_id, root, "strict")
    mock_method(apigw, api_id, strict, "POST", '{"ok": true}')
    apigw.put_integration(
        restApiId=api_id, resourceId=strict, httpMethod="POST", type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'}, passthroughBehavior="NEVER",
    )
    apigw.put_integration_response(
        restApiId=api_id, resourceId=strict, httpMethod="POST", statusCode="200",
        responseTemplates={"application/json": '{"ok": true}'},
    )
    broken = add_resource(apigw, api_id, root, "broken")
    mock_method(apigw, api_id, broken, "GET", '{"never": "rendered"}', request_template="#if(")
    apigw.create_deployment(restApiId=api_id, stageName="v1")

    r = call("POST", url(firelocal_endpoint, api_id, "v1", "strict"), json={"a": 1})
    assert r.status_code == 200 and r.json() == {"ok": True}
    # NEVER: a content type without a template is rejected before the integration runs.
    r = call("POST", url(firelocal_endpoint, api_id, "v1", "strict"), data="x=1", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json() == {"message": "Unsupported Media Type"}
    # A request template that does not parse is AWS's 500.
    r = call("GET", url(firelocal_endpoint, api_id, "v1", "broken"))
    assert r.status_code == 500
    assert r.json() == {"message": "Internal server error"}


PATTERN_TEMPLATE = (
    "#set($l = ['a'])#set($ignored = $l.add($l))"
    "{\"masked\": \"$input.params('email').replaceAll('(\\w+)@(\\w+)', '$2 at $1 \\$')\", "
    "\"ascii\": \"$input.params('name').replaceAll('\\w', '.')\", \"self\": \"$l\"}"
)


def test_java_patterns_and_runaway_templates(apigw, api, firelocal_endpoint):
    r"""Patterns are Java's (ASCII `\w`, `$1` groups, `\$` escapes); a template that runs away
    in nested loops, or prints lists shared many times over, is API Gateway's 500."""
    api_id, root = api("patterns")
    mask = add_resource(apigw, api_id, root, "mask")
    mock_method(apigw, api_id, mask, "GET", PATTERN_TEMPLATE)
    loops = add_resource(apigw, api_id, root, "loops")
    mock_method(apigw, api_id, loops, "GET", "#foreach($i in [1..999])#foreach($j in [1..999])$j#end#end")
    shared = add_resource(apigw, api_id, root, "shared")
    mock_method(apigw, api_id, shared, "GET", "#set($a = ['x'])#foreach($i in [1..40])#set($a = [$a, $a])#end$a")
    apigw.create_deployment(restApiId=api_id, stageName="v1")

    r = call("GET", url(firelocal_endpoint, api_id, "v1", "mask"), params={"email": "me@host", "name": "héllo_1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"masked": "host at me $", "ascii": ".é.....", "self": "[a, (this Collection)]"}
    for path in ("loops", "shared"):
        r = call("GET", url(firelocal_endpoint, api_id, "v1", path))
        assert (r.status_code, r.json()) == (500, {"message": "Internal server error"}), path


CONTEXT_TEMPLATE = (
    '{"stage": "$context.stage", "httpMethod": "$context.httpMethod", "resourcePath": "$context.resourcePath", '
    '"resourceId": "$context.resourceId", "apiId": "$context.apiId", "path": "$context.path", '
    '"requestId": "$context.requestId", "accountId": "$context.accountId", '
    '"sourceIp": "$context.identity.sourceIp", "userAgent": "$context.identity.userAgent", '
    '"env": "$stageVariables.env", "braced": "${stageVariables.env}-x", "color": "$!stageVariables.color", '
    '"q": "$input.params(\'q\')", "hdr": "$input.params(\'X-Custom\')", "who": "$input.params(\'who\')"}'
)


def test_context_and_stage_variables_in_templates(apigw, api, firelocal_endpoint):
    api_id, root = api("context")
    info = add_resource(apigw, api_id, root, "info")
    who = add_resource(apigw, api_id, info, "{who}")
    mock_method(apigw, api_id, who, "GET", CONTEXT_TEMPLATE)
    apigw.create_deployment(restApiId=api_id, stageName="dev", variables={"env": "one"})
    target = url(firelocal_endpoint, api_id, "dev", "info/ann")

    def get():
        r = call("GET", target, params={"q": "search"}, headers={"X-Custom": "hdr-1", "User-Agent": "compat-test/1.0"})
        assert r.status_code == 200, r.text
        return r, r.json()

    r, v = get()
    assert v["stage"] == "dev"
    assert v["httpMethod"] == "GET"
    assert v["resourcePath"] == "/info/{who}"
    assert v["resourceId"] == who
    assert v["apiId"] == api_id
    assert v["path"] == "/dev/info/ann"
    assert v["accountId"] == ACCOUNT
    assert v["sourceIp"] == "127.0.0.1"
    assert v["userAgent"] == "compat-test/1.0"
    assert re.fullmatch(UUID_RE, v["requestId"]), v["requestId"]
    # The response's x-amzn-RequestId is the request's $context.requestId.
    assert r.headers["x-amzn-RequestId"] == v["requestId"]
    assert (v["q"], v["hdr"], v["who"]) == ("search", "hdr-1", "ann")
    assert (v["env"], v["braced"], v["color"]) == ("one", "one-x", "")
    assert get()[1]["requestId"] != v["requestId"]

    # Stage variables take effect at once, with no redeployment.
    apigw.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/variables/env", "value": "two"},
            {"op": "replace", "path": "/variables/color", "value": "blue"},
        ],
    )
    assert apigw.get_stage(restApiId=api_id, stageName="dev")["variables"] == {"env": "two", "color": "blue"}
    v = get()[1]
    assert (v["env"], v["braced"], v["color"]) == ("two", "two-x", "blue")
    apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=[{"op": "remove", "path": "/variables/color"}])
    assert apigw.get_stage(restApiId=api_id, stageName="dev")["variables"] == {"env": "two"}
    assert get()[1]["color"] == ""


def test_redeploy_picks_up_changed_template(apigw, api, firelocal_endpoint):
    api_id, root = api("redeploy")
    rid = add_resource(apigw, api_id, root, "version")
    mock_method(apigw, api_id, rid, "GET", '{"version": 1, "stage": "$context.stage"}')
    d1 = apigw.create_deployment(restApiId=api_id, stageName="prod", description="v1")["id"]
    prod = url(firelocal_endpoint, api_id, "prod", "version")

    def version(target):
        r = call("GET", target)
        assert r.status_code == 200, r.text
        return r.json()["version"]

    assert version(prod) == 1
    # Change the template: the stage keeps serving its deployment's snapshot until a redeploy.
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
        responseTemplates={"application/json": '{"version": 2, "stage": "$context.stage"}'},
    )
    assert apigw.get_integration(restApiId=api_id, resourceId=rid, httpMethod="GET")["integrationResponses"]["200"][
        "responseTemplates"
    ] == {"application/json": '{"version": 2, "stage": "$context.stage"}'}
    assert version(prod) == 1
    # A new resource is not served either until it is deployed.
    extra = add_resource(apigw, api_id, root, "extra")
    mock_method(apigw, api_id, extra, "GET", '{"version": 2}')
    r = call("GET", url(firelocal_endpoint, api_id, "prod", "extra"))
    assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}

    d2 = apigw.create_deployment(restApiId=api_id, stageName="prod", description="v2")["id"]
    assert d2 != d1
    assert version(prod) == 2
    assert version(url(firelocal_endpoint, api_id, "prod", "extra")) == 2
    assert apigw.get_stage(restApiId=api_id, stageName="prod")["deploymentId"] == d2
    assert {d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]} == {d1, d2}

    # A stage on the old deployment still serves the old template; moving it is a stage update.
    old = apigw.create_stage(restApiId=api_id, stageName="old", deploymentId=d1, description="pinned")
    assert old["deploymentId"] == d1 and old["stageName"] == "old"
    old_url = url(firelocal_endpoint, api_id, "old", "version")
    assert call("GET", old_url).json() == {"version": 1, "stage": "old"}
    apigw.update_stage(restApiId=api_id, stageName="old", patchOperations=[{"op": "replace", "path": "/deploymentId", "value": d2}])
    assert version(old_url) == 2
    assert {s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"]} == {"prod", "old"}
    # A deleted stage no longer serves.
    apigw.delete_stage(restApiId=api_id, stageName="old")
    r = call("GET", old_url)
    assert r.status_code == 403 and r.json() == {"message": "Forbidden"}


# --------------------------------------------------------------------------------------------
# Lambda integrations
# --------------------------------------------------------------------------------------------


def test_lambda_proxy_integration(apigw, lam, api, function, firelocal_endpoint, endpoint_port):
    arn = function("proxy-echo", "app.handler")
    api_id, root = api("proxy")
    rid = add_resource(apigw, api_id, root, "{name}")
    greedy_parent = add_resource(apigw, api_id, root, "files")
    greedy = add_resource(apigw, api_id, greedy_parent, "{proxy+}")
    for r in (rid, greedy):
        apigw.put_method(restApiId=api_id, resourceId=r, httpMethod="ANY", authorizationType="NONE")
        apigw.put_integration(
            restApiId=api_id, resourceId=r, httpMethod="ANY", type="AWS_PROXY",
            integrationHttpMethod="POST", uri=lambda_uri(arn),
        )
    allow_apigateway(lam, arn, api_id)
    apigw.create_deployment(restApiId=api_id, stageName="prod", variables={"env": "local"})

    r = call("PUT", url(firelocal_endpoint, api_id, "prod", "alice") + "?x=0&x=1", data=b"payload",
             headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    assert r.headers["x-echo"] == "yes"
    assert r.headers["Content-Type"] == "application/json"
    assert r.raw.headers.getlist("x-multi") == ["a", "b"]
    v = r.json()
    assert v == {
        "resource": "/{name}",
        "path": "/alice",
        "method": "PUT",
        "pathParameters": {"name": "alice"},
        "query": {"x": "1"},
        "stage": "prod",
        "stageVariables": {"env": "local"},
        "body": "payload",
    }

    # (queryStringParameters holds the last value of a repeated parameter.)
    # No body, no query string: both are null in the proxy event.
    r = host_call(firelocal_endpoint, endpoint_port, api_id, "GET", "prod", "bob")
    assert r.status_code == 201, r.text
    v = r.json()
    assert (v["path"], v["method"], v["pathParameters"], v["query"], v["body"]) == ("/bob", "GET", {"name": "bob"}, None, None)

    r = call("POST", url(firelocal_endpoint, api_id, "prod", "files/a/b/c.txt"), json={"k": "v"})
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["resource"] == "/files/{proxy+}"
    assert v["path"] == "/files/a/b/c.txt"
    assert v["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert json.loads(v["body"]) == {"k": "v"}

    # A function answer that is not a proxy response is AWS's 502.
    r = call("GET", url(firelocal_endpoint, api_id, "prod", "carol"), params={"malformed": "1"})
    assert r.status_code == 502
    assert r.json() == {"message": "Internal server error"}


def test_lambda_non_proxy_integration_error_selection(apigw, lam, api, function, firelocal_endpoint):
    arn = function("python-echo", "app.handler")
    api_id, root = api("lambda-aws")
    rid = add_resource(apigw, api_id, root, "echo")
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod="POST", type="AWS",
        integrationHttpMethod="POST", uri=lambda_uri(arn),
    )
    for status in ("200", "400"):
        apigw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode=status)
    apigw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200")
    apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="400", selectionPattern=".*bad input.*",
        responseTemplates={"application/json": '{"error": "$input.path(\'$.errorMessage\')", "type": "$input.path(\'$.errorType\')"}'},
    )
    allow_apigateway(lam, arn, api_id)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    target = url(firelocal_endpoint, api_id, "prod", "echo")

    # A function error whose errorMessage matches the selectionPattern: the 400 response.
    r = call("POST", target, json={"action": "raise", "message": "bad input"})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "bad input", "type": "ValueError"}

    # Success: the default response, with the function's result as the body (passthrough).
    r = call("POST", target, json={"hello": "world", "note": "bad input"})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["event"] == {"hello": "world", "note": "bad input"}
    assert v["arn"] == arn

    # A function error no pattern matches goes to the default response: a 200 with the error.
    r = call("POST", target, json={"action": "raise", "message": "something else"})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["errorMessage"] == "something else"
    assert v["errorType"] == "ValueError"


# --------------------------------------------------------------------------------------------
# control plane
# --------------------------------------------------------------------------------------------


def test_control_plane_crud_and_get_resources(apigw, api):
    api_id, root = api("crud", description="first")
    got = apigw.get_rest_api(restApiId=api_id)
    assert got["id"] == api_id and got["description"] == "first" and got["rootResourceId"] == root
    assert got["name"].startswith("crud-")
    assert isinstance(got["createdDate"], dt.datetime)
    assert api_id in {a["id"] for a in apigw.get_rest_apis()["items"]}

    new_name = uniq("renamed")
    up = apigw.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "replace", "path": "/name", "value": new_name},
            {"op": "replace", "path": "/description", "value": "second"},
        ],
    )
    assert (up["name"], up["description"]) == (new_name, "second")
    assert apigw.get_rest_api(restApiId=api_id)["name"] == new_name

    orders = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="orders")
    assert (orders["parentId"], orders["pathPart"], orders["path"]) == (root, "orders", "/orders")
    order = add_resource(apigw, api_id, orders["id"], "{orderId}")
    add_resource(apigw, api_id, order, "{proxy+}")
    add_resource(apigw, api_id, root, "health")
    items = apigw.get_resources(restApiId=api_id)["items"]
    assert sorted(i["path"] for i in items) == ["/", "/health", "/orders", "/orders/{orderId}", "/orders/{orderId}/{proxy+}"]
    by_path = {i["path"]: i for i in items}
    assert by_path["/"]["id"] == root and "parentId" not in by_path["/"]
    assert by_path["/orders/{orderId}"]["parentId"] == orders["id"]
    assert by_path["/orders/{orderId}/{proxy+}"]["pathPart"] == "{proxy+}"
    got = apigw.get_resource(restApiId=api_id, resourceId=order)
    assert (got["id"], got["path"], got["pathPart"]) == (order, "/orders/{orderId}", "{orderId}")

    m = apigw.put_method(restApiId=api_id, resourceId=order, httpMethod="GET", authorizationType="NONE")
    assert (m["httpMethod"], m["authorizationType"], m["apiKeyRequired"]) == ("GET", "NONE", False)
    apigw.put_method_response(restApiId=api_id, resourceId=order, httpMethod="GET", statusCode="200")
    i = apigw.put_integration(
        restApiId=api_id, resourceId=order, httpMethod="GET", type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    assert i["type"] == "MOCK"
    assert i["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert i["timeoutInMillis"] == 29000
    ir = apigw.put_integration_response(
        restApiId=api_id, resourceId=order, httpMethod="GET", statusCode="200", selectionPattern="",
        responseTemplates={"application/json": '{"id": "$input.params(\'orderId\')"}'},
    )
    assert ir["statusCode"] == "200"
    got = apigw.get_method(restApiId=api_id, resourceId=order, httpMethod="GET")
    assert got["httpMethod"] == "GET"
    assert got["methodResponses"]["200"]["statusCode"] == "200"
    assert got["methodIntegration"]["type"] == "MOCK"
    assert got["methodIntegration"]["requestTemplates"] == {"application/json": '{"statusCode": 200}'}
    assert got["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] == {
        "application/json": '{"id": "$input.params(\'orderId\')"}'
    }
    assert apigw.get_integration(restApiId=api_id, resourceId=order, httpMethod="GET")["type"] == "MOCK"

    dep = apigw.create_deployment(restApiId=api_id, stageName="beta", description="d1", variables={"a": "1"})
    st = apigw.get_stage(restApiId=api_id, stageName="beta")
    assert (st["stageName"], st["deploymentId"], st["variables"]) == ("beta", dep["id"], {"a": "1"})
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"]] == ["beta"]
    assert [d["id"] for d in apigw.get_deployments(restApiId=api_id)["items"]] == [dep["id"]]
    up = apigw.update_stage(restApiId=api_id, stageName="beta", patchOperations=[{"op": "replace", "path": "/description", "value": "beta stage"}])
    assert up["description"] == "beta stage"

    apigw.delete_method(restApiId=api_id, resourceId=order, httpMethod="GET")
    expect_error("NotFoundException", 404, apigw.get_method, restApiId=api_id, resourceId=order, httpMethod="GET")
    # Deleting a resource deletes everything below it.
    apigw.delete_resource(restApiId=api_id, resourceId=orders["id"])
    assert sorted(i["path"] for i in apigw.get_resources(restApiId=api_id)["items"]) == ["/", "/health"]
    expect_error("NotFoundException", 404, apigw.get_resource, restApiId=api_id, resourceId=order)
    apigw.delete_stage(restApiId=api_id, stageName="beta")
    expect_error("NotFoundException", 404, apigw.get_stage, restApiId=api_id, stageName="beta")
    apigw.delete_rest_api(restApiId=api_id)
    expect_error("NotFoundException", 404, apigw.get_rest_api, restApiId=api_id)
    assert api_id not in {a["id"] for a in apigw.get_rest_apis()["items"]}


def test_control_plane_errors(apigw, api):
    api_id, root = api("errors")
    rid = add_resource(apigw, api_id, root, "things")

    # NotFoundException (404): unknown API, resource, method, integration, stage.
    msg = expect_error("NotFoundException", 404, apigw.get_rest_api, restApiId="nosuchapi1")
    assert "Invalid API identifier specified" in msg
    expect_error("NotFoundException", 404, apigw.get_resources, restApiId="nosuchapi1")
    expect_error("NotFoundException", 404, apigw.delete_rest_api, restApiId="nosuchapi1")
    msg = expect_error("NotFoundException", 404, apigw.get_resource, restApiId=api_id, resourceId="zzzzzz")
    assert "Invalid Resource identifier specified" in msg
    expect_error("NotFoundException", 404, apigw.create_resource, restApiId=api_id, parentId="zzzzzz", pathPart="x")
    expect_error("NotFoundException", 404, apigw.get_method, restApiId=api_id, resourceId=rid, httpMethod="GET")
    expect_error(
        "NotFoundException", 404, apigw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK"
    )
    msg = expect_error("NotFoundException", 404, apigw.get_stage, restApiId=api_id, stageName="nostage")
    assert "Invalid Stage identifier specified" in msg
    expect_error("NotFoundException", 404, apigw.get_stages, restApiId="nosuchapi1")

    # BadRequestException (400): no methods to deploy, bad method, integration type, path part.
    expect_error("BadRequestException", 400, apigw.create_deployment, restApiId=api_id, stageName="prod")
    expect_error("BadRequestException", 400, apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="FETCH",
                 authorizationType="NONE")
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType="NONE")
    expect_error("NotFoundException", 404, apigw.get_integration, restApiId=api_id, resourceId=rid, httpMethod="GET")
    expect_error("BadRequestException", 400, apigw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET",
                 type="BOGUS")
    for bad in ("bad path", "a/b", "{unclosed", "x?y", "{proxy+}x"):
        expect_error("BadRequestException", 400, apigw.create_resource, restApiId=api_id, parentId=root, pathPart=bad)
    greedy = add_resource(apigw, api_id, root, "{proxy+}")
    # A greedy path parameter must be the last part of a path.
    expect_error("BadRequestException", 400, apigw.create_resource, restApiId=api_id, parentId=greedy, pathPart="more")

    # ConflictException (409): duplicate resource, method, stage.
    expect_error("ConflictException", 409, apigw.create_resource, restApiId=api_id, parentId=root, pathPart="things")
    expect_error("ConflictException", 409, apigw.put_method, restApiId=api_id, resourceId=rid, httpMethod="GET",
                 authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    dep = apigw.create_deployment(restApiId=api_id, stageName="prod")["id"]
    expect_error("ConflictException", 409, apigw.create_stage, restApiId=api_id, stageName="prod", deploymentId=dep)
    # The failed calls changed nothing.
    assert sorted(i["path"] for i in apigw.get_resources(restApiId=api_id)["items"]) == ["/", "/things", "/{proxy+}"]
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api_id)["item"]] == ["prod"]


def test_only_one_variable_path_part_among_siblings(apigw, api):
    """AWS: "A sibling ({id}) of this resource already has a variable path part -- only one is allowed"."""
    api_id, root = api("siblings")
    items = add_resource(apigw, api_id, root, "items")
    add_resource(apigw, api_id, items, "{id}")
    add_resource(apigw, api_id, items, "special")  # literal siblings are fine
    msg = expect_error("BadRequestException", 400, apigw.create_resource, restApiId=api_id, parentId=items, pathPart="{name}")
    assert "only one is allowed" in msg, msg
    expect_error("BadRequestException", 400, apigw.create_resource, restApiId=api_id, parentId=items, pathPart="{proxy+}")
    add_resource(apigw, api_id, root, "{proxy+}")
    expect_error("BadRequestException", 400, apigw.create_resource, restApiId=api_id, parentId=root, pathPart="{id}")
    assert sorted(i["path"] for i in apigw.get_resources(restApiId=api_id)["items"]) == [
        "/", "/items", "/items/special", "/items/{id}", "/{proxy+}"
    ]


def test_integration_response_header_must_be_declared_by_the_method_response(apigw, api):
    api_id, root = api("method-response")
    rid = add_resource(apigw, api_id, root, "r")
    apigw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType="NONE")
    apigw.put_method_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
        responseParameters={"method.response.header.X-Declared": False},
    )
    apigw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    # AWS: "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid
    # mapping expression parameter specified: method.response.header.X-Undeclared]".
    msg = expect_error(
        "BadRequestException", 400, apigw.put_integration_response, restApiId=api_id, resourceId=rid,
        httpMethod="GET", statusCode="200", responseParameters={"method.response.header.X-Undeclared": "'x'"},
    )
    assert "Invalid mapping expression specified" in msg, msg
    out = apigw.put_integration_response(
        restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200",
        responseParameters={"method.response.header.X-Declared": "'x'"},
    )
    assert out["responseParameters"] == {"method.response.header.X-Declared": "'x'"}


def test_aws_cli_get_rest_apis(aws_cli, api):
    api_id, _ = api("cli", description="via the cli")
    proc = aws_cli("apigateway", "get-rest-apis", "--output", "json", check=True)
    items = {a["id"]: a for a in json.loads(proc.stdout)["items"]}
    assert api_id in items
    assert items[api_id]["name"].startswith("cli-")
    assert items[api_id]["description"] == "via the cli"
    proc = aws_cli("apigateway", "get-resources", "--rest-api-id", api_id, "--output", "json", check=True)
    assert [r["path"] for r in json.loads(proc.stdout)["items"]] == ["/"]
    proc = aws_cli("apigateway", "get-rest-api", "--rest-api-id", "nosuchapi1")
    assert proc.returncode != 0
    assert "NotFoundException" in proc.stderr
