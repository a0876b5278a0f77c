"""CloudFormation through boto3 and the AWS CLI: the seed's whole pipeline from
fixtures/clickstream.yaml (change sets with `aws cloudformation deploy`, then POST → flush → rows
from Athena against the stack's outputs), updates in place and by replacement, deletes,
rollbacks, capabilities, cycles, unsupported types, exports across stacks and the waiters."""

import io
import json
import pathlib
import subprocess
import time
import urllib.request
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError, WaiterError

from conftest import _aws_env, make_client

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "fixtures" / "clickstream.yaml").read_text()
FAST = {"Delay": 1, "MaxAttempts": 5}


@pytest.fixture
def cfn(firelocal_endpoint):
    return make_client(firelocal_endpoint, "cloudformation")


def name(prefix="st"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


def outputs(cfn, stack):
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}


def events(cfn, stack):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in reversed(cfn.describe_stack_events(StackName=stack)["StackEvents"])]


def yaml_stack(resources, outputs_block="", parameters=""):
    return f"AWSTemplateFormatVersion: '2010-09-09'\n{parameters}Resources:\n{resources}{outputs_block}"


def test_cli_deploy_runs_the_seed_pipeline(firelocal_endpoint, tmp_path):
    """`aws cloudformation deploy` (change sets and waiters) creates the whole pipeline; its
    outputs drive the seed's flow: POST through the REST API → Firehose → transform → S3 →
    MSCK REPAIR TABLE → rows from Athena."""
    env = _aws_env(firelocal_endpoint)
    stack = name("clicks")
    env_name = "test"
    cmd = ["aws", "cloudformation", "deploy", "--template-file", str(ROOT / "fixtures" / "clickstream.yaml"), "--stack-name", stack,
           "--capabilities", "CAPABILITY_NAMED_IAM", "--parameter-overrides", f"Env={env_name}"]
    aws = str(pathlib.Path(__import__("sys").executable).parent / "aws")
    cmd[0] = aws
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert f"Successfully created/updated stack - {stack}" in r.stdout
    cfn = make_client(firelocal_endpoint, "cloudformation")
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(cfn, stack)
    assert out["BucketName"] == f"clickstream-{env_name}-000000000000"
    assert out["InvokeUrl"] == f"https://{out['ApiId']}.execute-api.us-east-1.amazonaws.com/{env_name}/clickstream"

    for i, element in enumerate(["nav", "nav", "search"]):
        body = json.dumps({"element_clicked": element, "time_spent": i + 1, "source_menu": "top", "created_at": "2024-01-01 00:00:00"}).encode()
        req = urllib.request.Request(firelocal_endpoint + out["LocalInvokePath"], data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"status": "OK"}
    flush = json.loads(urllib.request.urlopen(urllib.request.Request(f"{firelocal_endpoint}/_firelocal/firehose/flush?stream={out['StreamName']}", method="POST")).read())
    assert flush["streams"][out["StreamName"]]["pending_records"] == 0, flush
    s3 = make_client(firelocal_endpoint, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=out["BucketName"], Prefix="clickstream/")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("clickstream/year="), keys
    lines = s3.get_object(Bucket=out["BucketName"], Key=keys[0])["Body"].read().decode().splitlines()
    assert [json.loads(x)["element_clicked"] for x in lines] == ["nav", "nav", "search"]

    athena = make_client(firelocal_endpoint, "athena")

    def query(sql):
        qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": out["DatabaseName"]}, WorkGroup=out["WorkGroup"])["QueryExecutionId"]
        for _ in range(400):
            st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if st["Status"]["State"] in ("SUCCEEDED", "FAILED"):
                break
            time.sleep(0.025)
        assert st["Status"]["State"] == "SUCCEEDED", st["Status"]
        assert st["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{out['BucketName']}/athena-results/")
        return [[d.get("VarCharValue") for d in row["Data"]] for row in athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]]

    query("MSCK REPAIR TABLE clickstream")
    named = athena.list_named_queries(WorkGroup=out["WorkGroup"])["NamedQueryIds"]
    top = athena.get_named_query(NamedQueryId=named[0])["NamedQuery"]
    assert query(top["QueryString"]) == [["element_clicked", "clicks", "avg_time"], ["nav", "2", "1.5"], ["search", "1", "3.0"]]
    # The stack's QuickSight dashboard: a refresh of its SPICE data set, then the pie's numbers.
    qs = make_client(firelocal_endpoint, "quicksight")
    qs.create_ingestion(AwsAccountId="000000000000", DataSetId=out["DataSetId"], IngestionId="after-deploy")
    for _ in range(400):
        ing = qs.describe_ingestion(AwsAccountId="000000000000", DataSetId=out["DataSetId"], IngestionId="after-deploy")["Ingestion"]
        if ing["IngestionStatus"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.025)
    assert ing["IngestionStatus"] == "COMPLETED" and ing["RowInfo"]["RowsIngested"] == 3, ing
    visual = json.loads(urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/api/dashboards/{out['DashboardId']}/visuals/clicks-by-element/data").read())
    assert visual["Rows"] == [["nav", 2, 66.67], ["search", 1, 33.33]]
    # The transform's logs are in the stack's log group (its role allows exactly that).
    logs = make_client(firelocal_endpoint, "logs")
    group = f"/aws/lambda/{stack}-transform"
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 7
    assert any("Processed 3 records." in e["message"] for e in logs.filter_log_events(logGroupName=group)["events"])

    # Deploying the same again: the CLI sees an empty change set ("No changes to deploy", which
    # fails the command unless --no-fail-on-empty-changeset, as against AWS).
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 255 and f"No changes to deploy. Stack {stack} is up to date" in r.stderr, r.stdout + r.stderr
    r = subprocess.run(cmd + ["--no-fail-on-empty-changeset"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # A buffering change updates the stream in place.
    r = subprocess.run(cmd + ["BufferSeconds=120"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    fh = make_client(firelocal_endpoint, "firehose")
    d = fh.describe_delivery_stream(DeliveryStreamName=out["StreamName"])["DeliveryStreamDescription"]
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]["IntervalInSeconds"] == 120
    evs = events(cfn, stack)
    assert ("DeliveryStream", "UPDATE_COMPLETE", "") in evs and evs[-1][:2] == (stack, "UPDATE_COMPLETE")
    assert cfn.describe_stack_resource(StackName=stack, LogicalResourceId="DeliveryStream")["StackResourceDetail"]["PhysicalResourceId"] == out["StreamName"]


def test_create_update_delete_with_boto3_and_waiters(cfn, firelocal_endpoint):
    stack = name()
    code_v1 = "def handler(event, context):\n    return 'v1'\n"
    template = lambda code, retention: yaml_stack(f"""  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: {retention}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{Version: '2012-10-17', Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]}}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
{chr(10).join('          ' + line for line in code.splitlines())}
""", """Outputs:
  Fn: {Value: !Ref Fn}
  FnArn: {Value: !GetAtt Fn.Arn}
  Group: {Value: !Ref Logs}
""")  # noqa: E731
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=template(code_v1, 7))
    assert error(e)[:2] == ("InsufficientCapabilitiesException", 400) and error(e)[2] == "Requires capabilities : [CAPABILITY_IAM]"
    cfn.create_stack(StackName=stack, TemplateBody=template(code_v1, 7), Capabilities=["CAPABILITY_IAM"], Tags=[{"Key": "team", "Value": "web"}])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=FAST)
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE" and s["Tags"] == [{"Key": "team", "Value": "web"}]
    out = outputs(cfn, stack)
    assert out["Fn"].startswith(f"{stack}-Fn-") and out["FnArn"].endswith(f":function:{out['Fn']}")
    lam = make_client(firelocal_endpoint, "lambda")
    lam.get_waiter("function_active_v2").wait(FunctionName=out["Fn"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert json.loads(lam.invoke(FunctionName=out["Fn"])["Payload"].read()) == "v1"
    summaries = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in summaries} == {"Logs": "CREATE_COMPLETE", "Role": "CREATE_COMPLETE", "Fn": "CREATE_COMPLETE"}
    assert cfn.get_template(StackName=stack)["TemplateBody"] == template(code_v1, 7)

    # Same template: nothing to do, as AWS says it.
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName=stack, TemplateBody=template(code_v1, 7), Capabilities=["CAPABILITY_IAM"])
    assert error(e) == ("ValidationError", 400, "No updates are to be performed.")
    # New code and retention: both updated in place, same physical ids.
    cfn.update_stack(StackName=stack, TemplateBody=template(code_v1.replace("v1", "v2"), 14), Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=FAST)
    assert outputs(cfn, stack)["Fn"] == out["Fn"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=out["Fn"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    assert json.loads(lam.invoke(FunctionName=out["Fn"])["Payload"].read()) == "v2"
    logs = make_client(firelocal_endpoint, "logs")
    assert logs.describe_log_groups(logGroupNamePrefix=out["Group"])["logGroups"][0]["retentionInDays"] == 14

    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert error(e) == ("ValidationError", 400, f"Stack with id {stack} does not exist")
    assert cfn.describe_stacks(StackName=s["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert any(x["StackName"] == stack and x["StackStatus"] == "DELETE_COMPLETE" for x in cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"])
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=out["Fn"])
    assert logs.describe_log_groups(logGroupNamePrefix=out["Group"])["logGroups"] == []


def test_replacement_rollback_and_delete_failures(cfn, firelocal_endpoint):
    s3 = make_client(firelocal_endpoint, "s3")
    stack = name()
    b1, b2 = f"{stack}-one", f"{stack}-two"
    bucket = lambda n, policy="": yaml_stack(f"  Bucket:\n    Type: AWS::S3::Bucket\n{policy}    Properties:\n      BucketName: {n}\n", "Outputs:\n  Arn: {Value: !GetAtt Bucket.Arn}\n")  # noqa: E731
    cfn.create_stack(StackName=stack, TemplateBody=bucket(b1))
    # A new BucketName replaces the bucket: the new one is created, the old one deleted.
    cfn.update_stack(StackName=stack, TemplateBody=bucket(b2))
    assert outputs(cfn, stack)["Arn"] == f"arn:aws:s3:::{b2}"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert b2 in names and b1 not in names
    # A non-empty bucket fails the delete, as on AWS.
    s3.put_object(Bucket=b2, Key="k", Body=b"x")
    cfn.delete_stack(StackName=stack)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "DELETE_FAILED" and "[Bucket]" in s["StackStatusReason"]
    assert ("Bucket", "DELETE_FAILED") in [e[:2] for e in events(cfn, stack)]
    assert "The bucket you tried to delete is not empty" in [e for e in events(cfn, stack) if e[1] == "DELETE_FAILED"][0][2]
    # Retained, the delete completes and the bucket stays.
    cfn.delete_stack(StackName=stack, RetainResources=["Bucket"])
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)
    assert s3.get_object(Bucket=b2, Key="k")["Body"].read() == b"x"

    # The third resource fails: the first two are rolled back, with events naming the failure.
    stack = name()
    failing = yaml_stack(f"""  A:
    Type: AWS::S3::Bucket
    Properties: {{BucketName: {stack}-a}}
  B:
    Type: AWS::Logs::LogGroup
    DependsOn: A
    Properties: {{LogGroupName: /{stack}/b}}
  C:
    Type: AWS::Logs::LogGroup
    DependsOn: B
    Properties: {{LogGroupName: /{stack}/b}}
""")
    cfn.create_stack(StackName=stack, TemplateBody=failing)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=FAST)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    ev = events(cfn, stack)
    failed = [e for e in ev if e[1] == "CREATE_FAILED"]
    assert failed[0][0] == "C" and "ResourceAlreadyExistsException" not in failed[0][2] and "already exists" in failed[0][2], failed
    assert [e[:2] for e in ev if e[1].startswith("DELETE")] == [("B", "DELETE_IN_PROGRESS"), ("B", "DELETE_COMPLETE"), ("A", "DELETE_IN_PROGRESS"), ("A", "DELETE_COMPLETE")]
    rollback = [e for e in ev if e[1] == "ROLLBACK_IN_PROGRESS"]
    assert rollback[0][0] == stack and "The following resource(s) failed to create: [C]." in rollback[0][2]
    assert ev[-1][:2] == (stack, "ROLLBACK_COMPLETE")
    assert f"{stack}-a" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # OnFailure=DELETE removes the stack itself; DO_NOTHING keeps what was created.
    other = name()
    cfn.create_stack(StackName=other, TemplateBody=failing.replace(stack, other), OnFailure="DO_NOTHING")
    assert cfn.describe_stacks(StackName=other)["Stacks"][0]["StackStatus"] == "CREATE_FAILED"
    assert f"{other}-a" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    cfn.delete_stack(StackName=other)
    third = name()
    cfn.create_stack(StackName=third, TemplateBody=failing.replace(stack, third), OnFailure="DELETE")
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=third)


