//! A number a customer types is only a claim: it never merges identities until the customer
//! echoes back the SMS code the (sandbox's Aliyun) SMS service delivered to it. Codes expire,
//! are used once, allow five guesses, and are rate limited per number and per conversation.

use std::time::Duration;

use kefu_domain::Clock;
use kefu_sim::{DtChat, SimMessage};
use serde_json::{Value, json};

use crate::helpers::*;

/// Reads what the visitor is shown until a text starting with `prefix` arrives.
async fn until_text(v: &mut Visitor, prefix: &str) -> String {
    for _ in 0..20 {
        let t = v.next_text().await;
        if t.starts_with(prefix) {
            return t;
        }
    }
    panic!("the visitor was never told {prefix:?}");
}

/// A web visitor in conversation, asked for their phone by a supervisor.
async fn asked_for_phone(app: &TestApp, lead: &AgentClient, id: &str) -> (Visitor, i64, i64) {
    let mut v = app.visitor(id).await;
    v.say(&format!("{id}-hi"), "我想查订单").await;
    v.next_text().await; // the bot's answer, before kefu starts waiting for a number
    let all: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    let conv = all[0]["id"].as_i64().expect("the visitor's conversation, the newest");
    let res = lead.post(&format!("/conversations/{conv}/ask-phone"), json!({})).await;
    assert_eq!(res.status(), 200);
    until_text(&mut v, "为了更好地为您服务").await;
    let c = lead.conversation(conv).await;
    (v, conv, c["customer_id"].as_i64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_typing_another_persons_mobile_is_never_merged_into_them_and_shows_as_a_possible_match() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    // 王磊's DingTalk profile carries his verified mobile 13800000042.
    let d = sim.dingtalk_user_says(
        "dingdemo00000001",
        "dt_wanglei",
        SimMessage::text("我要改地址"),
        DtChat::Direct,
    );
    assert!(d.await.unwrap().ok);
    let (mut v, _conv, web) = asked_for_phone(&app, &lead, "impostor-visitor-000001").await;
    v.say("impostor-2", "13800000042").await;
    until_text(&mut v, "验证码已发送至 138****0042").await;
    // The impostor cannot read 王磊's SMS, so no code comes back.
    let view: Value = lead.get(&format!("/customers/{web}")).await.json().await.unwrap();
    assert_eq!(view["identities"].as_array().unwrap().len(), 1, "not merged: {view}");
    assert_eq!(view["identities"][0]["phone_verified"], false);
    assert!(view["merges"].as_array().unwrap().is_empty());
    let matches = view["possible_matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "可能是同一客户: {view}");
    assert_eq!(matches[0]["phone"], "13800000042");
    let wang = matches[0]["customer"].as_i64().unwrap();
    let history: Vec<Value> = lead.get(&format!("/customers/{web}/messages")).await.json().await.unwrap();
    assert!(!history.iter().any(|m| m["content"]["text"] == "我要改地址"), "王磊's history stays his");
    // A supervisor who checked merges in one click; an agent may not.
    let li = app.agent("agent1", "agent123").await;
    let body = json!({"other": web, "reason": "电话核实为同一人"});
    assert_eq!(li.post(&format!("/customers/{wang}/merge"), body.clone()).await.status(), 403);
    assert_eq!(lead.post(&format!("/customers/{wang}/merge"), body).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_expired_and_used_codes_are_refused_and_codes_are_rate_limited() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    let (mut v, _conv, web) = asked_for_phone(&app, &lead, "careful-visitor-0000001").await;
    v.say("careful-1", "13900000001").await;
    until_text(&mut v, "验证码已发送至 139****0001").await;
    let first = sim.sms_to("13900000001")[0].code.clone();
    let wrong = if first == "000000" { "111111" } else { "000000" };
    v.say("careful-2", wrong).await;
    assert_eq!(until_text(&mut v, "验证码").await, "验证码不正确，还可以再试4次。");
    v.say("careful-3", "重新发送").await;
    assert_eq!(until_text(&mut v, "验证码").await, "验证码发送过于频繁，请一分钟后回复“重新发送”。");
    app.clock.advance(Duration::from_secs(6 * 60));
    v.say("careful-4", &first).await;
    assert!(until_text(&mut v, "验证码").await.starts_with("验证码已过期"), "codes live five minutes");
    v.say("careful-5", "重新发送").await;
    until_text(&mut v, "验证码已发送至 139****0001").await;
    let second = sim.sms_to("13900000001")[1].code.clone();
    v.say("careful-6", &second).await;
    assert_eq!(until_text(&mut v, "手机号").await, "手机号 139****0001 验证成功，谢谢！");
    let view: Value = lead.get(&format!("/customers/{web}")).await.json().await.unwrap();
    assert_eq!(view["identities"][0]["phone_verified"], true, "{view}");

    // A second conversation's codes count against the same number.
    app.clock.advance(Duration::from_secs(61));
    let (mut w, _, _) = asked_for_phone(&app, &lead, "careful-visitor-0000002").await;
    for (i, wait) in [0u64, 61, 61, 61].into_iter().enumerate() {
        app.clock.advance(Duration::from_secs(wait));
        w.say(&format!("again-msg-{i}"), if i == 0 { "13900000001" } else { "重新发送" }).await;
        let told = until_text(&mut w, "").await;
        if i < 3 {
            assert!(told.starts_with("验证码已发送至"), "code {i}: {told}");
        } else {
            assert!(told.starts_with("本次会话的验证码发送次数已达上限"), "three per conversation: {told}");
        }
    }
    assert_eq!(sim.sms_to("13900000001").len(), 5, "2 + 3 texts, the fourth in this chat refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_chat_asking_for_a_code_within_the_minute_is_told_to_wait_and_sends_nothing() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    let (mut a, _, _) = asked_for_phone(&app, &lead, "limit-visitor-00000001").await;
    a.say("limit-msg-1", "13700000009").await;
    until_text(&mut a, "验证码已发送至").await;
    app.clock.advance(Duration::from_secs(30));
    let (mut b, _, _) = asked_for_phone(&app, &lead, "limit-visitor-00000002").await;
    b.say("limit-msg-2", "13700000009").await;
    assert!(until_text(&mut b, "验证码").await.contains("频繁"));
    assert_eq!(sim.sms_to("13700000009").len(), 1);
}

/// kefu's hand-written Aliyun and Tencent Cloud clients against the sandbox's own
/// implementation of each service's signature check and rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sms_clients_are_accepted_by_an_independent_service_and_its_limits_come_back_as_refusals() {
    use kefu_channels::sms::{SmsError, SmsSettings, sender};
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    for (i, acct) in sim.config().sms.iter().enumerate() {
        let settings = SmsSettings {
            provider: acct.provider.clone(),
            endpoint: format!("{}/sms/{}/", sim.base_url, acct.provider),
            access_key_id: acct.access_key_id.clone(),
            sign_name: acct.sign_name.clone(),
            template: acct.template.clone(),
            sdk_app_id: acct.sdk_app_id.clone(),
            region: String::new(),
        };
        let phone = format!("1360000000{i}");
        let good = sender(&settings, &acct.access_key_secret, reqwest::Client::new()).unwrap();
        good.send_code(&phone, "424242", app.clock.now())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", acct.provider));
        assert_eq!(sim.sms_to(&phone)[0].code, "424242");
        let again = good.send_code(&phone, "434343", app.clock.now()).await;
        assert!(matches!(again, Err(SmsError::Refused(_))), "{}: one a minute: {again:?}", acct.provider);
        let forged = sender(&settings, "not-the-secret", reqwest::Client::new()).unwrap();
        let res = forged.send_code("13600000099", "1", app.clock.now()).await;
        assert!(matches!(res, Err(SmsError::Config(_))), "{}: a bad signature: {res:?}", acct.provider);
        assert!(sim.sms_to("13600000099").is_empty());
    }
}
