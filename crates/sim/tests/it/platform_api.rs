//! The OA platform API as kefu sees it: tokens, the reply window, media and faults.

use crate::receiver::{Answer, Receiver, keys};
use crate::{APP_ID, OA_KEY, OA_TOKEN, Setup, config, start};
use kefu_sim::{Faults, OaMode, SimMessage, Via};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::sync::Arc;
use std::time::Duration;

async fn with_receiver() -> (Setup, Receiver) {
    let rx =
        Receiver::start(keys(OA_TOKEN, OA_KEY, APP_ID, false), Arc::new(|_, _, _| Answer::ok("success")))
            .await;
    (start(config(OaMode::Safe, Some(&rx.url))).await, rx)
}

async fn send_text(s: &Setup, token: &str, to: &str, text: &str) -> Value {
    let body = json!({ "touser": to, "msgtype": "text", "text": { "content": text } });
    s.post_json(&format!("/cgi-bin/message/custom/send?access_token={token}"), body).await
}

#[tokio::test]
async fn refetching_the_token_breaks_the_previous_one() {
    let (s, _rx) = with_receiver().await;
    let bad =
        s.get_json(&format!("/cgi-bin/token?grant_type=client_credential&appid={APP_ID}&secret=nope")).await;
    assert_eq!(bad["errcode"], 40001);
    let unknown = s.get_json("/cgi-bin/token?grant_type=client_credential&appid=wxnope&secret=x").await;
    assert_eq!(unknown["errcode"], 40013);
    let first = s.oa_token().await;
    let second = s.oa_token().await;
    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("hi")).await.unwrap();
    assert_eq!(send_text(&s, &first, "o_ming", "a").await["errcode"], 40001);
    assert_eq!(send_text(&s, &second, "o_ming", "a").await["errcode"], 0);
    assert_eq!(s.sim.stats().token_fetches.get(APP_ID), Some(&2));
    s.clock.advance(Duration::from_secs(7200));
    assert_eq!(send_text(&s, &second, "o_ming", "a").await["errcode"], 42001);
}

#[tokio::test]
async fn custom_messages_need_a_recent_user_message_and_stop_after_five() {
    let (s, _rx) = with_receiver().await;
    let token = s.oa_token().await;
    assert_eq!(send_text(&s, &token, "o_ming", "too early").await["errcode"], 45015);
    assert_eq!(send_text(&s, &token, "o_stranger", "who").await["errcode"], 40003);
    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("你好")).await.unwrap();
    for i in 0..5 {
        assert_eq!(send_text(&s, &token, "o_ming", &format!("第{i}条")).await["errcode"], 0);
    }
    assert_eq!(send_text(&s, &token, "o_ming", "sixth").await["errcode"], 45047);
    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("还在吗")).await.unwrap();
    assert_eq!(send_text(&s, &token, "o_ming", "again").await["errcode"], 0);
    s.clock.advance(Duration::from_secs(48 * 3600));
    let token = s.oa_token().await;
    assert_eq!(send_text(&s, &token, "o_ming", "late").await["errcode"], 45015);
    let inbox = s.sim.inbox("o_ming");
    assert_eq!(inbox.len(), 6);
    assert!(inbox.iter().all(|r| r.via == Via::CustomSend));
    assert_eq!(inbox[0].content, json!({ "content": "第0条" }));
    assert_eq!(s.sim.stats().rejections.get("45047"), Some(&1));
}

#[tokio::test]
async fn an_uploaded_image_reaches_the_inbox_byte_for_byte() {
    let (s, _rx) = with_receiver().await;
    let token = s.oa_token().await;
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let part =
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("reply.jpg").mime_str("image/jpeg").unwrap();
    let form = reqwest::multipart::Form::new().part("media", part);
    let url = s.url(&format!("/cgi-bin/media/upload?access_token={token}&type=image"));
    let up: Value = s.http.post(url).multipart(form).send().await.unwrap().json().await.unwrap();
    let media_id = up["media_id"].as_str().unwrap().to_owned();
    assert_eq!(up["type"], "image");

    let got = s.http.get(s.url(&format!("/cgi-bin/media/get?access_token={token}&media_id={media_id}")));
    assert_eq!(got.send().await.unwrap().bytes().await.unwrap().as_ref(), bytes.as_slice());

    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::sample_image()).await.unwrap();
    let body = json!({ "touser": "o_ming", "msgtype": "image", "image": { "media_id": media_id } });
    let sent = s.post_json(&format!("/cgi-bin/message/custom/send?access_token={token}"), body).await;
    assert_eq!(sent["errcode"], 0);
    let bad = json!({ "touser": "o_ming", "msgtype": "image", "image": { "media_id": "nope" } });
    let refused = s.post_json(&format!("/cgi-bin/message/custom/send?access_token={token}"), bad).await;
    assert_eq!(refused["errcode"], 40007);
    let media = s.sim.inbox("o_ming")[0].media.clone().unwrap();
    assert_eq!(media.size, 5000);
    let digest: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(media.sha256, digest);
}

#[tokio::test]
async fn user_images_are_served_as_pic_url_and_user_info_reports_the_unionid() {
    let (s, rx) = with_receiver().await;
    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::image(kefu_sim::SAMPLE_PNG)).await.unwrap();
    let plain = rx.hits()[0].plaintext.clone().unwrap();
    let pic = crate::receiver::field(&plain, "PicUrl").unwrap();
    let bytes = s.http.get(pic).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), kefu_sim::SAMPLE_PNG);

    let token = s.oa_token().await;
    let info = s.get_json(&format!("/cgi-bin/user/info?access_token={token}&openid=o_ming&lang=zh_CN")).await;
    assert_eq!((info["subscribe"].clone(), info["unionid"].clone()), (json!(1), json!("u_ming")));
    s.sim.oa_user_says(APP_ID, "o_anon", SimMessage::event("subscribe", None)).await.unwrap();
    let anon = s.get_json(&format!("/cgi-bin/user/info?access_token={token}&openid=o_anon")).await;
    assert_eq!(anon["subscribe"], 1);
    assert!(anon.get("unionid").is_none());
    s.sim.oa_user_says(APP_ID, "o_anon", SimMessage::event("unsubscribe", None)).await.unwrap();
    assert_eq!(send_text(&s, &token, "o_anon", "bye").await["errcode"], 45015);
}

#[tokio::test]
async fn injected_faults_hit_the_next_calls_as_configured() {
    let (s, _rx) = with_receiver().await;
    let token = s.oa_token().await;
    s.sim.oa_user_says(APP_ID, "o_ming", SimMessage::text("hi")).await.unwrap();
    s.sim.set_faults(Faults { http_500: 1, errcodes: vec![45009, -1], ..Faults::default() });
    let url = s.url(&format!("/cgi-bin/message/custom/send?access_token={token}"));
    let res = s.http.post(url).body("{}").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 500);
    assert_eq!(send_text(&s, &token, "o_ming", "a").await["errcode"], 45009);
    assert_eq!(send_text(&s, &token, "o_ming", "a").await["errcode"], -1);
    assert_eq!(send_text(&s, &token, "o_ming", "a").await["errcode"], 0);
    s.sim.set_faults(Faults { expire_tokens: true, ..Faults::default() });
    assert_eq!(send_text(&s, &token, "o_ming", "a").await["errcode"], 42001);
    let fresh = s.oa_token().await;
    assert_eq!(send_text(&s, &fresh, "o_ming", "a").await["errcode"], 0);
    assert!(s.sim.stats().api_calls >= 7);
}
