"""S3 compatibility tests driven by boto3.

Every assertion states what real AWS S3 does; a failure here is a firelocal bug, not a test to
loosen.
"""

import base64
import datetime as dt
import hashlib
import hmac
import random
import time
import zlib
from urllib.parse import unquote_plus

import boto3
import botocore
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, make_client

MiB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def rand_bytes(n, seed=0):
    return random.Random(seed).randbytes(n)


def quoted_md5(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(parts):
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def status(err: ClientError):
    return err.response["ResponseMetadata"]["HTTPStatusCode"]


def code(err: ClientError):
    return err.response["Error"]["Code"]


def expect_error(fn, err_code, http_status, **kwargs):
    """Calls fn(**kwargs), asserts it fails with the given S3 error code and HTTP status."""
    with pytest.raises(ClientError) as ei:
        fn(**kwargs)
    err = ei.value
    assert (code(err), status(err)) == (err_code, http_status), err.response
    return err


def _reflected_table(poly):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _reflected_table(0x82F63B78)
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def crc64nvme(data):
    mask = 0xFFFFFFFFFFFFFFFF
    c = mask
    for b in data:
        c = _CRC64NVME_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def b64(data):
    return base64.b64encode(data).decode()


def local_checksum(alg, data):
    """The base64 of the big-endian digest, as S3 reports it."""
    if alg == "CRC32":
        return b64((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"))
    if alg == "CRC32C":
        return b64(crc32c(data).to_bytes(4, "big"))
    if alg == "CRC64NVME":
        return b64(crc64nvme(data).to_bytes(8, "big"))
    if alg == "SHA1":
        return b64(hashlib.sha1(data).digest())
    if alg == "SHA256":
        return b64(hashlib.sha256(data).digest())
    raise ValueError(alg)


def composite_checksum(alg, parts):
    """S3's COMPOSITE multipart checksum: the checksum of the parts' binary checksums, "-N"."""
    joined = b"".join(base64.b64decode(local_checksum(alg, p)) for p in parts)
    return f"{local_checksum(alg, joined)}-{len(parts)}"


def test_local_checksum_helpers_match_reference_check_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888
    assert zlib.crc32(b"123456789") == 0xCBF43926


def utf8_sorted(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def keys_of(resp):
    return [o["Key"] for o in resp.get("Contents", [])]


def prefixes_of(resp):
    return [p["Prefix"] for p in resp.get("CommonPrefixes", [])]


# --------------------------------------------------------------------------------------------
# buckets
# --------------------------------------------------------------------------------------------


def test_create_head_list_delete_bucket_us_east_1(s3, bucket_name):
    resp = s3.create_bucket(Bucket=bucket_name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Location"] == f"/{bucket_name}"

    head = s3.head_bucket(Bucket=bucket_name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["BucketRegion"] == "us-east-1"

    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket_name in names
    entry = next(b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket_name)
    assert isinstance(entry["CreationDate"], dt.datetime)

    # us-east-1 is reported as an empty LocationConstraint, which boto3 gives as None.
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] is None

    resp = s3.delete_bucket(Bucket=bucket_name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    err = expect_error(s3.head_bucket, "404", 404, Bucket=bucket_name)
    assert err.response["Error"]["Code"] == "404"
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_creation_date_is_whole_seconds(s3, bucket):
    # S3 reports CreationDate to the second (".000Z"), like object LastModified.
    entry = next(b for b in s3.list_buckets()["Buckets"] if b["Name"] == bucket)
    assert entry["CreationDate"].microsecond == 0, entry["CreationDate"]


def test_create_bucket_with_location_constraint(s3, s3_eu, bucket_name):
    resp = s3_eu.create_bucket(
        Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3_eu.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == "eu-west-1"
    assert s3_eu.head_bucket(Bucket=bucket_name)["BucketRegion"] == "eu-west-1"
    assert bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_head_bucket_missing_is_404(s3, bucket_name):
    expect_error(s3.head_bucket, "404", 404, Bucket=bucket_name)


def test_delete_non_empty_bucket_is_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=bucket)
    s3.head_bucket(Bucket=bucket)  # still there
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_create_existing_bucket_outside_us_east_1_is_already_owned_by_you(s3_eu, bucket_name):
    cfg = {"LocationConstraint": "eu-west-1"}
    s3_eu.create_bucket(Bucket=bucket_name, CreateBucketConfiguration=cfg)
    expect_error(
        s3_eu.create_bucket,
        "BucketAlreadyOwnedByYou",
        409,
        Bucket=bucket_name,
        CreateBucketConfiguration=cfg,
    )


def test_recreate_own_bucket_in_us_east_1_is_200(s3, bucket):
    # AWS: "For legacy compatibility, if you re-create an existing bucket that you already own in
    # the North Virginia Region, Amazon S3 returns 200 OK" (BucketAlreadyOwnedByYou elsewhere).
    s3.put_object(Bucket=bucket, Key="keep", Body=b"still here")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"still here"


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "UpperCase-bucket",
        "under_score-bucket",
        "-leading-dash",
        "trailing-dash-",
        "double..dot",
        "192.168.5.4",  # formatted as an IP address
        "xn--bucket-prefix",  # reserved prefix
        "bucket-suffix-s3alias",  # reserved suffix
    ],
)
def test_invalid_bucket_name(s3, name):
    expect_error(s3.create_bucket, "InvalidBucketName", 400, Bucket=name)


def test_no_such_bucket(s3, bucket_name):
    expect_error(s3.get_object, "NoSuchBucket", 404, Bucket=bucket_name, Key="k")
    expect_error(s3.put_object, "NoSuchBucket", 404, Bucket=bucket_name, Key="k", Body=b"x")
    expect_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket=bucket_name)
    expect_error(s3.delete_bucket, "NoSuchBucket", 404, Bucket=bucket_name)
    expect_error(s3.get_bucket_location, "NoSuchBucket", 404, Bucket=bucket_name)


# --------------------------------------------------------------------------------------------
# objects
# --------------------------------------------------------------------------------------------


def test_put_get_with_metadata_and_headers(s3, bucket):
    body = b"hello firelocal " * 100
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/hello.txt",
        Body=body,
        Metadata={"color": "blue", "Camel-Case": "Value With Spaces"},
        ContentType="text/plain; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="hello.txt"',
        ContentLanguage="en-GB",
        CacheControl="max-age=60",
    )
    assert put["ETag"] == quoted_md5(body)

    got = s3.get_object(Bucket=bucket, Key="docs/hello.txt")
    assert got["Body"].read() == body
    assert got["ETag"] == quoted_md5(body)
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["ContentEncoding"] == "gzip"
    assert got["ContentDisposition"] == 'attachment; filename="hello.txt"'
    assert got["ContentLanguage"] == "en-GB"
    assert got["CacheControl"] == "max-age=60"
    # S3 stores user metadata names in lower case.
    assert got["Metadata"] == {"color": "blue", "camel-case": "Value With Spaces"}
    assert isinstance(got["LastModified"], dt.datetime)
    assert got["AcceptRanges"] == "bytes"


def test_put_without_content_type_defaults_to_binary_octet_stream(s3, bucket):
    s3.put_object(Bucket=bucket, Key="blob", Body=b"\x00\x01")
    assert s3.head_object(Bucket=bucket, Key="blob")["ContentType"] == "binary/octet-stream"


def test_empty_object(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["Body"].read() == b""


def test_overwrite_replaces_body_and_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"a": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second!", Metadata={"b": "2"})
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second!"
    assert got["Metadata"] == {"b": "2"}


def test_head_object(s3, bucket):
    body = rand_bytes(3000, seed=1)
    s3.put_object(Bucket=bucket, Key="h", Body=body, Metadata={"m": "v"}, ContentType="image/png")
    head = s3.head_object(Bucket=bucket, Key="h")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ContentLength"] == 3000
    assert head["ETag"] == quoted_md5(body)
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == {"m": "v"}
    assert head["AcceptRanges"] == "bytes"
    assert isinstance(head["LastModified"], dt.datetime)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="missing")


@pytest.mark.parametrize(
    "rng, expected, content_range",
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=5-", b"56789", "bytes 5-9/10"),
        ("bytes=3-3", b"3", "bytes 3-3/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),  # end past the object is clamped
    ],
)
def test_range_get(s3, bucket, rng, expected, content_range):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="digits", Range=rng)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(expected)
    assert got["Body"].read() == expected


def test_range_head(s3, bucket):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    head = s3.head_object(Bucket=bucket, Key="digits", Range="bytes=2-5")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentRange"] == "bytes 2-5/10"
    assert head["ContentLength"] == 4


def test_unsatisfiable_range_is_invalid_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="digits", Range="bytes=20-30")


