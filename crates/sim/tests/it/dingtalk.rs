//! DingTalk pushes: signed robot messages and their sessionWebhooks, retries, redelivery,
//! and the encrypted event subscription, against the stand-in receiver.

use crate::dt_receiver::{DtReceiver, DtResponder, ok_empty, sign};
use crate::receiver::{keys, open, sha1_sorted};
use crate::{DT_APP, DT_CORP, DT_KEY, DT_SECRET, DT_TOKEN, Setup, WANG, dt_config, start};
use kefu_sim::{CallbackTarget, DtChat, SimMessage, Via};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn setup(robot: DtResponder, events: Option<DtResponder>) -> (Setup, DtReceiver) {
    let rx = DtReceiver::start(DT_SECRET, keys(DT_TOKEN, DT_KEY, DT_APP, false), robot, events).await;
    let s = start(dt_config()).await;
    s.sim.set_callback_url(CallbackTarget::DingtalkRobot(DT_APP.into()), &rx.robot_url).unwrap();
    s.sim.set_callback_url(CallbackTarget::DingtalkEvents(DT_APP.into()), &rx.events_url).unwrap();
    (s, rx)
}

async fn post_raw(s: &Setup, url: &str, body: Value) -> Value {
    s.http.post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

#[test]
fn the_receivers_own_sign_matches_the_documented_sample() {
    assert_eq!(sign("this is a secret", "1577262236757"), "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=");
}

#[test]
fn the_official_event_vector_dt1_verifies_and_opens_to_check_url() {
    let enc = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";
    assert_eq!(
        sha1_sorted(&["mryue", "1608001896814", "WL4PK6yA", enc]),
        "03044561471240d4a14bb09372dfcfd4fd0e40cb"
    );
    let k = keys("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b", false);
    assert_eq!(open(&k, enc).as_deref(), Some(r#"{"EventType":"check_url"}"#));
}

#[tokio::test]
async fn a_direct_text_arrives_signed_with_the_documented_body_and_its_session_webhook_replies() {
    let (s, rx) = setup(ok_empty(), None).await;
    let d =
        s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("你好 <b>😀"), DtChat::Direct).await.unwrap();
    assert!(d.ok && d.attempts == 1, "{d:?}");
    let hit = rx.last();
    assert!(hit.signed, "sign verifies: {:?}", hit.headers);
    assert_eq!(hit.headers["timestamp"], "1700000000000");
    assert_eq!(hit.headers["content-type"], "application/json; charset=utf-8");
    let b = &hit.body;
    assert_eq!((b["msgtype"].clone(), b["text"]["content"].clone()), (json!("text"), json!("你好 <b>😀")));
    assert_eq!(b["msgId"].as_str(), d.msg_id.as_deref());
    assert_eq!(
        (b["conversationType"].clone(), b["createAt"].clone()),
        (json!("1"), json!(1_700_000_000_000i64))
    );
    assert!(b["conversationId"].as_str().unwrap().starts_with("cid"));
    assert!(b["senderId"].as_str().unwrap().starts_with("$:LWCP_v1:$"));
    assert_eq!((b["senderStaffId"].clone(), b["senderNick"].clone()), (json!(WANG), json!("王磊")));
    assert_eq!((b["senderCorpId"].clone(), b["chatbotCorpId"].clone()), (json!(DT_CORP), json!(DT_CORP)));
    assert_eq!(b["robotCode"], DT_APP);
    assert_eq!(b["sessionWebhookExpiredTime"], json!(1_700_000_000_000i64 + 5_400_000));
    assert!(b.get("conversationTitle").is_none() && b.get("isInAtList").is_none());

    let webhook = b["sessionWebhook"].as_str().unwrap().to_owned();
    assert_eq!(s.sim.dingtalk_session_webhook(WANG).as_deref(), Some(webhook.as_str()));
    assert!(webhook.starts_with(&format!("{}/robot/sendBySession?session=", s.sim.base_url)));
    let reply = json!({ "msgtype": "text", "text": { "content": "您好！" }, "at": { "atUserIds": [WANG] } });
    assert_eq!(post_raw(&s, &webhook, reply).await, json!({ "errcode": 0, "errmsg": "ok" }));
    let got = s.sim.inbox(WANG);
    assert_eq!(
        (got[0].via, got[0].msgtype.as_str(), got[0].account.as_str()),
        (Via::DtSession, "text", DT_APP)
    );
    assert_eq!(got[0].content["content"], "您好！");
    assert_eq!(got[0].content["at"]["atUserIds"][0], WANG);
    let said = s.sim.timeline(WANG).said;
    assert_eq!((said[0].message.clone(), said[0].seq < got[0].seq), (SimMessage::text("你好 <b>😀"), true));
}

#[tokio::test]
async fn group_messages_name_the_group_and_the_mention_and_unmentioned_ones_are_pushed_too() {
    let (s, rx) = setup(ok_empty(), None).await;
    let group = |at_robot| DtChat::Group {
        open_conversation_id: "cidGroup01==".into(),
        title: "IT 支持群".into(),
        at_robot,
    };
    s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("打印机坏了"), group(true)).await.unwrap();
    let b = rx.last().body;
    assert_eq!(
        (b["conversationType"].clone(), b["conversationId"].clone()),
        (json!("2"), json!("cidGroup01=="))
    );
    assert_eq!((b["conversationTitle"].clone(), b["isInAtList"].clone()), (json!("IT 支持群"), json!(true)));
    assert_eq!(b["text"]["content"], " 打印机坏了", "the mention leaves its space behind");
    assert_eq!(b["atUsers"][0]["dingtalkId"], b["chatbotUserId"]);
    let webhook = b["sessionWebhook"].as_str().unwrap().to_owned();

    let d = s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("大家好"), group(false)).await.unwrap();
    assert!(d.ok);
    let b = rx.last().body;
    assert_eq!((b["isInAtList"].clone(), b["text"]["content"].clone()), (json!(false), json!("大家好")));
    let card = json!({ "msgtype": "actionCard", "actionCard": { "title": "报修", "text": "请选择",
        "btns": [{ "title": "打印机", "actionURL": "dtmd://dingtalkclient/sendMessage?content=1" }] } });
    assert_eq!(post_raw(&s, &webhook, card).await["errcode"], 0);
    let got = s.sim.inbox("cidGroup01==");
    assert_eq!((got[0].via, got[0].msgtype.as_str()), (Via::DtSession, "actionCard"));
    assert!(s.sim.inbox(WANG).is_empty(), "group replies belong to the group");
}

