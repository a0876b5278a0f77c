//! `AWS::Lambda::Function`, `Permission`, `Version` and `Alias`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::Lambda::Function" => {
            let name = s(props, "FunctionName").unwrap_or_else(|| generated_name(ctx.stack_name, ctx.logical_id, 64, false));
            let mut body = object(props, &["Code", "Tags", "FunctionName"]);
            body.insert("FunctionName".into(), json!(name));
            body.insert("Code".into(), lambda_code(props)?);
            if let Some(t) = tags_map(props) {
                body.insert("Tags".into(), t);
            }
            let out = api.rest("lambda", Method::POST, "/2015-03-31/functions", &[], Some(&Value::Object(body))).await.map_err(fail)?;
            Ok(Created { attrs: attrs(vec![("Arn", out.get("FunctionArn").cloned().unwrap_or_default())]), physical_id: name })
        }
        "AWS::Lambda::Permission" => {
            let function = need(props, "FunctionName", ty)?;
            let sid = generated_name(ctx.stack_name, ctx.logical_id, 100, false);
            let mut body = object(props, &["FunctionName"]);
            body.insert("StatementId".into(), json!(sid));
            api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/policy", url_encode(&function)), &[], Some(&Value::Object(body))).await.map_err(fail)?;
            Ok(Created { physical_id: sid, attrs: Map::new() })
        }
        "AWS::Lambda::Version" => {
            let function = need(props, "FunctionName", ty)?;
            let out = api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/versions", url_encode(&function)), &[], Some(&Value::Object(object(props, &["FunctionName"])))).await.map_err(fail)?;
            let arn = out.get("FunctionArn").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("Version", out.get("Version").cloned().unwrap_or_default()), ("FunctionArn", json!(arn))]), physical_id: arn })
        }
        "AWS::Lambda::Alias" => {
            let function = need(props, "FunctionName", ty)?;
            let out = api.rest("lambda", Method::POST, &format!("/2015-03-31/functions/{}/aliases", url_encode(&function)), &[], Some(&Value::Object(object(props, &["FunctionName"])))).await.map_err(fail)?;
            let arn = out.get("AliasArn").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("AliasArn", json!(arn))]), physical_id: arn })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    let mut out = current.clone();
    match ty {
        "AWS::Lambda::Function" => {
            let path = format!("/2015-03-31/functions/{}", url_encode(id));
            if old.get("Code") != new.get("Code") {
                let mut code = lambda_code(new)?.as_object().cloned().unwrap_or_default();
                if let Some(z) = code.remove("ZipFile") {
                    code.insert("ZipFile".into(), z);
                }
                api.rest("lambda", Method::PUT, &format!("{path}/code"), &[], Some(&Value::Object(code))).await.map_err(fail)?;
            }
            let config = object(new, &["Code", "Tags", "FunctionName", "PackageType"]);
            let old_config = object(old, &["Code", "Tags", "FunctionName", "PackageType"]);
            if config != old_config {
                let out_cfg = api.rest("lambda", Method::PUT, &format!("{path}/configuration"), &[], Some(&Value::Object(config))).await.map_err(fail)?;
                out.attrs.insert("Arn".into(), out_cfg.get("FunctionArn").cloned().unwrap_or_default());
            }
        }
        "AWS::Lambda::Alias" => {
            let f = need(new, "FunctionName", ty)?;
            let alias = need(new, "Name", ty)?;
            let mut body = object(new, &["FunctionName", "Name"]);
            if !body.contains_key("RoutingConfig") {
                body.insert("RoutingConfig".into(), json!({ "AdditionalVersionWeights": {} }));
            }
            api.rest("lambda", Method::PUT, &format!("/2015-03-31/functions/{}/aliases/{}", url_encode(&f), url_encode(&alias)), &[], Some(&Value::Object(body))).await.map_err(fail)?;
        }
        _ => {}
    }
    Ok(out)
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::Lambda::Function" => gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}", url_encode(id)), &[], None).await),
        "AWS::Lambda::Permission" => {
            let f = need(props, "FunctionName", ty)?;
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}/policy/{}", url_encode(&f), url_encode(id)), &[], None).await)
        }
        "AWS::Lambda::Version" => {
            let (f, v) = id.rsplit_once(':').unwrap_or((id, ""));
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}", url_encode(f)), &[("Qualifier", v)], None).await)
        }
        "AWS::Lambda::Alias" => {
            let f = need(props, "FunctionName", ty)?;
            let alias = need(props, "Name", ty)?;
            gone(api.rest("lambda", Method::DELETE, &format!("/2015-03-31/functions/{}/aliases/{}", url_encode(&f), url_encode(&alias)), &[], None).await)
        }
        _ => Ok(()),
    }
}

/// Lambda's `Code` from the template's: inline `ZipFile` source becomes `index.py` / `index.js`
/// in a zip, as CloudFormation packages it.
fn lambda_code(props: &Value) -> Result<Value, String> {
    let code = props.get("Code").cloned().unwrap_or_default();
    let Some(source) = code.get("ZipFile").and_then(Value::as_str) else {
        let mut c = code.as_object().cloned().unwrap_or_default();
        c.retain(|k, _| matches!(k.as_str(), "S3Bucket" | "S3Key" | "S3ObjectVersion" | "ImageUri"));
        return Ok(Value::Object(c));
    };
    let runtime = s(props, "Runtime").unwrap_or_default();
    let file = if runtime.starts_with("nodejs") { "index.js" } else { "index.py" };
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
        z.start_file(file, opts).map_err(|e| format!("cannot package inline code: {e}"))?;
        z.write_all(source.as_bytes()).map_err(|e| format!("cannot package inline code: {e}"))?;
        z.finish().map_err(|e| format!("cannot package inline code: {e}"))?;
    }
    Ok(json!({ "ZipFile": base64::engine::general_purpose::STANDARD.encode(buf.into_inner()) }))
}
