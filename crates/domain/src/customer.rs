//! Customers and their per-channel identities, the raw material of OneID.

use crate::clock::Timestamp;
use crate::ids::{ChannelId, CustomerId, IdentityId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    pub id: CustomerId,
    pub display_name: String,
    pub created_at: Timestamp,
}

/// A customer's account on one channel: an OpenID, an external_userid, a staffId, a visitor id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub id: IdentityId,
    pub customer_id: CustomerId,
    pub channel_id: ChannelId,
    pub external_id: String,
    pub union_id: Option<String>,
    pub phone: Option<String>,
    /// Whether the platform vouches for `phone` (DingTalk's or WeCom's user API) or the customer
    /// confirmed it with an SMS code. Only verified phones merge customers automatically.
    #[serde(default)]
    pub phone_verified: bool,
    pub nickname: Option<String>,
    pub created_at: Timestamp,
}

/// What a channel adapter learnt about a sender, stored on the identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub nickname: Option<String>,
    /// WeChat UnionID: the same person across every account of one Open Platform.
    pub union_id: Option<String>,
    /// A phone the platform itself vouches for (a member's mobile from the user API). A number
    /// a customer typed is never a profile phone; see `ConversationStore::set_typed_phone`.
    pub phone: Option<String>,
}

/// One merge of two customers into one (OneID), kept so that it can be explained and undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerMerge {
    pub id: i64,
    /// The customer that remains.
    pub survivor: CustomerId,
    /// The customer whose identities moved to the survivor.
    pub merged: CustomerId,
    /// Exactly the identities that moved; an unmerge moves these (and their conversations) back.
    pub identities: Vec<IdentityId>,
    /// Why: `unionid:…`, `phone:…`, or an agent's words.
    pub reason: String,
    /// The agent who merged by hand; `None` for an automatic merge.
    pub by: Option<crate::ids::AgentId>,
    pub at: Timestamp,
    pub undone_at: Option<Timestamp>,
    pub undone_by: Option<crate::ids::AgentId>,
    pub undo_reason: Option<String>,
}

/// An agent's note on a customer, shown in the customer 360 view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerNote {
    pub id: i64,
    pub customer: CustomerId,
    pub agent: crate::ids::AgentId,
    pub text: String,
    pub at: Timestamp,
}
