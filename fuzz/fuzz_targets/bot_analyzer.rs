//! The bot's Chinese text analysis on anything a customer sends.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static ANALYZER: OnceLock<kefu_bot::Analyzer> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let a = ANALYZER.get_or_init(kefu_bot::Analyzer::default);
        let _ = a.analyze(text);
    }
});
