// A small CDK app (a bucket, a transform function and a Firehose stream into the bucket),
// synthesised offline by compat-tests/test_cdk.py and deployed unchanged to firelocal.
const cdk = require("aws-cdk-lib");
const s3 = require("aws-cdk-lib/aws-s3");
const lambda = require("aws-cdk-lib/aws-lambda");
const firehose = require("aws-cdk-lib/aws-kinesisfirehose");

class ClicksStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const bucket = new s3.Bucket(this, "Clicks", { removalPolicy: cdk.RemovalPolicy.DESTROY });
    const transform = new lambda.Function(this, "Transform", {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: "index.handler",
      code: lambda.Code.fromInline([
        "import base64",
        "def handler(event, context):",
        "    out = []",
        "    for r in event['records']:",
        "        line = base64.b64decode(r['data']).decode().rstrip('\\n') + '\\n'",
        "        out.append({'recordId': r['recordId'], 'result': 'Ok', 'data': base64.b64encode(line.encode()).decode()})",
        "    return {'records': out}",
      ].join("\n")),
      timeout: cdk.Duration.seconds(30),
    });
    const stream = new firehose.DeliveryStream(this, "Stream", {
      destination: new firehose.S3Bucket(bucket, {
        dataOutputPrefix: "clicks/",
        errorOutputPrefix: "errors/",
        processor: new firehose.LambdaFunctionProcessor(transform),
        bufferingInterval: cdk.Duration.seconds(60),
        loggingConfig: new firehose.DisableLogging(),
      }),
    });
    new cdk.CfnOutput(this, "BucketName", { value: bucket.bucketName });
    new cdk.CfnOutput(this, "StreamName", { value: stream.deliveryStreamName });
    new cdk.CfnOutput(this, "FunctionName", { value: transform.functionName });
  }
}

const app = new cdk.App();
new ClicksStack(app, "CdkClicks", {
  // No bootstrap stack locally: skip the SSM-backed bootstrap version check.
  synthesizer: new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
});
