//! The web portal of `cargo run --example portal`: the seed's pages, server-rendered, on roster.
//!
//! Projects list → a project's Settings → Access tab (members, invitations with Resend and
//! Revoke, "Invite Users" with rows of address and role); the invitation link page (create a
//! password, or accept as the signed-in user; decline); sign-in with the account picker. No
//! JavaScript: every action is a form, and every form carries the session's CSRF token.

mod pages;
mod session;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use roster::{OsRandom, RandomSource, Roster};
use tower_sessions::cookie::SameSite;
use tower_sessions::{MemoryStore, SessionManagerLayer};

/// What every page reads.
#[derive(Clone)]
pub struct Portal {
    roster: Roster,
    random: Arc<dyn RandomSource>,
}

/// The portal's router on `roster`. Sessions live in memory (a restart signs everyone out);
/// their cookie is HttpOnly and SameSite=Lax, and `Secure` when `secure_cookies` (serve over
/// HTTPS then).
pub fn app(roster: Roster, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name("portal_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies);
    let portal = Portal {
        roster,
        random: Arc::new(OsRandom),
    };
    Router::new()
        .route("/", get(pages::projects_page))
        .route("/sign-in", get(pages::sign_in_page).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route(
            "/accounts",
            get(pages::accounts_page).post(pages::pick_account),
        )
        .route("/projects/{project}", get(pages::project_page))
        .route("/projects/{project}/invite", post(pages::invite))
        .route(
            "/projects/{project}/invitations/{invitation}/resend",
            post(pages::resend),
        )
        .route(
            "/projects/{project}/invitations/{invitation}/revoke",
            post(pages::revoke),
        )
        .route("/invitations/{token}", get(pages::invitation_page))
        .route("/invitations/{token}/accept", post(pages::accept))
        .route("/invitations/{token}/decline", post(pages::decline))
        .layer(sessions)
        .with_state(portal)
}
