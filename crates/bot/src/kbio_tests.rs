//! Round trips through every format, and bad rows reported by number.

use super::*;

fn sample() -> Vec<FaqEntry> {
    let mut channel_answers = BTreeMap::new();
    channel_answers.insert(ChannelKind::Dingtalk, "钉钉版答案".to_owned());
    vec![
        FaqEntry {
            id: "A1".into(),
            question: "怎么退货？😀".into(),
            similar: vec!["不想要了".into(), "能退吗, \"急\"".into()],
            answer: "7天无理由，<b>不是</b>标签\n第二行".into(),
            group: Some("售后组".into()),
            enabled: true,
            channel_answers,
        },
        FaqEntry {
            id: "A2".into(),
            question: "发票".into(),
            similar: vec![],
            answer: "订单详情申请".into(),
            group: None,
            enabled: false,
            channel_answers: BTreeMap::new(),
        },
    ]
}

#[test]
fn every_format_round_trips_exactly() {
    for f in [Format::Csv, Format::Xlsx, Format::Jsonl] {
        let bytes = export(f, &sample()).unwrap();
        let back = parse(f, &bytes);
        assert!(back.errors.is_empty(), "{f:?}: {:?}", back.errors);
        assert_eq!(back.entries, sample(), "{f:?}");
    }
}

#[test]
fn bad_rows_are_reported_by_number_and_good_rows_kept() {
    let csv = "id,question,similar,answer,group,enabled\n\
               A1,怎么退货,,7天无理由,售后组,true\n\
               A2,,,没有问题的行,,\n\
               A3,有问题,,,,\n\
               A1,重复的,,答案,,\n\
               A4,启用写错,,答案,,maybe\n\
               A5,好的行,不想要了|能退吗,答案,,否\n";
    let p = parse(Format::Csv, csv.as_bytes());
    let ids: Vec<_> = p.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["A1", "A5"]);
    assert_eq!(p.entries[1].similar, vec!["不想要了", "能退吗"]);
    assert!(!p.entries[1].enabled);
    let rows: Vec<_> = p.errors.iter().map(|e| (e.row, e.message.as_str())).collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0], (3, "question is empty"));
    assert_eq!(rows[1], (4, "answer is empty"));
    assert!(rows[2].0 == 5 && rows[2].1.contains("duplicate"));
    assert!(rows[3].0 == 6 && rows[3].1.contains("enabled"));
}

#[test]
fn broken_files_are_errors_not_empty_imports() {
    assert!(!parse(Format::Xlsx, b"not a zip").errors.is_empty());
    assert!(!parse(Format::Csv, "foo,bar\n1,2\n".as_bytes()).errors.is_empty());
    let j = parse(Format::Jsonl, b"{\"id\":\"x\",\"question\":\"q\",\"answer\":\"a\"}\n{broken\n");
    assert_eq!((j.entries.len(), j.errors.len(), j.errors[0].row), (1, 1, 2));
    assert!(!parse(Format::Jsonl, &[0xff, 0xfe]).errors.is_empty());
}
