"""QuickSight benchmark: SPICE ingestion of N clickstream rows (default 1,000,000), a pie
chart's data from the SPICE snapshot, and the same pie from a DIRECT_QUERY data set against the
Athena GROUP BY it amounts to.

Usage:
    ./target/release/firelocal serve --port 4700 &
    python benches/quicksight_spice.py http://127.0.0.1:4700 [rows] [repeat]

Needs boto3.
"""

import json
import random
import statistics
import sys
import time
import urllib.request

import boto3

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 10
ACCOUNT = "000000000000"
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
s3, athena, qs = boto3.client("s3", **kw), boto3.client("athena", **kw), boto3.client("quicksight", **kw)
ELEMENTS = ["nav", "search", "buy-button", "cart", "footer", "logo", "banner", "menu"]


def upload():
    s3.create_bucket(Bucket="qsbench")
    rnd = random.Random(1)
    per_file = 100_000
    for f in range(0, ROWS, per_file):
        n = min(per_file, ROWS - f)
        body = "".join(json.dumps({"element_clicked": rnd.choice(ELEMENTS), "time_spent": rnd.randint(1, 60), "source_menu": rnd.choice(["top", "side"])}) + "\n" for _ in range(n))
        s3.put_object(Bucket="qsbench", Key=f"clicks/part-{f // per_file:04}.json", Body=body.encode())


def athena_run(sql):
    t = time.perf_counter()
    qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": "s3://qsbench/results/"})["QueryExecutionId"]
    while True:
        st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if st["Status"]["State"] in ("SUCCEEDED", "FAILED"):
            assert st["Status"]["State"] == "SUCCEEDED", st["Status"]
            return time.perf_counter() - t, st["Statistics"]["TotalExecutionTimeInMillis"] / 1000
        time.sleep(0.005)


def visual(dashboard):
    t = time.perf_counter()
    rows = json.loads(urllib.request.urlopen(f"{endpoint}/_firelocal/console/api/dashboards/{dashboard}/visuals/pie/data").read())["Rows"]
    return time.perf_counter() - t, rows


def pie(arn):
    return {"DataSetIdentifierDeclarations": [{"Identifier": "c", "DataSetArn": arn}], "Sheets": [{"SheetId": "s", "Visuals": [{"PieChartVisual": {"VisualId": "pie", "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {
        "Category": [{"CategoricalDimensionField": {"FieldId": "e", "Column": {"DataSetIdentifier": "c", "ColumnName": "element_clicked"}}}],
        "Values": [{"CategoricalMeasureField": {"FieldId": "n", "Column": {"DataSetIdentifier": "c", "ColumnName": "element_clicked"}, "AggregationFunction": "COUNT"}}]}}}}}]}]}


def main():
    upload()
    athena_run("CREATE DATABASE IF NOT EXISTS qsbench")
    athena_run("CREATE EXTERNAL TABLE qsbench.clicks (element_clicked string, time_spent int, source_menu string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://qsbench/clicks/'")
    ds = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="bench", Name="bench", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    table = {"RelationalTable": {"DataSourceArn": ds["Arn"], "Schema": "qsbench", "Name": "clicks",
                                 "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "INTEGER"}, {"Name": "source_menu", "Type": "STRING"}]}}
    spice = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="spice", Name="spice", ImportMode="SPICE", PhysicalTableMap={"t": table})
    direct = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="direct", Name="direct", ImportMode="DIRECT_QUERY", PhysicalTableMap={"t": table})

    def ingest(ingestion):
        t = time.perf_counter()
        qs.create_ingestion(AwsAccountId=ACCOUNT, DataSetId="spice", IngestionId=ingestion)
        while True:
            i = qs.describe_ingestion(AwsAccountId=ACCOUNT, DataSetId="spice", IngestionId=ingestion)["Ingestion"]
            if i["IngestionStatus"] in ("COMPLETED", "FAILED"):
                assert i["IngestionStatus"] == "COMPLETED" and i["RowInfo"]["RowsIngested"] == ROWS, i
                return time.perf_counter() - t
            time.sleep(0.01)

    # The initial ingestion (cold: the objects' columns are decoded for the first time), then warm ones.
    while qs.describe_ingestion(AwsAccountId=ACCOUNT, DataSetId="spice", IngestionId=spice["IngestionId"])["Ingestion"]["IngestionStatus"] != "COMPLETED":
        time.sleep(0.01)
    ingestions = [ingest(f"i{n}") for n in range(3)]
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="spice", Name="spice", Definition=pie(spice["Arn"]))
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="direct", Name="direct", Definition=pie(direct["Arn"]))
    spice_times = [visual("spice")[0] for _ in range(REPEAT)]
    direct_times = [visual("direct")[0] for _ in range(REPEAT)]
    assert visual("spice")[1] == visual("direct")[1]
    athena_times = [athena_run("SELECT element_clicked, count(*) FROM qsbench.clicks GROUP BY element_clicked") for _ in range(REPEAT)]
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print(f"| {ROWS:,} rows | median |")
    print("|---|---|")
    print(f"| SPICE ingestion (CreateIngestion → COMPLETED, client-measured) | {ms(ingestions):.0f} ms |")
    print(f"| pie data from SPICE | {ms(spice_times):.1f} ms |")
    print(f"| pie data from DIRECT_QUERY | {ms(direct_times):.1f} ms |")
    print(f"| the same GROUP BY through Athena (client-measured / server) | {ms([a for a, _ in athena_times]):.1f} ms / {ms([b for _, b in athena_times]):.1f} ms |")


main()
