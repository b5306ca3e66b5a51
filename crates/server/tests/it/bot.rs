//! The FAQ bot in real conversations over web chat, and the knowledge-base API around it.

use serde_json::{Value, json};

use crate::helpers::*;

const KB: &str = r#"{"id":"F1","question":"发票怎么开？","similar":["要开发票"],"answer":"在订单详情点“申请发票”，电子发票会发到您的邮箱。","group":"售后服务"}
{"id":"F2","question":"退款多久到账？","similar":["钱什么时候退回来"],"answer":"退款审核通过后1-3个工作日原路退回。","group":"售后服务"}
{"id":"F3","question":"怎么修改收货地址？","similar":["地址填错了"],"answer":"发货前可在订单详情修改收货地址。","group":"售前咨询"}
{"id":"F4","question":"大件家电包安装吗？","similar":["空调安装收费吗"],"answer":"大件家电送装一体，基础安装免费。","group":"技术支持"}
{"id":"F5","question":"会员积分怎么用？","similar":["积分能抵钱吗"],"answer":"每100积分抵1元，下单时勾选使用。","group":"售前咨询"}
{"id":"F6","question":"退货运费谁出？","similar":[],"answer":"质量问题运费由我们承担，七天无理由退货运费由您承担。","group":"售后服务"}
"#;

async fn with_kb() -> (TestApp, AgentClient) {
    let app = TestApp::spawn().await;
    let lead = app.agent("lead", "lead123").await;
    let report = lead.import_kb(KB).await;
    assert_eq!(report["imported"], 6, "{report}");
    (app, lead)
}

