//! AWS Lambda (restJson1, `/2015-03-31/functions`): functions run as local processes over the
//! Lambda Runtime API (`engine::lambda`). `wire` parses and renders, `ops` decides, `store`
//! keeps function versions, `model` holds AWS's shapes.

pub mod error;
pub mod model;
pub mod ops;
pub mod store;
pub mod wire;

pub use ops::Lambda;
