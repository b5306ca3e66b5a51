//! A WeCom / 微信客服 callback: query and body both the attacker's.
#![no_main]
use kefu_channels::wechat::callback::CallbackQuery;
use kefu_channels::wechat::wecom::{WecomCallback, classify};
use kefu_domain::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, body) = text.split_once('\n').unwrap_or(("", text));
    let q: CallbackQuery = serde_json::from_str(query).unwrap_or_default();
    let cb = WecomCallback::new("token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorp").unwrap();
    if let Ok(doc) = cb.open(&q, body, Timestamp::from_seconds(1_700_000_000)) {
        let _ = classify(&doc);
    }
    let _ = cb.verify_url(&q, Timestamp::from_seconds(1_700_000_000));
});
