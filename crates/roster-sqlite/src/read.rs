//! The reads of the `Store` trait, one function per method, each a single statement (so each
//! sees one committed snapshot) that searches an index. Blocking: they run on the blocking pool.

use chrono::{DateTime, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery};
use roster::{
    Account, AccountId, AuditEvent, DeliveryStatus, EventId, Invitation, InvitationId,
    InvitationState, Membership, NoticeId, OutboxEntry, PasswordHash, Project, ProjectId, Role,
    TokenHash, User, UserId,
};
use rusqlite::{Connection, OptionalExtension, Params, Row};

use crate::codec::{self, Key, after, bound, limit};
use crate::error::DbError;
use crate::sql;

type Result<T> = std::result::Result<T, DbError>;

/// Every row `statement` yields for `params`, decoded by `decode`.
fn all<T>(
    conn: &Connection,
    statement: &str,
    params: impl Params,
    decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(statement)?;
    let rows = stmt.query_map(params, decode)?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

/// The one row `statement` yields for `params`, if any, decoded by `decode`.
fn one<T>(
    conn: &Connection,
    statement: &str,
    params: impl Params,
    decode: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(statement)?;
    Ok(stmt.query_row(params, decode).optional()?)
}

/// A `COUNT(*)` as the trait's `u64`.
fn count(conn: &Connection, statement: &str, params: impl Params) -> Result<u64> {
    let mut stmt = conn.prepare_cached(statement)?;
    let n: i64 = stmt.query_row(params, |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) fn account(conn: &Connection, id: AccountId) -> Result<Option<Account>> {
    let rows = all(conn, sql::ACCOUNT, [id.key()], codec::account_row)?;
    Ok(codec::group_accounts(rows).pop())
}

pub(crate) fn accounts_of_user(conn: &Connection, user: UserId) -> Result<Vec<Account>> {
    let rows = all(
        conn,
        sql::ACCOUNTS_OF_USER,
        [user.key()],
        codec::account_row,
    )?;
    Ok(codec::group_accounts(rows))
}

pub(crate) fn project(conn: &Connection, id: ProjectId) -> Result<Option<Project>> {
    one(conn, sql::PROJECT, [id.key()], codec::project)
}

pub(crate) fn projects(conn: &Connection, account: AccountId) -> Result<Vec<Project>> {
    all(conn, sql::PROJECTS, [account.key()], codec::project)
}

pub(crate) fn user(conn: &Connection, id: UserId) -> Result<Option<User>> {
    one(conn, sql::USER, [id.key()], codec::user)
}

pub(crate) fn user_by_email(conn: &Connection, canonical: &str) -> Result<Option<User>> {
    one(conn, sql::USER_BY_EMAIL, [canonical], codec::user)
}

pub(crate) fn credentials(
    conn: &Connection,
    canonical: &str,
) -> Result<Option<(User, Option<PasswordHash>)>> {
    one(conn, sql::CREDENTIALS, [canonical], |row| {
        let user = codec::user(row)?;
        let phc: Option<String> = row.get(codec::USER_COLUMNS)?;
        Ok((user, phc.map(PasswordHash::from_phc)))
    })
}

pub(crate) fn membership(
    conn: &Connection,
    project: ProjectId,
    user: UserId,
) -> Result<Option<Membership>> {
    let params = [project.key(), user.key()];
    one(conn, sql::MEMBERSHIP, params, codec::membership)
}

pub(crate) fn members(
    conn: &Connection,
    project: ProjectId,
    after_user: Option<UserId>,
    max: usize,
) -> Result<Vec<Member>> {
    let params = (project.key(), after(after_user), limit(max));
    all(conn, sql::MEMBERS, params, codec::member)
}

pub(crate) fn count_members(conn: &Connection, project: ProjectId, role: Role) -> Result<u64> {
    count(conn, sql::COUNT_MEMBERS, (project.key(), role.as_str()))
}

pub(crate) fn invitation(conn: &Connection, id: InvitationId) -> Result<Option<Invitation>> {
    one(conn, sql::INVITATION, [id.key()], codec::invitation)
}

pub(crate) fn invitation_by_token(
    conn: &Connection,
    hash: &TokenHash,
) -> Result<Option<Invitation>> {
    one(
        conn,
        sql::INVITATION_BY_TOKEN,
        [hash.as_bytes()],
        codec::invitation,
    )
}

pub(crate) fn pending_invitation(
    conn: &Connection,
    project: ProjectId,
    canonical: &str,
) -> Result<Option<Invitation>> {
    let params = (project.key(), canonical);
    one(conn, sql::PENDING_INVITATION, params, codec::invitation)
}

pub(crate) fn invitations(conn: &Connection, query: &InvitationQuery) -> Result<Vec<Invitation>> {
    let (project, after, max) = (query.project.key(), after(query.after), limit(query.limit));
    let decode = codec::invitation;
    match query.state {
        None => all(conn, sql::INVITATIONS_ALL, (project, after, max), decode),
        Some(InvitationState::Pending) => {
            let params = (project, after, max, bound(query.now));
            all(conn, sql::INVITATIONS_PENDING, params, decode)
        }
        Some(InvitationState::Expired) => {
            let params = (project, after, max, bound(query.now));
            all(conn, sql::INVITATIONS_EXPIRED, params, decode)
        }
        Some(state) => {
            let params = (project, after, max, state.as_str());
            all(conn, sql::INVITATIONS_IN_STATE, params, decode)
        }
    }
}

pub(crate) fn count_pending_invitations(
    conn: &Connection,
    project: ProjectId,
    now: DateTime<Utc>,
) -> Result<u64> {
    count(conn, sql::COUNT_PENDING, (project.key(), bound(now)))
}

pub(crate) fn count_sends_by(
    conn: &Connection,
    sender: UserId,
    since: DateTime<Utc>,
) -> Result<u64> {
    count(conn, sql::COUNT_SENDS_BY, (sender.key(), bound(since)))
}

pub(crate) fn audit_events(
    conn: &Connection,
    project: ProjectId,
    after_event: Option<EventId>,
    max: usize,
) -> Result<Vec<AuditEvent>> {
    let params = (project.key(), after(after_event), limit(max));
    all(conn, sql::AUDIT_EVENTS, params, codec::audit_event)
}

pub(crate) fn outbox_entry(conn: &Connection, id: NoticeId) -> Result<Option<OutboxEntry>> {
    one(conn, sql::OUTBOX_ENTRY, [id.key()], codec::outbox_entry)
}

pub(crate) fn due_notices(
    conn: &Connection,
    now: DateTime<Utc>,
    max: usize,
) -> Result<Vec<OutboxEntry>> {
    let params = (bound(now), limit(max));
    all(conn, sql::DUE_NOTICES, params, codec::outbox_entry)
}

pub(crate) fn outbox(conn: &Connection, query: &OutboxQuery) -> Result<Vec<OutboxEntry>> {
    // One statement per filter combination, so each runs on its own index.
    let (after, max) = (after(query.after), limit(query.limit));
    let decode = codec::outbox_entry;
    match (query.project, query.status) {
        (None, None) => all(conn, sql::OUTBOX_ALL, (after, max), decode),
        (Some(project), None) => {
            let params = (after, max, project.key());
            all(conn, sql::OUTBOX_OF_PROJECT, params, decode)
        }
        (None, Some(DeliveryStatus::Failed)) => all(conn, sql::OUTBOX_FAILED, (after, max), decode),
        (None, Some(status)) => {
            let params = (after, max, status.as_str());
            all(conn, sql::OUTBOX_IN_STATUS, params, decode)
        }
        (Some(project), Some(DeliveryStatus::Failed)) => {
            let params = (after, max, project.key());
            all(conn, sql::OUTBOX_OF_PROJECT_FAILED, params, decode)
        }
        (Some(project), Some(status)) => {
            let params = (after, max, project.key(), status.as_str());
            all(conn, sql::OUTBOX_OF_PROJECT_IN_STATUS, params, decode)
        }
    }
}
