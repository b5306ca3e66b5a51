//! Real headless Chromium: a customer who wrote on WeChat, bound a phone, and later wrote on
//! DingTalk with the same mobile is one customer in the workbench's 360 view, with both
//! identities and both histories; the dashboard and the data-API page work in the browser.

use kefu_sim::{DtChat, SimMessage};
use serde_json::{Value, json};

use crate::browser_kit::*;
use crate::helpers::*;

fn sent(e: &Value, text: &str) -> bool {
    e["type"] == "message_updated"
        && e["message"]["status"] == "sent"
        && e["message"]["content"]["text"] == text
}

/// The WeChat customer binds 13800000042 and confirms it with the code the sandbox's SMS
/// service delivered; DingTalk's user API reports the same mobile for dt_wanglei.
async fn one_person_on_two_channels(app: &TestApp, sim: &kefu_sim::SimHandle) {
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    let (app_id, user) = ("wxdemo0000000001", "o_demo_xiaoming");
    sim.oa_user_says(app_id, user, SimMessage::text("查一下我的宽带订单")).await.unwrap();
    let e = feed
        .until(|e| e["type"] == "message_created" && e["message"]["content"]["text"] == "查一下我的宽带订单")
        .await;
    let conv = e["conversation"]["id"].as_i64().unwrap();
    assert_eq!(li.post(&format!("/conversations/{conv}/ask-phone"), json!({})).await.status(), 200);
    sim.oa_user_says(app_id, user, SimMessage::text("13800000042")).await.unwrap();
    feed.until(|e| {
        sent(e, "验证码已发送至 138****0042，请在5分钟内直接回复6位验证码。没收到？回复“重新发送”。")
    })
    .await;
    let code = sim.sms_to("13800000042").last().expect("the code's text").code.clone();
    sim.oa_user_says(app_id, user, SimMessage::text(&code)).await.unwrap();
    feed.until(|e| sent(e, "手机号 138****0042 验证成功，谢谢！")).await;
    let said = sim.dingtalk_user_says(
        "dingdemo00000001",
        "dt_wanglei",
        SimMessage::text("我在钉钉上再问一下"),
        DtChat::Direct,
    );
    assert!(said.await.unwrap().ok);
}

const IDS: &str = "[...document.querySelectorAll('#c360-identities li')]";
const HISTORY: &str = "document.querySelector('#c360-history').textContent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_on_wechat_and_dingtalk_with_one_phone_is_one_customer_in_the_workbench() {
    let Some(exe) = chromium_path() else { return };
    let (app, sim) = TestApp::sandbox_configured(|c| c.workers = true).await;
    one_person_on_two_channels(&app, &sim).await;
    let tb = launch(exe).await;
    let lead = tb.isolated(&app.url("/")).await;
    login(&lead, "lead", "lead123").await;
    lead.evaluate_expression("document.querySelector('.tab[data-scope=all]').click()").await.unwrap();
    until(&lead, "document.querySelectorAll('.conv-item').length === 2").await;
    lead.evaluate_expression("document.querySelector('.conv-item').click()").await.unwrap();
    // The profile lookup on DingTalk runs after the ack, so the merge may land a moment later.
    until(&lead, &format!("{IDS}.length === 2")).await;
    let ids: String = eval(&lead, &format!("{IDS}.map(li => li.textContent).join('|')")).await;
    assert!(ids.contains("微信公众号（沙箱）") && ids.contains("钉钉机器人（沙箱）"), "{ids}");
    assert!(ids.contains("13800000042"), "{ids}");
    until(
        &lead,
        &format!("{HISTORY}.includes('查一下我的宽带订单') && {HISTORY}.includes('我在钉钉上再问一下')"),
    )
    .await;
    let order: bool = eval(
        &lead,
        &format!("{HISTORY}.indexOf('我在钉钉上再问一下') < {HISTORY}.indexOf('查一下我的宽带订单')"),
    )
    .await;
    assert!(order, "newest first");
    assert!(
        eval::<bool>(&lead, "document.querySelector('#c360-conflicts').hidden").await,
        "one phone, no conflict"
    );
    let merges: String = eval(&lead, "document.querySelector('#c360-merges').textContent").await;
    assert!(merges.contains("phone:13800000042"), "{merges}");
    snap(&lead, "customer360").await;

    // Undo the merge, then merge again by hand, answering the reason prompts.
    lead.evaluate_expression("window.prompt = () => '测试拆分与合并'").await.unwrap();
    lead.evaluate_expression("document.querySelector('#c360-merges button').click()").await.unwrap();
    until(&lead, &format!("{IDS}.length === 1")).await;
    until(&lead, "document.querySelector('#c360-merges').textContent.includes('测试拆分与合并')").await;
    type_into(&lead, "document.querySelector('#c360-merge-q')", "dt_wanglei").await;
    lead.evaluate_expression("document.querySelector('#c360-merge-form [type=submit]').click()")
        .await
        .unwrap();
    until(&lead, "document.querySelectorAll('#c360-merge-results button').length === 1").await;
    lead.evaluate_expression("document.querySelector('#c360-merge-results button').click()").await.unwrap();
    until(&lead, &format!("{IDS}.length === 2")).await;
    until(
        &lead,
        &format!("{HISTORY}.includes('查一下我的宽带订单') && {HISTORY}.includes('我在钉钉上再问一下')"),
    )
    .await;

    lead.evaluate_expression("document.querySelector('#open-dash').click()").await.unwrap();
    lead.evaluate_expression(
        "document.querySelector('#dash-from').value = '2025-12-31'; document.querySelector('#dash-to').value = '2026-01-02'; \
         document.querySelector('#dash-load').click()",
    )
    .await
    .unwrap();
    until(&lead, "[...document.querySelectorAll('#dash-rows tr')].some(r => r.textContent.startsWith('钉钉机器人（沙箱）1'))").await;
    until(&lead, "document.querySelectorAll('#dash-charts svg rect').length >= 2").await;
    snap(&lead, "dashboard").await;

    let admin = tb.isolated(&app.url("/")).await;
    login(&admin, "admin", "admin123").await;
    admin.evaluate_expression("document.querySelector('#open-integrations').click()").await.unwrap();
    type_into(&admin, "document.querySelector('#key-form').name", "CRM 同步").await;
    admin
        .evaluate_expression(
            "document.querySelector('#key-scopes input[value=\"changes:read\"]').click(); \
             document.querySelector('#key-form [type=submit]').click()",
        )
        .await
        .unwrap();
    until(&admin, "document.querySelector('#int-once code')?.textContent.startsWith('kf_')").await;
    let token: String = eval(&admin, "document.querySelector('#int-once code').textContent").await;
    let res =
        reqwest::Client::new().get(app.url("/api/v1/changes")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200, "the key shown once works");
    until(&admin, "document.querySelector('#key-rows').textContent.includes('CRM 同步')").await;
    tb.shutdown().await;
}
