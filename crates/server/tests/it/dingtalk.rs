//! DingTalk end to end against the platform sandbox: signed robot callbacks in, replies out
//! through the sessionWebhook and — once it has expired — the robot send APIs, the user API
//! for OneID, and the encrypted event subscription.

use std::time::Duration;

use kefu_sim::{DtChat, Faults, SimMessage, Via};
use serde_json::{Value, json};

use crate::helpers::*;

const APP: &str = "dingdemo00000001";
const WANG: &str = "dt_wanglei";

fn is_sent(e: &Value, text: &str) -> bool {
    e["type"] == "message_updated"
        && e["message"]["status"] == "sent"
        && e["message"]["content"]["text"] == text
}

/// What a DingTalk user or group received: (how, msgtype, text or title).
fn got(sim: &kefu_sim::SimHandle, who: &str) -> Vec<(Via, String, String)> {
    sim.inbox(who)
        .into_iter()
        .map(|r| {
            let c = &r.content;
            let text = [&c["content"], &c["title"], &c["text"]]
                .into_iter()
                .find_map(|v| v.as_str())
                .unwrap_or_default();
            (r.via, r.msgtype.clone(), text.to_owned())
        })
        .collect()
}

async fn says(sim: &kefu_sim::SimHandle, text: &str) {
    let d = sim.dingtalk_user_says(APP, WANG, SimMessage::text(text), DtChat::Direct).await.unwrap();
    assert!(d.ok, "{d:?}");
}

