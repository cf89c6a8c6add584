//! Any query string on a list: a page request or a validation error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        flexportal_api::fuzzing::list_query(text);
    }
});
