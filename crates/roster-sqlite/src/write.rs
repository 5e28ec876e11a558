//! A step's change, written inside the writer's transaction (see `group`) in the order
//! documented on [`Change`]; the step's savepoint is rolled back on the first error.
//!
//! SQLite's constraints are the second line behind the core's rules, and their violations are
//! mapped to the `StoreError` the contract names. Where one violation could mean two things (a
//! foreign key does not say which parent is missing; a duplicate invitation could also point at
//! an unknown project, which the contract checks first), the write looks again inside the same
//! transaction. Those look-ups run only on the failure path, so a successful change costs
//! exactly its writes.

use std::collections::HashMap;

use roster::store::{
    AccountWrite, Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite,
};
use roster::{
    Account, AuditEvent, Change, Entity, Invitation, Membership, OutboxEntry, PasswordHash,
    Project, ProjectId, StoreError, User, UserId, Version,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::codec::{self, Key, nanos, opt_key, opt_nanos};
use crate::error::{DbError, Violation, unique_is_taken, violation};
use crate::tables::{invitations, outbox};
use crate::{sql, update};

type Result<T> = std::result::Result<T, DbError>;

/// Every step of a change, on a connection inside a transaction. Dropping that transaction
/// after an error undoes the steps done so far.
pub(crate) fn write_change(conn: &Connection, change: &Change) -> Result<()> {
    check_and_bump(conn, &change.expect)?;
    for write in &change.accounts {
        match write {
            AccountWrite::Insert(account) => insert_account(conn, account)?,
            AccountWrite::Update(account) => update_account(conn, account)?,
        }
    }
    for project in &change.projects {
        insert_project(conn, project)?;
    }
    for write in &change.users {
        write_user(conn, write)?;
    }
    for write in &change.memberships {
        write_membership(conn, write)?;
    }
    for write in &change.invitations {
        write_invitation(conn, write)?;
    }
    for event in &change.audit {
        insert_audit_event(conn, event)?;
    }
    for write in &change.outbox {
        write_outbox(conn, write)?;
    }
    Ok(())
}

/// A record an expectation names.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Named {
    Project(ProjectId),
    User(UserId),
}

/// Steps 1 and 3 of the contract at once: each expectation is a guarded
/// `UPDATE ... SET version = version + 1 WHERE id = ? AND version = ?`, whose "no row" is then
/// told apart as `NotFound` or `Conflict`. Bumping at the start instead of the end is invisible:
/// it happens inside the transaction, and no write of step 2 touches a version.
///
/// A record named twice is bumped once; its later expectations must name the version its first
/// one held, as they are all judged against the stored state before the change.
fn check_and_bump(conn: &Connection, expect: &[Expectation]) -> Result<()> {
    let mut held: HashMap<Named, Version> = HashMap::new();
    for expectation in expect {
        let (named, version) = match *expectation {
            Expectation::ProjectVersion { project, version } => (Named::Project(project), version),
            Expectation::UserVersion { user, version } => (Named::User(user), version),
        };
        let entity = match named {
            Named::Project(_) => Entity::Project,
            Named::User(_) => Entity::User,
        };
        if let Some(first) = held.get(&named) {
            if *first != version {
                return Err(StoreError::Conflict(entity).into());
            }
            continue;
        }
        if !bump(conn, named, version)? {
            let error = if exists(conn, named)? {
                StoreError::Conflict(entity)
            } else {
                StoreError::NotFound(entity)
            };
            return Err(error.into());
        }
        held.insert(named, version);
    }
    Ok(())
}

/// Moves `named` one version forward if it is at `version`. Returns whether it was.
fn bump(conn: &Connection, named: Named, version: Version) -> Result<bool> {
    // A version beyond SQLite's integers cannot be the stored one.
    let Ok(version) = i64::try_from(version.0) else {
        return Ok(false);
    };
    let (statement, key) = match named {
        Named::Project(id) => (sql::BUMP_PROJECT, id.key()),
        Named::User(id) => (sql::BUMP_USER, id.key()),
    };
    Ok(conn.prepare_cached(statement)?.execute((key, version))? == 1)
}

