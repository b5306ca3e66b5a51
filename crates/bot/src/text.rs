//! Text normalisation before matching: full/half width, case, punctuation and emoji.

use unicode_normalization::UnicodeNormalization;

pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// NFKC (full-width letters and digits become half-width), lower case, and every character
/// that is neither a letter, a digit nor CJK turned into a space: punctuation, symbols, emoji.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfkc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || is_cjk(c) {
            out.push(c);
            space = false;
        } else if !space && !out.is_empty() {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_case_punctuation_and_emoji_are_normalised() {
        assert_eq!(normalize("ＷｉＦｉ密码怎么改？"), "wifi密码怎么改");
        assert_eq!(normalize("  你好😀，请问LOS灯红了!!! "), "你好 请问los灯红了");
        assert_eq!(normalize("１２３Ａ"), "123a");
        assert_eq!(normalize("👋🙏"), "");
    }
}