class TestConditionalGet:
    @pytest.fixture
    def obj(self, s3, bucket):
        s3.put_object(Bucket=bucket, Key="c", Body=b"conditional body")
        head = s3.head_object(Bucket=bucket, Key="c")
        return bucket, head["ETag"], head["LastModified"]

    def test_if_match(self, s3, obj):
        bucket, etag, _ = obj
        assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional body"
        expect_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key="c", IfMatch='"0000"')

    def test_if_none_match(self, s3, obj):
        bucket, etag, _ = obj
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
        assert status(ei.value) == 304
        assert code(ei.value) in ("304", "NotModified")
        got = s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0000"')
        assert got["Body"].read() == b"conditional body"

    def test_if_modified_since(self, s3, obj):
        bucket, _, last_modified = obj
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=last_modified)
        assert status(ei.value) == 304
        earlier = last_modified - dt.timedelta(hours=1)
        assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=earlier)["Body"].read() == b"conditional body"

    def test_if_unmodified_since(self, s3, obj):
        bucket, _, last_modified = obj
        earlier = last_modified - dt.timedelta(hours=1)
        expect_error(
            s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key="c", IfUnmodifiedSince=earlier
        )
        got = s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=last_modified)
        assert got["Body"].read() == b"conditional body"

    def test_if_match_true_and_if_unmodified_since_false_is_200(self, s3, obj):
        # Documented S3 precedence (RFC 7232): If-Match wins over If-Unmodified-Since.
        bucket, etag, last_modified = obj
        earlier = last_modified - dt.timedelta(hours=1)
        got = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=earlier)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_if_none_match_false_and_if_modified_since_true_is_304(self, s3, obj):
        # Documented S3 precedence: If-None-Match wins over If-Modified-Since.
        bucket, etag, last_modified = obj
        earlier = last_modified - dt.timedelta(hours=1)
        with pytest.raises(ClientError) as ei:
            s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=earlier)
        assert status(ei.value) == 304

    def test_head_conditionals(self, s3, obj):
        bucket, etag, _ = obj
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
        assert status(ei.value) == 304
        with pytest.raises(ClientError) as ei:
            s3.head_object(Bucket=bucket, Key="c", IfMatch='"0000"')
        assert status(ei.value) == 412


