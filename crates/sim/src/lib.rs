//! A WeChat and DingTalk platform simulator: the platform side of the Official Account
//! (公众号), WeCom (企业微信) self-built app, 微信客服 and DingTalk (钉钉) robot protocols, for
//! kefu's integration tests and for `kefu demo`, so a customer can be played offline.
//!
//! Start it with [`start`], point kefu's API base URLs at [`SimHandle::base_url`] and its
//! callback URLs into the config (or [`SimHandle::set_callback_url`]), then play users with
//! [`SimHandle::oa_user_says`], [`SimHandle::dingtalk_user_says`] and friends and read what
//! kefu sent with [`SimHandle::inbox`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), kefu_sim::SimError> {
//! use kefu_domain::{Clock, ManualClock, Timestamp};
//! use kefu_sim::{CallbackTarget, SimConfig, SimMessage};
//! use std::sync::Arc;
//!
//! let clock = Arc::new(ManualClock::new(Timestamp::from_seconds(1_700_000_000)));
//! let dyn_clock: Arc<dyn Clock> = clock.clone();
//! let sim = kefu_sim::start(SimConfig::demo(), dyn_clock).await?;
//! // … start kefu with its WeChat API base set to `sim.base_url`, then:
//! sim.set_callback_url(CallbackTarget::Oa("wxdemo0000000001".into()), "http://127.0.0.1:8080/wx/oa/1")?;
//! let delivery = sim.oa_user_says("wxdemo0000000001", "o_demo_xiaoming", SimMessage::text("你好")).await?;
//! assert!(delivery.ok);
//! let replies = sim.inbox("o_demo_xiaoming");
//! # let _ = replies;
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The envelope crypto here is deliberately the simulator's own and is not exported: kefu's
//! adapters must not share it, or a common bug would pass unnoticed.

mod api;
mod config;
mod control;
mod crypto;
mod deliver;
mod dt_api;
mod dt_book;
mod dt_control;
mod dt_error;
mod dt_event;
mod dt_inbound;
mod dt_push;
mod dt_send;
mod dt_sign;
mod error;
mod faults;
mod handle;
mod inbound;
mod kf;
mod kf_book;
mod media;
mod model;
mod oa;
mod outgoing;
mod push_oa;
mod push_wecom;
mod reply;
mod routes;
mod sms;
mod state;
mod tokens;
mod ui;
mod wecom;
mod window;
mod xml;

pub use config::{
    DingtalkApp, DtUser, KfConfig, OaAccount, OaMode, SimConfig, SimUser, SmsAccount, WecomApp, WecomCorp,
};
pub use error::SimError;
pub use faults::{Faults, Stats};
pub use handle::{SimHandle, start};
pub use media::SAMPLE_PNG;
pub use model::{
    CallbackTarget, Delivery, DtChat, MediaDigest, Received, RichPart, Said, SimChannel, SimMessage,
    Timeline, Verification, Via, WecomTarget,
};
pub use reply::OA_UNAVAILABLE;
pub use sms::Sms;
