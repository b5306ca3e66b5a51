//! A 公众号 callback in safe mode: the query and the body are both the attacker's.
#![no_main]
use kefu_channels::wechat::callback::CallbackQuery;
use kefu_channels::wechat::oa::{Mode, OaCallback};
use kefu_domain::Timestamp;
use libfuzzer_sys::fuzz_target;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, body) = text.split_once('\n').unwrap_or(("", text));
    let q: CallbackQuery = serde_json::from_str(query).unwrap_or_default();
    for mode in [Mode::Safe, Mode::Compatible, Mode::Plain] {
        let oa = OaCallback::new("token", mode, Some(KEY), "wxapp").unwrap();
        if let Ok(opened) = oa.open(&q, body, Timestamp::from_seconds(1_700_000_000)) {
            let _ = oa.message(&opened);
        }
    }
});
