//! DingTalk's encrypted event subscription: query and body both the attacker's.
#![no_main]
use kefu_channels::dingtalk::events::{EventCallback, EventQuery};
use kefu_domain::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (query, body) = text.split_once('\n').unwrap_or(("", text));
    let Ok(q) = serde_json::from_str::<EventQuery>(query) else { return };
    let cb = EventCallback::new("token", "Dt0demoKeyForKefuSim0000000000000000000000A", "dingapp").unwrap();
    let _ = cb.open(&q, body, Timestamp::from_seconds(1_700_000_000));
});
