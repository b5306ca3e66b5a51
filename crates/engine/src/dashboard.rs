//! The management dashboard's figures (管理看板), computed from per-conversation facts so that
//! every number can be traced back to conversations. Definitions, all over conversations
//! created in the period:
//!
//! - volume: how many; hand-off rate: the share that left the bot (queued, assigned or
//!   leave-message); bot interception rate: the share that never did;
//! - first response: from the hand-off to the first human reply;
//! - handle time: from the first assignment to closing; queue wait: from entering the queue
//!   to the first assignment;
//! - leave-messages: how many went to 留言; satisfaction: mean and count of 1–5 ratings;
//! - conversion tags: how many conversations carry each outcome tag.
//!
//! Durations are in seconds; percentiles use the nearest-rank method.

use std::collections::BTreeMap;

use kefu_store::ConversationFacts;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Channel,
    Group,
    Agent,
}

/// Median and 90th percentile of a set of durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The channel, group or agent id; `None` for "none" (e.g. never assigned) or the total.
    pub key: Option<i64>,
    pub volume: usize,
    pub handed_off: usize,
    pub interception_rate: Option<f64>,
    pub handoff_rate: Option<f64>,
    pub first_response: Spread,
    pub handle_time: Spread,
    pub queue_wait: Spread,
    pub leave_messages: usize,
    pub satisfaction_avg: Option<f64>,
    pub satisfaction_count: usize,
    pub tags: BTreeMap<String, usize>,
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank - 1])
}

fn spread(mut secs: Vec<f64>) -> Spread {
    secs.sort_by(f64::total_cmp);
    Spread { count: secs.len(), median: percentile(&secs, 50.0), p90: percentile(&secs, 90.0) }
}

fn gap(from: Option<i64>, to: Option<i64>) -> Option<f64> {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / 1000.0),
        _ => None,
    }
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The figures of one set of conversations.
pub fn figures(key: Option<i64>, facts: &[&ConversationFacts]) -> Figures {
    let volume = facts.len();
    let handed_off = facts.iter().filter(|f| f.handed_off_at.is_some()).count();
    let ratings: Vec<i64> = facts.iter().filter_map(|f| f.satisfaction).collect();
    let mut tags = BTreeMap::new();
    for t in facts.iter().flat_map(|f| &f.tags) {
        *tags.entry(t.clone()).or_insert(0) += 1;
    }
    Figures {
        key,
        volume,
        handed_off,
        interception_rate: ratio(volume - handed_off, volume),
        handoff_rate: ratio(handed_off, volume),
        first_response: spread(
            facts.iter().filter_map(|f| gap(f.handed_off_at, f.first_agent_reply_at)).collect(),
        ),
        handle_time: spread(facts.iter().filter_map(|f| gap(f.assigned_at, f.closed_at)).collect()),
        queue_wait: spread(facts.iter().filter_map(|f| gap(f.queued_at, f.assigned_at)).collect()),
        leave_messages: facts.iter().filter(|f| f.left_message).count(),
        satisfaction_avg: (!ratings.is_empty())
            .then(|| ratings.iter().sum::<i64>() as f64 / ratings.len() as f64),
        satisfaction_count: ratings.len(),
        tags,
    }
}

/// One row per channel, group or agent (ordered by id, "none" last), plus the total.
pub fn breakdown(facts: &[ConversationFacts], by: Dimension) -> (Vec<Figures>, Figures) {
    let mut groups: BTreeMap<(bool, i64), Vec<&ConversationFacts>> = BTreeMap::new();
    for f in facts {
        let key = match by {
            Dimension::Channel => Some(f.channel_id),
            Dimension::Group => f.group_id,
            Dimension::Agent => f.agent_id,
        };
        groups.entry((key.is_none(), key.unwrap_or(0))).or_default().push(f);
    }
    let rows = groups.into_iter().map(|((none, id), fs)| figures((!none).then_some(id), &fs)).collect();
    (rows, figures(None, &facts.iter().collect::<Vec<_>>()))
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
