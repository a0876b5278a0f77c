//! Things that are not a service: long-running machinery the services drive. Today the Firehose
//! buffer/flush/delivery loop; later the SQL engine, the VTL interpreter and Lambda workers.

pub mod firehose;
pub mod lambda;
pub mod vtl;
