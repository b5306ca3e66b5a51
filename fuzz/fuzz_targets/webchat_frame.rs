//! A frame from a web visitor's browser, then its validation.
#![no_main]
use kefu_channels::webchat::{ClientFrame, valid_visitor_id, validate_send};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = valid_visitor_id(text);
    if let Ok(ClientFrame::Send { client_id, text }) = serde_json::from_str::<ClientFrame>(text) {
        let _ = validate_send(&client_id, &text);
    }
});
