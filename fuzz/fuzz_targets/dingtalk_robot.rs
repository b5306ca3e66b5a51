//! A DingTalk robot callback body (after the signature check, which does not cover it).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = kefu_channels::dingtalk::robot::parse(text);
    }
});
