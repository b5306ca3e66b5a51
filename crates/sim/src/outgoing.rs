//! Checks the body of a send call the way the platform would before delivering it: known
//! msgtype, a body object for it, existing media, article limits.

use crate::api::ApiError;
use crate::media::MediaStore;
use crate::model::MediaDigest;
use kefu_domain::Timestamp;
use serde_json::Value;

/// The rules of one send API.
pub struct Rules<'a> {
    pub types: &'a [&'a str],
    /// How many news articles are allowed (OA custom messages: exactly one).
    pub max_articles: usize,
}

pub const OA_CUSTOM: Rules<'static> = Rules {
    types: &[
        "text",
        "image",
        "voice",
        "video",
        "music",
        "news",
        "mpnews",
        "msgmenu",
        "miniprogrampage",
        "wxcard",
    ],
    max_articles: 1,
};
pub const WECOM_APP: Rules<'static> = Rules {
    types: &[
        "text",
        "image",
        "voice",
        "video",
        "file",
        "textcard",
        "news",
        "mpnews",
        "markdown",
        "template_card",
    ],
    max_articles: 8,
};
pub const KF_SEND: Rules<'static> = Rules {
    types: &[
        "text",
        "image",
        "voice",
        "video",
        "file",
        "link",
        "miniprogram",
        "msgmenu",
        "location",
        "ca_link",
    ],
    max_articles: 0,
};
pub const KF_EVENT: Rules<'static> = Rules { types: &["text", "msgmenu"], max_articles: 0 };

/// A checked message: its type, its body exactly as sent, and the media it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub msgtype: String,
    pub content: Value,
    pub media: Option<MediaDigest>,
}

pub fn check(
    body: &Value,
    rules: &Rules<'_>,
    media: &MediaStore,
    now: Timestamp,
) -> Result<Checked, ApiError> {
    let msgtype = body.get("msgtype").and_then(Value::as_str).unwrap_or_default();
    if !rules.types.contains(&msgtype) {
        return Err(ApiError::code(40008));
    }
    let content =
        body.get(msgtype).filter(|c| c.is_object()).cloned().ok_or_else(|| ApiError::code(47001))?;
    match msgtype {
        "text" | "markdown" => {
            let text = content.get("content").and_then(Value::as_str).unwrap_or_default();
            if text.is_empty() {
                return Err(ApiError::new(44004, "empty content"));
            }
        }
        "news" => check_articles(&content, rules.max_articles)?,
        "msgmenu" if !content.get("list").is_some_and(Value::is_array) => return Err(ApiError::code(47001)),
        _ => {}
    }
    let media = media_of(&content, media, now)?;
    Ok(Checked { msgtype: msgtype.to_owned(), content, media })
}

fn check_articles(content: &Value, max: usize) -> Result<(), ApiError> {
    let n = content.get("articles").and_then(Value::as_array).map_or(0, Vec::len);
    if n == 0 {
        return Err(ApiError::code(47001));
    }
    if n > max {
        return Err(ApiError::code(45008));
    }
    Ok(())
}

/// Every media id a body names must exist; the first one is the message's media.
fn media_of(content: &Value, store: &MediaStore, now: Timestamp) -> Result<Option<MediaDigest>, ApiError> {
    let mut first = None;
    for key in ["media_id", "thumb_media_id"] {
        if let Some(id) = content.get(key).and_then(Value::as_str) {
            let d = store.digest(id, now).ok_or_else(|| ApiError::code(40007))?;
            first.get_or_insert(d);
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use serde_json::json;

    #[test]
    fn oa_news_must_carry_exactly_one_article() {
        let (m, now) = (MediaStore::default(), Timestamp(0));
        let two = json!({ "msgtype": "news", "news": { "articles": [{ "title": "a" }, { "title": "b" }] } });
        assert_eq!(check(&two, &OA_CUSTOM, &m, now).unwrap_err().code, 45008);
        let one = json!({ "msgtype": "news", "news": { "articles": [{ "title": "a" }] } });
        assert!(check(&one, &OA_CUSTOM, &m, now).is_ok());
    }

    #[test]
    fn unknown_media_and_types_are_refused_and_known_media_is_digested() {
        let (mut m, now) = (MediaStore::default(), Timestamp(0));
        let bad = json!({ "msgtype": "image", "image": { "media_id": "nope" } });
        assert_eq!(check(&bad, &OA_CUSTOM, &m, now).unwrap_err().code, 40007);
        assert_eq!(check(&json!({ "msgtype": "fax" }), &OA_CUSTOM, &m, now).unwrap_err().code, 40008);
        let id = m.add("image", Bytes::from_static(b"abc"), "image/png", "a.png", now);
        let ok =
            check(&json!({ "msgtype": "image", "image": { "media_id": id } }), &KF_SEND, &m, now).unwrap();
        let d = ok.media.unwrap();
        assert_eq!((d.size, d.sha256.len()), (3, 64));
    }
}
