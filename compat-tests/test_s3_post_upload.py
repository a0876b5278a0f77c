"""Browser form uploads (S3 POST Object, issue #13): boto3's `generate_presigned_post` fields
sent with `requests` and from headless Chromium on another origin; the policy's conditions,
expiry and signature checked as S3 checks them, and the success_action_* answers."""

import base64
import hashlib
import hmac
import json
import re
import time

import pytest
import requests

from conftest import CHROMIUM, chromium_dom, make_client, serve, static_site



def post(url, fields, content=b"hello", filename="hello.txt"):
    return requests.post(url, data=fields, files={"file": (filename, content, "text/plain")}, timeout=10)


def error_code(r):
    m = re.search(r"<Code>([^<]+)</Code>", r.text)
    return m.group(1) if m else None


def test_presigned_post_round_trip_and_answers(s3, bucket):
    p = s3.generate_presigned_post(bucket, "uploads/${filename}", Fields={"success_action_status": "201"}, Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 1024]])
    r = post(p["url"], p["fields"], b"hello world", "notes.txt")
    assert r.status_code == 201, r.text
    assert "<Key>uploads/notes.txt</Key>" in r.text and f"<Bucket>{bucket}</Bucket>" in r.text
    got = s3.get_object(Bucket=bucket, Key="uploads/notes.txt")
    assert got["Body"].read() == b"hello world"
    assert r.headers["ETag"] == got["ETag"]
    # The default answer is 204; success_action_redirect answers 303 to the page.
    p = s3.generate_presigned_post(bucket, "plain.txt")
    r = post(p["url"], p["fields"])
    assert r.status_code == 204 and r.headers["ETag"].strip('"') == hashlib.md5(b"hello").hexdigest()
    p = s3.generate_presigned_post(bucket, "back.txt", Fields={"success_action_redirect": "http://app.local/done"}, Conditions=[{"success_action_redirect": "http://app.local/done"}])
    r = requests.post(p["url"], data=p["fields"], files={"file": ("b.txt", b"x")}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith(f"http://app.local/done?bucket={bucket}&key=back.txt&etag=")
    # Metadata, content type and tags from the form.
    fields = {"Content-Type": "application/json", "x-amz-meta-source": "browser", "tagging": "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"}
    conditions = [{"Content-Type": "application/json"}, {"x-amz-meta-source": "browser"}, {"tagging": fields["tagging"]}]
    p = s3.generate_presigned_post(bucket, "meta.json", Fields=fields, Conditions=conditions)
    assert post(p["url"], p["fields"], b"{}").status_code == 204
    head = s3.head_object(Bucket=bucket, Key="meta.json")
    assert head["ContentType"] == "application/json" and head["Metadata"] == {"source": "browser"}
    assert s3.get_object_tagging(Bucket=bucket, Key="meta.json")["TagSet"] == [{"Key": "k", "Value": "v"}]
    # As on S3, the file part's own type is not the object's: only the Content-Type field is.
    assert s3.head_object(Bucket=bucket, Key="plain.txt")["ContentType"] == "binary/octet-stream"


def test_policy_violations_are_refused_as_s3_refuses_them(s3, bucket):
    p = s3.generate_presigned_post(bucket, "uploads/${filename}", Conditions=[["content-length-range", 2, 10], ["starts-with", "$key", "uploads/"]])
    r = post(p["url"], p["fields"], b"x" * 11)
    assert r.status_code == 400 and error_code(r) == "EntityTooLarge" and "<MaxSizeAllowed>10</MaxSizeAllowed>" in r.text
    r = post(p["url"], p["fields"], b"x")
    assert r.status_code == 400 and error_code(r) == "EntityTooSmall"
    r = post(p["url"], {**p["fields"], "key": "elsewhere/x"})
    assert r.status_code == 403 and error_code(r) == "AccessDenied" and "starts-with" in r.text
    r = post(p["url"], {**p["fields"], "x-amz-meta-extra": "1"})
    assert r.status_code == 403 and "Extra input fields: x-amz-meta-extra" in r.text
    expired = s3.generate_presigned_post(bucket, "late.txt", ExpiresIn=-10)
    r = post(expired["url"], expired["fields"])
    assert r.status_code == 403 and "Policy expired" in r.text
    other = s3.generate_presigned_post(bucket, "b.txt")
    r = post(p["url"].replace(bucket, "no-such-post-bucket"), other["fields"])
    assert r.status_code == 404 and error_code(r) == "NoSuchBucket"
    r = requests.post(p["url"], data=p["fields"], timeout=10)
    assert r.status_code == 412 and error_code(r) == "PreconditionFailed" and "multipart/form-data" in r.text
    r = requests.post(p["url"], data=p["fields"], files={"other": ("x", b"x")}, timeout=10)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument" and "file" in r.text
    r = requests.post(p["url"], data=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=x"}, timeout=10)
    assert r.status_code == 400 and error_code(r) == "MalformedPOSTRequest"
    assert not s3.list_objects_v2(Bucket=bucket).get("Contents")


def test_signatures_are_checked_with_verify_signatures(tmp_path_factory):
    with serve(tmp_path_factory, "--verify-signatures") as endpoint:
        s3 = make_client(endpoint, signature_version="s3v4")
        s3.create_bucket(Bucket="signed-posts")
        p = s3.generate_presigned_post("signed-posts", "ok.txt")
        assert "x-amz-signature" in p["fields"] and "x-amz-credential" in p["fields"]
        assert post(p["url"], p["fields"]).status_code == 204
        bad = {**p["fields"], "x-amz-signature": "0" * 64}
        r = post(p["url"], bad)
        assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
        # The older SigV2 form, signed by hand as old SDKs sign it.
        policy = base64.b64encode(json.dumps({"expiration": "2100-01-01T00:00:00Z", "conditions": [{"bucket": "signed-posts"}, {"key": "v2.txt"}]}).encode()).decode()
        signature = base64.b64encode(hmac.new(b"test", policy.encode(), hashlib.sha1).digest()).decode()
        fields = {"key": "v2.txt", "AWSAccessKeyId": "test", "policy": policy, "signature": signature}
        assert post(f"{endpoint}/signed-posts", fields).status_code == 204
        r = post(f"{endpoint}/signed-posts", {**fields, "AWSAccessKeyId": "nobody"})
        assert r.status_code == 403 and error_code(r) == "InvalidAccessKeyId"
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="signed-posts")["Contents"]) == ["ok.txt", "v2.txt"]


