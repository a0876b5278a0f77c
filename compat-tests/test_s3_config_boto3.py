"""S3 bucket configuration, tagging, ACLs, CORS, lifecycle and ListObjectVersions with boto3 and
the AWS CLI (issue #13): each call as the SDK makes it, the errors AWS gives for a configuration
that is not set, and the behaviour the configuration drives (CORS headers, expiring objects)."""

import json
import time

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client, serve


def code(err):
    return err.response["Error"]["Code"]


def status(err):
    return err.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(call, error_code, http_status):
    with pytest.raises(ClientError) as ei:
        call()
    assert code(ei.value) == error_code, ei.value.response
    assert status(ei.value) == http_status, ei.value.response
    return ei.value


# ---------------------------------------------------------------------- never set, then set


@pytest.mark.parametrize(
    "get, error_code",
    [
        ("get_bucket_tagging", "NoSuchTagSet"),
        ("get_bucket_cors", "NoSuchCORSConfiguration"),
        ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
        ("get_bucket_website", "NoSuchWebsiteConfiguration"),
        ("get_bucket_policy", "NoSuchBucketPolicy"),
    ],
)
def test_a_configuration_never_set_is_awss_own_error(s3, bucket, get, error_code):
    expect_error(lambda: getattr(s3, get)(Bucket=bucket), error_code, 404)


def test_new_bucket_defaults_as_on_aws(s3, bucket):
    # Since 2023 every bucket has SSE-S3, ACLs disabled and public access blocked.
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    own = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert own["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket).get("Status") is None
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    # Deleting the defaults leaves AWS's not-found errors; encryption falls back to SSE-S3.
    s3.delete_public_access_block(Bucket=bucket)
    expect_error(lambda: s3.get_public_access_block(Bucket=bucket), "NoSuchPublicAccessBlockConfiguration", 404)
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    expect_error(lambda: s3.get_bucket_ownership_controls(Bucket=bucket), "OwnershipControlsNotFoundError", 404)
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_configuration_round_trips(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "data & ml"}, {"Key": "env", "Value": "test"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "data & ml"}, {"Key": "env", "Value": "test"}]
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    web = s3.get_bucket_website(Bucket=bucket)
    assert web["IndexDocument"] == {"Suffix": "index.html"} and web["ErrorDocument"] == {"Key": "error.html"}
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "logs/"}})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {"TargetBucket": bucket, "TargetPrefix": "logs/"}
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/clicks"}, "BucketKeyEnabled": True}]},
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/clicks"} and rule["BucketKeyEnabled"] is True
    # The bucket default applies to new objects and is echoed as S3 echoes it.
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "alias/clicks"
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "alias/clicks"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is False
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    for delete, get, error_code in [
        ("delete_bucket_tagging", "get_bucket_tagging", "NoSuchTagSet"),
        ("delete_bucket_website", "get_bucket_website", "NoSuchWebsiteConfiguration"),
    ]:
        getattr(s3, delete)(Bucket=bucket)
        expect_error(lambda: getattr(s3, get)(Bucket=bucket), error_code, 404)


def test_configuration_checks(s3, bucket):
    expect_error(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}), "InvalidTag", 400)
    expect_error(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]}), "InvalidTag", 400)
    expect_error(
        lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}),
        "InvalidRequest",
        400,
    )
    expect_error(
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 0}}]}
        ),
        "InvalidArgument",
        400,
    )
    expect_error(
        lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]}),
        "MalformedXML",
        400,
    )
    expect_error(lambda: s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]}), "MalformedXML", 400)
    err = expect_error(
        lambda: s3.put_bucket_versioning(Bucket=bucket, MFA="arn:aws:iam::000000000000:mfa/x 123456", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}),
        "NotImplemented",
        501,
    )
    assert "MFA delete" in str(err)
    expect_error(lambda: s3.get_bucket_cors(Bucket="no-such-bucket-config"), "NoSuchBucket", 404)


