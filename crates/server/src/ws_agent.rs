//! The workbench's live feed: conversation and message events pushed over a WebSocket.

use std::collections::HashMap;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use kefu_domain::{Agent, AgentId, Conversation, ConversationId, CustomerId};
use kefu_engine::{BusItem, Event, policy};
use serde_json::json;

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Browsers always send `Origin` on WebSocket handshakes and cookies ride along cross-site, so
/// a handshake from a foreign page is refused (cross-site WebSocket hijacking).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get("host").and_then(|h| h.to_str().ok());
    match (headers.get("origin").and_then(|o| o.to_str().ok()), host) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
    }
}

/// Opens the workbench's live feed: a WebSocket of conversation and message events.
///
/// A WebSocket handshake (`Connection: Upgrade`, `Upgrade: websocket`, `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version: 13`) with the session cookie; an `Origin`, if sent, must be this host.
/// The first frame is `{"type":"hello","pos":…}`, then every event the agent may see, each with
/// its change-feed position; after a reconnect, `GET /api/feed?after=<pos>` returns what was
/// missed. The frames, close codes (4401 signed out, 1012 restarting) and keep-alive pings are
/// described in docs/PROTOCOLS.md, section 2 (Agent workbench live feed).
#[utoipa::path(get, path = "/ws", operation_id = "open_live_feed", tag = "live",
    params(
        ("Connection" = String, Header, pattern = "(^|,)[ \t]*[Uu][Pp][Gg][Rr][Aa][Dd][Ee][ \t]*(,|$)",
            description = "A token list with `Upgrade`, e.g. `Upgrade` or `keep-alive, Upgrade`"),
        ("Upgrade" = String, Header, pattern = "^[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]$", description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, pattern = "^13$"),
        ("Sec-WebSocket-Key" = String, Header, description = "The handshake nonce (RFC 6455)"),
    ),
    responses((status = 101, description = "Switching Protocols: the WebSocket is open"),
        (status = 400, description = "Not a WebSocket handshake (an upgrade header is missing or wrong)", body = ErrorBody),
        (status = 403, description = "The session was opened with an expired password (it may only change it), \
            or the handshake came from another site's page", body = ErrorBody),
        (status = 426, description = "Upgrade Required: the connection the handshake came on cannot be upgraded", body = ErrorBody)))]
pub async fn agent_ws(
    State(state): State<AppState>,
    me: CurrentAgent,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::Forbidden("cross-origin WebSocket refused".into()));
    }
    let session = me.session.token_hash;
    Ok(ws.max_message_size(16 * 1024).on_upgrade(move |socket| feed(state, me.agent, session, socket)))
}

/// Applies the visibility policy to the feed, remembering answers so that a status update
/// (which carries no conversation) does not cost a database read each time.
struct Visibility {
    agent: Agent,
    known: HashMap<ConversationId, bool>,
    served: HashMap<CustomerId, bool>,
}

/// What the feed does with one event for this agent.
enum Verdict {
    Send,
    Skip,
    /// The agent saw this conversation until now (it moved to another group): drop it.
    Hide(ConversationId),
}

impl Visibility {
    async fn served(&mut self, state: &AppState, customer: CustomerId) -> bool {
        if let Some(v) = self.served.get(&customer) {
            return *v;
        }
        let v = state.store.has_served(self.agent.id, customer).await.unwrap_or(false);
        self.served.insert(customer, v);
        v
    }

    async fn conversation(&mut self, state: &AppState, conv: &Conversation) -> Verdict {
        let v = policy::sees_without_history(&self.agent, conv) || self.served(state, conv.customer_id).await;
        let before = self.known.insert(conv.id, v);
        match (v, before) {
            (true, _) => Verdict::Send,
            (false, Some(true)) => Verdict::Hide(conv.id),
            (false, _) => Verdict::Skip,
        }
    }

