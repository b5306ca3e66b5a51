//! Customers and their per-channel identities, the raw material of OneID.

use crate::clock::Timestamp;
use crate::ids::{ChannelId, CustomerId, IdentityId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub display_name: String,
    pub created_at: Timestamp,
}

/// A customer's account on one channel: an OpenID, an external_userid, a staffId, a visitor id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub id: IdentityId,
    pub customer_id: CustomerId,
    pub channel_id: ChannelId,
    pub external_id: String,
    pub union_id: Option<String>,
    pub phone: Option<String>,
    pub nickname: Option<String>,
    pub created_at: Timestamp,
}

/// What a channel adapter learnt about a sender, stored on the identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub nickname: Option<String>,
    /// WeChat UnionID: the same person across every account of one Open Platform.
    pub union_id: Option<String>,
    pub phone: Option<String>,
}
