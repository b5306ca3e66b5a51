//! Reading kefu's answer to a push the way the platform does: `success` or nothing means no
//! reply; anything else must be a well-formed (and, when encryption is on, properly signed
//! and encrypted) passive reply, or the user sees an error.

use crate::crypto::{Envelope, same, signature};
use crate::deliver::Outcome;
use crate::media::MediaStore;
use crate::model::{Delivery, SimChannel, Via};
use crate::state::{Delivered, Sim};
use crate::xml::{Node, parse};
use kefu_domain::Timestamp;
use serde_json::{Value, json};

/// What the user sees in WeChat when an OA answers wrongly or too late.
pub const OA_UNAVAILABLE: &str = "该公众号暂时无法提供服务，请稍后再试";

/// What a valid reply must look like for this push.
pub struct Expect<'a> {
    pub token: &'a str,
    /// `None` in plain mode.
    pub envelope: Option<&'a Envelope>,
    pub receive_id: &'a str,
    /// The reply's ToUserName (the user) and FromUserName (gh_… or corp_id).
    pub user: &'a str,
    pub account: &'a str,
    /// Replies to user messages may carry one article only; replies to events up to eight.
    pub to_message: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub msgtype: String,
    pub content: Value,
    pub media_id: Option<String>,
}

/// Parses the body of an HTTP 200 answer; `Err` carries why the platform refused it.
pub fn read(
    expect: &Expect<'_>,
    body: &str,
    media: &MediaStore,
    now: Timestamp,
) -> Result<Option<Reply>, String> {
    let trimmed = body.trim();
    if trimmed.is_empty() || trimmed == "success" {
        return Ok(None);
    }
    let outer = parse(trimmed).map_err(|e| format!("reply is not XML: {e}"))?;
    let node = match expect.envelope {
        Some(env) => open(expect, env, &outer)?,
        None if outer.child("Encrypt").is_some() => return Err("encrypted reply in plain mode".into()),
        None => outer,
    };
    interpret(expect, &node, media, now).map(Some)
}

/// Judges a push's outcome: records a valid passive reply in the user's timeline, or marks
/// what the user said with `failure` (what they would see) when the answer was unusable.
pub fn conclude(
    sim: &Sim,
    expect: &Expect<'_>,
    channel: SimChannel,
    account: &str,
    outcome: Outcome,
    said_seq: u64,
    failure: &str,
) -> Delivery {
    let mut d = Delivery { attempts: outcome.attempts, status: outcome.status, ..Delivery::default() };
    let now = sim.now();
    let mut inner = sim.lock();
    let read = match outcome.body {
        None => Err(outcome.error.unwrap_or_else(|| "no answer".into())),
        Some(body) => read(expect, &body, &inner.media, now),
    };
    match read {
        Ok(reply) => {
            d.ok = true;
            d.passive_reply = reply.map(|r| {
                let media = r.media_id.as_deref().and_then(|id| inner.media.digest(id, now));
                let delivered = Delivered {
                    via: Via::Passive,
                    channel,
                    account,
                    user: expect.user,
                    msgtype: &r.msgtype,
                    content: r.content,
                    media,
                };
                inner.record_received(delivered, now)
            });
        }
        Err(reason) => {
            inner.mark_said_failed(expect.user, said_seq, failure);
            d.error = Some(format!("{failure} ({reason})"));
        }
    }
    d
}

fn open(expect: &Expect<'_>, env: &Envelope, outer: &Node) -> Result<Node, String> {
    let (Some(enc), Some(sig), Some(ts), Some(nonce)) =
        (outer.get("Encrypt"), outer.get("MsgSignature"), outer.get("TimeStamp"), outer.get("Nonce"))
    else {
        return Err("reply is not an encrypted envelope (Encrypt, MsgSignature, TimeStamp, Nonce)".into());
    };
    if !same(&signature(&[expect.token, ts, nonce, enc]), sig) {
        return Err("reply MsgSignature does not verify".into());
    }
    let plain = env.open(enc, expect.receive_id).map_err(|e| format!("reply does not decrypt: {e}"))?;
    parse(&plain).map_err(|e| format!("decrypted reply is not XML: {e}"))
}

fn interpret(expect: &Expect<'_>, n: &Node, media: &MediaStore, now: Timestamp) -> Result<Reply, String> {
    if n.get("ToUserName") != Some(expect.user) {
        return Err(format!("reply ToUserName must be {:?}", expect.user));
    }
    if n.get("FromUserName") != Some(expect.account) {
        return Err(format!("reply FromUserName must be {:?}", expect.account));
    }
    if n.get("CreateTime").and_then(|t| t.parse::<i64>().ok()).is_none() {
        return Err("reply CreateTime must be an integer".into());
    }
    let msgtype = n.get("MsgType").unwrap_or_default().to_owned();
    let (content, media_id) = match msgtype.as_str() {
        "text" => (json!({ "content": n.get("Content").ok_or("text reply without Content")? }), None),
        "image" | "voice" => {
            let id = media_in(n, if msgtype == "image" { "Image" } else { "Voice" }, media, now)?;
            (json!({ "media_id": id }), Some(id))
        }
        "video" => {
            let id = media_in(n, "Video", media, now)?;
            let v = n.child("Video");
            let field = |k: &str| v.and_then(|v| v.get(k)).unwrap_or_default().to_owned();
            (
                json!({ "media_id": id, "title": field("Title"), "description": field("Description") }),
                Some(id),
            )
        }
        "music" => (
            fields_of(n.child("Music"), &["Title", "Description", "MusicUrl", "HQMusicUrl", "ThumbMediaId"]),
            None,
        ),
        "news" => (news(expect, n)?, None),
        "transfer_customer_service" => (json!({}), None),
        other => return Err(format!("unknown reply MsgType {other:?}")),
    };
    Ok(Reply { msgtype, content, media_id })
}

