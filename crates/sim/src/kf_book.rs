//! 微信客服 state: per-account message queues read with an opaque cursor, sessions with their
//! service_state and reply window, sync tokens and the one-shot event-response codes.

use crate::crypto::{random_alnum, sha256_hex};
use crate::window::service_state::{self, ENDED, HUMAN, NEW, QUEUED};
use crate::window::{ReplyWindow, WindowError};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// Only the last three days can be pulled.
const RETENTION: Duration = Duration::from_secs(3 * 24 * 3600);
const SYNC_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
struct Item {
    at: Timestamp,
    msg: Value,
}

#[derive(Debug, Clone, Default)]
pub struct Session {
    pub state: u8,
    pub servicer: String,
    pub window: ReplyWindow,
}

/// What a `send_msg_on_event` code was issued for; decides validity and allowed types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Welcome,
    Queued,
    Taken,
    Ended,
}

impl CodeKind {
    fn validity(self) -> Duration {
        match self {
            CodeKind::Welcome | CodeKind::Ended => Duration::from_secs(20),
            CodeKind::Queued | CodeKind::Taken => Duration::from_secs(48 * 3600),
        }
    }

    fn allows(self, msgtype: &str) -> bool {
        msgtype == "text" || (msgtype == "msgmenu" && matches!(self, CodeKind::Welcome | CodeKind::Ended))
    }
}

#[derive(Debug, Clone)]
struct Code {
    open_kfid: String,
    user: String,
    kind: CodeKind,
    issued: Timestamp,
    used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KfError {
    /// No open session, a human holds it, it ended, or the 48 h window passed.
    SessionInvalid,
    /// Five messages since the customer last wrote.
    Exhausted,
    InvalidTransition,
    ServicerRequired,
    InvalidCode,
    CodeForbidsType,
    InvalidCursor,
}

/// One page of `sync_msg`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub msgs: Vec<Value>,
    pub next_cursor: String,
    pub has_more: bool,
}

#[derive(Debug, Default)]
pub struct KfBook {
    queues: HashMap<String, Vec<Item>>,
    sessions: HashMap<(String, String), Session>,
    codes: HashMap<String, Code>,
    sync_tokens: HashMap<String, (String, Timestamp)>,
    msg_seq: u64,
}

fn key(open_kfid: &str, user: &str) -> (String, String) {
    (open_kfid.to_owned(), user.to_owned())
}

impl KfBook {
    pub fn session(&self, open_kfid: &str, user: &str) -> Option<&Session> {
        self.sessions.get(&key(open_kfid, user))
    }

    /// Whether the session is missing or ended, so the customer's next step opens a new one.
    pub fn needs_new_session(&self, open_kfid: &str, user: &str) -> bool {
        self.session(open_kfid, user).is_none_or(|s| s.state == ENDED)
    }

    pub fn knows(&self, user: &str) -> bool {
        self.sessions.keys().any(|(_, u)| u == user)
    }

    fn next_msgid(&mut self) -> String {
        self.msg_seq += 1;
        format!("sim_kf_{:08}_{}", self.msg_seq, random_alnum(12))
    }

    /// The customer enters the chat: an `enter_session` event with a fresh welcome_code,
    /// (re)opening the session at state 0 if needed. Returns the welcome_code.
    pub fn enter(&mut self, open_kfid: &str, user: &str, scene: &str, now: Timestamp) -> String {
        if self.needs_new_session(open_kfid, user) {
            self.sessions.insert(key(open_kfid, user), Session { state: NEW, ..Session::default() });
        }
        let welcome = self.issue_code(open_kfid, user, CodeKind::Welcome, now);
        let msgid = self.next_msgid();
        // Event entries carry open_kfid and external_userid only inside `event`.
        let msg = json!({
            "msgid": msgid, "send_time": now.seconds(), "origin": 4, "msgtype": "event",
            "event": {
                "event_type": "enter_session", "open_kfid": open_kfid, "external_userid": user,
                "scene": scene, "scene_param": "", "welcome_code": welcome,
            },
        });
        self.queues.entry(open_kfid.to_owned()).or_default().push(Item { at: now, msg });
        welcome
    }

    /// Queues a customer message (origin 3) and renews the reply window. Returns its msgid.
    pub fn customer_message(
        &mut self,
        open_kfid: &str,
        user: &str,
        msgtype: &str,
        body: Value,
        now: Timestamp,
    ) -> String {
        let msgid = self.next_msgid();
        let mut msg = json!({
            "msgid": msgid, "open_kfid": open_kfid, "external_userid": user,
            "send_time": now.seconds(), "origin": 3, "msgtype": msgtype,
        });
        if let Some(o) = msg.as_object_mut() {
            o.insert(msgtype.to_owned(), body);
        }
        self.queues.entry(open_kfid.to_owned()).or_default().push(Item { at: now, msg });
        self.sessions.entry(key(open_kfid, user)).or_default().window.user_wrote(now);
        msgid
    }