fn exists(conn: &Connection, named: Named) -> Result<bool> {
    let (statement, key) = match named {
        Named::Project(id) => (sql::PROJECT_EXISTS, id.key()),
        Named::User(id) => (sql::USER_EXISTS, id.key()),
    };
    let found: Option<i64> = conn
        .prepare_cached(statement)?
        .query_row([key], |row| row.get(0))
        .optional()?;
    Ok(found.is_some())
}

fn insert_account(conn: &Connection, account: &Account) -> Result<()> {
    conn.prepare_cached(sql::INSERT_ACCOUNT)?
        .execute((
            account.id.key(),
            &account.name,
            nanos(account.created_at)?,
            codec::domains_column(&account.allowed_domains),
        ))
        .map_err(|error| unique_is_taken(error, Entity::Account))?;
    insert_administrators(conn, account)
}

/// Replaces an account's name, allowed domains and administrators (rare: no statement is
/// saved by diffing the list).
fn update_account(conn: &Connection, account: &Account) -> Result<()> {
    let changed = conn.prepare_cached(sql::UPDATE_ACCOUNT)?.execute((
        account.id.key(),
        &account.name,
        codec::domains_column(&account.allowed_domains),
    ))?;
    found(changed, Entity::Account)?;
    conn.prepare_cached(sql::DELETE_ACCOUNT_ADMINISTRATORS)?
        .execute([account.id.key()])?;
    insert_administrators(conn, account)
}

fn insert_administrators(conn: &Connection, account: &Account) -> Result<()> {
    let mut administrator = conn.prepare_cached(sql::INSERT_ACCOUNT_ADMINISTRATOR)?;
    for (position, user) in (0_i64..).zip(&account.administrators) {
        administrator.execute((account.id.key(), position, user.key()))?;
    }
    Ok(())
}

fn insert_project(conn: &Connection, project: &Project) -> Result<()> {
    // Inserted at the initial version whatever the record carries: only expectations move it.
    conn.prepare_cached(sql::INSERT_PROJECT)?
        .execute((
            project.id.key(),
            project.account.key(),
            &project.name,
            nanos(project.created_at)?,
            codec::version(Version::INITIAL)?,
        ))
        .map_err(|error| unique_is_taken(error, Entity::Project))?;
    Ok(())
}

fn write_user(conn: &Connection, write: &UserWrite) -> Result<()> {
    match write {
        UserWrite::Insert { user, password } => insert_user(conn, user, password.as_ref()),
        UserWrite::Update { user, password } => update_user(conn, user, password.as_ref()),
    }
}

fn insert_user(conn: &Connection, user: &User, password: Option<&PasswordHash>) -> Result<()> {
    // Inserted at the initial version whatever the record carries.
    conn.prepare_cached(sql::INSERT_USER)?
        .execute((
            user.id.key(),
            user.email.as_str(),
            opt_nanos(user.registered_at)?,
            nanos(user.created_at)?,
            codec::version(Version::INITIAL)?,
            user.email.canonical(),
            password.map(PasswordHash::as_phc),
        ))
        .map_err(|error| unique_is_taken(error, Entity::User))?;
    Ok(())
}

/// Replaces a user's fields. The version is left alone (updates keep the stored version), and so
/// is the password hash when `password` is `None`.
fn update_user(conn: &Connection, user: &User, password: Option<&PasswordHash>) -> Result<()> {
    let changed = conn
        .prepare_cached(sql::UPDATE_USER)?
        .execute((
            user.id.key(),
            user.email.as_str(),
            user.email.canonical(),
            opt_nanos(user.registered_at)?,
            nanos(user.created_at)?,
            password.map(PasswordHash::as_phc),
        ))
        .map_err(|error| unique_is_taken(error, Entity::User))?;
    found(changed, Entity::User)
}

