//! `athena_sql`: see `firelocal::fuzzing::athena_sql` for what it feeds and to which code.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| firelocal::fuzzing::athena_sql(data));
