//! `kefu demo --seed-history`: a realistic past week (several channels, bot answers, hand-offs,
//! queue waits, agents' replies, ratings, leave-messages) so the dashboard and reports show
//! something the moment the demo starts.
//!
//! The week is written through the store's own paths (ingest, the state machine, sent
//! messages), so every figure is derived exactly as for live traffic. Nothing reaches a
//! platform: replies are recorded as already sent, and the jobs the history writes are
//! finished before the server starts its workers.

use std::time::Duration;

use anyhow::Context;
use kefu_domain::{
    AgentId, Channel, ChannelKind, Clock, CloseReason, Content, ConversationEvent, ConversationId,
    ConversationState, Effect, FaqEntry, Profile, Role, Sender, SkillGroupId, Timestamp,
};
use kefu_store::{Batch, Inbound, IngestOutcome, JobEnd, NewOutbound, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LEASE: &str = "seed-history";

/// Who and what the history is made of.
struct Cast {
    channels: Vec<(Channel, u32)>,
    /// Agents who take conversations, per skill group.
    agents: Vec<(SkillGroupId, Vec<AgentId>)>,
    fallback_group: SkillGroupId,
    faqs: Vec<FaqEntry>,
    groups: Vec<(String, SkillGroupId)>,
}

/// One customer of the week; returning ones come back on the same channel.
#[derive(Clone)]
struct Person {
    channel: usize,
    external_id: String,
    nickname: Option<String>,
}

/// How a conversation goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Story {
    /// The bot answers and the customer is satisfied.
    Bot,
    /// The customer asks for a person, waits, is served and rates the service.
    Agent,
    /// Nobody is on duty: the customer leaves a message, answered the next morning.
    LeaveMessage,
}