/// `Ok` if a statement changed a row, `NotFound(entity)` if it matched none.
fn found(changed: usize, entity: Entity) -> Result<()> {
    if changed == 0 {
        Err(StoreError::NotFound(entity).into())
    } else {
        Ok(())
    }
}

fn write_membership(conn: &Connection, write: &MembershipWrite) -> Result<()> {
    match write {
        MembershipWrite::Insert(membership) => insert_membership(conn, membership),
        MembershipWrite::Update(membership) => {
            let changed = conn.prepare_cached(sql::UPDATE_MEMBERSHIP)?.execute((
                membership.project.key(),
                membership.user.key(),
                membership.role.as_str(),
                opt_key(membership.invited_by),
                nanos(membership.since)?,
            ))?;
            found(changed, Entity::Membership)
        }
        MembershipWrite::Delete { project, user } => {
            let changed = conn
                .prepare_cached(sql::DELETE_MEMBERSHIP)?
                .execute((project.key(), user.key()))?;
            found(changed, Entity::Membership)
        }
    }
}

fn insert_membership(conn: &Connection, membership: &Membership) -> Result<()> {
    let inserted = conn.prepare_cached(sql::INSERT_MEMBERSHIP)?.execute((
        membership.project.key(),
        membership.user.key(),
        membership.role.as_str(),
        opt_key(membership.invited_by),
        nanos(membership.since)?,
    ));
    match inserted {
        Ok(_) => Ok(()),
        Err(error) => match violation(&error) {
            // The contract checks the project, then the user, then uniqueness.
            Some(_) => {
                missing_project(conn, membership.project)?;
                missing_user(conn, membership.user)?;
                Err(StoreError::AlreadyExists(Entity::Membership).into())
            }
            None => Err(error.into()),
        },
    }
}

/// `NotFound(Project)` unless the project exists.
fn missing_project(conn: &Connection, project: ProjectId) -> Result<()> {
    if exists(conn, Named::Project(project))? {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Project).into())
    }
}

/// `NotFound(User)` unless the user exists.
fn missing_user(conn: &Connection, user: UserId) -> Result<()> {
    if exists(conn, Named::User(user))? {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::User).into())
    }
}

fn write_invitation(conn: &Connection, write: &InvitationWrite) -> Result<()> {
    let (written, invitation) = match write {
        InvitationWrite::Insert(invitation) => {
            let inserted = conn
                .prepare_cached(sql::INSERT_INVITATION)?
                .execute(rusqlite::params_from_iter(invitation_row(invitation)?));
            (inserted, invitation)
        }
        InvitationWrite::Update(invitation) => {
            let row = invitation_row(invitation)?;
            (
                update::update_changed(conn, &invitations::TABLE, row),
                invitation,
            )
        }
    };
    match written {
        // An update matching no row: the invitation does not exist.
        Ok(changed) => found(changed, Entity::Invitation),
        Err(error) => match violation(&error) {
            // The contract checks the project before uniqueness (the id, the token hash, the
            // one pending invitation per address).
            Some(Violation::ForeignKey | Violation::Unique) => {
                missing_project(conn, invitation.project)?;
                Err(StoreError::AlreadyExists(Entity::Invitation).into())
            }
            None => Err(error.into()),
        },
    }
}

