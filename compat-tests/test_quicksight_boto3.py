"""QuickSight through boto3: the seed's last step. A data source on the stack's Athena
workgroup, a SPICE data set on the clicks table, an ingestion with the right row count, a
dashboard with a pie chart by element_clicked (COUNT) whose numbers equal Athena's GROUP BY, and
a snapshot that only changes with the next ingestion; a DIRECT_QUERY data set that reads live;
and QuickSight's errors for the usual mistakes."""

import json
import pathlib
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client

ACCOUNT = "000000000000"
TEMPLATE = (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "clickstream.yaml").read_text()


def error(exc):
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def wait_ingestion(qs, data_set, ingestion):
    for _ in range(400):
        i = qs.describe_ingestion(AwsAccountId=ACCOUNT, DataSetId=data_set, IngestionId=ingestion)["Ingestion"]
        if i["IngestionStatus"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return i
        time.sleep(0.025)
    raise AssertionError("the ingestion did not finish")


def pie(data_set_arn):
    return {
        "DataSetIdentifierDeclarations": [{"Identifier": "clicks", "DataSetArn": data_set_arn}],
        "Sheets": [{"SheetId": "main", "Name": "Clicks", "Visuals": [{"PieChartVisual": {
            "VisualId": "by-element", "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": "Clicks by element"}},
            "ChartConfiguration": {"FieldWells": {"PieChartAggregatedFieldWells": {
                "Category": [{"CategoricalDimensionField": {"FieldId": "element", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "element_clicked"}}}],
                "Values": [{"CategoricalMeasureField": {"FieldId": "count", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "element_clicked"}, "AggregationFunction": "COUNT"}}]}}}}}]}],
    }


