//! The portal's pages, each a handler: read the session, call the service, render.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use roster::StoreExt;
use roster::{
    Acceptance, AccountId, InvitationId, InvitationState, InvitationToken, InviteOutcome,
    InviteRequest, NoticeKind, PageRequest, ProjectId, Role, RosterError, User,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::view::{page, without_referrer};
use super::{Portal, session};

type Page = Result<Response, Response>;

/// The fields of a posted form, in order (a field may repeat: the invite form's rows).
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// What every page shows: who is signed in, and the session's form token.
struct Frame {
    user: Option<User>,
    csrf: String,
}

async fn frame(portal: &Portal, session: &Session) -> Result<Frame, Response> {
    let csrf = session::csrf_token(session, portal.random.as_ref()).await?;
    let user = match session::user(session).await? {
        Some(id) => portal.roster.store().user(id).await.map_err(store_failed)?,
        None => None,
    };
    Ok(Frame { user, csrf })
}

fn store_failed(error: roster::StoreError) -> Response {
    failed(error.into())
}

/// A failed command as a page: its message and the status of its kind.
fn failed(error: RosterError) -> Response {
    let status = match error.kind() {
        roster::ErrorKind::NotFound => StatusCode::NOT_FOUND,
        roster::ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        roster::ErrorKind::Gone => StatusCode::GONE,
        roster::ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        roster::ErrorKind::Internal | roster::ErrorKind::Unavailable => {
            tracing::error!(%error, "a page failed");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "base.html",
                context! { title => "Error", error => "Something went wrong on our side." },
            );
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    page(
        status,
        "base.html",
        context! { title => "Error", error => error.to_string() },
    )
}

/// The signed-in user, or a redirect to the sign-in page. (A refusal is the page to answer,
/// which is large; boxing it would buy nothing on a path that ends the request.)
#[allow(clippy::result_large_err)]
fn signed_in(frame: &Frame) -> Result<&User, Response> {
    frame
        .user
        .as_ref()
        .ok_or_else(|| Redirect::to("/sign-in").into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

fn done_message(done: &Done) -> Option<&'static str> {
    Some(match done.done.as_deref()? {
        "password" => "Your password is set. Sign in to continue.",
        "declined" => "You declined the invitation.",
        "resent" => "The invitation was sent again.",
        "revoked" => "The invitation was revoked.",
        "signed_out" => "You are signed out.",
        _ => return None,
    })
}

pub(crate) async fn sign_in_page(
    State(portal): State<Portal>,
    session: Session,
    Query(done): Query<Done>,
) -> Page {
    let frame = frame(&portal, &session).await?;
    Ok(page(
        StatusCode::OK,
        "sign_in.html",
        context! { title => "Sign in", csrf => frame.csrf, message => done_message(&done) },
    ))
}

pub(crate) async fn sign_in(
    State(portal): State<Portal>,
    session: Session,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    let email = field(&fields, "email").unwrap_or_default();
    let password = field(&fields, "password").unwrap_or_default();
    match portal.roster.authenticate(email, password).await {
        Ok(signed) => {
            session::sign_in(&session, signed.user.id).await?;
            if let [only] = signed.accounts.as_slice() {
                session::pick(&session, only.id).await?;
                return Ok(Redirect::to("/").into_response());
            }
            Ok(Redirect::to("/accounts").into_response())
        }
        Err(RosterError::InvalidCredentials) => {
            let frame = frame(&portal, &session).await?;
            Ok(page(
                StatusCode::UNAUTHORIZED,
                "sign_in.html",
                context! { title => "Sign in", csrf => frame.csrf, email => email,
                error => "That email and password do not match." },
            ))
        }
        Err(error) => Err(failed(error)),
    }
}

pub(crate) async fn sign_out(
    State(_portal): State<Portal>,
    session: Session,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    session::sign_out(&session).await?;
    Ok(Redirect::to("/sign-in?done=signed_out").into_response())
}

pub(crate) async fn accounts_page(State(portal): State<Portal>, session: Session) -> Page {
    let frame = frame(&portal, &session).await?;
    let user = signed_in(&frame)?;
    let accounts = portal.roster.accounts_of(user.id).await.map_err(failed)?;
    let accounts: Vec<_> = accounts
        .iter()
        .map(|account| context! { id => account.id.to_string(), name => account.name.clone() })
        .collect();
    Ok(page(
        StatusCode::OK,
        "accounts.html",
        context! { title => "Pick an account", signed_in => user.email.to_string(),
        csrf => frame.csrf, accounts => accounts },
    ))
}

pub(crate) async fn pick_account(
    State(portal): State<Portal>,
    session: Session,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    let frame = frame(&portal, &session).await?;
    let user = signed_in(&frame)?;
    let picked: Option<AccountId> = field(&fields, "account").and_then(|id| id.parse().ok());
    let accounts = portal.roster.accounts_of(user.id).await.map_err(failed)?;
    match accounts.iter().find(|account| Some(account.id) == picked) {
        Some(account) => {
            session::pick(&session, account.id).await?;
            Ok(Redirect::to("/").into_response())
        }
        None => Err(failed(RosterError::Forbidden(roster::Denial::NotAMember))),
    }
}

pub(crate) async fn projects_page(State(portal): State<Portal>, session: Session) -> Page {
    let frame = frame(&portal, &session).await?;
    let user = signed_in(&frame)?;
    let accounts = portal.roster.accounts_of(user.id).await.map_err(failed)?;
    let picked = session::account(&session).await?;
    let Some(account) = accounts.iter().find(|account| Some(account.id) == picked) else {
        return Ok(Redirect::to("/accounts").into_response());
    };
    let mut projects = Vec::new();
    for project in portal
        .roster
        .store()
        .projects(account.id)
        .await
        .map_err(store_failed)?
    {
        let access = portal
            .roster
            .access(user.id, project.id)
            .await
            .map_err(failed)?;
        if let Some(name) = access.display_name() {
            projects.push(
                context! { id => project.id.to_string(), name => project.name, role => name },
            );
        }
    }
    Ok(page(
        StatusCode::OK,
        "projects.html",
        context! { title => "Projects", signed_in => user.email.to_string(), csrf => frame.csrf,
        account => account.name.clone(), projects => projects,
        several_accounts => accounts.len() > 1 },
    ))
}

/// One row of the invite form, as typed.
#[derive(Debug, Clone, Default)]
struct FormRow {
    email: String,
    role: String,
}

/// A result line of the invite form.
#[derive(Debug)]
struct ResultRow {
    email: String,
    ok: bool,
    text: String,
}

fn describe(portal: &Portal, outcome: &InviteOutcome, queued: bool) -> (bool, String) {
    let roles = portal.roster.roles();
    let later = if queued {
        " (the email is queued and will be retried)"
    } else {
        ""
    };
    match outcome {
        InviteOutcome::Invited {
            notice: NoticeKind::AccessGranted,
            ..
        } => (
            true,
            format!("Access granted: an existing user, notified{later}"),
        ),
        InviteOutcome::Invited { .. } => (true, format!("Invitation sent{later}")),
        InviteOutcome::Refreshed { .. } => (true, format!("Invitation sent again{later}")),
        InviteOutcome::AlreadyMember { role, .. } => (
            false,
            format!("Already a member ({})", roles.display_name(*role)),
        ),
        InviteOutcome::InvalidEmail(error) => (false, format!("Not a valid address: {error}")),
        InviteOutcome::Duplicate => (false, "Listed twice in this form".into()),
        InviteOutcome::RoleNotAllowed { role } => (
            false,
            format!("You cannot grant {}", roles.display_name(*role)),
        ),
        InviteOutcome::UnknownRole { .. } => (false, "No such role".into()),
        InviteOutcome::DomainNotAllowed { domain } => (
            false,
            format!("This account does not invite addresses at {domain}"),
        ),
        InviteOutcome::LimitReached(limit) => (false, format!("Not sent: {limit}")),
        other => (false, format!("{other:?}")),
    }
}

/// The Access tab of a project's settings, with `results` of an invite just made and the invite
/// form's `rows`.
async fn project_view(
    portal: &Portal,
    frame: &Frame,
    project: ProjectId,
    rows: Vec<FormRow>,
    results: Vec<ResultRow>,
    message: Option<&str>,
) -> Page {
    let user = signed_in(frame)?;
    let roster = &portal.roster;
    let access = roster.access(user.id, project).await.map_err(failed)?;
    let Some(own) = access.role().and_then(|role| roster.roles().get(role)) else {
        return Err(failed(RosterError::Forbidden(roster::Denial::NotAMember)));
    };
    let name = roster
        .store()
        .project(project)
        .await
        .map_err(store_failed)?
        .map(|project| project.name)
        .unwrap_or_default();
    let members = roster
        .members(user.id, project, PageRequest::first(500))
        .await
        .map_err(failed)?;
    let members: Vec<_> = members
        .items
        .iter()
        .map(|member| {
            let known = roster.roles().get(member.membership.role).is_some();
            context! {
                email => member.user.email.to_string(),
                role => roster.roles().display_name(member.membership.role),
                status => if known { "Active" } else { "No access (role removed)" },
            }
        })
        .collect();
    let manages = access.manages_members();
    let mut invitations = Vec::new();
    if manages {
        let listed = roster
            .invitations(user.id, project, None, PageRequest::first(500))
            .await
            .map_err(failed)?;
        for invitation in listed.items.iter().rev() {
            invitations.push(context! {
                id => invitation.id.to_string(),
                email => invitation.email.to_string(),
                role => roster.roles().display_name(invitation.role),
                state => format!("{:?}", invitation.state),
                expires => invitation.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                open => matches!(invitation.state, InvitationState::Pending | InvitationState::Expired),
            });
        }
    }
    // Only the roles this person may grant: up to their own rank.
    let roles: Vec<_> = roster
        .roles()
        .project_roles()
        .filter(|role| role.rank() <= own.rank())
        .map(|role| context! { key => role.key().as_str(), name => role.display_name() })
        .collect();
    Ok(page(
        StatusCode::OK,
        "project.html",
        context! {
            title => name.clone(), project => name, project_id => project.to_string(),
            signed_in => user.email.to_string(), csrf => frame.csrf.clone(), manages => manages,
            members => members, invitations => invitations, roles => roles,
            rows => rows.iter().map(|row| context! { email => row.email.clone(), role => row.role.clone() }).collect::<Vec<_>>(),
            results => results.iter().map(|row| context! { email => row.email.clone(), ok => row.ok, text => row.text.clone() }).collect::<Vec<_>>(),
            message => message,
        },
    ))
}

pub(crate) async fn project_page(
    State(portal): State<Portal>,
    session: Session,
    Path(project): Path<ProjectId>,
    Query(done): Query<Done>,
) -> Page {
    let frame = frame(&portal, &session).await?;
    project_view(
        &portal,
        &frame,
        project,
        vec![FormRow::default()],
        Vec::new(),
        done_message(&done),
    )
    .await
}

pub(crate) async fn invite(
    State(portal): State<Portal>,
    session: Session,
    Path(project): Path<ProjectId>,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    let frame = frame(&portal, &session).await?;
    let user = signed_in(&frame)?.clone();
    let emails = fields
        .iter()
        .filter(|(key, _)| key == "email")
        .map(|(_, v)| v);
    let roles = fields
        .iter()
        .filter(|(key, _)| key == "role")
        .map(|(_, v)| v);
    let mut rows: Vec<FormRow> = emails
        .zip(roles)
        .map(|(email, role)| FormRow {
            email: email.clone(),
            role: role.clone(),
        })
        .collect();
    if field(&fields, "action") == Some("add") {
        rows.push(FormRow::default());
        return project_view(&portal, &frame, project, rows, Vec::new(), None).await;
    }
    rows.retain(|row| !row.email.trim().is_empty());
    let mut results = Vec::new();
    let mut requests = Vec::new();
    for row in &rows {
        match Role::new(&row.role) {
            Ok(role) => requests.push(InviteRequest::new(row.email.clone(), role)),
            Err(_) => results.push(ResultRow {
                email: row.email.clone(),
                ok: false,
                text: "No such role".into(),
            }),
        }
    }
    if !requests.is_empty() {
        let report = portal
            .roster
            .invite(user.id, project, &requests)
            .await
            .map_err(failed)?;
        for row in &report.rows {
            let queued = row.delivery == Some(roster::DeliveryStatus::Queued);
            let (ok, text) = describe(&portal, &row.outcome, queued);
            results.push(ResultRow {
                email: row.email.clone(),
                ok,
                text,
            });
        }
    }
    project_view(
        &portal,
        &frame,
        project,
        vec![FormRow::default()],
        results,
        None,
    )
    .await
}

/// What the buttons of an invitation's row do.
#[derive(Clone, Copy)]
enum RowAction {
    Resend,
    Revoke,
}

pub(crate) async fn resend(
    State(portal): State<Portal>,
    session: Session,
    Path((project, invitation)): Path<(ProjectId, InvitationId)>,
    Form(fields): Form<Fields>,
) -> Page {
    act_on_invitation(
        &portal,
        &session,
        &fields,
        project,
        invitation,
        RowAction::Resend,
    )
    .await
}

pub(crate) async fn revoke(
    State(portal): State<Portal>,
    session: Session,
    Path((project, invitation)): Path<(ProjectId, InvitationId)>,
    Form(fields): Form<Fields>,
) -> Page {
    act_on_invitation(
        &portal,
        &session,
        &fields,
        project,
        invitation,
        RowAction::Revoke,
    )
    .await
}

/// Resends or revokes `invitation` for the signed-in user, then shows the Access tab again.
async fn act_on_invitation(
    portal: &Portal,
    session: &Session,
    fields: &Fields,
    project: ProjectId,
    invitation: InvitationId,
    action: RowAction,
) -> Page {
    session::check_csrf(session, field(fields, "csrf")).await?;
    let frame = frame(portal, session).await?;
    let user = signed_in(&frame)?;
    let done = match action {
        RowAction::Resend => portal.roster.resend(user.id, invitation).await.map(drop),
        RowAction::Revoke => portal.roster.revoke(user.id, invitation).await.map(drop),
    };
    done.map_err(failed)?;
    let done = match action {
        RowAction::Resend => "resent",
        RowAction::Revoke => "revoked",
    };
    Ok(Redirect::to(&format!("/projects/{project}?done={done}")).into_response())
}

fn closed_text(state: InvitationState) -> &'static str {
    match state {
        InvitationState::Accepted => "It was already used to accept the invitation.",
        InvitationState::Declined => "The invitation was declined.",
        InvitationState::Revoked => "The invitation was revoked by an administrator.",
        InvitationState::Expired => {
            "The invitation expired. Ask an administrator to send it again."
        }
        InvitationState::Pending => "The invitation is not open.",
    }
}

/// The invitation link page. Only shows: a GET never accepts or declines (mail scanners follow
/// links), and the token in its URL is never sent on as a referrer.
pub(crate) async fn invitation_page(
    State(portal): State<Portal>,
    session: Session,
    Path(token): Path<String>,
) -> Page {
    let frame = frame(&portal, &session).await?;
    let signed = frame.user.as_ref().map(|user| user.email.to_string());
    let closed = |status, text: &str| {
        without_referrer(page(
            status,
            "invitation.html",
            context! { title => "Invitation", signed_in => signed.clone(), csrf => frame.csrf.clone(), closed => text },
        ))
    };
    let Ok(parsed) = token.parse::<InvitationToken>() else {
        return Ok(closed(
            StatusCode::NOT_FOUND,
            "This link is not a valid invitation link.",
        ));
    };
    let preview = match portal.roster.preview(&parsed).await {
        Ok(preview) => preview,
        Err(RosterError::InvalidToken) => {
            return Ok(closed(
                StatusCode::NOT_FOUND,
                "This link was replaced by a newer one, or never existed.",
            ));
        }
        Err(error) => return Err(failed(error)),
    };
    if preview.state != InvitationState::Pending {
        return Ok(closed(StatusCode::GONE, closed_text(preview.state)));
    }
    let invitee = frame
        .user
        .as_ref()
        .is_some_and(|user| user.email == preview.email);
    Ok(without_referrer(page(
        StatusCode::OK,
        "invitation.html",
        context! {
            title => "Invitation", signed_in => signed, csrf => frame.csrf, token => token,
            signed_in_as_invitee => invitee,
            preview => context! {
                project => preview.project_name, account => preview.account_name,
                role => portal.roster.roles().display_name(preview.role),
                inviter => preview.inviter.to_string(), email => preview.email.to_string(),
                expires => preview.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                registered => preview.registered_user,
            },
        },
    )))
}

pub(crate) async fn accept(
    State(portal): State<Portal>,
    session: Session,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    let token: InvitationToken = token
        .parse()
        .map_err(|_| failed(RosterError::InvalidToken))?;
    let acceptance = match field(&fields, "password") {
        Some(password) => Acceptance::NewUser {
            password: password.to_owned(),
        },
        None => match session::user(&session).await? {
            Some(user) => Acceptance::ExistingUser { user },
            None => return Ok(Redirect::to("/sign-in").into_response()),
        },
    };
    let new = matches!(acceptance, Acceptance::NewUser { .. });
    let accepted = portal.roster.accept(&token, acceptance).await;
    let accepted = accepted.map_err(|error| without_referrer(failed(error)))?;
    if new {
        return Ok(Redirect::to("/sign-in?done=password").into_response());
    }
    session::pick(&session, accepted.account.id).await?;
    Ok(Redirect::to("/accounts").into_response())
}

pub(crate) async fn decline(
    State(portal): State<Portal>,
    session: Session,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Page {
    session::check_csrf(&session, field(&fields, "csrf")).await?;
    let token: InvitationToken = token
        .parse()
        .map_err(|_| failed(RosterError::InvalidToken))?;
    portal.roster.decline(&token).await.map_err(failed)?;
    Ok(Redirect::to("/sign-in?done=declined").into_response())
}
