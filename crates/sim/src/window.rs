//! The rules that limit what kefu may send: the 48-hour / 5-message reply window (OA custom
//! messages and 微信客服 send_msg) and the 微信客服 service_state transition table.

use kefu_domain::Timestamp;
use std::time::Duration;

pub const WINDOW: Duration = Duration::from_secs(48 * 3600);
pub const QUOTA: u32 = 5;

/// Per (account, user): when the user last wrote and how much kefu has sent since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyWindow {
    last_inbound: Option<Timestamp>,
    sent: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// Never wrote, or wrote more than 48 h ago.
    Closed,
    /// Five messages already sent since the user last wrote.
    Exhausted,
}

impl ReplyWindow {
    /// A message from the user opens a fresh window with a fresh quota.
    pub fn user_wrote(&mut self, now: Timestamp) {
        self.last_inbound = Some(now);
        self.sent = 0;
    }

    pub fn check(&self, now: Timestamp) -> Result<(), WindowError> {
        match self.last_inbound {
            Some(t) if now.since(t) < WINDOW => {}
            _ => return Err(WindowError::Closed),
        }
        if self.sent >= QUOTA { Err(WindowError::Exhausted) } else { Ok(()) }
    }

    pub fn record_send(&mut self) {
        self.sent += 1;
    }

    /// Checks and, if allowed, counts one send.
    pub fn try_send(&mut self, now: Timestamp) -> Result<(), WindowError> {
        self.check(now)?;
        self.record_send();
        Ok(())
    }
}

/// 微信客服 service_state values (README §2.4).
pub mod service_state {
    pub const NEW: u8 = 0;
    pub const BOT: u8 = 1;
    pub const QUEUED: u8 = 2;
    pub const HUMAN: u8 = 3;
    pub const ENDED: u8 = 4;

    /// 0→1,2,3,4; 1→1,2,3,4; 2→2,3,4; 3→3,4; 4 is terminal (only the customer reopens it).
    pub fn allowed(from: u8, to: u8) -> bool {
        match from {
            NEW | BOT => matches!(to, BOT | QUEUED | HUMAN | ENDED),
            QUEUED => matches!(to, QUEUED | HUMAN | ENDED),
            HUMAN => matches!(to, HUMAN | ENDED),
            _ => false,
        }
    }

    /// API sends are refused while a human in the WeCom client holds the session or after it ended.
    pub fn api_may_send(state: u8) -> bool {
        !matches!(state, HUMAN | ENDED)
    }
}

#[cfg(test)]
mod tests {
    use super::service_state::*;
    use super::*;
    use kefu_domain::{Clock, ManualClock};

    #[test]
    fn a_user_who_never_wrote_cannot_be_messaged() {
        let clock = ManualClock::new(Timestamp::from_seconds(1_700_000_000));
        assert_eq!(ReplyWindow::default().check(clock.now()), Err(WindowError::Closed));
    }

    #[test]
    fn the_window_closes_exactly_forty_eight_hours_after_the_last_message() {
        let clock = ManualClock::new(Timestamp::from_seconds(1_700_000_000));
        let mut w = ReplyWindow::default();
        w.user_wrote(clock.now());
        clock.advance(WINDOW - Duration::from_secs(1));
        assert_eq!(w.check(clock.now()), Ok(()));
        clock.advance(Duration::from_secs(1));
        assert_eq!(w.check(clock.now()), Err(WindowError::Closed));
        w.user_wrote(clock.now());
        assert_eq!(w.check(clock.now()), Ok(()));
    }

    #[test]
    fn five_messages_are_allowed_and_the_sixth_waits_for_the_user() {
        let clock = ManualClock::new(Timestamp::from_seconds(1_700_000_000));
        let mut w = ReplyWindow::default();
        w.user_wrote(clock.now());
        for _ in 0..QUOTA {
            assert_eq!(w.try_send(clock.now()), Ok(()));
        }
        assert_eq!(w.try_send(clock.now()), Err(WindowError::Exhausted));
        clock.advance(Duration::from_secs(60));
        w.user_wrote(clock.now());
        assert_eq!(w.try_send(clock.now()), Ok(()));
    }

    #[test]
    fn the_service_state_table_matches_the_documentation() {
        let table: [(u8, &[u8]); 5] = [
            (NEW, &[1, 2, 3, 4]),
            (BOT, &[1, 2, 3, 4]),
            (QUEUED, &[2, 3, 4]),
            (HUMAN, &[3, 4]),
            (ENDED, &[]),
        ];
        for (from, allowed_to) in table {
            for to in 0..=5u8 {
                assert_eq!(allowed(from, to), allowed_to.contains(&to), "{from} -> {to}");
            }
        }
        assert!(api_may_send(NEW) && api_may_send(BOT) && api_may_send(QUEUED));
        assert!(!api_may_send(HUMAN) && !api_may_send(ENDED));
    }
}