async fn service_text(v: &mut Visitor) -> Value {
    loop {
        let m = v.next_message().await;
        if m["from"] == "service" {
            return m["content"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_covered_question_is_answered_by_the_bot_at_once() {
    let (app, lead) = with_kb().await;
    let mut v = app.visitor("bot-visitor-0000000000001").await;
    v.say("bot-m-00000001", "请问发票怎么开呢").await;
    assert_eq!(service_text(&mut v).await["text"], "在订单详情点“申请发票”，电子发票会发到您的邮箱。");
    let convs: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    assert_eq!(convs[0]["state"], "bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greetings_get_a_short_reply_and_a_number_picks_a_suggestion() {
    let (app, _lead) = with_kb().await;
    // A per-channel threshold nothing reaches: every question gets suggestions.
    let mut web = app.store.channel_by_key("web").await.unwrap();
    web.settings["bot_threshold"] = json!(1.1);
    app.store.update_channel(&web).await.unwrap();
    let mut v = app.visitor("bot-visitor-0000000000002").await;
    v.say("bot-m-00000002", "你好").await;
    assert!(service_text(&mut v).await["text"].as_str().unwrap().contains("智能客服"));
    v.say("bot-m-00000003", "退款").await;
    let menu = service_text(&mut v).await;
    assert_eq!(menu["type"], "menu", "{menu}");
    let choices = menu["choices"].as_array().unwrap();
    assert!((1..=3).contains(&choices.len()), "{menu}");
    let last = choices.last().unwrap()["text"].as_str().unwrap().to_owned();
    v.say("bot-m-00000004", &choices.len().to_string()).await;
    let answer = service_text(&mut v).await;
    let kb: Vec<Value> = KB.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let want = kb.iter().find(|e| e["question"] == last.as_str()).unwrap()["answer"].clone();
    assert_eq!(answer["text"], want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_human_hands_off_to_the_right_group_with_a_note_the_customer_never_sees() {
    let (app, lead) = with_kb().await;
    let xiaowang = app.agent("agent2", "agent123").await;
    let mut v = app.visitor("bot-visitor-0000000000003").await;
    v.say("bot-m-00000005", "退款一直没到账").await;
    service_text(&mut v).await;
    v.say("bot-m-00000006", "转人工").await;
    assert!(service_text(&mut v).await["text"].as_str().unwrap().contains("转接人工"));
    // 小王 is online and serves 售后服务 (the lead supervises and takes no chats by routing).
    assert_eq!(service_text(&mut v).await["text"], "您好，客服小王为您服务。");
    let convs: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    let c = &convs[0];
    let want = (json!("assigned"), xiaowang.me["agent"]["id"].clone());
    assert_eq!((c["state"].clone(), c["agent"].clone()), want);
    let groups = app.store.skill_groups().await.unwrap();
    let after_sales = groups.iter().find(|g| g.name == "售后服务").unwrap();
    assert_eq!(c["group"], after_sales.id.0);
    let msgs = lead.messages(c["id"].as_i64().unwrap()).await;
    let note = msgs.iter().find(|m| m["direction"] == "internal").expect("a hand-off note");
    assert!(note["content"]["text"].as_str().unwrap().contains("客户要求人工"), "{note}");
    let back = app.visitor("bot-visitor-0000000000003").await;
    let visible = back.hello["history"].to_string();
    assert!(!visible.contains("机器人转人工"), "the note leaked to the visitor: {visible}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_misses_in_a_row_hand_off_but_small_talk_does_not_count() {
    let (app, lead) = with_kb().await;
    let _on_duty = (app.agent("agent1", "agent123").await, app.agent("agent2", "agent123").await);
    let mut v = app.visitor("bot-visitor-0000000000004").await;
    v.say("bot-m-00000007", "你们仓库在哪个城市").await;
    service_text(&mut v).await;
    v.say("bot-m-00000008", "谢谢").await;
    service_text(&mut v).await;
    let convs: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    assert_eq!(convs[0]["state"], "bot");
    v.say("bot-m-00000009", "能开增值税专票给公司吗我们要对公转账").await;
    loop {
        if service_text(&mut v).await["text"].as_str().is_some_and(|t| t.contains("转接人工")) {
            break;
        }
    }
    let greeting = service_text(&mut v).await["text"].as_str().unwrap_or_default().to_owned();
    assert!(greeting.starts_with("您好，客服小"), "{greeting}");
    let convs: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    assert_eq!(convs[0]["state"], "assigned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_knowledge_base_imports_with_row_errors_exports_and_is_closed_to_agents() {
    let (app, lead) = with_kb().await;
    let csv =
        "id,question,similar,answer,group,enabled\nC1,保修几年,,整机一年,技术支持,true\nC2,,,没有问题,,\n";
    let res = lead
        .http
        .post(app.url("/api/kb/import?format=csv"))
        .header("x-csrf-token", &lead.csrf)
        .body(csv)
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report, json!({"imported": 1, "errors": [{"row": 3, "message": "question is empty"}]}));
    let xlsx = lead.get("/kb/export?format=xlsx").await.bytes().await.unwrap();
    let back = kefu_bot::kbio::parse(kefu_bot::kbio::Format::Xlsx, &xlsx);
    assert_eq!((back.entries.len(), back.errors.len()), (7, 0));
    let agent = app.agent("agent1", "agent123").await;
    assert_eq!(agent.get("/kb/entries").await.status(), 403);
    let entry = json!({"id": "", "question": "x", "answer": "y"});
    assert_eq!(agent.post("/kb/entries", entry).await.status(), 403);
    let res = lead.post("/kb/entries", json!({"id": "", "question": "  ", "answer": "y"})).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mined_candidate_once_accepted_is_answered_by_the_bot() {
    let (app, lead) = with_kb().await;
    let mut log = String::new();
    for (i, q) in ["冰箱不制冷了怎么办", "冰箱突然不冷了", "冰箱冷藏室不制冷", "家里冰箱不凉了咋回事"]
        .iter()
        .enumerate()
    {
        log += &format!("{{\"conversation\":\"x{i}\",\"from\":\"customer\",\"text\":\"{q}\"}}\n");
        log += &format!(
            "{{\"conversation\":\"x{i}\",\"from\":\"agent\",\"text\":\"您好，请先检查温控档位是否在3档以上，并确认冰箱背部散热良好。\"}}\n"
        );
    }
    let res = lead
        .http
        .post(app.url("/api/kb/mine"))
        .header("x-csrf-token", &lead.csrf)
        .body(log)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["proposed"], 1);
    let cands: Vec<Value> = lead.get("/kb/candidates").await.json().await.unwrap();
    assert_eq!(cands[0]["support"], 4);
    let id = cands[0]["id"].as_i64().unwrap();
    let res = lead.post(&format!("/kb/candidates/{id}/accept"), json!({"group": "技术支持"})).await;
    assert_eq!(res.status(), 200);
    assert!(lead.get("/kb/candidates").await.json::<Vec<Value>>().await.unwrap().is_empty());
    let mut v = app.visitor("bot-visitor-0000000000005").await;
    v.say("bot-m-00000010", "冰箱不制冷了怎么办啊").await;
    assert!(service_text(&mut v).await["text"].as_str().unwrap().contains("温控档位"));
}
