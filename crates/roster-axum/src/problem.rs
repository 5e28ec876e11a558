//! Errors as RFC 9457 problem details: `application/problem+json` with the status of the
//! error's kind and its stable code.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster::{ErrorKind, RosterError};
use serde::Serialize;

/// An error answer: a problem details object (RFC 9457).
///
/// `type` is `urn:roster:problem:<code>`, `code` the same stable code
/// ([`RosterError::code`]) for clients that branch on it, `title` the kind, `detail` the error's
/// message; a failure on the server's side (`internal`) shows no detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `urn:roster:problem:<code>`.
    #[serde(rename = "type")]
    pub kind_uri: String,
    /// The kind of failure (`not_found`, `forbidden`...).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable code, for programs.
    pub code: String,
}

impl Problem {
    /// A problem of `status` with `code` and `detail`.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind_uri: format!("urn:roster:problem:{code}"),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            status: status.as_u16(),
            detail: Some(detail.into()),
            code: code.to_owned(),
        }
    }

    /// No acting user: the host's [`ActorSource`](crate::ActorSource) found no signed-in user.
    pub fn unauthenticated() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in to do this",
        )
    }

    /// A request the router cannot read: a malformed body, path or query.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// The HTTP status of a kind of error.
    pub fn status_of(kind: ErrorKind) -> StatusCode {
        match kind {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Limit => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<RosterError> for Problem {
    fn from(error: RosterError) -> Self {
        let status = Problem::status_of(error.kind());
        let mut problem = Problem::new(status, error.code(), error.to_string());
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %error, code = error.code(), "request failed");
            problem.detail = None;
        }
        problem.title = error.kind().as_str().to_owned();
        problem
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}