#[tokio::test]
async fn the_session_webhook_expires_with_the_clock_and_by_fault_and_checks_its_body() {
    let (s, _rx) = setup(ok_empty(), None).await;
    s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("在吗"), DtChat::Direct).await.unwrap();
    let url = s.sim.dingtalk_session_webhook(WANG).unwrap();
    let text = json!({ "msgtype": "text", "text": { "content": "在" } });
    let bad = json!({ "msgtype": "markdown", "markdown": { "title": "缺正文" } });
    assert_eq!(post_raw(&s, &url, bad).await["errcode"], 40035);
    let unknown = format!("{}/robot/sendBySession?session=nope", s.sim.base_url);
    let missing = post_raw(&s, &unknown, text.clone()).await;
    assert_eq!(missing, json!({ "errcode": 300001, "errmsg": "session不存在" }));
    s.sim.set_faults(kefu_sim::Faults { dt_session_expired: true, ..Default::default() });
    assert_eq!(post_raw(&s, &url, text.clone()).await["errcode"], 300002);
    s.sim.set_faults(kefu_sim::Faults::default());
    assert_eq!(post_raw(&s, &url, text.clone()).await["errcode"], 0);
    s.clock.advance(Duration::from_millis(5_400_000));
    let expired = post_raw(&s, &url, text).await;
    assert_eq!(
        (expired["errcode"].clone(), expired["errmsg"].clone()),
        (json!(300002), json!("session已过期"))
    );
    assert_eq!(s.sim.inbox(WANG).len(), 1);
}

#[tokio::test]
async fn a_failing_robot_url_is_retried_and_what_the_user_said_is_marked() {
    let flaky: DtResponder =
        Arc::new(|_, n| if n == 1 { (500, String::new()) } else { (200, String::new()) });
    let (s, rx) = setup(flaky, None).await;
    let d = s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("一"), DtChat::Direct).await.unwrap();
    assert!(d.ok && d.attempts == 2, "{d:?}");
    let hits = rx.hits();
    assert_eq!(
        (hits[0].raw.clone(), hits[0].headers["sign"].clone()),
        (hits[1].raw.clone(), hits[1].headers["sign"].clone())
    );

    let (s2, _rx2) = setup(Arc::new(|_, _| (503, String::new())), None).await;
    let d = s2.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("二"), DtChat::Direct).await.unwrap();
    assert!(!d.ok && d.attempts == 3 && d.status == Some(503), "{d:?}");
    assert_eq!(s2.sim.timeline(WANG).said[0].error.as_deref(), Some("钉钉机器人回调失败"));
    assert_eq!(s2.sim.stats().callback_attempts_by_account.get(&format!("{DT_APP}/robot")), Some(&3));
    drop(s);
}

