//! Column lists and row-to-domain mapping shared by every query of the SQL store.

use kefu_domain::conversation::Status;
use kefu_domain::*;

use super::exec::Row;
use crate::Result;

macro_rules! conversation_cols {
    () => {
        "c.id, c.customer_id, c.identity_id, c.channel_id, c.state, c.agent_id, c.group_id, \
         c.close_reason, c.created_at, c.updated_at, c.closed_at, c.last_inbound_at, c.queued_at, c.satisfaction"
    };
}
macro_rules! message_cols {
    () => {
        "m.id, m.conversation_id, m.channel_id, m.direction, m.sender_kind, m.sender_agent_id, \
         m.content, m.platform_msg_id, m.status, m.error, m.created_at"
    };
}
macro_rules! identity_cols {
    () => {
        "i.id, i.customer_id, i.channel_id, i.external_id, i.union_id, i.phone, i.phone_verified, i.nickname, \
         i.created_at"
    };
}
pub(crate) use {conversation_cols, identity_cols, message_cols};

fn opt_id<T>(r: &Row, col: &str, f: fn(i64) -> T) -> Result<Option<T>> {
    Ok(r.opt_int(col)?.map(f))
}

pub(crate) fn conversation(r: &Row) -> Result<Conversation> {
    let close_reason = match r.opt_text("close_reason")? {
        Some(s) => Some(s.parse().map_err(|_| crate::StoreError::Corrupt(format!("close_reason {s:?}")))?),
        None => None,
    };
    Ok(Conversation {
        id: ConversationId(r.int("id")?),
        customer_id: CustomerId(r.int("customer_id")?),
        identity_id: IdentityId(r.int("identity_id")?),
        channel_id: ChannelId(r.int("channel_id")?),
        status: Status {
            state: r.parsed("state")?,
            agent: opt_id(r, "agent_id", AgentId)?,
            group: opt_id(r, "group_id", SkillGroupId)?,
            close_reason,
        },
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
        closed_at: r.opt_int("closed_at")?.map(Timestamp),
        last_inbound_at: r.opt_int("last_inbound_at")?.map(Timestamp),
        queued_at: r.opt_int("queued_at")?.map(Timestamp),
        satisfaction: r.opt_int("satisfaction")?.and_then(|v| u8::try_from(v).ok()),
    })
}

pub(crate) fn sender_parts(s: &Sender) -> (&'static str, Option<i64>) {
    match s {
        Sender::Customer => ("customer", None),
        Sender::Bot => ("bot", None),
        Sender::Agent { id } => ("agent", Some(id.0)),
        Sender::System => ("system", None),
    }
}

pub(crate) fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Internal => "internal",
    }
}

fn sender(r: &Row) -> Result<Sender> {
    let kind = r.text("sender_kind")?;
    Ok(match (kind.as_str(), r.opt_int("sender_agent_id")?) {
        ("customer", _) => Sender::Customer,
        ("bot", _) => Sender::Bot,
        ("system", _) => Sender::System,
        ("agent", Some(id)) => Sender::Agent { id: AgentId(id) },
        _ => return Err(crate::StoreError::Corrupt(format!("sender {kind:?}"))),
    })
}

pub(crate) fn message(r: &Row) -> Result<Message> {
    let content = r.text("content")?;
    let direction = match r.text("direction")?.as_str() {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        "internal" => Direction::Internal,
        other => return Err(crate::StoreError::Corrupt(format!("direction {other:?}"))),
    };
    Ok(Message {
        id: MessageId(r.int("id")?),
        conversation_id: ConversationId(r.int("conversation_id")?),
        channel_id: ChannelId(r.int("channel_id")?),
        direction,
        sender: sender(r)?,
        content: serde_json::from_str(&content).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
        platform_msg_id: r.opt_text("platform_msg_id")?,
        status: r.parsed("status")?,
        error: r.opt_text("error")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

pub(crate) fn identity(r: &Row) -> Result<Identity> {
    Ok(Identity {
        id: IdentityId(r.int("id")?),
        customer_id: CustomerId(r.int("customer_id")?),
        channel_id: ChannelId(r.int("channel_id")?),
        external_id: r.text("external_id")?,
        union_id: r.opt_text("union_id")?,
        phone: r.opt_text("phone")?,
        phone_verified: r.boolean("phone_verified")?,
        nickname: r.opt_text("nickname")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

pub(crate) fn customer(r: &Row) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(r.int("id")?),
        display_name: r.text("display_name")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}
