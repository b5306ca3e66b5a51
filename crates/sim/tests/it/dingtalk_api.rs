//! The DingTalk platform API as kefu sees it: tokens, the robot send APIs, media, file
//! downloads, user details and the injected faults.

use crate::dt_receiver::{DtReceiver, ok_empty};
use crate::receiver::keys;
use crate::{DT_APP, DT_KEY, DT_SECRET, DT_TOKEN, LINA, Setup, WANG, dt_config, start};
use kefu_sim::{CallbackTarget, DtChat, Faults, RichPart, SimMessage, Via};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::time::Duration;

const BATCH: &str = "/v1.0/robot/oToMessages/batchSend";
const GROUP: &str = "/v1.0/robot/groupMessages/send";
const DOWNLOAD: &str = "/v1.0/robot/messageFiles/download";

async fn setup() -> (Setup, DtReceiver) {
    let rx = DtReceiver::start(DT_SECRET, keys(DT_TOKEN, DT_KEY, DT_APP, false), ok_empty(), None).await;
    let s = start(dt_config()).await;
    s.sim.set_callback_url(CallbackTarget::DingtalkRobot(DT_APP.into()), &rx.robot_url).unwrap();
    (s, rx)
}

fn batch(users: &[&str], key: &str, param: Value) -> Value {
    json!({ "robotCode": DT_APP, "userIds": users, "msgKey": key, "msgParam": param.to_string() })
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_token_needs_the_right_secret_and_a_refetch_replaces_the_previous_one() {
    let (s, _rx) = setup().await;
    let res = s
        .http
        .post(s.url("/v1.0/oauth2/accessToken"))
        .json(&json!({ "appKey": DT_APP, "appSecret": "nope" }));
    let res = res.send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalidClientIdOrSecret");
    let first = s.dt_token().await;
    let v =
        s.post_json("/v1.0/oauth2/accessToken", json!({ "appKey": DT_APP, "appSecret": DT_SECRET })).await;
    assert_eq!(v["expireIn"], 7200);
    let second = v["accessToken"].as_str().unwrap().to_owned();
    let text = batch(&[WANG], "sampleText", json!({ "content": "你好" }));
    let (status, body) = s.dt_post(BATCH, &first, text.clone()).await;
    assert_eq!(
        (status, body["code"].clone(), body["message"].clone()),
        (401, json!("InvalidAuthentication"), json!("不合法的access_token"))
    );
    assert_eq!(s.dt_post(BATCH, &second, text.clone()).await.0, 200);
    assert_eq!(s.sim.stats().dt_token_fetches.get(DT_APP), Some(&2));
    s.clock.advance(Duration::from_secs(7200));
    assert_eq!(s.dt_post(BATCH, &second, text).await.0, 401);
}

#[tokio::test]
async fn batch_send_checks_the_msg_key_and_the_msg_param_string_and_lists_unknown_users() {
    let (s, _rx) = setup().await;
    let token = s.dt_token().await;
    let (status, body) = s
        .dt_post(BATCH, &token, batch(&[WANG, "ghost"], "sampleText", json!({ "content": "您好 😀" })))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["invalidStaffIdList"].clone(), body["flowControlledStaffIdList"].clone()),
        (json!(["ghost"]), json!([]))
    );
    assert!(body["processQueryKey"].as_str().is_some_and(|k| !k.is_empty()));
    let got = s.sim.inbox(WANG);
    assert_eq!(
        (got[0].via, got[0].msgtype.as_str(), got[0].content.clone()),
        (Via::DtBatch, "sampleText", json!({ "content": "您好 😀" }))
    );

    let mut as_object = batch(&[WANG], "sampleText", json!({}));
    as_object["msgParam"] = json!({ "content": "对象不行" });
    let too_many: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let mut other_robot = batch(&[WANG], "sampleText", json!({ "content": "x" }));
    other_robot["robotCode"] = json!("dingother");
    let refused = [
        as_object,
        batch(&[WANG], "sampleFax", json!({ "content": "x" })),
        batch(&too_many, "sampleText", json!({ "content": "x" })),
        other_robot,
        batch(
            &[WANG],
            "sampleActionCard3",
            json!({ "title": "t", "text": "x", "actionTitle1": "a", "actionURL1": "u",
            "actionTitle2": "b", "actionURL2": "u" }),
        ),
    ];
    for body in refused {
        let (status, answer) = s.dt_post(BATCH, &token, body.clone()).await;
        assert_eq!((status, answer["code"].clone()), (400, json!("param.error")), "{body}");
    }
    let card = json!({ "title": "t", "text": "x", "actionTitle1": "a", "actionURL1": "u", "actionTitle2": "b", "actionURL2": "u" });
    assert_eq!(s.dt_post(BATCH, &token, batch(&[WANG], "sampleActionCard2", card)).await.0, 200);
    assert_eq!(s.sim.inbox(WANG).len(), 2);
}

