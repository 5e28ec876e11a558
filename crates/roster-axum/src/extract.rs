//! The router's extractors: the acting user, and request parts whose rejections answer as
//! problem details.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use roster::{Roster, UserId};

use crate::ActorSource;
use crate::problem::Problem;

/// What every route reads: the service, who is acting, and whether invite answers carry tokens.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) roster: Roster,
    pub(crate) actors: Arc<dyn ActorSource>,
    pub(crate) expose_tokens: bool,
}

/// The signed-in user a request acts for; 401 without one.
pub(crate) struct Acting(pub(crate) UserId);

impl FromRequestParts<ApiState> for Acting {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        state
            .actors
            .actor(parts)
            .await
            .map(Acting)
            .ok_or_else(Problem::unauthenticated)
    }
}

impl OptionalFromRequestParts<ApiState> for Acting {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Option<Self>, Problem> {
        Ok(state.actors.actor(parts).await.map(Acting))
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::bad_request(rejection.body_text())
    }
}
