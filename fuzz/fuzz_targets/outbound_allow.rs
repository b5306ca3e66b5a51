//! Admin-typed allow-list entries and webhook URLs (the SSRF guard's parsers).
#![no_main]
use kefu_channels::netguard::{Allow, AllowList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Allow::parse(text);
        let _ = AllowList::default().check_url(text);
    }
});
