"""A template synthesised by the AWS CDK (aws-cdk-lib from npm, `cdk synth` offline) deploys to
firelocal unchanged: a bucket, a Python transform and a Firehose stream with the IAM role and
policy the CDK generates for it; records put to the stream land transformed in the bucket."""

import json
import os
import pathlib
import shutil
import subprocess
import urllib.request

from conftest import make_client

APP = pathlib.Path(__file__).resolve().parent / "cdk"


def synth(out_dir):
    npx = shutil.which("npx")
    assert npx, "Node.js (npx) is needed for the CDK test; compat-tests/run.sh installs the app's packages"
    env = dict(os.environ, CDK_DISABLE_CLI_TELEMETRY="true", CDK_DISABLE_VERSION_CHECK="true")
    cmd = [npx, "--no-install", "cdk", "synth", "--app", "node app.js", "--no-version-reporting", "--no-path-metadata", "--no-asset-metadata",
           "--no-notices", "--quiet", "--output", str(out_dir)]
    r = subprocess.run(cmd, cwd=APP, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return (out_dir / "CdkClicks.template.json").read_text()


def test_a_cdk_synthesised_app_deploys_unchanged(firelocal_endpoint, tmp_path):
    template = synth(tmp_path / "cdk.out")
    types = sorted({r["Type"] for r in json.loads(template)["Resources"].values()})
    assert types == ["AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KinesisFirehose::DeliveryStream", "AWS::Lambda::Function", "AWS::S3::Bucket"]
    cfn = make_client(firelocal_endpoint, "cloudformation")
    cfn.create_stack(StackName="CdkClicks", TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName="CdkClicks", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="CdkClicks")["Stacks"][0]["Outputs"]}
    assert out["BucketName"].startswith("cdkclicks-clicks") and out["StreamName"].startswith("CdkClicks-Stream")

    fh = make_client(firelocal_endpoint, "firehose")
    fh.put_record_batch(DeliveryStreamName=out["StreamName"], Records=[{"Data": json.dumps({"n": i}).encode()} for i in range(3)])
    req = urllib.request.Request(f"{firelocal_endpoint}/_firelocal/firehose/flush?stream={out['StreamName']}", method="POST")
    report = json.loads(urllib.request.urlopen(req).read())["streams"][out["StreamName"]]
    assert report["pending_records"] == 0 and report["error"] is None, report
    s3 = make_client(firelocal_endpoint, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=out["BucketName"])["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("clicks/"), keys
    body = s3.get_object(Bucket=out["BucketName"], Key=keys[0])["Body"].read().decode()
    assert body == '{"n": 0}\n{"n": 1}\n{"n": 2}\n'

    s3.delete_object(Bucket=out["BucketName"], Key=keys[0])
    cfn.delete_stack(StackName="CdkClicks")
    cfn.get_waiter("stack_delete_complete").wait(StackName="CdkClicks", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert out["BucketName"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
