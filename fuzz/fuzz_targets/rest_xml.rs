//! `rest_xml`: see `firelocal::fuzzing::rest_xml` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::rest_xml(data));
