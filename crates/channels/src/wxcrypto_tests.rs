//! Known-answer tests from the platforms' official samples (see shared/protocols), plus tampering.

use super::*;

const OA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

#[test]
fn official_java_sample_encrypts_to_the_published_ciphertext() {
    let c = MsgCrypt::new(OA_KEY, "wxb11529c136998cb6").unwrap();
    let enc = c.encrypt_with("我是中文abcd123", b"aaaabbbbccccdddd");
    assert_eq!(
        enc,
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    );
    assert_eq!(c.decrypt(&enc).unwrap(), "我是中文abcd123");
    assert_eq!(
        signature(&["pamtest", "1409304348", "xxxxxx", &enc]),
        "82c962d39941aa48552f90ef55aa323dc620cc10"
    );
}

#[test]
fn official_python_sample_decrypts_with_its_signature() {
    let enc = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
    assert!(verify(
        &["spamtest", "1409735669", "1320562132", enc],
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    ));
    let c = MsgCrypt::new(OA_KEY, "wx2c2769f8efd9abc2").unwrap();
    let xml = c.decrypt(enc).unwrap();
    assert!(
        xml.starts_with("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName>"),
        "{xml}"
    );
    assert!(xml.contains("<MsgId>6054768590064713728</MsgId>\n</xml>"));
}

#[test]
fn the_all_zero_key_component_example_round_trips_exactly() {
    let c = MsgCrypt::new(&"A".repeat(43), "wx134c8103faa5a59e").unwrap();
    let enc = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==";
    assert!(verify(&["AAAAA", "1715943329", "1590219412", enc], "6c12a4205838198b8fa631b3220723bb07f1015c"));
    let xml = c.decrypt(enc).unwrap();
    assert_eq!(xml.len(), 292);
    assert!(xml.contains("<debug_str><![CDATA[hello world]]></debug_str>"));
    let reply = c.encrypt_with("<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>", b"999951349e8ee746");
    assert_eq!(
        reply,
        "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7"
    );
    assert_eq!(
        signature(&["AAAAA", "1713424427", "415670741", &reply]),
        "03e0812039325c2712ef5f0f980fd14c70d6e307"
    );
}

#[test]
fn a_length_that_fills_the_last_block_gets_a_full_padding_block_and_emoji_count_bytes() {
    let c = MsgCrypt::new(OA_KEY, "wxb11529c136998cb6").unwrap();
    let full = c.encrypt_with(&"x".repeat(26), b"aaaabbbbccccdddd");
    assert_eq!(
        full,
        "jn1L23DB+6ELqJ+6bruv2whn1fDIMpmLPYOiQU5ZlCf5ISusdxHOJKY4l/VvGZXv1gdIWBk2mReXBoyRsZWbYWp3WTghbH/zS/0xHsPUs416Ez/Wti2iAH72px6IwxBl"
    );
    let emoji = c.encrypt_with("<xml><Content><![CDATA[你好😀]]></Content></xml>", b"aaaabbbbccccdddd");
    assert_eq!(
        emoji,
        "jn1L23DB+6ELqJ+6bruv2wQKbEbrLnF0WP5O9B4FvESk8RnTUzVHwFauNCiV/NcrD6EDUMmCSmD4sO/2RP4zE15LA4kh6JusesnwmQ81H9oPTEfonRtl/RXnCzmz/6B9"
    );
    assert_eq!(c.decrypt(&emoji).unwrap(), "<xml><Content><![CDATA[你好😀]]></Content></xml>");
}

#[test]
fn wecom_official_sample_verifies_and_decrypts_the_echostr() {
    let c = MsgCrypt::new("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7").unwrap();
    let echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    assert!(verify(
        &["QDG6eK", "1409659589", "263014780", echostr],
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
    ));
    assert_eq!(c.decrypt(echostr).unwrap(), "1616140317555161061");
}

#[test]
fn wechatpy_vector_encrypts_deterministically() {
    let c = MsgCrypt::new("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a").unwrap();
    let plain = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    let enc = c.encrypt_with(plain, b"1234567890123456");
    assert_eq!(
        enc,
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    );
    assert_eq!(
        signature(&["123456", "1411525903", "461056294", &enc]),
        "407518b7649e86ef23978113f92d27afa9296533"
    );
    assert!(!verify(
        &[
            "123456",
            "1411443780",
            "437374424",
            "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
        ],
        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
    ));
}

#[test]
fn tampering_wrong_keys_and_wrong_receivers_are_errors_not_panics() {
    let c = MsgCrypt::new(OA_KEY, "wxb11529c136998cb6").unwrap();
    let enc = c.encrypt("hello 你好");
    let mut bytes = STANDARD.decode(&enc).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    assert!(c.decrypt(&STANDARD.encode(&bytes)).is_err());
    assert_eq!(c.decrypt("not base64!!"), Err(CryptError::BadBase64));
    assert_eq!(c.decrypt(&STANDARD.encode([1u8; 15])), Err(CryptError::BadLength));
    assert_eq!(c.decrypt(""), Err(CryptError::BadLength));
    let other = MsgCrypt::new(OA_KEY, "wx-someone-else").unwrap();
    assert_eq!(other.decrypt(&enc), Err(CryptError::WrongReceiver));
    let wrong_key = MsgCrypt::new(&"B".repeat(43), "wxb11529c136998cb6").unwrap();
    assert!(wrong_key.decrypt(&enc).is_err());
    assert_eq!(MsgCrypt::new("short", "x").unwrap_err(), CryptError::BadKey);
    let non_ascii = format!("{}a", "é".repeat(21));
    assert_eq!(non_ascii.len(), 43);
    assert_eq!(MsgCrypt::new(&non_ascii, "x").err(), Some(CryptError::BadKey));
    for n in 0..200 {
        let garbage: Vec<u8> = (0..(16 * (n % 7 + 1))).map(|i| (i * 31 + n) as u8).collect();
        let _ = c.decrypt(&STANDARD.encode(garbage));
    }
}
