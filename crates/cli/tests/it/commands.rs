//! The README's commands work as documented.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn kefu_demo_prints_working_logins_and_serves_the_workbench_and_demo_site() {
    let dir = tempfile::tempdir().unwrap();
    let kefu = start(&["demo"], &dir.path().join("demo")).await;
    for user in ["admin", "lead", "agent1", "agent2"] {
        let pw = kefu.password_of(user).unwrap_or_else(|| panic!("{user} printed"));
        let (http, _) = kefu.login(user, &pw).await;
        let me: Value = http.get(format!("{}/api/me", kefu.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["agent"]["username"], user);
    }
    for page in ["/", "/demo", "/widget.js", "/webchat/frame?c=web"] {
        let res = reqwest::get(format!("{}{page}", kefu.base)).await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
    }
    let mut visitor = kefu.visitor("demo-visitor-000000000001").await;
    assert!(visitor.hello["welcome"].as_str().is_some_and(|w| w.contains("欢迎")));
    visitor.say("demo-msg-0001", "你好").await;
    kefu.kill_9().await;
}

#[tokio::test]
async fn kefu_migrate_prepares_an_empty_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("KEFU_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    assert!(dir.path().join("kefu.db").exists());
    assert!(dir.path().join("secret.key").exists());
}

#[tokio::test]
async fn a_bad_config_file_fails_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kefu.toml");
    std::fs::write(&file, "bind = \"not an address\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bind"), "{err}");
}
