//! How domain values become SQL values and back: ids as 16-byte BLOBs, instants as nanoseconds,
//! enums by name, addresses re-parsed, and whole rows decoded into records.
//!
//! Decoding never trusts the file: a value that does not decode (a bad length, an unknown name,
//! an address that no longer parses) is a conversion error, which the store reports as a
//! non-retryable backend error rather than a wrong record.

use chrono::{DateTime, Utc};
use roster::store::Member;
use roster::{
    Account, AccountId, AuditAction, AuditEvent, DeliveryStatus, Email, EventId, Invitation,
    InvitationId, InvitationState, Membership, Notice, NoticeId, NoticeKind, OutboxEntry, Project,
    ProjectId, Role, StoreError, TokenHash, User, UserId, Version,
};
use rusqlite::Row;
use rusqlite::types::Type;
use uuid::Uuid;

use crate::error::{DbError, TimestampOutOfRange, VersionOutOfRange};
use crate::tables::{invitations, outbox};

/// An id stored as its 16 UUID bytes, whose byte order is id order.
pub(crate) trait Key: Copy {
    /// The bytes to store.
    fn key(self) -> [u8; 16];
}

macro_rules! impl_key {
    ($($id:ty),*) => {$(
        impl Key for $id {
            fn key(self) -> [u8; 16] {
                self.as_uuid().into_bytes()
            }
        }
    )*};
}

impl_key!(
    AccountId,
    ProjectId,
    UserId,
    InvitationId,
    EventId,
    NoticeId
);

/// The key of an optional id.
pub(crate) fn opt_key<K: Key>(id: Option<K>) -> Option<[u8; 16]> {
    id.map(Key::key)
}

/// The lower bound of a keyset page: strictly after the cursor, or after nothing. The empty
/// BLOB sorts before every 16-byte id, so one statement serves both.
pub(crate) fn after<K: Key>(cursor: Option<K>) -> Vec<u8> {
    cursor.map(|id| id.key().to_vec()).unwrap_or_default()
}

/// A `LIMIT` value: SQLite reads a negative limit as "no limit", so large ones are clamped.
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// An instant to store: nanoseconds since the epoch, exact, or an error for instants outside
/// what an `i64` of nanoseconds holds.
pub(crate) fn nanos(at: DateTime<Utc>) -> Result<i64, DbError> {
    at.timestamp_nanos_opt()
        .ok_or_else(|| StoreError::backend(TimestampOutOfRange { at }).into())
}

/// An optional instant to store.
pub(crate) fn opt_nanos(at: Option<DateTime<Utc>>) -> Result<Option<i64>, DbError> {
    at.map(nanos).transpose()
}

/// An instant to compare stored instants with. Outside the storable range it saturates, which
/// keeps every comparison right: a bound past 2262 is after every stored instant.
pub(crate) fn bound(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() > 0 {
        i64::MAX
    } else {
        i64::MIN
    })
}

/// A version to store or compare with.
pub(crate) fn version(version: Version) -> Result<i64, DbError> {
    i64::try_from(version.0).map_err(|_| StoreError::backend(VersionOutOfRange(version.0)).into())
}

/// The stable name of a notice kind (its serde name, the same as in JSON).
pub(crate) fn kind_name(kind: NoticeKind) -> Result<String, DbError> {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Err(StoreError::backend(format!("notice kind {kind:?} named {other}")).into()),
        Err(error) => Err(StoreError::backend(error).into()),
    }
}

/// The JSON of an audit action.
pub(crate) fn action_json(action: &AuditAction) -> Result<String, DbError> {
    serde_json::to_string(action).map_err(|error| StoreError::backend(error).into())
}

/// A conversion failure of column `idx`, which the store reports as corrupt data.
fn corrupt(
    idx: usize,
    ty: Type,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, error.into())
}

fn id<T: From<Uuid>>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let bytes: [u8; 16] = row.get(idx)?;
    Ok(T::from(Uuid::from_bytes(bytes)))
}

