//! The one integration-test binary: every test starts the real `firelocal` binary on a free
//! port and talks to it with real clients (aws-sdk-rust, plain HTTP).

mod apigateway;
mod athena;
mod bad_input;
mod common;
mod firehose;
mod firehose_transform;
mod iam_enforcement;
mod lambda;
mod s3_buckets;
mod s3_config;
mod s3_listing;
mod s3_multipart;
mod s3_objects;
mod server;
mod snapshot;
