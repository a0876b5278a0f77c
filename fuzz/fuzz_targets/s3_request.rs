//! `s3_request`: see `firelocal::fuzzing::s3_request` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::s3_request(data));
