//! `JsonObject<T>`: a JSON request body that must be an object. serde reads a struct from an
//! array too (`[null, null]` fills two optional fields in order), which no client means; the
//! document says every body is an object, so anything else is refused like any other
//! mistyped body (422), and a body that is not JSON at all keeps axum's answers (400, 413, 415).

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub struct JsonObject<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonObject<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(object) =
            Json::<Map<String, Value>>::from_request(req, state).await.map_err(|e| e.into_response())?;
        serde_json::from_value(Value::Object(object))
            .map(JsonObject)
            .map_err(|e| ApiError::Unprocessable(format!("the body does not fit: {e}")).into_response())
    }
}
