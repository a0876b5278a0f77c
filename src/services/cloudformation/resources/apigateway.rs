//! `AWS::ApiGateway::RestApi`, `Resource`, `Method`, `Deployment` and `Stage`.

use super::*;

pub(super) async fn create(ctx: &Ctx<'_>, ty: &str, props: &Value) -> Result<Created, String> {
    let api = ctx.api;
    match ty {
        "AWS::ApiGateway::RestApi" => {
            let out = match rest_api_body(api, props).await? {
                Some(doc) => {
                    let mut q = vec![("mode", "import")];
                    if props.get("FailOnWarnings") == Some(&json!(true)) {
                        q.push(("failonwarnings", "true"));
                    }
                    api.rest("apigateway", Method::POST, "/restapis", &q, Some(&doc)).await.map_err(fail)?
                }
                None => {
                    let body = strip_nulls(json!({ "name": need(props, "Name", ty)?, "description": props.get("Description"), "binaryMediaTypes": props.get("BinaryMediaTypes") }));
                    api.rest("apigateway", Method::POST, "/restapis", &[], Some(&body)).await.map_err(fail)?
                }
            };
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("RootResourceId", out.get("rootResourceId").cloned().unwrap_or_default()), ("RestApiId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Resource" => {
            let (rest, parent) = (need(props, "RestApiId", ty)?, need(props, "ParentId", ty)?);
            let out = api
                .rest("apigateway", Method::POST, &format!("/restapis/{rest}/resources/{parent}"), &[], Some(&json!({ "pathPart": need(props, "PathPart", ty)? })))
                .await
                .map_err(fail)?;
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("ResourceId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Method" => {
            put_method(api, props, ty).await?;
            let id = format!("{}-{}-{}", need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
            Ok(Created { physical_id: id, attrs: Map::new() })
        }
        "AWS::ApiGateway::Deployment" => {
            let rest = need(props, "RestApiId", ty)?;
            let stage = props.get("StageDescription");
            let body = json!({
                "stageName": props.get("StageName"),
                "description": props.get("Description"),
                "variables": stage.and_then(|s| s.get("Variables")),
                "stageDescription": stage.and_then(|s| s.get("Description")),
            });
            let out = api.rest("apigateway", Method::POST, &format!("/restapis/{rest}/deployments"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Created { attrs: attrs(vec![("DeploymentId", json!(id))]), physical_id: id })
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(props, "RestApiId", ty)?;
            let name = need(props, "StageName", ty)?;
            let body = json!({ "stageName": name, "deploymentId": props.get("DeploymentId"), "description": props.get("Description"), "variables": props.get("Variables") });
            api.rest("apigateway", Method::POST, &format!("/restapis/{rest}/stages"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
            Ok(Created { physical_id: name, attrs: Map::new() })
        }
        _ => Err(unsupported(ty)),
    }
}

pub(super) async fn update(ctx: &Ctx<'_>, ty: &str, current: &Created, old: &Value, new: &Value) -> Result<Created, String> {
    let api = ctx.api;
    let id = current.physical_id.as_str();
    match ty {
        "AWS::ApiGateway::RestApi" => {
            match rest_api_body(api, new).await? {
                Some(doc) => {
                    api.rest("apigateway", Method::PUT, &format!("/restapis/{id}"), &[("mode", "overwrite")], Some(&doc)).await.map_err(fail)?;
                }
                None => {
                    let ops: Vec<Value> = [("Name", "/name"), ("Description", "/description")]
                        .iter()
                        .filter(|(k, _)| old.get(*k) != new.get(*k))
                        .map(|(k, p)| json!({ "op": "replace", "path": p, "value": s(new, k).unwrap_or_default() }))
                        .collect();
                    if !ops.is_empty() {
                        api.rest("apigateway", Method::PATCH, &format!("/restapis/{id}"), &[], Some(&json!({ "patchOperations": ops }))).await.map_err(fail)?;
                    }
                }
            }
        }
        "AWS::ApiGateway::Method" => {
            let (rest, resource, m) = (need(new, "RestApiId", ty)?, need(new, "ResourceId", ty)?, need(new, "HttpMethod", ty)?.to_uppercase());
            api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{resource}/methods/{m}"), &[], None).await.map_err(fail)?;
            put_method(api, new, ty).await?;
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(new, "RestApiId", ty)?;
            let mut ops = Vec::new();
            for (k, p) in [("DeploymentId", "/deploymentId"), ("Description", "/description")] {
                if old.get(k) != new.get(k) {
                    ops.push(json!({ "op": "replace", "path": p, "value": s(new, k).unwrap_or_default() }));
                }
            }
            let vars = |v: &Value| v.get("Variables").and_then(Value::as_object).cloned().unwrap_or_default();
            let (ov, nv) = (vars(old), vars(new));
            for (k, v) in &nv {
                if ov.get(k) != Some(v) {
                    ops.push(json!({ "op": "replace", "path": format!("/variables/{k}"), "value": template::scalar(v) }));
                }
            }
            for k in ov.keys().filter(|k| !nv.contains_key(*k)) {
                ops.push(json!({ "op": "remove", "path": format!("/variables/{k}") }));
            }
            if !ops.is_empty() {
                api.rest("apigateway", Method::PATCH, &format!("/restapis/{rest}/stages/{id}"), &[], Some(&json!({ "patchOperations": ops }))).await.map_err(fail)?;
            }
        }
        _ => {}
    }
    Ok(current.clone())
}

pub(super) async fn delete(ctx: &Ctx<'_>, ty: &str, id: &str, props: &Value) -> Result<(), String> {
    let api = ctx.api;
    match ty {
        "AWS::ApiGateway::RestApi" => gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{id}"), &[], None).await),
        "AWS::ApiGateway::Resource" => {
            let rest = need(props, "RestApiId", ty)?;
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{id}"), &[], None).await)
        }
        "AWS::ApiGateway::Method" => {
            let (rest, resource, m) = (need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/resources/{resource}/methods/{m}"), &[], None).await)
        }
        "AWS::ApiGateway::Deployment" => {
            let rest = need(props, "RestApiId", ty)?;
            if let Some(stage) = s(props, "StageName") {
                gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/stages/{stage}"), &[], None).await)?;
            }
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/deployments/{id}"), &[], None).await)
        }
        "AWS::ApiGateway::Stage" => {
            let rest = need(props, "RestApiId", ty)?;
            gone(api.rest("apigateway", Method::DELETE, &format!("/restapis/{rest}/stages/{id}"), &[], None).await)
        }
        _ => Ok(()),
    }
}

/// A RestApi's OpenAPI document: `Body` inline, or `BodyS3Location` read from firelocal's S3.
async fn rest_api_body(api: &Api, props: &Value) -> Result<Option<Value>, String> {
    if let Some(b) = props.get("Body") {
        return Ok(Some(b.clone()));
    }
    let Some(loc) = props.get("BodyS3Location") else { return Ok(None) };
    let (bucket, key) = (s(loc, "Bucket").unwrap_or_default(), s(loc, "Key").unwrap_or_default());
    let bytes = api.s3(Method::GET, &format!("/{}/{}", url_encode(&bucket), key.split('/').map(url_encode).collect::<Vec<_>>().join("/")), &[], bytes::Bytes::new()).await.map_err(fail)?;
    let text = String::from_utf8_lossy(&bytes);
    template::parse(&text).map(Some).map_err(|e| format!("BodyS3Location s3://{bucket}/{key}: {e}"))
}

/// `AWS::ApiGateway::Method`: the method, its responses, its integration and the integration's
/// responses, as the API takes them (camelCase).
async fn put_method(api: &Api, props: &Value, ty: &str) -> Result<(), String> {
    let (rest, resource, m) = (need(props, "RestApiId", ty)?, need(props, "ResourceId", ty)?, need(props, "HttpMethod", ty)?.to_uppercase());
    let base = format!("/restapis/{rest}/resources/{resource}/methods/{m}");
    let method = json!({
        "authorizationType": s(props, "AuthorizationType").unwrap_or_else(|| "NONE".into()),
        "apiKeyRequired": props.get("ApiKeyRequired"), "requestParameters": props.get("RequestParameters"),
        "requestModels": props.get("RequestModels"), "operationName": props.get("OperationName"), "authorizerId": props.get("AuthorizerId"),
    });
    api.rest("apigateway", Method::PUT, &base, &[], Some(&strip_nulls(method))).await.map_err(fail)?;
    for r in props.get("MethodResponses").and_then(Value::as_array).into_iter().flatten() {
        let status = need(r, "StatusCode", ty)?;
        let body = json!({ "responseParameters": r.get("ResponseParameters"), "responseModels": r.get("ResponseModels") });
        api.rest("apigateway", Method::PUT, &format!("{base}/responses/{status}"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
    }
    let Some(i) = props.get("Integration") else { return Ok(()) };
    let integration = json!({
        "type": i.get("Type"), "httpMethod": i.get("IntegrationHttpMethod"), "uri": i.get("Uri"), "credentials": i.get("Credentials"),
        "requestTemplates": i.get("RequestTemplates"), "requestParameters": i.get("RequestParameters"),
        "passthroughBehavior": i.get("PassthroughBehavior"), "contentHandling": i.get("ContentHandling"),
        "timeoutInMillis": i.get("TimeoutInMillis"), "cacheKeyParameters": i.get("CacheKeyParameters"), "connectionType": i.get("ConnectionType"),
    });
    api.rest("apigateway", Method::PUT, &format!("{base}/integration"), &[], Some(&strip_nulls(integration))).await.map_err(fail)?;
    for r in i.get("IntegrationResponses").and_then(Value::as_array).into_iter().flatten() {
        let status = need(r, "StatusCode", ty)?;
        let body = json!({
            "selectionPattern": r.get("SelectionPattern"), "responseTemplates": r.get("ResponseTemplates"),
            "responseParameters": r.get("ResponseParameters"), "contentHandling": r.get("ContentHandling"),
        });
        api.rest("apigateway", Method::PUT, &format!("{base}/integration/responses/{status}"), &[], Some(&strip_nulls(body))).await.map_err(fail)?;
    }
    Ok(())
}
