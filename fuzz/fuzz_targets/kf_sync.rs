//! A 微信客服 sync_msg page: JSON from the platform, mapped to kefu's content.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = kefu_channels::wechat::kf::parse_sync(&v);
    }
});