    pub fn issue_sync_token(&mut self, open_kfid: &str, now: Timestamp) -> String {
        let token = format!("ENC{}", random_alnum(40));
        self.sync_tokens.insert(token.clone(), (open_kfid.to_owned(), now));
        token
    }

    pub fn sync_token_valid(&self, open_kfid: &str, token: &str, now: Timestamp) -> bool {
        self.sync_tokens
            .get(token)
            .is_some_and(|(k, at)| k == open_kfid && now.since(*at) < SYNC_TOKEN_LIFETIME)
    }

    pub fn sync(
        &self,
        open_kfid: &str,
        cursor: Option<&str>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Page, KfError> {
        let items = self.queues.get(open_kfid).map(Vec::as_slice).unwrap_or_default();
        let start = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => decode_cursor(open_kfid, c).ok_or(KfError::InvalidCursor)?.min(items.len()),
        };
        let end = start.saturating_add(limit.max(1)).min(items.len());
        let msgs =
            items[start..end].iter().filter(|i| now.since(i.at) < RETENTION).map(|i| i.msg.clone()).collect();
        Ok(Page { msgs, next_cursor: encode_cursor(open_kfid, end), has_more: end < items.len() })
    }

    /// Checks the session and the 48 h / 5-message window, counting the send if allowed.
    pub fn try_send(&mut self, open_kfid: &str, user: &str, now: Timestamp) -> Result<(), KfError> {
        let s = self.sessions.get_mut(&key(open_kfid, user)).ok_or(KfError::SessionInvalid)?;
        if !service_state::api_may_send(s.state) {
            return Err(KfError::SessionInvalid);
        }
        s.window.try_send(now).map_err(|e| match e {
            WindowError::Closed => KfError::SessionInvalid,
            WindowError::Exhausted => KfError::Exhausted,
        })
    }

    /// Moves a session along the transition table; returns the msg_code ("" if none applies).
    pub fn transition(
        &mut self,
        open_kfid: &str,
        user: &str,
        to: u8,
        servicer: &str,
        now: Timestamp,
    ) -> Result<String, KfError> {
        let from = self.session(open_kfid, user).map_or(ENDED, |s| s.state);
        if !service_state::allowed(from, to) {
            return Err(KfError::InvalidTransition);
        }
        if to == HUMAN && servicer.is_empty() {
            return Err(KfError::ServicerRequired);
        }
        if let Some(s) = self.sessions.get_mut(&key(open_kfid, user)) {
            s.state = to;
            s.servicer = if to == HUMAN { servicer.to_owned() } else { String::new() };
        }
        let kind = match to {
            QUEUED if from != QUEUED => Some(CodeKind::Queued),
            HUMAN if from != HUMAN => Some(CodeKind::Taken),
            ENDED => Some(CodeKind::Ended),
            _ => None,
        };
        Ok(kind.map(|k| self.issue_code(open_kfid, user, k, now)).unwrap_or_default())
    }

    fn issue_code(&mut self, open_kfid: &str, user: &str, kind: CodeKind, now: Timestamp) -> String {
        let code = random_alnum(43);
        let entry =
            Code { open_kfid: open_kfid.to_owned(), user: user.to_owned(), kind, issued: now, used: false };
        self.codes.insert(code.clone(), entry);
        code
    }

    /// Spends an event-response code; returns (open_kfid, external_userid) it was issued for.
    pub fn use_code(
        &mut self,
        code: &str,
        msgtype: &str,
        now: Timestamp,
    ) -> Result<(String, String), KfError> {
        let c = self.codes.get_mut(code).ok_or(KfError::InvalidCode)?;
        if c.used || now.since(c.issued) > c.kind.validity() {
            return Err(KfError::InvalidCode);
        }
        if !c.kind.allows(msgtype) {
            return Err(KfError::CodeForbidsType);
        }
        c.used = true;
        Ok((c.open_kfid.clone(), c.user.clone()))
    }
}

fn cursor_prefix(open_kfid: &str) -> String {
    sha256_hex(open_kfid.as_bytes()).chars().take(8).collect()
}

fn encode_cursor(open_kfid: &str, pos: usize) -> String {
    format!("{}{pos:x}", cursor_prefix(open_kfid))
}

fn decode_cursor(open_kfid: &str, cursor: &str) -> Option<usize> {
    let rest = cursor.strip_prefix(&cursor_prefix(open_kfid))?;
    usize::from_str_radix(rest, 16).ok()
}

#[cfg(test)]
#[path = "kf_book_tests.rs"]
mod tests;
