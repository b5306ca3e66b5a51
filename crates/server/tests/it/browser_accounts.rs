//! Real headless Chromium: an admin adds an agent in 账号管理, the agent logs in in another
//! browser and serves a customer, then the admin disables the account and the agent's open
//! workbench falls back to the login form; a team sheet is imported with its problems shown.

use crate::browser_kit::*;
use crate::helpers::*;

const ROWS: &str = "[...document.querySelectorAll('#account-rows tr')]";

fn form(field: &str) -> String {
    format!("document.querySelector('#account-form').{field}")
}

/// The admin's 账号管理 page with the demo's four accounts listed.
async fn accounts_page(tb: &TestBrowser, app: &TestApp) -> chromiumoxide::Page {
    let admin = tb.isolated(&app.url("/")).await;
    login(&admin, "admin", "admin123").await;
    admin.evaluate_expression("document.querySelector('#open-accounts').click()").await.unwrap();
    until(&admin, &format!("{ROWS}.length === 4")).await;
    admin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_an_agent_who_serves_and_is_then_disabled_from_the_accounts_page() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;
    let admin = accounts_page(&tb, &app).await;
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

/// Chooses `path` in a file input, as a person picking it in the dialog would.
async fn choose_file(page: &chromiumoxide::Page, input: &str, path: &std::path::Path) {
    use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
    let el = page.find_element(input).await.unwrap();
    let params = SetFileInputFilesParams::builder()
        .files(vec![path.display().to_string()])
        .backend_node_id(el.backend_node_id)
        .build()
        .unwrap();
    page.execute(params).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_team_sheet_sees_each_bad_row_then_the_one_time_passwords() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;
    let admin = accounts_page(&tb, &app).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("team-bad.csv");
    std::fs::write(&bad, "用户名,显示名,技能组\nxiaosun,小孙,售后服务\nxiaoli,小李子,财务部\n").unwrap();
    choose_file(&admin, "#account-import-file", &bad).await;
    until(&admin, "document.querySelector('#account-import-report li.fail')?.textContent.includes('财务部')")
        .await;
    let report: String = eval(&admin, "document.querySelector('#account-import-report').textContent").await;
    assert!(report.contains("第3行") && !report.contains("xiaosun"), "only the bad row is named: {report}");
    assert_eq!(eval::<usize>(&admin, &format!("{ROWS}.length")).await, 4, "nothing was created");

    let good = dir.path().join("team.csv");
    std::fs::write(&good, "用户名,显示名,技能组\nxiaosun,小孙,售后服务\nxiaoli2,小李子,售前咨询\n").unwrap();
    choose_file(&admin, "#account-import-file", &good).await;
    until(&admin, &format!("{ROWS}.length === 6")).await;
    let lines: Vec<String> = eval(
        &admin,
        "[...document.querySelectorAll('#account-import-report li.ok')].map(li => li.textContent)",
    )
    .await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let password = lines[0].rsplit(": ").next().unwrap().to_owned();
    let sun = tb.isolated(&app.url("/")).await;
    login(&sun, "xiaosun", &password).await;
    tb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sets_an_avatar_under_my_account_and_the_web_chat_shows_it_beside_replies() {
    let Some(exe) = chromium_path() else { return };
    let app = TestApp::spawn_live().await;
    let tb = launch(exe).await;
    let li = tb.isolated(&app.url("/")).await;
    login(&li, "agent1", "agent123").await;
    li.evaluate_expression("document.querySelector('#open-mine').click()").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("me.png");
    std::fs::write(&png, kefu_sim::SAMPLE_PNG).unwrap();
    choose_file(&li, "#mine-form [name=avatar_file]", &png).await;
    until(&li, "!document.querySelector('#mine-form .avatar-preview').hidden").await;
    li.evaluate_expression("document.querySelector('#mine-form [type=submit]').click()").await.unwrap();
    until(&li, "document.querySelector('#mine-error').className === 'ok'").await;

    let frame = "document.querySelector('#kefu-widget-frame').contentDocument";
    let v = tb.isolated(&app.url("/demo")).await;
    until(&v, "!!document.querySelector('#kefu-widget-button')").await;
    v.evaluate_expression("document.querySelector('#kefu-widget-button').click()").await.unwrap();
    until(&v, &format!("!!{frame}?.querySelector('#chat-status[hidden]')")).await;
    type_into(&v, &format!("{frame}.querySelector('#chat-input')"), "报价多少钱").await;
    v.evaluate_expression(format!("{frame}.querySelector('#chat-send').click()")).await.unwrap();
    li.evaluate_expression("document.querySelector('#close-mine').click()").await.unwrap();
    until(&li, "document.querySelectorAll('.conv-item').length === 1").await;
    let api = app.agent("agent1", "agent123").await;
    let conv = api.conversations().await[0]["id"].as_i64().unwrap();
    api.reply(conv, "您好，我是小李").await;
    let pic = format!("{frame}.querySelector('.bubble.service .who img.avatar')");
    until(&v, &format!("{pic}?.complete && {pic}.naturalWidth > 0")).await;
    let name: String =
        eval(&v, &format!("{frame}.querySelector('.bubble.service .who-name').textContent")).await;
    assert_eq!(name, "小李");
    tb.shutdown().await;
}
