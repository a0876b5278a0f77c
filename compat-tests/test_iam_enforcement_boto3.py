"""`serve --enforce-iam` with boto3: every API call is checked against its caller's identity
policies with the action and resource ARN AWS uses for the operation; Athena reads and writes as
its caller; a Lambda function's own calls act as its execution role; `--verify-signatures`
checks SigV2 presigned URLs. The default keys are the account root and are never restricted."""

import io
import json
import time
import urllib.request
import uuid
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION, make_client

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    from conftest import serve

    with serve(tmp_path_factory, "--enforce-iam", "--verify-signatures") as url:
        yield url


def as_keys(endpoint, service, key, secret, token=None, **cfg):
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"}, **cfg)
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=config)


def error(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"].get("Message", "")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, **condition):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


def denied(call, code, status, action, resource):
    with pytest.raises(ClientError) as e:
        call()
    got_code, got_status, message = error(e)
    assert (got_code, got_status) == (code, status), message
    assert f"is not authorized to perform: {action} on resource: {resource}" in message, message
    return message


@pytest.fixture(scope="module")
def user(enforcing):
    """A fresh IAM user with keys; returns (name, client factory, policy setter)."""
    iam = make_client(enforcing, "iam")

    def make(prefix="dev"):
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        iam.create_user(UserName=name)
        k = iam.create_access_key(UserName=name)["AccessKey"]

        def client(service, **cfg):
            return as_keys(enforcing, service, k["AccessKeyId"], k["SecretAccessKey"], **cfg)

        def grant(policy_name, *statements):
            iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=policy(*statements))

        return name, client, grant

    return make


