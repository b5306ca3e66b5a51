//! Integration tests: the simulator against a stand-in receiver and over its HTTP APIs.

mod control;
mod dingtalk;
mod dingtalk_api;
mod dt_receiver;
mod kf_flow;
mod oa_callbacks;
mod platform_api;
mod receiver;
mod wecom_app;

use kefu_domain::{Clock, ManualClock, Timestamp};
use kefu_sim::{
    DingtalkApp, DtUser, KfConfig, OaAccount, OaMode, SimConfig, SimHandle, SimUser, WecomApp, WecomCorp,
};
use std::sync::Arc;

pub const APP_ID: &str = "wxb11529c136998cb6";
pub const GH: &str = "gh_7f083739789a";
pub const OA_TOKEN: &str = "pamtest";
pub const OA_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const CORP: &str = "wx5823bf96d3bd56c7";
pub const APP_TOKEN: &str = "QDG6eK";
pub const APP_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
pub const KF_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
pub const KF_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
pub const OPEN_KFID: &str = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q";

pub const DT_APP: &str = "dingtest00000001";
pub const DT_SECRET: &str = "dt-test-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCD";
pub const DT_CORP: &str = "dingcorptest0001";
pub const DT_TOKEN: &str = "dttesttoken";
pub const DT_KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
pub const WANG: &str = "dt_wanglei";
pub const LINA: &str = "dt_lina";

/// One DingTalk app with two users (李娜 without the phone permission), no WeChat accounts.
pub fn dt_config() -> SimConfig {
    SimConfig {
        dingtalk: vec![DingtalkApp {
            app_key: DT_APP.into(),
            app_secret: DT_SECRET.into(),
            corp_id: DT_CORP.into(),
            robot_name: "kefu客服".into(),
            event_token: DT_TOKEN.into(),
            event_aes_key: DT_KEY.into(),
            callback_url: None,
            event_callback_url: None,
            session_ttl_ms: 5_400_000,
        }],
        dingtalk_users: vec![
            DtUser {
                staff_id: WANG.into(),
                union_id: "dtu_wanglei".into(),
                nick: "王磊".into(),
                mobile: Some("13800000042".into()),
            },
            DtUser {
                staff_id: LINA.into(), union_id: "dtu_lina".into(), nick: "李娜".into(), mobile: None
            },
        ],
        callback_timeout_ms: 2000,
        ..SimConfig::default()
    }
}

pub fn config(mode: OaMode, callback: Option<&str>) -> SimConfig {
    SimConfig {
        oa: vec![OaAccount {
            app_id: APP_ID.into(),
            app_secret: "oa-secret".into(),
            token: OA_TOKEN.into(),
            encoding_aes_key: OA_KEY.into(),
            original_id: GH.into(),
            mode,
            callback_url: callback.map(str::to_owned),
        }],
        wecom: vec![WecomCorp {
            corp_id: CORP.into(),
            app: Some(WecomApp {
                agent_id: 218,
                secret: "app-secret".into(),
                token: APP_TOKEN.into(),
                encoding_aes_key: APP_KEY.into(),
                callback_url: None,
            }),
            kf: Some(KfConfig {
                secret: "kf-secret".into(),
                token: KF_TOKEN.into(),
                encoding_aes_key: KF_KEY.into(),
                callback_url: None,
                open_kfids: vec![OPEN_KFID.into()],
            }),
        }],
        users: vec![SimUser {
            id: "o_ming".into(),
            unionid: Some("u_ming".into()),
            nickname: Some("小明".into()),
        }],
        callback_timeout_ms: 2000,
        ..SimConfig::default()
    }
}

pub struct Setup {
    pub sim: SimHandle,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

pub async fn start(config: SimConfig) -> Setup {
    let clock = Arc::new(ManualClock::new(Timestamp::from_seconds(1_700_000_000)));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let sim = kefu_sim::start(config, dyn_clock).await.expect("simulator starts");
    Setup { sim, clock, http: reqwest::Client::new() }
}

impl Setup {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url)
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http.get(self.url(path)).send().await.unwrap().json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        self.http.post(self.url(path)).json(&body).send().await.unwrap().json().await.unwrap()
    }

    pub async fn oa_token(&self) -> String {
        let v = self
            .get_json(&format!("/cgi-bin/token?grant_type=client_credential&appid={APP_ID}&secret=oa-secret"))
            .await;
        v["access_token"].as_str().expect("a token").to_owned()
    }

    /// A DingTalk OpenAPI token for the test app.
    pub async fn dt_token(&self) -> String {
        let v = self
            .post_json(
                "/v1.0/oauth2/accessToken",
                serde_json::json!({ "appKey": DT_APP, "appSecret": DT_SECRET }),
            )
            .await;
        v["accessToken"].as_str().expect("a token").to_owned()
    }

    /// POSTs to a DingTalk OpenAPI path with the token header; returns (status, body).
    pub async fn dt_post(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(self.url(path))
            .header("x-acs-dingtalk-access-token", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or_default())
    }

    pub async fn wecom_token(&self, secret: &str) -> String {
        let v = self.get_json(&format!("/cgi-bin/gettoken?corpid={CORP}&corpsecret={secret}")).await;
        v["access_token"].as_str().expect("a token").to_owned()
    }
}
