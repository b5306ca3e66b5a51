//! Stored files (images agents send, media fetched from platforms), addressed by random ids.

use async_trait::async_trait;
use kefu_domain::Timestamp;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::SqlStore;
use super::exec::{Row, q};
use crate::{MediaInfo, MediaStore, NewMedia, Result};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn info(r: &Row) -> Result<MediaInfo> {
    Ok(MediaInfo {
        id: r.text("id")?,
        mime: r.text("mime")?,
        filename: r.text("filename")?,
        sha256: r.text("sha256")?,
        size: u64::try_from(r.int("size")?).unwrap_or(0),
        created_at: Timestamp(r.int("created_at")?),
    })
}

#[async_trait]
impl MediaStore for SqlStore {
    async fn put_media(&self, new: NewMedia, now: Timestamp) -> Result<MediaInfo> {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let info = MediaInfo {
            id: hex(&id),
            mime: new.mime,
            filename: new.filename,
            sha256: hex(&Sha256::digest(&new.data)),
            size: new.data.len() as u64,
            created_at: now,
        };
        self.writer()
            .exec(q!(
                "INSERT INTO media (id, mime, filename, sha256, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &info.id,
                &info.mime,
                &info.filename,
                &info.sha256,
                i64::try_from(info.size).unwrap_or(i64::MAX),
                Some(new.data),
                now.0
            ))
            .await?;
        Ok(info)
    }

    async fn media(&self, id: &str) -> Result<(MediaInfo, Vec<u8>)> {
        let r = self
            .reader()
            .one(q!("SELECT id, mime, filename, sha256, size, data, created_at FROM media WHERE id = $1", id))
            .await?;
        Ok((info(&r)?, r.opt_blob("data")?.unwrap_or_default()))
    }
}
