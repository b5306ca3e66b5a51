//! WeCom self-built app: encrypted member messages, verification, message/send.

use crate::receiver::{Answer, Receiver, field, keys};
use crate::{APP_KEY, APP_TOKEN, CORP, config, start};
use kefu_sim::{CallbackTarget, OaMode, SimMessage, Via, WecomTarget};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_member_message_is_encrypted_for_the_corp_and_app_sends_reach_the_member() {
    let rx = Receiver::start(keys(APP_TOKEN, APP_KEY, CORP, true), Arc::new(|_, _, _| Answer::ok(""))).await;
    let s = start(config(OaMode::Safe, None)).await;
    s.sim.set_callback_url(CallbackTarget::WecomApp(CORP.into()), &rx.url).unwrap();

    let d = s.sim.wecom_member_says(CORP, "zhangsan", SimMessage::text("报销单怎么填？")).await.unwrap();
    assert!(d.ok, "{d:?}");
    let hit = rx.hits().pop().unwrap();
    assert!(hit.signed);
    let mut names: Vec<&str> = hit.query.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["msg_signature", "nonce", "timestamp"]);
    assert_eq!(field(&hit.body, "AgentID").as_deref(), Some("218"));
    let plain = hit.plaintext.unwrap();
    assert_eq!(field(&plain, "ToUserName").as_deref(), Some(CORP));
    assert_eq!(field(&plain, "FromUserName").as_deref(), Some("zhangsan"));
    assert_eq!(field(&plain, "AgentID").as_deref(), Some("218"));
    assert_eq!(field(&plain, "Content").as_deref(), Some("报销单怎么填？"));

    let app = s.wecom_token("app-secret").await;
    let kf = s.wecom_token("kf-secret").await;
    assert_ne!(app, kf);
    let body = json!({ "touser": "zhangsan|lisi", "msgtype": "text", "agentid": 218, "text": { "content": "见附件" } });
    let sent = s.post_json(&format!("/cgi-bin/message/send?access_token={app}"), body.clone()).await;
    assert_eq!(sent["errcode"], 0);
    assert!(sent["msgid"].is_string());
    let forbidden = s.post_json(&format!("/cgi-bin/message/send?access_token={kf}"), body).await;
    assert_eq!(forbidden["errcode"], 48002);
    let inbox = s.sim.inbox("lisi");
    assert_eq!((inbox.len(), inbox[0].via), (1, Via::AppSend));
    assert_eq!(inbox[0].content, json!({ "content": "见附件" }));
    assert_eq!(s.sim.stats().token_fetches.get(&format!("{CORP}/kf")), Some(&1));
}

#[tokio::test]
async fn wecom_verification_sends_an_encrypted_signed_echostr_and_expects_its_plaintext() {
    let rx = Receiver::start(keys(APP_TOKEN, APP_KEY, CORP, true), Arc::new(|_, _, _| Answer::ok(""))).await;
    let s = start(config(OaMode::Safe, None)).await;
    s.sim.set_callback_url(CallbackTarget::WecomApp(CORP.into()), &rx.url).unwrap();
    let v = s.sim.wecom_get_verify(CORP, WecomTarget::App).await.unwrap();
    assert!(v.ok, "{v:?}");
    let hit = rx.hits().pop().unwrap();
    assert!(hit.signed && hit.get);
    assert_eq!(hit.plaintext.as_deref(), Some(v.expected.as_str()));
    assert!(v.expected.chars().all(|c| c.is_ascii_digit()));

    let wrong =
        Receiver::start(keys(APP_TOKEN, APP_KEY, "ww_other", true), Arc::new(|_, _, _| Answer::ok(""))).await;
    s.sim.set_callback_url(CallbackTarget::WecomApp(CORP.into()), &wrong.url).unwrap();
    assert!(!s.sim.wecom_get_verify(CORP, WecomTarget::App).await.unwrap().ok);
}