fn opt_id<T: From<Uuid>>(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<T>> {
    let bytes: Option<[u8; 16]> = row.get(idx)?;
    Ok(bytes.map(|bytes| T::from(Uuid::from_bytes(bytes))))
}

fn instant(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    Ok(DateTime::from_timestamp_nanos(row.get(idx)?))
}

fn opt_instant(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let nanos: Option<i64> = row.get(idx)?;
    Ok(nanos.map(DateTime::from_timestamp_nanos))
}

fn email(row: &Row<'_>, idx: usize) -> rusqlite::Result<Email> {
    let typed: String = row.get(idx)?;
    Email::parse(&typed).map_err(|error| corrupt(idx, Type::Text, error))
}

fn named<T>(
    row: &Row<'_>,
    idx: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let name: String = row.get(idx)?;
    parse(&name).ok_or_else(|| corrupt(idx, Type::Text, format!("unknown {what} {name:?}")))
}

fn role(row: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    named(row, idx, "role", Role::from_name)
}

fn count<T: TryFrom<i64>>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let value: i64 = row.get(idx)?;
    T::try_from(value).map_err(|_| corrupt(idx, Type::Integer, format!("{value} out of range")))
}

fn stored_version(row: &Row<'_>, idx: usize) -> rusqlite::Result<Version> {
    count(row, idx).map(Version)
}

/// A project from the `project_columns!` of [`crate::sql`].
pub(crate) fn project(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: id(row, 0)?,
        account: id(row, 1)?,
        name: row.get(2)?,
        created_at: instant(row, 3)?,
        version: stored_version(row, 4)?,
    })
}

/// One row of an account joined with one of its administrators (`NULL` for an account without
/// any), from the `account_columns!` of [`crate::sql`].
pub(crate) fn account_row(row: &Row<'_>) -> rusqlite::Result<(Account, Option<UserId>)> {
    let account = Account {
        id: id(row, 0)?,
        name: row.get(1)?,
        administrators: Vec::new(),
        created_at: instant(row, 2)?,
        allowed_domains: domains(&row.get::<_, String>(4)?),
    };
    Ok((account, opt_id(row, 3)?))
}

/// The allowed domains of an account as stored: canonical domains, separated by spaces (no
/// domain holds one).
pub(crate) fn domains(stored: &str) -> Vec<String> {
    stored
        .split(' ')
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The stored form of [`domains`].
pub(crate) fn domains_column(domains: &[String]) -> String {
    domains.join(" ")
}

/// Folds account rows (ordered by account, then administrator position) into accounts.
pub(crate) fn group_accounts(
    rows: impl IntoIterator<Item = (Account, Option<UserId>)>,
) -> Vec<Account> {
    let mut accounts: Vec<Account> = Vec::new();
    for (account, administrator) in rows {
        let same = accounts.last().is_some_and(|last| last.id == account.id);
        if !same {
            accounts.push(account);
        }
        if let (Some(last), Some(user)) = (accounts.last_mut(), administrator) {
            last.administrators.push(user);
        }
    }
    accounts
}

/// How many columns `user_columns!` names.
pub(crate) const USER_COLUMNS: usize = 5;

/// A user from the `user_columns!` of [`crate::sql`] starting at column `at`.
pub(crate) fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: id(row, at)?,
        email: email(row, at + 1)?,
        registered_at: opt_instant(row, at + 2)?,
        created_at: instant(row, at + 3)?,
        version: stored_version(row, at + 4)?,
    })
}

/// A user from the `user_columns!` of [`crate::sql`].
pub(crate) fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    user_at(row, 0)
}

/// A membership from the `membership_columns!` of [`crate::sql`].
pub(crate) fn membership(row: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        project: id(row, 0)?,
        user: id(row, 1)?,
        role: role(row, 2)?,
        invited_by: opt_id(row, 3)?,
        since: instant(row, 4)?,
    })
}

/// A member: the `membership_columns!` of [`crate::sql`], then its `user_columns!`.
pub(crate) fn member(row: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        membership: membership(row)?,
        user: user_at(row, 5)?,
    })
}

/// An invitation from a row of [`invitations`], read by column.
pub(crate) fn invitation(row: &Row<'_>) -> rusqlite::Result<Invitation> {
    use invitations::Column as C;
    let hash: [u8; 32] = row.get(C::token_hash.at())?;
    Ok(Invitation {
        id: id(row, C::id.at())?,
        project: id(row, C::project_id.at())?,
        email: email(row, C::email.at())?,
        role: role(row, C::role.at())?,
        invited_by: id(row, C::invited_by.at())?,
        state: named(
            row,
            C::state.at(),
            "invitation state",
            InvitationState::from_name,
        )?,
        created_at: instant(row, C::created_at.at())?,
        sent_at: instant(row, C::sent_at.at())?,
        expires_at: instant(row, C::expires_at.at())?,
        closed_at: opt_instant(row, C::closed_at.at())?,
        token_hash: TokenHash::from_bytes(hash),
        sends: count(row, C::sends.at())?,
        language: row.get(C::language.at())?,
    })
}

