//! `cfn_template`: see `firelocal::fuzzing::cfn_template` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::cfn_template(data));
