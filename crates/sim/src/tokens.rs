//! Access tokens as the platforms hand them out: OA `token` refetches invalidate the
//! previous token at once (the trap that breaks concurrent refreshers), OA `stable_token`
//! stays put while valid, WeCom keeps one token per (corp, secret) while valid, and
//! DingTalk is simulated as strictly as the OA (a refetch invalidates the previous token).

use crate::crypto::random_alnum;
use kefu_domain::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

pub const LIFETIME: Duration = Duration::from_secs(7200);

/// Whose token it is, which decides the APIs it may call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An OA, by app_id.
    Oa(String),
    /// A WeCom self-built app, by corp_id.
    WecomApp(String),
    /// A corporation's 微信客服 secret, by corp_id.
    Kf(String),
    /// A DingTalk app, by app_key.
    Dingtalk(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Never issued, or replaced by a newer fetch.
    Unknown,
    Expired,
}

#[derive(Debug, Clone)]
struct Issued {
    owner: Owner,
    stable: bool,
    expires_at: Timestamp,
}

#[derive(Debug, Default)]
pub struct TokenBook {
    issued: HashMap<String, Issued>,
}

impl TokenBook {
    /// `cgi-bin/token`: a new token every time, and every earlier one of that app stops working.
    pub fn fetch_oa(&mut self, app_id: &str, now: Timestamp) -> String {
        let owner = Owner::Oa(app_id.to_owned());
        self.issued.retain(|_, t| t.stable || t.owner != owner);
        self.insert(owner, false, now)
    }

    /// DingTalk `oauth2/accessToken` (and legacy `gettoken`). Real DingTalk hands out the
    /// same token while it is valid; the simulator replaces it on every fetch, the harsher
    /// behaviour, so that a kefu which refetches needlessly or races itself shows up in tests.
    pub fn fetch_dingtalk(&mut self, app_key: &str, now: Timestamp) -> String {
        let owner = Owner::Dingtalk(app_key.to_owned());
        self.issued.retain(|_, t| t.owner != owner);
        self.insert(owner, false, now)
    }

    /// `cgi-bin/stable_token`: the same token while valid unless forced.
    pub fn fetch_stable(&mut self, app_id: &str, now: Timestamp, force: bool) -> (String, i64) {
        let owner = Owner::Oa(app_id.to_owned());
        if !force && let Some((tok, left)) = self.current(&owner, true, now) {
            return (tok, left);
        }
        self.issued.retain(|_, t| !t.stable || t.owner != owner);
        (self.insert(owner, true, now), LIFETIME.as_secs() as i64)
    }

    /// WeCom `gettoken`: one token per owner, reused while valid.
    pub fn fetch_wecom(&mut self, owner: Owner, now: Timestamp) -> (String, i64) {
        if let Some(found) = self.current(&owner, false, now) {
            return found;
        }
        self.issued.retain(|_, t| t.owner != owner);
        (self.insert(owner, false, now), LIFETIME.as_secs() as i64)
    }

    pub fn check(&self, token: &str, now: Timestamp) -> Result<&Owner, TokenError> {
        let t = self.issued.get(token).ok_or(TokenError::Unknown)?;
        if now >= t.expires_at { Err(TokenError::Expired) } else { Ok(&t.owner) }
    }

    /// The `expire_tokens` fault: everything issued so far answers 42001 from now on.
    pub fn expire_all(&mut self, now: Timestamp) {
        for t in self.issued.values_mut() {
            t.expires_at = t.expires_at.min(now);
        }
    }

    fn current(&self, owner: &Owner, stable: bool, now: Timestamp) -> Option<(String, i64)> {
        self.issued
            .iter()
            .find(|(_, t)| &t.owner == owner && t.stable == stable && now < t.expires_at)
            .map(|(tok, t)| (tok.clone(), (t.expires_at.millis() - now.millis()).div_euclid(1000).max(1)))
    }

    fn insert(&mut self, owner: Owner, stable: bool, now: Timestamp) -> String {
        // Real tokens are long (the docs ask for 512 bytes of storage); 128 keeps logs readable.
        let token = random_alnum(128);
        self.issued.insert(token.clone(), Issued { owner, stable, expires_at: now.plus(LIFETIME) });
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{Clock, ManualClock};

    fn clock() -> ManualClock {
        ManualClock::new(Timestamp::from_seconds(1_700_000_000))
    }

    #[test]
    fn refetching_an_oa_token_invalidates_the_previous_one_immediately() {
        let (c, mut book) = (clock(), TokenBook::default());
        let first = book.fetch_oa("wx1", c.now());
        let other_app = book.fetch_oa("wx2", c.now());
        let second = book.fetch_oa("wx1", c.now());
        assert_ne!(first, second);
        assert_eq!(book.check(&first, c.now()), Err(TokenError::Unknown));
        assert_eq!(book.check(&second, c.now()), Ok(&Owner::Oa("wx1".into())));
        assert!(book.check(&other_app, c.now()).is_ok());
    }

    #[test]
    fn tokens_expire_after_two_hours_of_the_injected_clock() {
        let (c, mut book) = (clock(), TokenBook::default());
        let t = book.fetch_oa("wx1", c.now());
        c.advance(LIFETIME - Duration::from_secs(1));
        assert!(book.check(&t, c.now()).is_ok());
        c.advance(Duration::from_secs(1));
        assert_eq!(book.check(&t, c.now()), Err(TokenError::Expired));
    }

    #[test]
    fn wecom_reuses_a_valid_token_per_secret_and_stable_tokens_survive_refetches() {
        let (c, mut book) = (clock(), TokenBook::default());
        let (app, _) = book.fetch_wecom(Owner::WecomApp("ww1".into()), c.now());
        let (kf, _) = book.fetch_wecom(Owner::Kf("ww1".into()), c.now());
        assert_ne!(app, kf);
        c.advance(Duration::from_secs(100));
        let (again, left) = book.fetch_wecom(Owner::WecomApp("ww1".into()), c.now());
        assert_eq!((again, left), (app, 7100));
        let (stable, _) = book.fetch_stable("wx1", c.now(), false);
        book.fetch_oa("wx1", c.now());
        assert!(book.check(&stable, c.now()).is_ok());
        assert_eq!(book.fetch_stable("wx1", c.now(), false).0, stable);
        assert_ne!(book.fetch_stable("wx1", c.now(), true).0, stable);
    }

    #[test]
    fn the_expire_fault_expires_everything_issued_so_far() {
        let (c, mut book) = (clock(), TokenBook::default());
        let t = book.fetch_oa("wx1", c.now());
        book.expire_all(c.now());
        assert_eq!(book.check(&t, c.now()), Err(TokenError::Expired));
        let fresh = book.fetch_oa("wx1", c.now());
        assert!(book.check(&fresh, c.now()).is_ok());
    }
}
