//! WeCom (企业微信) callbacks, for self-built apps and for 微信客服: URL verification with an
//! encrypted echostr, and encrypted message/event XML (receive id = CorpID).

use kefu_domain::{Channel, Timestamp};

use super::callback::{CallbackError, CallbackQuery};
use super::message::{XmlMessage, parse_message};
use super::oa::{ConfigError, need};
use super::xml::{XmlDoc, parse};
use crate::wxcrypto::{self, MsgCrypt};

#[derive(Debug, Clone)]
pub struct WecomCallback {
    token: String,
    crypt: MsgCrypt,
}

/// What a WeCom callback carried.
#[derive(Debug, Clone, PartialEq)]
pub enum WecomPush {
    /// A member wrote to the self-built app.
    Message(XmlMessage),
    /// 微信客服 has new messages for `open_kfid`; pull them with sync_msg and `token`.
    KfNotify { open_kfid: String, token: String },
}

impl WecomCallback {
    pub fn new(token: &str, aes_key: &str, corp_id: &str) -> Result<Self, ConfigError> {
        let crypt = MsgCrypt::new(aes_key, corp_id).map_err(|e| ConfigError(e.to_string()))?;
        Ok(WecomCallback { token: token.to_owned(), crypt })
    }

    pub fn from_channel(ch: &Channel) -> Result<Self, ConfigError> {
        WecomCallback::new(
            need(ch.secret("token"), "token")?,
            need(ch.secret("encoding_aes_key"), "encoding_aes_key")?,
            need(ch.setting("corp_id"), "corp_id")?,
        )
    }

    fn verified<'a>(
        &self,
        q: &CallbackQuery,
        encrypted: &'a str,
        now: Timestamp,
    ) -> Result<&'a str, CallbackError> {
        let ts = q.fresh_timestamp(now)?;
        let nonce = q.need(&q.nonce, "nonce")?;
        let sig = q.need(&q.msg_signature, "msg_signature")?;
        if wxcrypto::verify(&[&self.token, ts, nonce, encrypted], sig) {
            Ok(encrypted)
        } else {
            Err(CallbackError::BadSignature)
        }
    }

    /// The GET handshake: returns the decrypted echostr, to be sent back as the whole body.
    pub fn verify_url(&self, q: &CallbackQuery, now: Timestamp) -> Result<String, CallbackError> {
        // A literal '+' in the query decodes to a space; Base64 never contains spaces.
        let echostr = q.need(&q.echostr, "echostr")?.replace(' ', "+");
        self.verified(q, &echostr, now)?;
        Ok(self.crypt.decrypt(&echostr)?)
    }

    pub fn open(&self, q: &CallbackQuery, body: &str, now: Timestamp) -> Result<XmlDoc, CallbackError> {
        let outer = parse(body)?;
        let enc = self.verified(q, outer.require("Encrypt")?, now)?;
        Ok(parse(&self.crypt.decrypt(enc)?)?)
    }
}

/// Tells a 微信客服 notification from an app message.
pub fn classify(doc: &XmlDoc) -> Result<WecomPush, CallbackError> {
    if doc.get("Event") == Some("kf_msg_or_event") {
        return Ok(WecomPush::KfNotify {
            open_kfid: doc.require("OpenKfId")?.to_owned(),
            token: doc.get("Token").unwrap_or_default().to_owned(),
        });
    }
    Ok(WecomPush::Message(parse_message(doc)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(sig: &str, ts: &str, nonce: &str, echostr: Option<&str>) -> CallbackQuery {
        CallbackQuery {
            msg_signature: Some(sig.into()),
            timestamp: Some(ts.into()),
            nonce: Some(nonce.into()),
            echostr: echostr.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn the_official_sample_verifies_its_url_and_decrypts_its_message() {
        let cb =
            WecomCallback::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
                .unwrap();
        // The query decoder turned the '+' characters into spaces; they must be restored.
        let echostr =
            "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp 4RPcs8TgAE7OaBO FZXvnaqQ==";
        let query = q("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", Some(echostr));
        assert_eq!(
            cb.verify_url(&query, Timestamp::from_seconds(1409659589)).unwrap(),
            "1616140317555161061"
        );
        let body = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";
        let query = q("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", None);
        let doc = cb.open(&query, body, Timestamp::from_seconds(1409659813)).unwrap();
        match classify(&doc).unwrap() {
            WecomPush::Message(m) => {
                assert_eq!((m.from.as_str(), m.dedupe_key.as_str()), ("mycreate", "4561255354251345929"));
                assert_eq!(m.content, kefu_domain::Content::text("hello"));
            }
            other => panic!("{other:?}"),
        }
        let tampered = q("477715d11cdb4164915debcba66cb864d751f3e7", "1409659813", "1372623149", None);
        assert_eq!(
            cb.open(&tampered, body, Timestamp::from_seconds(1409659813)),
            Err(CallbackError::BadSignature)
        );
    }

    #[test]
    fn a_kf_notification_names_the_account_and_sync_token() {
        let doc = parse("<xml><ToUserName>ww1</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>ENC123</Token><OpenKfId>wk1</OpenKfId></xml>").unwrap();
        assert_eq!(
            classify(&doc).unwrap(),
            WecomPush::KfNotify { open_kfid: "wk1".into(), token: "ENC123".into() }
        );
    }
}