def test_storage_class_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="std", Body=b"x")
    # S3 sends x-amz-storage-class for every class but STANDARD.
    assert s3.head_object(Bucket=bucket, Key="ia")["StorageClass"] == "STANDARD_IA"
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="std")
    classes = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert classes == {"ia": "STANDARD_IA", "std": "STANDARD"}
    # Changing only the storage class is a legal copy onto itself.
    s3.copy_object(Bucket=bucket, Key="std", CopySource={"Bucket": bucket, "Key": "std"}, StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="std")["StorageClass"] == "STANDARD_IA"
    expect_error(s3.put_object, "InvalidStorageClass", 400, Bucket=bucket, Key="bad", Body=b"x", StorageClass="BOGUS")


def test_last_modified_is_whole_seconds_everywhere(s3, bucket):
    # S3 keeps LastModified to the second: listings show ".000Z" and agree with the
    # Last-Modified header of HEAD/GET, so clients can compare the two.
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    copied = s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "a"})
    listed = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    for k, when in listed.items():
        assert when.microsecond == 0, (k, when)
        assert when == s3.head_object(Bucket=bucket, Key=k)["LastModified"], k
    assert copied["CopyObjectResult"]["LastModified"].microsecond == 0


def test_delete_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    resp = s3.delete_object(Bucket=bucket, Key="gone")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="gone")
    # Deleting a missing key is not an error.
    assert s3.delete_object(Bucket=bucket, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_no_such_key(s3, bucket):
    err = expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="nope/missing.txt")
    assert err.response["Error"].get("Key") == "nope/missing.txt"


def test_delete_objects_verbose(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]}
    )
    # Deleting a missing key is reported as deleted.
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b", "missing"]
    assert not resp.get("Errors")
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == ["c"]


def test_delete_objects_quiet(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "c"}], "Quiet": True}
    )
    assert not resp.get("Deleted")
    assert not resp.get("Errors")
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == ["b"]


def test_copy_object_metadata_copy(s3, bucket):
    body = rand_bytes(4096, seed=2)
    s3.put_object(Bucket=bucket, Key="src", Body=body, Metadata={"orig": "yes"}, ContentType="text/csv")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert resp["CopyObjectResult"]["ETag"] == quoted_md5(body)
    assert isinstance(resp["CopyObjectResult"]["LastModified"], dt.datetime)
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == body
    assert got["Metadata"] == {"orig": "yes"}
    assert got["ContentType"] == "text/csv"


def test_copy_object_metadata_replace(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", Metadata={"orig": "yes"}, ContentType="text/csv")
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"new": "value"},
        ContentType="application/json",
    )
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"payload"
    assert got["Metadata"] == {"new": "value"}
    assert got["ContentType"] == "application/json"
    # The source is untouched.
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"orig": "yes"}


def test_copy_object_across_buckets_with_odd_source_key(s3, bucket, bucket_name):
    other = bucket_name[:-4] + "dst0"
    s3.create_bucket(Bucket=other)
    key = "sp ace+plus/é?&=.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"odd source")
    s3.copy_object(Bucket=other, Key="copied", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=other, Key="copied")["Body"].read() == b"odd source"


def test_copy_object_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"me", Metadata={"v": "1"})
    expect_error(
        s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"}
    )
    s3.copy_object(
        Bucket=bucket,
        Key="self",
        CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    got = s3.get_object(Bucket=bucket, Key="self")
    assert got["Body"].read() == b"me"
    assert got["Metadata"] == {"v": "2"}


def test_copy_object_missing_source(s3, bucket):
    expect_error(
        s3.copy_object, "NoSuchKey", 404, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "missing"}
    )


# --------------------------------------------------------------------------------------------
# keys with odd characters
# --------------------------------------------------------------------------------------------

ODD_KEYS = [
    "../../etc/passwd",
    "a//b",
    "/leading",
    "sp ace+plus",
    "unicodé/日本",
    "%2F",
    "q?x=1&y#z",
    "tilde~star*paren()",
    "trailing/",
    "xml<&>'\"chars",
    "tab\tnew\nline\x01ctl",
]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_key_round_trip(s3, bucket, key):
    body = ("body of " + key).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == []


def test_odd_keys_list_together_in_byte_order(s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == utf8_sorted(ODD_KEYS)
    assert keys_of(s3.list_objects(Bucket=bucket)) == utf8_sorted(ODD_KEYS)
    for k in ODD_KEYS:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()


def test_key_length_limit(s3, bucket):
    ok = "k" * 1000 + "é" * 12  # 1024 bytes of UTF-8
    assert len(ok.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=ok, Body=b"max")
    assert s3.get_object(Bucket=bucket, Key=ok)["Body"].read() == b"max"
    assert keys_of(s3.list_objects_v2(Bucket=bucket)) == [ok]
    too_long = "k" * 1025
    expect_error(s3.put_object, "KeyTooLongError", 400, Bucket=bucket, Key=too_long, Body=b"x")


# --------------------------------------------------------------------------------------------
# listing
# --------------------------------------------------------------------------------------------

TREE = [
    "docs/readme.md",
    "photos/2024/a.jpg",
    "photos/2024/b.jpg",
    "photos/2025/c.jpg",
    "photos/top.jpg",
    "root.txt",
]


@pytest.fixture
def tree_bucket(s3, bucket):
    for k in TREE:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def test_list_v2_plain(s3, tree_bucket):
    resp = s3.list_objects_v2(Bucket=tree_bucket)
    assert keys_of(resp) == TREE
    assert resp["KeyCount"] == len(TREE)
    assert resp["IsTruncated"] is False
    assert resp["Name"] == tree_bucket
    assert resp["MaxKeys"] == 1000
    first = resp["Contents"][0]
    assert first["Size"] == len(TREE[0])
    assert first["ETag"] == quoted_md5(TREE[0].encode())
    assert first["StorageClass"] == "STANDARD"
    assert isinstance(first["LastModified"], dt.datetime)


def test_list_v2_prefix(s3, tree_bucket):
    resp = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/")
    assert keys_of(resp) == [k for k in TREE if k.startswith("photos/")]
    assert resp["Prefix"] == "photos/"
    empty = s3.list_objects_v2(Bucket=tree_bucket, Prefix="nothing-here/")
    assert empty["KeyCount"] == 0
    assert "Contents" not in empty


def test_list_v2_delimiter(s3, tree_bucket):
    resp = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/")
    assert keys_of(resp) == ["root.txt"]
    assert prefixes_of(resp) == ["docs/", "photos/"]
    assert resp["Delimiter"] == "/"
    assert resp["KeyCount"] == 3

    resp = s3.list_objects_v2(Bucket=tree_bucket, Prefix="photos/", Delimiter="/")
    assert keys_of(resp) == ["photos/top.jpg"]
    assert prefixes_of(resp) == ["photos/2024/", "photos/2025/"]
    assert resp["KeyCount"] == 3


def test_list_v2_delimiter_with_max_keys_counts_prefixes(s3, tree_bucket):
    resp = s3.list_objects_v2(Bucket=tree_bucket, Delimiter="/", MaxKeys=2)
    assert resp["IsTruncated"] is True
    assert resp["KeyCount"] == 2
    assert prefixes_of(resp) == ["docs/", "photos/"]
    assert keys_of(resp) == []
    rest = s3.list_objects_v2(
        Bucket=tree_bucket, Delimiter="/", MaxKeys=2, ContinuationToken=resp["NextContinuationToken"]
    )
    assert keys_of(rest) == ["root.txt"]
    assert prefixes_of(rest) == []
    assert rest["IsTruncated"] is False


PAGINATION_KEYS = [f"item-{i:02d}" for i in range(20)] + ["Zebra", "apple", "é-accent", "日本/x", "~tilde"]


def test_list_v2_paginator(s3, bucket):
    for k in PAGINATION_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 7})
    )
    assert [len(keys_of(p)) for p in pages] == [7, 7, 7, 4]
    assert [p["KeyCount"] for p in pages] == [7, 7, 7, 4]
    assert [p["IsTruncated"] for p in pages] == [True, True, True, False]
    for p in pages[:-1]:
        assert p["NextContinuationToken"]
        assert p["MaxKeys"] == 7
    assert "NextContinuationToken" not in pages[-1]
    assert pages[1]["ContinuationToken"] == pages[0]["NextContinuationToken"]
    listed = [k for p in pages for k in keys_of(p)]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(PAGINATION_KEYS)
    assert listed == utf8_sorted(PAGINATION_KEYS)


def test_list_v2_start_after(s3, bucket):
    for k in PAGINATION_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="item-09")
    expected = [k for k in utf8_sorted(PAGINATION_KEYS) if k.encode() > b"item-09"]
    assert keys_of(resp) == expected
    assert resp["StartAfter"] == "item-09"
    # StartAfter need not be an existing key.
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="item-09x")
    assert keys_of(resp) == expected


def test_list_v2_fetch_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    plain = s3.list_objects_v2(Bucket=bucket)
    assert "Owner" not in plain["Contents"][0]
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    assert owned["Contents"][0]["Owner"]["ID"]