#[tokio::test]
async fn group_send_reaches_only_groups_the_robot_was_seen_in() {
    let (s, _rx) = setup().await;
    let token = s.dt_token().await;
    let body = json!({ "robotCode": DT_APP, "openConversationId": "cidG1==", "msgKey": "sampleMarkdown",
        "msgParam": json!({ "title": "通知", "text": "**维护**" }).to_string() });
    assert_eq!(s.dt_post(GROUP, &token, body.clone()).await.0, 400);
    let group = DtChat::Group { open_conversation_id: "cidG1==".into(), title: "群".into(), at_robot: true };
    s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("hi"), group).await.unwrap();
    let (status, answer) = s.dt_post(GROUP, &token, body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["processQueryKey"].is_string());
    let got = s.sim.inbox("cidG1==");
    assert_eq!(
        (got[0].via, got[0].msgtype.as_str(), got[0].content["text"].clone()),
        (Via::DtGroup, "sampleMarkdown", json!("**维护**"))
    );
}

#[tokio::test]
async fn an_uploaded_image_sent_with_batch_send_carries_its_digest() {
    let (s, _rx) = setup().await;
    let token = s.dt_token().await;
    let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 13 % 251) as u8).collect();
    let upload = |t: String, bytes: Vec<u8>| {
        let part =
            reqwest::multipart::Part::bytes(bytes).file_name("reply.png").mime_str("image/png").unwrap();
        let form = reqwest::multipart::Form::new().part("media", part);
        s.http.post(s.url(&format!("/media/upload?access_token={t}&type=image"))).multipart(form).send()
    };
    let bad: Value = upload("nope".into(), bytes.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(
        (bad["errcode"].clone(), bad["errmsg"].clone()),
        (json!(40014), json!("不合法的access_token"))
    );
    let up: Value = upload(token.clone(), bytes.clone()).await.unwrap().json().await.unwrap();
    assert_eq!((up["errcode"].clone(), up["type"].clone()), (json!(0), json!("image")));
    let media_id = up["media_id"].as_str().unwrap().to_owned();
    assert!(media_id.starts_with("@lADP"));
    let (status, _) =
        s.dt_post(BATCH, &token, batch(&[WANG], "sampleImageMsg", json!({ "photoURL": media_id }))).await;
    assert_eq!(status, 200);
    let missing = batch(&[WANG], "sampleImageMsg", json!({ "photoURL": "@lADPnothere" }));
    assert_eq!(s.dt_post(BATCH, &token, missing).await.0, 400);
    let by_url = batch(&[WANG], "sampleImageMsg", json!({ "photoURL": "https://example.com/a.png" }));
    assert_eq!(s.dt_post(BATCH, &token, by_url).await.0, 200);
    let got = s.sim.inbox(WANG);
    let d = got[0].media.clone().expect("a digest");
    assert_eq!(
        (d.media_id.as_str(), d.size, d.sha256.as_str()),
        (media_id.as_str(), 4000, sha256_hex(&bytes).as_str())
    );
    assert!(got[1].media.is_none());
}

