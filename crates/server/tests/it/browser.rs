//! Real headless Chromium: a visitor on the demo site chats with an agent in the workbench, and
//! a supervisor teaches the bot.

use crate::browser_kit::*;
use crate::helpers::*;

const FRAME: &str = "document.querySelector('#kefu-widget-frame').contentDocument";
const VISITOR_TEXT: &str = "你好 😊 <b>x</b>";
const REPLY: &str = "您好，我是小李 🙂 <i>请稍等</i>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_agent_chat_through_real_browsers_and_markup_stays_text() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;

    let visitor = tb.isolated(&app.url("/demo")).await;
    until(&visitor, "!!document.querySelector('#kefu-widget-button')").await;
    visitor.evaluate_expression("document.querySelector('#kefu-widget-button').click()").await.unwrap();
    until(&visitor, &format!("!!{FRAME}?.querySelector('#chat-status[hidden]')")).await;
    type_into(&visitor, &format!("{FRAME}.querySelector('#chat-input')"), VISITOR_TEXT).await;
    visitor.evaluate_expression(format!("{FRAME}.querySelector('#chat-send').click()")).await.unwrap();
    until(&visitor, &format!("[...{FRAME}.querySelectorAll('.bubble.customer')].some(b => b.textContent.includes('已送达客服'))")).await;
    // Nobody is online yet, so kefu asks the visitor to leave a message.
    until(&visitor, &format!("[...{FRAME}.querySelectorAll('.bubble.service')].some(b => b.textContent.includes('没有客服在线'))")).await;

    let agent = tb.isolated(&app.url("/")).await;
    login(&agent, "agent1", "agent123").await;
    until(&agent, "document.querySelectorAll('.conv-item').length === 1").await;
    agent.evaluate_expression("document.querySelector('.conv-item').click()").await.unwrap();
    until(&agent, "document.querySelectorAll('#messages .msg').length === 2").await;

    let shown: String =
        eval(&agent, "document.querySelector('#messages .msg.inbound .msg-text').textContent").await;
    assert_eq!(shown, VISITOR_TEXT, "the agent sees exactly what the visitor typed");
    let injected: usize =
        eval(&agent, "document.querySelectorAll('#messages b, #messages i, .conv-item b').length").await;
    assert_eq!(injected, 0, "customer markup must not become elements");

    type_into(&agent, "document.querySelector('#composer-text')", REPLY).await;
    agent.evaluate_expression("document.querySelector('#composer-send').click()").await.unwrap();
    until(
        &visitor,
        &format!(
            "[...{FRAME}.querySelectorAll('.bubble.service .msg-text')].some(b => b.textContent === {})",
            js(REPLY)
        ),
    )
    .await;
    let visitor_injected: usize =
        eval(&visitor, &format!("{FRAME}.querySelectorAll('.bubble b, .bubble i').length")).await;
    assert_eq!(visitor_injected, 0);
    until(&agent, "!!document.querySelector('#messages .msg.outbound .delivery.delivered')").await;

    // History survives a reload of the visitor's page.
    visitor.reload().await.unwrap();
    until(&visitor, "!!document.querySelector('#kefu-widget-button')").await;
    visitor.evaluate_expression("document.querySelector('#kefu-widget-button').click()").await.unwrap();
    until(&visitor, &format!("({FRAME}?.querySelectorAll('#chat-log .msg-text').length ?? 0) >= 3")).await;
    let texts: Vec<String> = eval(
        &visitor,
        &format!(
            "[...{FRAME}.querySelectorAll('#chat-log li:not(.welcome) .msg-text')].map(e => e.textContent)"
        ),
    )
    .await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!((texts[0].as_str(), texts[2].as_str()), (VISITOR_TEXT, REPLY));
    assert!(texts[1].contains("没有客服在线"), "{texts:?}");
    tb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_teaches_the_bot_and_a_visitor_clicks_its_suggestion() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;

    let lead = tb.isolated(&app.url("/")).await;
    login(&lead, "lead", "lead123").await;
    lead.evaluate_expression("document.querySelector('#open-kb').click()").await.unwrap();
    until(&lead, "!document.querySelector('#kb-pane').hidden").await;
    for (q, a) in [
        ("怎么申请退货？", "订单详情点“申请售后”即可退货。"),
        ("退款多久到账？", "审核后1-3个工作日原路退回。"),
    ] {
        type_into(&lead, "document.querySelector('#kb-form [name=question]')", q).await;
        type_into(&lead, "document.querySelector('#kb-form [name=answer]')", a).await;
        lead.evaluate_expression("document.querySelector('#kb-form [type=submit]').click()").await.unwrap();
        until(
            &lead,
            &format!(
                "[...document.querySelectorAll('#kb-rows td')].some(td => td.textContent === {})",
                js(q)
            ),
        )
        .await;
    }
    type_into(&lead, "document.querySelector('#kb-try-text')", "退货怎么弄").await;
    lead.evaluate_expression("document.querySelector('#kb-try').click()").await.unwrap();
    until(&lead, "!!document.querySelector('#kb-try-result .kb-decision')").await;
    // Hits in confidence order, and the bot's decision is a line of its own, not a hit.
    let confidences: Vec<f64> = eval(
        &lead,
        "[...document.querySelectorAll('#kb-try-result li')].map(li => parseFloat(li.textContent.split(' ').pop()))",
    )
    .await;
    assert!(!confidences.is_empty() && confidences.windows(2).all(|w| w[0] >= w[1]), "{confidences:?}");
    let numbered: usize = eval(
        &lead,
        "document.querySelectorAll('#kb-try-result li.kb-decision, #kb-try-result li .kb-decision').length",
    )
    .await;
    assert_eq!(numbered, 0);
    snap(&lead, "knowledge-base").await;

    // Suggestions only: the channel's threshold is out of reach.
    let mut web = app.store.channel_by_key("web").await.unwrap();
    web.settings["bot_threshold"] = serde_json::json!(1.1);
    app.store.update_channel(&web).await.unwrap();
    let visitor = tb.isolated(&app.url("/webchat/frame?c=web")).await;
    until(&visitor, "!!document.querySelector('#chat-status[hidden]')").await;
    type_into(&visitor, "document.querySelector('#chat-input')", "退款").await;
    visitor.evaluate_expression("document.querySelector('#chat-send').click()").await.unwrap();
    until(&visitor, "document.querySelectorAll('.choice').length >= 1").await;
    snap(&visitor, "suggestions").await;
    let choice: String = eval(&visitor, "document.querySelector('.choice').textContent").await;
    visitor.evaluate_expression("document.querySelector('.choice').click()").await.unwrap();
    let answer = if choice.contains("退款") {
        "审核后1-3个工作日原路退回。"
    } else {
        "订单详情点“申请售后”即可退货。"
    };
    until(
        &visitor,
        &format!(
            "[...document.querySelectorAll('.bubble.service .msg-text')].some(b => b.textContent === {})",
            js(answer)
        ),
    )
    .await;
    tb.shutdown().await;
}