def test_every_service_checks_its_caller(enforcing, user):
    root = {s: make_client(enforcing, s) for s in ("s3", "firehose", "glue", "athena", "logs", "lambda", "apigateway", "iam")}
    name, client, grant = user()
    me = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    bucket = f"enf-{uuid.uuid4().hex[:8]}"
    root["s3"].create_bucket(Bucket=bucket)
    root["s3"].put_object(Bucket=bucket, Key="logs/a.txt", Body=b"hello")
    root["s3"].put_object(Bucket=bucket, Key="other/b.txt", Body=b"bye")

    # Anyone may ask STS who they are.
    assert client("sts").get_caller_identity()["Arn"] == me

    s3 = client("s3")
    msg = denied(lambda: s3.get_object(Bucket=bucket, Key="logs/a.txt"), "AccessDenied", 403, "s3:GetObject", f"arn:aws:s3:::{bucket}/logs/a.txt")
    assert msg.startswith(f"User: {me} ") and msg.endswith("because no identity-based policy allows the s3:GetObject action")
    denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="logs/"), "AccessDenied", 403, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
    denied(lambda: s3.list_buckets(), "AccessDenied", 403, "s3:ListAllMyBuckets", "*")
    grant("s3", allow("s3:GetObject", f"arn:aws:s3:::{bucket}/logs/*"),
          allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", StringLike={"s3:prefix": "logs/*"}))
    assert s3.get_object(Bucket=bucket, Key="logs/a.txt")["Body"].read() == b"hello"
    assert s3.head_object(Bucket=bucket, Key="logs/a.txt")["ContentLength"] == 5
    denied(lambda: s3.get_object(Bucket=bucket, Key="other/b.txt"), "AccessDenied", 403, "s3:GetObject", f"arn:aws:s3:::{bucket}/other/b.txt")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="logs/")["Contents"]] == ["logs/a.txt"]
    denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="other/"), "AccessDenied", 403, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
    denied(lambda: s3.put_object(Bucket=bucket, Key="logs/c.txt", Body=b"x"), "AccessDenied", 403, "s3:PutObject", f"arn:aws:s3:::{bucket}/logs/c.txt")
    # A copy needs PutObject on the target and GetObject on the source.
    grant("s3-write", allow("s3:PutObject", f"arn:aws:s3:::{bucket}/logs/*"))
    s3.copy_object(Bucket=bucket, Key="logs/copy.txt", CopySource={"Bucket": bucket, "Key": "logs/a.txt"})
    denied(lambda: s3.copy_object(Bucket=bucket, Key="logs/copy2.txt", CopySource={"Bucket": bucket, "Key": "other/b.txt"}),
           "AccessDenied", 403, "s3:GetObject", f"arn:aws:s3:::{bucket}/other/b.txt")
    # An explicit Deny beats the Allow.
    grant("deny", {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/logs/a.txt"})
    msg = denied(lambda: s3.get_object(Bucket=bucket, Key="logs/a.txt"), "AccessDenied", 403, "s3:GetObject", f"arn:aws:s3:::{bucket}/logs/a.txt")
    assert msg.endswith("with an explicit deny in an identity-based policy")
    assert root["s3"].get_object(Bucket=bucket, Key="logs/a.txt")["Body"].read() == b"hello", "the root is never restricted"

    # The awsJson services answer 400 AccessDeniedException naming the resource ARN AWS uses.
    stream = f"s-{uuid.uuid4().hex[:6]}"
    fh = client("firehose")
    denied(lambda: fh.put_record(DeliveryStreamName=stream, Record={"Data": b"{}"}), "AccessDeniedException", 400, "firehose:PutRecord",
           f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{stream}")
    denied(lambda: fh.list_delivery_streams(), "AccessDeniedException", 400, "firehose:ListDeliveryStreams", "*")
    glue = client("glue")
    denied(lambda: glue.get_table(DatabaseName="default", Name="t"), "AccessDeniedException", 400, "glue:GetTable", f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog")
    grant("glue", allow("glue:GetDatabase", [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/default"]))
    assert glue.get_database(Name="default")["Database"]["Name"] == "default"
    denied(lambda: glue.get_database(Name="other"), "AccessDeniedException", 400, "glue:GetDatabase", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/other")
    athena = client("athena")
    denied(lambda: athena.start_query_execution(QueryString="SELECT 1", ResultConfiguration={"OutputLocation": f"s3://{bucket}/r/"}),
           "AccessDeniedException", 400, "athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary")
    logs = client("logs")
    denied(lambda: logs.create_log_group(logGroupName="/app"), "AccessDeniedException", 400, "logs:CreateLogGroup",
           f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:log-stream:")
    grant("logs", allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app:*"))
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="s1")
    logs.put_log_events(logGroupName="/app", logStreamName="s1", logEvents=[{"timestamp": int(time.time() * 1000), "message": "m"}])
    denied(lambda: logs.create_log_group(logGroupName="/other"), "AccessDeniedException", 400, "logs:CreateLogGroup",
           f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/other:log-stream:")

    # restJson services answer 403.
    lam = client("lambda")
    denied(lambda: lam.get_function(FunctionName="transform"), "AccessDeniedException", 403, "lambda:GetFunction",
           f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:transform")
    denied(lambda: lam.invoke(FunctionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:transform", Qualifier="live"), "AccessDeniedException", 403,
           "lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:transform:live")
    gw = client("apigateway")
    denied(lambda: gw.get_rest_apis(), "AccessDeniedException", 403, "apigateway:GET", f"arn:aws:apigateway:{REGION}::/restapis")

    # IAM (awsQuery) answers 403 AccessDenied, naming the role by its ARN.
    iam = client("iam")
    root["iam"].create_role(RoleName="enf-role", Path="/service-role/", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    denied(lambda: iam.get_role(RoleName="enf-role"), "AccessDenied", 403, "iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/service-role/enf-role")
    grant("iam", allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/service-role/*"))
    assert iam.get_role(RoleName="enf-role")["Role"]["Path"] == "/service-role/"
    denied(lambda: iam.list_roles(), "AccessDenied", 403, "iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/")


def test_passing_a_role_needs_iam_pass_role(enforcing, user):
    name, client, grant = user("deployer")
    role = f"arn:aws:iam::{ACCOUNT}:role/lambda-exec"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    fn = f"pass-{uuid.uuid4().hex[:6]}"
    grant("lambda", allow("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"))
    lam = client("lambda")
    create = lambda: lam.create_function(FunctionName=fn, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": zipped.getvalue()})  # noqa: E731
    denied(create, "AccessDeniedException", 403, "iam:PassRole", role)
    grant("pass", allow("iam:PassRole", role, StringEquals={"iam:PassedToService": "lambda.amazonaws.com"}))
    assert create()["FunctionName"] == fn


def test_athena_reads_and_writes_as_its_caller(enforcing, user):
    root_s3, root_athena = make_client(enforcing, "s3"), make_client(enforcing, "athena")
    bucket = f"ath-{uuid.uuid4().hex[:8]}"
    root_s3.create_bucket(Bucket=bucket)
    root_s3.put_object(Bucket=bucket, Key="events/dt=2024-01-01/part-0.json", Body=b'{"page":"/a"}\n{"page":"/b"}\n')
    out = f"s3://{bucket}/results/"

    def run(athena, sql):
        qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": out})["QueryExecutionId"]
        for _ in range(400):
            ex = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if ex["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return qid, ex["Status"]
            time.sleep(0.025)
        raise AssertionError("query did not finish")

    _, status = run(root_athena, f"CREATE EXTERNAL TABLE events (page string) PARTITIONED BY (dt string) "
                                 f"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{bucket}/events/'")
    assert status["State"] == "SUCCEEDED", status
    assert run(root_athena, "MSCK REPAIR TABLE events")[1]["State"] == "SUCCEEDED"

    name, client, grant = user("analyst")
    athena = client("athena")
    me = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    grant("athena", allow(["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"], f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"))
    sql = "SELECT page FROM events WHERE dt = '2024-01-01' ORDER BY page"

    _, status = run(athena, sql)
    assert status["State"] == "FAILED"
    assert f"User: {me} is not authorized to perform: glue:GetTable on resource: arn:aws:glue:{REGION}:{ACCOUNT}:catalog" in status["StateChangeReason"]
    assert "Insufficient permissions to execute the query." in status["StateChangeReason"]

    glue_arns = [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/default", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/default/events"]
    grant("glue", allow(["glue:GetTable", "glue:GetPartitions"], glue_arns))
    _, status = run(athena, sql)
    assert status["State"] == "FAILED" and f"s3://{bucket}/events/" in status["StateChangeReason"], status

    grant("read", allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"), allow("s3:GetObject", f"arn:aws:s3:::{bucket}/events/*"))
    qid, status = run(athena, sql)
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(f"Access denied when writing output to url: s3://{bucket}/results/{qid}.csv"), status

    grant("write", allow("s3:PutObject", f"arn:aws:s3:::{bucket}/results/*"))
    qid, status = run(athena, sql)
    assert status["State"] == "SUCCEEDED", status
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["page", "/a", "/b"]
    # DDL asks Glue as the caller too.
    _, status = run(athena, "DROP TABLE events")
    assert status["State"] == "FAILED" and "glue:DeleteTable" in status["StateChangeReason"], status


def test_a_functions_own_calls_act_as_its_execution_role(enforcing):
    iam, lam, s3 = make_client(enforcing, "iam"), make_client(enforcing, "lambda"), make_client(enforcing, "s3")
    role_name = f"exec-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    bucket = f"fn-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("app.py", "import os\ndef handler(event, context):\n    print('hello from the function')\n"
                             "    return {k: os.environ[k] for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n")
    fn = f"own-{uuid.uuid4().hex[:6]}"
    lam.create_function(FunctionName=fn, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": zipped.getvalue()})
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    creds = json.loads(lam.invoke(FunctionName=fn)["Payload"].read())
    as_fn = as_keys(enforcing, "s3", creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"])
    denied(lambda: as_fn.put_object(Bucket=bucket, Key="out.json", Body=b"{}"), "AccessDenied", 403, "s3:PutObject", f"arn:aws:s3:::{bucket}/out.json")
    iam.put_role_policy(RoleName=role_name, PolicyName="write", PolicyDocument=policy(allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")))
    as_fn.put_object(Bucket=bucket, Key="out.json", Body=b"{}")
    assert s3.get_object(Bucket=bucket, Key="out.json")["Body"].read() == b"{}"

    # Lambda writes the function's logs as the execution role: without logs permissions there
    # are none (as on AWS); with AWSLambdaBasicExecutionRole they appear.
    logs = make_client(enforcing, "logs")
    group = f"/aws/lambda/{fn}"
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    iam.attach_role_policy(RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    lam.invoke(FunctionName=fn)
    events = []
    for _ in range(100):
        events = logs.filter_log_events(logGroupName=group)["events"] if logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] else []
        if any("hello from the function" in e["message"] for e in events):
            break
        time.sleep(0.05)
    assert any("hello from the function" in e["message"] for e in events), events


def test_unsigned_calls_are_refused(enforcing):
    s3 = make_client(enforcing, "s3")
    bucket = f"anon-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{enforcing}/{bucket}/k")
    assert e.value.code == 403 and b"<Code>AccessDenied</Code>" in e.value.read()
    req = urllib.request.Request(enforcing + "/", data=b"{}", headers={"X-Amz-Target": "Firehose_20150804.ListDeliveryStreams", "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400 and b"MissingAuthenticationTokenException" in e.value.read()


def test_sigv2_presigned_urls_are_verified(enforcing, user):
    s3 = make_client(enforcing, "s3")
    bucket = f"v2-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a b.txt", Body=b"signed v2")
    v2 = make_client(enforcing, "s3", signature_version="s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a b.txt", "ResponseContentType": "text/plain"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"signed v2" and r.headers["Content-Type"] == "text/plain"
    # Header-signed SigV2 too.
    assert v2.get_object(Bucket=bucket, Key="a b.txt")["Body"].read() == b"signed v2"
    # A wrong secret, or a tampered URL, is refused with S3's error.
    wrong = as_keys(enforcing, "s3", "test", "not-the-secret", signature_version="s3")
    bad = wrong.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a b.txt"}, ExpiresIn=60)
    for u in (bad, url.replace("text%2Fplain", "text%2Fhtml")):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(u)
        body = e.value.read()
        assert e.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
    # An IAM user's SigV2 URL carries its identity: enforcement applies.
    name, client, grant = user("v2user")
    u = client("s3", signature_version="s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a b.txt"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(u)
    assert e.value.code == 403 and b"s3:GetObject" in e.value.read()
    grant("read", allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    with urllib.request.urlopen(u) as r:
        assert r.read() == b"signed v2"


def test_bucket_policies_grant_and_deny_alongside_identity_policies(enforcing, user):
    s3 = make_client(enforcing, "s3")
    bucket = f"bp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="public/a.txt", Body=b"public")
    s3.put_object(Bucket=bucket, Key="private/b.txt", Body=b"private")
    name, client, grant = user("bp")
    me = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    dev = client("s3")
    denied(lambda: dev.get_object(Bucket=bucket, Key="private/b.txt"), "AccessDenied", 403, "s3:GetObject", f"arn:aws:s3:::{bucket}/private/b.txt")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"},
        {"Effect": "Allow", "Principal": {"AWS": me}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/private/*"},
        {"Effect": "Deny", "Principal": {"AWS": me}, "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    ))
    # The bucket policy names the user: no identity policy needed.
    assert dev.get_object(Bucket=bucket, Key="private/b.txt")["Body"].read() == b"private"
    # Principal "*" lets anonymous requests in, for what it allows only.
    with urllib.request.urlopen(f"{enforcing}/{bucket}/public/a.txt") as r:
        assert r.read() == b"public"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{enforcing}/{bucket}/private/b.txt")
    assert e.value.code == 403
    # A Deny in the bucket policy beats an identity Allow.
    grant("delete", allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*"))
    msg = denied(lambda: dev.delete_object(Bucket=bucket, Key="public/a.txt"), "AccessDenied", 403, "s3:DeleteObject", f"arn:aws:s3:::{bucket}/public/a.txt")
    assert msg.endswith("with an explicit deny in a resource-based policy")


def test_the_seed_roles_let_the_flow_run_and_each_statement_gates_its_hop(enforcing):
    """fixtures/clickstream.yaml's three least-privilege roles under --enforce-iam: the whole flow
    runs; taking one statement away breaks exactly that hop, with AWS's error, until it is back."""
    import pathlib

    cfn, iam, s3 = make_client(enforcing, "cloudformation"), make_client(enforcing, "iam"), make_client(enforcing, "s3")
    logs = make_client(enforcing, "logs")
    template = (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "clickstream.yaml").read_text()
    stack = "seed"
    cfn.create_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    doc = lambda role, name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]  # noqa: E731
    saved = {(r, n): doc(r, n) for r, n in [("seed-api", "put-record"), ("seed-delivery", "s3"), ("seed-delivery", "transform"), ("seed-transform", "logs")]}

    def post(n):
        req = urllib.request.Request(enforcing + out["LocalInvokePath"], data=json.dumps({"element_clicked": "nav", "time_spent": n}).encode(), headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def flush():
        req = urllib.request.Request(f"{enforcing}/_firelocal/firehose/flush?stream={out['StreamName']}", method="POST")
        return json.loads(urllib.request.urlopen(req).read())["streams"][out["StreamName"]]

    def objects():
        return len(s3.list_objects_v2(Bucket=out["BucketName"], Prefix="clickstream/").get("Contents", []))

    def function_log_events():
        return len(logs.filter_log_events(logGroupName=f"/aws/lambda/{stack}-transform")["events"])

    def without(role, name):
        iam.delete_role_policy(RoleName=role, PolicyName=name)

    def restore(role, name):
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(saved[(role, name)]))

    assert post(1)[0] == 200
    assert flush()["pending_records"] == 0 and objects() == 1
    logged = function_log_events()
    assert logged > 0

    # API Gateway's role without firehose:PutRecord: the integration gets AWS's AccessDenied.
    without("seed-api", "put-record")
    status, body = post(2)
    assert status == 400 and "AccessDeniedException" in body and "is not authorized to perform: firehose:PutRecord" in body, body
    restore("seed-api", "put-record")
    assert post(3)[0] == 200
    # Firehose's role without its S3 statement: delivery fails with S3.AccessDenied, records kept.
    without("seed-delivery", "s3")
    report = flush()
    assert report["pending_records"] == 1 and report["error"].startswith("S3.AccessDenied: User: arn:aws:sts::000000000000:assumed-role/seed-delivery/"), report
    restore("seed-delivery", "s3")
    # ... without its transform statement: Lambda.InvokeAccessDenied.
    without("seed-delivery", "transform")
    report = flush()
    assert report["pending_records"] == 1 and report["error"].startswith("Lambda.InvokeAccessDenied:"), report
    restore("seed-delivery", "transform")
    # The transform's role without its logs statement: the invocation works, its logs are gone.
    logged = function_log_events()
    without("seed-transform", "logs")
    assert flush()["pending_records"] == 0 and objects() == 2
    assert function_log_events() == logged
    restore("seed-transform", "logs")
    assert post(4)[0] == 200 and flush()["pending_records"] == 0
    assert function_log_events() > logged
