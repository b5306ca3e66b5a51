//! 微信客服: notify, pull with sync_msg, answer within the rules, move the session.

use crate::receiver::{Answer, Receiver, field, keys};
use crate::{CORP, KF_KEY, KF_TOKEN, OPEN_KFID, Setup, config, start};
use kefu_sim::{CallbackTarget, OaMode, SimMessage, Via};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn kf_setup() -> (Setup, Receiver, String) {
    let rx = Receiver::start(keys(KF_TOKEN, KF_KEY, CORP, true), Arc::new(|_, _, _| Answer::ok(""))).await;
    let s = start(config(OaMode::Safe, None)).await;
    s.sim.set_callback_url(CallbackTarget::Kf(CORP.into()), &rx.url).unwrap();
    let token = s.wecom_token("kf-secret").await;
    (s, rx, token)
}

async fn kf_call(s: &Setup, api: &str, token: &str, body: Value) -> Value {
    s.post_json(&format!("/cgi-bin/kf/{api}?access_token={token}"), body).await
}

#[tokio::test]
async fn a_customer_message_is_notified_pulled_and_answered_within_the_rules() {
    let (s, rx, token) = kf_setup().await;
    let d = s.sim.kf_customer_says(OPEN_KFID, "wm_hong", SimMessage::text("我的订单到哪了")).await.unwrap();
    assert!(d.ok, "{d:?}");
    let hit = rx.hits().pop().unwrap();
    assert!(hit.signed);
    let plain = hit.plaintext.unwrap();
    assert_eq!(field(&plain, "Event").as_deref(), Some("kf_msg_or_event"));
    assert_eq!(field(&plain, "OpenKfId").as_deref(), Some(OPEN_KFID));
    let sync_token = field(&plain, "Token").unwrap();

    let page =
        kf_call(&s, "sync_msg", &token, json!({ "token": sync_token, "limit": 1, "open_kfid": OPEN_KFID }))
            .await;
    assert_eq!((page["errcode"].clone(), page["has_more"].clone()), (json!(0), json!(1)));
    let event = &page["msg_list"][0];
    assert_eq!(event["event"]["event_type"], "enter_session");
    let welcome = event["event"]["welcome_code"].as_str().unwrap().to_owned();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = kf_call(&s, "sync_msg", &token, json!({ "cursor": cursor, "open_kfid": OPEN_KFID })).await;
    assert_eq!(rest["has_more"], 0);
    assert_eq!(rest["msg_list"][0]["text"]["content"], "我的订单到哪了");
    assert_eq!(rest["msg_list"][0]["external_userid"], "wm_hong");
    assert_eq!(rest["msg_list"][0]["msgid"].as_str(), d.msg_id.as_deref());

    let hello = json!({ "code": welcome, "msgtype": "text", "text": { "content": "您好，我是客服小K" } });
    assert_eq!(kf_call(&s, "send_msg_on_event", &token, hello.clone()).await["errcode"], 0);
    assert_eq!(kf_call(&s, "send_msg_on_event", &token, hello).await["errcode"], 40029);

    let text = |t: &str| json!({ "touser": "wm_hong", "open_kfid": OPEN_KFID, "msgtype": "text", "text": { "content": t } });
    for i in 0..5 {
        assert_eq!(kf_call(&s, "send_msg", &token, text(&format!("{i}"))).await["errcode"], 0);
    }
    assert_eq!(kf_call(&s, "send_msg", &token, text("6")).await["errcode"], 45047);
    let inbox = s.sim.inbox("wm_hong");
    assert_eq!(inbox.len(), 6);
    assert_eq!((inbox[0].via, inbox[1].via), (Via::KfEvent, Via::KfSend));

    let app = s.wecom_token("app-secret").await;
    assert_eq!(kf_call(&s, "send_msg", &app, text("x")).await["errcode"], 48002);
}

#[tokio::test]
async fn service_state_follows_the_table_and_a_human_session_refuses_api_sends() {
    let (s, _rx, token) = kf_setup().await;
    s.sim.kf_customer_says(OPEN_KFID, "wm_hong", SimMessage::text("转人工")).await.unwrap();
    let who = json!({ "open_kfid": OPEN_KFID, "external_userid": "wm_hong" });
    assert_eq!(kf_call(&s, "service_state/get", &token, who.clone()).await["service_state"], 0);
    let trans = |state: u8, servicer: &str| json!({ "open_kfid": OPEN_KFID, "external_userid": "wm_hong", "service_state": state, "servicer_userid": servicer });
    assert_eq!(kf_call(&s, "service_state/trans", &token, trans(3, "")).await["errcode"], 95014);
    let queued = kf_call(&s, "service_state/trans", &token, trans(2, "")).await;
    assert!(!queued["msg_code"].as_str().unwrap().is_empty());
    assert_eq!(kf_call(&s, "service_state/trans", &token, trans(1, "")).await["errcode"], 95014);
    assert_eq!(kf_call(&s, "service_state/trans", &token, trans(3, "lisi")).await["errcode"], 0);
    let got = kf_call(&s, "service_state/get", &token, who).await;
    assert_eq!((got["service_state"].clone(), got["servicer_userid"].clone()), (json!(3), json!("lisi")));
    let text =
        json!({ "touser": "wm_hong", "open_kfid": OPEN_KFID, "msgtype": "text", "text": { "content": "x" } });
    assert_eq!(kf_call(&s, "send_msg", &token, text.clone()).await["errcode"], 95018);
    assert_eq!(kf_call(&s, "service_state/trans", &token, trans(4, "")).await["errcode"], 0);
    assert_eq!(s.sim.kf_service_state(OPEN_KFID, "wm_hong"), Some((4, String::new())));

    s.clock.advance(Duration::from_secs(60));
    s.sim.kf_customer_says(OPEN_KFID, "wm_hong", SimMessage::text("又是我")).await.unwrap();
    assert_eq!(s.sim.kf_service_state(OPEN_KFID, "wm_hong"), Some((0, String::new())));
    assert_eq!(kf_call(&s, "send_msg", &token, text).await["errcode"], 0);
}

#[tokio::test]
async fn customers_are_looked_up_with_their_unionid_only_when_known() {
    let (s, _rx, token) = kf_setup().await;
    s.sim.kf_customer_says(OPEN_KFID, "wm_hong", SimMessage::sample_image()).await.unwrap();
    let body = json!({ "external_userid_list": ["wm_hong", "o_ming", "wm_nobody"] });
    let got = kf_call(&s, "customer/batchget", &token, body).await;
    let list = got["customer_list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0].get("unionid").is_none());
    assert_eq!(list[1]["unionid"], "u_ming");
    assert_eq!(got["invalid_external_userid"], json!(["wm_nobody"]));
    let page = kf_call(&s, "sync_msg", &token, json!({ "open_kfid": OPEN_KFID })).await;
    let media_id = page["msg_list"][1]["image"]["media_id"].as_str().unwrap();
    let url = s.url(&format!("/cgi-bin/media/get?access_token={token}&media_id={media_id}"));
    let bytes = s.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), kefu_sim::SAMPLE_PNG);
    let other = kf_call(&s, "sync_msg", &token, json!({ "open_kfid": "wk_unknown" })).await;
    assert_eq!(other["errcode"], 95004);
}
