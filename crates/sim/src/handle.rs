//! Starting the simulator and driving it from Rust: the same operations the control API
//! offers, without HTTP in between.

use crate::config::SimConfig;
use crate::crypto::Envelope;
use crate::error::SimError;
use crate::faults::{Faults, Stats};
use crate::model::{
    CallbackTarget, Delivery, DtChat, Received, SimMessage, Timeline, Verification, WecomTarget,
};
use crate::state::Sim;
use crate::{dt_event, dt_push, push_oa, push_wecom, routes};
use kefu_domain::Clock;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type Server = (oneshot::Sender<()>, JoinHandle<()>);

/// A running simulator. Clones share it; `shutdown` stops it for all of them.
#[derive(Clone)]
pub struct SimHandle {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:port`: use it in place of https://api.weixin.qq.com and
    /// https://qyapi.weixin.qq.com.
    pub base_url: String,
    state: Arc<Sim>,
    server: Arc<Mutex<Option<Server>>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// Checks the keys up front so a typo fails at start, not at the first push.
fn validate(config: &SimConfig) -> Result<(), SimError> {
    let keys =
        config.oa.iter().filter(|a| a.mode != crate::config::OaMode::Plain).map(|a| &a.encoding_aes_key);
    let wecom = config.wecom.iter().flat_map(|c| {
        c.app.iter().map(|a| &a.encoding_aes_key).chain(c.kf.iter().map(|k| &k.encoding_aes_key))
    });
    let dingtalk = config.dingtalk.iter().map(|a| &a.event_aes_key);
    for key in keys.chain(wecom).chain(dingtalk) {
        Envelope::new(key).map_err(|e| SimError::Config(e.to_string()))?;
    }
    Ok(())
}

/// Binds `config.bind`, serves the platform and control APIs in the background.
pub async fn start(config: SimConfig, clock: Arc<dyn Clock>) -> Result<SimHandle, SimError> {
    validate(&config)?;
    let bind = config.bind;
    let listener =
        tokio::net::TcpListener::bind(bind).await.map_err(|source| SimError::Bind { addr: bind, source })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind { addr: bind, source })?;
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
    let host = if addr.is_ipv6() && !addr.ip().is_unspecified() { format!("[{host}]") } else { host };
    let base_url = format!("http://{host}:{}", addr.port());
    let http = reqwest::Client::builder().no_proxy().build().map_err(|e| SimError::Http(e.to_string()))?;
    let sim = Arc::new(Sim::new(config, clock, base_url.clone(), http));
    let app = routes::router(sim.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::warn!(error = %e, "simulator server stopped");
        }
    });
    tracing::info!(%base_url, "platform sandbox (公众号, 企业微信, 微信客服, 钉钉) listening");
    Ok(SimHandle { addr, base_url, state: sim, server: Arc::new(Mutex::new(Some((tx, task)))) })
}

impl SimHandle {
    /// A follower of the OA sends a message or triggers an event.
    pub async fn oa_user_says(
        &self,
        app_id: &str,
        openid: &str,
        msg: SimMessage,
    ) -> Result<Delivery, SimError> {
        push_oa::user_says(&self.state, app_id, openid, msg).await
    }

    /// A 微信客服 customer writes, or enters the chat with `SimMessage::Event { event: "enter_session" }`.
    pub async fn kf_customer_says(
        &self,
        open_kfid: &str,
        external_userid: &str,
        msg: SimMessage,
    ) -> Result<Delivery, SimError> {
        push_wecom::customer_says(&self.state, open_kfid, external_userid, msg).await
    }

    /// A corp member writes to the self-built app.
    pub async fn wecom_member_says(
        &self,
        corp_id: &str,
        userid: &str,
        msg: SimMessage,
    ) -> Result<Delivery, SimError> {
        push_wecom::member_says(&self.state, corp_id, userid, msg).await
    }

    /// The OA console's server-URL check.
    pub async fn oa_get_verify(&self, app_id: &str, echostr: &str) -> Result<Verification, SimError> {
        push_oa::get_verify(&self.state, app_id, echostr).await
    }

    /// WeCom's callback-URL check for the app or the 微信客服 callback.
    pub async fn wecom_get_verify(
        &self,
        corp_id: &str,
        target: WecomTarget,
    ) -> Result<Verification, SimError> {
        push_wecom::get_verify(&self.state, corp_id, target).await
    }

    /// A DingTalk user writes to the robot, one-to-one or in a group; the message is signed
    /// and POSTed to the app's robot callback URL with a fresh sessionWebhook.
    pub async fn dingtalk_user_says(
        &self,
        app_key: &str,
        staff_id: &str,
        msg: SimMessage,
        chat: DtChat,
    ) -> Result<Delivery, SimError> {
        dt_push::user_says(&self.state, app_key, staff_id, msg, chat).await
    }

    /// Pushes the app's last robot message again, byte for byte (same msgId, fresh
    /// `timestamp` and `sign`), the way DingTalk redelivers to a slow receiver.
    pub async fn dingtalk_redeliver_last(&self, app_key: &str) -> Result<Delivery, SimError> {
        dt_push::redeliver_last(&self.state, app_key).await
    }

    /// The sessionWebhook handed out with the last message from this user (one-to-one or group).
    pub fn dingtalk_session_webhook(&self, staff_id: &str) -> Option<String> {
        self.state.lock().dt.last_session_url(staff_id)
    }

    /// Sends an event to the app's event subscription URL; `ok` only if kefu answered an
    /// encrypted, signed `success`.
    pub async fn dingtalk_event(
        &self,
        app_key: &str,
        event: serde_json::Value,
    ) -> Result<Delivery, SimError> {
        dt_event::push(&self.state, app_key, &event).await
    }

    /// The check DingTalk makes when the event subscription URL is saved.
    pub async fn dingtalk_check_url(&self, app_key: &str) -> Result<Delivery, SimError> {
        self.dingtalk_event(app_key, serde_json::json!({ "EventType": "check_url" })).await
    }

    /// Everything kefu delivered to this user, in order.
    /// The texts the simulated SMS services delivered to `phone`, oldest first.
    pub fn sms_to(&self, phone: &str) -> Vec<crate::Sms> {
        self.state.lock().sms.iter().filter(|s| s.phone == phone).cloned().collect()
    }

    pub fn inbox(&self, user: &str) -> Vec<Received> {
        self.state.lock().timelines.get(user).map(|t| t.received.clone()).unwrap_or_default()
    }

    /// What the user said and received.
    pub fn timeline(&self, user: &str) -> Timeline {
        self.state.lock().timelines.get(user).cloned().unwrap_or_default()
    }

    /// Replaces the pending faults (and expires all tokens if asked to).
    pub fn set_faults(&self, faults: Faults) {
        crate::faults::apply(&self.state, faults);
    }

    pub fn stats(&self) -> Stats {
        self.state.lock().stats.clone()
    }

    /// Points a platform account at kefu (often known only after kefu has bound its port).
    pub fn set_callback_url(&self, target: CallbackTarget, url: &str) -> Result<(), SimError> {
        set_callback_url(&self.state, target, url)
    }

    /// 微信客服 session state and servicer, `None` if the customer never opened one.
    pub fn kf_service_state(&self, open_kfid: &str, external_userid: &str) -> Option<(u8, String)> {
        self.state.lock().kf.session(open_kfid, external_userid).map(|s| (s.state, s.servicer.clone()))
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// Stops the server and waits (briefly) for it to finish.
    pub async fn shutdown(&self) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((tx, task)) = server {
            let _ = tx.send(());
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

pub(crate) fn set_callback_url(sim: &Sim, target: CallbackTarget, url: &str) -> Result<(), SimError> {
    let known = match &target {
        CallbackTarget::Oa(id) => sim.config.oa(id).is_some(),
        CallbackTarget::WecomApp(id) => sim.config.corp(id).is_some_and(|c| c.app.is_some()),
        CallbackTarget::Kf(id) => sim.config.corp(id).is_some_and(|c| c.kf.is_some()),
        CallbackTarget::DingtalkRobot(key) | CallbackTarget::DingtalkEvents(key) => {
            sim.config.dingtalk(key).is_some()
        }
    };
    if !known {
        return Err(SimError::UnknownAccount(format!("{target:?}")));
    }
    reqwest::Url::parse(url).map_err(|_| SimError::BadCallbackUrl(url.to_owned()))?;
    sim.lock().callbacks.insert(target, url.to_owned());
    Ok(())
}
