//! Real headless Chromium for the UI tests: launching it, isolated pages, waiting on the page,
//! and typing Chinese the way an IME does.
//!
//! Needs `/usr/bin/chromium` (or `KEFU_CHROMIUM`). Without it the tests say loudly that they were
//! skipped, unless `KEFU_REQUIRE_BROWSER` is set (as CI does), in which case they fail.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::target::{CreateBrowserContextParams, CreateTargetParams};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;

pub struct TestBrowser {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

pub fn chromium_path() -> Option<PathBuf> {
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

pub async fn launch(exe: PathBuf) -> TestBrowser {
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
    pub async fn isolated(&self, url: &str) -> Page {
        let ctx = self.browser.create_browser_context(CreateBrowserContextParams::default()).await.unwrap();
        let mut params = CreateTargetParams::new(url);
        params.browser_context_id = Some(ctx);
        self.browser.new_page(params).await.unwrap()
    }

    pub async fn shutdown(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        let _ = self.handler.await;
    }
}

/// Waits until a JS expression is true: the page updates asynchronously (WebSocket pushes).
pub async fn until(page: &Page, expr: &str) {
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

pub async fn eval<T: serde::de::DeserializeOwned>(page: &Page, expr: &str) -> T {
    page.evaluate_expression(expr).await.unwrap().into_value().unwrap()
}

/// Focuses an element (by JS expression) and inserts text as an IME would, so Chinese and emoji work.
pub async fn type_into(page: &Page, element: &str, text: &str) {
    page.evaluate_expression(format!("{element}.focus()")).await.unwrap();
    page.execute(InsertTextParams::new(text)).await.unwrap();
}

pub fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Saves a screenshot when `KEFU_SCREENSHOTS` names a directory (for looking at the UI).
pub async fn snap(page: &Page, name: &str) {
    if let Some(dir) = std::env::var_os("KEFU_SCREENSHOTS") {
        use chromiumoxide::page::ScreenshotParams;
        let path = PathBuf::from(dir).join(format!("{name}.png"));
        let _ = page.save_screenshot(ScreenshotParams::builder().full_page(true).build(), path).await;
    }
}

/// Logs in through the workbench's form.
pub async fn login(page: &Page, user: &str, password: &str) {
    until(page, "!document.querySelector('#login-view').hidden").await;
    type_into(page, "document.querySelector('#login-username')", user).await;
    type_into(page, "document.querySelector('#login-password')", password).await;
    page.evaluate_expression("document.querySelector('#login-submit').click()").await.unwrap();
    until(page, "document.querySelector('#me-name').textContent !== ''").await;
}