/// An audit event from the `audit_columns!` of [`crate::sql`].
pub(crate) fn audit_event(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let json: String = row.get(5)?;
    let action = serde_json::from_str(&json).map_err(|error| corrupt(5, Type::Text, error))?;
    Ok(AuditEvent {
        id: id(row, 0)?,
        at: instant(row, 1)?,
        actor: opt_id(row, 2)?,
        account: id(row, 3)?,
        project: event_project(row, 4)?,
        action,
    })
}

/// The project of an audit event: the empty BLOB stands for none (the column is part of the
/// table's key, so it cannot be NULL).
fn event_project(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<ProjectId>> {
    let bytes: Vec<u8> = row.get(idx)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| corrupt(idx, Type::Blob, IdLength(bytes.len())))?;
    Ok(Some(ProjectId::from(Uuid::from_bytes(bytes))))
}

/// The key column of an audit event's project (see `event_project`).
pub(crate) fn event_project_key(project: Option<ProjectId>) -> Vec<u8> {
    project
        .map(|project| project.key().to_vec())
        .unwrap_or_default()
}

/// A stored id of the wrong length.
#[derive(Debug, thiserror::Error)]
#[error("an id of {0} bytes, not 16")]
struct IdLength(usize);

fn kind(row: &Row<'_>, idx: usize) -> rusqlite::Result<NoticeKind> {
    let name: String = row.get(idx)?;
    serde_json::from_value(serde_json::Value::String(name))
        .map_err(|error| corrupt(idx, Type::Text, error))
}

/// An outbox entry from a row of [`outbox`], read by column.
pub(crate) fn outbox_entry(row: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    use outbox::Column as C;
    Ok(OutboxEntry {
        id: id::<NoticeId>(row, C::id.at())?,
        notice: Notice {
            kind: kind(row, C::kind.at())?,
            to: email(row, C::to_email.at())?,
            invitation: id(row, C::invitation_id.at())?,
            project: id(row, C::project_id.at())?,
            project_name: row.get(C::project_name.at())?,
            account_name: row.get(C::account_name.at())?,
            role: role(row, C::role.at())?,
            role_name: row.get(C::role_name.at())?,
            inviter: email(row, C::inviter.at())?,
            sent_by: id(row, C::sent_by.at())?,
            expires_at: instant(row, C::expires_at.at())?,
            send: count(row, C::send.at())?,
            language: row.get(C::language.at())?,
        },
        status: named(
            row,
            C::status.at(),
            "delivery status",
            DeliveryStatus::from_name,
        )?,
        attempts: count(row, C::attempts.at())?,
        next_attempt_at: instant(row, C::next_attempt_at.at())?,
        last_error: row.get(C::last_error.at())?,
        created_at: instant(row, C::created_at.at())?,
        finished_at: opt_instant(row, C::finished_at.at())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_round_trip_to_the_nanosecond() {
        let at = Utc
            .timestamp_opt(1_767_225_600, 123_456_789)
            .single()
            .unwrap();
        let stored = nanos(at).unwrap();
        assert_eq!(DateTime::from_timestamp_nanos(stored), at);
    }

    #[test]
    fn instants_outside_the_range_are_refused_on_write_and_saturate_as_bounds() {
        let far = Utc.with_ymd_and_hms(3000, 1, 1, 0, 0, 0).unwrap();
        let early = Utc.with_ymd_and_hms(1000, 1, 1, 0, 0, 0).unwrap();
        assert!(matches!(
            nanos(far),
            Err(DbError::Store(StoreError::Backend {
                retryable: false,
                ..
            }))
        ));
        assert_eq!(bound(far), i64::MAX);
        assert_eq!(bound(early), i64::MIN);
    }

    #[test]
    fn the_empty_cursor_sorts_before_every_id() {
        let lowest: UserId = Uuid::nil().into();
        assert!(after::<UserId>(None) < after(Some(lowest)));
        assert_eq!(after(Some(lowest)).len(), 16);
    }

    #[test]
    fn limits_never_turn_negative() {
        assert_eq!(limit(usize::MAX), i64::MAX);
        assert_eq!(limit(3), 3);
    }

    #[test]
    fn notice_kinds_have_snake_case_names() {
        assert_eq!(
            kind_name(NoticeKind::AccessGranted).unwrap(),
            "access_granted"
        );
        assert_eq!(kind_name(NoticeKind::Invitation).unwrap(), "invitation");
    }

    #[test]
    fn versions_beyond_i64_are_refused() {
        assert_eq!(version(Version(7)).unwrap(), 7);
        assert!(version(Version(u64::MAX)).is_err());
    }
}
