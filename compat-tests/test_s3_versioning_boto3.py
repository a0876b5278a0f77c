"""S3 object versioning (issue #13) with boto3 and the AWS CLI: version ids on every write, reads
and deletes by version, delete markers, suspended versioning's `null` versions, copies of a
given version, DeleteObjects with versions, and ListObjectVersions paging, as AWS answers them."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import make_client


def expect_error(call, error_code, http_status):
    with pytest.raises(ClientError) as ei:
        call()
    r = ei.value.response
    assert r["Error"]["Code"] == error_code, r
    assert r["ResponseMetadata"]["HTTPStatusCode"] == http_status, r
    return ei.value


@pytest.fixture
def vbucket(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def body(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def test_versions_delete_markers_and_reads_by_version(s3, vbucket):
    b = vbucket
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two!")["VersionId"]
    assert v1 and v2 and v1 != v2 and v1 != "null"
    got = s3.get_object(Bucket=b, Key="k")
    assert got["Body"].read() == b"two!" and got["VersionId"] == v2
    assert body(s3, b, "k", VersionId=v1) == b"one"
    head = s3.head_object(Bucket=b, Key="k", VersionId=v1)
    assert head["VersionId"] == v1 and head["ContentLength"] == 3

    versions = s3.list_object_versions(Bucket=b)
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in versions["Versions"]] == [(v2, True, 4), (v1, False, 3)]

    # A delete without a version id makes a delete marker the latest version.
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] not in (v1, v2)
    marker = d["VersionId"]
    err = expect_error(lambda: s3.get_object(Bucket=b, Key="k"), "NoSuchKey", 404)
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker
    expect_error(lambda: s3.head_object(Bucket=b, Key="k"), "404", 404)
    err = expect_error(lambda: s3.get_object(Bucket=b, Key="k", VersionId=marker), "MethodNotAllowed", 405)
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert body(s3, b, "k", VersionId=v2) == b"two!"
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    listing = s3.list_object_versions(Bucket=b)
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [(marker, True)]
    assert [v["IsLatest"] for v in listing["Versions"]] == [False, False]

    # Removing the marker by id brings the object back; removing a version for good promotes
    # the next newest.
    d = s3.delete_object(Bucket=b, Key="k", VersionId=marker)
    assert d["DeleteMarker"] is True and d["VersionId"] == marker
    assert body(s3, b, "k") == b"two!"
    d = s3.delete_object(Bucket=b, Key="k", VersionId=v2)
    assert d["VersionId"] == v2 and "DeleteMarker" not in d
    got = s3.get_object(Bucket=b, Key="k")
    assert got["Body"].read() == b"one" and got["VersionId"] == v1
    assert [o["Size"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == [3]
    expect_error(lambda: s3.get_object(Bucket=b, Key="k", VersionId=v2), "NoSuchVersion", 404)
    expect_error(lambda: s3.get_object(Bucket=b, Key="k", VersionId="not-a-version"), "InvalidArgument", 400)
    expect_error(lambda: s3.delete_object(Bucket=b, Key="k", VersionId="not-a-version"), "InvalidArgument", 400)


def test_conditional_get_of_a_version_answers_with_that_versions_validators(s3, vbucket):
    b = vbucket
    v1 = s3.put_object(Bucket=b, Key="c", Body=b"old")
    v2 = s3.put_object(Bucket=b, Key="c", Body=b"newer")
    assert v1["ETag"] != v2["ETag"]
    # A 304 for the old version carries the old version's ETag and id, not the current one's.
    err = expect_error(lambda: s3.get_object(Bucket=b, Key="c", VersionId=v1["VersionId"], IfNoneMatch=v1["ETag"]), "304", 304)
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["etag"] == v1["ETag"] and headers["x-amz-version-id"] == v1["VersionId"]
    # The current version's ETag does not match the old version: a 200 with the old bytes.
    assert body(s3, b, "c", VersionId=v1["VersionId"], IfNoneMatch=v2["ETag"]) == b"old"
    err = expect_error(lambda: s3.get_object(Bucket=b, Key="c", IfNoneMatch=v2["ETag"]), "304", 304)
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == v2["ETag"]


def test_suspended_versioning_writes_null_versions_and_keeps_the_others(s3, vbucket):
    b = vbucket
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"enabled")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Suspended"
    out = s3.put_object(Bucket=b, Key="k", Body=b"null-1")
    assert "VersionId" not in out
    s3.put_object(Bucket=b, Key="k", Body=b"null-2")
    ids = [(v["VersionId"], v["IsLatest"]) for v in s3.list_object_versions(Bucket=b)["Versions"]]
    assert ids == [("null", True), (v1, False)]
    got = s3.get_object(Bucket=b, Key="k", VersionId="null")
    assert got["Body"].read() == b"null-2" and got["VersionId"] == "null"
    # A delete makes a `null` delete marker, replacing the null version.
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=b)
    assert [v["VersionId"] for v in listing["Versions"]] == [v1]
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == ["null"]
    assert body(s3, b, "k", VersionId=v1) == b"enabled"


def test_copy_of_a_version_multipart_and_tagging_by_version(s3, vbucket):
    b = vbucket
    v1 = s3.put_object(Bucket=b, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="src", Body=b"second")
    c = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
    assert c["CopySourceVersionId"] == v1 and c["VersionId"] not in (None, v1)
    assert body(s3, b, "dst") == b"first"
    marker = s3.delete_object(Bucket=b, Key="src")["VersionId"]
    expect_error(lambda: s3.copy_object(Bucket=b, Key="x", CopySource={"Bucket": b, "Key": "src", "VersionId": marker}), "InvalidRequest", 400)
    expect_error(lambda: s3.copy_object(Bucket=b, Key="x", CopySource={"Bucket": b, "Key": "src"}), "NoSuchKey", 404)

    up = s3.create_multipart_upload(Bucket=b, Key="mp")
    part = s3.upload_part_copy(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
    assert part["CopySourceVersionId"] == v1
    done = s3.complete_multipart_upload(
        Bucket=b, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]}
    )
    assert done["VersionId"] and body(s3, b, "mp") == b"first"
    # Without a version id, a copied part names the source's current version.
    current = s3.head_object(Bucket=b, Key="dst")["VersionId"]
    up = s3.create_multipart_upload(Bucket=b, Key="mp2")
    part = s3.upload_part_copy(Bucket=b, Key="mp2", UploadId=up["UploadId"], PartNumber=1, CopySource={"Bucket": b, "Key": "dst"})
    assert part["CopySourceVersionId"] == current
    s3.abort_multipart_upload(Bucket=b, Key="mp2", UploadId=up["UploadId"])

    # Restoring a previous version: copy it onto its own key (S3's documented way).
    restored = s3.copy_object(Bucket=b, Key="src", CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
    assert restored["CopySourceVersionId"] == v1 and body(s3, b, "src") == b"first"

    tagged = s3.put_object_tagging(Bucket=b, Key="src", VersionId=v1, Tagging={"TagSet": [{"Key": "old", "Value": "yes"}]})
    assert tagged["VersionId"] == v1
    got = s3.get_object_tagging(Bucket=b, Key="src", VersionId=v1)
    assert got["VersionId"] == v1 and got["TagSet"] == [{"Key": "old", "Value": "yes"}]


def test_delete_objects_with_versions(s3, vbucket):
    b = vbucket
    va = s3.put_object(Bucket=b, Key="a", Body=b"a")["VersionId"]
    s3.put_object(Bucket=b, Key="b", Body=b"b")
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a", "VersionId": va}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in out["Deleted"]}
    assert deleted["a"]["VersionId"] == va and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"]
    listing = s3.list_object_versions(Bucket=b)
    assert [v["Key"] for v in listing["Versions"]] == ["b"]
    assert [m["Key"] for m in listing["DeleteMarkers"]] == ["b"]
    # Removing the marker by version, in a batch, reports it as a delete marker.
    mv = deleted["b"]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "b", "VersionId": mv}]})
    assert out["Deleted"] == [{"Key": "b", "VersionId": mv, "DeleteMarker": True, "DeleteMarkerVersionId": mv}]
    assert body(s3, b, "b") == b"b"


def test_list_object_versions_pages_prefixes_and_emptying_a_bucket(s3, vbucket):
    b = vbucket
    expected = []
    for key in ["a", "d/1", "d/2", "z"]:
        ids = [s3.put_object(Bucket=b, Key=key, Body=f"{key}{i}".encode())["VersionId"] for i in range(3)]
        expected += [(key, v) for v in reversed(ids)]
    marker = s3.delete_object(Bucket=b, Key="z")["VersionId"]
    expected.insert(expected.index(("z", expected[-3][1])), ("z", marker))
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 4}):
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        assert len(entries) <= 4
        # Within a page, the service's order is by key then newest first.
        seen += sorted(((e["Key"], e["VersionId"], e["LastModified"]) for e in entries), key=lambda e: [x[:2] for x in expected].index(e[:2]))
    assert [s[:2] for s in seen] == expected
    grouped = s3.list_object_versions(Bucket=b, Delimiter="/")
    assert grouped["CommonPrefixes"] == [{"Prefix": "d/"}]
    assert {v["Key"] for v in grouped["Versions"]} == {"a", "z"}
    only_d = s3.list_object_versions(Bucket=b, Prefix="d/", MaxKeys=2)
    assert only_d["IsTruncated"] and only_d["NextKeyMarker"] == "d/1"
    # A bucket with versions, or only delete markers, is not empty.
    expect_error(lambda: s3.delete_bucket(Bucket=b), "BucketNotEmpty", 409)
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a"}, {"Key": "d/1"}, {"Key": "d/2"}]})
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    expect_error(lambda: s3.delete_bucket(Bucket=b), "BucketNotEmpty", 409)
    # What Terraform's force_destroy and boto3's bucket.object_versions.delete() do.
    res = boto3.resource("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    res.Bucket(b).object_versions.delete()
    assert "Versions" not in s3.list_object_versions(Bucket=b)
    s3.delete_bucket(Bucket=b)


def test_versioning_with_the_aws_cli(aws_cli, s3, bucket, tmp_path):
    run = lambda *a: aws_cli(*a, check=True)
    run("s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    assert json.loads(run("s3api", "get-bucket-versioning", "--bucket", bucket).stdout)["Status"] == "Enabled"
    f = tmp_path / "f.txt"
    f.write_text("first")
    run("s3", "cp", f, f"s3://{bucket}/f.txt")
    f.write_text("second")
    run("s3", "cp", f, f"s3://{bucket}/f.txt")
    versions = json.loads(run("s3api", "list-object-versions", "--bucket", bucket).stdout)["Versions"]
    assert len(versions) == 2 and [v["IsLatest"] for v in versions] == [True, False]
    old = versions[1]["VersionId"]
    out = tmp_path / "old.txt"
    got = json.loads(run("s3api", "get-object", "--bucket", bucket, "--key", "f.txt", "--version-id", old, out).stdout)
    assert got["VersionId"] == old and out.read_text() == "first"
    run("s3", "rm", f"s3://{bucket}/f.txt")
    listing = json.loads(run("s3api", "list-object-versions", "--bucket", bucket).stdout)
    assert len(listing["DeleteMarkers"]) == 1 and len(listing["Versions"]) == 2
    marker = listing["DeleteMarkers"][0]["VersionId"]
    deleted = json.loads(run("s3api", "delete-object", "--bucket", bucket, "--key", "f.txt", "--version-id", marker).stdout)
    assert deleted == {"DeleteMarker": True, "VersionId": marker}
    assert s3.get_object(Bucket=bucket, Key="f.txt")["Body"].read() == b"second"
