//! Fuzzes API Gateway mapping templates: parsing and rendering any UTF-8 must return Ok or Err,
//! never panic, hang or blow up memory.
#![no_main]

use firelocal::engine::vtl::{Input, Val, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(template) = std::str::from_utf8(data) {
        let input = Input { body: r#"{"a":[1,2,{"b":"c"}],"s":"x"}"#.into(), ..Default::default() };
        let _ = render(template, input, Val::Null, Val::Null);
    }
});
