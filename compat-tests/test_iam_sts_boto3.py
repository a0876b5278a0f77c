"""IAM and STS through boto3: the seed's least-privilege roles are created as a user creates
them, policies read back URL-decoded by boto3, managed policies are attachable by ARN, and STS
tells each caller who it is."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
S3_WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": "arn:aws:s3:::clicks/*"}]}


@pytest.fixture
def iam(firelocal_endpoint):
    return make_client(firelocal_endpoint, "iam")


@pytest.fixture
def sts(firelocal_endpoint):
    return make_client(firelocal_endpoint, "sts")


def code(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_roles_policies_and_errors(iam):
    name = f"firehose-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Description="delivery", Tags=[{"Key": "app", "Value": "clicks"}])["Role"]
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/{name}"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST  # boto3 URL-decodes and parses the document
    iam.put_role_policy(RoleName=name, PolicyName="s3-write", PolicyDocument=json.dumps(S3_WRITE))
    assert iam.get_role_policy(RoleName=name, PolicyName="s3-write")["PolicyDocument"] == S3_WRITE
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["s3-write"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]
    managed = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")["Policy"]
    doc = iam.get_policy_version(PolicyArn=managed["Arn"], VersionId=managed["DefaultVersionId"])["PolicyVersion"]["Document"]
    assert "logs:PutLogEvents" in doc["Statement"][0]["Action"]

    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    assert code(e) == ("EntityAlreadyExists", 409)
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName="nope-" + name)
    assert code(e) == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName=name, PolicyName="bad", PolicyDocument="{not json")
    assert code(e) == ("MalformedPolicyDocument", 400)
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName=name)
    assert code(e) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    iam.delete_role_policy(RoleName=name, PolicyName="s3-write")
    iam.delete_role(RoleName=name)


def test_managed_policy_versions_and_listing(iam):
    name = f"pol-{uuid.uuid4().hex[:6]}"
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(S3_WRITE))["Policy"]["Arn"]
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_WRITE), SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    local = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert arn in local
    aws = [p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert {"AmazonS3FullAccess", "AmazonKinesisFirehoseFullAccess", "AWSLambdaBasicExecutionRole", "AmazonAthenaFullAccess"} <= set(aws)
    paged = iam.get_paginator("list_policies").paginate(Scope="AWS", PaginationConfig={"PageSize": 2})
    assert sorted(p["PolicyName"] for page in paged for p in page["Policies"]) == sorted(aws)
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert code(e) == ("DeleteConflict", 409)


def test_users_keys_and_caller_identity(iam, sts, firelocal_endpoint):
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    user = f"dev-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    as_user = __import__("boto3").client("sts", endpoint_url=firelocal_endpoint, region_name="us-east-1",
                                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    ident = as_user.get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::000000000000:user/{user}" and ident["Account"] == "000000000000"

    role = f"assumed-{uuid.uuid4().hex[:6]}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::000000000000:role/{role}", RoleSessionName="ci", DurationSeconds=900)
    assert creds["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/ci"
    c = creds["Credentials"]
    as_role = __import__("boto3").client("sts", endpoint_url=firelocal_endpoint, region_name="us-east-1",
                                         aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    assert as_role.get_caller_identity()["Arn"] == f"arn:aws:sts::000000000000:assumed-role/{role}/ci"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/missing", RoleSessionName="ci")
    assert code(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::000000000000:role/{role}", RoleSessionName="bad name!")
    assert code(e)[0] == "ValidationError"
    token = sts.get_session_token()["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user)
    assert code(e) == ("DeleteConflict", 409)
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    """A second firelocal run with `--enforce-iam`."""
    from conftest import serve

    with serve(tmp_path_factory, "--enforce-iam") as url:
        yield url


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def test_assume_role_honours_trust_policies_under_enforce_iam(enforcing):
    import boto3

    iam, sts = make_client(enforcing, "iam"), make_client(enforcing, "sts")
    account = "arn:aws:iam::000000000000:root"
    iam.create_role(RoleName="firehose-only", AssumeRolePolicyDocument=trust({"Service": "firehose.amazonaws.com"}))
    iam.create_role(RoleName="account", AssumeRolePolicyDocument=trust({"AWS": account}))
    iam.create_role(RoleName="named", AssumeRolePolicyDocument=trust({"AWS": "arn:aws:iam::000000000000:user/alice"}))
    arn = lambda name: f"arn:aws:iam::000000000000:role/{name}"  # noqa: E731

    def denied(client, role):
        with pytest.raises(ClientError) as e:
            client.assume_role(RoleArn=arn(role), RoleSessionName="s1")
        assert code(e) == ("AccessDenied", 403)
        assert f"is not authorized to perform: sts:AssumeRole on resource: {arn(role)}" in e.value.response["Error"]["Message"]

    # The default keys are the account root: a service-only trust policy keeps them out.
    denied(sts, "firehose-only")
    assert sts.assume_role(RoleArn=arn("account"), RoleSessionName="s1")["AssumedRoleUser"]["Arn"].endswith("assumed-role/account/s1")

    def client_for(user):
        iam.create_user(UserName=user)
        k = iam.create_access_key(UserName=user)["AccessKey"]
        return boto3.client("sts", endpoint_url=enforcing, region_name="us-east-1", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])

    alice, bob = client_for("alice"), client_for("bob")
    # Named in the trust policy: enough on its own.
    assert alice.assume_role(RoleArn=arn("named"), RoleSessionName="s1")["AssumedRoleUser"]["Arn"].endswith("assumed-role/named/s1")
    denied(bob, "named")
    # Trusted through the account: the user's own policy must allow the call too.
    denied(bob, "account")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn("account")}]}
    iam.put_user_policy(UserName="bob", PolicyName="assume", PolicyDocument=json.dumps(allow))
    creds = bob.assume_role(RoleArn=arn("account"), RoleSessionName="s1")["Credentials"]
    # Role chaining: the session of "account" may assume what trusts its role.
    iam.create_role(RoleName="chained", AssumeRolePolicyDocument=trust({"AWS": arn("account")}))
    session = boto3.client("sts", endpoint_url=enforcing, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert session.assume_role(RoleArn=arn("chained"), RoleSessionName="s2")["AssumedRoleUser"]["Arn"].endswith("assumed-role/chained/s2")
    # An explicit Deny in the user's own policy wins over a trust policy naming them.
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="alice", PolicyName="deny", PolicyDocument=json.dumps(deny))
    denied(alice, "named")
