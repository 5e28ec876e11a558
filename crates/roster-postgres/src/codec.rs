//! How domain values become PostgreSQL values and back: ids as `uuid`, instants as `bigint`
//! nanoseconds, enums by name, addresses re-parsed, and whole rows decoded into records.
//!
//! Decoding never trusts the database: a value that does not decode (an unknown name, an
//! address that no longer parses) is a non-retryable backend error rather than a wrong record.
//! Decoders take the position of their first column, so one joined row can hold several records.

use chrono::{DateTime, Utc};
use roster::store::Member;
use roster::{
    Account, AccountId, AuditEvent, DeliveryStatus, Email, EventId, Invitation, InvitationId,
    InvitationState, Membership, Notice, NoticeId, NoticeKind, OutboxEntry, Project, ProjectId,
    Role, StoreError, TokenHash, User, UserId, Version,
};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;
use uuid::Uuid;

/// A decoding result: conversion failures are corrupt data.
pub(crate) type Decoded<T> = Result<T, StoreError>;

/// An id stored as a `uuid`.
pub(crate) trait Key: Copy {
    /// The value to store.
    fn key(self) -> Uuid;
}

macro_rules! impl_key {
    ($($id:ty),*) => {$(
        impl Key for $id {
            fn key(self) -> Uuid {
                self.as_uuid()
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
pub(crate) fn opt_key<K: Key>(id: Option<K>) -> Option<Uuid> {
    id.map(Key::key)
}

/// The lower bound of a keyset page: strictly after the cursor, or after the nil id, which
/// sorts before every UUID v7 (a nil id itself is never a record's id).
pub(crate) fn after<K: Key>(cursor: Option<K>) -> Uuid {
    cursor.map(Key::key).unwrap_or_else(Uuid::nil)
}

/// A `LIMIT` value, clamped to what PostgreSQL takes.
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// An instant outside what the store keeps exactly.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} cannot be stored: the PostgreSQL store keeps instants between the years 1677 and 2262"
)]
pub(crate) struct TimestampOutOfRange(DateTime<Utc>);

/// An instant to store: nanoseconds since the epoch, exact.
pub(crate) fn nanos(at: DateTime<Utc>) -> Result<i64, StoreError> {
    at.timestamp_nanos_opt()
        .ok_or_else(|| StoreError::backend(TimestampOutOfRange(at)))
}

/// An optional instant to store.
pub(crate) fn opt_nanos(at: Option<DateTime<Utc>>) -> Result<Option<i64>, StoreError> {
    at.map(nanos).transpose()
}

/// An instant to compare stored instants with; saturates outside the storable range.
pub(crate) fn bound(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() > 0 {
        i64::MAX
    } else {
        i64::MIN
    })
}

/// A version as stored, or `-1` (never stored: versions are checked non-negative) for one
/// beyond `bigint`.
pub(crate) fn version(version: Version) -> i64 {
    i64::try_from(version.0).unwrap_or(-1)
}

/// The stable name of a notice kind (its serde name).
pub(crate) fn kind_name(kind: NoticeKind) -> Result<String, StoreError> {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Err(StoreError::backend(format!(
            "notice kind {kind:?} named {other}"
        ))),
        Err(error) => Err(StoreError::backend(error)),
    }
}

/// The JSON of an audit action.
pub(crate) fn action_json(action: &roster::AuditAction) -> Result<String, StoreError> {
    serde_json::to_string(action).map_err(StoreError::backend)
}

/// The stored form of allowed domains: separated by spaces (no domain holds one).
pub(crate) fn domains_column(domains: &[String]) -> String {
    domains.join(" ")
}

fn domains(stored: &str) -> Vec<String> {
    stored
        .split(' ')
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A column of a row, or corrupt data.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Decoded<T> {
    row.try_get(idx).map_err(StoreError::backend)
}

fn corrupt(what: String) -> StoreError {
    StoreError::backend(what)
}

fn id<T: From<Uuid>>(row: &Row, idx: usize) -> Decoded<T> {
    Ok(T::from(get::<Uuid>(row, idx)?))
}

fn opt_id<T: From<Uuid>>(row: &Row, idx: usize) -> Decoded<Option<T>> {
    Ok(get::<Option<Uuid>>(row, idx)?.map(T::from))
}

/// Whether the record starting at `idx` (a left join's side) is there: its key is not NULL.
pub(crate) fn present(row: &Row, idx: usize) -> Decoded<bool> {
    Ok(get::<Option<Uuid>>(row, idx)?.is_some())
}

/// The record `decode` reads at `at`, if a left join found one ([`present`]).
fn optional<T>(row: &Row, at: usize, decode: fn(&Row, usize) -> Decoded<T>) -> Decoded<Option<T>> {
    if present(row, at)? {
        decode(row, at).map(Some)
    } else {
        Ok(None)
    }
}

fn instant(row: &Row, idx: usize) -> Decoded<DateTime<Utc>> {
    Ok(DateTime::from_timestamp_nanos(get(row, idx)?))
}

fn opt_instant(row: &Row, idx: usize) -> Decoded<Option<DateTime<Utc>>> {
    Ok(get::<Option<i64>>(row, idx)?.map(DateTime::from_timestamp_nanos))
}

fn email(row: &Row, idx: usize) -> Decoded<Email> {
    let typed: &str = get(row, idx)?;
    Email::parse(typed).map_err(|error| corrupt(format!("stored address {typed:?}: {error}")))
}

fn named<T>(row: &Row, idx: usize, what: &str, parse: impl Fn(&str) -> Option<T>) -> Decoded<T> {
    let name: &str = get(row, idx)?;
    parse(name).ok_or_else(|| corrupt(format!("unknown {what} {name:?}")))
}

fn role(row: &Row, idx: usize) -> Decoded<Role> {
    named(row, idx, "role", Role::from_name)
}

fn count<T: TryFrom<i64>>(row: &Row, idx: usize) -> Decoded<T> {
    let value: i64 = get(row, idx)?;
    T::try_from(value).map_err(|_| corrupt(format!("{value} out of range")))
}

/// A `count(*)` at `idx` as the trait's `u64`.
pub(crate) fn total(row: &Row, idx: usize) -> Decoded<u64> {
    count(row, idx)
}

/// How many columns `project_columns!` names.
pub(crate) const PROJECT_COLUMNS: usize = 5;
/// How many columns `account_columns!` names.
pub(crate) const ACCOUNT_COLUMNS: usize = 5;
/// How many columns `user_columns!` names.
pub(crate) const USER_COLUMNS: usize = 5;
/// How many columns `membership_columns!` names.
pub(crate) const MEMBERSHIP_COLUMNS: usize = 5;
/// How many columns `invitation_columns!` names.
pub(crate) const INVITATION_COLUMNS: usize = 14;

/// A project from `project_columns!` at `at`.
pub(crate) fn project(row: &Row, at: usize) -> Decoded<Project> {
    Ok(Project {
        id: id(row, at)?,
        account: id(row, at + 1)?,
        name: get(row, at + 2)?,
        created_at: instant(row, at + 3)?,
        version: Version(count(row, at + 4)?),
    })
}

/// An account from `account_columns!` at `at` (its administrators aggregated in order).
pub(crate) fn account(row: &Row, at: usize) -> Decoded<Account> {
    let administrators: Vec<Uuid> = get(row, at + 4)?;
    Ok(Account {
        id: id(row, at)?,
        name: get(row, at + 1)?,
        created_at: instant(row, at + 2)?,
        allowed_domains: domains(get(row, at + 3)?),
        administrators: administrators.into_iter().map(UserId::from).collect(),
    })
}

/// A user from `user_columns!` at `at`.
pub(crate) fn user(row: &Row, at: usize) -> Decoded<User> {
    Ok(User {
        id: id(row, at)?,
        email: email(row, at + 1)?,
        registered_at: opt_instant(row, at + 2)?,
        created_at: instant(row, at + 3)?,
        version: Version(count(row, at + 4)?),
    })
}

/// A user from a left join at `at`, if there.
pub(crate) fn opt_user(row: &Row, at: usize) -> Decoded<Option<User>> {
    optional(row, at, user)
}

/// A membership from `membership_columns!` at `at`.
pub(crate) fn membership(row: &Row, at: usize) -> Decoded<Membership> {
    Ok(Membership {
        project: id(row, at)?,
        user: id(row, at + 1)?,
        role: role(row, at + 2)?,
        invited_by: opt_id(row, at + 3)?,
        since: instant(row, at + 4)?,
    })
}

/// A membership from a left join at `at`, if there.
pub(crate) fn opt_membership(row: &Row, at: usize) -> Decoded<Option<Membership>> {
    optional(row, at, membership)
}

/// A member: `membership_columns!`, then `user_columns!`.
pub(crate) fn member(row: &Row) -> Decoded<Member> {
    Ok(Member {
        membership: membership(row, 0)?,
        user: user(row, MEMBERSHIP_COLUMNS)?,
    })
}

/// An invitation from `invitation_columns!` at `at`.
pub(crate) fn invitation(row: &Row, at: usize) -> Decoded<Invitation> {
    let hash: &[u8] = get(row, at + 10)?;
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| corrupt(format!("a token hash of {} bytes", hash.len())))?;
    Ok(Invitation {
        id: id(row, at)?,
        project: id(row, at + 1)?,
        email: email(row, at + 2)?,
        role: role(row, at + 3)?,
        invited_by: id(row, at + 4)?,
        state: named(row, at + 5, "invitation state", InvitationState::from_name)?,
        created_at: instant(row, at + 6)?,
        sent_at: instant(row, at + 7)?,
        expires_at: instant(row, at + 8)?,
        closed_at: opt_instant(row, at + 9)?,
        token_hash: TokenHash::from_bytes(hash),
        sends: count(row, at + 11)?,
        language: get(row, at + 12)?,
    })
}

/// An invitation from a left join at `at`, if there.
pub(crate) fn opt_invitation(row: &Row, at: usize) -> Decoded<Option<Invitation>> {
    optional(row, at, invitation)
}

/// An audit event from `audit_columns!`.
pub(crate) fn audit_event(row: &Row) -> Decoded<AuditEvent> {
    let json: &str = get(row, 5)?;
    let action = serde_json::from_str(json).map_err(StoreError::backend)?;
    Ok(AuditEvent {
        id: id(row, 0)?,
        at: instant(row, 1)?,
        actor: opt_id(row, 2)?,
        account: id(row, 3)?,
        project: opt_id(row, 4)?,
        action,
    })
}

fn kind(row: &Row, idx: usize) -> Decoded<NoticeKind> {
    let name: &str = get(row, idx)?;
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(StoreError::backend)
}

/// An outbox entry from `outbox_columns!` at `at`.
pub(crate) fn outbox_entry(row: &Row, at: usize) -> Decoded<OutboxEntry> {
    Ok(OutboxEntry {
        id: id::<NoticeId>(row, at)?,
        notice: Notice {
            kind: kind(row, at + 1)?,
            to: email(row, at + 2)?,
            invitation: id(row, at + 3)?,
            project: id(row, at + 4)?,
            project_name: get(row, at + 5)?,
            account_name: get(row, at + 6)?,
            role: role(row, at + 7)?,
            inviter: email(row, at + 8)?,
            expires_at: instant(row, at + 9)?,
            send: count(row, at + 10)?,
            language: get(row, at + 17)?,
            sent_by: id(row, at + 18)?,
            role_name: get(row, at + 19)?,
        },
        status: named(row, at + 11, "delivery status", DeliveryStatus::from_name)?,
        attempts: count(row, at + 12)?,
        next_attempt_at: instant(row, at + 13)?,
        last_error: get(row, at + 14)?,
        created_at: instant(row, at + 15)?,
        finished_at: opt_instant(row, at + 16)?,
    })
}

/// How many columns `outbox_columns!` names.
pub(crate) const OUTBOX_COLUMNS: usize = 20;
