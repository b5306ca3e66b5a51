//! Avatars: agents and admins set the picture customers see beside an agent's web chat
//! messages; only kefu's own uploaded images are accepted.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_avatar_and_name_appear_beside_their_replies_in_the_web_chat() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let url = li.upload_png().await["url"].as_str().unwrap().to_owned();
    let me: Value = li.put("/me", json!({"avatar": url})).await.json().await.unwrap();
    assert_eq!(me["avatar"], url.as_str());
    let mut v = app.visitor("avatar-visitor-000000001").await;
    v.say("avatar-msg-0001", "报价多少钱").await;
    assert_eq!(v.next_text().await, "您好，客服小李为您服务。");
    let conv = li.conversations().await[0]["id"].as_i64().unwrap();
    li.reply(conv, "您好，请问要哪一款？").await;
    let got = v.next_message().await;
    assert_eq!(got["agent"], json!({"name": "小李", "avatar": url}), "{got}");
    let again = app.visitor("avatar-visitor-000000001").await;
    let history = again.hello["history"].as_array().unwrap();
    let mine = history.iter().find(|m| m["content"]["text"] == "您好，请问要哪一款？").unwrap();
    assert_eq!(mine["agent"]["avatar"], url.as_str(), "history shows it too");
    assert!(history.iter().filter(|m| m["from"] == "customer").all(|m| m.get("agent").is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_uploaded_images_become_avatars_and_only_admins_set_someone_elses() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let wang = app.store.agents().await.unwrap().into_iter().find(|a| a.username == "agent2").unwrap();
    let path = format!("/agents/{}", wang.id.0);
    for bad in
        ["https://example.com/a.png", "/media/no-such-image", "/media/../etc/passwd", "javascript:alert(1)"]
    {
        let res = admin.put(&path, json!({"avatar": bad})).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    let url = admin.upload_png().await["url"].as_str().unwrap().to_owned();
    let a: Value = admin.put(&path, json!({"avatar": url})).await.json().await.unwrap();
    assert_eq!(a["avatar"], url.as_str());
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(lead.put(&path, json!({"avatar": ""})).await.status(), 403, "supervisors set routing only");
    let cleared: Value = admin.put(&path, json!({"avatar": ""})).await.json().await.unwrap();
    assert!(cleared["avatar"].is_null());
}
