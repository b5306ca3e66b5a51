//! What the simulated platforms know up front: the accounts kefu is configured against
//! (WeChat and DingTalk), their secrets and callback URLs, and a few users with preset
//! identities.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimConfig {
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    #[serde(default)]
    pub oa: Vec<OaAccount>,
    #[serde(default)]
    pub wecom: Vec<WecomCorp>,
    /// How long one callback attempt may take before the platform gives up on it.
    #[serde(default = "default_timeout")]
    pub callback_timeout_ms: u64,
    /// Attempts in total, first one included (WeChat makes three).
    #[serde(default = "default_attempts")]
    pub callback_attempts: u32,
    #[serde(default)]
    pub users: Vec<SimUser>,
    #[serde(default)]
    pub dingtalk: Vec<DingtalkApp>,
    /// The members of the DingTalk organisation(s).
    #[serde(default)]
    pub dingtalk_users: Vec<DtUser>,
    /// Cloud SMS accounts (Aliyun, Tencent Cloud) that send kefu's verification codes.
    #[serde(default)]
    pub sms: Vec<SmsAccount>,
}

/// A cloud SMS account with one approved signature and verification-code template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsAccount {
    /// `aliyun` or `tencent`.
    pub provider: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub template: String,
    /// Tencent's SmsSdkAppId.
    #[serde(default)]
    pub sdk_app_id: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: default_bind(),
            oa: Vec::new(),
            wecom: Vec::new(),
            callback_timeout_ms: default_timeout(),
            callback_attempts: default_attempts(),
            users: Vec::new(),
            dingtalk: Vec::new(),
            dingtalk_users: Vec::new(),
            sms: Vec::new(),
        }
    }
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn default_timeout() -> u64 {
    5000
}

fn default_attempts() -> u32 {
    3
}

/// How the OA console's "消息加解密方式" is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OaMode {
    /// 明文模式
    Plain,
    /// 兼容模式
    Compatible,
    /// 安全模式
    #[default]
    Safe,
}

/// One 公众号.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OaAccount {
    pub app_id: String,
    pub app_secret: String,
    pub token: String,
    pub encoding_aes_key: String,
    /// The `gh_…` id that appears as ToUserName.
    pub original_id: String,
    #[serde(default)]
    pub mode: OaMode,
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// One WeCom corporation with its self-built app and/or its 微信客服 setup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WecomCorp {
    pub corp_id: String,
    #[serde(default)]
    pub app: Option<WecomApp>,
    #[serde(default)]
    pub kf: Option<KfConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WecomApp {
    pub agent_id: i64,
    pub secret: String,
    pub token: String,
    pub encoding_aes_key: String,
    #[serde(default)]
    pub callback_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KfConfig {
    pub secret: String,
    pub token: String,
    pub encoding_aes_key: String,
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The customer-service accounts (`wk…`) of this corporation.
    #[serde(default)]
    pub open_kfids: Vec<String>,
}

/// A person known in advance; anyone else who writes is created on the fly without a unionid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimUser {
    pub id: String,
    #[serde(default)]
    pub unionid: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
}

/// One DingTalk internal app (企业内部应用) with its robot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DingtalkApp {
    /// Also the robotCode and clientId, and the receive_id of the event envelope.
    pub app_key: String,
    pub app_secret: String,
    pub corp_id: String,
    pub robot_name: String,
    /// The event subscription (事件订阅) token.
    pub event_token: String,
    /// The event subscription aes_key, 43 characters.
    pub event_aes_key: String,
    /// kefu's robot message URL.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// kefu's event subscription URL.
    #[serde(default)]
    pub event_callback_url: Option<String>,
    /// Lifetime of the sessionWebhook handed out with each message (real DingTalk: ~90 min).
    #[serde(default = "default_session_ttl")]
    pub session_ttl_ms: u64,
}

fn default_session_ttl() -> u64 {
    5_400_000
}

/// A member of the DingTalk organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DtUser {
    /// The userid (`senderStaffId`).
    pub staff_id: String,
    pub union_id: String,
    pub nick: String,
    /// `None` models an app without the phone-number permission: user/get answers "".
    #[serde(default)]
    pub mobile: Option<String>,
}

impl SimConfig {
    pub fn oa(&self, app_id: &str) -> Option<&OaAccount> {
        self.oa.iter().find(|a| a.app_id == app_id)
    }

    pub fn corp(&self, corp_id: &str) -> Option<&WecomCorp> {
        self.wecom.iter().find(|c| c.corp_id == corp_id)
    }

