//! Official Account callback handling against the official sample vectors and hostile input.

use super::*;

const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_seconds(secs)
}

fn q(pairs: &[(&str, &str)]) -> CallbackQuery {
    let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
    CallbackQuery {
        signature: get("signature"),
        msg_signature: get("msg_signature"),
        timestamp: get("timestamp"),
        nonce: get("nonce"),
        echostr: get("echostr"),
        openid: get("openid"),
        encrypt_type: get("encrypt_type"),
    }
}

#[test]
fn url_verification_echoes_echostr_for_the_documented_signature() {
    let oa = OaCallback::new("pamtest", Mode::Plain, None, "wx1").unwrap();
    let query = q(&[
        ("signature", "76480565cbe296026c53aaacd1ad523a1ddba24f"),
        ("timestamp", "1409304348"),
        ("nonce", "xxxxxx"),
        ("echostr", "5837397749"),
    ]);
    assert_eq!(oa.verify_url(&query, at(1409304348)).unwrap(), "5837397749");
    let bad = q(&[("signature", "0000"), ("timestamp", "1409304348"), ("nonce", "xxxxxx"), ("echostr", "1")]);
    assert_eq!(oa.verify_url(&bad, at(1409304348)), Err(CallbackError::BadSignature));
    assert_eq!(oa.verify_url(&query, at(1409304348 + 3600)), Err(CallbackError::Stale));
}

fn official_c() -> (OaCallback, CallbackQuery, String) {
    let oa = OaCallback::new("spamtest", Mode::Compatible, Some(KEY), "wx2c2769f8efd9abc2").unwrap();
    let enc = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    );
    let plain_sig = wxcrypto::signature(&["spamtest", "1409735669", "1320562132"]);
    let query = q(&[
        ("signature", &plain_sig),
        ("timestamp", "1409735669"),
        ("nonce", "1320562132"),
        ("encrypt_type", "aes"),
        ("msg_signature", "5d197aaffba7e9b25a30732f161a50dee96bd5fa"),
    ]);
    (oa, query, body)
}

#[test]
fn the_official_compatible_mode_sample_opens_to_its_text_message() {
    let (oa, query, body) = official_c();
    let opened = oa.open(&query, &body, at(1409735669)).unwrap();
    assert!(opened.encrypted);
    let m = oa.message(&opened).unwrap();
    assert_eq!((m.from.as_str(), m.to.as_str()), ("oyORnuP8q7ou2gfYjqLzSIWZf0rs", "gh_10f6c3c3ac5a"));
    assert_eq!(m.content, Content::text("abcdteT"));
    assert_eq!(m.dedupe_key, "6054768590064713728");
}

#[test]
fn a_tampered_or_misaddressed_message_is_refused() {
    let (oa, query, body) = official_c();
    let tampered = body.replace("hyzAe4Oz", "hyzAe4Oa");
    assert_eq!(oa.open(&query, &tampered, at(1409735669)).unwrap_err(), CallbackError::BadSignature);
    let wrong_app = OaCallback::new("spamtest", Mode::Safe, Some(KEY), "wx-another-app").unwrap();
    assert!(matches!(wrong_app.open(&query, &body, at(1409735669)), Err(CallbackError::Crypt(_))));
    assert_eq!(oa.open(&query, &body, at(1409735669 + 86_400)).unwrap_err(), CallbackError::Stale);
}

#[test]
fn safe_mode_refuses_plaintext_that_would_bypass_encryption() {
    let oa = OaCallback::new("t", Mode::Safe, Some(KEY), "wx1").unwrap();
    let sig = wxcrypto::signature(&["t", "100", "n"]);
    let query = q(&[("signature", &sig), ("timestamp", "100"), ("nonce", "n")]);
    let body = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>";
    assert_eq!(oa.open(&query, body, at(100)).unwrap_err(), CallbackError::PlaintextRefused);
    let plain = OaCallback::new("t", Mode::Plain, None, "wx1").unwrap();
    assert!(!plain.open(&query, body, at(100)).unwrap().encrypted);
}

#[test]
fn compatible_mode_refuses_a_plaintext_only_post_replayed_with_a_seen_signature() {
    // In compatible mode WeChat always sends the ciphertext; a POST with only the plaintext
    // (and a signature/timestamp/nonce triple from any access log) is an injection attempt.
    let (oa, _, _) = official_c();
    let plain_sig = wxcrypto::signature(&["spamtest", "1409735669", "1320562132"]);
    let query = q(&[("signature", &plain_sig), ("timestamp", "1409735669"), ("nonce", "1320562132")]);
    let forged = "<xml><ToUserName>gh_10f6c3c3ac5a</ToUserName><FromUserName>oyORnuP8q7ou2gfYjqLzSIWZf0rs</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>转账给我</Content><MsgId>1</MsgId></xml>";
    assert_eq!(oa.open(&query, forged, at(1409735669)).unwrap_err(), CallbackError::PlaintextRefused);
}

#[test]
fn an_encrypted_passive_reply_decrypts_back_for_the_platform() {
    let oa = OaCallback::new("tok", Mode::Safe, Some(KEY), "wxapp").unwrap();
    let crypt = MsgCrypt::new(KEY, "wxapp").unwrap();
    let inner = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o_1</FromUserName><CreateTime>100</CreateTime><MsgType>text</MsgType><Content>在吗</Content><MsgId>9</MsgId></xml>";
    let enc = crypt.encrypt(inner);
    let query = q(&[
        ("signature", &wxcrypto::signature(&["tok", "100", "n1"])),
        ("timestamp", "100"),
        ("nonce", "n1"),
        ("encrypt_type", "aes"),
        ("msg_signature", &wxcrypto::signature(&["tok", "100", "n1", &enc])),
    ]);
    let opened = oa
        .open(
            &query,
            &format!("<xml><ToUserName>gh_1</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"),
            at(100),
        )
        .unwrap();
    let msg = oa.message(&opened).unwrap();
    let reply = passive_reply(&msg, &Content::text("您好 😀 ]]> <x>"), at(101)).unwrap();
    let sealed = oa.seal(&opened, &reply, at(101), "n2");
    let env = parse(&sealed).unwrap();
    let enc = env.get("Encrypt").unwrap();
    assert!(wxcrypto::verify(&["tok", "101", "n2", enc], env.get("MsgSignature").unwrap()));
    let back = parse(&crypt.decrypt(enc).unwrap()).unwrap();
    assert_eq!(back.get("Content"), Some("您好 😀 ]]> <x>"));
    assert_eq!((back.get("ToUserName"), back.get("FromUserName")), (Some("o_1"), Some("gh_1")));
}
