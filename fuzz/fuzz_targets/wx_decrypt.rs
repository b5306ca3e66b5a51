//! WeChat's AES envelope: base64, padding, lengths and app ids are all attacker-chosen.
#![no_main]
use kefu_channels::wxcrypto::MsgCrypt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let crypt = MsgCrypt::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxapp").unwrap();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crypt.decrypt(text);
        let _ = MsgCrypt::new(text, "wxapp");
    }
    let b64 = kefu_fuzz_b64(data);
    let _ = crypt.decrypt(&b64);
});

/// Valid base64 of arbitrary bytes, to get past the decoder into the padding and length checks.
fn kefu_fuzz_b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
