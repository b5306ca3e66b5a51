//! What a password must be: 8–256 characters, not one of the passwords every attacker tries
//! first (the usual English and Chinese lists: 123456, woaini1314, qq123456…), not a run of
//! one character or of consecutive digits or letters, and not the username.

/// The most common leaked passwords of 8 characters or more (the shorter ones fail the length
/// rule anyway), from the usual public top lists, English and Chinese.
const COMMON: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "87654321",
    "987654321",
    "11111111",
    "00000000",
    "88888888",
    "66666666",
    "12341234",
    "11223344",
    "12121212",
    "12344321",
    "13141314",
    "5201314520",
    "52013145",
    "woaini1314",
    "woaini520",
    "iloveyou",
    "iloveyou1",
    "password",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwertyui",
    "qwerty123",
    "qwertyuiop",
    "1qaz2wsx",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "q1w2e3r4",
    "zaq12wsx",
    "asdfghjk",
    "asdf1234",
    "zxcvbnm1",
    "zxcvbnm123",
    "abc12345",
    "abcd1234",
    "a1234567",
    "a12345678",
    "a123456789",
    "aa123456",
    "aa12345678",
    "qq123456",
    "qq1234567",
    "admin123",
    "admin1234",
    "administrator",
    "root1234",
    "welcome1",
    "welcome123",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "dragon123",
    "monkey123",
    "letmein1",
    "trustno1",
    "whatever",
    "computer",
    "internet",
    "changeme",
    "default1",
    "kefu1234",
    "kefu123456",
    "test1234",
    "test123456",
    "guest123",
    "master123",
    "wangyang",
    "zhang123",
    "li123456",
    "wang1234",
    "huang123",
    "liu123456",
    "chen1234",
    "yang1234",
    "zhao1234",
    "woaini123",
    "aini1314",
    "1314520520",
    "147258369",
    "159357456",
    "123123123",
    "321321321",
    "456456456",
    "789456123",
    "147852369",
    "741852963",
    "qazwsxedc",
    "a1b2c3d4",
    "abc123456",
    "111222333",
    "112233445566",
];

/// Why `password` is refused for `username`, or `None` if it is good enough.
pub fn problem(password: &str, username: Option<&str>) -> Option<String> {
    let n = password.chars().count();
    // Counted in characters, as the form and the API document say (a Chinese passphrase of 256
    // characters is at most 1 KiB, which argon2 takes in its stride).
    if !(crate::agents::MIN_PASSWORD..=256).contains(&n) {
        return Some(format!("the password must be {}-256 characters", crate::agents::MIN_PASSWORD));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Some("this password is one of the most common ones; choose another".into());
    }
    if username.is_some_and(|u| u.eq_ignore_ascii_case(password)) {
        return Some("the password must not be the username".into());
    }
    if is_run(&lower) {
        return Some("the password must not be one character repeated or a simple sequence".into());
    }
    None
}

/// One character repeated, or consecutive characters up or down (12345678, abcdefgh, 87654321).
fn is_run(s: &str) -> bool {
    let c: Vec<u32> = s.chars().map(u32::from).collect();
    let steps: Vec<i64> = c.windows(2).map(|w| i64::from(w[1]) - i64::from(w[0])).collect();
    steps.windows(2).all(|w| w[0] == w[1]) && steps.first().is_some_and(|d| d.abs() <= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_short_repeated_sequential_and_username_passwords_are_refused() {
        for bad in ["short", "12345678", "Password1", "WOAINI1314", "aaaaaaaa", "abcdefgh", "98765432"] {
            assert!(problem(bad, None).is_some(), "{bad}");
        }
        assert!(problem("xiaozhao", Some("xiaozhao")).is_some());
        for good in ["pass-word-1", "售后服务很重要2026", "correct horse battery", "agent-pass-1"] {
            assert_eq!(problem(good, Some("xiaozhao")), None, "{good}");
        }
    }
}
