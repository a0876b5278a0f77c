//! Athena through aws-sdk-athena over what Firehose delivered: the seed's flow (GZIP NDJSON under
//! `year=/month=/day=` prefixes, CREATE EXTERNAL TABLE with JsonSerDe, MSCK REPAIR TABLE, GROUP BY,
//! SELECT * LIMIT), the result files in S3, and a failing query's reason.

use std::time::Duration;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{CompressionFormat, ExtendedS3DestinationConfiguration, Record};

use crate::common::{Firelocal, bucket};

async fn run(athena: &aws_sdk_athena::Client, sql: &str, out: &str) -> (String, aws_sdk_athena::types::QueryExecution) {
    let id = athena
        .start_query_execution()
        .query_string(sql)
        .query_execution_context(QueryExecutionContext::builder().database("clicks").build())
        .result_configuration(ResultConfiguration::builder().output_location(out).build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .query_execution_id()
        .unwrap()
        .to_string();
    for _ in 0..1000 {
        let q = athena.get_query_execution().query_execution_id(&id).send().await.unwrap().query_execution.unwrap();
        let state = q.status().and_then(|s| s.state()).cloned();
        if matches!(state, Some(QueryExecutionState::Succeeded | QueryExecutionState::Failed | QueryExecutionState::Cancelled)) {
            return (id, q);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{sql} did not finish");
}

async fn rows(athena: &aws_sdk_athena::Client, id: &str) -> Vec<Vec<Option<String>>> {
    let r = athena.get_query_results().query_execution_id(id).send().await.unwrap();
    r.result_set().unwrap().rows().iter().map(|row| row.data().iter().map(|d| d.var_char_value().map(str::to_string)).collect()).collect()
}

#[tokio::test]
async fn seed_flow_firehose_to_athena() {
    let fl = Firelocal::start(&[]);
    let (fh, s3, athena) = (fl.firehose(), fl.s3(), fl.athena());
    let b = bucket(&s3, "clickstream-athena").await;
    fh.create_delivery_stream()
        .delivery_stream_name("clicks")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::000000000000:role/firehose")
                .bucket_arn(format!("arn:aws:s3:::{b}"))
                .prefix("clickstream/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/")
                .error_output_prefix("errors/!{firehose:error-output-type}/")
                .compression_format(CompressionFormat::Gzip)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let elements = ["button-a", "button-b", "link-c"];
    let records: Vec<Record> = (0..30)
        .map(|i| {
            let line = format!("{{\"element_clicked\":\"{}\",\"time_spent\":{i},\"source_menu\":\"menu-{}\",\"created_at\":\"2023-11-16 10:{:02}:00\"}}\n", elements[i % 3], i % 2, i);
            Record::builder().data(Blob::new(line.into_bytes())).build().unwrap()
        })
        .collect();
    let out = fh.put_record_batch().delivery_stream_name("clicks").set_records(Some(records)).send().await.unwrap();
    assert_eq!(out.failed_put_count(), 0);
    fl.flush(Some("clicks")).await;

    let results = format!("s3://{b}/athena-results/");
    let (_, q) = run(&athena, "CREATE DATABASE IF NOT EXISTS clicks", &results).await;
    assert_eq!(q.status().unwrap().state(), Some(&QueryExecutionState::Succeeded));
    let ddl = format!(
        "CREATE EXTERNAL TABLE clickstream (element_clicked string, time_spent int, source_menu string, created_at timestamp)
         PARTITIONED BY (year string, month string, day string)
         ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{b}/clickstream/'"
    );
    let (_, q) = run(&athena, &ddl, &results).await;
    assert_eq!(q.status().unwrap().state(), Some(&QueryExecutionState::Succeeded), "{:?}", q.status());
    assert_eq!(q.statement_type().map(|s| s.as_str()), Some("DDL"));
    let (_, q) = run(&athena, "MSCK REPAIR TABLE clickstream", &results).await;
    assert_eq!(q.status().unwrap().state(), Some(&QueryExecutionState::Succeeded), "{:?}", q.status());

    let (id, q) = run(&athena, "SELECT element_clicked, count(*) AS n, sum(time_spent) AS t FROM clickstream GROUP BY element_clicked ORDER BY element_clicked", &results).await;
    assert_eq!(q.status().unwrap().state(), Some(&QueryExecutionState::Succeeded), "{:?}", q.status());
    assert!(q.statistics().unwrap().data_scanned_in_bytes().unwrap() > 0);
    let got = rows(&athena, &id).await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(got[0], vec![s("element_clicked"), s("n"), s("t")], "header row first");
    assert_eq!(got[1..], [vec![s("button-a"), s("10"), s("135")], vec![s("button-b"), s("10"), s("145")], vec![s("link-c"), s("10"), s("155")]]);
    // The same result as Athena writes it in S3.
    let location = q.result_configuration().unwrap().output_location().unwrap().to_string();
    assert_eq!(location, format!("{results}{id}.csv"));
    let csv = s3.get_object().bucket(&b).key(format!("athena-results/{id}.csv")).send().await.unwrap().body.collect().await.unwrap().into_bytes();
    assert_eq!(&csv[..], b"\"element_clicked\",\"n\",\"t\"\n\"button-a\",\"10\",\"135\"\n\"button-b\",\"10\",\"145\"\n\"link-c\",\"10\",\"155\"\n");
    assert!(s3.head_object().bucket(&b).key(format!("athena-results/{id}.csv.metadata")).send().await.is_ok());

    let (id, _) = run(&athena, "SELECT * FROM clickstream LIMIT 10", &results).await;
    let got = rows(&athena, &id).await;
    assert_eq!(got.len(), 11);
    assert_eq!(got[0].len(), 7, "four columns and three partition keys");
    let r = athena.get_query_results().query_execution_id(&id).send().await.unwrap();
    let types: Vec<&str> = r.result_set().unwrap().result_set_metadata().unwrap().column_info().iter().map(|c| c.r#type()).collect();
    assert_eq!(types, ["varchar", "integer", "varchar", "timestamp", "varchar", "varchar", "varchar"]);

    let (_, q) = run(&athena, "SELECT nope FROM clickstream", &results).await;
    let st = q.status().unwrap();
    assert_eq!(st.state(), Some(&QueryExecutionState::Failed));
    assert!(st.state_change_reason().unwrap().starts_with("COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"), "{st:?}");
    assert_eq!(st.athena_error().and_then(|e| e.error_category()), Some(2));
    fl.stop();
}
