//! The workbench's live feed: conversation and message events pushed over a WebSocket.

use std::collections::HashMap;

use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use kefu_domain::{Agent, ConversationId};
use kefu_engine::{BusItem, Event};
use serde_json::json;

use crate::api::can_view;
use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
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

pub async fn agent_ws(
    State(state): State<AppState>,
    me: CurrentAgent,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    if !same_origin(&headers) {
        return Err(ApiError::Forbidden("cross-origin WebSocket refused".into()));
    }
    Ok(ws.max_message_size(16 * 1024).on_upgrade(move |socket| feed(state, me.agent, socket)))
}

/// Remembers which conversations this agent may see, so a status update (which carries no
/// conversation) does not cost a database read each time.
struct Visibility {
    agent: Agent,
    known: HashMap<ConversationId, bool>,
}

impl Visibility {
    async fn check(&mut self, state: &AppState, event: &Event) -> bool {
        match event {
            Event::MessageCreated { conversation, .. } | Event::ConversationUpdated { conversation } => {
                let v = can_view(&self.agent, conversation);
                self.known.insert(conversation.id, v);
                v
            }
            Event::MessageUpdated { message } => {
                if let Some(v) = self.known.get(&message.conversation_id) {
                    return *v;
                }
                let v = state
                    .store
                    .conversation(message.conversation_id)
                    .await
                    .is_ok_and(|c| can_view(&self.agent, &c));
                self.known.insert(message.conversation_id, v);
                v
            }
            // Who is who matters to every agent showing that customer.
            Event::CustomerMerged { .. } => true,
            Event::VisitorMessage { .. } => false,
        }
    }
}

async fn feed(state: AppState, agent: Agent, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut sub = match state.engine.bus().subscribe(">").await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "agent feed unavailable");
            return;
        }
    };
    let id = agent.id;
    let mut vis = Visibility { agent, known: HashMap::new() };
    // An open feed is how kefu knows the agent is really there (see `presence_timeout_secs`).
    let _ = state.engine.seen(id).await;
    loop {
        tokio::select! {
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
                    Some(BusItem::Event(_, event)) => {
                        if !vis.check(&state, &event).await {
                            continue;
                        }
                        serde_json::to_string(&*event).unwrap_or_default()
                    }
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
