//! The official vectors from the protocol reference (§1.10, §2.3, §3d) against the simulator's
//! own envelope code.

use super::*;

const OA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OA_APPID: &str = "wxb11529c136998cb6";
const RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";

#[test]
fn the_official_java_sample_encrypts_chinese_text_byte_for_byte() {
    let env = Envelope::new(OA_KEY).unwrap();
    let enc = env.seal_with(RANDOM, "我是中文abcd123", OA_APPID);
    assert_eq!(
        enc,
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    );
    assert_eq!(
        signature(&["pamtest", "1409304348", "xxxxxx", &enc]),
        "82c962d39941aa48552f90ef55aa323dc620cc10"
    );
    assert_eq!(env.open(&enc, OA_APPID).unwrap(), "我是中文abcd123");
}

#[test]
fn the_official_python_sample_decrypts_and_its_msg_signature_matches() {
    let enc = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
    assert_eq!(
        signature(&["spamtest", "1409735669", "1320562132", enc]),
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    );
    let env = Envelope::new(OA_KEY).unwrap();
    let msg = env.open(enc, "wx2c2769f8efd9abc2").unwrap();
    assert_eq!(
        msg,
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
    );
    assert!(matches!(env.open(enc, "wxother"), Err(CryptoError::WrongReceiveId { .. })));
}

#[test]
fn the_wecom_echostr_vector_decrypts_to_the_documented_number() {
    let echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    assert_eq!(
        signature(&["QDG6eK", "1409659589", "263014780", echostr]),
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    );
    let env = Envelope::new("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").unwrap();
    assert_eq!(env.open(echostr, "wx5823bf96d3bd56c7").unwrap(), "1616140317555161061");
}

#[test]
fn emoji_lengths_are_counted_in_bytes_and_full_blocks_get_a_whole_pad_block() {
    let env = Envelope::new(OA_KEY).unwrap();
    let emoji = env.seal_with(RANDOM, "<xml><Content><![CDATA[你好😀]]></Content></xml>", OA_APPID);
    assert_eq!(
        emoji,
        "jn1L23DB+6ELqJ+6bruv2wQKbEbrLnF0WP5O9B4FvESk8RnTUzVHwFauNCiV/NcrD6EDUMmCSmD4sO/2RP4zE15LA4kh6JusesnwmQ81H9oPTEfonRtl/RXnCzmz/6B9"
    );
    let full = env.seal_with(RANDOM, &"x".repeat(26), OA_APPID);
    assert_eq!(
        full,
        "jn1L23DB+6ELqJ+6bruv2whn1fDIMpmLPYOiQU5ZlCf5ISusdxHOJKY4l/VvGZXv1gdIWBk2mReXBoyRsZWbYWp3WTghbH/zS/0xHsPUs416Ez/Wti2iAH72px6IwxBl"
    );
    assert_eq!(
        signature(&["pamtest", "1409304348", "xxxxxx", &full]),
        "3f34d7d58ceda9096226b792cd1ad1ca73f954d6"
    );
    assert_eq!(env.open(&emoji, OA_APPID).unwrap(), "<xml><Content><![CDATA[你好😀]]></Content></xml>");
}

#[test]
fn the_plain_server_signature_uses_three_sorted_parts() {
    assert_eq!(signature(&["pamtest", "1409304348", "xxxxxx"]), "76480565cbe296026c53aaacd1ad523a1ddba24f");
}

#[test]
fn keys_of_the_wrong_length_or_alphabet_are_refused_and_all_a_is_zero() {
    assert!(decode_aes_key("abc").is_err());
    assert!(decode_aes_key(&format!("{}=", &OA_KEY[..42])).is_err());
    assert_eq!(decode_aes_key(&"A".repeat(43)).unwrap(), [0u8; 32]);
}

#[test]
fn random_envelopes_round_trip_and_tampering_is_detected() {
    let env = Envelope::new("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").unwrap();
    let sealed = env.seal("hello 世界", "ww123");
    assert_eq!(env.open_any(&sealed).unwrap(), ("hello 世界".to_owned(), "ww123".to_owned()));
    assert!(env.open("not base64!", "ww123").is_err());
    assert!(env.open("AAAA", "ww123").is_err());
}

#[test]
fn constant_time_comparison_agrees_with_equality() {
    assert!(same("abc", "abc"));
    assert!(!same("abc", "abd"));
    assert!(!same("abc", "ab"));
}

/// DingTalk §3d: DT1 (official, DingCallbackCrypto3.py) and DT3 (the `success` answer).
const DT_KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
const DT_OWNER: &str = "ding6ccabc44d2c8d38b";
const DT1_ENCRYPT: &str = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";

#[test]
fn the_official_dingtalk_event_vector_verifies_opens_and_reseals_byte_for_byte() {
    assert_eq!(
        signature(&["mryue", "1608001896814", "WL4PK6yA", DT1_ENCRYPT]),
        "03044561471240d4a14bb09372dfcfd4fd0e40cb"
    );
    let env = Envelope::new(DT_KEY).unwrap();
    assert_eq!(env.open(DT1_ENCRYPT, DT_OWNER).unwrap(), r#"{"EventType":"check_url"}"#);
    assert_eq!(env.seal_with(b"l7Y3EcX2CU5w8av3", r#"{"EventType":"check_url"}"#, DT_OWNER), DT1_ENCRYPT);
}

#[test]
fn the_dingtalk_success_answer_vector_matches() {
    let env = Envelope::new(DT_KEY).unwrap();
    let enc = env.seal_with(RANDOM, "success", DT_OWNER);
    assert_eq!(
        enc,
        "WriYdpwgW9R3hQnNQCWb99OFF54g0q8jTnsnENNcQVQtGNNNONLnnaRRsyJDkd9rdVbNdMyRj842O3VhNVQOmw=="
    );
    assert_eq!(
        signature(&["mryue", "1608001896814", "WL4PK6yA", &enc]),
        "976c3d87779e1226ef62b26faf308bef50edc62d"
    );
}