/// Writes conversations over the seven days before `clock.now()`; returns how many.
pub async fn seed_week(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<usize> {
    let cast = cast(store).await?;
    let mut rng = StdRng::seed_from_u64(20_261_203);
    let now = clock.now();
    let mut people: Vec<Person> = vec![];
    let mut count = 0;
    for (start, story) in schedule(&mut rng, now) {
        let person = match people.len() > 8 && rng.random_bool(0.25) {
            true => people[rng.random_range(0..people.len())].clone(),
            false => new_person(&cast, &mut rng, people.len()),
        };
        let open = story == Story::LeaveMessage && now.since(start) < Duration::from_secs(24 * 3600);
        conversation(store, &cast, &mut rng, &person, start, story, open).await?;
        if !open {
            people.push(person);
        }
        count += 1;
    }
    finish_jobs(store, now).await?;
    Ok(count)
}

async fn cast(store: &dyn Store) -> anyhow::Result<Cast> {
    let weight = |k: ChannelKind| match k {
        ChannelKind::Webchat => 35,
        ChannelKind::WechatOa => 30,
        ChannelKind::WecomKf => 15,
        ChannelKind::Dingtalk => 12,
        _ => 8,
    };
    let channels: Vec<_> = store.channels().await?.into_iter().map(|c| (c.clone(), weight(c.kind))).collect();
    let groups: Vec<_> = store.skill_groups().await?.into_iter().map(|g| (g.name, g.id)).collect();
    let all = store.agents().await?;
    let agents = groups
        .iter()
        .map(|(_, g)| {
            let serving = all.iter().filter(|a| a.role != Role::Admin && a.capacity > 0);
            (*g, serving.filter(|a| a.skill_groups.contains(g)).map(|a| a.id).collect())
        })
        .collect();
    let faqs = store.faq_entries().await?.into_iter().filter(|f| f.enabled).collect::<Vec<_>>();
    let fallback_group = groups.first().map(|g| g.1).context("the demo has no skill groups")?;
    anyhow::ensure!(!channels.is_empty() && !faqs.is_empty(), "the demo has no channels or FAQ");
    Ok(Cast { channels, agents, fallback_group, faqs, groups })
}

/// When conversations start and how they go: more on weekdays and in office hours; at night
/// nobody is on duty, so a request for a person becomes a leave-message.
fn schedule(rng: &mut StdRng, now: Timestamp) -> Vec<(Timestamp, Story)> {
    let day = Duration::from_secs(86_400);
    let today = Timestamp::from_seconds(now.seconds() - now.seconds().rem_euclid(86_400));
    let mut out = vec![];
    for back in (0..=7u32).rev() {
        let midnight = today.minus(day * back);
        // 1970-01-01 was a Thursday: days 2 and 3 of the week counted from it are the weekend.
        let weekend = matches!((midnight.seconds() / 86_400).rem_euclid(7), 2 | 3);
        let n = if weekend { rng.random_range(12..18) } else { rng.random_range(24..34) };
        for _ in 0..n {
            // Hours in China (UTC+8): mostly 9:00–21:00, a few at night.
            let local_hour =
                if rng.random_bool(0.88) { rng.random_range(9..21) } else { rng.random_range(21..32) % 24 };
            let secs = ((local_hour + 24 - 8) % 24) * 3600 + rng.random_range(0..3600);
            let start = midnight.plus(Duration::from_secs(secs));
            if start.plus(Duration::from_secs(3600)) >= now {
                continue;
            }
            let on_duty = (9..21).contains(&local_hour);
            let story = match rng.random_range(0..100) {
                0..58 => Story::Bot,
                _ if !on_duty => Story::LeaveMessage,
                58..92 => Story::Agent,
                _ => Story::LeaveMessage,
            };
            out.push((start, story));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

fn new_person(cast: &Cast, rng: &mut StdRng, n: usize) -> Person {
    let total: u32 = cast.channels.iter().map(|c| c.1).sum();
    let mut pick = rng.random_range(0..total);
    let mut channel = 0;
    while pick >= cast.channels[channel].1 {
        pick -= cast.channels[channel].1;
        channel += 1;
    }
    let hex: String = (0..16).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect();
    const NICKS: [&str; 12] =
        ["陈晓", "李娜", "王磊", "赵敏", "刘洋", "周杰", "吴芳", "孙强", "郑丽", "冯涛", "何静", "许斌"];
    let nick = NICKS[n % NICKS.len()].to_owned();
    let (external_id, nickname) = match cast.channels[channel].0.kind {
        ChannelKind::Webchat => (format!("hist-{hex}"), None),
        ChannelKind::WechatOa => (format!("o_hist_{hex}"), None),
        ChannelKind::WecomKf => (format!("wm_hist_{hex}"), Some(nick)),
        ChannelKind::Dingtalk => (format!("dt_hist_{}", &hex[..8]), Some(nick)),
        _ => (format!("hist_{}", &hex[..8]), Some(nick)),
    };
    Person { channel, external_id, nickname }
}

/// One conversation of the week, start to end (or left open as a fresh leave-message).
async fn conversation(
    store: &dyn Store,
    cast: &Cast,
    rng: &mut StdRng,
    who: &Person,
    start: Timestamp,
    story: Story,
    open: bool,
) -> anyhow::Result<()> {
    let faq = &cast.faqs[rng.random_range(0..cast.faqs.len())];
    let asked = match faq.similar.is_empty() || rng.random_bool(0.5) {
        true => faq.question.clone(),
        false => faq.similar[rng.random_range(0..faq.similar.len())].clone(),
    };
    let conv = say(store, cast, who, &asked, start).await?;
    let mut t = start.plus(secs(rng, 1, 3));
    if story == Story::Bot {
        sent(store, conv, Sender::Bot, &faq.answer, t).await?;
        t = t.plus(secs(rng, 20, 90));
        if rng.random_bool(0.6) {
            say(store, cast, who, "好的，谢谢", t).await?;
        }
        let reason = CloseReason::Bot;
        store.apply_event(conv, ConversationEvent::Close { reason }, t.plus(secs(rng, 300, 900))).await?;
        return Ok(());
    }
    sent(store, conv, Sender::Bot, "您可以试试这样问：\n1. 怎么退款？\n2. 产品多少钱？", t).await?;
    t = t.plus(secs(rng, 10, 60));
    say(store, cast, who, "转人工", t).await?;
    let group = faq.group.as_ref().and_then(|g| cast.groups.iter().find(|x| &x.0 == g)).map(|x| x.1);
    let group = group.unwrap_or(cast.fallback_group);
    store.apply_event(conv, ConversationEvent::HandOff { group: Some(group) }, t).await?;
    if story == Story::LeaveMessage {
        let text = "现在是非工作时间，请留下您的问题和联系方式，我们上班后第一时间回复您。";
        sent(store, conv, Sender::System, text, t).await?;
        store.apply_event(conv, ConversationEvent::LeaveMessage, t).await?;
        t = t.plus(secs(rng, 30, 120));
        say(store, cast, who, &format!("{asked} 麻烦尽快回复，谢谢"), t).await?;
        if open {
            return Ok(());
        }
        t = t.plus(secs(rng, 6 * 3600, 11 * 3600));
    } else {
        t = t.plus(secs(rng, 5, 240));
    }
    served(store, cast, rng, who, conv, group, faq, t).await
}

/// An agent of the group takes the conversation, answers, closes it; most customers rate it.
#[allow(clippy::too_many_arguments)]
async fn served(
    store: &dyn Store,
    cast: &Cast,
    rng: &mut StdRng,
    who: &Person,
    conv: ConversationId,
    group: SkillGroupId,
    faq: &FaqEntry,
    mut t: Timestamp,
) -> anyhow::Result<()> {
    let staff = cast.agents.iter().find(|a| a.0 == group).map(|a| a.1.as_slice()).unwrap_or_default();
    let Some(&agent) = staff.get(rng.random_range(0..staff.len().max(1))) else {
        let reason = CloseReason::System;
        store.apply_event(conv, ConversationEvent::Close { reason }, t).await?;
        return Ok(());
    };
    store.apply_event(conv, ConversationEvent::Assign { agent }, t).await?;
    let me = Sender::Agent { id: agent };
    t = t.plus(secs(rng, 8, 150));
    sent(store, conv, me, "您好，我是人工客服，很高兴为您服务。", t).await?;
    t = t.plus(secs(rng, 20, 200));
    say(store, cast, who, "好的，麻烦帮我看一下", t).await?;
    t = t.plus(secs(rng, 30, 400));
    sent(store, conv, me, &faq.answer, t).await?;
    t = t.plus(secs(rng, 60, 600));
    store.apply_event(conv, ConversationEvent::Close { reason: CloseReason::Agent }, t).await?;
    if faq.group.as_deref() == Some("售前咨询") && rng.random_bool(0.35) {
        store.set_conversation_tags(conv, &["成交".to_owned()], t).await?;
    }
    if rng.random_bool(0.7) {
        sent(store, conv, Sender::System, "请为本次服务打分：回复 1–5（5 分最满意）", t).await?;
        let score = [5, 5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1][rng.random_range(0..12)];
        t = t.plus(secs(rng, 10, 120));
        rate(store, cast, who, conv, score, t).await?;
    }
    Ok(())
}

fn secs(rng: &mut StdRng, from: u64, to: u64) -> Duration {
    Duration::from_secs(rng.random_range(from..to))
}

fn inbound(cast: &Cast, who: &Person, text: &str, at: Timestamp) -> Inbound {
    Inbound {
        channel_id: cast.channels[who.channel].0.id,
        external_id: who.external_id.clone(),
        profile: Profile { nickname: who.nickname.clone(), union_id: None, phone: None },
        dedupe_key: None,
        content: Content::text(text),
        received_at: at,
        initial_state: ConversationState::Bot,
        initial_group: None,
        passive: false,
    }
}

/// The customer writes; the bot's turn for it is history too, so its job is finished at once.
async fn say(
    store: &dyn Store,
    cast: &Cast,
    who: &Person,
    text: &str,
    at: Timestamp,
) -> anyhow::Result<ConversationId> {
    match store.ingest(inbound(cast, who, text, at)).await? {
        IngestOutcome::Accepted(a) => Ok(a.conversation.id),
        IngestOutcome::Duplicate(m) => Ok(m.conversation_id),
    }
}

async fn rate(
    store: &dyn Store,
    cast: &Cast,
    who: &Person,
    conv: ConversationId,
    score: u8,
    at: Timestamp,
) -> anyhow::Result<()> {
    store.append_inbound(conv, inbound(cast, who, &score.to_string(), at)).await?;
    store.apply(Batch::new(vec![Effect::Rate { conversation: conv, score }], at)).await?;
    Ok(())
}

async fn sent(
    store: &dyn Store,
    conv: ConversationId,
    sender: Sender,
    text: &str,
    at: Timestamp,
) -> anyhow::Result<()> {
    let new = NewOutbound {
        conversation_id: conv,
        sender,
        content: Content::text(text),
        dedupe_key: None,
        created_at: at,
    };
    store.record_sent(new).await?;
    Ok(())
}

/// Marks the history's jobs (bot turns, closing work) done: they happened a week ago.
async fn finish_jobs(store: &dyn Store, now: Timestamp) -> anyhow::Result<()> {
    let until = now.plus(Duration::from_secs(600));
    loop {
        let jobs = store.claim_jobs(None, LEASE, now, until, 500).await?;
        if jobs.is_empty() {
            return Ok(());
        }
        for j in jobs {
            store.end_job(j.id, LEASE, JobEnd::Done, now).await?;
        }
    }
}
