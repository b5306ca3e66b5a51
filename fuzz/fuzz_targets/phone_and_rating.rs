//! What customers type that kefu reads for meaning: phone numbers and survey ratings.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(p) = kefu_engine::oneid::phone_in(text) {
            assert!(kefu_engine::oneid::is_mobile(&p));
            let _ = kefu_engine::oneid::masked(&p);
        }
        if let Some(r) = kefu_engine::lifecycle::rating(text) {
            assert!((1..=5).contains(&r));
        }
    }
});
