//! WeChat-family platforms: Official Account (公众号), WeCom self-built apps and 微信客服.

pub mod api;
pub mod callback;
pub mod kf;
pub mod message;
pub mod oa;
pub mod outbound;
pub mod wecom;
pub mod xml;

/// Hosts WeChat serves customers' media from (the `PicUrl` of an image message).
const MEDIA_HOST_SUFFIXES: [&str; 3] = [".qpic.cn", ".qlogo.cn", ".weixin.qq.com"];

/// Whether kefu may fetch a media URL found in a platform message of this channel: WeChat's
/// own media hosts, or the sandbox for a sandbox channel. Anything else stays a link nobody
/// follows (a customer-chosen URL would otherwise make kefu, or every agent's browser, call it).
pub fn media_url_allowed(ch: &kefu_domain::Channel, url: &str) -> bool {
    if crate::sandbox::within(ch, url) {
        return true;
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(host) = rest.and_then(|r| r.split(['/', '?', '#']).next()) else { return false };
    !host.contains(['@', ':']) && MEDIA_HOST_SUFFIXES.iter().any(|s| host.ends_with(s))
}

#[cfg(test)]
mod tests {
    use kefu_domain::*;

    fn ch(settings: serde_json::Value) -> Channel {
        crate::sandbox::test_channel(ChannelKind::WechatOa, settings)
    }

    #[test]
    fn only_wechats_media_hosts_or_the_sandbox_are_fetched() {
        let real = ch(serde_json::json!({}));
        assert!(super::media_url_allowed(&real, "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0"));
        for bad in [
            "http://127.0.0.1/x.jpg",
            "http://qpic.cn.evil.example/x",
            "http://a.qpic.cn@10.0.0.1/x",
            "ftp://mmbiz.qpic.cn/x",
        ] {
            assert!(!super::media_url_allowed(&real, bad), "{bad}");
        }
        let sandbox = ch(serde_json::json!({"sandbox_url": "http://127.0.0.1:4000"}));
        assert!(super::media_url_allowed(&sandbox, "http://127.0.0.1:4000/sim/media/7"));
    }
}