def test_list_v2_encoding_type_url(s3, bucket):
    key = "dir one/sp ace+plus&é日.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # With EncodingType given explicitly, botocore leaves the keys as S3 sent them.
    resp = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert resp["EncodingType"] == "url"
    raw = keys_of(resp)[0]
    assert raw != key
    assert raw.isascii() and " " not in raw and "&" not in raw
    assert unquote_plus(raw) == key

    resp = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/", Prefix="dir one/")
    assert unquote_plus(resp["Prefix"]) == "dir one/"
    assert " " not in resp["Prefix"]
    assert [unquote_plus(k) for k in keys_of(resp)] == [key]

    resp = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    assert [unquote_plus(p) for p in prefixes_of(resp)] == ["dir one/"]
    assert " " not in prefixes_of(resp)[0]


def test_list_v1_marker_pagination_with_delimiter(s3, bucket):
    keys = ["a/1", "a/2", "b", "c/1", "c/2/x", "d", "e/x/y", "f"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    all_keys, all_prefixes, pages, marker = [], [], 0, ""
    while True:
        resp = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2, Marker=marker)
        pages += 1
        assert pages < 10, "pagination does not terminate"
        page_keys, page_prefixes = keys_of(resp), prefixes_of(resp)
        assert len(page_keys) + len(page_prefixes) <= 2
        assert resp["Marker"] == marker
        all_keys += page_keys
        all_prefixes += page_prefixes
        if not resp["IsTruncated"]:
            break
        # With a delimiter, S3 returns NextMarker: the last key or common prefix of the page.
        last = max(page_keys + page_prefixes, key=lambda s: s.encode())
        assert resp["NextMarker"] == last
        marker = resp["NextMarker"]
    assert all_keys == ["b", "d", "f"]
    assert all_prefixes == ["a/", "c/", "e/"]
    assert pages == 3


def test_list_v1_without_delimiter_has_no_next_marker(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    resp = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert keys_of(resp) == ["a", "b"]
    assert resp["IsTruncated"] is True
    assert "NextMarker" not in resp
    rest = s3.list_objects(Bucket=bucket, MaxKeys=2, Marker="b")
    assert keys_of(rest) == ["c"]
    assert rest["IsTruncated"] is False
    # The v1 paginator falls back to the last key as the marker.
    listed = [k for p in s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1}) for k in keys_of(p)]
    assert listed == ["a", "b", "c"]


# --------------------------------------------------------------------------------------------
# multipart
# --------------------------------------------------------------------------------------------


def _upload_parts(s3, bucket, key, upload_id, parts):
    done = []
    for n, data in enumerate(parts, start=1):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data)
        assert resp["ETag"] == quoted_md5(data)
        done.append({"PartNumber": n, "ETag": resp["ETag"]})
    return done


def test_multipart_upload_complete(s3, bucket):
    parts = [rand_bytes(5 * MiB, seed=10), rand_bytes(5 * MiB, seed=11), rand_bytes(1234, seed=12)]
    mpu = s3.create_multipart_upload(Bucket=bucket, Key="big.bin", ContentType="application/x-test", Metadata={"mp": "1"})
    upload_id = mpu["UploadId"]
    assert mpu["Bucket"] == bucket and mpu["Key"] == "big.bin"
    done = _upload_parts(s3, bucket, "big.bin", upload_id, parts)

    listed = s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload_id)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    assert [p["ETag"] for p in listed["Parts"]] == [quoted_md5(p) for p in parts]
    assert listed["UploadId"] == upload_id

    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big.bin", upload_id)]

    resp = s3.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload_id, MultipartUpload={"Parts": done}
    )
    assert resp["ETag"] == multipart_etag(parts)
    assert resp["ETag"].endswith('-3"')
    assert resp["Key"] == "big.bin" and resp["Bucket"] == bucket

    got = s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["ContentLength"] == sum(map(len, parts))
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"mp": "1"}
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    # A ranged read across the part boundary.
    rng = s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 1}")
    assert rng["Body"].read() == parts[0][-2:] + parts[1][:2]


