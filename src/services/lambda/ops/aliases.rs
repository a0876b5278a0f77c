//! Aliases: create, get, list, update and delete, with weighted routing to two versions.

use super::*;

impl Lambda {
    pub(super) fn alias_not_found(&self, function: &str, alias: &str) -> LambdaError {
        LambdaError::ResourceNotFound(format!("Alias not found: arn:aws:lambda:{}:{ACCOUNT}:function:{function}:{alias}", self.region))
    }

    /// Checks an alias's target version and routing weights against the function's versions.
    pub(super) fn check_alias_target(e: &Entry, function: &str, version: &str, weights: &BTreeMap<String, f64>) -> LambdaResult<()> {
        for v in std::iter::once(version).chain(weights.keys().map(String::as_str)) {
            if !e.versions.contains_key(v) {
                return Err(LambdaError::ResourceNotFound(format!("Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:{v}")));
            }
        }
        if weights.contains_key(version) || weights.values().any(|w| !(0.0..=1.0).contains(w)) || weights.values().sum::<f64>() > 1.0 {
            return Err(LambdaError::InvalidParameterValue("The routing configuration must name other versions than the alias's own, with weights between 0.0 and 1.0 that sum to at most 1.0.".into()));
        }
        Ok(())
    }

    /// CreateAlias.
    pub fn create_alias(&self, function: &str, input: &Value) -> LambdaResult<Value> {
        let (name, _) = parse_function_name(function)?;
        let alias = input.get("Name").and_then(Value::as_str).unwrap_or_default().to_string();
        let valid = !alias.is_empty() && alias.len() <= 128 && !alias.chars().all(|c| c.is_ascii_digit()) && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(LambdaError::validation("name", &alias, "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"));
        }
        let version = input.get("FunctionVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        let weights = routing_weights(input);
        let mut fns = self.functions.lock();
        let e = fns.get_mut(&name).ok_or_else(|| not_found(&name, "$LATEST"))?;
        let arn = format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}:{alias}", self.region);
        if e.aliases.contains_key(&alias) {
            return Err(LambdaError::ResourceConflict(format!("Alias already exists: {arn}")));
        }
        Self::check_alias_target(e, &name, &version, &weights)?;
        let a = Alias { function: name.clone(), name: alias.clone(), arn, version, description: input.get("Description").and_then(Value::as_str).unwrap_or_default().to_string(), revision_id: uuid::Uuid::new_v4().to_string(), weights };
        self.store.save_alias(&a)?;
        e.aliases.insert(alias, a.clone());
        Ok(a.configuration())
    }

    /// GetAlias.
    pub fn get_alias(&self, function: &str, alias: &str) -> LambdaResult<Value> {
        let (name, _) = parse_function_name(function)?;
        let fns = self.functions.lock();
        let e = fns.get(&name).ok_or_else(|| not_found(&name, "$LATEST"))?;
        e.aliases.get(alias).map(Alias::configuration).ok_or_else(|| self.alias_not_found(&name, alias))
    }

    /// ListAliases (optionally only those pointing at `version`).
    pub fn list_aliases(&self, function: &str, version: Option<&str>) -> LambdaResult<Vec<Value>> {
        let (name, _) = parse_function_name(function)?;
        let fns = self.functions.lock();
        let e = fns.get(&name).ok_or_else(|| not_found(&name, "$LATEST"))?;
        Ok(e.aliases.values().filter(|a| version.is_none_or(|v| a.version == v)).map(Alias::configuration).collect())
    }

    /// UpdateAlias: a new version, description or routing.
    pub fn update_alias(&self, function: &str, alias: &str, input: &Value) -> LambdaResult<Value> {
        let (name, _) = parse_function_name(function)?;
        let mut fns = self.functions.lock();
        let e = fns.get_mut(&name).ok_or_else(|| not_found(&name, "$LATEST"))?;
        let mut a = e.aliases.get(alias).cloned().ok_or_else(|| self.alias_not_found(&name, alias))?;
        if let Some(rev) = input.get("RevisionId").and_then(Value::as_str)
            && rev != a.revision_id
        {
            return Err(LambdaError::PreconditionFailed("The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id".into()));
        }
        if let Some(v) = input.get("FunctionVersion").and_then(Value::as_str) {
            a.version = v.to_string();
        }
        if let Some(d) = input.get("Description").and_then(Value::as_str) {
            a.description = d.to_string();
        }
        if input.get("RoutingConfig").is_some() {
            a.weights = routing_weights(input);
        }
        Self::check_alias_target(e, &name, &a.version, &a.weights)?;
        a.revision_id = uuid::Uuid::new_v4().to_string();
        self.store.save_alias(&a)?;
        e.aliases.insert(alias.to_string(), a.clone());
        Ok(a.configuration())
    }

    /// DeleteAlias.
    pub fn delete_alias(&self, function: &str, alias: &str) -> LambdaResult<()> {
        let (name, _) = parse_function_name(function)?;
        let mut fns = self.functions.lock();
        let e = fns.get_mut(&name).ok_or_else(|| not_found(&name, "$LATEST"))?;
        e.aliases.remove(alias).ok_or_else(|| self.alias_not_found(&name, alias))?;
        self.store.delete_alias(&name, alias)
    }
}
