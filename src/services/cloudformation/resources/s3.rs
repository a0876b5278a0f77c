//! `AWS::S3::Bucket` (with its configuration, see `s3_bucket`) and `AWS::S3::BucketPolicy`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let region = ctx.region;
    match ty {
        "AWS::S3::Bucket" => {
            if let Some(k) = props.as_object().and_then(|o| o.keys().find(|k| k.as_str() != "BucketName" && !s3_bucket::PROPERTIES.contains(&k.as_str()))) {
                return Err(format!("firelocal's S3 does not support the bucket property {k} yet"));
            }
            let name = s(props, "BucketName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 63, true));
            let body = if region == "us-east-1" {
                bytes::Bytes::new()
            } else {
                bytes::Bytes::from(format!("<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"))
            };
            let mut headers = Vec::new();
            if let Some(o) = props.pointer("/OwnershipControls/Rules/0/ObjectOwnership").and_then(Value::as_str) {
                headers.push(("x-amz-object-ownership", o));
            }
            api.s3_with(Method::PUT, &format!("/{}", url_encode(&name)), &[], &headers, body).await.map_err(fail)?;
            if let Err(e) = s3_bucket::apply(api, &name, &Value::Null, props).await {
                let _ = api.s3(Method::DELETE, &format!("/{}", url_encode(&name)), &[], bytes::Bytes::new()).await;
                return Err(e);
            }
            Ok(Created {
                attrs: attrs(vec![
                    ("Arn", json!(format!("arn:aws:s3:::{name}"))),
                    ("DomainName", json!(format!("{name}.s3.amazonaws.com"))),
                    ("RegionalDomainName", json!(format!("{name}.s3.{region}.amazonaws.com"))),
                    ("DualStackDomainName", json!(format!("{name}.s3.dualstack.{region}.amazonaws.com"))),
                    ("WebsiteURL", json!(format!("http://{name}.s3-website-{region}.amazonaws.com"))),
                ]),
                physical_id: name,
            })
        }
        "AWS::S3::BucketPolicy" => {
            let bucket = need(props, "Bucket", ty)?;
            let doc = props.get("PolicyDocument").map(|d| d.to_string()).unwrap_or_default();
            api.s3(Method::PUT, &format!("/{}", url_encode(&bucket)), &[("policy", "")], bytes::Bytes::from(doc)).await.map_err(fail)?;
            Ok(Created { physical_id: bucket, attrs: Map::new() })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    if ty == "AWS::S3::BucketPolicy" {
        return create(ctx, ty, new).await;
    }
    if let Some(k) = new.as_object().and_then(|o| o.keys().find(|k| k.as_str() != "BucketName" && !s3_bucket::PROPERTIES.contains(&k.as_str()))) {
        return Err(format!("firelocal's S3 does not support the bucket property {k} yet"));
    }
    s3_bucket::apply(ctx.api, &current.physical_id, old, new).await?;
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, _props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::S3::Bucket" => gone(api.s3(Method::DELETE, &format!("/{}", url_encode(id)), &[], bytes::Bytes::new()).await),
        "AWS::S3::BucketPolicy" => gone(api.s3(Method::DELETE, &format!("/{}", url_encode(id)), &[("policy", "")], bytes::Bytes::new()).await),
        _ => Ok(()),
    }
}