def test_template_errors(cfn):
    def refused(body, message, code="ValidationError", **kw):
        with pytest.raises(ClientError) as e:
            cfn.create_stack(StackName=name(), TemplateBody=body, **kw)
        assert error(e)[0] == code and message in error(e)[2], error(e)
        return error(e)

    cycle = yaml_stack("  A:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: !Ref B}\n  B:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: !Ref A}\n")
    refused(cycle, "Circular dependency between resources: [A, B]")
    with pytest.raises(ClientError) as e:
        cfn.validate_template(TemplateBody=cycle)
    assert "Circular dependency" in error(e)[2]
    refused(yaml_stack("  A:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: !Ref Missing}\n"),
            "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template")
    refused("Resources: [", "Template format error")
    refused(yaml_stack("  A:\n    Type: AWS::Logs::LogGroup\n", parameters="Parameters:\n  Env: {Type: String, AllowedValues: [a, b]}\n"), "Parameters: [Env] must have values")
    refused(yaml_stack("  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: named\n      AssumeRolePolicyDocument: {Statement: []}\n"),
            "Requires capabilities : [CAPABILITY_NAMED_IAM]", code="InsufficientCapabilitiesException", Capabilities=["CAPABILITY_IAM"])
    stack = name()
    cfn.create_stack(StackName=stack, TemplateBody=yaml_stack("  A:\n    Type: AWS::Logs::LogGroup\n"))
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=yaml_stack("  A:\n    Type: AWS::Logs::LogGroup\n"))
    assert error(e) == ("AlreadyExistsException", 400, f"Stack [{stack}] already exists")
    # A type firelocal does not create fails the stack, naming it.
    unsupported = name()
    cfn.create_stack(StackName=unsupported, TemplateBody=yaml_stack("  Q:\n    Type: AWS::SQS::Queue\n"))
    assert cfn.describe_stacks(StackName=unsupported)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert ("Q", "CREATE_FAILED", "firelocal's CloudFormation does not create resources of type AWS::SQS::Queue yet") in events(cfn, unsupported)
    v = cfn.validate_template(TemplateBody=TEMPLATE)
    assert v["Capabilities"] == ["CAPABILITY_NAMED_IAM"] and {p["ParameterKey"] for p in v["Parameters"]} == {"Env", "BufferSeconds"}