const KB: &str = r#"{"id":"D1","question":"宽带怎么报修？","similar":["网断了找谁修"],"answer":"在钉钉工作台打开“IT报修”，填写工位号即可 🛠️","group":"技术支持"}
{"id":"D2","question":"年假怎么申请？","similar":["请假流程"],"answer":"在审批里选“请假”，类型选年假。","group":"售前咨询"}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dingtalk_user_talks_to_the_bot_is_handed_to_an_agent_and_replies_arrive_after_the_session_expired()
{
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(lead.import_kb(KB).await["imported"], 2);
    lead.put("/me/status", json!({"status": "away"})).await;
    let wang = app.agent("agent2", "agent123").await;
    let mut feed = wang.feed(app.addr).await;

    says(&sim, "宽带怎么报修").await;
    feed.until(|e| is_sent(e, "在钉钉工作台打开“IT报修”，填写工位号即可 🛠️")).await;
    says(&sim, "转人工").await;
    feed.until(|e| is_sent(e, "您好，客服小王为您服务。")).await;
    let conv = wang.conversations().await[0]["id"].as_i64().unwrap();
    wang.reply(conv, "您好，我是小王 😀 <b>请稍等</b>").await;
    feed.until(|e| is_sent(e, "您好，我是小王 😀 <b>请稍等</b>")).await;

    // Past the sessionWebhook's lifetime (90 minutes) the send API carries the reply.
    app.clock.advance(Duration::from_secs(2 * 3600));
    wang.reply(conv, "已为您登记，工单号 A-1024 ✅").await;
    feed.until(|e| is_sent(e, "已为您登记，工单号 A-1024 ✅")).await;
    let all = got(&sim, WANG);
    let vias: Vec<_> = all.iter().map(|g| g.0).collect();
    assert!(vias[..vias.len() - 1].iter().all(|v| *v == Via::DtSession), "{all:?}");
    assert_eq!(
        all.last().unwrap(),
        &(Via::DtBatch, "sampleText".to_owned(), "已为您登记，工单号 A-1024 ✅".to_owned())
    );
    let texts: Vec<_> = all.iter().map(|g| g.2.as_str()).collect();
    assert!(texts.contains(&"您好，我是小王 😀 <b>请稍等</b>"), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_api_stores_the_staff_members_union_id_and_mobile() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    says(&sim, "你好").await;
    let d = sim.dingtalk_user_says(APP, "dt_lina", SimMessage::text("在吗"), DtChat::Direct).await.unwrap();
    assert!(d.ok);
    let mut seen = (Value::Null, Value::Null);
    for _ in 0..100 {
        let convs = lead.conversations().await;
        let mut ids = vec![];
        for c in &convs {
            let d: Value = lead.get(&format!("/conversations/{}", c["id"])).await.json().await.unwrap();
            ids.push(d["identity"].clone());
        }
        let find = |id: &str| ids.iter().find(|i| i["external_id"] == id).cloned().unwrap_or_default();
        seen = (find(WANG), find("dt_lina"));
        if seen.0["phone"].is_string() && seen.1["union_id"].is_string() {
            break;
        }
        app.run_pending().await;
    }
    assert_eq!(
        (seen.0["union_id"].as_str(), seen.0["phone"].as_str()),
        (Some("dtu_wanglei"), Some("13800000042"))
    );
    assert_eq!(
        (seen.1["union_id"].as_str(), seen.1["phone"].as_str()),
        (Some("dtu_lina"), None),
        "no phone permission"
    );
    assert_eq!(seen.0["nickname"], "王磊");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_go_out_as_an_action_card_and_images_through_the_send_api() {
    use kefu_domain::{Choice, Content, ConversationId, Sender};
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    says(&sim, "有问题").await;
    let conv =
        feed.until(|e| e["type"] == "message_created" && e["message"]["content"]["text"] == "有问题").await;
    let conv = ConversationId(conv["conversation"]["id"].as_i64().unwrap());
    let menu = Content::Menu {
        head: "猜你想问：".into(),
        choices: vec![
            Choice { id: "D1".into(), text: "宽带怎么报修？".into() },
            Choice { id: "D2".into(), text: "年假怎么申请？".into() },
        ],
        tail: Some("点按钮即可".into()),
    };
    app.engine.send_as(conv, Sender::Bot, menu.clone()).await.unwrap();
    let info = li.upload_png().await;
    let res = li.post(&format!("/conversations/{}/messages", conv.0), json!({"image": info["url"]})).await;
    assert_eq!(res.status(), 200);
    app.run_pending().await; // sent while the session is fresh
    app.clock.advance(Duration::from_secs(2 * 3600));
    app.engine.send_as(conv, Sender::Bot, menu).await.unwrap();
    for _ in 0..3 {
        feed.until(|e| {
            e["type"] == "message_updated"
                && e["message"]["status"] == "sent"
                && e["message"]["content"]["type"] != "text"
        })
        .await;
    }
    let inbox = sim.inbox(WANG);
    let card = inbox
        .iter()
        .find(|r| r.via == Via::DtSession && r.msgtype == "actionCard")
        .expect("a card in the session");
    let button = &card.content["btns"][1];
    assert_eq!(button["title"], "年假怎么申请？");
    assert!(button["actionURL"].as_str().unwrap().starts_with("dtmd://dingtalkclient/sendMessage?content="));
    let image = inbox.iter().find(|r| r.msgtype == "sampleImageMsg").expect("an image");
    assert_eq!(
        (image.via, image.media.as_ref().unwrap().sha256.as_str()),
        (Via::DtBatch, info["sha256"].as_str().unwrap())
    );
    let late = inbox.iter().find(|r| r.msgtype == "sampleActionCard2").expect("a card through the send API");
    assert_eq!(late.content["actionTitle1"], "宽带怎么报修？");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_mentions_are_handled_and_replies_go_back_to_the_group() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    let group = |at_robot| DtChat::Group {
        open_conversation_id: "cidGroupIT".into(),
        title: "IT 支持群".into(),
        at_robot,
    };
    let d = sim.dingtalk_user_says(APP, WANG, SimMessage::text("大家好"), group(false)).await.unwrap();
    assert!(d.ok, "acknowledged, then ignored");
    sim.dingtalk_user_says(APP, WANG, SimMessage::text("打印机坏了"), group(true)).await.unwrap();
    let e = feed
        .until(|e| e["type"] == "message_created" && e["message"]["content"]["text"] == "打印机坏了")
        .await;
    let conv = e["conversation"]["id"].as_i64().unwrap();
    feed.until(|e| is_sent(e, "您好，客服小李为您服务。")).await;
    let texts: Vec<_> = li.messages(conv).await.iter().map(|m| m["content"]["text"].clone()).collect();
    assert!(!texts.contains(&json!("大家好")), "{texts:?}");
    app.clock.advance(Duration::from_secs(2 * 3600));
    li.reply(conv, "马上到").await;
    feed.until(|e| is_sent(e, "马上到")).await;
    let in_group = got(&sim, "cidGroupIT");
    assert!(
        in_group.iter().any(|g| g.0 == Via::DtSession && g.2 == "您好，客服小李为您服务。"),
        "{in_group:?}"
    );
    assert_eq!(in_group.last().unwrap(), &(Via::DtGroup, "sampleText".to_owned(), "马上到".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_is_stored_once_and_throttling_and_expired_tokens_are_survived() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    says(&sim, "重复投递测试").await;
    assert!(sim.dingtalk_redeliver_last(APP).await.unwrap().ok);
    feed.until(|e| is_sent(e, "您好，客服小李为您服务。")).await;
    let conv = li.conversations().await[0]["id"].as_i64().unwrap();
    let inbound = li.messages(conv).await.into_iter().filter(|m| m["direction"] == "inbound").count();
    assert_eq!(inbound, 1);

    app.clock.advance(Duration::from_secs(2 * 3600));
    sim.set_faults(Faults { http_429: 1, expire_tokens: true, ..Default::default() });
    li.reply(conv, "限流与令牌过期之后").await;
    let e = feed
        .until(|e| e["type"] == "message_updated" && e["message"]["content"]["text"] == "限流与令牌过期之后")
        .await;
    assert!(e["message"]["error"].as_str().unwrap_or_default().contains("429"), "{e}");
    app.clock.advance(Duration::from_secs(10));
    feed.until(|e| is_sent(e, "限流与令牌过期之后")).await;
    assert_eq!(got(&sim, WANG).last().unwrap().2, "限流与令牌过期之后");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_subscription_answers_an_encrypted_success_and_refuses_tampering() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let d = sim.dingtalk_check_url(APP).await.unwrap();
    assert!(d.ok, "{d:?}");
    let d = sim.dingtalk_event(APP, json!({"EventType": "user_modify_org", "UserId": [WANG]})).await.unwrap();
    assert!(d.ok, "{d:?}");
    let res = reqwest::Client::new()
        .post(app.url("/callback/dingtalk/dingtalk/events?signature=00&timestamp=1&nonce=n"))
        .body(r#"{"encrypt":"AAAA"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connectivity_test_proves_text_image_and_emoji_arrive_intact_on_dingtalk() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    says(&sim, "测试一下").await;
    let admin = app.agent("admin", "admin123").await;
    let channels: Vec<Value> = admin.get("/admin/channels").await.json().await.unwrap();
    let dt = channels.iter().find(|c| c["kind"] == "dingtalk").unwrap();
    assert!(dt["secrets"]["app_secret"].as_str().unwrap().contains("••"), "secrets are masked: {dt}");
    let report: Value = admin
        .post(&format!("/admin/channels/{}/test", dt["id"]), json!({"recipient": WANG}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    let last = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert!(last["detail"].as_str().unwrap().contains("逐字节一致"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_session_falls_back_to_the_send_api_and_links_go_out_as_markdown() {
    use kefu_domain::{Content, ConversationId, Sender};
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    says(&sim, "在吗").await;
    feed.until(|e| is_sent(e, "您好，客服小李为您服务。")).await;
    let conv = ConversationId(li.conversations().await[0]["id"].as_i64().unwrap());
    let link = Content::Link {
        title: "报修指南".into(),
        description: Some("三步提交报修".into()),
        url: "https://example.com/repair".into(),
        pic_url: None,
    };
    app.engine.send_as(conv, Sender::Bot, link.clone()).await.unwrap();
    feed.until(|e| {
        e["type"] == "message_updated"
            && e["message"]["status"] == "sent"
            && e["message"]["content"]["type"] == "link"
    })
    .await;
    // The session is still young, but DingTalk refuses it: the send API takes over.
    sim.set_faults(Faults { dt_session_expired: true, ..Default::default() });
    li.reply(conv.0, "会话失效后的回复").await;
    feed.until(|e| is_sent(e, "会话失效后的回复")).await;
    let inbox = sim.inbox(WANG);
    let md = inbox.iter().find(|r| r.msgtype == "markdown").expect("the link as markdown");
    assert_eq!(md.via, Via::DtSession);
    assert!(
        md.content["text"].as_str().unwrap().contains("[查看详情](https://example.com/repair)"),
        "{md:?}"
    );
    let last = inbox.last().unwrap();
    assert_eq!((last.via, last.content["content"].as_str()), (Via::DtBatch, Some("会话失效后的回复")));
}
