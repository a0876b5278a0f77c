//! API Gateway REST APIs (restJson1, `/restapis...`) and their invoke URLs. `ops` is the control
//! plane (APIs, resources, methods, integrations, deployments, stages), `invoke` the data plane
//! (route matching, mapping templates through `engine::vtl`, MOCK, AWS and AWS_PROXY
//! integrations calling Firehose and Lambda in process), `wire` the paths and JSON.

pub mod error;
pub mod invoke;
pub mod keys;
pub mod openapi;
pub mod model;
pub mod ops;
pub mod wire;

pub use ops::ApiGateway;
