//! Image upload for agents, and serving stored media at unguessable URLs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_store::{MediaInfo, NewMedia, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Largest image an agent may upload; WeChat accepts up to 10 MB, most chat images are far smaller.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

pub use kefu_engine::media::sniff_image;

/// A stored image.
#[derive(Serialize, ToSchema)]
pub struct UploadedMedia {
    #[serde(flatten)]
    info: MediaInfo,
    /// Where the file is served; pass it as `image` when replying.
    url: String,
}

/// An image file's bytes (PNG, JPEG, GIF or WebP).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // documents the raw bodies `upload` reads and `message_media` writes
pub struct ImageBytes(Vec<u8>);

/// Stores an image an agent uploads (to send, or as an avatar) and answers its URL.
///
/// The body is the file itself; its type comes from its bytes, never from `Content-Type`.
#[utoipa::path(post, path = "/media", operation_id = "upload_media", tag = "media",
    params(("X-Filename" = Option<String>, Header,
        description = "The file's name to keep (at most 100 bytes, no `/` or `\\`); otherwise `image.<type>`")),
    request_body(content = inline(ImageBytes), content_type = "application/octet-stream",
        description = "The image: PNG, JPEG, GIF or WebP, at most 5 MiB"),
    responses((status = 200, body = UploadedMedia),
        (status = 422, description = "The bytes are not a PNG, JPEG, GIF or WebP image", body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    _me: CurrentAgent,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<UploadedMedia>> {
    // 422, not 400: any bytes fit the schema, so what they hold is a semantic check.
    let mime = sniff_image(&body)
        .ok_or_else(|| ApiError::Unprocessable("only PNG, JPEG, GIF and WebP images are accepted".into()))?;
    let ext = mime.trim_start_matches("image/");
    let filename = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .filter(|n| !n.is_empty() && n.len() <= 100 && !n.contains(['/', '\\']))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("image.{ext}"));
    let new = NewMedia { mime: mime.into(), filename, data: body.to_vec() };
    let info = state.store.put_media(new, state.clock.now()).await?;
    Ok(Json(UploadedMedia { url: info.url(), info }))
}

/// A message's image, from kefu's own copy (fetched from the platform on first view).
///
/// Agents' browsers never load a URL a customer's platform message named.
#[utoipa::path(get, path = "/messages/{id}/media", operation_id = "get_message_media", tag = "media",
    params(("id" = i64, Path, description = "The message")),
    responses((status = 200, description = "The image, cacheable for a day", content(
            (ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/gif"), (ImageBytes = "image/webp"))),
        (status = 404, description = "No such message, the policy hides its conversation, or it has no image", body = ErrorBody),
        (status = 409, description = "The image is not on the platform's media servers, or the platform did not deliver it", body = ErrorBody)))]
pub async fn message_media(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let message = state.store.message(kefu_domain::MessageId(id)).await?;
    state.engine.visible_conversation(&me.agent, message.conversation_id).await?;
    let message = state.engine.localize_media(message.id).await?;
    match &message.content {
        kefu_domain::Content::Image { url: Some(url), .. } if url.starts_with("/media/") => {
            Ok(serve(State(state), Path(url.trim_start_matches("/media/").to_owned())).await)
        }
        _ => Err(ApiError::NotFound),
    }
}

pub async fn serve(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.store.media(&id).await {
        Ok((info, data)) => (
            [
                (header::CONTENT_TYPE, info.mime),
                (header::CACHE_CONTROL, "private, max-age=86400, immutable".into()),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".into()),
            ],
            data,
        )
            .into_response(),
        Err(StoreError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
