//! The listings and the sign-in lookup: one statement each, outside any explicit transaction
//! (so each sees one committed snapshot), searching an index.

use chrono::{DateTime, Utc};
use deadpool_postgres::ClientWrapper;
use roster::store::{InvitationQuery, Member, OutboxQuery};
use roster::{
    Account, AccountId, AuditEvent, EventId, Invitation, InvitationState, OutboxEntry,
    PasswordHash, Project, ProjectId, StoreError, User, UserId,
};
use tokio_postgres::Row;

use crate::codec::{self, Key, USER_COLUMNS, after, bound, limit};
use crate::error::store_error;
use crate::pipeline::Param;
use crate::sql;

/// The rows `sql` yields for `params`, decoded by `decode`.
async fn all<T>(
    client: &ClientWrapper,
    sql: &str,
    params: Vec<Param>,
    decode: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(store_error)?;
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let rows = client.query(&statement, &refs).await.map_err(store_error)?;
    rows.iter().map(decode).collect()
}

pub(crate) async fn projects(
    c: &ClientWrapper,
    account: AccountId,
) -> Result<Vec<Project>, StoreError> {
    all(c, sql::PROJECTS, params![account.key()], |r| {
        codec::project(r, 0)
    })
    .await
}

pub(crate) async fn accounts_of_user(
    c: &ClientWrapper,
    user: UserId,
) -> Result<Vec<Account>, StoreError> {
    all(c, sql::ACCOUNTS_OF_USER, params![user.key()], |r| {
        codec::account(r, 0)
    })
    .await
}

pub(crate) async fn credentials(
    c: &ClientWrapper,
    canonical: String,
) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
    let found = all(c, sql::CREDENTIALS, params![canonical], |r| {
        let phc: Option<String> = codec::get(r, USER_COLUMNS)?;
        Ok((codec::user(r, 0)?, phc.map(PasswordHash::from_phc)))
    })
    .await?;
    Ok(found.into_iter().next())
}

pub(crate) async fn members(
    c: &ClientWrapper,
    project: ProjectId,
    after_user: Option<UserId>,
    max: usize,
) -> Result<Vec<Member>, StoreError> {
    let params = params![project.key(), after(after_user), limit(max)];
    all(c, sql::MEMBERS, params, codec::member).await
}

pub(crate) async fn invitations(
    c: &ClientWrapper,
    query: &InvitationQuery,
) -> Result<Vec<Invitation>, StoreError> {
    let (project, after, max) = (query.project.key(), after(query.after), limit(query.limit));
    let decode = |r: &Row| codec::invitation(r, 0);
    match query.state {
        None => {
            all(
                c,
                sql::INVITATIONS_ALL,
                params![project, after, max],
                decode,
            )
            .await
        }
        Some(InvitationState::Pending) => {
            let params = params![project, after, max, bound(query.now)];
            all(c, sql::INVITATIONS_PENDING, params, decode).await
        }
        Some(InvitationState::Expired) => {
            let params = params![project, after, max, bound(query.now)];
            all(c, sql::INVITATIONS_EXPIRED, params, decode).await
        }
        Some(state) => {
            let params = params![project, after, max, state.as_str().to_owned()];
            all(c, sql::INVITATIONS_IN_STATE, params, decode).await
        }
    }
}

pub(crate) async fn audit_events(
    c: &ClientWrapper,
    project: ProjectId,
    after_event: Option<EventId>,
    max: usize,
) -> Result<Vec<AuditEvent>, StoreError> {
    let params = params![project.key(), after(after_event), limit(max)];
    all(c, sql::AUDIT_EVENTS, params, codec::audit_event).await
}

pub(crate) async fn due_notices(
    c: &ClientWrapper,
    now: DateTime<Utc>,
    max: usize,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let params = params![bound(now), limit(max)];
    all(c, sql::DUE_NOTICES, params, |r| codec::outbox_entry(r, 0)).await
}

pub(crate) async fn outbox(
    c: &ClientWrapper,
    query: &OutboxQuery,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let params = params![
        after(query.after),
        limit(query.limit),
        codec::opt_key(query.project),
        query.status.map(|s| s.as_str().to_owned()),
    ];
    all(c, sql::OUTBOX, params, |r| codec::outbox_entry(r, 0)).await
}