# ---------------------------------------------------------------------- object tagging


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a.json", Body=b"{}", Tagging="source=firehose&day=2024%2F01%2F01")
    assert s3.get_object_tagging(Bucket=bucket, Key="a.json")["TagSet"] == [{"Key": "source", "Value": "firehose"}, {"Key": "day", "Value": "2024/01/01"}]
    assert s3.get_object(Bucket=bucket, Key="a.json")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="a.json", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="a.json")["TagSet"] == [{"Key": "k", "Value": "v"}]
    # A copy keeps the source's tags unless the tagging directive replaces them.
    s3.copy_object(Bucket=bucket, Key="b.json", CopySource={"Bucket": bucket, "Key": "a.json"})
    assert s3.get_object_tagging(Bucket=bucket, Key="b.json")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.copy_object(Bucket=bucket, Key="c.json", CopySource={"Bucket": bucket, "Key": "a.json"}, TaggingDirective="REPLACE", Tagging="n=1")
    assert s3.get_object_tagging(Bucket=bucket, Key="c.json")["TagSet"] == [{"Key": "n", "Value": "1"}]
    # The tags survive a metadata-only update of the object and go with DeleteObjectTagging.
    s3.delete_object_tagging(Bucket=bucket, Key="a.json")
    assert s3.get_object_tagging(Bucket=bucket, Key="a.json")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="a.json")
    too_many = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
    err = expect_error(lambda: s3.put_object_tagging(Bucket=bucket, Key="a.json", Tagging=too_many), "InvalidTag", 400)
    assert "10" in err.response["Error"]["Message"]
    expect_error(lambda: s3.put_object(Bucket=bucket, Key="d", Body=b"", Tagging="&".join(f"k{i}=v" for i in range(11))), "InvalidTag", 400)
    expect_error(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing"), "NoSuchKey", 404)


# ---------------------------------------------------------------------- ACLs


def test_acls_follow_ownership_controls(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] and acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    s3.put_object(Bucket=bucket, Key="o", Body=b"1", ACL="bucket-owner-full-control")
    assert s3.get_object_acl(Bucket=bucket, Key="o")["Grants"][0]["Permission"] == "FULL_CONTROL"
    # ACLs are disabled by default, so a public canned ACL is refused as AWS refuses it ...
    expect_error(lambda: s3.put_object(Bucket=bucket, Key="p", Body=b"1", ACL="public-read"), "AccessControlListNotSupported", 400)
    expect_error(lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"), "AccessControlListNotSupported", 400)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    # ... and accepted once the bucket allows ACLs.
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_object(Bucket=bucket, Key="p", Body=b"1", ACL="public-read")
    s3.put_object_acl(Bucket=bucket, Key="p", ACL="authenticated-read")
    expect_error(lambda: s3.put_object_acl(Bucket=bucket, Key="p", ACL="everyone"), "InvalidArgument", 400)


def test_create_bucket_with_ownership_and_acl(s3, bucket_name):
    expect_error(lambda: s3.create_bucket(Bucket=bucket_name, ACL="public-read"), "InvalidBucketAclWithObjectOwnership", 400)
    s3.create_bucket(Bucket=bucket_name, ACL="public-read", ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=bucket_name)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    s3.delete_bucket(Bucket=bucket_name)


# ---------------------------------------------------------------------- CORS


def test_cors_is_applied_to_preflights_and_requests(s3, bucket, firelocal_endpoint):
    url = f"{firelocal_endpoint}/{bucket}/upload.json"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    r = requests.options(url, headers=pre, timeout=10)
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text and "not enabled" in r.text
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
                {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
            ]
        },
    )
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://*.example.com"] and rules[0]["MaxAgeSeconds"] == 300
    r = requests.options(url, headers=pre, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type"
    assert r.headers["Access-Control-Max-Age"] == "300"
    # Not allowed: a method or header outside the rules, or no Origin at all.
    r = requests.options(url, headers={**pre, "Access-Control-Request-Method": "DELETE"}, timeout=10)
    assert r.status_code == 403 and "not allowed" in r.text
    r = requests.options(url, headers={**pre, "Access-Control-Request-Headers": "authorization"}, timeout=10)
    assert r.status_code == 403
    r = requests.options(url, headers={"Access-Control-Request-Method": "PUT"}, timeout=10)
    assert r.status_code == 400 and "<Code>BadRequest</Code>" in r.text
    # The actual request gets the headers too (presigned PUT from the page's origin).
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload.json"})
    r = requests.put(put_url, data=b'{"a":1}', headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    r = requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "upload.json"}), headers={"Origin": "https://elsewhere.org"}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "upload.json"}), timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers
    s3.delete_bucket_cors(Bucket=bucket)
    expect_error(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration", 404)


# ---------------------------------------------------------------------- versions


def test_list_object_versions_of_a_never_versioned_bucket(s3, bucket):
    for k in ["a", "b/1", "b/2", "c"]:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    out = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in out["Versions"]] == [(k, "null", True) for k in ["a", "b/1", "b/2", "c"]]
    assert "DeleteMarkers" not in out and out["IsTruncated"] is False
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert [v["Key"] for v in page["Versions"]] == ["a", "b/1"] and page["IsTruncated"]
    assert page["NextKeyMarker"] == "b/1" and page["NextVersionIdMarker"] == "null"
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    assert [v["Key"] for v in rest["Versions"]] == ["b/2", "c"]
    grouped = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [v["Key"] for v in grouped["Versions"]] == ["a", "c"] and grouped["CommonPrefixes"] == [{"Prefix": "b/"}]
    # What tools that empty a bucket before deleting it do (Terraform's force_destroy, boto3's
    # bucket.object_versions.delete()).
    res = make_client(s3.meta.endpoint_url, service="s3")
    b = boto3.resource("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test").Bucket(bucket)
    b.object_versions.delete()
    assert res.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# ---------------------------------------------------------------------- lifecycle


