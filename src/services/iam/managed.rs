//! The AWS managed policies pipeline tutorials attach, available by ARN
//! (`arn:aws:iam::aws:policy/...`) with their documents.

/// (name, path, document)
pub const MANAGED: &[(&str, &str, &str)] = &[
    (
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "AWSLambdaRole",
        "/service-role/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    ),
    (
        "AmazonS3FullAccess",
        "/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        "/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonKinesisFirehoseFullAccess",
        "/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["firehose:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonAPIGatewayPushToCloudWatchLogs",
        "/service-role/",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:PutLogEvents","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonAthenaFullAccess",
        "/",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"BaseAthenaPermissions","Effect":"Allow","Action":["athena:*"],"Resource":["*"]},{"Sid":"BaseGluePermissions","Effect":"Allow","Action":["glue:CreateDatabase","glue:DeleteDatabase","glue:GetDatabase","glue:GetDatabases","glue:UpdateDatabase","glue:CreateTable","glue:DeleteTable","glue:BatchDeleteTable","glue:UpdateTable","glue:GetTable","glue:GetTables","glue:BatchCreatePartition","glue:CreatePartition","glue:DeletePartition","glue:BatchDeletePartition","glue:UpdatePartition","glue:GetPartition","glue:GetPartitions","glue:BatchGetPartition","glue:StartColumnStatisticsTaskRun","glue:GetColumnStatisticsTaskRun","glue:GetColumnStatisticsTaskRuns","glue:GetCatalogImportStatus"],"Resource":["*"]},{"Sid":"BaseQueryResultsPermissions","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetObject","s3:ListBucket","s3:ListBucketMultipartUploads","s3:ListMultipartUploadParts","s3:AbortMultipartUpload","s3:CreateBucket","s3:PutObject","s3:PutBucketPublicAccessBlock"],"Resource":["arn:aws:s3:::aws-athena-query-results-*"]},{"Sid":"BaseAthenaExamplesPermissions","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::athena-examples*"]},{"Sid":"BaseS3BucketPermissions","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation","s3:ListAllMyBuckets"],"Resource":["*"]},{"Sid":"BaseSNSPermissions","Effect":"Allow","Action":["sns:ListTopics","sns:GetTopicAttributes"],"Resource":["*"]},{"Sid":"BaseCloudWatchPermissions","Effect":"Allow","Action":["cloudwatch:PutMetricAlarm","cloudwatch:DescribeAlarms","cloudwatch:DeleteAlarms","cloudwatch:GetMetricData"],"Resource":["*"]},{"Sid":"BaseLakeFormationPermissions","Effect":"Allow","Action":["lakeformation:GetDataAccess"],"Resource":["*"]},{"Sid":"BaseDataZonePermissions","Effect":"Allow","Action":["datazone:ListDomains","datazone:ListProjects","datazone:ListAccountEnvironments"],"Resource":["*"]},{"Sid":"BasePricingPermissions","Effect":"Allow","Action":["pricing:GetProducts"],"Resource":["*"]}]}"#,
    ),
];
