//! WeChat OA, WeCom app and 微信客服 end to end against the platform sandbox: signed and
//! encrypted callbacks in, decrypted and intact deliveries out, and the platform's faults.

use std::time::Duration;

use kefu_sim::{Faults, SimMessage, Via, WecomTarget};
use serde_json::{Value, json};

use crate::helpers::*;

const APP: &str = "wxdemo0000000001";
const USER: &str = "o_demo_xiaoming";
const CORP: &str = "wwdemo0000000001";
const KFID: &str = "wkdemo0000000001";

fn is_text(e: &Value, text: &str) -> bool {
    e["type"] == "message_created" && e["message"]["content"]["text"] == text
}

/// What routing tells a customer it gave to agent1 (小李), the only agent online in these tests.
const GREETING: &str = "您好，客服小李为您服务。";

fn is_sent(e: &Value, text: &str) -> bool {
    e["type"] == "message_updated"
        && e["message"]["status"] == "sent"
        && e["message"]["content"]["text"] == text
}

/// The user writes on the OA; returns the kefu conversation id once it was routed to the
/// agent and the customer was told so.
async fn user_writes(sim: &kefu_sim::SimHandle, feed: &mut Feed, text: &str) -> i64 {
    let d = sim.oa_user_says(APP, USER, SimMessage::text(text)).await.unwrap();
    assert!(d.ok && d.passive_reply.is_none(), "{d:?}");
    let conv = feed.until(|e| is_text(e, text)).await["conversation"]["id"].as_i64().unwrap();
    feed.until(|e| is_sent(e, GREETING)).await;
    conv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safe_mode_message_reaches_the_workbench_and_the_reply_reaches_wechat_intact() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "你好 😀 <b>x</b> ]]> &amp;").await;
    let detail: Value = agent.get(&format!("/conversations/{conv}")).await.json().await.unwrap();
    assert_eq!(detail["channel"]["kind"], "wechat_oa");
    assert_eq!(detail["identity"]["external_id"], USER);

    agent.reply(conv, "您好！我是小李 🙂 <i>请稍等</i>").await;
    feed.until(|e| e["type"] == "message_updated" && e["message"]["status"] == "sent").await;
    assert_eq!(wechat_texts(&sim, USER), vec![GREETING, "您好！我是小李 🙂 <i>请稍等</i>"]);
    assert_eq!(sim.inbox(USER)[0].via, Via::CustomSend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_the_account_gets_an_encrypted_passive_welcome_within_the_callback() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let d = sim.oa_user_says(APP, USER, SimMessage::event("subscribe", None)).await.unwrap();
    assert!(d.ok, "{d:?}");
    let reply = d.passive_reply.expect("a passive reply");
    assert_eq!(reply.via, Via::Passive);
    assert!(reply.content["content"].as_str().unwrap().starts_with("感谢关注"), "{reply:?}");
    let lead = app.agent("lead", "lead123").await;
    let conv = lead.conversations().await[0]["id"].as_i64().unwrap();
    let msgs = lead.messages(conv).await;
    assert_eq!(msgs.len(), 2, "the event and the recorded welcome");
    assert_eq!((msgs[1]["status"].clone(), msgs[1]["sender"]["kind"].clone()), (json!("sent"), json!("bot")));
}

