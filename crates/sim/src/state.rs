//! The simulator's memory: one lock around everything the platforms know, and the
//! bookkeeping shared by the OA, WeCom, 微信客服 and DingTalk sides.

use crate::config::SimConfig;
use crate::dt_book::DtBook;
use crate::faults::{FaultState, Stats, bump};
use crate::kf_book::KfBook;
use crate::media::MediaStore;
use crate::model::{CallbackTarget, MediaDigest, Received, Said, SimChannel, Timeline, Via};
use crate::tokens::TokenBook;
use crate::window::ReplyWindow;
use kefu_domain::{Clock, Timestamp};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Sim {
    pub config: SimConfig,
    pub clock: Arc<dyn Clock>,
    pub base_url: String,
    pub http: reqwest::Client,
    inner: Mutex<Inner>,
}

/// A follower of one OA.
#[derive(Debug, Clone)]
pub struct Follower {
    pub subscribed: bool,
    pub subscribe_time: Timestamp,
    pub window: ReplyWindow,
}

#[derive(Debug, Default)]
pub struct Inner {
    pub callbacks: HashMap<CallbackTarget, String>,
    pub tokens: TokenBook,
    /// By (app_id, openid).
    pub followers: HashMap<(String, String), Follower>,
    pub kf: KfBook,
    pub dt: DtBook,
    pub media: MediaStore,
    pub timelines: HashMap<String, Timeline>,
    pub faults: FaultState,
    pub stats: Stats,
    pub sms: Vec<crate::sms::Sms>,
    /// The last robot-callback timestamp signed, so no two pushes share one.
    pub dt_last_sign_ms: i64,
    pub sms_nonces: std::collections::HashSet<String>,
    seq: u64,
    msg_id: u64,
}

/// What kefu sent, before it gets its place in the user's timeline.
pub struct Delivered<'a> {
    pub via: Via,
    pub channel: SimChannel,
    pub account: &'a str,
    pub user: &'a str,
    pub msgtype: &'a str,
    pub content: Value,
    pub media: Option<MediaDigest>,
}

impl Sim {
    pub fn new(config: SimConfig, clock: Arc<dyn Clock>, base_url: String, http: reqwest::Client) -> Self {
        Sim { config, clock, base_url, http, inner: Mutex::new(Inner::default()) }
    }

    /// A panic elsewhere must not wedge the simulator, so a poisoned lock is still used.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The configured callback URL unless a test replaced it.
    pub fn callback_url(&self, target: &CallbackTarget) -> Option<String> {
        if let Some(url) = self.lock().callbacks.get(target) {
            return Some(url.clone());
        }
        let c = &self.config;
        match target {
            CallbackTarget::Oa(id) => c.oa(id).and_then(|a| a.callback_url.clone()),
            CallbackTarget::WecomApp(id) => c.corp(id)?.app.as_ref()?.callback_url.clone(),
            CallbackTarget::Kf(id) => c.corp(id)?.kf.as_ref()?.callback_url.clone(),
            CallbackTarget::DingtalkRobot(key) => c.dingtalk(key)?.callback_url.clone(),
            CallbackTarget::DingtalkEvents(key) => c.dingtalk(key)?.event_callback_url.clone(),
        }
    }

    pub fn nickname(&self, user: &str) -> String {
        self.config.user(user).and_then(|u| u.nickname.clone()).unwrap_or_else(|| user.to_owned())
    }

    pub fn unionid(&self, user: &str) -> Option<String> {
        self.config.user(user).and_then(|u| u.unionid.clone())
    }
}

impl Inner {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// 64-bit, increasing, in the magnitude real MsgIds have.
    pub fn next_msg_id(&mut self) -> u64 {
        self.msg_id += 1;
        7_300_000_000_000_000_000 + self.msg_id
    }

    pub fn record_received(&mut self, d: Delivered<'_>, now: Timestamp) -> Received {
        let r = Received {
            seq: self.next_seq(),
            via: d.via,
            channel: d.channel,
            account: d.account.to_owned(),
            user: d.user.to_owned(),
            msgtype: d.msgtype.to_owned(),
            content: d.content,
            media: d.media,
            at: now,
        };
        if d.via != Via::Passive {
            bump(&mut self.stats.sends, d.via.as_str());
        }
        self.timelines.entry(r.user.clone()).or_default().received.push(r.clone());
        r
    }

    pub fn record_said(&mut self, mut said: Said) -> u64 {
        said.seq = self.next_seq();
        let seq = said.seq;
        self.timelines.entry(said.user.clone()).or_default().said.push(said);
        seq
    }

    /// Notes what the user saw when a push failed.
    pub fn mark_said_failed(&mut self, user: &str, seq: u64, error: &str) {
        let said = self.timelines.get_mut(user).and_then(|t| t.said.iter_mut().find(|s| s.seq == seq));
        if let Some(s) = said {
            s.error = Some(error.to_owned());
        }
    }

    pub fn count_rejection(&mut self, code: i64) {
        bump(&mut self.stats.rejections, &code.to_string());
    }

    pub fn follower(&mut self, app_id: &str, openid: &str, now: Timestamp) -> &mut Follower {
        self.followers.entry((app_id.to_owned(), openid.to_owned())).or_insert_with(|| Follower {
            subscribed: true,
            subscribe_time: now,
            window: ReplyWindow::default(),
        })
    }
}
