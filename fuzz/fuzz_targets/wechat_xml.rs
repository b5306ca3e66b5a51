//! The XML parser behind every WeChat callback: any bytes, never a panic; XXE never expands.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(doc) = kefu_channels::wechat::xml::parse(text)
    {
        let _ = kefu_channels::wechat::message::parse_message(&doc);
        let _ = kefu_channels::wechat::wecom::classify(&doc);
    }
});