/// The bot's job is never cancelled: when it misses the passive-reply budget the callback
/// answers `success` and the same reply goes out through the customer-service API, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_that_misses_the_passive_budget_is_sent_through_the_api_once() {
    let (app, sim) = TestApp::sandbox_configured(|c| c.passive_budget_ms = 0).await;
    let d = sim.oa_user_says(APP, USER, SimMessage::event("subscribe", None)).await.unwrap();
    assert!(d.ok && d.passive_reply.is_none(), "{d:?}");
    // Past the hold WeChat's window allows, the runner and outbox send what the job wrote.
    app.clock.advance(Duration::from_secs(5));
    app.run_pending().await;
    let inbox = sim.inbox(USER);
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0].via, Via::CustomSend);
    assert!(wechat_texts(&sim, USER)[0].starts_with("感谢关注"));
    let lead = app.agent("lead", "lead123").await;
    let conv = lead.conversations().await[0]["id"].as_i64().unwrap();
    let msgs = lead.messages(conv).await;
    assert_eq!(msgs.len(), 2, "the event and one welcome");
    assert_eq!(msgs[1]["status"], "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_union_id_is_fetched_and_stored_for_oneid() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "查一下我的订单").await;
    for _ in 0..100 {
        let d: Value = agent.get(&format!("/conversations/{conv}")).await.json().await.unwrap();
        if d["identity"]["union_id"] == "u_demo_xiaoming" {
            return;
        }
        app.run_pending().await;
    }
    panic!("union id never stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_image_is_uploaded_and_arrives_byte_for_byte() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "发张图看看").await;
    let info = agent.upload_png().await;
    let res = agent.post(&format!("/conversations/{conv}/messages"), json!({"image": info["url"]})).await;
    assert_eq!(res.status(), 200);
    feed.until(|e| e["type"] == "message_updated" && e["message"]["status"] == "sent").await;
    let got = sim.inbox(USER);
    let image = got.last().unwrap();
    let media = image.media.as_ref().expect("an image delivery");
    assert_eq!((image.msgtype.as_str(), media.sha256.as_str()), ("image", info["sha256"].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_and_the_send_retried() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗").await;
    agent.reply(conv, "第一条").await;
    feed.until(|e| is_sent(e, "第一条")).await;
    sim.set_faults(Faults { expire_tokens: true, ..Default::default() });
    agent.reply(conv, "令牌过期后的第二条").await;
    feed.until(|e| is_sent(e, "令牌过期后的第二条")).await;
    assert_eq!(wechat_texts(&sim, USER), vec![GREETING, "第一条", "令牌过期后的第二条"]);
    assert_eq!(sim.stats().token_fetches[APP], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_errors_and_platform_500s_are_retried_later_and_then_delivered() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗").await;
    sim.set_faults(Faults { errcodes: vec![45009], http_500: 0, ..Default::default() });
    agent.reply(conv, "限流之后").await;
    let e = feed.until(|e| e["type"] == "message_updated").await;
    assert_eq!(e["message"]["status"], "pending");
    assert!(e["message"]["error"].as_str().unwrap().contains("45009"), "{e}");
    sim.set_faults(Faults { http_500: 1, ..Default::default() });
    app.clock.advance(Duration::from_secs(3600));
    let e = feed.until(|e| e["type"] == "message_updated").await;
    assert!(e["message"]["error"].as_str().unwrap().contains("500"), "{e}");
    app.clock.advance(Duration::from_secs(600));
    feed.until(|e| e["type"] == "message_updated" && e["message"]["status"] == "sent").await;
    assert_eq!(wechat_texts(&sim, USER), vec![GREETING, "限流之后"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_48_hours_a_reply_is_refused_with_a_reason_the_agent_can_read() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗").await;
    app.clock.advance(Duration::from_secs(48 * 3600 + 1));
    let agent = app.agent("agent1", "agent123").await;
    let res = agent.post(&format!("/conversations/{conv}/messages"), json!({"text": "抱歉久等"})).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "refused");
    assert!(body["message"].as_str().unwrap().contains("48小时"), "{body}");
    assert_eq!(wechat_texts(&sim, USER), vec![GREETING], "nothing after the window closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_reply_to_one_customer_message_is_refused() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗").await;
    // The greeting was the first of the five messages one customer message allows.
    for i in 0..4 {
        agent.reply(conv, &format!("第{i}条")).await;
    }
    let res = agent.post(&format!("/conversations/{conv}/messages"), json!({"text": "第六条"})).await;
    assert_eq!(res.status(), 409);
    app.clock.advance(Duration::from_secs(60));
    sim.oa_user_says(APP, USER, SimMessage::text("还有问题")).await.unwrap();
    feed.until(|e| is_text(e, "还有问题")).await;
    agent.reply(conv, "客户再发消息后可以继续").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_url_verifications_pass() {
    let (_app, sim) = TestApp::spawn_with_sandbox().await;
    assert!(sim.oa_get_verify(APP, "1234567890").await.unwrap().ok);
    assert!(sim.wecom_get_verify(CORP, WecomTarget::App).await.unwrap().ok);
    assert!(sim.wecom_get_verify(CORP, WecomTarget::Kf).await.unwrap().ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wecom_member_reaches_an_agent_and_gets_the_reply_in_the_app() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent2", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let d = sim.wecom_member_says(CORP, "zhangsan", SimMessage::text("电脑开不了机 💻")).await.unwrap();
    assert!(d.ok, "{d:?}");
    let conv = feed.until(|e| is_text(e, "电脑开不了机 💻")).await["conversation"]["id"].as_i64().unwrap();
    feed.until(|e| is_text(e, "您好，这里是内部 IT 服务台，请描述您遇到的问题。")).await;
    feed.until(|e| is_sent(e, "您好，客服小王为您服务。")).await;
    agent.reply(conv, "请先长按电源键10秒").await;
    feed.until(|e| {
        e["type"] == "message_updated"
            && e["message"]["status"] == "sent"
            && e["message"]["content"]["text"] == "请先长按电源键10秒"
    })
    .await;
    let got: Vec<_> =
        sim.inbox("zhangsan").into_iter().map(|r| (r.via, r.content["content"].clone())).collect();
    let welcome = json!("您好，这里是内部 IT 服务台，请描述您遇到的问题。");
    let greeting = json!("您好，客服小王为您服务。");
    let want = [welcome, greeting, json!("请先长按电源键10秒")].map(|t| (Via::AppSend, t));
    assert_eq!(got, want.to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_customer_service_chat_is_pulled_welcomed_answered_and_ended() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let customer = "wm_demo_xiaohong";
    let d = sim.kf_customer_says(KFID, customer, SimMessage::text("想咨询一下套餐 📱")).await.unwrap();
    assert!(d.ok, "{d:?}");
    let conv = feed.until(|e| is_text(e, "想咨询一下套餐 📱")).await["conversation"]["id"].as_i64().unwrap();
    feed.until(|e| is_sent(e, GREETING)).await;
    let welcome = sim.inbox(customer);
    assert_eq!(welcome[0].via, Via::KfEvent, "{welcome:?}");
    assert_eq!(sim.kf_service_state(KFID, customer).map(|s| s.0), Some(1), "API reception");

    agent.reply(conv, "您好，请问想了解哪种套餐？").await;
    feed.until(|e| is_sent(e, "您好，请问想了解哪种套餐？")).await;
    let sent: Vec<_> = sim.inbox(customer).into_iter().filter(|r| r.via == Via::KfSend).collect();
    let texts: Vec<_> = sent.iter().map(|r| r.content["content"].clone()).collect();
    assert_eq!(texts, vec![json!(GREETING), json!("您好，请问想了解哪种套餐？")]);

    assert_eq!(agent.post(&format!("/conversations/{conv}/close"), json!({})).await.status(), 200);
    for _ in 0..100 {
        if sim.kf_service_state(KFID, customer).map(|s| s.0) == Some(4) {
            return;
        }
        app.run_pending().await;
    }
    panic!("the 微信客服 session was not ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connectivity_test_proves_text_image_and_emoji_arrive_intact() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    sim.oa_user_says(APP, USER, SimMessage::text("测试一下")).await.unwrap();
    let admin = app.agent("admin", "admin123").await;
    let channels: Vec<Value> = admin.get("/admin/channels").await.json().await.unwrap();
    let oa = channels.iter().find(|c| c["kind"] == "wechat_oa").unwrap();
    assert!(oa["secrets"]["app_secret"].as_str().unwrap().contains("••"), "secrets are masked: {oa}");
    assert!(!oa.to_string().contains("demo-oa-secret"));
    let report: Value = admin
        .post(&format!("/admin/channels/{}/test", oa["id"]), json!({"recipient": USER}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    let last = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert!(last["detail"].as_str().unwrap().contains("逐字节一致"), "{last}");
    let agent = app.agent("agent1", "agent123").await;
    assert_eq!(
        agent.post(&format!("/admin/channels/{}/test", oa["id"]), json!({"recipient": USER})).await.status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_go_out_as_a_clickable_menu_and_links_as_a_news_card() {
    use kefu_domain::{Choice, Content, ConversationId, Sender};
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let conv = ConversationId(user_writes(&sim, &mut feed, "怎么开发票").await);
    let menu = Content::Menu {
        head: "猜你想问：".into(),
        choices: vec![
            Choice { id: "B020".into(), text: "电子发票怎么开？".into() },
            Choice { id: "B021".into(), text: "发票抬头能改吗？".into() },
        ],
        tail: Some("点击问题即可".into()),
    };
    app.engine.send_as(conv, Sender::Bot, menu).await.unwrap();
    let link = Content::Link {
        title: "开票指南".into(),
        description: Some("三步开具电子发票".into()),
        url: "https://example.com/invoice".into(),
        pic_url: None,
    };
    app.engine.send_as(conv, Sender::Bot, link).await.unwrap();
    for _ in 0..2 {
        feed.until(|e| e["type"] == "message_updated" && e["message"]["status"] == "sent").await;
    }
    let got: Vec<_> = sim.inbox(USER).into_iter().skip(1).collect();
    assert_eq!(got[0].msgtype, "msgmenu");
    assert_eq!(got[0].content["list"][1], json!({"id": "B021", "content": "发票抬头能改吗？"}));
    assert_eq!(got[1].msgtype, "news");
    assert_eq!(got[1].content["articles"][0]["title"], "开票指南");
}