PAGE = """<!doctype html>
<html><body><script>
const post = %(post)s;
const form = new FormData();
for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
form.append('file', new Blob(['{"element_clicked": "upload"}'], {type: 'application/json'}), 'click.json');
fetch(post.url, {method: 'POST', body: form})
  .then(r => r.text().then(t => document.body.setAttribute('data-result', r.status + ' ' + t)))
  .catch(e => document.body.setAttribute('data-error', String(e)));
</script></body></html>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs it when run as root)")
def test_browser_form_upload_across_origins(s3, bucket, tmp_path):
    # Without a CORS rule the browser refuses to read the answer; with one, it uploads.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["http://127.0.0.1:*"], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}]})
    fields = {"success_action_status": "201", "Content-Type": "application/json"}
    p = s3.generate_presigned_post(bucket, "browser/${filename}", Fields=fields, Conditions=[{k: v} for k, v in fields.items()])
    (tmp_path / "page.html").write_text(PAGE % {"post": json.dumps(p)})
    with static_site(tmp_path) as site:
        dom, log = chromium_dom(f"{site}/page.html", tmp_path / "profile")
    body_tag = re.search(r"<body[^>]*>", dom)
    assert body_tag, (dom, log[-2000:])
    assert 'data-result="201 ' in body_tag.group(0), (body_tag.group(0), log[-2000:])
    deadline = time.time() + 5
    while time.time() < deadline and not s3.list_objects_v2(Bucket=bucket, Prefix="browser/").get("Contents"):
        time.sleep(0.1)
    got = s3.get_object(Bucket=bucket, Key="browser/click.json")
    assert json.loads(got["Body"].read()) == {"element_clicked": "upload"}
    assert got["ContentType"] == "application/json"
