//! `sigv4_auth`: see `firelocal::fuzzing::sigv4_auth` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::sigv4_auth(data));
