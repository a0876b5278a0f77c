"""A real browser (headless Chromium) on one origin POSTs a click event to the seed's API on
another origin: the CORS preflight (OPTIONS, a MOCK integration) and the POST (an AWS
integration into Firehose) must both carry the Access-Control-* headers, or the browser blocks
the call. The event must then be in S3."""

import json
import re
import uuid

import pytest
import requests

from conftest import CHROMIUM, chromium_dom, static_site


PAGE = """<!doctype html>
<html><body><script>
fetch(%(url)s, {method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({element_clicked: 'buy-button', page: '/products/1'})})
  .then(r => r.json().then(j => document.body.setAttribute('data-result', r.status + ' ' + JSON.stringify(j))))
  .catch(e => document.body.setAttribute('data-error', String(e)));
</script></body></html>
"""


def _cors_api(client, stream):
    gw = client("apigateway")
    api = gw.create_rest_api(name=f"cors-{uuid.uuid4().hex[:6]}")
    api_id = api["id"]
    res = gw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="clickstream")
    rid = res["id"]
    allow = {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'POST,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type'",
    }
    # Preflight: MOCK.
    gw.put_method(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", authorizationType="NONE")
    gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", statusCode="200",
                           responseParameters={k: False for k in allow})
    gw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="OPTIONS", statusCode="200",
                                responseParameters=allow)
    # The event: AWS integration into Firehose, with the allow-origin header on the answer.
    gw.put_method(restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE")
    gw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod="POST", type="AWS", integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:firehose:action/PutRecord",
        requestTemplates={"application/json": '{"DeliveryStreamName": "%s", "Record": {"Data": "$util.base64Encode($input.body)"}}' % stream},
    )
    gw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200",
                           responseParameters={"method.response.header.Access-Control-Allow-Origin": False})
    gw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="POST", statusCode="200", selectionPattern="",
                                responseParameters={"method.response.header.Access-Control-Allow-Origin": "'*'"})
    gw.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs it when run as root)")
def test_browser_posts_across_origins_through_cors(firelocal_endpoint, s3, bucket, tmp_path):
    from conftest import make_client

    endpoint = firelocal_endpoint

    def client(name):
        return make_client(endpoint, name)

    stream = f"browser-{uuid.uuid4().hex[:8]}"
    client("firehose").create_delivery_stream(
        DeliveryStreamName=stream,
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::000000000000:role/fh", "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "events/"},
    )
    api_id = _cors_api(client, stream)
    url = f"{endpoint}/restapis/{api_id}/prod/_user_request_/clickstream"

    # The page is served from another origin (another port).
    (tmp_path / "page.html").write_text(PAGE % {"url": json.dumps(url)})
    with static_site(tmp_path) as site:
        dom, log = chromium_dom(f"{site}/page.html", tmp_path / "profile")
    body_tag = re.search(r"<body[^>]*>", dom)
    assert body_tag, (dom, log[-2000:])
    body_tag = body_tag.group(0)
    assert "data-error" not in body_tag, body_tag
    assert 'data-result="200 ' in body_tag, (body_tag, log[-2000:])
    assert "RecordId" in body_tag
    requests.post(f"{endpoint}/_firelocal/firehose/flush").raise_for_status()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="events/").get("Contents", [])]
    assert len(keys) == 1
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert json.loads(body) == {"element_clicked": "buy-button", "page": "/products/1"}
