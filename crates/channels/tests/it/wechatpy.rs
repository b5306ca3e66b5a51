//! kefu's WeChat crypto against wechatpy, run as a subprocess: what one encrypts, the other
//! must open byte for byte. Skipped (loudly) without Python and wechatpy, unless
//! `KEFU_REQUIRE_PEERS` is set, as CI does.

use std::io::Write;
use std::process::{Command, Stdio};

use kefu_channels::wechat::callback::CallbackQuery;
use kefu_channels::wechat::oa::{Mode, OaCallback, passive_reply};
use kefu_channels::wechat::xml::parse;
use kefu_channels::wxcrypto::{self, MsgCrypt};
use kefu_domain::{Content, Timestamp};
use serde_json::{Value, json};

const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

fn wechatpy_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import wechatpy"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("KEFU_REQUIRE_PEERS").is_none(),
            "KEFU_REQUIRE_PEERS is set but wechatpy is missing"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** python3 + wechatpy not found: wechatpy interop tests were SKIPPED ***\n"
        );
    }
    ok
}

fn wechatpy(req: Value) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/wechatpy_peer.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(req.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "wechatpy failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const INNER: &str = "<xml><ToUserName><![CDATA[gh_interop]]></ToUserName><FromUserName><![CDATA[o_interop_user]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[跨实现测试 😀 <b>x</b> & \"q\"]]></Content><MsgId>77</MsgId></xml>";

#[test]
fn a_message_wechatpy_encrypts_opens_in_kefu_exactly() {
    if !wechatpy_available() {
        return;
    }
    let r = wechatpy(json!({"op": "oa_encrypt", "token": "tok", "key": KEY, "app_id": "wxinterop",
        "xml": INNER, "nonce": "n123", "timestamp": "1700000000"}));
    let env = parse(r["envelope"].as_str().unwrap()).unwrap();
    let enc = env.get("Encrypt").unwrap();
    let query = CallbackQuery {
        signature: Some(wxcrypto::signature(&["tok", "1700000000", "n123"])),
        msg_signature: env.get("MsgSignature").map(str::to_owned),
        timestamp: Some("1700000000".into()),
        nonce: Some("n123".into()),
        encrypt_type: Some("aes".into()),
        ..Default::default()
    };
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_interop]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    );
    let oa = OaCallback::new("tok", Mode::Safe, Some(KEY), "wxinterop").unwrap();
    let opened = oa.open(&query, &body, Timestamp::from_seconds(1_700_000_000)).unwrap();
    let msg = oa.message(&opened).unwrap();
    assert_eq!(msg.content, Content::text("跨实现测试 😀 <b>x</b> & \"q\""));
    assert_eq!(msg.dedupe_key, "77");
}

#[test]
fn a_passive_reply_kefu_seals_decrypts_in_wechatpy_exactly() {
    if !wechatpy_available() {
        return;
    }
    let oa = OaCallback::new("tok", Mode::Safe, Some(KEY), "wxinterop").unwrap();
    let crypt = MsgCrypt::new(KEY, "wxinterop").unwrap();
    let enc = crypt.encrypt(INNER);
    let query = CallbackQuery {
        signature: Some(wxcrypto::signature(&["tok", "1700000000", "n1"])),
        msg_signature: Some(wxcrypto::signature(&["tok", "1700000000", "n1", &enc])),
        timestamp: Some("1700000000".into()),
        nonce: Some("n1".into()),
        encrypt_type: Some("aes".into()),
        ..Default::default()
    };
    let now = Timestamp::from_seconds(1_700_000_000);
    let opened = oa.open(&query, &format!("<xml><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"), now).unwrap();
    let msg = oa.message(&opened).unwrap();
    let reply = passive_reply(&msg, &Content::text("您好！🎉 ]]> 结束"), now).unwrap();
    let sealed = oa.seal(&opened, &reply, now, "n2");
    let env = parse(&sealed).unwrap();
    let r = wechatpy(json!({"op": "oa_decrypt", "token": "tok", "key": KEY, "app_id": "wxinterop",
        "envelope": sealed, "signature": env.get("MsgSignature").unwrap(),
        "timestamp": env.get("TimeStamp").unwrap(), "nonce": "n2"}));
    assert_eq!(r["xml"].as_str().unwrap(), reply);
    assert_eq!(parse(&reply).unwrap().get("Content"), Some("您好！🎉 ]]> 结束"));
}

#[test]
fn wechatpy_accepts_a_wecom_echostr_kefu_encrypted() {
    if !wechatpy_available() {
        return;
    }
    let crypt = MsgCrypt::new(KEY, "wwcorp").unwrap();
    let echostr = crypt.encrypt("6140578291237483921");
    let sig = wxcrypto::signature(&["tok", "1700000000", "n9", &echostr]);
    let r = wechatpy(json!({"op": "work_check_echostr", "token": "tok", "key": KEY, "corp_id": "wwcorp",
        "signature": sig, "timestamp": "1700000000", "nonce": "n9", "echostr": echostr}));
    assert_eq!(r["echo"], "6140578291237483921");
}
