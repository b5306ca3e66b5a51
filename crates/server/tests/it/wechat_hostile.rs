//! Hostile and broken WeChat callbacks: each gets a clear 4xx, stores nothing, and never
//! brings the server down; platform retries of a good one store it once.

use kefu_channels::wxcrypto::{MsgCrypt, signature};

use crate::helpers::*;

const TOKEN: &str = "demotoken";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APP: &str = "wxdemo0000000001";

fn inner(msg_id: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_demo00000001]]></ToUserName><FromUserName><![CDATA[o_hostile]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>",
        T0.seconds()
    )
}

/// A request as WeChat would send it, with knobs to break each part.
struct Req {
    ts: i64,
    enc: String,
    sign_over: Option<String>,
    body: Option<Vec<u8>>,
}

impl Req {
    fn new(plain: &str) -> Req {
        Req {
            ts: T0.seconds(),
            enc: MsgCrypt::new(KEY, APP).unwrap().encrypt(plain),
            sign_over: None,
            body: None,
        }
    }

    async fn send(&self, app: &TestApp) -> (u16, String) {
        let ts = self.ts.to_string();
        let sig = signature(&[TOKEN, &ts, "nonce1"]);
        let msg_sig = signature(&[TOKEN, &ts, "nonce1", self.sign_over.as_deref().unwrap_or(&self.enc)]);
        let url = app.url(&format!(
            "/callback/wechat/wechat?signature={sig}&timestamp={ts}&nonce=nonce1&openid=o_hostile&encrypt_type=aes&msg_signature={msg_sig}"
        ));
        let body = self.body.clone().unwrap_or_else(|| {
            format!("<xml><ToUserName><![CDATA[gh_demo00000001]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>", self.enc)
                .into_bytes()
        });
        let res = reqwest::Client::new().post(url).body(body).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

/// Every stored message, with kefu's own notices (sender "system") left out.
async fn stored(app: &TestApp) -> usize {
    stored_messages(app, |m| m["sender"]["kind"] != "system").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_callback_gets_a_clear_4xx_and_stores_nothing() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let good = inner(1, "hi");
    let mut cases: Vec<(&str, Req, u16)> = vec![];
    let mut r = Req::new(&good);
    r.sign_over = Some("forged".into());
    cases.push(("bad signature", r, 401));
    let mut r = Req::new(&good);
    r.ts -= 3600;
    cases.push(("replayed with an old timestamp", r, 401));
    let mut r = Req::new(&good);
    r.enc = format!("{}AAAA", &r.enc[..r.enc.len() - 8]) + "AAA=";
    cases.push(("tampered ciphertext (re-signed)", r, 401));
    let mut r = Req::new(&good);
    r.enc = MsgCrypt::new(KEY, "wx_another_app").unwrap().encrypt(&good);
    cases.push(("addressed to another AppID", r, 401));
    let mut r = Req::new(&good);
    r.body = Some(br#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>"#.to_vec());
    cases.push(("XXE in the envelope", r, 400));
    let xxe_inner = "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content><MsgId>9</MsgId></xml>";
    cases.push(("XXE inside the encrypted message", Req::new(xxe_inner), 400));
    let mut r = Req::new(&good);
    r.body = Some(b"<xml><ToUserName><![CDATA[gh_demo00000001]]></ToUserName><Encrypt><![CDATA[abc".to_vec());
    cases.push(("truncated XML", r, 400));
    cases.push(("truncated inner XML", Req::new(&good[..good.len() - 20]), 400));
    let mut r = Req::new(&good);
    r.body = Some(vec![b'x'; 300 * 1024]);
    cases.push(("oversized body", r, 413));
    let mut r = Req::new(&good);
    r.body = Some(b"<xml><Encrypt>\xff\xfe\xfd</Encrypt></xml>".to_vec());
    cases.push(("invalid UTF-8", r, 400));
    for (what, req, want) in &cases {
        let (status, text) = req.send(&app).await;
        assert_eq!(status, *want, "{what}: {text}");
        assert!(!text.is_empty() && text != "success", "{what} needs a reason, got {text:?}");
    }
    assert_eq!(stored(&app).await, 0, "nothing may be stored");
    let (status, _) = Req::new(&inner(2, "still alive")).send(&app).await;
    assert_eq!(status, 200, "the server survived every case");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_sent_to_a_safe_mode_account_is_refused() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let ts = T0.seconds().to_string();
    let sig = signature(&[TOKEN, &ts, "n"]);
    let url =
        app.url(&format!("/callback/wechat/wechat?signature={sig}&timestamp={ts}&nonce=n&openid=o_hostile"));
    let res = reqwest::Client::new().post(url).body(inner(3, "明文")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_parameters_and_unknown_channels_are_clear_client_errors() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let res = reqwest::Client::new()
        .post(app.url("/callback/wechat/wechat"))
        .body(inner(4, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("missing"));
    let res = reqwest::Client::new()
        .post(app.url("/callback/wechat/nope"))
        .body(inner(4, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_retrying_the_same_message_stores_it_once() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let req = Req::new(&inner(42, "重试三次"));
    for _ in 0..3 {
        assert_eq!(req.send(&app).await, (200, "success".into()));
    }
    assert_eq!(stored(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_follow_event_gets_the_same_passive_reply_and_one_welcome() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let event = format!(
        "<xml><ToUserName><![CDATA[gh_demo00000001]]></ToUserName><FromUserName><![CDATA[o_hostile]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>",
        T0.seconds()
    );
    let req = Req::new(&event);
    let crypt = MsgCrypt::new(KEY, APP).unwrap();
    let mut replies = vec![];
    for _ in 0..2 {
        let (status, body) = req.send(&app).await;
        assert_eq!(status, 200);
        let env = kefu_channels::wechat::xml::parse(&body).unwrap();
        let xml = crypt.decrypt(env.get("Encrypt").unwrap()).unwrap();
        replies.push(kefu_channels::wechat::xml::parse(&xml).unwrap().get("Content").unwrap().to_owned());
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(stored(&app).await, 2, "one event, one welcome");
}

/// A customer's image arrives as a link to the platform's media server; agents' browsers get
/// it only from kefu's own copy (the pages allow same-origin images only), and a link to
/// anywhere else is never fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_images_are_served_from_kefus_copy_and_foreign_links_are_never_fetched() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let res = reqwest::get(app.url("/")).await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
    assert!(!csp.contains("http:") && !csp.contains("https:"), "{csp}");

    let lead = app.agent("lead", "lead123").await;
    sim.oa_user_says(APP, "o_demo_xiaoming", kefu_sim::SimMessage::image(kefu_sim::SAMPLE_PNG))
        .await
        .unwrap();
    let conv = lead.conversations().await[0]["id"].as_i64().unwrap();
    let img = lead.messages(conv).await.into_iter().find(|m| m["content"]["type"] == "image").unwrap();
    let remote = img["content"]["url"].as_str().unwrap().to_owned();
    assert!(remote.starts_with("http"), "the platform's link: {remote}");
    let res = lead.get(&format!("/messages/{}/media", img["id"])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), kefu_sim::SAMPLE_PNG);
    let now = lead.messages(conv).await.into_iter().find(|m| m["id"] == img["id"]).unwrap();
    assert!(now["content"]["url"].as_str().unwrap().starts_with("/media/"), "{now}");

    // A link to anywhere but the platform's media servers stays unfetched.
    let (trap_url, hits) = trap("/leak.png").await;
    let channel = app.store.channel_by_key("wechat").await.unwrap();
    let inbound = kefu_store::Inbound {
        channel_id: channel.id,
        external_id: "o_forger".into(),
        profile: Default::default(),
        dedupe_key: Some("forged-image-1".into()),
        content: kefu_domain::Content::Image { url: Some(trap_url), media_id: None },
        received_at: T0,
        initial_state: kefu_domain::ConversationState::Queued,
        initial_group: None,
        passive: false,
    };
    let kefu_store::IngestOutcome::Accepted(a) = app.store.ingest(inbound).await.unwrap() else { panic!() };
    let res = lead.get(&format!("/messages/{}/media", a.message.id)).await;
    assert_eq!(res.status(), 409);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "kefu fetched a foreign URL");
}
