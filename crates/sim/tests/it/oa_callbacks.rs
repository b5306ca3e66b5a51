//! OA pushes: signing and encryption per mode, passive replies, retries, URL verification.

use crate::receiver::{Answer, Receiver, Responder, encrypted_reply, field, keys};
use crate::{APP_ID, GH, OA_KEY, OA_TOKEN, config, start};
use kefu_sim::{CallbackTarget, OA_UNAVAILABLE, OaMode, SimMessage, Via};
use std::sync::Arc;
use std::time::Duration;

fn passive_text(to: &str, text: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{GH}]]></FromUserName>\
         <CreateTime>1700000001</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content></xml>"
    )
}

fn answer_with(f: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Responder {
    Arc::new(move |_, n, _| f(n))
}

#[tokio::test]
async fn a_safe_mode_message_arrives_signed_and_encrypted() {
    let k = keys(OA_TOKEN, OA_KEY, APP_ID, false);
    let respond: Responder = Arc::new(|hit, _, k| {
        let plain = hit.plaintext.clone().unwrap_or_default();
        let openid = field(&plain, "FromUserName").unwrap_or_default();
        Answer::ok(&encrypted_reply(k, &passive_text(&openid, "收到，马上为您处理")))
    });
    let rx = Receiver::start(k, respond).await;
    let s = start(config(OaMode::Safe, Some(&rx.url))).await;

    let d = s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("你好😀 ]]> <b>")).await.unwrap();
    assert!(d.ok, "{d:?}");
    assert_eq!(d.attempts, 1);

    let hit = rx.hits().pop().unwrap();
    assert!(hit.signed, "signature and msg_signature verify");
    assert_eq!(hit.query.get("encrypt_type").map(String::as_str), Some("aes"));
    assert_eq!(hit.query.get("openid").map(String::as_str), Some("o_ming"));
    assert_eq!(hit.query.get("timestamp").map(String::as_str), Some("1700000000"));
    assert!(field(&hit.body, "Content").is_none(), "safe mode carries no plaintext: {}", hit.body);
    assert_eq!(field(&hit.body, "ToUserName").as_deref(), Some(GH));
    let plain = hit.plaintext.unwrap();
    assert_eq!(field(&plain, "ToUserName").as_deref(), Some(GH));
    assert_eq!(field(&plain, "MsgType").as_deref(), Some("text"));
    assert_eq!(field(&plain, "CreateTime").as_deref(), Some("1700000000"));
    assert_eq!(field(&plain, "MsgId"), d.msg_id);
    assert!(plain.contains("<Content><![CDATA[你好😀 ]]]]><![CDATA[> <b>]]></Content>"), "{plain}");

    let reply = d.passive_reply.unwrap();
    assert_eq!((reply.via, reply.msgtype.as_str()), (Via::Passive, "text"));
    assert_eq!(reply.content["content"], "收到，马上为您处理");
    assert_eq!(s.sim.inbox("o_ming"), vec![reply]);
}

#[tokio::test]
async fn a_slow_first_attempt_is_retried_with_the_same_query_and_body() {
    let k = keys(OA_TOKEN, OA_KEY, APP_ID, false);
    let rx = Receiver::start(
        k,
        answer_with(|n| {
            let delay = if n == 1 { Duration::from_millis(4000) } else { Duration::ZERO };
            Answer { delay, status: 200, body: "success".into() }
        }),
    )
    .await;
    let mut cfg = config(OaMode::Safe, Some(&rx.url));
    cfg.callback_timeout_ms = 1000;
    let s = start(cfg).await;

    let d = s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("在吗")).await.unwrap();
    assert!(d.ok && d.passive_reply.is_none(), "{d:?}");
    assert_eq!(d.attempts, 2);
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!((&hits[0].query, &hits[0].body), (&hits[1].query, &hits[1].body));
    assert_eq!(s.sim.stats().callback_attempts, 2);
}

#[tokio::test]
async fn three_failed_attempts_show_the_user_the_unavailable_notice() {
    let rx = Receiver::start(
        keys(OA_TOKEN, OA_KEY, APP_ID, false),
        answer_with(|_| Answer { delay: Duration::ZERO, status: 500, body: String::new() }),
    )
    .await;
    let s = start(config(OaMode::Safe, Some(&rx.url))).await;
    let d = s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("hi")).await.unwrap();
    assert!(!d.ok);
    assert_eq!((d.attempts, d.status), (3, Some(500)));
    assert_eq!(rx.hits().len(), 3);
    let said = s.sim.timeline("o_ming").said;
    assert_eq!(said[0].error.as_deref(), Some(OA_UNAVAILABLE));
    assert_eq!(s.sim.stats().callback_failures, 1);
}

#[tokio::test]
async fn an_unencrypted_reply_in_safe_mode_is_refused_like_wechat_does() {
    let respond: Responder = Arc::new(|_, _, _| Answer::ok(&passive_text("o_ming", "明文")));
    let rx = Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), respond).await;
    let s = start(config(OaMode::Safe, Some(&rx.url))).await;
    let d = s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("hi")).await.unwrap();
    assert!(!d.ok);
    assert!(d.error.unwrap().starts_with(OA_UNAVAILABLE));
    assert!(s.sim.inbox("o_ming").is_empty());
}

#[tokio::test]
async fn plain_and_compatible_modes_carry_the_plaintext_and_the_right_query() {
    let rx = Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), answer_with(|_| Answer::ok(""))).await;
    let s = start(config(OaMode::Plain, Some(&rx.url))).await;
    let d = s.sim.oa_user_says(APP_ID, "o_x", SimMessage::event("CLICK", Some("MENU_HELP"))).await.unwrap();
    assert!(d.ok && d.msg_id.is_none());
    let hit = rx.hits().pop().unwrap();
    assert!(hit.signed);
    let mut names: Vec<&str> = hit.query.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["nonce", "openid", "signature", "timestamp"]);
    assert_eq!(field(&hit.body, "Event").as_deref(), Some("CLICK"));
    assert_eq!(field(&hit.body, "EventKey").as_deref(), Some("MENU_HELP"));
    assert!(!hit.body.contains("MsgId"));

    let rx2 =
        Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), answer_with(|_| Answer::ok("success"))).await;
    let s2 = start(config(OaMode::Compatible, Some(&rx2.url))).await;
    let loc = SimMessage::Location { x: 23.134521, y: 113.358803, scale: 20, label: "广州塔".into() };
    s2.sim.oa_user_says(APP_ID, "o_x", loc).await.unwrap();
    let hit = rx2.hits().pop().unwrap();
    assert!(hit.signed);
    assert_eq!(field(&hit.body, "Location_X").as_deref(), Some("23.134521"));
    assert_eq!(field(&hit.plaintext.unwrap(), "Label").as_deref(), Some("广州塔"));
}

#[tokio::test]
async fn url_verification_expects_the_echostr_back_verbatim() {
    let rx = Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), answer_with(|_| Answer::ok(""))).await;
    let s = start(config(OaMode::Safe, None)).await;
    assert!(s.sim.oa_get_verify(APP_ID, "123").await.is_err(), "no callback URL yet");
    s.sim.set_callback_url(CallbackTarget::Oa(APP_ID.into()), &rx.url).unwrap();
    let v = s.sim.oa_get_verify(APP_ID, "5927782489442352469").await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.body, "5927782489442352469");
    assert!(rx.hits()[0].get);
}
