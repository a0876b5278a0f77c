"""A boto3 loop against a running firelocal: PutObject and GetObject of 1 KiB, one at a time.

The client's own cost dominates; this shows firelocal's cost per call vanishing beside it.
Usage: python benches/boto3_s3_loop.py http://127.0.0.1:4566 [count]
"""

import sys
import time

import boto3
from botocore.config import Config

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(s3={"addressing_style": "path"}),
)
try:
    s3.create_bucket(Bucket="boto-loop")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
body = b"x" * 1024
for _ in range(50):
    s3.put_object(Bucket="boto-loop", Key="warm", Body=body)
t = time.perf_counter()
for i in range(n):
    s3.put_object(Bucket="boto-loop", Key=f"k{i % 100}", Body=body)
print(f"boto3 PutObject 1 KiB: {n / (time.perf_counter() - t):.0f}/s")
t = time.perf_counter()
for i in range(n):
    s3.get_object(Bucket="boto-loop", Key=f"k{i % 100}")["Body"].read()
print(f"boto3 GetObject 1 KiB: {n / (time.perf_counter() - t):.0f}/s")