#[tokio::test]
async fn redelivery_repeats_the_body_and_msg_id_with_a_fresh_signature() {
    let (s, rx) = setup(ok_empty(), None).await;
    assert!(s.sim.dingtalk_redeliver_last(DT_APP).await.is_err(), "nothing to redeliver yet");
    let first =
        s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("重复"), DtChat::Direct).await.unwrap();
    s.clock.advance(Duration::from_secs(60));
    let again = s.sim.dingtalk_redeliver_last(DT_APP).await.unwrap();
    assert!(again.ok);
    assert_eq!(first.msg_id, again.msg_id);
    let hits = rx.hits();
    assert_eq!(hits[0].raw, hits[1].raw);
    assert_eq!(hits[1].headers["timestamp"], "1700000060000");
    assert!(hits[1].signed && hits[0].headers["sign"] != hits[1].headers["sign"]);
    assert_eq!(s.sim.timeline(WANG).said.len(), 1, "a redelivery is not a new message");
}

#[tokio::test]
async fn a_message_in_the_answer_is_a_passive_reply_and_a_broken_one_fails_the_push() {
    let answer: DtResponder = Arc::new(|hit, _| {
        let reply = if hit.body["text"]["content"] == "坏" {
            json!({ "msgtype": "text", "text": {} })
        } else {
            json!({ "msgtype": "markdown", "markdown": { "title": "回执", "text": "**收到**" } })
        };
        (200, reply.to_string())
    });
    let (s, _rx) = setup(answer, None).await;
    let d = s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("好"), DtChat::Direct).await.unwrap();
    let reply = d.passive_reply.expect("a passive reply");
    assert_eq!(
        (reply.via, reply.msgtype.as_str(), reply.content["text"].as_str()),
        (Via::Passive, "markdown", Some("**收到**"))
    );
    let d = s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("坏"), DtChat::Direct).await.unwrap();
    assert!(!d.ok && d.error.as_deref().unwrap_or_default().contains("text.content"), "{d:?}");
}

#[tokio::test]
async fn events_arrive_encrypted_for_the_app_key_and_only_an_encrypted_success_counts() {
    let (s, rx) = setup(ok_empty(), None).await;
    let d = s.sim.dingtalk_check_url(DT_APP).await.unwrap();
    assert!(d.ok, "{d:?}");
    let hit = rx.last();
    assert!(hit.signed && hit.events);
    assert_eq!(hit.plaintext.as_deref(), Some(r#"{"EventType":"check_url"}"#));
    let mut names: Vec<&str> = hit.query.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["nonce", "signature", "timestamp"]);
    assert_eq!(hit.query["timestamp"], "1700000000000");
    let event = json!({ "EventType": "user_modify_org", "UserId": [WANG], "CorpId": DT_CORP });
    assert!(s.sim.dingtalk_event(DT_APP, event.clone()).await.unwrap().ok);
    assert_eq!(serde_json::from_str::<Value>(&rx.last().plaintext.unwrap()).unwrap(), event);

    let plain: DtResponder = Arc::new(|_, _| (200, "success".into()));
    let (s2, _rx2) = setup(ok_empty(), Some(plain)).await;
    let d = s2.sim.dingtalk_check_url(DT_APP).await.unwrap();
    assert!(!d.ok && d.error.as_deref().unwrap().contains("71009"), "{d:?}");

    let other = keys(DT_TOKEN, DT_KEY, "ding_other_app", false);
    let wrong_id: DtResponder = Arc::new(move |_, _| (200, crate::dt_receiver::success_answer(&other)));
    let (s3, _rx3) = setup(ok_empty(), Some(wrong_id)).await;
    let d = s3.sim.dingtalk_check_url(DT_APP).await.unwrap();
    assert!(!d.ok && d.error.as_deref().unwrap().contains("does not open"), "{d:?}");
    drop(s);
}
