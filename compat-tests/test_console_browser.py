"""The console in a real browser (headless Chromium): a QuickSight dashboard opened through the
embed URLs boto3 generates draws the same labels and numbers its data endpoint serves, and every
console page loads without a script error."""

import json
import re
import time
import urllib.request
import uuid

import pytest

from conftest import CHROMIUM, chromium_dom, make_client

ACCOUNT = "000000000000"


def browse(url, tmp_path):
    """Loads a page in headless Chromium: (the DOM after scripts ran, Chromium's log)."""
    return chromium_dom(url, tmp_path / ("profile-" + uuid.uuid4().hex[:6]), budget_ms=3000, log=True)


def measure(elements, time_spent):
    return {"NumericalMeasureField": {"FieldId": f"m-{elements}", "Column": {"DataSetIdentifier": "c", "ColumnName": time_spent}, "AggregationFunction": {"SimpleNumericalAggregation": elements}}}


def dim(column):
    return {"CategoricalDimensionField": {"FieldId": f"d-{column}", "Column": {"DataSetIdentifier": "c", "ColumnName": column}}}


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs it when run as root)")
def test_dashboards_render_in_a_browser_as_their_data_says(firelocal_endpoint, tmp_path):
    s3, athena, qs = make_client(firelocal_endpoint, "s3"), make_client(firelocal_endpoint, "athena"), make_client(firelocal_endpoint, "quicksight")
    bucket = f"console-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    events = [("nav", 3, "2024-01-05 10:00:00"), ("nav", 5, "2024-01-20 10:00:00"), ("search", 2, "2024-02-02 09:00:00"), ("cart", 9, "2024-02-03 09:00:00"), ("nav", 1, "2024-03-01 08:00:00")]
    body = "".join(json.dumps({"element_clicked": e, "time_spent": t, "created_at": c}) + "\n" for e, t, c in events)
    s3.put_object(Bucket=bucket, Key="clicks/part-0.json", Body=body.encode())

    def run(sql):
        qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": f"s3://{bucket}/results/"})["QueryExecutionId"]
        for _ in range(400):
            if athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED"):
                return qid
            time.sleep(0.025)

    db = f"console_{uuid.uuid4().hex[:6]}"
    run(f"CREATE DATABASE {db}")
    run(f"CREATE EXTERNAL TABLE {db}.clicks (element_clicked string, time_spent int, created_at timestamp) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{bucket}/clicks/'")
    query_id = run(f"SELECT element_clicked, count(*) FROM {db}.clicks GROUP BY 1")

    suffix = uuid.uuid4().hex[:6]
    ds = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId=f"src-{suffix}", Name="Athena", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    table = {"RelationalTable": {"DataSourceArn": ds["Arn"], "Schema": db, "Name": "clicks",
                                 "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "INTEGER"}, {"Name": "created_at", "Type": "DATETIME"}]}}
    data_set = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId=f"set-{suffix}", Name="Clicks", ImportMode="SPICE", PhysicalTableMap={"t": table})
    for _ in range(400):
        if qs.describe_ingestion(AwsAccountId=ACCOUNT, DataSetId=f"set-{suffix}", IngestionId=data_set["IngestionId"])["Ingestion"]["IngestionStatus"] == "COMPLETED":
            break
        time.sleep(0.025)
    title = lambda t: {"Visibility": "VISIBLE", "FormatText": {"PlainText": t}}  # noqa: E731
    visuals = [
        {"PieChartVisual": {"VisualId": "pie", "Title": title("Clicks by element"), "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {
            "Category": [dim("element_clicked")], "Values": [{"CategoricalMeasureField": {"FieldId": "n", "Column": {"DataSetIdentifier": "c", "ColumnName": "element_clicked"}, "AggregationFunction": "COUNT"}}]}}}}},
        {"BarChartVisual": {"VisualId": "bar", "Title": title("Time spent"), "ChartConfiguration": {"FieldWells": {"BarChartAggregatedFieldWells": {"Category": [dim("element_clicked")], "Values": [measure("SUM", "time_spent")]}}}}},
        {"LineChartVisual": {"VisualId": "line", "Title": title("Clicks per month"), "ChartConfiguration": {"FieldWells": {"LineChartAggregatedFieldWells": {
            "Category": [{"DateDimensionField": {"FieldId": "month", "Column": {"DataSetIdentifier": "c", "ColumnName": "created_at"}, "DateGranularity": "MONTH"}}], "Values": [measure("SUM", "time_spent")]}}}}},
        {"KPIVisual": {"VisualId": "kpi", "Title": title("Average time"), "ChartConfiguration": {"FieldWells": {"Values": [measure("AVERAGE", "time_spent")]}}}},
        {"TableVisual": {"VisualId": "table", "Title": title("Max by element"), "ChartConfiguration": {"FieldWells": {"TableAggregatedFieldWells": {"GroupBy": [dim("element_clicked")], "Values": [measure("MAX", "time_spent")]}}}}},
    ]
    dashboard = f"dash-{suffix}"
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId=dashboard, Name="Console test", Definition={
        "DataSetIdentifierDeclarations": [{"Identifier": "c", "DataSetArn": data_set["Arn"]}], "Sheets": [{"SheetId": "s1", "Name": "Overview", "Visuals": visuals}]})
    dashboard_arn = f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dashboard/{dashboard}"

    # The three embed URL calls, as boto3 makes them.
    anonymous = qs.generate_embed_url_for_anonymous_user(AwsAccountId=ACCOUNT, Namespace="default", AuthorizedResourceArns=[dashboard_arn],
                                                          ExperienceConfiguration={"Dashboard": {"InitialDashboardId": dashboard}})["EmbedUrl"]
    user = qs.register_user(AwsAccountId=ACCOUNT, Namespace="default", IdentityType="QUICKSIGHT", UserName=f"viewer-{suffix}", Email="v@example.com", UserRole="READER")["User"]
    assert qs.describe_user(AwsAccountId=ACCOUNT, Namespace="default", UserName=f"viewer-{suffix}")["User"]["Arn"] == user["Arn"]
    registered = qs.generate_embed_url_for_registered_user(AwsAccountId=ACCOUNT, UserArn=user["Arn"], ExperienceConfiguration={"Dashboard": {"InitialDashboardId": dashboard}})["EmbedUrl"]
    legacy = qs.get_dashboard_embed_url(AwsAccountId=ACCOUNT, DashboardId=dashboard, IdentityType="IAM")["EmbedUrl"]
    for url in (anonymous, registered, legacy):
        assert url.startswith(f"{firelocal_endpoint}/_firelocal/console/embed/dashboards/{dashboard}")

    data = {v: json.loads(urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/api/dashboards/{dashboard}/visuals/{v}/data").read())["Rows"] for v in ("pie", "bar", "line", "kpi", "table")}
    assert data["pie"] == [["nav", 3, 60.0], ["cart", 1, 20.0], ["search", 1, 20.0]]
    assert data["bar"] == [["cart", 9], ["nav", 9], ["search", 2]]
    assert data["kpi"] == [[4]]

    dom, log = browse(anonymous, tmp_path)
    assert "Uncaught" not in log, log[-2000:]
    assert "<nav>" not in dom, "the embedded dashboard has no console navigation"
    for label, value, percent in data["pie"]:
        assert f"{label} {value} ({int(percent) if percent == int(percent) else percent}%)" in dom, dom[:3000]
    for label, value in data["bar"]:
        assert re.search(rf">{label}</text><rect[^>]*>(?:</rect>)?<text[^>]*>{value}</text>", dom), (label, value)
    assert '<div class="kpi">4</div>' in dom
    for month, _ in data["line"]:
        assert f">{month[:10]}<" in dom
    for title_text in ("Clicks by element", "Time spent", "Clicks per month", "Average time", "Max by element"):
        assert f"<h2>{title_text}</h2>" in dom

    # Every console page loads without a script error.
    pages = ["", "dashboards", f"dashboards/{dashboard}", "s3", f"s3/{bucket}", f"s3/{bucket}/clicks/part-0.json", "firehose", "lambda", "apigateway", "athena", f"athena/{query_id}", "stacks", "faults"]
    for page in pages:
        with urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/{page}") as r:
            assert r.status == 200 and "text/html" in r.headers["Content-Type"]
            html = r.read().decode()
        assert "<h1>" in html, page
        dom, log = browse(f"{firelocal_endpoint}/_firelocal/console/{page}", tmp_path)
        assert "Uncaught" not in log and "<h1>" in dom, (page, log[-2000:])
    assert "nav" in urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/s3/{bucket}/clicks/part-0.json").read().decode()


def test_the_pipeline_pages_show_clicks_arriving(firelocal_endpoint):
    """The seed's pipeline deployed from its template: a click through the REST API shows on the
    API Gateway page (request and response), the Firehose page (delivered, with the object), the
    Lambda page (the transform's invocation) and the stack's page."""
    import pathlib

    cfn = make_client(firelocal_endpoint, "cloudformation")
    template = (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "clickstream.yaml").read_text()
    cfn.create_stack(StackName="console-seed", TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}])
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="console-seed")["Stacks"][0]["Outputs"]}

    def page(path):
        with urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/{path}") as r:
            return r.read().decode()

    assert "0 records, 0 bytes" in page("firehose")
    for n in range(2):
        req = urllib.request.Request(firelocal_endpoint + out["LocalInvokePath"], data=json.dumps({"element_clicked": "console", "n": n}).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
    assert "2 records" in page("firehose"), "the buffered records show before delivery"
    urllib.request.urlopen(urllib.request.Request(f"{firelocal_endpoint}/_firelocal/firehose/flush", method="POST")).read()
    apis = page("apigateway")
    assert f"POST /restapis/{out['ApiId']}/dev/_user_request_/clickstream" in apis and "{&quot;status&quot;: &quot;OK&quot;}" in apis
    streams = page("firehose")
    assert "console-seed-events · latest deliveries" in streams and "clickstream/year=" in streams
    functions = page("lambda")
    assert "console-seed-transform · latest invocations" in functions and "RequestResponse" in functions and "Processed 2 records." in functions
    assert "CREATE_COMPLETE" in page("stacks/console-seed")
