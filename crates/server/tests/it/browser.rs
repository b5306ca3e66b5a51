//! Real headless Chromium: a visitor on the demo site chats with an agent in the workbench.
//!
//! Needs `/usr/bin/chromium` (or `KEFU_CHROMIUM`). Without it the test says loudly that it was
//! skipped, unless `KEFU_REQUIRE_BROWSER` is set (as CI does), in which case it fails.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::target::{CreateBrowserContextParams, CreateTargetParams};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;

use crate::helpers::*;

struct TestBrowser {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

fn chromium_path() -> Option<PathBuf> {
    let path =
        std::env::var_os("KEFU_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("KEFU_REQUIRE_BROWSER").is_none(),
        "KEFU_REQUIRE_BROWSER is set but {path:?} is missing"
    );
    let _ = writeln!(std::io::stderr(), "\n*** {path:?} not found: browser tests were SKIPPED ***\n");
    None
}

async fn launch(exe: PathBuf) -> TestBrowser {
    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(exe)
        .no_sandbox()
        .user_data_dir(profile.path())
        .window_size(1280, 900)
        .viewport(Viewport { width: 1280, height: 900, ..Default::default() })
        .args([
            "disable-gpu",
            "disable-quic",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .launch_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let (browser, mut events) = Browser::launch(config).await.expect("launch chromium");
    let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
    TestBrowser { browser, handler, _profile: profile }
}

impl TestBrowser {
    /// A page in its own browser context: its own cookies and localStorage.
    async fn isolated(&self, url: &str) -> Page {
        let ctx = self.browser.create_browser_context(CreateBrowserContextParams::default()).await.unwrap();
        let mut params = CreateTargetParams::new(url);
        params.browser_context_id = Some(ctx);
        self.browser.new_page(params).await.unwrap()
    }

    async fn shutdown(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        let _ = self.handler.await;
    }
}

/// Waits until a JS expression is true: the page updates asynchronously (WebSocket pushes).
async fn until(page: &Page, expr: &str) {
    for _ in 0..150 {
        if let Ok(r) = page.evaluate_expression(expr).await
            && r.into_value::<bool>().unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let html: String = page
        .evaluate_expression("document.body.innerHTML")
        .await
        .map(|r| r.into_value().unwrap_or_default())
        .unwrap_or_default();
    panic!("page never satisfied `{expr}`; body was:\n{html}");
}

async fn eval<T: serde::de::DeserializeOwned>(page: &Page, expr: &str) -> T {
    page.evaluate_expression(expr).await.unwrap().into_value().unwrap()
}

/// Focuses an element (by JS expression) and inserts text as an IME would, so Chinese and emoji work.
async fn type_into(page: &Page, element: &str, text: &str) {
    page.evaluate_expression(format!("{element}.focus()")).await.unwrap();
    page.execute(InsertTextParams::new(text)).await.unwrap();
}

const FRAME: &str = "document.querySelector('#kefu-widget-frame').contentDocument";
const VISITOR_TEXT: &str = "你好 😊 <b>x</b>";
const REPLY: &str = "您好，我是小李 🙂 <i>请稍等</i>";

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_and_an_agent_chat_through_real_browsers_and_markup_stays_text() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn().await;
    let tb = launch(exe).await;

    let visitor = tb.isolated(&app.url("/demo")).await;
    until(&visitor, "!!document.querySelector('#kefu-widget-button')").await;
    visitor.evaluate_expression("document.querySelector('#kefu-widget-button').click()").await.unwrap();
    until(&visitor, &format!("!!{FRAME}?.querySelector('#chat-status[hidden]')")).await;
    type_into(&visitor, &format!("{FRAME}.querySelector('#chat-input')"), VISITOR_TEXT).await;
    visitor.evaluate_expression(format!("{FRAME}.querySelector('#chat-send').click()")).await.unwrap();
    until(&visitor, &format!("[...{FRAME}.querySelectorAll('.bubble.customer')].some(b => b.textContent.includes('已送达客服'))")).await;

    let agent = tb.isolated(&app.url("/")).await;
    until(&agent, "!document.querySelector('#login-view').hidden").await;
    type_into(&agent, "document.querySelector('#login-username')", "agent1").await;
    type_into(&agent, "document.querySelector('#login-password')", "agent123").await;
    agent.evaluate_expression("document.querySelector('#login-submit').click()").await.unwrap();
    until(&agent, "document.querySelectorAll('.conv-item').length === 1").await;
    agent.evaluate_expression("document.querySelector('.conv-item').click()").await.unwrap();
    until(&agent, "document.querySelectorAll('#messages .msg').length === 1").await;

    let shown: String = eval(&agent, "document.querySelector('#messages .msg-text').textContent").await;
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
    until(&visitor, &format!("({FRAME}?.querySelectorAll('#chat-log .msg-text').length ?? 0) >= 2")).await;
    let texts: Vec<String> = eval(
        &visitor,
        &format!(
            "[...{FRAME}.querySelectorAll('#chat-log li:not(.welcome) .msg-text')].map(e => e.textContent)"
        ),
    )
    .await;
    assert_eq!(texts, vec![VISITOR_TEXT.to_owned(), REPLY.to_owned()]);
    tb.shutdown().await;
}

/// Saves a screenshot when `KEFU_SCREENSHOTS` names a directory (for looking at the UI).
async fn snap(page: &Page, name: &str) {
    if let Some(dir) = std::env::var_os("KEFU_SCREENSHOTS") {
        use chromiumoxide::page::ScreenshotParams;
        let path = PathBuf::from(dir).join(format!("{name}.png"));
        let _ = page.save_screenshot(ScreenshotParams::builder().full_page(true).build(), path).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_teaches_the_bot_and_a_visitor_clicks_its_suggestion() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn().await;
    let tb = launch(exe).await;

    let lead = tb.isolated(&app.url("/")).await;
    until(&lead, "!document.querySelector('#login-view').hidden").await;
    type_into(&lead, "document.querySelector('#login-username')", "lead").await;
    type_into(&lead, "document.querySelector('#login-password')", "lead123").await;
    lead.evaluate_expression("document.querySelector('#login-submit').click()").await.unwrap();
    until(&lead, "document.querySelector('#me-name').textContent !== ''").await;
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
    until(&lead, "document.querySelectorAll('#kb-try-result li').length >= 2").await;
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
