//! Real headless Chromium: an admin adds an agent in 账号管理, the agent logs in in another
//! browser and serves a customer, then the admin disables the account and the agent's open
//! workbench falls back to the login form.

use crate::browser_kit::*;
use crate::helpers::*;

const ROWS: &str = "[...document.querySelectorAll('#account-rows tr')]";

fn form(field: &str) -> String {
    format!("document.querySelector('#account-form').{field}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_an_agent_who_serves_and_is_then_disabled_from_the_accounts_page() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;
    let admin = tb.isolated(&app.url("/")).await;
    login(&admin, "admin", "admin123").await;
    admin.evaluate_expression("document.querySelector('#open-accounts').click()").await.unwrap();
    until(&admin, &format!("{ROWS}.length === 4")).await;
    type_into(&admin, &form("username"), "xiaozhao").await;
    type_into(&admin, &form("display_name"), "小赵").await;
    type_into(&admin, &form("password"), "pass-word-1").await;
    admin
        .evaluate_expression(
            "[...document.querySelectorAll('#account-groups label')].find(l => l.textContent.includes('售前咨询')).querySelector('input').click()",
        )
        .await
        .unwrap();
    admin.evaluate_expression("document.querySelector('#account-form [type=submit]').click()").await.unwrap();
    until(
        &admin,
        &format!("{ROWS}.some(r => r.textContent.includes('小赵') && r.textContent.includes('售前咨询'))"),
    )
    .await;
    snap(&admin, "accounts").await;

    let zhao = tb.isolated(&app.url("/")).await;
    login(&zhao, "xiaozhao", "pass-word-1").await;
    let mut v = app.visitor("browser-acct-visitor-001").await;
    v.say("browser-acct-1", "报价多少钱").await;
    assert_eq!(v.next_text().await, "您好，客服小赵为您服务。");
    until(&zhao, "document.querySelectorAll('.conv-item').length === 1").await;
    // 我的账号 lists where the agent is signed in: here, this one browser.
    zhao.evaluate_expression("document.querySelector('#open-mine').click()").await.unwrap();
    until(&zhao, "document.querySelectorAll('#session-rows tr').length === 1").await;
    until(&zhao, "document.querySelector('#session-rows').textContent.includes('当前设备')").await;

    admin
        .evaluate_expression(format!(
            "{ROWS}.find(r => r.dataset.username === 'xiaozhao').querySelector('.acct-toggle').click()"
        ))
        .await
        .unwrap();
    until(
        &admin,
        &format!("{ROWS}.find(r => r.dataset.username === 'xiaozhao').textContent.includes('已停用')"),
    )
    .await;
    until(&zhao, "!document.querySelector('#login-view').hidden").await;
    tb.shutdown().await;
}
