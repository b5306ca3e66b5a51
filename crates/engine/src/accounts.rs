//! Account changes with their consequence on live connections: when an account's sessions
//! end (disabled, logged out by an admin, a new password), its open workbenches close on every
//! node. What must happen durably (routing its conversations again) is a job the store writes.

use kefu_domain::{Agent, AgentId};
use kefu_store::AccountChange;

use crate::bus::{Event, Subject};
use crate::engine::{Engine, Result};

impl Engine {
    pub async fn change_account(&self, id: AgentId, change: &AccountChange) -> Result<Agent> {
        let agent = self.store.change_account(id, change, self.clock.now()).await?;
        if change.disabled == Some(true) || change.password_hash.is_some() {
            // A disabled account keeps no session; a password change keeps the changer's own.
            let keep = if change.disabled == Some(true) { None } else { change.keep_session.clone() };
            self.publish(Subject::agent(id), Event::SignedOut { agent: id, keep, only: None }).await;
        }
        Ok(agent)
    }

    /// One session ended (signed out, or ended from another device): its open workbench closes.
    pub async fn end_session(&self, id: AgentId, token_hash: &str) -> Result<()> {
        self.store.delete_session(token_hash).await?;
        let only = Some(token_hash.to_owned());
        self.publish(Subject::agent(id), Event::SignedOut { agent: id, keep: None, only }).await;
        Ok(())
    }

    /// Ends every session of the account (an admin's "force log-out"), and takes the agent
    /// offline as their own log-out would. Should this node die in between, the agent's
    /// workbench falls silent and the presence timeout does the rest.
    pub async fn end_sessions(&self, id: AgentId) -> Result<u64> {
        let n = self.store.end_sessions(id, None).await?;
        self.publish(Subject::agent(id), Event::SignedOut { agent: id, keep: None, only: None }).await;
        self.set_agent_status(id, kefu_domain::AgentStatus::Offline).await?;
        Ok(n)
    }
}
