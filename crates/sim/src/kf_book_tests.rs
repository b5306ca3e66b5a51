//! 微信客服 rules: sessions, the reply window, the transition table, codes and paging.

use super::*;
use kefu_domain::{Clock, ManualClock};

const KF: &str = "wk1";
const USER: &str = "wm_1";

fn clock() -> ManualClock {
    ManualClock::new(Timestamp::from_seconds(1_700_000_000))
}

fn opened(book: &mut KfBook, now: Timestamp) -> String {
    let welcome = book.enter(KF, USER, "", now);
    book.customer_message(KF, USER, "text", json!({ "content": "hi" }), now);
    welcome
}

#[test]
fn a_customer_message_allows_five_replies_within_forty_eight_hours() {
    let (c, mut book) = (clock(), KfBook::default());
    assert_eq!(book.try_send(KF, USER, c.now()), Err(KfError::SessionInvalid));
    opened(&mut book, c.now());
    for _ in 0..5 {
        assert_eq!(book.try_send(KF, USER, c.now()), Ok(()));
    }
    assert_eq!(book.try_send(KF, USER, c.now()), Err(KfError::Exhausted));
    book.customer_message(KF, USER, "text", json!({ "content": "again" }), c.now());
    assert_eq!(book.try_send(KF, USER, c.now()), Ok(()));
    c.advance(Duration::from_secs(48 * 3600));
    assert_eq!(book.try_send(KF, USER, c.now()), Err(KfError::SessionInvalid));
}

#[test]
fn a_human_or_ended_session_refuses_api_sends_and_a_new_message_reopens_at_zero() {
    let (c, mut book) = (clock(), KfBook::default());
    opened(&mut book, c.now());
    assert_eq!(book.transition(KF, USER, 3, "", c.now()), Err(KfError::ServicerRequired));
    assert!(!book.transition(KF, USER, 3, "zhangsan", c.now()).unwrap().is_empty());
    assert_eq!(book.session(KF, USER).map(|s| s.servicer.as_str()), Some("zhangsan"));
    assert_eq!(book.try_send(KF, USER, c.now()), Err(KfError::SessionInvalid));
    assert_eq!(book.transition(KF, USER, 1, "", c.now()), Err(KfError::InvalidTransition));
    assert!(!book.transition(KF, USER, 4, "", c.now()).unwrap().is_empty());
    assert_eq!(book.transition(KF, USER, 0, "", c.now()), Err(KfError::InvalidTransition));
    assert!(book.needs_new_session(KF, USER));
    opened(&mut book, c.now());
    assert_eq!(book.session(KF, USER).map(|s| s.state), Some(0));
    assert_eq!(book.try_send(KF, USER, c.now()), Ok(()));
}

#[test]
fn a_welcome_code_works_once_within_twenty_seconds_and_only_for_text_or_menus() {
    let (c, mut book) = (clock(), KfBook::default());
    let w = opened(&mut book, c.now());
    assert_eq!(book.use_code(&w, "image", c.now()), Err(KfError::CodeForbidsType));
    c.advance(Duration::from_secs(20));
    assert_eq!(book.use_code(&w, "msgmenu", c.now()), Ok((KF.to_owned(), USER.to_owned())));
    assert_eq!(book.use_code(&w, "text", c.now()), Err(KfError::InvalidCode));
    let late = opened(&mut book, c.now());
    c.advance(Duration::from_secs(21));
    assert_eq!(book.use_code(&late, "text", c.now()), Err(KfError::InvalidCode));
}

#[test]
fn queue_codes_last_two_days_but_allow_text_only() {
    let (c, mut book) = (clock(), KfBook::default());
    opened(&mut book, c.now());
    let code = book.transition(KF, USER, 2, "", c.now()).unwrap();
    assert_eq!(book.transition(KF, USER, 2, "", c.now()), Ok(String::new()));
    c.advance(Duration::from_secs(3600));
    assert_eq!(book.use_code(&code, "msgmenu", c.now()), Err(KfError::CodeForbidsType));
    assert!(book.use_code(&code, "text", c.now()).is_ok());
}

#[test]
fn sync_pages_through_the_queue_with_an_opaque_cursor() {
    let (c, mut book) = (clock(), KfBook::default());
    opened(&mut book, c.now());
    book.customer_message(KF, USER, "text", json!({ "content": "2" }), c.now());
    let first = book.sync(KF, None, 2, c.now()).unwrap();
    assert_eq!(first.msgs.len(), 2);
    assert!(first.has_more);
    assert_eq!(first.msgs[0]["event"]["event_type"], "enter_session");
    assert!(first.msgs[0].get("external_userid").is_none());
    assert_eq!(first.msgs[1]["origin"], 3);
    let second = book.sync(KF, Some(&first.next_cursor), 1000, c.now()).unwrap();
    assert_eq!((second.msgs.len(), second.has_more), (1, false));
    assert_eq!(second.msgs[0]["text"]["content"], "2");
    let empty = book.sync(KF, Some(&second.next_cursor), 1000, c.now()).unwrap();
    assert!(empty.msgs.is_empty());
    assert_eq!(book.sync("wk2", Some(&first.next_cursor), 10, c.now()), Err(KfError::InvalidCursor));
    assert_eq!(book.sync(KF, Some("garbage"), 10, c.now()), Err(KfError::InvalidCursor));
}

#[test]
fn sync_tokens_are_bound_to_their_account_and_last_ten_minutes() {
    let (c, mut book) = (clock(), KfBook::default());
    let t = book.issue_sync_token(KF, c.now());
    assert!(book.sync_token_valid(KF, &t, c.now()));
    assert!(!book.sync_token_valid("wk2", &t, c.now()));
    c.advance(Duration::from_secs(600));
    assert!(!book.sync_token_valid(KF, &t, c.now()));
}
