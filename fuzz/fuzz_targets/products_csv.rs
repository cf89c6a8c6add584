//! Any bytes as a product CSV import: rows or row errors, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        flexportal_api::fuzzing::products_csv(text);
    }
});
