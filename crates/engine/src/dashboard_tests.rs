//! Dashboard figures on a known fixture, asserted exactly.

use super::*;

#[allow(clippy::too_many_arguments)]
fn conv(
    id: i64,
    channel: i64,
    group: Option<i64>,
    agent: Option<i64>,
    queued: Option<i64>,
    assigned: Option<i64>,
    reply: Option<i64>,
    closed: Option<i64>,
) -> ConversationFacts {
    ConversationFacts {
        id,
        channel_id: channel,
        group_id: group,
        agent_id: agent,
        state: if closed.is_some() { "closed" } else { "bot" }.into(),
        closed_at: closed,
        handed_off_at: [queued, assigned].into_iter().flatten().min(),
        queued_at: queued,
        assigned_at: assigned,
        first_agent_reply_at: reply,
        ..Default::default()
    }
}

fn fixture() -> Vec<ConversationFacts> {
    let mut v = vec![
        conv(1, 1, None, None, None, None, None, Some(5_000)),
        conv(2, 1, Some(10), Some(100), Some(1_000), Some(61_000), Some(91_000), Some(661_000)),
        conv(3, 1, Some(10), Some(100), None, Some(0), Some(30_000), Some(300_000)),
        conv(4, 2, Some(20), Some(200), Some(0), Some(120_000), Some(130_000), Some(1_930_000)),
        conv(5, 2, Some(20), None, Some(0), None, None, None),
        conv(6, 2, None, None, None, None, None, None),
    ];
    v[4].left_message = true;
    (v[1].satisfaction, v[2].satisfaction, v[3].satisfaction) = (Some(5), Some(4), Some(2));
    v[1].tags = vec!["成交".into()];
    v[3].tags = vec!["成交".into(), "投诉".into()];
    v
}

fn s(count: usize, median: f64, p90: f64) -> Spread {
    Spread { count, median: Some(median), p90: Some(p90) }
}

#[test]
fn the_totals_of_the_fixture_are_exact() {
    let (_, total) = breakdown(&fixture(), Dimension::Channel);
    assert_eq!((total.key, total.volume, total.handed_off, total.leave_messages), (None, 6, 4, 1));
    assert_eq!((total.interception_rate, total.handoff_rate), (Some(2.0 / 6.0), Some(4.0 / 6.0)));
    assert_eq!(total.first_response, s(3, 90.0, 130.0));
    assert_eq!(total.handle_time, s(3, 600.0, 1810.0));
    assert_eq!(total.queue_wait, s(2, 60.0, 120.0), "a queue that went to leave-message is no wait");
    assert_eq!((total.satisfaction_avg, total.satisfaction_count), (Some(11.0 / 3.0), 3));
    assert_eq!(total.tags, BTreeMap::from([("成交".into(), 2), ("投诉".into(), 1)]));
}

#[test]
fn per_channel_rows_split_the_fixture_exactly() {
    let (rows, _) = breakdown(&fixture(), Dimension::Channel);
    let (one, two) = (&rows[0], &rows[1]);
    assert_eq!(
        (one.key, one.volume, one.handed_off, one.interception_rate),
        (Some(1), 3, 2, Some(1.0 / 3.0))
    );
    assert_eq!(
        (one.first_response, one.handle_time, one.queue_wait),
        (s(2, 30.0, 90.0), s(2, 300.0, 600.0), s(1, 60.0, 60.0))
    );
    assert_eq!((one.satisfaction_avg, one.leave_messages), (Some(4.5), 0));
    assert_eq!((two.key, two.volume, two.leave_messages, two.satisfaction_avg), (Some(2), 3, 1, Some(2.0)));
    assert_eq!((two.first_response, two.handle_time), (s(1, 130.0, 130.0), s(1, 1810.0, 1810.0)));
}

#[test]
fn per_agent_rows_put_unassigned_conversations_last() {
    let (rows, _) = breakdown(&fixture(), Dimension::Agent);
    let keys: Vec<_> = rows.iter().map(|r| (r.key, r.volume)).collect();
    assert_eq!(keys, [(Some(100), 2), (Some(200), 1), (None, 3)]);
    assert_eq!(rows[0].handle_time, s(2, 300.0, 600.0));
}

#[test]
fn an_empty_period_has_no_rates_rather_than_zero_rates() {
    let (rows, total) = breakdown(&[], Dimension::Group);
    assert!(rows.is_empty());
    assert_eq!((total.handoff_rate, total.first_response.median, total.satisfaction_avg), (None, None, None));
}
