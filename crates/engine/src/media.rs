//! Customers' media from platforms, copied into kefu's own media store before anyone sees it:
//! agents' browsers only ever load same-origin images (a customer-supplied URL would tell the
//! customer's server every agent's address), and a platform's short-lived links stop mattering.

use std::time::Duration;

use kefu_domain::{Content, Message, MessageId};
use kefu_store::NewMedia;

use crate::engine::{Engine, EngineError, Result};

/// Largest file fetched from a platform (WeChat images are at most 10 MB).
pub const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;

pub fn media_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// The remote URL of an image still pointing at the platform, if any.
fn remote_image(m: &Message) -> Option<&str> {
    match &m.content {
        Content::Image { url: Some(u), .. } if u.starts_with("http://") || u.starts_with("https://") => {
            Some(u)
        }
        _ => None,
    }
}

async fn fetch(http: &reqwest::Client, url: &str) -> std::result::Result<(String, Vec<u8>), String> {
    let mut res = http.get(url).send().await.map_err(|e| e.without_url().to_string())?;
    if !res.status().is_success() {
        return Err(format!("HTTP {}", res.status()));
    }
    let mut data = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.without_url().to_string())? {
        if data.len() + chunk.len() > MAX_MEDIA_BYTES {
            return Err("larger than 10 MB".into());
        }
        data.extend_from_slice(&chunk);
    }
    let mime = sniff_image(&data).ok_or("not an image")?;
    Ok((mime.to_owned(), data))
}

/// The image type from the file's own bytes; a declared Content-Type is not trusted.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    match data {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

impl Engine {
    /// Copies a message's platform image into the media store (once) and points the message
    /// at the copy; returns the message as it is now. Only hosts the channel's platform serves
    /// media from are fetched.
    pub async fn localize_media(&self, id: MessageId) -> Result<Message> {
        let message = self.store.message(id).await?;
        let Some(url) = remote_image(&message) else { return Ok(message) };
        let channel = self.store.channel(message.channel_id).await?;
        if !kefu_channels::wechat::media_url_allowed(&channel, url) {
            return Err(EngineError::Refused("this image is not on the platform's media servers".into()));
        }
        let (mime, data) = fetch(&self.media_http, url)
            .await
            .map_err(|e| EngineError::Refused(format!("image unavailable: {e}")))?;
        let ext = mime.trim_start_matches("image/");
        let new = NewMedia { mime: mime.clone(), filename: format!("image.{ext}"), data };
        let info = self.store.put_media(new, self.clock.now()).await?;
        let media_id = match &message.content {
            Content::Image { media_id, .. } => media_id.clone(),
            _ => None,
        };
        let content = Content::Image { url: Some(info.url()), media_id };
        let updated = self.store.set_message_content(id, &content).await?;
        self.announce_message(updated.clone()).await;
        Ok(updated)
    }
}
