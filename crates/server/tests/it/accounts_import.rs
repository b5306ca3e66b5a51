//! A team from a spreadsheet: CSV (with a BOM and Chinese headers, as Excel saves it) and XLSX;
//! all rows or none, each problem named by its row, generated passwords shown once.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn upload(admin: &AgentClient, format: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = admin
        .http
        .post(format!("{}/api/agents/import?format={format}", admin.base))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn usernames(app: &TestApp) -> Vec<String> {
    app.store.agents().await.unwrap().into_iter().map(|a| a.username).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_team_from_csv_and_every_new_agent_can_log_in() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let csv = "\u{feff}用户名,显示名,角色,技能组,接待上限,密码\n\
               xiaozhao,小赵,客服,售后服务、技术支持,8,\n\
               xiaoqian,小钱,supervisor,售前咨询,,Qian-2026-kefu!\n\n";
    let (status, report) = upload(&admin, "csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let created = report["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    let generated = created[0]["password"].as_str().expect("a password made for the row without one");
    assert!(created[1]["password"].is_null(), "a password the admin set is not echoed back");
    let zhao = app.agent("xiaozhao", generated).await;
    assert_eq!(
        (zhao.me["agent"]["display_name"].as_str(), zhao.me["agent"]["capacity"].as_u64()),
        (Some("小赵"), Some(8))
    );
    assert_eq!(zhao.me["agent"]["skill_groups"].as_array().unwrap().len(), 2);
    let qian = app.agent("xiaoqian", "Qian-2026-kefu!").await;
    assert_eq!(
        (qian.me["agent"]["role"].as_str(), qian.me["agent"]["capacity"].as_u64()),
        (Some("supervisor"), Some(5))
    );
    let agent = app.agent("agent1", "agent123").await;
    let res = agent
        .http
        .post(format!("{}/api/agents/import?format=csv", agent.base))
        .header("x-csrf-token", &agent.csrf)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "only admins import");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_any_bad_row_creates_nobody_and_names_every_problem() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let before = usernames(&app).await;
    let csv = "username,display_name,role,groups,capacity,password\n\
               good1,好人,agent,售后服务,5,\n\
               agent1,重名,agent,,5,\n\
               bad name,空格,agent,,5,\n\
               good2,未知组,agent,财务部,5,\n\
               good3,角色错,boss,,5,\n\
               good4,弱密码,agent,,5,123456\n\
               good4,重复,agent,,500,\n";
    let (status, report) = upload(&admin, "csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["error"], "unprocessable");
    let rows: Vec<u64> =
        report["errors"].as_array().unwrap().iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, vec![3, 4, 5, 6, 7, 8], "{report}");
    let text = report["errors"].to_string();
    for hint in ["already exists", "username", "财务部", "boss", "capacity"] {
        assert!(text.contains(hint), "{hint}: {text}");
    }
    assert_eq!(usernames(&app).await, before, "nothing half-saved, not even good1");
    let (status, report) = upload(&admin, "csv", b"name\nx\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    let (status, report) = upload(&admin, "xlsx", b"not a workbook".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unreadable file is refused like bad rows");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(1), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xlsx_team_sheet_imports_like_the_csv() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in ["username", "display_name", "groups", "capacity"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "xiaosun").unwrap();
    sheet.write_string(1, 1, "小孙").unwrap();
    sheet.write_string(1, 2, "售前咨询").unwrap();
    sheet.write_number(1, 3, 3.0).unwrap();
    let (status, report) = upload(&admin, "xlsx", wb.save_to_buffer().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let sun = app.store.agents().await.unwrap().into_iter().find(|a| a.username == "xiaosun").unwrap();
    assert_eq!((sun.display_name.as_str(), sun.capacity, sun.skill_groups.len()), ("小孙", 3, 1));
}
