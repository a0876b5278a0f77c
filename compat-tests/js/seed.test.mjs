// The seed's flow with the AWS SDK for JavaScript v3 against firelocal (FIRELOCAL_ENDPOINT):
// CloudFormation deploys fixtures/clickstream.yaml, clicks go through the REST API and straight
// into Firehose, the objects land in S3 transformed, and Athena counts them. The SDK sends what
// boto3 does not: flexible checksums on S3 uploads (aws-chunked with a CRC32 trailer), its own
// user agent and endpoint rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, waitUntilStackCreateComplete } from "@aws-sdk/client-cloudformation";
import { FirehoseClient, PutRecordBatchCommand, DescribeDeliveryStreamCommand } from "@aws-sdk/client-firehose";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, HeadObjectCommand } from "@aws-sdk/client-s3";
import { AthenaClient, StartQueryExecutionCommand, GetQueryExecutionCommand, GetQueryResultsCommand } from "@aws-sdk/client-athena";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

const endpoint = process.env.FIRELOCAL_ENDPOINT;
const config = { endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 };
const template = readFileSync(new URL("../../fixtures/clickstream.yaml", import.meta.url), "utf8");
const suffix = Math.random().toString(36).slice(2, 8);

async function flush(stream) {
  const r = await fetch(`${endpoint}/_firelocal/firehose/flush?stream=${encodeURIComponent(stream)}`, { method: "POST" });
  assert.equal(r.status, 200);
  return (await r.json()).streams[stream];
}

async function athenaRows(athena, sql, database, workGroup) {
  const { QueryExecutionId } = await athena.send(new StartQueryExecutionCommand({ QueryString: sql, QueryExecutionContext: { Database: database }, WorkGroup: workGroup }));
  for (let i = 0; i < 400; i++) {
    const q = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = q.QueryExecution.Status.State;
    if (state === "SUCCEEDED") {
      const r = await athena.send(new GetQueryResultsCommand({ QueryExecutionId }));
      return r.ResultSet.Rows.slice(1).map((row) => row.Data.map((d) => d.VarCharValue));
    }
    assert.notEqual(state, "FAILED", JSON.stringify(q.QueryExecution.Status));
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error("Athena did not finish");
}

test("STS names the caller", async () => {
  const id = await new STSClient(config).send(new GetCallerIdentityCommand({}));
  assert.equal(id.Arn, "arn:aws:iam::000000000000:root");
});

test("S3 uploads with the SDK's default checksums round-trip", async () => {
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const Bucket = `js-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  const body = JSON.stringify({ hello: "js" }) + "\n";
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: "a/b.json", Body: body, ContentType: "application/json" }));
  assert.ok(put.ETag);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "a/b.json", ChecksumMode: "ENABLED" }));
  assert.equal(head.ContentLength, body.length);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "a/b.json" }));
  assert.equal(await got.Body.transformToString(), body);
  assert.equal(got.ContentType, "application/json");
});

test("a browser form upload with createPresignedPost", async () => {
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const Bucket = `js-post-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  const { url, fields } = await createPresignedPost(s3, {
    Bucket,
    Key: "uploads/${filename}",
    Conditions: [["content-length-range", 1, 1024], ["starts-with", "$key", "uploads/"], { "Content-Type": "application/json" }],
    Fields: { "Content-Type": "application/json", success_action_status: "201" },
    Expires: 60,
  });
  assert.ok(fields["X-Amz-Signature"] || fields["x-amz-signature"], JSON.stringify(fields));
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob(['{"element_clicked":"js"}'], { type: "application/json" }), "click.json");
  const r = await fetch(url, { method: "POST", body: form });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  assert.match(text, /<Key>uploads\/click.json<\/Key>/);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "uploads/click.json" }));
  assert.equal(await got.Body.transformToString(), '{"element_clicked":"js"}');
  assert.equal(got.ContentType, "application/json");
  // Too large for the policy: S3's error, nothing stored.
  const big = new FormData();
  for (const [k, v] of Object.entries(fields)) big.append(k, v);
  big.append("file", new Blob(["x".repeat(2000)]), "big.json");
  const refused = await fetch(url, { method: "POST", body: big });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /<Code>EntityTooLarge<\/Code>/);
});

test("the seed's pipeline, deployed and driven with the JS SDK", async () => {
  const cfn = new CloudFormationClient(config);
  const StackName = `js-seed-${suffix}`;
  // Env=test is taken by the CLI test's stack; this stack's own names carry its StackName.
  await cfn.send(new CreateStackCommand({ StackName, TemplateBody: template.replaceAll("clickstream-${Env}-${AWS::AccountId}", `js-${suffix}-\${Env}`).replaceAll("clickstream_${Env}", `js_${suffix}_\${Env}`), Capabilities: ["CAPABILITY_NAMED_IAM"] }));
  await waitUntilStackCreateComplete({ client: cfn, maxWaitTime: 30, minDelay: 1 }, { StackName });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName }))).Stacks[0];
  assert.equal(stack.StackStatus, "CREATE_COMPLETE");
  const out = Object.fromEntries(stack.Outputs.map((o) => [o.OutputKey, o.OutputValue]));

  for (const element of ["menu", "menu", "search"]) {
    const r = await fetch(endpoint + out.LocalInvokePath, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ element_clicked: element, time_spent: 2 }) });
    assert.equal(r.status, 200);
  }
  const firehose = new FirehoseClient(config);
  // A new stream is CREATING for a moment, as on AWS; wait for ACTIVE as a client would.
  let status;
  for (let i = 0; i < 100 && status !== "ACTIVE"; i++) {
    status = (await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: out.StreamName }))).DeliveryStreamDescription.DeliveryStreamStatus;
    if (status !== "ACTIVE") await new Promise((ok) => setTimeout(ok, 50));
  }
  assert.equal(status, "ACTIVE");
  const batch = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: out.StreamName, Records: [{ Data: new TextEncoder().encode(JSON.stringify({ element_clicked: "cart", time_spent: 5 })) }] }));
  assert.equal(batch.FailedPutCount, 0);
  const report = await flush(out.StreamName);
  assert.equal(report.pending_records, 0);

  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: out.BucketName, Prefix: "clickstream/year=" }));
  assert.equal(listed.KeyCount, 1);
  const object = await s3.send(new GetObjectCommand({ Bucket: out.BucketName, Key: listed.Contents[0].Key }));
  const lines = (await object.Body.transformToString()).trim().split("\n").map((l) => JSON.parse(l).element_clicked);
  assert.deepEqual(lines.sort(), ["cart", "menu", "menu", "search"]);

  const athena = new AthenaClient(config);
  await athenaRows(athena, "MSCK REPAIR TABLE clickstream", out.DatabaseName, out.WorkGroup);
  const rows = await athenaRows(athena, "SELECT element_clicked, count(*) FROM clickstream GROUP BY element_clicked ORDER BY 2 DESC, 1", out.DatabaseName, out.WorkGroup);
  assert.deepEqual(rows, [["menu", "2"], ["cart", "1"], ["search", "1"]]);
});
