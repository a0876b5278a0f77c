//! `aws_json`: see `firelocal::fuzzing::aws_json` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::aws_json(data));
