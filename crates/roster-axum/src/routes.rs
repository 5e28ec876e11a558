//! The routes: each reads its request, calls one command of the service, and answers JSON or a
//! problem.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster::{
    Acceptance, InvitationId, InvitationState, InvitationToken, InviteRequest, PageRequest,
    ProjectId, Role, RosterError, UserId,
};
use serde::Deserialize;

use crate::extract::{Acting, ApiState};
use crate::problem::Problem;

type Answer = Result<Response, Problem>;

fn json(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

/// `POST /projects/{project}/invitations`: `{"rows": [{"email", "role", "language"?}, ...]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct InviteBody {
    rows: Vec<InviteRequest>,
}

pub(crate) async fn invite(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<ProjectId>, PathRejection>,
    body: Result<Json<InviteBody>, JsonRejection>,
) -> Answer {
    let Path(project) = path?;
    let Json(body) = body?;
    let report = state.roster.invite(actor, project, &body.rows).await?;
    if state.expose_tokens {
        json(report.with_tokens())
    } else {
        json(report)
    }
}

/// The query of the invitation listing: `?state=pending&after=…&limit=…`, each optional.
#[derive(Debug, Deserialize)]
pub(crate) struct InvitationsQuery {
    state: Option<InvitationState>,
    after: Option<InvitationId>,
    limit: Option<usize>,
}

pub(crate) async fn invitations(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<ProjectId>, PathRejection>,
    query: Result<Query<InvitationsQuery>, QueryRejection>,
) -> Answer {
    let Path(project) = path?;
    let Query(query) = query?;
    let page = page(query.after, query.limit);
    json(
        state
            .roster
            .invitations(actor, project, query.state, page)
            .await?,
    )
}

/// The query of the member listing: `?after=…&limit=…`, each optional.
#[derive(Debug, Deserialize)]
pub(crate) struct MembersQuery {
    after: Option<UserId>,
    limit: Option<usize>,
}

fn page<C>(after: Option<C>, limit: Option<usize>) -> PageRequest<C> {
    PageRequest {
        after,
        limit: limit.unwrap_or(roster::DEFAULT_PAGE_SIZE),
    }
}

pub(crate) async fn members(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<ProjectId>, PathRejection>,
    query: Result<Query<MembersQuery>, QueryRejection>,
) -> Answer {
    let Path(project) = path?;
    let Query(query) = query?;
    let page = page(query.after, query.limit);
    json(state.roster.members(actor, project, page).await?)
}

/// `GET /projects/{project}/access`: what the acting user may do there.
pub(crate) async fn access(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<ProjectId>, PathRejection>,
) -> Answer {
    let Path(project) = path?;
    json(state.roster.access(actor, project).await?)
}

/// `PUT /projects/{project}/members/{user}/role`: `{"role": …}`.
#[derive(Debug, Deserialize)]
pub(crate) struct RoleBody {
    role: Role,
}

pub(crate) async fn change_role(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<(ProjectId, UserId)>, PathRejection>,
    body: Result<Json<RoleBody>, JsonRejection>,
) -> Answer {
    let Path((project, user)) = path?;
    let Json(body) = body?;
    json(
        state
            .roster
            .change_role(actor, project, user, body.role)
            .await?,
    )
}

pub(crate) async fn remove_member(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<(ProjectId, UserId)>, PathRejection>,
) -> Answer {
    let Path((project, user)) = path?;
    state.roster.remove_member(actor, project, user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn leave(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<ProjectId>, PathRejection>,
) -> Answer {
    let Path(project) = path?;
    state.roster.leave(actor, project).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn resend(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<InvitationId>, PathRejection>,
) -> Answer {
    let Path(invitation) = path?;
    json(state.roster.resend(actor, invitation).await?)
}

pub(crate) async fn revoke(
    State(state): State<ApiState>,
    Acting(actor): Acting,
    path: Result<Path<InvitationId>, PathRejection>,
) -> Answer {
    let Path(invitation) = path?;
    json(state.roster.revoke(actor, invitation).await?)
}

/// A token in a body, never in a URL (URLs end up in logs and `Referer` headers).
#[derive(Deserialize)]
pub(crate) struct TokenBody {
    token: String,
    /// For acceptance by a new person: the password they choose.
    password: Option<String>,
}

impl std::fmt::Debug for TokenBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenBody { <redacted> }")
    }
}

fn token(body: &TokenBody) -> Result<InvitationToken, Problem> {
    body.token
        .parse()
        .map_err(|_| Problem::from(RosterError::InvalidToken))
}

/// `POST /invitations/preview`: `{"token": …}`. Read-only, so link scanners cannot use it up.
pub(crate) async fn preview(
    State(state): State<ApiState>,
    body: Result<Json<TokenBody>, JsonRejection>,
) -> Answer {
    let Json(body) = body?;
    json(state.roster.preview(&token(&body)?).await?)
}

/// `POST /invitations/accept`: `{"token": …, "password": …}` for a new person, or
/// `{"token": …}` from a signed-in existing user.
pub(crate) async fn accept(
    State(state): State<ApiState>,
    actor: Option<Acting>,
    body: Result<Json<TokenBody>, JsonRejection>,
) -> Answer {
    let Json(body) = body?;
    let token = token(&body)?;
    let acceptance = match (body.password, actor) {
        (Some(password), _) => Acceptance::NewUser { password },
        (None, Some(Acting(user))) => Acceptance::ExistingUser { user },
        (None, None) => return Err(Problem::unauthenticated()),
    };
    json(state.roster.accept(&token, acceptance).await?)
}

/// `POST /invitations/decline`: `{"token": …}`.
pub(crate) async fn decline(
    State(state): State<ApiState>,
    body: Result<Json<TokenBody>, JsonRejection>,
) -> Answer {
    let Json(body) = body?;
    state.roster.decline(&token(&body)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /sign-in`: `{"email": …, "password": …}`; answers the user and the accounts to pick.
#[derive(Deserialize)]
pub(crate) struct SignInBody {
    email: String,
    password: String,
}

pub(crate) async fn sign_in(
    State(state): State<ApiState>,
    body: Result<Json<SignInBody>, JsonRejection>,
) -> Answer {
    let Json(body) = body?;
    json(
        state
            .roster
            .authenticate(&body.email, &body.password)
            .await?,
    )
}