fn media_in(n: &Node, wrapper: &str, media: &MediaStore, now: Timestamp) -> Result<String, String> {
    let id =
        n.child(wrapper).and_then(|w| w.get("MediaId")).ok_or(format!("{wrapper} reply without MediaId"))?;
    media.get(id, now).map(|_| id.to_owned()).ok_or_else(|| format!("reply MediaId {id:?} is unknown"))
}

fn fields_of(node: Option<&Node>, keys: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for k in keys {
        let v = node.and_then(|n| n.get(k)).unwrap_or_default();
        out.insert(k.to_lowercase(), Value::String(v.to_owned()));
    }
    Value::Object(out)
}

fn news(expect: &Expect<'_>, n: &Node) -> Result<Value, String> {
    let items: Vec<&Node> = n
        .child("Articles")
        .map(|a| a.children.iter().filter(|c| c.name == "item").collect())
        .unwrap_or_default();
    let declared = n.get("ArticleCount").and_then(|c| c.parse::<usize>().ok());
    if declared != Some(items.len()) || items.is_empty() {
        return Err("news reply ArticleCount does not match its items".into());
    }
    let max = if expect.to_message { 1 } else { 8 };
    if items.len() > max {
        return Err(format!("news reply may carry at most {max} article(s) here"));
    }
    let articles: Vec<Value> =
        items.into_iter().map(|i| fields_of(Some(i), &["Title", "Description", "PicUrl", "Url"])).collect();
    Ok(json!({ "articles": articles }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect<'a>(env: Option<&'a Envelope>) -> Expect<'a> {
        Expect {
            token: "tok",
            envelope: env,
            receive_id: "wx1",
            user: "o1",
            account: "gh_1",
            to_message: true,
        }
    }

    const TEXT: &str = "<xml><ToUserName><![CDATA[o1]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName>\
        <CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[好]]></Content></xml>";

    #[test]
    fn success_and_empty_mean_no_reply_and_plain_text_is_read() {
        let (m, now) = (MediaStore::default(), Timestamp(0));
        assert_eq!(read(&expect(None), " success ", &m, now), Ok(None));
        assert_eq!(read(&expect(None), "", &m, now), Ok(None));
        let r = read(&expect(None), TEXT, &m, now).unwrap().unwrap();
        assert_eq!((r.msgtype.as_str(), &r.content), ("text", &json!({ "content": "好" })));
    }

    #[test]
    fn safe_mode_refuses_plain_replies_and_bad_signatures_but_reads_good_envelopes() {
        let env = Envelope::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let (m, now) = (MediaStore::default(), Timestamp(0));
        assert!(read(&expect(Some(&env)), TEXT, &m, now).unwrap_err().contains("not an encrypted"));
        let enc = env.seal(TEXT, "wx1");
        let sig = signature(&["tok", "123", "n", &enc]);
        let good = format!(
            "<xml><Encrypt><![CDATA[{enc}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature>\
             <TimeStamp>123</TimeStamp><Nonce><![CDATA[n]]></Nonce></xml>"
        );
        assert!(read(&expect(Some(&env)), &good, &m, now).unwrap().is_some());
        let bad = good.replace("<TimeStamp>123", "<TimeStamp>124");
        assert!(read(&expect(Some(&env)), &bad, &m, now).unwrap_err().contains("MsgSignature"));
    }

    #[test]
    fn news_replies_to_messages_carry_one_article_and_unknown_media_is_refused() {
        let (m, now) = (MediaStore::default(), Timestamp(0));
        let head =
            "<xml><ToUserName>o1</ToUserName><FromUserName>gh_1</FromUserName><CreateTime>1</CreateTime>";
        let two = format!(
            "{head}<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>a</Title></item>\
             <item><Title>b</Title></item></Articles></xml>"
        );
        assert!(read(&expect(None), &two, &m, now).is_err());
        let mut ev = expect(None);
        ev.to_message = false;
        assert!(read(&ev, &two, &m, now).is_ok());
        let img = format!("{head}<MsgType>image</MsgType><Image><MediaId>nope</MediaId></Image></xml>");
        assert!(read(&expect(None), &img, &m, now).unwrap_err().contains("unknown"));
    }
}
