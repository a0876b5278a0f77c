//! `aws_query`: see `firelocal::fuzzing::aws_query` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::aws_query(data));
