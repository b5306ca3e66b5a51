//! What the simulated DingTalk remembers between calls: the sessionWebhooks it handed out,
//! the download codes of users' files, the groups each robot is in, and each app's last
//! robot message (for redelivery).

use crate::crypto::random_alnum;
use kefu_domain::Timestamp;
use std::collections::{HashMap, HashSet};

/// One sessionWebhook handed out with a robot message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtSession {
    pub app_key: String,
    /// Whom a reply reaches: the staff_id in a one-to-one chat, the group's id in a group.
    pub user: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    NotFound,
    Expired,
}

/// A file a user sent, by download code; the bytes live in the media store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtFile {
    pub app_key: String,
    pub media_id: String,
}

/// The last robot message pushed for an app, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPush {
    pub body: String,
    pub msg_id: String,
    pub user: String,
}

#[derive(Debug, Default)]
pub struct DtBook {
    sessions: HashMap<String, DtSession>,
    /// The last session URL handed out with a message from this staff_id.
    last_session: HashMap<String, String>,
    files: HashMap<String, DtFile>,
    /// (app_key, openConversationId) of the groups a robot was seen in.
    groups: HashSet<(String, String)>,
    last_push: HashMap<String, LastPush>,
}

impl DtBook {
    /// Hands out a sessionWebhook for a message from `staff_id`; returns its URL.
    pub fn open_session(&mut self, base_url: &str, session: DtSession, staff_id: &str) -> String {
        let id = random_alnum(40);
        let url = format!("{base_url}/robot/sendBySession?session={id}");
        self.sessions.insert(id, session);
        self.last_session.insert(staff_id.to_owned(), url.clone());
        url
    }

    pub fn session(&self, id: &str, now: Timestamp) -> Result<&DtSession, SessionError> {
        let s = self.sessions.get(id).ok_or(SessionError::NotFound)?;
        if now >= s.expires_at { Err(SessionError::Expired) } else { Ok(s) }
    }

    pub fn last_session_url(&self, staff_id: &str) -> Option<String> {
        self.last_session.get(staff_id).cloned()
    }

    /// A new download code for media a user sent through `app_key`'s robot.
    pub fn add_file(&mut self, app_key: &str, media_id: &str) -> String {
        let code = random_alnum(48);
        self.files
            .insert(code.clone(), DtFile { app_key: app_key.to_owned(), media_id: media_id.to_owned() });
        code
    }

    pub fn file(&self, code: &str) -> Option<&DtFile> {
        self.files.get(code)
    }

    pub fn join_group(&mut self, app_key: &str, group: &str) {
        self.groups.insert((app_key.to_owned(), group.to_owned()));
    }

    pub fn in_group(&self, app_key: &str, group: &str) -> bool {
        self.groups.contains(&(app_key.to_owned(), group.to_owned()))
    }

    pub fn remember_push(&mut self, app_key: &str, push: LastPush) {
        self.last_push.insert(app_key.to_owned(), push);
    }

    pub fn last_push(&self, app_key: &str) -> Option<&LastPush> {
        self.last_push.get(app_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_session_works_until_its_expiry_and_unknown_ids_are_not_found() {
        let mut book = DtBook::default();
        let now = Timestamp::from_seconds(1_700_000_000);
        let session = DtSession {
            app_key: "a".into(),
            user: "u".into(),
            expires_at: now.plus(Duration::from_secs(60)),
        };
        let url = book.open_session("http://sim", session, "u");
        let id = url.rsplit('=').next().unwrap();
        assert!(url.starts_with("http://sim/robot/sendBySession?session="));
        assert_eq!(book.session(id, now).map(|s| s.user.as_str()), Ok("u"));
        assert_eq!(book.session(id, now.plus(Duration::from_secs(60))).err(), Some(SessionError::Expired));
        assert_eq!(book.session("nope", now).err(), Some(SessionError::NotFound));
        assert_eq!(book.last_session_url("u"), Some(url));
    }

    #[test]
    fn download_codes_and_groups_belong_to_one_app() {
        let mut book = DtBook::default();
        let code = book.add_file("a", "m1");
        assert_eq!(book.file(&code).map(|f| (f.app_key.as_str(), f.media_id.as_str())), Some(("a", "m1")));
        book.join_group("a", "cid1");
        assert!(book.in_group("a", "cid1") && !book.in_group("b", "cid1"));
    }
}
