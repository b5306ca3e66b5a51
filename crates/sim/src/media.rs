//! Temporary media (临时素材): uploads by kefu, downloads by media_id, and the media the
//! platform creates for what simulated users send (served at a plain URL as PicUrl).

use crate::api::{ApiError, Query, authorize_any};
use crate::crypto::{random_alnum, sha256_hex};
use crate::model::MediaDigest;
use crate::state::Sim;
use crate::tokens::Owner;
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query as Q, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_domain::Timestamp;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Temporary media live three days.
const LIFETIME: Duration = Duration::from_secs(3 * 24 * 3600);

pub const SAMPLE_PNG: &[u8] = include_bytes!("../ui/sample.png");
/// An AMR header and one silent frame: enough for a client to recognise the format.
pub const SAMPLE_AMR: &[u8] = b"#!AMR\n\x3c\x48\xf5\x1f\x96\x66\x79\xe1\xe0\x01\xe7\x8a\xf0\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
/// What a user's file holds when the test gives no bytes.
pub const SAMPLE_FILE: &[u8] = "kefu-sim 示例文件\n".as_bytes();
/// Not a playable video; only its identity matters in a simulation.
pub const SAMPLE_MP4: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isomkefu-sim sample video";

#[derive(Debug, Clone)]
pub struct Media {
    pub bytes: Bytes,
    pub content_type: String,
    pub filename: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Default)]
pub struct MediaStore {
    items: HashMap<String, Media>,
}

impl MediaStore {
    pub fn add(
        &mut self,
        kind: &str,
        bytes: Bytes,
        content_type: &str,
        filename: &str,
        now: Timestamp,
    ) -> String {
        let id = format!("{}_{}", kind, random_alnum(60));
        self.add_as(id, bytes, content_type, filename, now)
    }

    /// Stores under an id the caller chose (DingTalk's `@lADP…` media ids).
    pub fn add_as(
        &mut self,
        id: String,
        bytes: Bytes,
        content_type: &str,
        filename: &str,
        now: Timestamp,
    ) -> String {
        let media = Media {
            bytes,
            content_type: content_type.to_owned(),
            filename: filename.to_owned(),
            created_at: now,
        };
        self.items.insert(id.clone(), media);
        id
    }

    pub fn get(&self, id: &str, now: Timestamp) -> Option<&Media> {
        self.items.get(id).filter(|m| now.since(m.created_at) < LIFETIME)
    }

    pub fn digest(&self, id: &str, now: Timestamp) -> Option<MediaDigest> {
        self.get(id, now).map(|m| MediaDigest {
            media_id: id.to_owned(),
            sha256: sha256_hex(&m.bytes),
            size: m.bytes.len(),
            content_type: m.content_type.clone(),
        })
    }
}

/// Content type from the first bytes, for media users send without saying what it is.
pub fn sniff(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.starts_with(b"#!AMR") {
        "audio/amr"
    } else {
        "application/octet-stream"
    }
}

fn size_limit(kind: &str) -> Option<usize> {
    match kind {
        "image" | "video" => Some(10 << 20),
        "voice" => Some(2 << 20),
        "thumb" => Some(64 << 10),
        "file" => Some(20 << 20),
        _ => None,
    }
}

/// `POST /cgi-bin/media/upload?access_token=&type=` with multipart field `media`.
pub async fn upload(
    State(sim): State<Arc<Sim>>,
    Q(q): Q<Query>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = sim.now();
    let owner = authorize_any(&sim.lock(), &q, now)?;
    let kind = q.get("type").map(String::as_str).unwrap_or_default();
    let limit = size_limit(kind).ok_or_else(|| ApiError::new(40004, "invalid media type"))?;
    let mut form = form.map_err(|_| ApiError::new(41005, "media data missing"))?;
    let (bytes, content_type, filename) = read_media_field(&mut form).await?;
    if bytes.is_empty() || bytes.len() > limit {
        return Err(ApiError::new(40009, "invalid media size"));
    }
    let mut inner = sim.lock();
    inner.stats.uploads += 1;
    let id = inner.media.add(kind, bytes, &content_type, &filename, now);
    let created = now.seconds();
    Ok(Json(match owner {
        Owner::Oa(_) => json!({ "type": kind, "media_id": id, "created_at": created }),
        _ => {
            json!({ "errcode": 0, "errmsg": "ok", "type": kind, "media_id": id, "created_at": created.to_string() })
        }
    }))
}

pub async fn read_media_field(form: &mut Multipart) -> Result<(Bytes, String, String), ApiError> {
    let missing = || ApiError::new(41005, "media data missing");
    while let Some(field) = form.next_field().await.map_err(|_| missing())? {
        if field.name() != Some("media") {
            continue;
        }
        let filename = field.file_name().unwrap_or("media").to_owned();
        let declared = field.content_type().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| missing())?;
        let content_type = declared.unwrap_or_else(|| sniff(&bytes).to_owned());
        return Ok((bytes, content_type, filename));
    }
    Err(missing())
}

/// `GET /cgi-bin/media/get?access_token=&media_id=`.
pub async fn get(State(sim): State<Arc<Sim>>, Q(q): Q<Query>) -> Response {
    let now = sim.now();
    let inner = sim.lock();
    if let Err(e) = authorize_any(&inner, &q, now) {
        return e.into_response();
    }
    let id = q.get("media_id").map(String::as_str).unwrap_or_default();
    match inner.media.get(id, now) {
        Some(m) => file_response(m, true),
        None => ApiError::code(40007).into_response(),
    }
}

/// `GET /sim/media/{id}`: the public URL used as PicUrl for user images.
pub async fn public(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let now = sim.now();
    match sim.lock().media.get(&id, now) {
        Some(m) => file_response(m, false),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub fn file_response(m: &Media, attachment: bool) -> Response {
    let mut res = ([(header::CONTENT_TYPE, m.content_type.clone())], m.bytes.clone()).into_response();
    if attachment {
        let name: String = m
            .filename
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect();
        if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    res
}
