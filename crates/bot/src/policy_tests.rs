//! The dialogue policy on a small knowledge base.

use std::sync::Arc;

use kefu_domain::FaqEntry;

use super::*;
use crate::Analyzer;

fn entry(id: &str, q: &str, similar: &[&str], a: &str, group: &str) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        question: q.into(),
        similar: similar.iter().map(|s| s.to_string()).collect(),
        answer: a.into(),
        group: Some(group.into()),
        enabled: true,
        channel_answers: Default::default(),
    }
}

pub fn kb() -> Matcher {
    let entries = vec![
        entry(
            "R1",
            "怎么申请退货？",
            &["东西不想要了怎么退"],
            "在订单详情点“申请退货”，7天内无理由退货。",
            "售后组",
        ),
        entry("R2", "退款多久到账？", &["钱什么时候退回来"], "退款审核通过后1-3个工作日原路退回。", "财务组"),
        entry("R3", "发票怎么开？", &["要开发票"], "在订单详情申请电子发票，开具后发到邮箱。", "财务组"),
        entry("R4", "大件家电包安装吗？", &["空调安装收费吗"], "大件家电送装一体，基础安装免费。", "售前组"),
        entry("R5", "怎么修改收货地址？", &["地址填错了"], "发货前可在订单详情修改收货地址。", "物流组"),
        entry("R6", "会员积分怎么用？", &["积分能抵钱吗"], "每100积分抵1元，下单时勾选使用。", "售前组"),
    ];
    Matcher::build(Arc::new(Analyzer::default()), &entries)
}

#[test]
fn a_clear_question_is_answered_and_resets_the_misses() {
    let m = kb();
    let (d, mem) =
        decide(&m, "发票怎么开", &BotMemory { misses: 1, suggested: vec![] }, &PolicyConfig::default());
    assert!(matches!(&d, Decision::Answer(h) if h.entry_id == "R3"), "{d:?}");
    assert_eq!(mem, BotMemory::default());
}

#[test]
fn greetings_and_thanks_are_small_talk_and_not_misses() {
    let m = kb();
    let mem = BotMemory { misses: 1, suggested: vec![] };
    let (d, after) = decide(&m, "你好", &mem, &PolicyConfig::default());
    assert_eq!(d, Decision::SmallTalk(Intent::Greeting));
    assert_eq!(after.misses, 1);
    let (d, _) = decide(&m, "谢谢啦", &mem, &PolicyConfig::default());
    assert_eq!(d, Decision::SmallTalk(Intent::Thanks));
}

#[test]
fn asking_for_a_human_hands_off_with_the_group_of_the_closest_topic() {
    let m = kb();
    let (d, _) = decide(&m, "转人工，退款一直没到账", &BotMemory::default(), &PolicyConfig::default());
    match d {
        Decision::HandOff { reason, group, best } => {
            assert_eq!(reason, HandOffReason::Requested);
            assert_eq!(group.as_deref(), Some("财务组"));
            assert_eq!(best.unwrap().entry_id, "R2");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_misses_in_a_row_hand_off() {
    let m = kb();
    let cfg = PolicyConfig { threshold: 0.999, ..Default::default() };
    let (first, mem) = decide(&m, "东西坏了找谁修", &BotMemory::default(), &cfg);
    assert!(first.is_miss(), "{first:?}");
    let (second, _) = decide(&m, "我说的是保修", &mem, &cfg);
    assert!(matches!(second, Decision::HandOff { reason: HandOffReason::Misses, .. }), "{second:?}");
}

#[test]
fn a_doubtful_match_offers_suggestions_and_a_number_picks_one() {
    let m = kb();
    let cfg = PolicyConfig { threshold: 0.999, suggest_floor: 0.0, ..Default::default() };
    let (d, mem) = decide(&m, "退款", &BotMemory::default(), &cfg);
    let Decision::Suggest(hits) = d else { panic!("{d:?}") };
    assert!(hits.len() >= 2 && hits.len() <= 3);
    let second = hits[1].entry_id.clone();
    let (picked, after) = decide(&m, "2", &mem, &cfg);
    assert!(matches!(picked, Decision::Answer(h) if h.entry_id == second));
    assert_eq!(after.misses, 0);
    let clicked = m.entry(&hits[0].entry_id).unwrap().question.clone();
    let (by_text, _) = decide(&m, &clicked, &mem, &cfg);
    assert!(
        matches!(by_text, Decision::Answer(h) if h.entry_id == hits[0].entry_id),
        "a clicked suggestion is answered"
    );
}
