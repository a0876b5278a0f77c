#!/usr/bin/env python3
"""Writes the fuzz seed corpora, fuzz/corpus/<target>/seed-*, from the test fixtures.

Sources: fixtures/bad-input/cases.json (requests by protocol), fixtures/recordings/*.jsonl
(real SDK traffic), fixtures/vtl/cases.json, fixtures/*.yaml (CloudFormation), SQL and jq
strings found in the Rust and Python tests, and a few hand-written inputs for shapes no fixture
has. The request-shaped targets read `METHOD TARGET`, header lines, an empty line, the body
(see src/fuzzing.rs). Standard library only; run from anywhere.
"""

import base64
import glob
import hashlib
import json
import os
import re
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

JSON_TARGETS = {"firehose": "Firehose_20150804", "glue": "AWSGlue", "logs": "Logs_20140328", "athena": "AmazonAthena"}
AUTH = "AWS4-HMAC-SHA256 Credential=test/20240102/us-east-1/{}/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
# Keep in step with rest_xml in src/fuzzing.rs: the selector byte picks one of these.
XML_TARGETS = [f"PUT /fuzz?{k}" for k in ["cors", "lifecycle", "tagging", "encryption", "publicAccessBlock", "ownershipControls", "website", "accelerate", "requestPayment", "logging", "versioning"]] + [
    "PUT /fuzz?notification", "PUT /fuzz?acl", "PUT /fuzz?policy", "POST /fuzz?delete", "PUT /fuzz/key?tagging", "PUT /fuzz/key?acl", "PUT /other",
    "POST /fuzz/key?uploadId=fuzz", "POST /fuzz/key?restore",
]

corpora = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    corpora.setdefault(target, set()).add(data)


def http(method, path, headers, body=b""):
    if isinstance(body, str):
        body = body.encode()
    head = f"{method} {path}\n" + "".join(f"{k}: {v}\n" for k, v in headers.items())
    return head.encode() + b"\n" + body


def load(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return json.load(f)


def texts(pattern):
    for p in glob.glob(os.path.join(ROOT, pattern), recursive=True):
        if "/.venv/" in p or "/node_modules/" in p or "/target/" in p:
            continue
        with open(p, encoding="utf-8", errors="replace") as f:
            yield p, f.read()


def bad_input():
    for row in load("fixtures/bad-input/cases.json"):
        svc = row["service"]
        headers = dict(row.get("headers", {}))
        body = row.get("body", "")
        if "json" in row:
            body = json.dumps(row["json"])
        if svc in JSON_TARGETS and "op" in row:
            headers.setdefault("x-amz-target", f"{JSON_TARGETS[svc]}.{row['op']}")
            headers.setdefault("content-type", "application/x-amz-json-1.1")
            add("aws_json", http("POST", "/", headers, body))
            if svc == "firehose":
                for key in ("ExtendedS3DestinationConfiguration",):
                    prefix = (row.get("json") or {}).get(key, {}).get("Prefix")
                    if prefix:
                        add("jq", "{k: .customer_id}\n" + json.dumps({"customer_id": prefix}))
            if svc == "athena" and "QueryString" in (row.get("json") or {}):
                add("athena_sql", row["json"]["QueryString"])
        elif "form" in row:
            form = urllib.parse.urlencode(row["form"])
            headers = {"host": "localhost", "content-type": "application/x-www-form-urlencoded", "authorization": AUTH.format(svc), "x-amz-date": "20240102T030405Z"}
            add("aws_query", http("POST", "/", headers, form))
            if "TemplateBody" in row["form"]:
                add("cfn_template", row["form"]["TemplateBody"])
        elif svc == "s3":
            path = row.get("path", "/")
            headers.setdefault("host", "localhost")
            req = http(row.get("method", "GET"), path, headers, body)
            add("s3_request", req)
            add("sigv4_auth", req)
            ct = headers.get("content-type", "")
            if ct.startswith("multipart/form-data"):
                add("form_post", ct.encode() + b"\n" + body.encode())
            if "aws-chunked" in headers.get("content-encoding", "") or headers.get("x-amz-content-sha256", "").startswith("STREAMING"):
                add("aws_chunked", body)
            if body.lstrip().startswith("<"):
                query = path.split("?", 1)[1].split("&")[0].split("=")[0] if "?" in path else ""
                matches = [i for i, t in enumerate(XML_TARGETS) if t.split("?", 1)[-1].split("=")[0] == query]
                for i in matches or [0, len(XML_TARGETS) - 3]:
                    add("rest_xml", bytes([i]) + body.encode())
        elif svc == "quicksight" and "json" in row:
            add("quicksight_definition", body)


def recordings():
    for path, text in texts("fixtures/recordings/*.jsonl"):
        for line in text.splitlines():
            if not line.strip():
                continue
            ex = json.loads(line)
            r = ex["request"]
            headers = {k: v for k, v in r.get("headers", {}).items()}
            signing = r.get("signing") or {}
            if headers.get("authorization") == "REDACTED":
                headers["authorization"] = AUTH.format(signing.get("service", ex.get("service", "s3")))
                headers.setdefault("x-amz-date", "20240102T030405Z")
            headers.setdefault("host", "localhost")
            query = "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}" if v else urllib.parse.quote(k, safe='') for k, v in r.get("query", []))
            target = r["path"] + (f"?{query}" if query else "")
            body = r.get("body", "")
            req = http(r["method"], target, headers, body)
            svc = ex.get("service", "")
            if "x-amz-target" in headers:
                add("aws_json", req)
            elif svc in ("iam", "sts", "cloudformation"):
                add("aws_query", req)
                form = dict(urllib.parse.parse_qsl(body))
                if "TemplateBody" in form:
                    add("cfn_template", form["TemplateBody"])
            elif svc == "s3":
                add("s3_request", req)
            elif svc == "quicksight" and body.startswith("{"):
                add("quicksight_definition", body)
            if svc in ("s3", "iam", "sts", "firehose"):
                add("sigv4_auth", req)


