"""S3 event notifications to Lambda with boto3 (issue #13): the configuration checked as AWS
checks it, and the pipeline's next step: a function triggered by the objects Firehose delivers
writes a summary object under another prefix."""

import io
import json
import time
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client

ROLE = "arn:aws:iam::000000000000:role/lambda-exec"

# Reads each new object (unsigned GET through AWS_ENDPOINT_URL: no SDK needed in the runtime) and
# writes summary/<event>/<key>.json with its line count.
SUMMARIZE = r'''
import json, os, urllib.parse, urllib.request

def handler(event, context):
    base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    for r in event["Records"]:
        bucket = r["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(r["s3"]["object"]["key"])
        summary = {"key": key, "event": r["eventName"], "source": r["eventSource"], "record": r["s3"]["object"], "config": r["s3"]["configurationId"]}
        if r["eventName"].startswith("ObjectCreated"):
            body = urllib.request.urlopen(f"{base}/{bucket}/{urllib.parse.quote(key)}").read()
            summary["lines"] = len(body.splitlines())
        out = f"summary/{r['eventName']}/{key}.json"
        req = urllib.request.Request(f"{base}/{bucket}/{urllib.parse.quote(out)}", data=json.dumps(summary).encode(), method="PUT")
        urllib.request.urlopen(req).read()
    return {"ok": True}
'''


def code(err):
    return err.response["Error"]["Code"]


def zip_of(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture
def clients(firelocal_endpoint):
    return make_client(firelocal_endpoint), make_client(firelocal_endpoint, service="lambda"), make_client(firelocal_endpoint, service="firehose")


@pytest.fixture
def summarize(clients):
    _, lam, _ = clients
    name = f"summarize-{uuid.uuid4().hex[:8]}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_of(SUMMARIZE)}, Timeout=30)["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    yield name, arn
    lam.delete_function(FunctionName=name)


def lambda_config(arn, events, prefix=None, suffix=None, id=None):
    c = {"LambdaFunctionArn": arn, "Events": events}
    rules = [{"Name": n, "Value": v} for n, v in [("prefix", prefix), ("suffix", suffix)] if v is not None]
    if rules:
        c["Filter"] = {"Key": {"FilterRules": rules}}
    if id:
        c["Id"] = id
    return c


def wait_for(s3, bucket, key, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError:
            time.sleep(0.1)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    raise AssertionError(f"{key} never appeared; the bucket has {keys}")


def test_configuration_is_checked_as_aws_checks_it(clients, summarize, bucket):
    s3, lam, _ = clients
    name, arn = summarize
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations") is None
    conf = {"LambdaFunctionConfigurations": [lambda_config(arn, ["s3:ObjectCreated:*"], prefix="raw/")]}
    # S3 may not invoke the function yet.
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    assert code(ei.value) == "InvalidArgument" and "Unable to validate the following destination configurations" in str(ei.value)
    # A missing function is refused the same way.
    missing = arn.replace(name, "no-such-function")
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config(missing, ["s3:ObjectCreated:*"])]})
    assert code(ei.value) == "InvalidArgument" and "does not exist" in str(ei.value)
    # ... unless the caller skips the validation.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config(missing, ["s3:ObjectCreated:*"])]}, SkipDestinationValidation=True)
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert len(got) == 1 and got[0]["LambdaFunctionArn"] == arn and got[0]["Events"] == ["s3:ObjectCreated:*"] and got[0]["Id"]
    assert got[0]["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "raw/"}]

    def refused(configuration, expected):
        with pytest.raises(ClientError) as ei:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
        assert code(ei.value) == expected, ei.value.response
        return str(ei.value)

    overlap = {"LambdaFunctionConfigurations": [lambda_config(arn, ["s3:ObjectCreated:*"], prefix="raw/"), lambda_config(arn, ["s3:ObjectCreated:Put"], prefix="raw/2024/")]}
    assert "overlap" in refused(overlap, "InvalidArgument")
    assert "not supported" in refused({"LambdaFunctionConfigurations": [lambda_config(arn, ["s3:ObjectCreated:Sometimes"])]}, "InvalidArgument")
    bad_rule = lambda_config(arn, ["s3:ObjectCreated:*"])
    bad_rule["Filter"] = {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}
    refused({"LambdaFunctionConfigurations": [bad_rule]}, "InvalidArgument")
    sqs = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectCreated:*"]}]}
    assert "SQS" in refused(sqs, "NotImplemented")
    sns = {"TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Events": ["s3:ObjectCreated:*"]}]}
    assert "SNS" in refused(sns, "NotImplemented")
    # Nothing refused replaced what was there.
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == arn
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations") is None