def test_exports_imports_and_change_sets(cfn, firelocal_endpoint):
    producer, consumer = name("prod"), name("cons")
    cfn.create_stack(StackName=producer, TemplateBody=yaml_stack(
        "  Group:\n    Type: AWS::Logs::LogGroup\n",
        "Outputs:\n  GroupName:\n    Value: !Ref Group\n    Export:\n      Name: !Sub '${AWS::StackName}-group'\n"))
    export = f"{producer}-group"
    assert any(x["Name"] == export for x in cfn.list_exports()["Exports"])
    body = yaml_stack("  Stream:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Join ['-', [!ImportValue " + export + ", copy]]\n",
                      "Outputs:\n  Name: {Value: !Ref Stream}\n")
    cs = cfn.create_change_set(StackName=consumer, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=body)
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=cs["Id"], WaiterConfig=FAST)
    d = cfn.describe_change_set(ChangeSetName="first", StackName=consumer)
    assert d["Status"] == "CREATE_COMPLETE" and d["ExecutionStatus"] == "AVAILABLE"
    assert [c["ResourceChange"]["Action"] for c in d["Changes"]] == ["Add"]
    assert cfn.describe_stacks(StackName=consumer)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName=consumer)["Summaries"]] == ["first"]
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    cfn.get_waiter("stack_create_complete").wait(StackName=consumer, WaiterConfig=FAST)
    group = outputs(cfn, producer)["GroupName"]
    assert outputs(cfn, consumer)["Name"] == f"{group}-copy"
    # The export is in use: the producer cannot go first.
    with pytest.raises(ClientError) as e:
        cfn.delete_stack(StackName=producer)
    assert error(e)[2] == f"Export {export} cannot be deleted as it is in use by {consumer}"
    # An UPDATE change set describes a replacement; an unchanged one fails as AWS words it.
    upd = cfn.create_change_set(StackName=consumer, ChangeSetName="rename", TemplateBody=body.replace("copy", "renamed"))
    d = cfn.describe_change_set(ChangeSetName=upd["Id"])
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["Replacement"]) for c in d["Changes"]] == [("Modify", "True")]
    same = cfn.create_change_set(StackName=consumer, ChangeSetName="same", TemplateBody=body)
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=same["Id"], WaiterConfig=FAST)
    d = cfn.describe_change_set(ChangeSetName=same["Id"])
    assert d["Status"] == "FAILED" and d["StatusReason"] == "The submitted information didn't contain changes. Submit different information to create a change set."
    cfn.delete_change_set(ChangeSetName=same["Id"])
    with pytest.raises(cfn.exceptions.ChangeSetNotFoundException):
        cfn.describe_change_set(ChangeSetName=same["Id"])
    cfn.execute_change_set(ChangeSetName="rename", StackName=consumer)
    assert outputs(cfn, consumer)["Name"] == f"{group}-renamed"
    assert cfn.list_change_sets(StackName=consumer)["Summaries"] == []
    cfn.delete_stack(StackName=consumer)
    cfn.delete_stack(StackName=producer)
    assert not any(x["Name"] == export for x in cfn.list_exports()["Exports"])


