//! `vtl`: see `firelocal::fuzzing::vtl` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::vtl(data));
