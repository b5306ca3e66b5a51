//! Real headless Chromium: a visitor who types faster than the rate limit is slowed, never
//! dropped. The widget keeps what was not acknowledged, shows it as waiting, resends it in
//! order by itself (single flight, no reconnect needed), and kefu stores each message once, in
//! the order typed.

use std::sync::Arc;
use std::time::Duration;

use kefu_domain::ManualClock;
use serde_json::Value;

use crate::browser_kit::*;
use crate::helpers::*;

const FRAME_LOG: &str = "document.querySelector('#chat-log')";
const TYPED: [&str; 5] = ["第一条", "第二条", "第三条", "第四条", "第五条"];

async fn stored_texts(lead: &AgentClient) -> Vec<String> {
    let Some(conv) = lead.conversations().await.first().map(|c| c["id"].as_i64().unwrap()) else {
        return vec![];
    };
    let msgs: Vec<Value> = lead.messages(conv).await;
    msgs.iter()
        .filter(|m| m["direction"] == "inbound")
        .map(|m| m["content"]["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_typing_past_the_rate_limit_has_every_message_sent_once_and_in_order() {
    let Some(exe) = chromium_path() else { return };
    let clock = Arc::new(ManualClock::new(T0));
    let app = TestApp::spawn_configured(clock.clone(), |c| {
        c.workers = true;
        // Two at once, then one every 100 ms of kefu's (manual) clock.
        c.limits.visitor_burst = 2;
        c.limits.visitor_per_minute = 600;
    })
    .await;
    let tb = launch(exe).await;
    let visitor = tb.isolated(&app.url("/webchat/frame?c=web")).await;
    until(&visitor, "!!document.querySelector('#chat-status[hidden]')").await;
    for text in TYPED {
        type_into(&visitor, "document.querySelector('#chat-input')", text).await;
        visitor.evaluate_expression("document.querySelector('#chat-send').click()").await.unwrap();
    }
    // The third is refused for now and shown as waiting, not as failed.
    until(&visitor, &format!("{FRAME_LOG}.textContent.includes('稍候自动发出')")).await;
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(stored_texts(&lead).await, TYPED[..2].to_vec());
    // Time passes for kefu; the widget's own retries bring the rest in.
    let mut stored = vec![];
    for _ in 0..200 {
        clock.advance(Duration::from_millis(200));
        stored = stored_texts(&lead).await;
        if stored.len() == TYPED.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored, TYPED.to_vec(), "each once, in the order typed");
    until(&visitor, &format!("!{FRAME_LOG}.textContent.includes('稍候自动发出')")).await;
    assert!(
        eval::<bool>(&visitor, "!!document.querySelector('#chat-status[hidden]')").await,
        "never went offline"
    );
    tb.shutdown().await;
}
