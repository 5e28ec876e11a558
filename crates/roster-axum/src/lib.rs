//! # roster-axum
//!
//! The whole invitation flow of [roster] as a JSON API for axum: mount one router, say who the
//! acting user is through [`ActorSource`] (over your own session or authentication: roster
//! imposes none), and every route answers JSON, or a problem details object (RFC 9457,
//! `application/problem+json`) whose status follows the error's
//! [kind](roster::RosterError::kind) and whose `code` is stable.
//!
//! ```
//! use async_trait::async_trait;
//! use axum::http::request::Parts;
//! use roster::{Roster, UserId};
//! use roster_axum::{ActorSource, RosterApi};
//!
//! struct FromProxyHeader;
//!
//! #[async_trait]
//! impl ActorSource for FromProxyHeader {
//!     async fn actor(&self, parts: &Parts) -> Option<UserId> {
//!         parts.headers.get("x-user-id")?.to_str().ok()?.parse().ok()
//!     }
//! }
//!
//! # fn app(roster: Roster) -> axum::Router {
//! let api = RosterApi::new(roster, FromProxyHeader).router();
//! axum::Router::new().nest("/access", api)
//! # }
//! ```
//!
//! | route | body or query | answer |
//! |---|---|---|
//! | `POST /projects/{project}/invitations` | `{"rows": [{"email", "role", "language"?}]}` | `InviteReport` |
//! | `GET /projects/{project}/invitations` | `?state=&after=&limit=` | a page of invitations |
//! | `GET /projects/{project}/members` | `?after=&limit=` | a page of members |
//! | `GET /projects/{project}/access` | | the actor's `Access` |
//! | `PUT /projects/{project}/members/{user}/role` | `{"role"}` | the membership |
//! | `DELETE /projects/{project}/members/{user}` | | 204 |
//! | `POST /projects/{project}/leave` | | 204 |
//! | `POST /invitations/{invitation}/resend` | | `Resent` |
//! | `POST /invitations/{invitation}/revoke` | | the invitation |
//! | `POST /invitations/preview` | `{"token"}` | `InvitationPreview` |
//! | `POST /invitations/accept` | `{"token", "password"?}` | `Accepted` |
//! | `POST /invitations/decline` | `{"token"}` | 204 |
//! | `POST /sign-in` | `{"email", "password"}` | `SignIn`: the user and the accounts to pick |
//!
//! Tokens travel in bodies, never in URLs, and answers leave them out unless
//! [`RosterApi::expose_tokens`] is set. Each request gets a `tracing` span (tower-http's
//! `TraceLayer`), which records the method and path, never a body.

mod actor;
mod extract;
mod problem;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};
use roster::Roster;
use tower_http::trace::TraceLayer;

pub use actor::ActorSource;
pub use problem::Problem;

use extract::ApiState;

/// Builds the router of the flow on a [`Roster`].
#[derive(Clone)]
pub struct RosterApi {
    state: ApiState,
}

impl std::fmt::Debug for RosterApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterApi")
            .field("expose_tokens", &self.state.expose_tokens)
            .finish_non_exhaustive()
    }
}

impl RosterApi {
    /// The API of `roster`, acting for whom `actors` says.
    pub fn new(roster: Roster, actors: impl ActorSource) -> Self {
        RosterApi {
            state: ApiState {
                roster,
                actors: Arc::new(actors),
                expose_tokens: false,
            },
        }
    }

    /// Whether invite answers carry each sent row's token (`"token"`), for a service that
    /// builds or shows the invitation link itself. Off by default: the link goes by email.
    pub fn expose_tokens(mut self, expose: bool) -> Self {
        self.state.expose_tokens = expose;
        self
    }

    /// The router: nest it where the API should live.
    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/projects/{project}/invitations",
                post(routes::invite).get(routes::invitations),
            )
            .route("/projects/{project}/members", get(routes::members))
            .route("/projects/{project}/access", get(routes::access))
            .route(
                "/projects/{project}/members/{user}/role",
                put(routes::change_role),
            )
            .route(
                "/projects/{project}/members/{user}",
                axum::routing::delete(routes::remove_member),
            )
            .route("/projects/{project}/leave", post(routes::leave))
            .route("/invitations/{invitation}/resend", post(routes::resend))
            .route("/invitations/{invitation}/revoke", post(routes::revoke))
            .route("/invitations/preview", post(routes::preview))
            .route("/invitations/accept", post(routes::accept))
            .route("/invitations/decline", post(routes::decline))
            .route("/sign-in", post(routes::sign_in))
            .layer(TraceLayer::new_for_http())
            .with_state(self.state)
    }
}
