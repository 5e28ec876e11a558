//! What the portal keeps in a person's session (tower-sessions, an HttpOnly, SameSite cookie
//! holding a random id): who signed in, the account they picked, and the form token that every
//! form must send back (CSRF protection).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster::{AccountId, RandomSource, UserId};
use tower_sessions::Session;

const USER: &str = "user";
const ACCOUNT: &str = "account";
const CSRF: &str = "csrf";

/// The session's form token, made on first use: 256 random bits, base64url.
pub(crate) async fn csrf_token(
    session: &Session,
    random: &dyn RandomSource,
) -> Result<String, Response> {
    if let Some(token) = session.get::<String>(CSRF).await.map_err(failed)? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    random.fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    session.insert(CSRF, &token).await.map_err(failed)?;
    Ok(token)
}

/// Refuses a form whose token is not the session's: a form posted from another site.
pub(crate) async fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), Response> {
    let expected = session.get::<String>(CSRF).await.map_err(failed)?;
    match (expected, sent) {
        (Some(expected), Some(sent)) if constant_time_eq(expected.as_bytes(), sent.as_bytes()) => {
            Ok(())
        }
        _ => Err((
            StatusCode::FORBIDDEN,
            "This form has expired or was not sent from this site. Go back, reload and try again.",
        )
            .into_response()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn user(session: &Session) -> Result<Option<UserId>, Response> {
    session.get::<UserId>(USER).await.map_err(failed)
}

pub(crate) async fn account(session: &Session) -> Result<Option<AccountId>, Response> {
    session.get::<AccountId>(ACCOUNT).await.map_err(failed)
}

/// Signs `user` in: a new session id (so a session fixed before sign-in is worth nothing).
pub(crate) async fn sign_in(session: &Session, user: UserId) -> Result<(), Response> {
    session.cycle_id().await.map_err(failed)?;
    session.remove::<AccountId>(ACCOUNT).await.map_err(failed)?;
    session.insert(USER, user).await.map_err(failed)
}

pub(crate) async fn pick(session: &Session, account: AccountId) -> Result<(), Response> {
    session.insert(ACCOUNT, account).await.map_err(failed)
}

pub(crate) async fn sign_out(session: &Session) -> Result<(), Response> {
    session.flush().await.map_err(failed)
}

fn failed(error: tower_sessions::session::Error) -> Response {
    tracing::error!(%error, "session store failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the session store failed",
    )
        .into_response()
}
