//! The README's demo story, step by step as written, in real Chromium: the demo company's
//! agents log in, visitors on the demo site reach the right one through the bot, a refund with
//! nobody of its group online becomes a 留言, and the English switch leaves no label behind.

use chromiumoxide::Page;

use crate::browser_kit::*;
use crate::helpers::*;

const FRAME: &str = "document.querySelector('#kefu-widget-frame').contentDocument";

/// `kefu demo`'s data: the demo company (spawn) plus its knowledge base.
async fn demo() -> TestApp {
    let app = TestApp::spawn_live().await;
    kefu_server::seed::demo_faq(app.store.as_ref(), app.clock.as_ref()).await.unwrap();
    app.engine.bot().refresh(app.store.as_ref()).await.unwrap();
    app
}

async fn open_widget(v: &Page) {
    until(v, "document.querySelector('#kefu-widget-button')?.textContent === '在线客服'").await;
    v.evaluate_expression("document.querySelector('#kefu-widget-button').click()").await.unwrap();
    until(v, &format!("!!{FRAME}?.querySelector('#chat-status[hidden]')")).await;
}

fn service_bubbles(v: &str) -> String {
    format!("[...{FRAME}.querySelectorAll('.bubble.service .msg-text')].map(b => b.textContent){v}")
}

/// Writes in the widget and waits until a service bubble satisfies `until_js` (over `texts`).
async fn write(v: &Page, text: &str, until_js: &str) {
    type_into(v, &format!("{FRAME}.querySelector('#chat-input')"), text).await;
    v.evaluate_expression(format!("{FRAME}.querySelector('#chat-send').click()")).await.unwrap();
    until(v, &format!("(texts => {until_js})({})", service_bubbles(""))).await;
}

/// A visitor in a window of their own asks `question`, then 转人工; returns the last reply.
async fn hand_off(tb: &TestBrowser, app: &TestApp, question: &str, reply_has: &str) -> Page {
    let v = tb.isolated(&app.url("/demo")).await;
    open_widget(&v).await;
    write(&v, question, "texts.length >= 2").await;
    write(&v, "转人工", &format!("texts.some(t => t.includes({}))", js(reply_has))).await;
    v
}

async fn conversations(page: &Page) -> usize {
    eval(page, "document.querySelectorAll('#conversation-list .conv-item').length").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_demo_story_works_as_written_in_real_browsers() {
    let Some(exe) = chromium_path() else { return };
    let app = demo().await;
    let tb = launch(exe).await;
    // 1. agent1 and agent2 log in, each in a browser of their own.
    let (li, wang) = (tb.isolated(&app.url("/")).await, tb.isolated(&app.url("/")).await);
    login(&li, "agent1", "agent123").await;
    login(&wang, "agent2", "agent123").await;

    // 2–3. 我想退款: the bot answers at once; 转人工 hands it to 小王 of 售后服务.
    let v1 = hand_off(&tb, &app, "我想退款", "您好，客服小王为您服务。").await;
    until(&wang, "document.querySelectorAll('#conversation-list .conv-item').length === 1").await;
    wang.evaluate_expression("document.querySelector('.conv-item').click()").await.unwrap();
    until(&wang, "!!document.querySelector('#messages .msg.internal')").await;
    type_into(&wang, "document.querySelector('#composer-text')", "您好，退款马上为您处理").await;
    wang.evaluate_expression("document.querySelector('#composer-send').click()").await.unwrap();
    write_seen(&v1, "您好，退款马上为您处理").await;
    assert_eq!(conversations(&li).await, 0, "小李 does not serve 售后服务");
    buttons_stay_on_one_line(&wang).await;

    // 4. 报价多少钱 goes to 售前咨询, to 小李.
    hand_off(&tb, &app, "报价多少钱", "您好，客服小李为您服务。").await;
    until(&li, "document.querySelectorAll('#conversation-list .conv-item').length === 1").await;

    // 5. agent2 logs out; a refund with nobody of 售后服务 online becomes a 留言.
    wang.evaluate_expression("document.querySelector('#logout').click()").await.unwrap();
    until(&wang, "!document.querySelector('#login-view').hidden").await;
    // 小王's open chat goes back to routing, finds nobody of 售后服务 and becomes a 留言 too.
    until(&v1, &format!("(texts => texts.some(t => t.includes('请留下您的问题')))({})", service_bubbles("")))
        .await;
    hand_off(&tb, &app, "我想退款", "请留下您的问题").await;
    let lead = tb.isolated(&app.url("/")).await;
    login(&lead, "lead", "lead123").await;
    for page in [&lead, &li] {
        page.evaluate_expression("document.querySelector('.tab[data-scope=leave]').click()").await.unwrap();
    }
    until(&lead, "document.querySelectorAll('#conversation-list .conv-item').length === 2").await;
    until(&li, "!document.querySelector('#list-empty').hidden").await;
    assert_eq!(conversations(&li).await, 0, "a 售后服务 ticket is not 小李's");

    // 6. English, everywhere, and nothing of the Chinese labels left on screen.
    english_everywhere(&tb, &app, &li, &lead, &v1).await;
    tb.shutdown().await;
}

/// 图片 and 发送 keep their labels on one line, on a desktop and on a 390 px phone.
async fn buttons_stay_on_one_line(page: &Page) {
    use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
    let one_line = "['#composer-attach', '#composer-send'].every(s => { const b = document.querySelector(s); \
        const lh = parseFloat(getComputedStyle(b).lineHeight) || 1.4 * parseFloat(getComputedStyle(b).fontSize); \
        return b.getBoundingClientRect().height < 2 * lh + 16 && b.scrollWidth <= b.clientWidth + 1; })";
    assert!(eval::<bool>(page, one_line).await, "composer buttons wrap on a desktop");
    page.execute(SetDeviceMetricsOverrideParams::new(390, 844, 2.0, true)).await.unwrap();
    until(page, "window.innerWidth === 390").await;
    assert!(eval::<bool>(page, one_line).await, "composer buttons wrap at 390 px");
    let fits: bool =
        eval(page, "document.querySelector('#composer-send').getBoundingClientRect().right <= 390").await;
    assert!(fits, "the send button is on screen at 390 px");
    page.execute(SetDeviceMetricsOverrideParams::new(1280, 900, 1.0, false)).await.unwrap();
}

/// FAQ mining's result is shown by the buttons that started it, scrolled to and focused.
async fn mining_report_comes_into_view(page: &Page) {
    page.evaluate_expression("document.querySelector('#kb-mine').click()").await.unwrap();
    until(page, "!document.querySelector('#kb-mine-report').hidden && document.activeElement?.id === 'kb-mine-report'").await;
    let r = "document.querySelector('#kb-mine-report').getBoundingClientRect()";
    let in_view: bool = eval(page, &format!("{r}.top >= 0 && {r}.bottom <= window.innerHeight + 1")).await;
    let at: String =
        eval(page, &format!("JSON.stringify([{r}, window.innerHeight, window.innerWidth])")).await;
    assert!(in_view, "the mining result is on screen: {at}");
}

async fn write_seen(v: &Page, text: &str) {
    until(v, &format!("(texts => texts.includes({}))({})", js(text), service_bubbles(""))).await;
}

/// Visible Chinese on a document: text nodes and the placeholder, title and aria-label of
/// visible elements. Customer data is Chinese in any language; only labels must change.
fn visible_chinese(doc: &str) -> String {
    format!(
        "(() => {{ const doc = {doc}, out = [], cjk = /[\\u4e00-\\u9fff]/;
          const seen = el => el && el.checkVisibility && el.checkVisibility();
          const w = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
          for (let n; (n = w.nextNode()); ) {{
            const t = n.textContent.trim();
            // The signed-in person's own name is data (the demo admin is called 管理员).
            if (cjk.test(t) && seen(n.parentElement) && !n.parentElement.closest('#me-name')) out.push(t);
          }}
          for (const el of doc.querySelectorAll('[placeholder],[title],[aria-label]')) {{
            if (!seen(el)) continue;
            for (const a of ['placeholder', 'title', 'aria-label']) {{
              const v = el.getAttribute(a);
              if (v && cjk.test(v)) out.push(v);
            }}
          }}
          return out; }})()"
    )
}