def test_the_seed_quicksight_step(firelocal_endpoint):
    cfn, qs = make_client(firelocal_endpoint, "cloudformation"), make_client(firelocal_endpoint, "quicksight")
    fh, athena = make_client(firelocal_endpoint, "firehose"), make_client(firelocal_endpoint, "athena")
    cfn.create_stack(StackName="qs-seed", TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}])
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="qs-seed")["Stacks"][0]["Outputs"]}

    def send(elements):
        fh.put_record_batch(DeliveryStreamName=out["StreamName"], Records=[{"Data": json.dumps({"element_clicked": e, "time_spent": i, "source_menu": "top"}).encode()} for i, e in enumerate(elements)])
        req = urllib.request.Request(f"{firelocal_endpoint}/_firelocal/firehose/flush?stream={out['StreamName']}", method="POST")
        assert json.loads(urllib.request.urlopen(req).read())["streams"][out["StreamName"]]["pending_records"] == 0

    def athena_rows(sql):
        qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": out["DatabaseName"]}, WorkGroup=out["WorkGroup"])["QueryExecutionId"]
        for _ in range(400):
            st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]
            if st in ("SUCCEEDED", "FAILED"):
                break
            time.sleep(0.025)
        assert st == "SUCCEEDED"
        return [[d.get("VarCharValue") for d in r["Data"]] for r in athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]][1:]

    send(["nav", "nav", "search", "nav", "cart"])
    athena_rows("MSCK REPAIR TABLE clickstream")

    # The data source on the stack's workgroup; one on a missing workgroup fails as QuickSight reports it.
    ds = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="Athena", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": out["WorkGroup"]}})
    assert ds["CreationStatus"] == "CREATION_SUCCESSFUL" and ds["Status"] == 202
    bad = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="nowhere", Name="Nowhere", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": "missing"}})
    assert bad["CreationStatus"] == "CREATION_FAILED"
    assert qs.describe_data_source(AwsAccountId=ACCOUNT, DataSourceId="nowhere")["DataSource"]["ErrorInfo"]["Message"] == "WorkGroup missing is not found."
    with pytest.raises(ClientError) as e:
        qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId="athena", Name="Again", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    assert error(e) == ("ResourceExistsException", 409)

    table = {"RelationalTable": {"DataSourceArn": ds["Arn"], "Catalog": "AwsDataCatalog", "Schema": out["DatabaseName"], "Name": out["TableName"],
                                 "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "INTEGER"}, {"Name": "day", "Type": "STRING"}]}}
    created = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks", Name="Clicks", ImportMode="SPICE", PhysicalTableMap={"t": table})
    assert created["Status"] == 201 and created["IngestionId"]
    ingestion = wait_ingestion(qs, "clicks", created["IngestionId"])
    assert ingestion["IngestionStatus"] == "COMPLETED" and ingestion["RowInfo"]["RowsIngested"] == 5 and ingestion["RowInfo"]["TotalRowsInDataset"] == 5
    described = qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks")["DataSet"]
    assert [(c["Name"], c["Type"]) for c in described["OutputColumns"]] == [("element_clicked", "STRING"), ("time_spent", "INTEGER"), ("day", "STRING")]
    with pytest.raises(ClientError) as e:
        qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks", Name="Clicks", ImportMode="SPICE", PhysicalTableMap={"t": table})
    assert error(e) == ("ResourceExistsException", 409)
    broken = {"t": {"RelationalTable": {**table["RelationalTable"], "InputColumns": [{"Name": "no_such_column", "Type": "STRING"}]}}}
    with pytest.raises(ClientError) as e:
        qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="broken", Name="Broken", ImportMode="SPICE", PhysicalTableMap=broken)
    assert error(e) == ("InvalidParameterValueException", 400) and "no_such_column" in e.value.response["Error"]["Message"]

    # The dashboard: a pie of clicks by element, its numbers those of Athena's GROUP BY.
    dash = qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="clicks", Name="Clicks", Definition=pie(created["Arn"]))
    assert dash["CreationStatus"] == "CREATION_SUCCESSFUL" and dash["VersionArn"].endswith("/version/1")
    data_url = f"{firelocal_endpoint}/_firelocal/console/api/dashboards/clicks/visuals/by-element/data"
    data = json.loads(urllib.request.urlopen(data_url).read())
    assert data["Type"] == "PieChartVisual" and data["Title"] == "Clicks by element"
    by_athena = athena_rows("SELECT element_clicked, count(*) FROM clickstream GROUP BY element_clicked ORDER BY 2 DESC, 1")
    assert [[r[0], r[1]] for r in data["Rows"]] == [[e, int(n)] for e, n in by_athena] == [["nav", 3], ["cart", 1], ["search", 1]]
    assert [r[2] for r in data["Rows"]] == [60.0, 20.0, 20.0]
    csv = urllib.request.urlopen(data_url + "?format=csv").read().decode()
    assert csv.splitlines()[:2] == ['"element_clicked","element_clicked","percent"', '"nav",3,60.0']

    # New clicks reach S3 and Athena, but not SPICE until the next ingestion.
    send(["search", "search", "search"])
    assert json.loads(urllib.request.urlopen(data_url).read())["Rows"][0] == ["nav", 3, 60.0]
    qs.create_ingestion(AwsAccountId=ACCOUNT, DataSetId="clicks", IngestionId="refresh-1")
    assert wait_ingestion(qs, "clicks", "refresh-1")["RowInfo"]["RowsIngested"] == 8
    assert json.loads(urllib.request.urlopen(data_url).read())["Rows"][0] == ["search", 4, 50.0]
    assert [i["IngestionId"] for i in qs.list_ingestions(AwsAccountId=ACCOUNT, DataSetId="clicks")["Ingestions"]][0] == "refresh-1"

    # DIRECT_QUERY reads live, through a calculated field and a filter.
    live = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks-live", Name="Live", ImportMode="DIRECT_QUERY", PhysicalTableMap={"t": table},
                              LogicalTableMap={"l": {"Alias": "live", "Source": {"PhysicalTableId": "t"}, "DataTransforms": [
                                  {"CreateColumnsOperation": {"Columns": [{"ColumnName": "element", "ColumnId": "e", "Expression": "toUpper({element_clicked})"}]}},
                                  {"FilterOperation": {"ConditionExpression": "{element_clicked} <> 'cart'"}}]}})
    assert "IngestionId" not in live
    definition = pie(live["Arn"])
    definition["Sheets"][0]["Visuals"][0]["PieChartVisual"]["ChartConfiguration"]["FieldWells"]["PieChartAggregatedFieldWells"]["Category"][0]["CategoricalDimensionField"]["Column"]["ColumnName"] = "element"
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="live", Name="Live", Definition=definition)
    rows = json.loads(urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/api/dashboards/live/visuals/by-element/data").read())["Rows"]
    assert [r[:2] for r in rows] == [["SEARCH", 4], ["NAV", 3]]

    # Versions, and the errors QuickSight gives.
    v2 = qs.update_dashboard(AwsAccountId=ACCOUNT, DashboardId="clicks", Name="Clicks v2", Definition=pie(created["Arn"]))
    assert v2["VersionArn"].endswith("/version/2")
    assert qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="clicks")["Dashboard"]["Version"]["VersionNumber"] == 1
    qs.update_dashboard_published_version(AwsAccountId=ACCOUNT, DashboardId="clicks", VersionNumber=2)
    assert qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="clicks")["Dashboard"]["Version"]["VersionNumber"] == 2
    assert [v["VersionNumber"] for v in qs.list_dashboard_versions(AwsAccountId=ACCOUNT, DashboardId="clicks")["DashboardVersionSummaryList"]] == [1, 2]
    wrong = pie(created["Arn"])
    wrong["Sheets"][0]["Visuals"][0]["PieChartVisual"]["ChartConfiguration"]["FieldWells"]["PieChartAggregatedFieldWells"]["Category"][0]["CategoricalDimensionField"]["Column"]["ColumnName"] = "page"
    with pytest.raises(ClientError) as e:
        qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="wrong", Name="Wrong", Definition=wrong)
    assert error(e) == ("InvalidParameterValueException", 400)
    assert "by-element" in e.value.response["Error"]["Message"] and "page" in e.value.response["Error"]["Message"]
    gone = qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId="gone", Name="Gone", Definition=pie(f"arn:aws:quicksight:us-east-1:{ACCOUNT}:dataset/nope"))
    assert gone["CreationStatus"] == "CREATION_FAILED"
    errors = qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId="gone")["Dashboard"]["Version"]["Errors"]
    assert errors[0]["Type"] == "DATA_SET_NOT_FOUND"
    with pytest.raises(ClientError) as e:
        qs.describe_dashboard(AwsAccountId=ACCOUNT, DashboardId=f"missing-{uuid.uuid4().hex[:6]}")
    assert error(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        qs.create_ingestion(AwsAccountId=ACCOUNT, DataSetId="clicks-live", IngestionId="x")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert {d["DashboardId"] for d in qs.list_dashboards(AwsAccountId=ACCOUNT)["DashboardSummaryList"]} >= {"clicks", "live", "gone"}
    qs.delete_dashboard(AwsAccountId=ACCOUNT, DashboardId="gone")
    qs.delete_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks-live")
    with pytest.raises(ClientError) as e:
        qs.describe_data_set(AwsAccountId=ACCOUNT, DataSetId="clicks-live")
    assert error(e) == ("ResourceNotFoundException", 404)


def test_analyses_templates_and_dashboards_from_templates(firelocal_endpoint):
    """An analysis → a template from it (its data set becomes a placeholder) → a dashboard from
    the template on another data set; permissions granted and revoked."""
    s3, athena, qs = make_client(firelocal_endpoint, "s3"), make_client(firelocal_endpoint, "athena"), make_client(firelocal_endpoint, "quicksight")
    suffix = uuid.uuid4().hex[:6]
    bucket = f"tpl-{suffix}"
    s3.create_bucket(Bucket=bucket)
    for prefix, rows in (("a", ["x", "x", "y"]), ("b", ["y", "z"])):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/part.json", Body="".join(json.dumps({"element_clicked": e}) + "\n" for e in rows).encode())

    def run(sql):
        qid = athena.start_query_execution(QueryString=sql, ResultConfiguration={"OutputLocation": f"s3://{bucket}/r/"})["QueryExecutionId"]
        for _ in range(400):
            if athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED"):
                return
            time.sleep(0.025)

    db = f"tpl_{suffix}"
    run(f"CREATE DATABASE {db}")
    for t in ("a", "b"):
        run(f"CREATE EXTERNAL TABLE {db}.{t} (element_clicked string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{bucket}/{t}/'")
    ds = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId=f"tpl-{suffix}", Name="tpl", Type="ATHENA", DataSourceParameters={"AthenaParameters": {"WorkGroup": "primary"}})
    sets = {}
    for t in ("a", "b"):
        table = {"RelationalTable": {"DataSourceArn": ds["Arn"], "Schema": db, "Name": t, "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}]}}
        sets[t] = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId=f"{t}-{suffix}", Name=t, ImportMode="DIRECT_QUERY", PhysicalTableMap={"t": table})["Arn"]
    definition = pie(sets["a"])
    analysis = qs.create_analysis(AwsAccountId=ACCOUNT, AnalysisId=f"an-{suffix}", Name="Analysis", Definition=definition)
    assert analysis["CreationStatus"] == "CREATION_SUCCESSFUL"
    assert qs.describe_analysis(AwsAccountId=ACCOUNT, AnalysisId=f"an-{suffix}")["Analysis"]["DataSetArns"] == [sets["a"]]
    template = qs.create_template(AwsAccountId=ACCOUNT, TemplateId=f"tp-{suffix}", Name="Template",
                                  SourceEntity={"SourceAnalysis": {"Arn": analysis["Arn"], "DataSetReferences": [{"DataSetPlaceholder": "clicks", "DataSetArn": sets["a"]}]}})
    assert template["VersionArn"].endswith("/version/1")
    tdef = qs.describe_template_definition(AwsAccountId=ACCOUNT, TemplateId=f"tp-{suffix}")["Definition"]
    assert [c["Placeholder"] for c in tdef["DataSetConfigurations"]] == ["clicks"]
    dash = f"from-tpl-{suffix}"
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId=dash, Name="From template",
                        SourceEntity={"SourceTemplate": {"Arn": template["Arn"], "DataSetReferences": [{"DataSetPlaceholder": "clicks", "DataSetArn": sets["b"]}]}},
                        Permissions=[{"Principal": f"arn:aws:quicksight:us-east-1:{ACCOUNT}:user/default/alice", "Actions": ["quicksight:DescribeDashboard"]}])
    rows = json.loads(urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/api/dashboards/{dash}/visuals/by-element/data").read())["Rows"]
    assert [r[:2] for r in rows] == [["y", 1], ["z", 1]], "the dashboard reads the data set the template was filled with"
    with pytest.raises(ClientError) as e:
        qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId=f"bad-{suffix}", Name="x", SourceEntity={"SourceTemplate": {"Arn": template["Arn"], "DataSetReferences": []}})
    assert error(e) == ("InvalidParameterValueException", 400)
    alice = f"arn:aws:quicksight:us-east-1:{ACCOUNT}:user/default/alice"
    qs.update_dashboard_permissions(AwsAccountId=ACCOUNT, DashboardId=dash, GrantPermissions=[{"Principal": alice, "Actions": ["quicksight:QueryDashboard"]}],
                                    RevokePermissions=[{"Principal": alice, "Actions": ["quicksight:DescribeDashboard"]}])
    perms = qs.describe_dashboard_permissions(AwsAccountId=ACCOUNT, DashboardId=dash)["Permissions"]
    assert perms == [{"Principal": alice, "Actions": ["quicksight:QueryDashboard"]}]
    assert f"tp-{suffix}" in [t["TemplateId"] for t in qs.list_templates(AwsAccountId=ACCOUNT)["TemplateSummaryList"]]
    assert f"an-{suffix}" in [a["AnalysisId"] for a in qs.list_analyses(AwsAccountId=ACCOUNT)["AnalysisSummaryList"]]
    qs.delete_template(AwsAccountId=ACCOUNT, TemplateId=f"tp-{suffix}")
    qs.delete_analysis(AwsAccountId=ACCOUNT, AnalysisId=f"an-{suffix}")
    with pytest.raises(ClientError) as e:
        qs.describe_template(AwsAccountId=ACCOUNT, TemplateId=f"tp-{suffix}")
    assert error(e) == ("ResourceNotFoundException", 404)