def test_parts_count_only_with_part_number(s3, bucket):
    # API reference (GetObject/HeadObject PartsCount): "only returned if you specify partNumber
    # in your request and the object was uploaded as a multipart upload".
    parts = [rand_bytes(5 * MiB, seed=13), b"end"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = _upload_parts(s3, bucket, "mp", upload_id, parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": done})
    assert "PartsCount" not in s3.head_object(Bucket=bucket, Key="mp")
    got = s3.get_object(Bucket=bucket, Key="mp")
    got["Body"].read()
    assert "PartsCount" not in got


def test_multipart_abort(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part")
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="k", UploadId=upload_id)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="k")


def test_multipart_invalid_part_etag(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    _upload_parts(s3, bucket, "k", upload_id, [b"only part"])
    expect_error(
        s3.complete_multipart_upload,
        "InvalidPart",
        400,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": quoted_md5(b"something else")}]},
    )
    # A part number that was never uploaded is also InvalidPart.
    expect_error(
        s3.complete_multipart_upload,
        "InvalidPart",
        400,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": quoted_md5(b"only part")}]},
    )


def test_multipart_invalid_part_order(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    done = _upload_parts(s3, bucket, "k", upload_id, [rand_bytes(5 * MiB, seed=20), b"tail"])
    expect_error(
        s3.complete_multipart_upload,
        "InvalidPartOrder",
        400,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": list(reversed(done))},
    )


def test_multipart_entity_too_small(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    done = _upload_parts(s3, bucket, "k", upload_id, [b"a" * 1024, b"b" * 1024])
    expect_error(
        s3.complete_multipart_upload,
        "EntityTooSmall",
        400,
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": done},
    )


def test_multipart_single_small_part_is_allowed(s3, bucket):
    # Only non-final parts must be >= 5 MiB.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    done = _upload_parts(s3, bucket, "k", upload_id, [b"tiny"])
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": done})
    assert resp["ETag"] == multipart_etag([b"tiny"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"tiny"


def test_multipart_no_such_upload(s3, bucket):
    bogus = "bogus-upload-id"
    expect_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key="k", UploadId=bogus, PartNumber=1, Body=b"x")
    expect_error(
        s3.complete_multipart_upload,
        "NoSuchUpload",
        404,
        Bucket=bucket,
        Key="k",
        UploadId=bogus,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": quoted_md5(b"x")}]},
    )
    expect_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="k", UploadId=bogus)
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="k", UploadId=bogus)


def test_upload_part_copy_with_range(s3, bucket):
    source = rand_bytes(6 * MiB + 100, seed=30)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    split = 5 * MiB
    r1 = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange=f"bytes=0-{split - 1}",
    )
    r2 = s3.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange=f"bytes={split}-{len(source) - 1}",
    )
    assert r1["CopyPartResult"]["ETag"] == quoted_md5(source[:split])
    assert r2["CopyPartResult"]["ETag"] == quoted_md5(source[split:])
    s3.complete_multipart_upload(
        Bucket=bucket, Key="assembled", UploadId=upload_id,
        MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]},
        ]},
    )
    got = s3.get_object(Bucket=bucket, Key="assembled")
    assert got["Body"].read() == source
    assert got["ETag"] == multipart_etag([source[:split], source[split:]])


# --------------------------------------------------------------------------------------------
# checksums
# --------------------------------------------------------------------------------------------

ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]
# botocore computes these two only with awscrt (botocore[crt], in requirements.txt).
NEEDS_CRT = {"CRC32C", "CRC64NVME"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_checksum_algorithm_round_trip(s3, bucket, alg):
    if alg in NEEDS_CRT and not botocore.compat.HAS_CRT:
        pytest.skip(f"the installed botocore cannot compute {alg} (awscrt missing)")
    data = rand_bytes(20000, seed=40)
    expected = local_checksum(alg, data)
    member = f"Checksum{alg}"
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, ChecksumAlgorithm=alg)
    assert put[member] == expected
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[member] == expected
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got[member] == expected
    assert got["Body"].read() == data


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_explicit_checksum_value_is_verified_and_stored(s3, bucket, alg):
    # The caller sends the x-amz-checksum-* header itself (no SDK computation involved).
    data = rand_bytes(5000, seed=41)
    expected = local_checksum(alg, data)
    member = f"Checksum{alg}"
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, **{member: expected})
    assert put[member] == expected
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[member] == expected


def test_multipart_composite_sha256_checksum(s3, bucket):
    parts = [rand_bytes(5 * MiB, seed=45), b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    done = []
    for n, data in enumerate(parts, start=1):
        resp = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n, Body=data, ChecksumAlgorithm="SHA256"
        )
        assert resp["ChecksumSHA256"] == local_checksum("SHA256", data)
        done.append({"PartNumber": n, "ETag": resp["ETag"], "ChecksumSHA256": resp["ChecksumSHA256"]})
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [local_checksum("SHA256", p) for p in parts]
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": done})
    expected = composite_checksum("SHA256", parts)
    assert resp["ChecksumSHA256"] == expected
    assert resp["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected
    assert head["ChecksumType"] == "COMPOSITE"


def test_multipart_wrong_part_checksum_in_complete_is_invalid_part(s3, bucket):
    parts = [rand_bytes(5 * MiB, seed=46), b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    done = []
    for n, data in enumerate(parts, start=1):
        resp = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n, Body=data, ChecksumAlgorithm="SHA256"
        )
        done.append({"PartNumber": n, "ETag": resp["ETag"], "ChecksumSHA256": resp["ChecksumSHA256"]})
    done[1]["ChecksumSHA256"] = local_checksum("SHA256", b"not the tail")
    expect_error(
        s3.complete_multipart_upload, "InvalidPart", 400,
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": done},
    )


def test_checksum_absent_without_checksum_mode(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"data", ChecksumAlgorithm="SHA256")
    head = s3.head_object(Bucket=bucket, Key="c")
    assert "ChecksumSHA256" not in head


def test_wrong_crc32_is_bad_digest(s3, bucket):
    wrong = local_checksum("CRC32", b"other data")
    expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="c", Body=b"data", ChecksumCRC32=wrong)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="c")


def test_wrong_sha256_is_bad_digest(s3, bucket):
    wrong = local_checksum("SHA256", b"other data")
    expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="c", Body=b"data", ChecksumSHA256=wrong)