    async fn check(&mut self, state: &AppState, event: &Event) -> Verdict {
        match event {
            Event::MessageCreated { conversation, .. } | Event::ConversationUpdated { conversation } => {
                self.conversation(state, conversation).await
            }
            Event::MessageUpdated { message } => {
                if let Some(v) = self.known.get(&message.conversation_id) {
                    return if *v { Verdict::Send } else { Verdict::Skip };
                }
                match state.store.conversation(message.conversation_id).await {
                    Ok(c) => self.conversation(state, &c).await,
                    Err(_) => Verdict::Skip,
                }
            }
            Event::CustomerMerged { merge } => {
                let v = policy::is_staff(&self.agent)
                    || state.engine.may_view_customer(&self.agent, merge.survivor).await.unwrap_or(false);
                if v { Verdict::Send } else { Verdict::Skip }
            }
            Event::VisitorMessage { .. } | Event::KbChanged { .. } | Event::SignedOut { .. } => Verdict::Skip,
        }
    }
}

/// Close code for a feed whose session ended (the workbench shows the login form; see api.js).
const SIGNED_OUT: u16 = 4401;

/// Whether `event` ends the session this feed belongs to.
fn ends(event: &Event, me: AgentId, session: &str) -> bool {
    match event {
        Event::SignedOut { agent, keep, only } if *agent == me => match only {
            Some(one) => one == session,
            None => keep.as_deref() != Some(session),
        },
        _ => false,
    }
}

async fn feed(state: AppState, agent: Agent, session: String, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut sub = match state.engine.bus().subscribe(">").await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "agent feed unavailable");
            return;
        }
    };
    let id = agent.id;
    let mut vis = Visibility { agent, known: HashMap::new(), served: HashMap::new() };
    // An open feed is how kefu knows the agent is really there (see `presence_timeout_secs`).
    let _ = state.engine.seen(id).await;
    // Subscribed first, then the position: every change after it arrives live; what came
    // before is asked for with `GET /api/feed?after=<pos>` (after a reconnect) or loaded.
    let pos = state.store.last_change_seq().await.unwrap_or(0);
    if tx.send(WsMessage::Text(json!({"type": "hello", "pos": pos}).to_string().into())).await.is_err() {
        return;
    }
    let mut stopping = state.stopping.clone();
    loop {
        tokio::select! {
            _ = stopping.changed() => {
                // The node is going away: the workbench reconnects (to another node) at once.
                let close = CloseFrame { code: 1012, reason: "restarting".into() };
                let _ = tx.send(WsMessage::Close(Some(close))).await;
                break;
            }
            incoming = rx.next() => match incoming {
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                // The workbench pings every 25 s; any frame is a sign of life. A JSON ping is
                // answered once recorded, so a client can tell it counted.
                Some(Ok(frame)) => {
                    let _ = state.engine.seen(id).await;
                    let ping = matches!(&frame, WsMessage::Text(t) if t.contains("\"ping\""));
                    if ping && tx.send(WsMessage::Text(r#"{"type":"pong"}"#.into())).await.is_err() {
                        break;
                    }
                }
            },
            item = sub.next() => {
                let text = match item {
                    Some(BusItem::Event(_, event)) if ends(&event.event, id, &session) => {
                        let close = CloseFrame { code: SIGNED_OUT, reason: "signed out".into() };
                        let _ = tx.send(WsMessage::Close(Some(close))).await;
                        break;
                    }
                    Some(BusItem::Event(_, event)) => match vis.check(&state, &event.event).await {
                        Verdict::Send => serde_json::to_string(&*event).unwrap_or_default(),
                        Verdict::Skip => continue,
                        Verdict::Hide(id) => json!({"type": "conversation_hidden", "id": id}).to_string(),
                    },
                    Some(BusItem::Lagged) => json!({"type": "resync"}).to_string(),
                    None => break,
                };
                if tx.send(WsMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", host.parse().unwrap());
        if let Some(o) = origin {
            h.insert("origin", o.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_same_origin_handshakes_pass() {
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080")));
        assert!(same_origin(&headers(Some("https://kefu.example.com"), "kefu.example.com")));
        assert!(same_origin(&headers(None, "kefu.example.com")));
        assert!(!same_origin(&headers(Some("https://evil.example"), "kefu.example.com")));
        assert!(!same_origin(&headers(Some("http://kefu.example.com.evil.example"), "kefu.example.com")));
    }
}