def test_firehose_delivered_objects_trigger_a_summary(clients, summarize, bucket, firelocal_endpoint):
    s3, lam, fh = clients
    name, arn = summarize
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
    conf = {
        "LambdaFunctionConfigurations": [
            lambda_config(arn, ["s3:ObjectCreated:*"], prefix="raw/", id="created"),
            lambda_config(arn, ["s3:ObjectRemoved:*"], prefix="raw/", id="removed"),
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=conf)
    stream = f"clicks-{uuid.uuid4().hex[:8]}"
    fh.create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::000000000000:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "raw/"},
    )
    records = [{"Data": (json.dumps({"element_clicked": f"b{i}"}) + "\n").encode()} for i in range(25)]
    assert fh.put_record_batch(DeliveryStreamName=stream, Records=records)["FailedPutCount"] == 0
    r = requests.post(f"{firelocal_endpoint}/_firelocal/firehose/flush", params={"stream": stream}, timeout=60)
    assert r.status_code == 200, r.text
    delivered = [o for o in s3.list_objects_v2(Bucket=bucket, Prefix="raw/")["Contents"]]
    assert len(delivered) == 1
    key = delivered[0]["Key"]
    summary = wait_for(s3, bucket, f"summary/ObjectCreated:Put/{key}.json")
    assert summary["lines"] == 25 and summary["source"] == "aws:s3" and summary["config"] == "created"
    assert summary["record"]["size"] == delivered[0]["Size"] and summary["record"]["eTag"] == delivered[0]["ETag"].strip('"')
    assert len(summary["record"]["sequencer"]) == 16
    # A key with a space arrives URL-encoded as S3 encodes it (the function decodes it).
    s3.put_object(Bucket=bucket, Key="raw/by hand", Body=b"{}\n{}\n")
    assert wait_for(s3, bucket, "summary/ObjectCreated:Put/raw/by hand.json")["lines"] == 2
    # The summaries themselves (outside raw/) trigger nothing, and neither does a copy outside it.
    s3.copy_object(Bucket=bucket, Key="raw/copied", CopySource={"Bucket": bucket, "Key": "raw/by hand"})
    assert wait_for(s3, bucket, "summary/ObjectCreated:Copy/raw/copied.json")["lines"] == 2
    s3.delete_object(Bucket=bucket, Key="raw/copied")
    removed = wait_for(s3, bucket, "summary/ObjectRemoved:Delete/raw/copied.json")
    assert removed["config"] == "removed" and "size" not in removed["record"]
    time.sleep(0.5)
    summaries = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="summary/")["Contents"]]
    assert sorted(summaries) == sorted(
        [f"summary/ObjectCreated:Put/{key}.json", "summary/ObjectCreated:Put/raw/by hand.json", "summary/ObjectCreated:Copy/raw/copied.json", "summary/ObjectRemoved:Delete/raw/copied.json"]
    )
    fh.delete_delivery_stream(DeliveryStreamName=stream)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})


def test_cloudformation_bucket_configuration_and_notification(firelocal_endpoint):
    """AWS::S3::Bucket's configuration properties are applied through S3's API, including a
    NotificationConfiguration to a function the same template defines."""
    s3 = make_client(firelocal_endpoint)
    cfn = make_client(firelocal_endpoint, service="cloudformation")
    stack = f"bucketconf-{uuid.uuid4().hex[:8]}"
    source = "\n".join("          " + line for line in SUMMARIZE.strip("\n").splitlines())

    def template(cors=True, tags="clicks"):
        cors_block = (
            "      CorsConfiguration:\n        CorsRules:\n          - AllowedMethods: [GET, PUT]\n            AllowedOrigins: ['http://localhost:8080']\n            MaxAge: 300\n"
            if cors
            else ""
        )
        return f"""AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: {ROLE}
      Timeout: 30
      Code:
        ZipFile: |
{source}
  Allow:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Fn.Arn
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
      SourceArn: !Sub arn:aws:s3:::${{AWS::StackName}}-data
  Data:
    Type: AWS::S3::Bucket
    DependsOn: Allow
    Properties:
      BucketName: !Sub ${{AWS::StackName}}-data
      Tags: [{{Key: team, Value: {tags}}}]
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {{SSEAlgorithm: AES256}}
      OwnershipControls:
        Rules: [{{ObjectOwnership: BucketOwnerPreferred}}]
{cors_block}      LifecycleConfiguration:
        Rules:
          - Id: tmp
            Status: Enabled
            Prefix: tmp/
            ExpirationInDays: 7
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Fn.Arn
            Filter: {{S3Key: {{Rules: [{{Name: prefix, Value: raw/}}]}}}}
Outputs:
  Bucket: {{Value: !Ref Data}}
"""

    cfn.create_stack(StackName=stack, TemplateBody=template())
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE", cfn.describe_stack_events(StackName=stack)["StackEvents"]
    bucket = s["Outputs"][0]["OutputValue"]
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "clicks"}]
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["MaxAgeSeconds"] == 300
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"] == {"Days": 7}
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    notif = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert notif[0]["Events"] == ["s3:ObjectCreated:*"]
    # The notification works: a new object under raw/ gets its summary.
    s3.put_object(Bucket=bucket, Key="raw/one", Body=b"a\nb\nc\n")
    assert wait_for(s3, bucket, "summary/ObjectCreated:Put/raw/one.json")["lines"] == 3
    # An update changes the tags in place and removes the CORS rules.
    cfn.update_stack(StackName=stack, TemplateBody=template(cors=False, tags="analytics"))
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "analytics"}]
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_cors(Bucket=bucket)
    assert code(ei.value) == "NoSuchCORSConfiguration"
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    cfn.delete_stack(StackName=stack)
    assert cfn.describe_stacks(StackName=s["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