def test_s3_manifest_data_sources(firelocal_endpoint):
    """An S3 data source names a manifest in firelocal's S3; a SPICE data set on it reads the
    files the manifest lists (URIs and URIPrefixes) with its upload settings."""
    s3, qs = make_client(firelocal_endpoint, "s3"), make_client(firelocal_endpoint, "quicksight")
    suffix = uuid.uuid4().hex[:6]
    bucket = f"manifest-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="csv/one.csv", Body=b'element_clicked,time_spent\nnav,3\n"search, top",4\n')
    s3.put_object(Bucket=bucket, Key="csv/more/two.csv", Body=b"element_clicked,time_spent\nnav,5\n")
    manifest = {"fileLocations": [{"URIPrefixes": [f"s3://{bucket}/csv/"]}], "globalUploadSettings": {"format": "CSV", "delimiter": ",", "containsHeader": "true"}}
    s3.put_object(Bucket=bucket, Key="manifest.json", Body=json.dumps(manifest).encode())
    ds = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId=f"s3-{suffix}", Name="files", Type="S3",
                               DataSourceParameters={"S3Parameters": {"ManifestFileLocation": {"Bucket": bucket, "Key": "manifest.json"}}})
    assert ds["CreationStatus"] == "CREATION_SUCCESSFUL"
    missing = qs.create_data_source(AwsAccountId=ACCOUNT, DataSourceId=f"s3-missing-{suffix}", Name="x", Type="S3",
                                    DataSourceParameters={"S3Parameters": {"ManifestFileLocation": {"Bucket": bucket, "Key": "nope.json"}}})
    assert missing["CreationStatus"] == "CREATION_FAILED"
    source = {"S3Source": {"DataSourceArn": ds["Arn"], "InputColumns": [{"Name": "element_clicked", "Type": "STRING"}, {"Name": "time_spent", "Type": "STRING"}]}}
    with pytest.raises(ClientError) as e:
        qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId=f"s3-live-{suffix}", Name="x", ImportMode="DIRECT_QUERY", PhysicalTableMap={"f": source})
    assert error(e) == ("InvalidParameterValueException", 400)
    created = qs.create_data_set(AwsAccountId=ACCOUNT, DataSetId=f"s3-set-{suffix}", Name="files", ImportMode="SPICE", PhysicalTableMap={"f": source})
    assert wait_ingestion(qs, f"s3-set-{suffix}", created["IngestionId"])["RowInfo"]["RowsIngested"] == 3
    definition = pie(created["Arn"])
    definition["Sheets"][0]["Visuals"][0]["PieChartVisual"]["ChartConfiguration"]["FieldWells"]["PieChartAggregatedFieldWells"]["Values"] = [
        {"NumericalMeasureField": {"FieldId": "t", "Column": {"DataSetIdentifier": "clicks", "ColumnName": "time_spent"}, "AggregationFunction": {"SimpleNumericalAggregation": "SUM"}}}]
    qs.create_dashboard(AwsAccountId=ACCOUNT, DashboardId=f"s3-dash-{suffix}", Name="files", Definition=definition)
    rows = json.loads(urllib.request.urlopen(f"{firelocal_endpoint}/_firelocal/console/api/dashboards/s3-dash-{suffix}/visuals/by-element/data").read())["Rows"]
    assert rows == [["nav", 8, 66.67], ["search, top", 4, 33.33]]
