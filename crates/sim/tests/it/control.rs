//! The control API and the demo page over HTTP.

use crate::receiver::{Answer, Receiver, keys};
use crate::{APP_ID, CORP, OA_KEY, OA_TOKEN, config, start};
use kefu_sim::OaMode;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_script_can_play_a_user_and_read_the_inbox_over_http() {
    let rx =
        Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), Arc::new(|_, _, _| Answer::ok("success")))
            .await;
    let s = start(config(OaMode::Safe, None)).await;
    let cb = json!({ "channel": "oa", "id": APP_ID, "url": rx.url });
    let res = s.http.put(s.url("/sim/api/callbacks")).json(&cb).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let path = format!("/sim/api/oa/{APP_ID}/users/o_ming/messages");
    let d = s.post_json(&path, json!({ "type": "text", "content": "你好" })).await;
    assert_eq!((d["ok"].clone(), d["attempts"].clone()), (json!(true), json!(1)));

    let token = s.oa_token().await;
    let send = json!({ "touser": "o_ming", "msgtype": "text", "text": { "content": "您好！" } });
    s.post_json(&format!("/cgi-bin/message/custom/send?access_token={token}"), send).await;
    let inbox = s.get_json("/sim/api/inbox/o_ming").await;
    assert_eq!(inbox[0]["via"], "custom_send");
    assert_eq!(inbox[0]["content"]["content"], "您好！");
    let timeline = s.get_json("/sim/api/timeline/o_ming").await;
    assert_eq!(timeline["said"][0]["message"]["content"], "你好");

    let faults = s.post_json("/sim/api/faults", json!({ "errcodes": [45009] })).await;
    assert_eq!(faults["ok"], true);
    let stats = s.get_json("/sim/api/stats").await;
    assert_eq!(stats["token_fetches"][APP_ID], 1);
    assert_eq!(stats["callback_attempts"], 1);

    let unknown = s
        .http
        .post(s.url("/sim/api/oa/wxnope/users/o/messages"))
        .json(&json!({ "type": "text", "content": "x" }));
    assert_eq!(unknown.send().await.unwrap().status().as_u16(), 404);
    let no_cb = s.http.post(s.url(&format!("/sim/api/wecom/{CORP}/members/zhangsan/messages")));
    let res = no_cb.json(&json!({ "type": "text", "content": "x" })).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let bad = s.http.post(s.url(&path)).json(&json!({ "type": "teleport" })).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[tokio::test]
async fn the_demo_page_is_served_with_a_strict_policy_and_its_assets() {
    let s = start(config(OaMode::Safe, None)).await;
    let page = s.http.get(s.url("/sim/")).send().await.unwrap();
    let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("sim.js") && !html.contains("<script>"));
    for asset in ["sim.css", "sim.js", "sample.png"] {
        let res = s.http.get(s.url(&format!("/sim/assets/{asset}"))).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{asset}");
    }
    let cfg = s.get_json("/sim/api/config").await;
    assert_eq!(cfg["oa"][0]["app_id"], APP_ID);
    assert!(cfg.to_string().find("secret").is_none());
    s.sim.shutdown().await;
    assert!(s.http.get(s.url("/sim/")).send().await.is_err());
}

#[tokio::test]
async fn a_script_can_play_a_dingtalk_user_and_send_events_over_http() {
    use crate::dt_receiver::{DtReceiver, ok_empty};
    use crate::{DT_APP, DT_KEY, DT_SECRET, DT_TOKEN, WANG, dt_config};
    let rx = DtReceiver::start(DT_SECRET, keys(DT_TOKEN, DT_KEY, DT_APP, false), ok_empty(), None).await;
    let s = start(dt_config()).await;
    for (channel, url) in [("dingtalk_robot", &rx.robot_url), ("dingtalk_events", &rx.events_url)] {
        let cb = json!({ "channel": channel, "id": DT_APP, "url": url });
        assert_eq!(
            s.http.put(s.url("/sim/api/callbacks")).json(&cb).send().await.unwrap().status().as_u16(),
            200
        );
    }
    let d = s
        .post_json("/sim/api/dingtalk/say", json!({ "app_key": DT_APP, "staff_id": WANG, "text": "你好" }))
        .await;
    assert_eq!(d["ok"], true, "{d}");
    let group = json!({ "open_conversation_id": "cidCtl==", "title": "群" });
    let message =
        json!({ "type": "rich_text", "parts": [{ "type": "text", "text": "图" }, { "type": "picture" }] });
    let body = json!({ "app_key": DT_APP, "staff_id": WANG, "message": message, "group": group });
    assert_eq!(s.post_json("/sim/api/dingtalk/say", body).await["ok"], true);
    let last = rx.last().body;
    assert_eq!((last["msgtype"].clone(), last["isInAtList"].clone()), (json!("richText"), json!(true)));
    let hook = s.get_json(&format!("/sim/api/dingtalk/sessions/{WANG}")).await;
    assert_eq!(hook["session_webhook"], last["sessionWebhook"]);
    let again = s.post_json(&format!("/sim/api/dingtalk/{DT_APP}/redeliver"), json!({})).await;
    assert_eq!(again["msg_id"], last["msgId"]);
    assert_eq!(s.post_json(&format!("/sim/api/dingtalk/{DT_APP}/check_url"), json!({})).await["ok"], true);
    let ev = s
        .post_json(&format!("/sim/api/dingtalk/{DT_APP}/events"), json!({ "EventType": "user_add_org" }))
        .await;
    assert_eq!(ev["ok"], true);
    let timeline = s.get_json(&format!("/sim/api/timeline/{WANG}")).await;
    assert_eq!(timeline["said"][0]["channel"], "dingtalk");

    let cfg = s.get_json("/sim/api/config").await;
    assert_eq!(
        (cfg["dingtalk"][0]["app_key"].clone(), cfg["dingtalk_users"][0]["nick"].clone()),
        (json!(DT_APP), json!("王磊"))
    );
    assert!(cfg.to_string().find("secret").is_none());
    let neither = json!({ "app_key": DT_APP, "staff_id": WANG });
    assert_eq!(
        s.http.post(s.url("/sim/api/dingtalk/say")).json(&neither).send().await.unwrap().status().as_u16(),
        400
    );
}
