//! `AWS::KinesisFirehose::DeliveryStream`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let region = ctx.region;
    match ty {
        "AWS::KinesisFirehose::DeliveryStream" => {
            let name = s(props, "DeliveryStreamName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 64, false));
            let mut body = object(props, &[]);
            body.insert("DeliveryStreamName".into(), json!(name));
            api.json("firehose", "Firehose_20150804.CreateDeliveryStream", &Value::Object(body)).await.map_err(fail)?;
            Ok(Created { attrs: attrs(vec![("Arn", json!(format!("arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{name}")))]), physical_id: name })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, _old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    if ty == "AWS::KinesisFirehose::DeliveryStream" {
        let d = api.json("firehose", "Firehose_20150804.DescribeDeliveryStream", &json!({ "DeliveryStreamName": id })).await.map_err(fail)?;
        let desc = d.get("DeliveryStreamDescription").cloned().unwrap_or_default();
        let mut body = json!({
            "DeliveryStreamName": id,
            "CurrentDeliveryStreamVersionId": desc.get("VersionId"),
            "DestinationId": desc.pointer("/Destinations/0/DestinationId"),
        });
        if let Some(cfg) = new.get("ExtendedS3DestinationConfiguration") {
            body["ExtendedS3DestinationUpdate"] = cfg.clone();
        }
        api.json("firehose", "Firehose_20150804.UpdateDestination", &body).await.map_err(fail)?;
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, _props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::KinesisFirehose::DeliveryStream" => gone(api.json("firehose", "Firehose_20150804.DeleteDeliveryStream", &json!({ "DeliveryStreamName": id })).await),
        _ => Ok(()),
    }
}