async fn download(s: &Setup, token: &str, code: &str) -> Vec<u8> {
    let (status, v) = s.dt_post(DOWNLOAD, token, json!({ "robotCode": DT_APP, "downloadCode": code })).await;
    assert_eq!(status, 200, "{v}");
    let url = v["downloadUrl"].as_str().unwrap();
    s.http.get(url).send().await.unwrap().bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn files_users_send_are_downloaded_through_their_download_codes() {
    let (s, rx) = setup().await;
    let token = s.dt_token().await;
    s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::sample_image(), DtChat::Direct).await.unwrap();
    let picture = rx.last().body;
    assert_eq!(picture["msgtype"], "picture");
    assert_eq!(
        download(&s, &token, picture["content"]["downloadCode"].as_str().unwrap()).await,
        kefu_sim::SAMPLE_PNG
    );

    let file = SimMessage::File { file_name: "报销单.xlsx".into(), data_base64: Some("AAEC".into()) };
    s.sim.dingtalk_user_says(DT_APP, WANG, file, DtChat::Direct).await.unwrap();
    let b = rx.last().body;
    assert_eq!(
        (b["msgtype"].clone(), b["content"]["fileName"].clone()),
        (json!("file"), json!("报销单.xlsx"))
    );
    assert_eq!(download(&s, &token, b["content"]["downloadCode"].as_str().unwrap()).await, vec![0, 1, 2]);

    let voice = SimMessage::Voice { recognition: Some("网断了".into()) };
    s.sim.dingtalk_user_says(DT_APP, WANG, voice, DtChat::Direct).await.unwrap();
    let b = rx.last().body;
    assert_eq!(
        (b["msgtype"].clone(), b["content"]["recognition"].clone()),
        (json!("audio"), json!("网断了"))
    );
    assert!(b["content"]["duration"].is_number() && b["content"]["downloadCode"].is_string());

    let rich = SimMessage::RichText {
        parts: vec![RichPart::Text { text: "看图".into() }, RichPart::Picture { data_base64: None }],
    };
    s.sim.dingtalk_user_says(DT_APP, WANG, rich, DtChat::Direct).await.unwrap();
    let b = rx.last().body;
    assert_eq!(
        (b["msgtype"].clone(), b["content"]["richText"][0].clone()),
        (json!("richText"), json!({ "text": "看图" }))
    );
    let part = &b["content"]["richText"][1];
    assert_eq!(part["type"], "picture");
    assert_eq!(download(&s, &token, part["downloadCode"].as_str().unwrap()).await, kefu_sim::SAMPLE_PNG);

    let unknown = json!({ "robotCode": DT_APP, "downloadCode": "nope" });
    assert_eq!(s.dt_post(DOWNLOAD, &token, unknown).await.0, 400);
    assert_eq!(s.http.get(s.url("/dt/files/nope")).send().await.unwrap().status().as_u16(), 404);
    let location = SimMessage::Location { x: 1.0, y: 2.0, scale: 15, label: String::new() };
    assert!(s.sim.dingtalk_user_says(DT_APP, WANG, location, DtChat::Direct).await.is_err());
}

#[tokio::test]
async fn user_get_reports_the_union_id_and_a_mobile_only_with_the_permission() {
    let (s, _rx) = setup().await;
    let token = s.dt_token().await;
    let get = async |user: &str, t: &str| {
        let body = json!({ "userid": user, "language": "zh_CN" });
        s.post_json(&format!("/topapi/v2/user/get?access_token={t}"), body).await
    };
    let wang = get(WANG, &token).await;
    assert_eq!(wang["errcode"], 0);
    let r = &wang["result"];
    assert_eq!(
        (r["userid"].clone(), r["unionid"].clone(), r["name"].clone()),
        (json!(WANG), json!("dtu_wanglei"), json!("王磊"))
    );
    assert_eq!((r["mobile"].clone(), r["active"].clone()), (json!("13800000042"), json!(true)));
    assert_eq!(get(LINA, &token).await["result"]["mobile"], "");
    assert_eq!(get("ghost", &token).await["errcode"], 60121);
    assert_eq!(get(WANG, "nope").await["errcode"], 40014);
}

#[tokio::test]
async fn throttling_server_errors_expired_tokens_and_injected_codes_hit_the_dingtalk_api() {
    let (s, _rx) = setup().await;
    let token = s.dt_token().await;
    let text = batch(&[WANG], "sampleText", json!({ "content": "x" }));
    s.sim.set_faults(Faults { http_429: 2, ..Faults::default() });
    for _ in 0..2 {
        let (status, body) = s.dt_post(BATCH, &token, text.clone()).await;
        assert_eq!((status, body["code"].clone()), (429, json!("Throttling")));
    }
    assert_eq!(s.dt_post(BATCH, &token, text.clone()).await.0, 200);
    s.sim.set_faults(Faults { http_500: 1, errcodes: vec![45009], ..Faults::default() });
    assert_eq!(s.dt_post(BATCH, &token, text.clone()).await.0, 500);
    let (status, body) = s.dt_post(BATCH, &token, text.clone()).await;
    assert_eq!((status, body["code"].clone()), (400, json!("45009")));
    s.sim.set_faults(Faults { expire_tokens: true, ..Faults::default() });
    assert_eq!(s.dt_post(BATCH, &token, text.clone()).await.0, 401);
    let fresh = s.dt_token().await;
    assert_eq!(s.dt_post(BATCH, &fresh, text).await.0, 200);

    s.sim.dingtalk_user_says(DT_APP, WANG, SimMessage::text("hi"), DtChat::Direct).await.unwrap();
    let hook = s.sim.dingtalk_session_webhook(WANG).unwrap();
    s.sim.set_faults(Faults { errcodes: vec![130101], ..Faults::default() });
    let answer: Value = s
        .http
        .post(hook)
        .json(&json!({ "msgtype": "text", "text": { "content": "快" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 130101);
    let stats = s.sim.stats();
    assert_eq!((stats.rejections.get("Throttling"), stats.rejections.get("45009")), (Some(&2), Some(&1)));
}
