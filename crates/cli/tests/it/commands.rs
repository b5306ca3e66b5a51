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

#[test]
fn kb_route_scores_keyword_rules_first_then_the_closest_entries_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq.jsonl");
    let samples = dir.path().join("samples.jsonl");
    let rules = dir.path().join("rules.json");
    std::fs::write(
        &faq,
        [
            r#"{"id":"1","question":"空调不制冷怎么办","answer":"检查滤网","group":"维修"}"#,
            r#"{"id":"2","question":"空调漏水怎么处理","answer":"检查排水管","group":"维修"}"#,
            r#"{"id":"3","question":"空调多少钱","answer":"三千起","group":"销售"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(
        &samples,
        [
            r#"{"q":"空调漏水了","group":"维修"}"#,
            r#"{"q":"空调多少钱一台","group":"销售"}"#,
            r#"{"q":"我要开发票","group":"财务"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let args = ["kb", "route", "--faq", faq.to_str().unwrap(), "--samples", samples.to_str().unwrap()];
    let without = String::from_utf8(kefu(&args).stdout).unwrap();
    assert!(without.contains("routing accuracy      66.7%"), "{without}");
    std::fs::write(&rules, r#"{"财务": ["re:发票|报销"]}"#).unwrap();
    let out = kefu(&[&args[..], &["--rules", rules.to_str().unwrap()]].concat());
    let with = String::from_utf8(out.stdout).unwrap();
    assert!(with.contains("routing accuracy     100.0%"), "{with}");
    assert!(with.contains("财务") && with.contains("(1/1)"), "{with}");
}

fn kefu(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(args)
        .env("KEFU_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_plays_wechat_and_dingtalk_users_from_the_shell_and_tests_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = start(&["demo"], &data).await;
    let sim = demo
        .banner
        .iter()
        .find_map(|l| {
            l.trim().strip_prefix("platform sandbox, play a WeChat or DingTalk user (微信/钉钉沙箱): ")
        })
        .expect("sandbox line")
        .trim_end_matches("/sim/")
        .to_owned();
    let page = reqwest::get(format!("{sim}/sim/")).await.unwrap();
    assert_eq!(page.status(), 200);

    let out = kefu(&["sim", "say", "--sim", &sim, "event:subscribe"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("[passive] text: 感谢关注"), "the welcome, as the passive reply: {said}");
    let out = kefu(&["sim", "say", "--sim", &sim, "你好，我想问下发票怎么开 🧾"]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("[passive] text: ") && said.contains("申请发票"),
        "inside WeChat's 5 seconds: {said}"
    );
    let pw = demo.password_of("agent1").unwrap();
    let (http, _) = demo.login("agent1", &pw).await;
    let convs: Vec<Value> =
        http.get(format!("{}/api/conversations", demo.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (convs[0]["channel_kind"].as_str(), convs[0]["state"].as_str()),
        (Some("wechat_oa"), Some("bot"))
    );
    assert!(convs[0]["last_message"].as_str().is_some_and(|m| m.contains("申请发票")), "{convs:?}");

    let out = kefu(&[
        "channel",
        "test",
        "--data-dir",
        data.to_str().unwrap(),
        "--key",
        "wechat",
        "--to",
        "o_demo_xiaoming",
    ]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("逐字节一致"), "{printed}");
    let inbox = kefu(&["sim", "inbox", "--sim", &sim]);
    assert!(String::from_utf8_lossy(&inbox.stdout).contains("😀🎉"));

    let out =
        kefu(&["sim", "say", "--sim", &sim, "--channel", "dingtalk", "--user", "dt_wanglei", "发票怎么开"]);
    assert!(out.status.success());
    // The reply goes through the sessionWebhook after the callback returned: `say` waits for it.
    let answered = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(answered.contains("申请发票"), "{answered}");
    let inbox = kefu(&["sim", "inbox", "--sim", &sim, "--user", "dt_wanglei"]);
    assert!(String::from_utf8_lossy(&inbox.stdout).contains("申请发票"), "and it stays in the inbox");
    assert!(answered.contains("[dt_session]"), "the demo bot answers on DingTalk: {answered}");
    demo.kill_9().await;
}

/// `kefu user …` on the data directory of a running `kefu serve`.
fn user(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("KEFU_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn login_status(base: &str, user: &str, password: &str) -> u16 {
    let body = serde_json::json!({"username": user, "password": password});
    let res = reqwest::Client::new().post(format!("{base}/api/auth/login")).json(&body).send().await.unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn kefu_user_adds_lists_resets_disables_and_enables_accounts_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("serve");
    let kefu = start(&["serve"], &data).await;
    let (ok, out) = user(
        &data,
        &["add", "xiaozhao", "--role", "agent", "--group", "售后服务", "--password-stdin"],
        Some("pass-word-1\n"),
    );
    assert!(!ok && out.contains("no skill group"), "{out}");
    let (ok, out) =
        user(&data, &["add", "xiaozhao", "--display-name", "小赵", "--password-stdin"], Some("short\n"));
    assert!(!ok && out.contains("password"), "{out}");
    let (ok, out) = user(
        &data,
        &["add", "xiaozhao", "--display-name", "小赵", "--password-stdin"],
        Some("pass-word-1\n"),
    );
    assert!(ok, "{out}");
    assert_eq!(login_status(&kefu.base, "xiaozhao", "pass-word-1").await, 200);
    let (ok, out) = user(&data, &["passwd", "xiaozhao"], None);
    assert!(ok, "{out}");
    let printed =
        out.lines().find_map(|l| l.strip_prefix("password: ")).expect("the new password").to_owned();
    assert_eq!(login_status(&kefu.base, "xiaozhao", "pass-word-1").await, 401);
    assert_eq!(login_status(&kefu.base, "xiaozhao", &printed).await, 200);
    assert!(user(&data, &["disable", "xiaozhao"], None).0);
    assert_eq!(login_status(&kefu.base, "xiaozhao", &printed).await, 403);
    let (ok, list) = user(&data, &["list"], None);
    let row = list.lines().find(|l| l.contains("xiaozhao")).unwrap_or_default().to_owned();
    assert!(ok && row.contains("agent") && row.contains(" no "), "{list}");
    let (ok, out) = user(&data, &["disable", "admin"], None);
    assert!(!ok && out.contains("last admin"), "{out}");
    assert!(user(&data, &["enable", "xiaozhao"], None).0);
    assert_eq!(login_status(&kefu.base, "xiaozhao", &printed).await, 200);
    kefu.kill_9().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn kefu_demo_runs_its_sandbox_where_told_and_its_printed_dingtalk_command_shows_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = format!("127.0.0.1:{}", free_port());
    let kefu = start(&["demo", "--sandbox-bind", &sandbox], &dir.path().join("demo")).await;
    let banner = kefu.banner.join("\n");
    assert!(banner.contains(&format!("http://{sandbox}/sim/")), "{banner}");
    assert!(!banner.contains("chosen at random"), "a fixed port is not random: {banner}");
    // The printed command, run as printed (the binary's own path: `kefu` is not on PATH).
    let line = kefu.banner.iter().find_map(|l| l.split_once("DingTalk (钉钉): ")).expect("dingtalk line").1;
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(words[0].ends_with("kefu"), "{line}");
    let out = tokio::process::Command::new(words[0]).args(&words[1..]).output().await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!said.contains("passive_reply"), "{said}");
    assert!(said.contains("[dt_session] text: "), "kefu's reply as it arrived: {said}");
    kefu.kill_9().await;
}

#[tokio::test]
async fn without_a_sandbox_bind_the_demo_says_that_its_port_is_random() {
    let dir = tempfile::tempdir().unwrap();
    let kefu = start(&["demo"], &dir.path().join("demo")).await;
    assert!(kefu.banner.iter().any(|l| l.contains("chosen at random") && l.contains("--sandbox-bind")));
    kefu.kill_9().await;
}

fn migrate_logs(envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("KEFU_LOG", "info")
        .env_remove("RUST_LOG")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes_and_json_logs_are_one_object_per_line() {
    let text = migrate_logs(&[]);
    assert!(text.contains("database schema up to date"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes off a terminal: {text:?}");
    let json = migrate_logs(&[("KEFU_LOG_FORMAT", "json")]);
    let lines: Vec<Value> = json.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    let ready = lines.iter().find(|l| l["message"] == "database schema up to date").expect("the line");
    assert_eq!((ready["level"].as_str(), ready["backend"].as_str()), (Some("INFO"), Some("sqlite")));
}