/// An invitation as a row of [`invitations`], each value put by column.
fn invitation_row(invitation: &Invitation) -> Result<Vec<Value>> {
    use invitations::Column as C;
    let mut row = invitations::row();
    let mut put = |column: C, value: Value| row[column.at()] = value;
    put(C::id, blob(invitation.id.key()));
    put(C::project_id, blob(invitation.project.key()));
    put(C::email, text(invitation.email.as_str()));
    put(C::role, text(invitation.role.as_str()));
    put(C::invited_by, blob(invitation.invited_by.key()));
    put(C::state, text(invitation.state.as_str()));
    put(C::created_at, Value::Integer(nanos(invitation.created_at)?));
    put(C::sent_at, Value::Integer(nanos(invitation.sent_at)?));
    put(C::expires_at, Value::Integer(nanos(invitation.expires_at)?));
    put(
        C::closed_at,
        optional(opt_nanos(invitation.closed_at)?.map(Value::Integer)),
    );
    put(
        C::token_hash,
        Value::Blob(invitation.token_hash.as_bytes().to_vec()),
    );
    put(C::sends, Value::Integer(i64::from(invitation.sends)));
    put(
        C::language,
        optional(invitation.language.as_deref().map(text)),
    );
    put(C::email_canonical, text(invitation.email.canonical()));
    Ok(row)
}

fn blob(key: [u8; 16]) -> Value {
    Value::Blob(key.to_vec())
}

fn text(text: &str) -> Value {
    Value::Text(text.to_owned())
}

fn optional(value: Option<Value>) -> Value {
    value.unwrap_or(Value::Null)
}

fn insert_audit_event(conn: &Connection, event: &AuditEvent) -> Result<()> {
    conn.prepare_cached(sql::INSERT_AUDIT_EVENT)?
        .execute((
            event.id.key(),
            nanos(event.at)?,
            opt_key(event.actor),
            event.account.key(),
            codec::event_project_key(event.project),
            codec::action_json(&event.action)?,
        ))
        .map_err(|error| unique_is_taken(error, Entity::AuditEvent))?;
    Ok(())
}

fn write_outbox(conn: &Connection, write: &OutboxWrite) -> Result<()> {
    match write {
        OutboxWrite::Insert(entry) => {
            conn.prepare_cached(sql::INSERT_OUTBOX)?
                .execute(rusqlite::params_from_iter(outbox_row(entry)?))
                .map_err(|error| unique_is_taken(error, Entity::OutboxEntry))?;
            Ok(())
        }
        OutboxWrite::Update(entry) => {
            let changed = update::update_changed(conn, &outbox::TABLE, outbox_row(entry)?)?;
            found(changed, Entity::OutboxEntry)
        }
    }
}

/// An outbox entry as a row of [`outbox`], each value put by column.
fn outbox_row(entry: &OutboxEntry) -> Result<Vec<Value>> {
    use outbox::Column as C;
    let notice = &entry.notice;
    let mut row = outbox::row();
    let mut put = |column: C, value: Value| row[column.at()] = value;
    put(C::id, blob(entry.id.key()));
    put(C::kind, Value::Text(codec::kind_name(notice.kind)?));
    put(C::to_email, text(notice.to.as_str()));
    put(C::invitation_id, blob(notice.invitation.key()));
    put(C::project_id, blob(notice.project.key()));
    put(C::project_name, text(&notice.project_name));
    put(C::account_name, text(&notice.account_name));
    put(C::role, text(notice.role.as_str()));
    put(C::inviter, text(notice.inviter.as_str()));
    put(C::expires_at, Value::Integer(nanos(notice.expires_at)?));
    put(C::send, Value::Integer(i64::from(notice.send)));
    put(C::status, text(entry.status.as_str()));
    put(C::attempts, Value::Integer(i64::from(entry.attempts)));
    put(
        C::next_attempt_at,
        Value::Integer(nanos(entry.next_attempt_at)?),
    );
    put(
        C::last_error,
        optional(entry.last_error.as_deref().map(text)),
    );
    put(C::created_at, Value::Integer(nanos(entry.created_at)?));
    put(
        C::finished_at,
        optional(opt_nanos(entry.finished_at)?.map(Value::Integer)),
    );
    put(C::language, optional(notice.language.as_deref().map(text)));
    put(C::sent_by, blob(notice.sent_by.key()));
    put(C::role_name, text(&notice.role_name));
    Ok(row)
}
