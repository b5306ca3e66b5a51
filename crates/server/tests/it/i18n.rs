//! Every string a user can see has both languages: the dictionaries match key for key, and no
//! page or script shows Chinese that does not come from them.

use std::collections::BTreeMap;

const UI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui");

fn cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{UI}/{name}")).unwrap()
}

/// `"key": "value",` lines of one language's block of i18n.js.
fn dictionary(block: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in block.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix('"') else { continue };
        let Some((key, value)) = rest.split_once("\": ") else { continue };
        let value = value.trim_end_matches(',');
        let value: String = serde_json::from_str(value).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(out.insert(key.to_owned(), value).is_none(), "{key} twice");
    }
    out
}

pub fn dictionaries() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let src = read("i18n.js");
    let zh_at = src.find("\"zh-CN\": {").expect("zh-CN block");
    let en_at = src.find("\n  en: {").expect("en block");
    let end = src[en_at..].find("\n  },").map(|i| en_at + i).expect("end of en");
    let body = |from: usize, to: usize| dictionary(&src[from + src[from..].find('{').unwrap() + 1..to]);
    (body(zh_at, en_at), body(en_at, end))
}

#[test]
fn both_languages_have_the_same_keys_and_english_has_no_chinese_left() {
    let (zh, en) = dictionaries();
    assert!(zh.len() > 200, "{}", zh.len());
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    assert!(only_zh.is_empty() && only_en.is_empty(), "untranslated {only_zh:?}, orphans {only_en:?}");
    for (k, v) in &en {
        assert!(!v.trim().is_empty() && !v.chars().any(cjk), "en {k}: {v:?}");
        let holes = |s: &str| s.matches('{').count();
        assert_eq!(holes(v), holes(&zh[k]), "{k}: the same placeholders in both");
    }
    assert_eq!(en["tab.leave"], "Left messages", "留言 are messages left for later, not 'Messages'");
}

/// Code without its comments (`//` to the end of a line, `/* … */`), good enough for our files.
fn without_comments(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out.lines()
        .map(|l| match l.find("// ") {
            Some(i) if !l[..i].ends_with(':') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_script_but_the_dictionary_carries_chinese_text() {
    for entry in std::fs::read_dir(UI).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".js") || name == "i18n.js" {
            continue;
        }
        let code = without_comments(&read(&name));
        let found: Vec<&str> = code.lines().filter(|l| l.chars().any(cjk)).collect();
        assert!(found.is_empty(), "{name} shows Chinese without t(): {found:?}");
    }
}

#[test]
fn every_chinese_label_on_a_page_is_marked_for_translation_with_its_own_text() {
    let (zh, _) = dictionaries();
    for page in ["workbench.html", "chat.html", "demo-site.html"] {
        let html = read(page);
        let mut rest = html.as_str();
        // Each text node with Chinese: the tag that opens right before it names its key.
        while let Some(close) = rest.find('>') {
            let (tag, after) = (&rest[..close], &rest[close + 1..]);
            let text = &after[..after.find('<').unwrap_or(after.len())];
            if text.chars().any(cjk) {
                let key = attr(tag, "data-i18n").unwrap_or_else(|| panic!("{page}: {text:?} in {tag}>"));
                let text = text.trim().replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
                assert_eq!(zh.get(key), Some(&text), "{page}: {key}");
            }
            for (a, marker) in
                [("placeholder", "data-i18n-placeholder"), ("aria-label", "data-i18n-aria-label")]
            {
                if attr(tag, a).is_some_and(|v| v.chars().any(cjk)) {
                    assert!(attr(tag, marker).is_some(), "{page}: {a} of {tag}> untranslated");
                }
            }
            rest = after;
        }
    }
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let at = tag.find(&pat)? + pat.len();
    tag[at..].split('"').next()
}