    /// The corporation that owns a customer-service account.
    pub fn kf_owner(&self, open_kfid: &str) -> Option<(&WecomCorp, &KfConfig)> {
        self.wecom.iter().find_map(|c| {
            let kf = c.kf.as_ref()?;
            kf.open_kfids.iter().any(|k| k == open_kfid).then_some((c, kf))
        })
    }

    pub fn user(&self, id: &str) -> Option<&SimUser> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn dingtalk(&self, app_key: &str) -> Option<&DingtalkApp> {
        self.dingtalk.iter().find(|a| a.app_key == app_key)
    }

    pub fn dt_user(&self, staff_id: &str) -> Option<&DtUser> {
        self.dingtalk_users.iter().find(|u| u.staff_id == staff_id)
    }

    /// A ready-made set of accounts for the offline demo and quick experiments.
    pub fn demo() -> Self {
        SimConfig {
            oa: vec![OaAccount {
                app_id: "wxdemo0000000001".into(),
                app_secret: "demo-oa-secret".into(),
                token: "demotoken".into(),
                encoding_aes_key: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into(),
                original_id: "gh_demo00000001".into(),
                mode: OaMode::Safe,
                callback_url: None,
            }],
            wecom: vec![WecomCorp {
                corp_id: "wwdemo0000000001".into(),
                app: Some(WecomApp {
                    agent_id: 1000002,
                    secret: "demo-app-secret".into(),
                    token: "demoapptoken".into(),
                    encoding_aes_key: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C".into(),
                    callback_url: None,
                }),
                kf: Some(KfConfig {
                    secret: "demo-kf-secret".into(),
                    token: "demokftoken".into(),
                    encoding_aes_key: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt".into(),
                    callback_url: None,
                    open_kfids: vec!["wkdemo0000000001".into()],
                }),
            }],
            users: vec![
                SimUser {
                    id: "o_demo_xiaoming".into(),
                    unionid: Some("u_demo_xiaoming".into()),
                    nickname: Some("小明".into()),
                },
                SimUser { id: "wm_demo_xiaohong".into(), unionid: None, nickname: Some("小红".into()) },
                SimUser { id: "zhangsan".into(), unionid: None, nickname: Some("张三".into()) },
            ],
            dingtalk: vec![demo_dingtalk()],
            dingtalk_users: demo_dingtalk_users(),
            sms: demo_sms(),
            ..SimConfig::default()
        }
    }
}

/// One Aliyun and one Tencent Cloud SMS account, with the demo's signature and template.
fn demo_sms() -> Vec<SmsAccount> {
    vec![
        SmsAccount {
            provider: "aliyun".into(),
            access_key_id: "LTAIdemo0000000001".into(),
            access_key_secret: "demo-aliyun-sms-secret-00000000".into(),
            sign_name: "kefu客服".into(),
            template: "SMS_000000001".into(),
            sdk_app_id: String::new(),
        },
        SmsAccount {
            provider: "tencent".into(),
            access_key_id: "AKIDdemo00000000000000000000000001".into(),
            access_key_secret: "demo-tencent-sms-secret-0000000".into(),
            sign_name: "kefu客服".into(),
            template: "1000001".into(),
            sdk_app_id: "1400000001".into(),
        },
    ]
}

/// The demo's DingTalk app (its robot is called "kefu客服").
fn demo_dingtalk() -> DingtalkApp {
    DingtalkApp {
        app_key: "dingdemo00000001".into(),
        app_secret: "demo-dingtalk-secret-0000000000000000000000000000".into(),
        corp_id: "dingcorpdemo0001".into(),
        robot_name: "kefu客服".into(),
        event_token: "demodttoken".into(),
        event_aes_key: "Dt0demoKeyForKefuSim0000000000000000000000A".into(),
        callback_url: None,
        event_callback_url: None,
        session_ttl_ms: default_session_ttl(),
    }
}

/// 王磊 comes with a mobile; 李娜 without, as for an app lacking the phone permission.
fn demo_dingtalk_users() -> Vec<DtUser> {
    vec![
        DtUser {
            staff_id: "dt_wanglei".into(),
            union_id: "dtu_wanglei".into(),
            nick: "王磊".into(),
            mobile: Some("13800000042".into()),
        },
        DtUser {
            staff_id: "dt_lina".into(), union_id: "dtu_lina".into(), nick: "李娜".into(), mobile: None
        },
    ]
}
