//! Agents (human staff), their roles and availability, and skill groups.

use crate::ids::{AgentId, SkillGroupId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Roles are ordered: an admin may do everything a supervisor may, and so on.
    pub fn at_least(self, other: Role) -> bool {
        self >= other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Online,
    Away,
    Offline,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

impl FromStr for Role {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownValue(s.to_owned())),
        }
    }
}

impl FromStr for AgentStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(AgentStatus::Online),
            "away" => Ok(AgentStatus::Away),
            "offline" => Ok(AgentStatus::Offline),
            _ => Err(UnknownValue(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    pub id: AgentId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub status: AgentStatus,
    /// Most conversations this agent may hold at once.
    pub capacity: u32,
    pub skill_groups: Vec<SkillGroupId>,
    /// Disabled by an admin: cannot log in, gets no conversations; kept for the history.
    #[serde(default)]
    pub disabled: bool,
    /// The picture customers see beside this agent's messages: kefu's own `/media/<id>`.
    #[serde(default)]
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkillGroup {
    pub id: SkillGroupId,
    pub name: String,
    #[serde(default)]
    pub routing: GroupRouting,
}

/// How a skill group picks the agent for a waiting conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each online agent in turn, fair across restarts and nodes.
    RoundRobin,
    /// The agent with the lowest share of their capacity in use; ties go to whoever was
    /// assigned longest ago.
    #[default]
    LeastLoad,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastLoad => "least_load",
        }
    }
}

impl FromStr for Strategy {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "round_robin" => Ok(Strategy::RoundRobin),
            "least_load" => Ok(Strategy::LeastLoad),
            _ => Err(UnknownValue(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct GroupRouting {
    pub strategy: Strategy,
    /// The agent who served the customer within this many hours goes first; 0 turns it off.
    pub sticky_hours: u32,
    /// After this long in the queue the conversation becomes a leave-message ticket.
    pub queue_timeout_secs: Option<u32>,
    /// When the group is staffed; outside these hours customers leave a message.
    pub business_hours: Option<crate::hours::BusinessHours>,
    /// Keywords ("退款") and patterns ("re:^退.*款") that route a message to this group.
    pub keywords: Vec<String>,
    /// The closing message (结束语) sent when a conversation of this group is closed.
    pub closing_message: Option<String>,
}

impl Default for GroupRouting {
    fn default() -> Self {
        GroupRouting {
            strategy: Strategy::LeastLoad,
            sticky_hours: 24,
            queue_timeout_secs: None,
            business_hours: None,
            keywords: vec![],
            closing_message: None,
        }
    }
}