def test_lifecycle_rules_expire_objects(tmp_path_factory):
    with serve(tmp_path_factory, "--s3-lifecycle-interval", "100ms") as endpoint:
        s3 = make_client(endpoint)
        s3.create_bucket(Bucket="lifecycle")
        for k in ["tmp/a", "tmp/b", "keep/c"]:
            s3.put_object(Bucket="lifecycle", Key=k, Body=b"x")
        s3.put_object(Bucket="lifecycle", Key="tmp/tagged", Body=b"x", Tagging="keep=yes")
        s3.create_multipart_upload(Bucket="lifecycle", Key="tmp/upload")
        rules = [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Date": "2020-01-01T00:00:00Z"}},
            {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": ""}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Date": "2020-01-01T00:00:00Z"}},
            {"ID": "days", "Status": "Enabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 30}},
        ]
        s3.put_bucket_lifecycle_configuration(Bucket="lifecycle", LifecycleConfiguration={"Rules": rules})
        got = s3.get_bucket_lifecycle_configuration(Bucket="lifecycle")["Rules"]
        assert [r["ID"] for r in got] == ["tmp", "mpu", "off", "days"] and got[3]["Expiration"] == {"Days": 30}
        deadline = time.time() + 10
        while time.time() < deadline and s3.list_objects_v2(Bucket="lifecycle", Prefix="tmp/")["KeyCount"]:
            time.sleep(0.1)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="lifecycle")["Contents"]] == ["keep/c"]
        # The upload is a day old at most, so DaysAfterInitiation=7 leaves it.
        assert len(s3.list_multipart_uploads(Bucket="lifecycle").get("Uploads", [])) == 1
        # As AWS: neither multipart aborts nor delete-marker expiry take a tag filter.
        tagged = {"Tag": {"Key": "keep", "Value": "yes"}}
        for action in ({"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, {"Expiration": {"ExpiredObjectDeleteMarker": True}}):
            bad = [{"ID": "tagged", "Status": "Enabled", "Filter": tagged, **action}]
            expect_error(lambda: s3.put_bucket_lifecycle_configuration(Bucket="lifecycle", LifecycleConfiguration={"Rules": bad}), "InvalidRequest", 400)
        s3.delete_bucket_lifecycle(Bucket="lifecycle")
        expect_error(lambda: s3.get_bucket_lifecycle_configuration(Bucket="lifecycle"), "NoSuchLifecycleConfiguration", 404)


# ---------------------------------------------------------------------- the AWS CLI


def test_aws_cli_s3api_configuration_calls(aws_cli, bucket):
    def run(*args):
        return aws_cli(*args, check=True)

    run("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=team,Value=clicks}]")
    out = json.loads(run("s3api", "get-bucket-tagging", "--bucket", bucket).stdout)
    assert out["TagSet"] == [{"Key": "team", "Value": "clicks"}]
    cors = json.dumps({"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
    run("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", cors)
    assert json.loads(run("s3api", "get-bucket-cors", "--bucket", bucket).stdout)["CORSRules"][0]["AllowedMethods"] == ["GET"]
    r = aws_cli("s3api", "get-bucket-website", "--bucket", bucket)
    assert r.returncode != 0 and "NoSuchWebsiteConfiguration" in r.stderr
    assert json.loads(run("s3api", "get-bucket-versioning", "--bucket", bucket).stdout or "{}").get("Status") is None
    run("s3api", "put-object", "--bucket", bucket, "--key", "t.txt", "--tagging", "a=1")
    assert json.loads(run("s3api", "get-object-tagging", "--bucket", bucket, "--key", "t.txt").stdout)["TagSet"] == [{"Key": "a", "Value": "1"}]
    versions = json.loads(run("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert [(v["Key"], v["VersionId"]) for v in versions["Versions"]] == [("t.txt", "null")]


# ---------------------------------------------------------------------- attributes and parts


def test_object_attributes_and_part_reads(s3, bucket):
    part1, part2 = b"a" * (5 * 1024 * 1024), b"b" * 1024
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=i + 1, Body=b, ChecksumAlgorithm="SHA256") for i, b in enumerate([part1, part2])]
    parts = [{"PartNumber": i + 1, "ETag": e["ETag"], "ChecksumSHA256": e["ChecksumSHA256"]} for i, e in enumerate(etags)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
    assert attrs["ObjectSize"] == len(part1) + len(part2) and attrs["StorageClass"] == "STANDARD"
    assert attrs["ETag"].endswith("-2") and attrs["Checksum"]["ChecksumType"] == "COMPOSITE"
    op = attrs["ObjectParts"]
    assert op["TotalPartsCount"] == 2 and [p["Size"] for p in op["Parts"]] == [len(part1), len(part2)]
    assert [p["ChecksumSHA256"] for p in op["Parts"]] == [e["ChecksumSHA256"] for e in etags]
    paged = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1)["ObjectParts"]
    assert paged["IsTruncated"] and paged["NextPartNumberMarker"] == 1 and len(paged["Parts"]) == 1
    # partNumber reads one part, with the part count.
    got = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert got["Body"].read() == part2 and got["PartsCount"] == 2 and got["ContentRange"] == f"bytes {len(part1)}-{len(part1) + len(part2) - 1}/{len(part1) + len(part2)}"
    assert s3.head_object(Bucket=bucket, Key="mp", PartNumber=1)["ContentLength"] == len(part1)
    expect_error(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=3), "InvalidPartNumber", 416)
    expect_error(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-1"), "InvalidRequest", 400)
    s3.put_object(Bucket=bucket, Key="simple", Body=b"hello")
    assert s3.get_object(Bucket=bucket, Key="simple", PartNumber=1)["Body"].read() == b"hello"
    assert s3.get_object_attributes(Bucket=bucket, Key="simple", ObjectAttributes=["ObjectSize"])["ObjectSize"] == 5
    expect_error(lambda: s3.get_object_attributes(Bucket=bucket, Key="simple", ObjectAttributes=["Colour"]), "InvalidArgument", 400)


def test_non_ascii_metadata_comes_back_rfc2047_encoded(s3, bucket, firelocal_endpoint):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "meta"})
    r = requests.put(url, data=b"x", headers={"x-amz-meta-city": "東京".encode()}, timeout=10)
    assert r.status_code == 200, r.text
    head = s3.head_object(Bucket=bucket, Key="meta")
    assert head["Metadata"]["city"] == "=?UTF-8?B?5p2x5Lqs?="
    s3.put_object(Bucket=bucket, Key="ascii", Body=b"x", Metadata={"city": "Paris"})
    assert s3.head_object(Bucket=bucket, Key="ascii")["Metadata"] == {"city": "Paris"}


def test_delete_objects_refuses_more_than_1000_keys(s3, bucket):
    expect_error(lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]}), "MalformedXML", 400)
