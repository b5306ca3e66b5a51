//! Reads the sandbox platform's record of what it received, so the connectivity test can prove
//! that text, emoji and images arrived byte for byte on the other side.

use kefu_domain::Channel;
use serde_json::Value;

/// Whether `url` points into the sandbox of a sandbox channel (one with `sandbox_url` set):
/// the only channels whose platform lives on a local address.
pub fn within(ch: &Channel, url: &str) -> bool {
    ch.setting("sandbox_url").filter(|s| !s.is_empty()).is_some_and(|base| {
        url.strip_prefix(base.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/'))
    })
}

/// One delivery the sandbox recorded for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub msgtype: String,
    pub text: Option<String>,
    pub media_sha256: Option<String>,
}

fn text_of(content: &Value) -> Option<String> {
    [&content["content"], &content["text"]["content"], &content["Content"]]
        .into_iter()
        .find_map(|v| v.as_str())
        .map(str::to_owned)
}

pub fn parse(items: &Value) -> Vec<Received> {
    items
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| Received {
                    msgtype: r["msgtype"].as_str().unwrap_or_default().to_owned(),
                    text: text_of(&r["content"]),
                    media_sha256: r["media"]["sha256"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Everything the sandbox at `base` delivered to `user`, oldest first.
pub async fn received(base: &str, user: &str) -> Result<Vec<Received>, String> {
    let url = format!("{}/sim/api/inbox/{user}", base.trim_end_matches('/'));
    let res = reqwest::get(url).await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("sandbox answered HTTP {}", res.status()));
    }
    let v: Value = res.json().await.map_err(|e| e.to_string())?;
    Ok(parse(&v))
}

/// A channel of `kind` with these settings, for unit tests of URL rules.
#[cfg(test)]
pub(crate) fn test_channel(kind: kefu_domain::ChannelKind, settings: Value) -> Channel {
    Channel {
        id: kefu_domain::ChannelId(1),
        kind,
        key: "test".into(),
        name: "test".into(),
        enabled: true,
        settings,
        secrets: serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_media_digests_are_read_from_any_delivery_shape() {
        let v = serde_json::json!([
            {"msgtype":"text","content":{"content":"你好😀"}},
            {"msgtype":"image","content":{"media_id":"m1"},"media":{"sha256":"ab","size":3}},
            {"msgtype":"text","content":{"Content":"passive"}}
        ]);
        let r = parse(&v);
        assert_eq!(r[0].text.as_deref(), Some("你好😀"));
        assert_eq!(r[1].media_sha256.as_deref(), Some("ab"));
        assert_eq!(r[2].text.as_deref(), Some("passive"));
    }
}
