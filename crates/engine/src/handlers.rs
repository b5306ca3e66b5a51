//! What each kind of job does. Decisions return effects (committed with the job's end);
//! platform calls (profile lookups, 微信客服 pulls and session ends, media copies) are made
//! here and are safe to repeat, since a job whose node died runs again.

use kefu_domain::{ChannelKind, Job};

use crate::engine::{Engine, Result};
use crate::jobs::Outcome;
use crate::platforms::Platforms;

/// The job handlers, with the platform plumbing some of them need.
#[derive(Clone)]
pub struct Handlers {
    platforms: Option<Platforms>,
}

impl Handlers {
    pub fn new(platforms: Option<Platforms>) -> Self {
        Handlers { platforms }
    }

    pub async fn handle(&self, engine: &Engine, job: &Job) -> Result<Outcome> {
        Ok(match job {
            Job::Inbound { message, new_conversation, passive, .. } => {
                engine.inbound_turn(*message, *new_conversation, *passive).await?
            }
            Job::ServeQueue { group } => {
                engine.serve_queue(*group).await?;
                Outcome::Done
            }
            Job::IdleCheck { conversation } => Outcome::Effects(engine.idle_check(*conversation).await?),
            Job::QueueTimeout { conversation } => {
                Outcome::Effects(engine.queue_timeout(*conversation).await?)
            }
            Job::AgentAbsent { agent } => {
                engine.agent_absent(*agent).await?;
                Outcome::Done
            }
            Job::FetchMedia { message } => {
                // A link kefu may not fetch stays as it is; that is not worth retrying.
                if let Err(e) = engine.localize_media(*message).await {
                    tracing::info!(error = %e, %message, "media not copied");
                }
                Outcome::Done
            }
            Job::Enrich { identity } => {
                self.enrich(engine, *identity).await?;
                Outcome::Done
            }
            Job::Closed { conversation } => {
                if let Some(p) = &self.platforms {
                    let conv = engine.store().conversation(*conversation).await?;
                    crate::wechat::kf_closed(engine, p, &conv).await?;
                }
                Outcome::Done
            }
            Job::KfPull { channel, token } => {
                if let Some(p) = &self.platforms {
                    let channel = engine.store().channel(*channel).await?;
                    crate::wechat::kf_pull(engine, p, &channel, token).await?;
                }
                Outcome::Done
            }
        })
    }

    async fn enrich(&self, engine: &Engine, identity: kefu_domain::IdentityId) -> Result<()> {
        let Some(p) = &self.platforms else { return Ok(()) };
        let identity = engine.store().identity(identity).await?;
        let channel = engine.store().channel(identity.channel_id).await?;
        match channel.kind {
            ChannelKind::Dingtalk => crate::dingtalk::enrich(engine, p, &channel, &identity).await,
            ChannelKind::WechatOa | ChannelKind::WecomKf => {
                crate::wechat::enrich(engine, p, &channel, &identity).await
            }
            _ => {}
        }
        Ok(())
    }
}
