//! Real headless Chromium: a supervisor edits a skill group's rules in the workbench, the next
//! visitor is routed by them, and the supervisor transfers the chat with a note.

use crate::browser_kit::*;
use crate::helpers::*;

const ROW: &str = "[...document.querySelectorAll('#group-rows tr')]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_edits_a_groups_rules_in_the_workbench_and_transfers_a_chat_with_a_note() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;
    let lead = tb.isolated(&app.url("/")).await;
    login(&lead, "lead", "lead123").await;
    // Away: the lead watches and configures; agents take the chats.
    lead.evaluate_expression(
        "const s = document.querySelector('#me-status'); s.value = 'away'; s.dispatchEvent(new Event('change'))",
    )
    .await
    .unwrap();

    lead.evaluate_expression("document.querySelector('#open-routing').click()").await.unwrap();
    until(&lead, &format!("{ROW}.length === 3")).await;
    lead.evaluate_expression(format!(
        "{ROW}.find(r => r.textContent.includes('售前咨询')).querySelector('button').click()"
    ))
    .await
    .unwrap();
    until(&lead, "document.querySelector('#group-form').name.value === '售前咨询'").await;
    lead.evaluate_expression("document.querySelector('#group-form').keywords.value = ''").await.unwrap();
    type_into(&lead, "document.querySelector('#group-form').keywords", "开发票").await;
    lead.evaluate_expression("document.querySelector('#group-form [type=submit]').click()").await.unwrap();
    until(&lead, &format!("{ROW}.some(r => r.textContent.includes('开发票'))")).await;
    snap(&lead, "routing").await;

    app.agent("agent1", "agent123").await;
    let wang = app.agent("agent2", "agent123").await;
    let mut v = app.visitor("browser-route-visitor-01").await;
    v.say("browser-route-1", "我想开发票").await;
    assert_eq!(v.next_text().await, "您好，客服小李为您服务。", "the rule saved in the UI routed it");

    lead.evaluate_expression("document.querySelector('#close-routing').click()").await.unwrap();
    lead.evaluate_expression("document.querySelector('.tab[data-scope=all]').click()").await.unwrap();
    until(&lead, "document.querySelectorAll('.conv-item').length === 1").await;
    lead.evaluate_expression("document.querySelector('.conv-item').click()").await.unwrap();
    // The conversation is open once its messages are shown.
    until(&lead, "document.querySelectorAll('#messages .msg').length >= 2").await;
    lead.evaluate_expression("document.querySelector('#transfer-conversation').click()").await.unwrap();
    until(&lead, "document.querySelectorAll('#transfer-target option').length > 3").await;
    lead.evaluate_expression(
        "const t = document.querySelector('#transfer-target'); \
         t.value = [...t.options].find(o => o.textContent.includes('售后服务')).value",
    )
    .await
    .unwrap();
    type_into(&lead, "document.querySelector('#transfer-note')", "客户还要退一件 <b>急</b>").await;
    lead.evaluate_expression("document.querySelector('#transfer-form [type=submit]').click()").await.unwrap();
    assert_eq!(v.next_text().await, "您好，客服小王为您服务。");

    let conv = wang.conversations().await[0]["id"].as_i64().unwrap();
    let msgs = wang.messages(conv).await;
    let note = msgs.iter().find(|m| m["direction"] == "internal").expect("the note");
    assert!(note["content"]["text"].as_str().unwrap().ends_with("客户还要退一件 <b>急</b>"), "{note}");
    tb.shutdown().await;
}