/// Fails on any visible string that is still a label's Chinese text.
async fn assert_translated(page: &Page, doc: &str, what: &str) {
    let (zh, _) = crate::i18n::dictionaries();
    let labels: Vec<&String> = zh.values().filter(|v| !v.contains('{')).collect();
    let shown: Vec<String> = eval(page, &visible_chinese(doc)).await;
    let left: Vec<&String> = shown.iter().filter(|s| labels.contains(s)).collect();
    assert!(left.is_empty(), "{what}: Chinese labels left in English: {left:?}");
}

async fn switch_to_english(page: &Page, doc: &str) {
    page.evaluate_expression(format!("{doc}.querySelector('.lang-toggle').click()")).await.unwrap();
    until(page, &format!("{doc}.documentElement.lang === 'en'")).await;
}

async fn english_everywhere(tb: &TestBrowser, app: &TestApp, li: &Page, lead: &Page, v1: &Page) {
    switch_to_english(li, "document").await;
    until(li, "document.querySelector('.tab[data-scope=leave]').textContent === 'Left messages'").await;
    assert_translated(li, "document", "agent1's workbench").await;
    switch_to_english(v1, FRAME).await;
    assert_translated(v1, FRAME, "the widget").await;
    // Already-rendered receipts re-render: the visitor's own bubbles say so in English.
    until(v1, &format!("[...{FRAME}.querySelectorAll('.bubble.customer')].some(b => /[A-Za-z]/.test(b.textContent) && !/已送达/.test(b.textContent))")).await;

    switch_to_english(lead, "document").await;
    for pane in ["open-kb", "open-routing", "open-dash", "open-mine"] {
        lead.evaluate_expression(format!("document.querySelector('#{pane}').click()")).await.unwrap();
        until(lead, "[...document.querySelectorAll('.admin-pane')].some(p => !p.hidden)").await;
        assert_translated(lead, "document", pane).await;
        if pane == "open-kb" {
            mining_report_comes_into_view(lead).await;
        }
    }
    let admin = tb.isolated(&app.url("/")).await;
    login(&admin, "admin", "admin123").await;
    switch_to_english(&admin, "document").await;
    for pane in ["open-admin", "open-accounts", "open-integrations"] {
        admin.evaluate_expression(format!("document.querySelector('#{pane}').click()")).await.unwrap();
        until(&admin, "[...document.querySelectorAll('.admin-pane')].some(p => !p.hidden)").await;
        assert_translated(&admin, "document", pane).await;
    }
}
