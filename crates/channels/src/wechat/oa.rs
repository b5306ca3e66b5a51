//! WeChat Official Account (公众号) callbacks: URL verification, the three message modes,
//! and passive replies.

use kefu_domain::{Channel, Content, Timestamp};

use super::callback::{CallbackError, CallbackQuery};
use super::message::{XmlMessage, parse_message};
use super::xml::{XmlDoc, XmlWriter, parse};
use crate::wxcrypto::{self, MsgCrypt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 明文模式
    Plain,
    /// 兼容模式: plaintext and ciphertext side by side; only the (verified) ciphertext counts.
    Compatible,
    /// 安全模式: only ciphertext.
    Safe,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel configuration: {0}")]
pub struct ConfigError(pub String);

pub(crate) fn need<'a>(v: Option<&'a str>, what: &str) -> Result<&'a str, ConfigError> {
    v.filter(|s| !s.is_empty()).ok_or_else(|| ConfigError(format!("{what} is not set")))
}

/// The callback side of one Official Account.
#[derive(Debug, Clone)]
pub struct OaCallback {
    token: String,
    mode: Mode,
    crypt: Option<MsgCrypt>,
}

/// A verified, decrypted callback.
#[derive(Debug)]
pub struct Opened {
    pub doc: XmlDoc,
    /// Whether it arrived encrypted; then any passive reply must be encrypted too.
    pub encrypted: bool,
}

impl OaCallback {
    pub fn new(token: &str, mode: Mode, aes_key: Option<&str>, app_id: &str) -> Result<Self, ConfigError> {
        let crypt = match (mode, aes_key) {
            (Mode::Plain, _) => None,
            (_, Some(k)) => Some(MsgCrypt::new(k, app_id).map_err(|e| ConfigError(e.to_string()))?),
            (_, None) => return Err(ConfigError("safe and compatible modes need an EncodingAESKey".into())),
        };
        Ok(OaCallback { token: token.to_owned(), mode, crypt })
    }

    /// Reads `settings.app_id`, `settings.mode` and the secrets `token` and `encoding_aes_key`.
    pub fn from_channel(ch: &Channel) -> Result<Self, ConfigError> {
        let mode = match ch.setting("mode").unwrap_or("safe") {
            "plain" => Mode::Plain,
            "compatible" => Mode::Compatible,
            "safe" => Mode::Safe,
            other => return Err(ConfigError(format!("unknown mode {other:?}"))),
        };
        let app_id = need(ch.setting("app_id"), "app_id")?;
        OaCallback::new(need(ch.secret("token"), "token")?, mode, ch.secret("encoding_aes_key"), app_id)
    }

    fn check_plain_signature(&self, q: &CallbackQuery, now: Timestamp) -> Result<(), CallbackError> {
        let ts = q.fresh_timestamp(now)?;
        let nonce = q.need(&q.nonce, "nonce")?;
        let sig = q.need(&q.signature, "signature")?;
        if wxcrypto::verify(&[&self.token, ts, nonce], sig) {
            Ok(())
        } else {
            Err(CallbackError::BadSignature)
        }
    }

    /// The GET handshake: returns `echostr`, to be echoed back unchanged.
    pub fn verify_url(&self, q: &CallbackQuery, now: Timestamp) -> Result<String, CallbackError> {
        self.check_plain_signature(q, now)?;
        Ok(q.need(&q.echostr, "echostr")?.to_owned())
    }

    /// Verifies (and in safe/compatible mode decrypts) a POSTed message.
    pub fn open(&self, q: &CallbackQuery, body: &str, now: Timestamp) -> Result<Opened, CallbackError> {
        self.check_plain_signature(q, now)?;
        if q.encrypt_type.as_deref() == Some("aes") {
            let crypt = self.crypt.as_ref().ok_or(CallbackError::PlaintextRefused)?;
            let outer = parse(body)?;
            let enc = outer.require("Encrypt")?;
            let ts = q.need(&q.timestamp, "timestamp")?;
            let nonce = q.need(&q.nonce, "nonce")?;
            let msg_sig = q.need(&q.msg_signature, "msg_signature")?;
            if !wxcrypto::verify(&[&self.token, ts, nonce, enc], msg_sig) {
                return Err(CallbackError::BadSignature);
            }
            let inner = crypt.decrypt(enc)?;
            return Ok(Opened { doc: parse(&inner)?, encrypted: true });
        }
        // WeChat always sends the ciphertext in compatible mode too. Accepting plaintext there
        // would let anyone who saw one signature/timestamp/nonce triple (they sit in every
        // proxy's access log) inject messages for the rest of the replay window.
        if self.mode != Mode::Plain {
            return Err(CallbackError::PlaintextRefused);
        }
        Ok(Opened { doc: parse(body)?, encrypted: false })
    }

    pub fn message(&self, opened: &Opened) -> Result<XmlMessage, CallbackError> {
        parse_message(&opened.doc)
    }

    /// Wraps a reply for the HTTP response: encrypted and signed if the request was.
    pub fn seal(&self, opened: &Opened, reply_xml: &str, now: Timestamp, nonce: &str) -> String {
        match (&self.crypt, opened.encrypted) {
            (Some(crypt), true) => {
                seal_envelope(crypt, &self.token, reply_xml, &now.seconds().to_string(), nonce)
            }
            _ => reply_xml.to_owned(),
        }
    }
}

/// The encrypted reply envelope (also used by WeCom).
pub fn seal_envelope(crypt: &MsgCrypt, token: &str, xml: &str, timestamp: &str, nonce: &str) -> String {
    let enc = crypt.encrypt(xml);
    let sig = wxcrypto::signature(&[token, timestamp, nonce, &enc]);
    XmlWriter::new()
        .text("Encrypt", &enc)
        .text("MsgSignature", &sig)
        .number("TimeStamp", timestamp.parse().unwrap_or(0))
        .text("Nonce", nonce)
        .finish()
}

/// A passive reply to `to`, if the content is a kind a passive reply can carry.
pub fn passive_reply(to: &XmlMessage, content: &Content, now: Timestamp) -> Option<String> {
    let w = XmlWriter::new()
        .text("ToUserName", &to.from)
        .text("FromUserName", &to.to)
        .number("CreateTime", now.seconds());
    let xml = match content {
        Content::Text { text } => w.text("MsgType", "text").text("Content", text),
        Content::Menu { .. } => w.text("MsgType", "text").text("Content", &content.plain_text()?),
        Content::Image { media_id: Some(m), .. } => {
            w.text("MsgType", "image").open("Image").text("MediaId", m).close("Image")
        }
        Content::Link { title, description, url, pic_url } => w
            .text("MsgType", "news")
            .number("ArticleCount", 1)
            .open("Articles")
            .open("item")
            .text("Title", title)
            .text("Description", description.as_deref().unwrap_or(""))
            .text("PicUrl", pic_url.as_deref().unwrap_or(""))
            .text("Url", url)
            .close("item")
            .close("Articles"),
        _ => return None,
    };
    Some(xml.finish())
}

#[cfg(test)]
#[path = "oa_tests.rs"]
mod tests;
