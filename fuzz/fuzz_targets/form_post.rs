//! `form_post`: see `firelocal::fuzzing::form_post` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::form_post(data));