def vtl():
    for case in load("fixtures/vtl/cases.json")["cases"]:
        add("vtl", case["template"])


def sql():
    quoted = re.compile(r'"((?:SELECT|WITH|VALUES|CREATE|SHOW|DESCRIBE|DROP|ALTER|MSCK|INSERT|EXPLAIN)\b(?:[^"\\]|\\.)*)"', re.I)
    for pattern in ("crates/sql/**/*.rs", "tests/it/athena.rs", "src/services/athena/*.rs", "compat-tests/test_athena*.py", "compat-tests/test_quicksight*.py"):
        for _, text in texts(pattern):
            for m in quoted.finditer(text):
                s = m.group(1).replace('\\"', '"').replace("\\n", "\n")
                if "{" not in s or "}" not in s:
                    add("athena_sql", s)
    for expr in ["dt >= '2023-11-16' AND region IN ('eu', 'us')", "dt = '2024-01-02'", "dt BETWEEN '2024-01-01' AND '2024-12-31' OR dt IS NULL"]:
        add("athena_sql", expr)


def cfn():
    for _, text in texts("fixtures/*.yaml"):
        add("cfn_template", text)
    for _, text in texts("compat-tests/**/*.yaml"):
        if "Resources" in text:
            add("cfn_template", text)
    for _, text in texts("compat-tests/**/*.template.json"):
        add("cfn_template", text)
    add("cfn_template", json.dumps({
        "Parameters": {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]}, "N": {"Type": "Number", "Default": 3}},
        "Mappings": {"M": {"dev": {"v": "a"}}},
        "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}, "Not": {"Fn::Not": [{"Condition": "IsDev"}]}},
        "Resources": {"B": {"Type": "AWS::S3::Bucket", "Condition": "IsDev", "Properties": {
            "BucketName": {"Fn::Join": ["-", [{"Fn::Sub": "${AWS::StackName}-${Env}"}, {"Fn::FindInMap": ["M", {"Ref": "Env"}, "v"]}]]},
            "Tags": [{"Key": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "Value": {"Fn::If": ["IsDev", {"Fn::Base64": "x"}, {"Ref": "AWS::NoValue"}]}}]}}},
        "Outputs": {"O": {"Value": {"Fn::GetAZs": ""}}, "P": {"Value": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}}},
    }))


