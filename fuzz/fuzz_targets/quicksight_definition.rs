//! `quicksight_definition`: see `firelocal::fuzzing::quicksight_definition` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::quicksight_definition(data));
