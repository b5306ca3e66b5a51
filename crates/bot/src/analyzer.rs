//! Turns text into weighted terms: jieba words (with synonyms, without function words),
//! character bigrams and unigrams, and pinyin syllable bigrams, so that rewordings, typos and
//! homophones (同音字) still share terms with the right entry.

use std::collections::{HashMap, HashSet};

use jieba_rs::Jieba;
use pinyin::ToPinyin;

use crate::lexicon::{STOP_WORDS, SYNONYMS};
use crate::text::{is_cjk, normalize};

/// The four kinds of term and how much a match of each counts. Words carry the meaning;
/// bigrams survive segmentation differences; single characters and pinyin catch typos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Word,
    Bigram,
    Char,
    Pinyin,
}

impl Kind {
    pub fn weight(self) -> f32 {
        match self {
            Kind::Word => 1.0,
            Kind::Bigram => 0.8,
            Kind::Char => 0.7,
            Kind::Pinyin => 0.7,
        }
    }

    fn tag(self) -> char {
        match self {
            Kind::Word => 'w',
            Kind::Bigram => 'b',
            Kind::Char => 'c',
            Kind::Pinyin => 'p',
        }
    }

    pub fn of(term: &str) -> Kind {
        match term.as_bytes().first() {
            Some(b'w') => Kind::Word,
            Some(b'b') => Kind::Bigram,
            Some(b'c') => Kind::Char,
            _ => Kind::Pinyin,
        }
    }
}

/// Term frequencies of one text; terms are tagged strings such as `w:套餐` or `p:tao_can`.
pub type Bag = HashMap<String, u32>;

pub struct Analyzer {
    jieba: Jieba,
    stop: HashSet<&'static str>,
    synonyms: HashMap<String, String>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("synonyms", &self.synonyms.len()).finish_non_exhaustive()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(&[])
    }
}

fn add(bag: &mut Bag, kind: Kind, term: &str) {
    *bag.entry(format!("{}:{term}", kind.tag())).or_insert(0) += 1;
}

impl Analyzer {
    /// `extra_synonyms` are the knowledge base's own (word, canonical word) pairs.
    pub fn new(extra_synonyms: &[(String, String)]) -> Self {
        let mut synonyms: HashMap<String, String> =
            SYNONYMS.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        let mut jieba = Jieba::new();
        for (word, canon) in extra_synonyms {
            jieba.add_word(word, None, None);
            synonyms.insert(word.clone(), canon.clone());
        }
        Analyzer { jieba, stop: STOP_WORDS.iter().copied().collect(), synonyms }
    }

    pub fn is_stop(&self, word: &str) -> bool {
        self.stop.contains(word)
    }

    pub fn analyze(&self, text: &str) -> Bag {
        let norm = normalize(text);
        let mut bag = Bag::new();
        for tok in self.jieba.cut_for_search(&norm, true) {
            let w = tok.word.trim();
            if w.is_empty() || self.stop.contains(w) {
                continue;
            }
            add(&mut bag, Kind::Word, self.synonyms.get(w).map(String::as_str).unwrap_or(w));
        }
        let chars: Vec<char> = norm.chars().filter(|c| !c.is_whitespace()).collect();
        for pair in chars.windows(2) {
            add(&mut bag, Kind::Bigram, &pair.iter().collect::<String>());
        }
        for c in &chars {
            if !self.stop.contains(c.to_string().as_str()) {
                add(&mut bag, Kind::Char, &c.to_string());
            }
        }
        let syllables: Vec<&str> =
            chars.iter().filter(|c| is_cjk(**c)).filter_map(|c| c.to_pinyin().map(|p| p.plain())).collect();
        for pair in syllables.windows(2) {
            add(&mut bag, Kind::Pinyin, &format!("{}_{}", pair[0], pair[1]));
        }
        bag
    }

    /// Jieba words of a text without function words (for clustering and previews).
    pub fn words(&self, text: &str) -> Vec<String> {
        self.jieba
            .cut(&normalize(text), true)
            .into_iter()
            .map(|t| t.word.trim().to_owned())
            .filter(|w| !w.is_empty() && !self.stop.contains(w.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophone_typos_share_pinyin_terms_with_the_right_word() {
        let a = Analyzer::default();
        let right = a.analyze("怎么充值");
        let typo = a.analyze("怎么冲值");
        assert!(right.contains_key("p:chong_zhi") && typo.contains_key("p:chong_zhi"));
        assert!(!typo.contains_key("b:充值"));
    }

    #[test]
    fn synonyms_and_stop_words_are_applied() {
        let a = Analyzer::default();
        let bag = a.analyze("套餐咋取消啊");
        assert!(bag.contains_key("w:套餐"));
        assert!(bag.contains_key("w:退订"), "{bag:?}");
        assert!(!bag.contains_key("w:啊"));
        let custom = Analyzer::new(&[("猫".into(), "光猫".into())]);
        assert!(custom.analyze("猫亮红灯").contains_key("w:光猫"));
    }
}