def test_template_url_and_json_templates(cfn, firelocal_endpoint):
    s3 = make_client(firelocal_endpoint, "s3")
    bucket = name("tpl")
    s3.create_bucket(Bucket=bucket)
    doc = {"Parameters": {"Prefix": {"Type": "String", "Default": "json"}},
           "Conditions": {"Two": {"Fn::Equals": [{"Ref": "Prefix"}, "two"]}},
           "Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/${Prefix}/${AWS::StackName}"}}},
                         "H": {"Type": "AWS::Logs::LogGroup", "Condition": "Two"}},
           "Outputs": {"G": {"Value": {"Fn::GetAtt": ["G", "Arn"]}}}}
    s3.put_object(Bucket=bucket, Key="t/stack.json", Body=json.dumps(doc).encode())
    stack = name()
    cfn.create_stack(StackName=stack, TemplateURL=f"https://{bucket}.s3.amazonaws.com/t/stack.json")
    assert outputs(cfn, stack)["G"] == f"arn:aws:logs:us-east-1:000000000000:log-group:/json/{stack}:*"
    assert [r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]] == ["G"]
    cfn.update_stack(StackName=stack, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Prefix", "ParameterValue": "two"}])
    assert sorted(r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]) == ["G", "H"]
    assert outputs(cfn, stack)["G"] == f"arn:aws:logs:us-east-1:000000000000:log-group:/two/{stack}:*"
    cfn.delete_stack(StackName=stack)


