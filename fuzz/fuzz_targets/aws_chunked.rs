//! Fuzzes the aws-chunked body decoder S3 uploads go through.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = firelocal::protocol::aws_chunked::decode(data);
});
