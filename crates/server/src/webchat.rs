//! The web chat channel's server side: the visitor's WebSocket, from handshake to delivery receipts.

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use kefu_channels::webchat::{self, ClientFrame, ServerFrame, VisitorMessage};
use kefu_domain::{Channel, ChannelKind, Content, ConversationState, Message};
use kefu_engine::{BusItem, Event, Subject};
use kefu_store::{Inbound, IngestOutcome, Profile};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::guard::ClientAddr;
use crate::state::AppState;

/// How much history a returning visitor sees.
const HISTORY: u32 = 100;

#[derive(Deserialize)]
pub struct VisitorQuery {
    /// The channel key from the embed snippet.
    c: String,
    /// The visitor id the widget keeps in localStorage.
    v: String,
}

pub async fn visitor_ws(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    Query(q): Query<VisitorQuery>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if !webchat::valid_visitor_id(&q.v) {
        return Err(ApiError::BadRequest("invalid visitor id".into()));
    }
    let channel = state.store.channel_by_key(&q.c).await?;
    if channel.kind != ChannelKind::Webchat || !channel.enabled {
        return Err(ApiError::NotFound);
    }
    // Each new visitor becomes a customer once they write: new ones are limited per address.
    if state.store.find_identity(channel.id, &q.v).await?.is_none()
        && state.new_visitors.take(&ip.to_string(), state.clock.now()).is_err()
    {
        return Err(ApiError::TooMany);
    }
    Ok(ws.max_message_size(64 * 1024).on_upgrade(move |socket| visitor_session(state, channel, q.v, socket)))
}

fn visible_to_visitor(m: &Message) -> bool {
    !matches!(m.content, Content::Event { .. })
}

/// Agents already looked up for one frame: a history names the same few agents many times.
type Faces = std::collections::HashMap<kefu_domain::AgentId, Option<webchat::ServingAgent>>;

/// The message as the visitor sees it, with its agent's name and avatar. A lookup that fails
/// shows the message without them rather than not at all.
async fn for_visitor(state: &AppState, m: &Message, faces: &mut Faces) -> VisitorMessage {
    let mut v = VisitorMessage::from(m);
    if let kefu_domain::Sender::Agent { id } = m.sender {
        if let std::collections::hash_map::Entry::Vacant(slot) = faces.entry(id) {
            let face = state.store.agent(id).await.ok();
            slot.insert(face.map(|a| webchat::ServingAgent { name: a.display_name, avatar: a.avatar }));
        }
        v.agent = faces.get(&id).cloned().flatten();
    }
    v
}

async fn hello(state: &AppState, channel: &Channel, visitor: &str) -> ServerFrame {
    let history = match state.store.identity_messages(channel.id, visitor, HISTORY).await {
        Ok(h) => {
            let (mut out, mut faces) = (vec![], Faces::new());
            for m in h.iter().filter(|m| visible_to_visitor(m)) {
                out.push(for_visitor(state, m, &mut faces).await);
            }
            out
        }
        Err(e) => {
            tracing::error!(error = %e, "visitor history unavailable");
            vec![]
        }
    };
    ServerFrame::Hello { history, welcome: channel.setting("welcome").map(str::to_owned) }
}

fn frame_text(f: &ServerFrame) -> WsMessage {
    WsMessage::Text(serde_json::to_string(f).unwrap_or_default().into())
}

async fn visitor_session(state: AppState, channel: Channel, visitor: String, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut stopping = state.stopping.clone();
    // Subscribe before reading history, so a reply sent in between is not missed.
    let Ok(mut sub) = state.engine.bus().subscribe(&Subject::visitor(channel.id, &visitor).0).await else {
        return;
    };
    if tx.send(frame_text(&hello(&state, &channel, &visitor).await)).await.is_err() {
        return;
    }
    loop {
        let out = tokio::select! {
            _ = stopping.changed() => {
                // The node is going away: the widget reconnects (to another node) at once.
                let _ = tx.send(WsMessage::Close(Some(CloseFrame { code: 1012, reason: "restarting".into() }))).await;
                break;
            }
            incoming = rx.next() => match incoming {
                Some(Ok(WsMessage::Text(t))) => handle_frame(&state, &channel, &visitor, t.as_str()).await,
                Some(Ok(WsMessage::Binary(_))) => Some(error_frame("bad_frame", "binary frames are not accepted", None)),
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => None,
            },
            item = sub.next() => match item {
                Some(BusItem::Event(_, e)) => match &e.event {
                    Event::VisitorMessage { message, .. } if visible_to_visitor(message) => {
                        let message = for_visitor(&state, message, &mut Faces::new()).await;
                        Some(ServerFrame::Message { message })
                    }
                    _ => None,
                },
                Some(BusItem::Lagged) => Some(hello(&state, &channel, &visitor).await),
                None => break,
            },
        };
        if let Some(frame) = out
            && tx.send(frame_text(&frame)).await.is_err()
        {
            break;
        }
    }
}

fn error_frame(code: &'static str, message: impl Into<String>, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error { code, message: message.into(), client_id }
}

async fn handle_frame(state: &AppState, channel: &Channel, visitor: &str, text: &str) -> Option<ServerFrame> {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(f) => f,
        Err(e) => return Some(error_frame("bad_frame", format!("unreadable frame: {e}"), None)),
    };
    match frame {
        ClientFrame::Ping => Some(ServerFrame::Pong),
        ClientFrame::Delivered { id } => {
            if let Err(e) = state.engine.visitor_delivered(channel.id, visitor, id).await {
                tracing::debug!(error = %e, "delivery receipt ignored");
            }
            None
        }
        ClientFrame::Send { client_id, text } => {
            Some(accept_text(state, channel, visitor, client_id, text).await)
        }
    }
}

/// Stores the visitor's message and only then acknowledges it: an `ack` means durable.
async fn accept_text(
    state: &AppState,
    channel: &Channel,
    visitor: &str,
    client_id: String,
    text: String,
) -> ServerFrame {
    if let Err(e) = webchat::validate_send(&client_id, &text) {
        return error_frame("invalid", e.to_string(), Some(client_id));
    }
    // Nothing is stored (or acknowledged) beyond the visitor's rate; the widget resends later.
    if let Err(wait) = state.visitor_messages.take(&format!("{}:{visitor}", channel.id), state.clock.now()) {
        let retry_after_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(200);
        let message = "您发送得太快了，请稍候，消息会自动发出。".into();
        return ServerFrame::SlowDown { client_id, retry_after_ms, message };
    }
    let inbound = Inbound {
        channel_id: channel.id,
        external_id: visitor.to_owned(),
        profile: Profile::default(),
        dedupe_key: Some(format!("web:{visitor}:{client_id}")),
        content: Content::text(text),
        received_at: state.clock.now(),
        initial_state: ConversationState::Queued,
        initial_group: None,
        passive: false,
    };
    match state.engine.receive_retrying(inbound).await {
        // The bot's reply is the message's `inbound` job, written with it: it survives a crash.
        Ok(IngestOutcome::Accepted(a)) => {
            ServerFrame::Ack { client_id, message: VisitorMessage::from(&a.message) }
        }
        Ok(IngestOutcome::Duplicate(m)) => ServerFrame::Ack { client_id, message: VisitorMessage::from(&m) },
        Err(e) => {
            tracing::error!(error = %e, "visitor message not stored");
            error_frame("unavailable", "the message could not be stored; it will be resent", Some(client_id))
        }
    }
}
