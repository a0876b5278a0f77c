"""Builds the seed clickstream API (API Gateway -> Firehose PutRecord -> S3) on a running
firelocal and prints the invoke URL, for a load generator such as wrk.

Usage: python benches/apigateway_seed.py http://127.0.0.1:4700
"""

import sys

import boto3

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
s3, fh, gw = boto3.client("s3", **kw), boto3.client("firehose", **kw), boto3.client("apigateway", **kw)
s3.create_bucket(Bucket="clicks")
fh.create_delivery_stream(
    DeliveryStreamName="clickstream",
    ExtendedS3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::000000000000:role/firehose",
        "BucketARN": "arn:aws:s3:::clicks",
        "Prefix": "clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
        "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
    },
)
api = gw.create_rest_api(name="clickstream-api")
res = gw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="clickstream")
gw.put_method(restApiId=api["id"], resourceId=res["id"], httpMethod="POST", authorizationType="NONE")
gw.put_integration(
    restApiId=api["id"], resourceId=res["id"], httpMethod="POST", type="AWS", integrationHttpMethod="POST",
    uri="arn:aws:apigateway:us-east-1:firehose:action/PutRecord",
    requestTemplates={"application/json": '{"DeliveryStreamName": "clickstream", "Record": {"Data": "$util.base64Encode($input.body)"}}'},
)
gw.put_method_response(restApiId=api["id"], resourceId=res["id"], httpMethod="POST", statusCode="200")
gw.put_integration_response(restApiId=api["id"], resourceId=res["id"], httpMethod="POST", statusCode="200", selectionPattern="")
gw.create_deployment(restApiId=api["id"], stageName="prod")
print(f"{endpoint}/restapis/{api['id']}/prod/_user_request_/clickstream")