def test_a_function_from_s3_code_and_a_permission(cfn, firelocal_endpoint):
    s3 = make_client(firelocal_endpoint, "s3")
    bucket = name("code")
    s3.create_bucket(Bucket=bucket)
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("app.py", "def handler(event, context):\n    return event\n")
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=z.getvalue())
    stack = name()
    cfn.create_stack(StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=yaml_stack(f"""  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::000000000000:role/lambda-exec
      Code: {{S3Bucket: {bucket}, S3Key: fn.zip}}
  Allow:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
  V1:
    Type: AWS::Lambda::Version
    Properties:
      FunctionName: !Ref Fn
  Live:
    Type: AWS::Lambda::Alias
    Properties:
      FunctionName: !Ref Fn
      Name: live
      FunctionVersion: !GetAtt V1.Version
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: {bucket}
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: !GetAtt Live.AliasArn}}
            Action: s3:GetObject
            Resource: arn:aws:s3:::{bucket}/*
""", "Outputs:\n  Fn: {Value: !Ref Fn}\n  Version: {Value: !GetAtt V1.Version}\n  Alias: {Value: !Ref Live}\n"))
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE", events(cfn, stack)
    out = outputs(cfn, stack)
    lam = make_client(firelocal_endpoint, "lambda")
    policy = json.loads(lam.get_policy(FunctionName=out["Fn"])["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert out["Version"] == "1"
    assert out["Alias"] == f"arn:aws:lambda:us-east-1:000000000000:function:{out['Fn']}:live"
    assert lam.get_alias(FunctionName=out["Fn"], Name="live")["FunctionVersion"] == "1"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}/*"
    cfn.delete_stack(StackName=stack)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
    assert cfn.describe_stacks(StackName=s["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE", events(cfn, s["StackId"])