def test_wrong_content_md5_is_bad_digest(s3, bucket):
    wrong = b64(hashlib.md5(b"other data").digest())
    expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="c", Body=b"data", ContentMD5=wrong)
    # A Content-MD5 that is not the base64 of 16 bytes is InvalidDigest.
    expect_error(s3.put_object, "InvalidDigest", 400, Bucket=bucket, Key="c", Body=b"data", ContentMD5="bm90LW1kNQ==")
    right = b64(hashlib.md5(b"data").digest())
    s3.put_object(Bucket=bucket, Key="c", Body=b"data", ContentMD5=right)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"data"


class _FixedPayloadSigV4(S3SigV4Auth):
    """SigV4 for S3 with a given x-amz-content-sha256 (botocore would hash the body itself)."""

    def __init__(self, payload_hash):
        super().__init__(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


def _signed_headers(method, url, headers, payload_hash):
    req = AWSRequest(method=method, url=url, headers=headers)
    _FixedPayloadSigV4(payload_hash).add_auth(req)
    return dict(req.headers.items())


def _aws_chunked_put(endpoint, bucket, key, data, trailer_value, chunk=64 * 1024):
    """PUT with an unsigned aws-chunked body and a trailing CRC32, as the SDKs send over TLS."""
    body = b""
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        body += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    body += b"0\r\n" + f"x-amz-checksum-crc32:{trailer_value}\r\n\r\n".encode()
    url = f"{endpoint}/{bucket}/{key}"
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
        "Content-Length": str(len(body)),
    }
    headers = _signed_headers("PUT", url, headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert headers["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    return requests.put(url, data=body, headers=headers, timeout=30)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _signed_chunked_put(endpoint, bucket, key, data, chunk=64 * 1024):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, chained from the seed
    signature (what the Java and .NET SDKs send over plain HTTP)."""
    url = f"{endpoint}/{bucket}/{key}"
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    sig_len = len(";chunk-signature=") + 64
    encoded_len = sum(len(f"{len(c):x}") + sig_len + 2 + len(c) + 2 for c in chunks)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "Content-Length": str(encoded_len),
    }
    headers = _signed_headers("PUT", url, headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    signing_key = _hmac(_hmac(_hmac(_hmac(("AWS4" + SECRET_KEY).encode(), amz_date[:8]), REGION), "s3"), "aws4_request")
    prev = headers["Authorization"].rsplit("Signature=", 1)[1]
    empty_hash = hashlib.sha256(b"").hexdigest()
    body = b""
    for c in chunks:
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty_hash, hashlib.sha256(c).hexdigest()]
        )
        prev = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(c):x};chunk-signature={prev}\r\n".encode() + c + b"\r\n"
    assert len(body) == encoded_len
    return requests.put(url, data=body, headers=headers, timeout=30)


def test_aws_chunked_signed_payload_upload(s3, bucket, firelocal_endpoint):
    data = rand_bytes(150 * 1024 + 7, seed=44)
    r = _signed_chunked_put(firelocal_endpoint, bucket, "signed-chunks.bin", data)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == quoted_md5(data)
    got = s3.get_object(Bucket=bucket, Key="signed-chunks.bin")
    assert got["Body"].read() == data
    assert "ContentEncoding" not in got


def test_aws_chunked_upload_with_trailing_checksum(s3, bucket, firelocal_endpoint):
    data = rand_bytes(150 * 1024 + 7, seed=42)
    crc = local_checksum("CRC32", data)
    r = _aws_chunked_put(firelocal_endpoint, bucket, "chunked.bin", data, crc)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == quoted_md5(data)
    got = s3.get_object(Bucket=bucket, Key="chunked.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ChecksumCRC32"] == crc
    # aws-chunked is a transfer detail; S3 does not store it as the object's Content-Encoding.
    assert "ContentEncoding" not in got


def test_aws_chunked_upload_with_wrong_trailing_checksum_is_bad_digest(s3, bucket, firelocal_endpoint):
    data = rand_bytes(1000, seed=43)
    r = _aws_chunked_put(firelocal_endpoint, bucket, "chunked.bin", data, local_checksum("CRC32", b"other"))
    assert r.status_code == 400, r.text
    assert "<Code>BadDigest</Code>" in r.text
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="chunked.bin")


# --------------------------------------------------------------------------------------------
# presigned URLs, virtual-hosted addressing
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3v4(firelocal_endpoint):
    """A client that presigns with SigV4 (query-string X-Amz-* parameters)."""
    return make_client(firelocal_endpoint, signature_version="s3v4")


def test_presigned_put_and_get(s3v4, bucket):
    s3 = s3v4
    data = rand_bytes(10000, seed=50)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/signed.bin"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in put_url
    r = requests.put(put_url, data=data, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == quoted_md5(data)

    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/signed.bin"}, ExpiresIn=300)
    r = requests.get(get_url, timeout=30)
    assert r.status_code == 200
    assert r.content == data
    assert s3.get_object(Bucket=bucket, Key="pre/signed.bin")["Body"].read() == data


def test_presigned_get_missing_key_is_no_such_key(s3v4, bucket):
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "missing"}, ExpiresIn=300)
    r = requests.get(url, timeout=30)
    assert r.status_code == 404
    assert "<Code>NoSuchKey</Code>" in r.text


def test_expired_presigned_url_is_access_denied(s3v4, bucket):
    s3v4.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.5)
    r = requests.get(url, timeout=30)
    assert r.status_code == 403, r.text
    assert "<Code>AccessDenied</Code>" in r.text
    assert "Request has expired" in r.text


def test_presigned_url_valid_for_more_than_a_week_is_rejected(s3v4, bucket):
    s3v4.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    r = requests.get(url, timeout=30)
    assert r.status_code == 400, r.text
    assert "<Code>AuthorizationQueryParametersError</Code>" in r.text
    week = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    assert requests.get(week, timeout=30).status_code == 200


def test_presigned_get_with_response_overrides(s3v4, bucket):
    s3v4.put_object(Bucket=bucket, Key="report.bin", Body=b"x", ContentType="application/octet-stream")
    url = s3v4.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": "report.bin",
            "ResponseContentDisposition": 'attachment; filename="report.csv"',
            "ResponseContentType": "text/csv",
        },
        ExpiresIn=300,
    )
    r = requests.get(url, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert r.headers["Content-Type"] == "text/csv"


def _signed_vhost_get(endpoint, port, bucket, path):
    host = f"{bucket}.s3.localhost:{port}"
    req = AWSRequest(method="GET", url=f"http://{host}{path}", headers={"Host": host})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    return requests.get(f"{endpoint}{path}", headers=dict(req.headers.items()), timeout=30)


def test_virtual_hosted_get(s3, bucket, firelocal_endpoint, endpoint_port):
    s3.put_object(Bucket=bucket, Key="vhost/obj.txt", Body=b"virtual hosted")
    r = _signed_vhost_get(firelocal_endpoint, endpoint_port, bucket, "/vhost/obj.txt")
    assert r.status_code == 200, r.text
    assert r.content == b"virtual hosted"
    assert r.headers["ETag"] == quoted_md5(b"virtual hosted")

    listing = _signed_vhost_get(firelocal_endpoint, endpoint_port, bucket, "/?list-type=2")
    assert listing.status_code == 200, listing.text
    assert "<Key>vhost/obj.txt</Key>" in listing.text
    assert f"<Name>{bucket}</Name>" in listing.text


# --------------------------------------------------------------------------------------------
# health and unemulated services
# --------------------------------------------------------------------------------------------


def test_firelocal_health(firelocal_endpoint):
    r = requests.get(f"{firelocal_endpoint}/_firelocal/health", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["services"]["s3"] == "running"


def test_localstack_health(firelocal_endpoint):
    r = requests.get(f"{firelocal_endpoint}/_localstack/health", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["services"]["s3"] == "running"
    assert body["edition"] == "community"
    assert body["version"]


@pytest.mark.parametrize(
    "service, call, name",
    [
        ("sqs", lambda c: c.list_queues(), "sqs"),
        ("dynamodb", lambda c: c.list_tables(), "dynamodb"),
    ],
)
def test_unemulated_service_is_501(firelocal_endpoint, service, call, name):
    client = make_client(firelocal_endpoint, service=service)
    with pytest.raises(ClientError) as ei:
        call(client)
    err = ei.value
    assert status(err) == 501, err.response
    assert code(err) == "NotImplemented", err.response
    assert name in err.response["Error"]["Message"].lower(), err.response


# --------------------------------------------------------------------------------------------
# transfer manager
# --------------------------------------------------------------------------------------------


def test_transfer_manager_round_trip_20mib(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = rand_bytes(20 * MiB, seed=60)
    src.write_bytes(data)
    cfg = TransferConfig(
        multipart_threshold=8 * MiB,
        multipart_chunksize=8 * MiB,
        max_concurrency=4,
        preferred_transfer_client="classic",
    )
    s3.upload_file(str(src), bucket, "transfer/big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="transfer/big.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"] == multipart_etag([data[:8 * MiB], data[8 * MiB:16 * MiB], data[16 * MiB:]])
    # boto3 sends a CRC32 with every part; S3 combines them as the upload's checksum type says.
    head = s3.head_object(Bucket=bucket, Key="transfer/big.bin", ChecksumMode="ENABLED")
    if head["ChecksumType"] == "FULL_OBJECT":
        assert head["ChecksumCRC32"] == local_checksum("CRC32", data)
    else:
        assert head["ChecksumType"] == "COMPOSITE"
        chunks = [data[:8 * MiB], data[8 * MiB:16 * MiB], data[16 * MiB:]]
        assert head["ChecksumCRC32"] == composite_checksum("CRC32", chunks)
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "transfer/big.bin", str(dst), Config=cfg)
    assert dst.stat().st_size == 20 * MiB
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_bucket_policy_put_get_delete(s3, bucket):
    import json as _json

    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=_json.dumps(doc))
    assert _json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == doc
    for bad, why in [("{", "valid JSON"), (_json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}), "Principal"),
                     (_json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}), "invalid resource"),
                     (_json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ec2:RunInstances", "Resource": f"arn:aws:s3:::{bucket}"}]}), "invalid action")]:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=bad)
        assert e.value.response["Error"]["Code"] == "MalformedPolicy" and why in e.value.response["Error"]["Message"], bad
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)