def quicksight():
    field = lambda ds, col: {"DataSetIdentifier": ds, "ColumnName": col}
    pie = {"PieChartVisual": {"VisualId": "v1", "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {
        "Category": [{"CategoricalDimensionField": {"FieldId": "e", "Column": field("clicks", "element_clicked")}}],
        "Values": [{"NumericalMeasureField": {"FieldId": "t", "Column": field("clicks", "time_spent"), "AggregationFunction": {"SimpleNumericalAggregation": "SUM"}}}]}}}}}
    bar = {"BarChartVisual": {"VisualId": "v2", "ChartConfiguration": {"FieldWells": {"BarChartAggregatedFieldWells": {
        "Category": [{"DateDimensionField": {"FieldId": "d", "Column": field("clicks", "ts"), "DateGranularity": "DAY"}}],
        "Values": [{"CategoricalMeasureField": {"FieldId": "c", "Column": field("clicks", "element_clicked"), "AggregationFunction": "COUNT"}}]}},
        "SortConfiguration": {"CategorySort": [{"FieldSort": {"FieldId": "d", "Direction": "DESC"}}]}}}}
    table = {"TableVisual": {"VisualId": "v3", "ChartConfiguration": {"FieldWells": {"TableUnaggregatedFieldWells": {"Values": [{"FieldId": "p", "Column": field("clicks", "price")}]}}}}}
    kpi = {"KPIVisual": {"VisualId": "v4", "ChartConfiguration": {"FieldWells": {"Values": [{"NumericalMeasureField": {"FieldId": "m", "Column": field("clicks", "price"), "AggregationFunction": {"SimpleNumericalAggregation": "AVERAGE"}}}]}}}}
    line = {"LineChartVisual": {"VisualId": "v5", "ChartConfiguration": {"FieldWells": {"LineChartAggregatedFieldWells": {
        "Category": [{"DateDimensionField": {"FieldId": "d", "Column": field("clicks", "ts"), "DateGranularity": "MONTH"}}],
        "Values": [{"NumericalMeasureField": {"FieldId": "x", "Column": field("clicks", "time_spent"), "AggregationFunction": {"SimpleNumericalAggregation": "MAX"}}}]}}}}}
    definition = {"DataSetIdentifierDeclarations": [{"Identifier": "clicks", "DataSetArn": "arn:aws:quicksight:us-east-1:000000000000:dataset/clicks"}],
                  "Sheets": [{"SheetId": "s1", "Visuals": [pie, bar, table, kpi, line]}],
                  "FilterGroups": [{"FilterGroupId": "f", "Filters": [{"CategoryFilter": {"FilterId": "c", "Column": field("clicks", "element_clicked"),
                                    "Configuration": {"FilterListConfiguration": {"MatchOperator": "CONTAINS", "CategoryValues": ["buy"]}}}}],
                                    "ScopeConfiguration": {"SelectedSheets": {"SheetVisualScopingConfigurations": [{"SheetId": "s1", "Scope": "ALL_VISUALS"}]}}}]}
    add("quicksight_definition", json.dumps({"Definition": definition}))
    for v in (pie, bar, table, kpi, line):
        add("quicksight_definition", json.dumps({**definition, "Sheets": [{"SheetId": "s1", "Visuals": [v]}]}))
    exprs = []
    for _, text in texts("src/services/quicksight/expr.rs"):
        exprs += [m.group(1).replace('\\"', '"') for m in re.finditer(r'to_sql\("((?:[^"\\]|\\.)*)"\)', text)]
    exprs += ["ifelse({time_spent} > 5, 'long', 'short')", "concat(toUpper({element_clicked}), '-', toString({time_spent}))", "{price} * 2 + abs({time_spent})",
              "truncDate('MM', {ts})", "dateDiff({ts}, now(), 'DD')", "coalesce({price}, 0)", "isNull({price}) OR NOT {time_spent} = 3", "substring({element_clicked}, 1, 2)"]
    for e in exprs:
        add("quicksight_definition", e)
    for e in exprs[:10]:
        add("quicksight_definition", json.dumps({
            "PhysicalTableMap": {"t": {"RelationalTable": {"DataSourceArn": "arn", "Schema": "db", "Name": "clicks", "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "INTEGER"}]}}},
            "LogicalTableMap": {"l": {"Alias": "clicks", "Source": {"PhysicalTableId": "t"}, "DataTransforms": [
                {"CreateColumnsOperation": {"Columns": [{"ColumnName": "calc", "ColumnId": "c1", "Expression": e}]}},
                {"FilterOperation": {"ConditionExpression": "{time_spent} > 1"}},
                {"RenameColumnOperation": {"ColumnName": "calc", "NewColumnName": "renamed"}},
                {"CastColumnTypeOperation": {"ColumnName": "time_spent", "NewColumnType": "STRING"}},
                {"ProjectOperation": {"ProjectedColumns": ["element_clicked", "time_spent", "renamed"]}}]}}}))
    add("quicksight_definition", json.dumps({"PhysicalTableMap": {"t": {"CustomSql": {"DataSourceArn": "arn", "Name": "q", "SqlQuery": "SELECT 1 AS x", "Columns": [{"Name": "x", "Type": "INTEGER"}]}}}}))


def jq():
    queries = set()
    for pattern in ("compat-tests/*.py", "tests/it/*.rs", "src/engine/firehose/*.rs", "src/services/firehose/*.rs"):
        for _, text in texts(pattern):
            for m in re.finditer(r'(?:MetadataExtractionQuery"?[^"]*"ParameterValue"?:\s*|parameter_value\(|Query::compile\()"((?:[^"\\]|\\.)*)"', text):
                queries.add(m.group(1).replace('\\"', '"'))
    queries |= {"{customer: .customer_id, kind: .event.type, n: .event.n}", "{year: (.ts | strftime(\"%Y\")), day: (.ts | todate[:10])}",
                "{k: (.tags | join(\"-\"))}", "{a: (.event | keys | first)}", ".", "{x: (.missing // \"none\")}"}
    for q in queries:
        add("jq", q + "\n" + json.dumps({"customer_id": "c-1", "event": {"type": "click", "n": 3}, "tags": ["a", "b"], "ts": 1704164645}))
        add("jq", q)


def sigv4():
    date = "20240102T030405Z"
    cred = "test/20240102/us-east-1/s3/aws4_request"
    add("sigv4_auth", http("GET", "/fuzz/key", {"host": "localhost", "x-amz-date": date, "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "authorization": f"AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={'a' * 64}"}))
    q = urllib.parse.urlencode({"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": cred, "X-Amz-Date": date, "X-Amz-Expires": "3600", "X-Amz-SignedHeaders": "host", "X-Amz-Signature": "b" * 64})
    add("sigv4_auth", http("GET", f"/fuzz/key?{q}", {"host": "fuzz.s3.localhost"}))
    add("sigv4_auth", http("GET", "/fuzz/key?AWSAccessKeyId=test&Expires=1704168245&Signature=abc%3D", {"host": "localhost"}))
    add("sigv4_auth", http("PUT", "/fuzz/key?acl", {"host": "localhost", "date": "Tue, 02 Jan 2024 03:04:05 GMT", "x-amz-meta-a": "b", "authorization": "AWS test:c2lnbmF0dXJl"}))
    add("sigv4_auth", http("PUT", "/fuzz/key", {"host": "localhost", "x-amz-date": date, "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-trailer": "x-amz-checksum-crc32",
        "authorization": f"AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, Signature={'c' * 64}"},
        f"5;chunk-signature={'d' * 64}\r\nhello\r\n0;chunk-signature={'e' * 64}\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:{'f' * 64}\r\n\r\n"))


def chunked():
    add("aws_chunked", "5\r\nhello\r\n0\r\n\r\n")
    add("aws_chunked", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n")
    add("aws_chunked", f"5;chunk-signature={'a' * 64}\r\nhello\r\n0;chunk-signature={'b' * 64}\r\nx-amz-checksum-sha256:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\r\nx-amz-trailer-signature:{'c' * 64}\r\n\r\n")
    add("aws_chunked", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")


def s3_more():
    for path, headers, body in [
        ("/fuzz/key?partNumber=1&uploadId=x", {"x-amz-copy-source": "/fuzz/key?versionId=1", "x-amz-copy-source-range": "bytes=0-1"}, ""),
        ("/fuzz?list-type=2&prefix=k&delimiter=/&max-keys=1&encoding-type=url&start-after=a", {}, ""),
        ("/fuzz?versions&key-marker=k&version-id-marker=null", {}, ""),
        ("/fuzz/key", {"range": "bytes=1-2", "if-none-match": "\"x\"", "if-modified-since": "Tue, 02 Jan 2024 03:04:05 GMT"}, ""),
        ("/fuzz/key?attributes", {"x-amz-object-attributes": "ETag,Checksum,ObjectParts,StorageClass,ObjectSize", "x-amz-max-parts": "2"}, ""),
    ]:
        add("s3_request", http("GET", path, {"host": "localhost", **headers}, body))
    add("s3_request", http("PUT", "/key", {"host": "fuzz.s3.localhost", "x-amz-tagging": "a=b&c=d", "content-md5": "XUFAKrxLKna5cZ2REBfFkg==", "x-amz-checksum-crc32": "NhCmhg==",
                                          "x-amz-meta-x": "y", "x-amz-storage-class": "STANDARD_IA", "x-amz-server-side-encryption": "aws:kms"}, "hello"))
    add("s3_request", http("OPTIONS", "/fuzz/key", {"host": "localhost", "origin": "http://a", "access-control-request-method": "PUT", "access-control-request-headers": "x-amz-date"}))
    add("s3_request", http("POST", "/fuzz/key?uploads", {"host": "localhost"}))
    add("s3_request", http("PUT", "/fuzz/k2", {"host": "localhost", "x-amz-copy-source": "fuzz/key", "x-amz-metadata-directive": "REPLACE", "x-amz-copy-source-if-match": "*"}))


def form():
    policy = base64.b64encode(json.dumps({"expiration": "2030-01-01T00:00:00Z", "conditions": [{"bucket": "fuzz"}, ["starts-with", "$key", "u/"], ["content-length-range", 1, 10], {"x-amz-algorithm": "AWS4-HMAC-SHA256"}]}).encode()).decode()
    fields = [("key", "u/${filename}"), ("policy", policy), ("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", "test/20240102/us-east-1/s3/aws4_request"),
              ("x-amz-date", "20240102T030405Z"), ("x-amz-signature", "0" * 64), ("success_action_status", "201"), ("Content-Type", "text/plain"), ("x-amz-meta-a", "b")]
    body = "".join(f"--B\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in fields)
    body += "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n"
    add("form_post", "multipart/form-data; boundary=B\n" + body)
    add("form_post", "multipart/form-data; boundary=B\n" + body.replace("x-amz-signature", "signature").replace("x-amz-credential", "AWSAccessKeyId"))


def main():
    bad_input()
    recordings()
    vtl()
    sql()
    cfn()
    quicksight()
    jq()
    sigv4()
    chunked()
    s3_more()
    form()
    add("aws_json", http("POST", "/", {"x-amz-target": "Firehose_20150804.CreateDeliveryStream", "content-type": "application/x-amz-json-1.1"}, json.dumps({
        "DeliveryStreamName": "s", "ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::b",
            "Prefix": "d/!{partitionKeyFromQuery:k}/!{timestamp:yyyy/MM}/", "ErrorOutputPrefix": "e/!{firehose:error-output-type}/", "CompressionFormat": "GZIP",
            "DynamicPartitioningConfiguration": {"Enabled": True}, "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "MetadataExtraction", "Parameters": [{"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{k: .k}"}, {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                {"Type": "AppendDelimiterToRecord"}]}}})))
    total = 0
    for target, items in sorted(corpora.items()):
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for data in items:
            with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
                f.write(data)
        total += len(items)
        print(f"{target:24} {len(items):5} seeds")
    print(f"{'total':24} {total:5}")


if __name__ == "__main__":
    main()
