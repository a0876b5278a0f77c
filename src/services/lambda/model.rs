//! Lambda's shapes, named as in the AWS model (botocore `lambda/2015-03-31`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One function version as stored (`$LATEST` or a published number).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub version: String,
    pub arn: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub environment: BTreeMap<String, String>,
    pub code_sha256: String,
    pub code_size: u64,
    /// Where the code is: a folder under `<data>/lambda/code`, or the hot-reload path.
    pub code_dir: String,
    pub hot_reload: bool,
    pub last_modified: String,
    pub revision_id: String,
    pub architectures: Vec<String>,
    /// Resource policy statements (AddPermission).
    pub policy: Vec<Value>,
    pub tags: BTreeMap<String, String>,
    /// The last published version number (on `$LATEST` only).
    pub last_published: u64,
}

/// An alias: a name for a version, optionally sending a share of invocations to another one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub function: String,
    pub name: String,
    pub arn: String,
    pub version: String,
    pub description: String,
    pub revision_id: String,
    /// AdditionalVersionWeights: version → share of invocations (0..1).
    pub weights: BTreeMap<String, f64>,
}

impl Alias {
    /// AliasConfiguration, as the alias calls return it.
    pub fn configuration(&self) -> Value {
        let mut v = json!({ "AliasArn": self.arn, "Name": self.name, "FunctionVersion": self.version, "Description": self.description, "RevisionId": self.revision_id });
        if !self.weights.is_empty() {
            v["RoutingConfig"] = json!({ "AdditionalVersionWeights": self.weights });
        }
        v
    }
}

impl Function {
    /// `arn:...:function:name` for `$LATEST`, `...:name:N` for a version.
    pub fn qualified_arn(&self) -> String {
        if self.version == "$LATEST" { self.arn.clone() } else { format!("{}:{}", self.arn, self.version) }
    }

    /// The log group its output goes to.
    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.name)
    }

    /// FunctionConfiguration, as every control-plane call returns it.
    pub fn configuration(&self) -> Value {
        let mut c = json!({
            "FunctionName": self.name,
            "FunctionArn": self.qualified_arn(),
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": { "Mode": "PassThrough" },
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": self.architectures,
            "EphemeralStorage": { "Size": 512 },
            "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
            "RuntimeVersionConfig": { "RuntimeVersionArn": format!("arn:aws:lambda:::runtime:firelocal-{}", self.runtime) },
            "LoggingConfig": { "LogFormat": "Text", "LogGroup": self.log_group() },
        });
        if !self.environment.is_empty() {
            c["Environment"] = json!({ "Variables": self.environment });
        }
        c
    }
}
