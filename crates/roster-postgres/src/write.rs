//! A change as statements added to a [`Pipeline`], in the order documented on [`Change`]:
//! expectations (guarded version bumps), then accounts, projects, users, memberships,
//! invitations, audit events and outbox entries. Writes that must find their row are guarded
//! (they raise instead of changing nothing), so the whole change can be sent with its `COMMIT`
//! in one round trip: the first refusal aborts the transaction, and the commit becomes a
//! rollback.

use std::collections::HashMap;

use roster::store::{
    AccountWrite, Expectation, InvitationWrite, MembershipWrite, OutboxWrite, UserWrite,
};
use roster::{
    Account, AuditEvent, Change, Entity, Invitation, OutboxEntry, PasswordHash, StoreError, Version,
};
use uuid::Uuid;

use crate::codec::{self, Key, nanos, opt_key, opt_nanos};
use crate::pipeline::{Param, Pipeline};
use crate::{batch, sql};

/// Adds every write of `change`. Returns the refusal that is known before anything is sent (a
/// record expected at two versions), in which case nothing after it was added and the batch
/// must end in a rollback.
pub(crate) fn add_change(
    p: &mut Pipeline,
    change: &Change,
) -> Result<Option<StoreError>, StoreError> {
    if let Some(refusal) = expectations(p, &change.expect) {
        return Ok(Some(refusal));
    }
    for write in &change.accounts {
        match write {
            AccountWrite::Insert(account) => {
                p.query(
                    sql::INSERT_ACCOUNT,
                    params![
                        account.id.key(),
                        account.name.clone(),
                        nanos(account.created_at)?,
                        codec::domains_column(&account.allowed_domains),
                    ],
                );
                administrators(p, account);
            }
            AccountWrite::Update(account) => {
                p.guarded(
                    sql::UPDATE_ACCOUNT,
                    params![
                        account.id.key(),
                        account.name.clone(),
                        codec::domains_column(&account.allowed_domains),
                    ],
                    Entity::Account,
                );
                p.query(
                    sql::DELETE_ACCOUNT_ADMINISTRATORS,
                    params![account.id.key()],
                );
                administrators(p, account);
            }
        }
    }
    for project in &change.projects {
        p.query(
            sql::INSERT_PROJECT,
            params![
                project.id.key(),
                project.account.key(),
                project.name.clone(),
                nanos(project.created_at)?,
            ],
        );
    }
    for write in &change.users {
        match write {
            UserWrite::Insert { user, password } => {
                p.query(
                    sql::INSERT_USER,
                    params![
                        user.id.key(),
                        user.email.as_str().to_owned(),
                        opt_nanos(user.registered_at)?,
                        nanos(user.created_at)?,
                        user.email.canonical().to_owned(),
                        phc(password.as_ref()),
                    ],
                );
            }
            UserWrite::Update { user, password } => p.guarded(
                sql::UPDATE_USER,
                params![
                    user.id.key(),
                    user.email.as_str().to_owned(),
                    user.email.canonical().to_owned(),
                    opt_nanos(user.registered_at)?,
                    nanos(user.created_at)?,
                    phc(password.as_ref()),
                ],
                Entity::User,
            ),
        }
    }
    for write in &change.memberships {
        match write {
            MembershipWrite::Insert(m) => {
                p.query(
                    sql::INSERT_MEMBERSHIP,
                    params![
                        m.project.key(),
                        m.user.key(),
                        m.role.as_str().to_owned(),
                        opt_key(m.invited_by),
                        nanos(m.since)?,
                    ],
                );
            }
            MembershipWrite::Update(m) => p.guarded(
                sql::UPDATE_MEMBERSHIP,
                params![
                    m.project.key(),
                    m.user.key(),
                    m.role.as_str().to_owned(),
                    opt_key(m.invited_by),
                    nanos(m.since)?,
                ],
                Entity::Membership,
            ),
            MembershipWrite::Delete { project, user } => p.guarded(
                sql::DELETE_MEMBERSHIP,
                params![project.key(), user.key()],
                Entity::Membership,
            ),
        }
    }
    // Runs of inserts go as one statement each; every other write keeps its place in order
    // (a change may close an address's pending invitation and then insert its new one).
    let mut run: Vec<&Invitation> = Vec::new();
    for write in &change.invitations {
        match write {
            InvitationWrite::Insert(invitation) => run.push(invitation),
            InvitationWrite::Update(invitation) => {
                insert_invitations(p, &std::mem::take(&mut run))?;
                p.guarded(
                    sql::UPDATE_INVITATION,
                    invitation_row(invitation)?,
                    Entity::Invitation,
                );
            }
        }
    }
    insert_invitations(p, &run)?;
    let events: Vec<&AuditEvent> = change.audit.iter().collect();
    batch::insert::<batch::AuditEvents>(p, &events, |p, event| {
        p.query(
            sql::INSERT_AUDIT_EVENT,
            params![
                event.id.key(),
                nanos(event.at)?,
                opt_key(event.actor),
                event.account.key(),
                opt_key(event.project),
                codec::action_json(&event.action)?,
            ],
        );
        Ok(())
    })?;
    // Runs of inserts and of updates, each run one statement, in the change's order.
    let mut inserts: Vec<&OutboxEntry> = Vec::new();
    let mut updates: Vec<&OutboxEntry> = Vec::new();
    for write in &change.outbox {
        match write {
            OutboxWrite::Insert(entry) => {
                update_outbox(p, &std::mem::take(&mut updates))?;
                inserts.push(entry);
            }
            OutboxWrite::Update(entry) => {
                insert_outbox(p, &std::mem::take(&mut inserts))?;
                updates.push(entry);
            }
        }
    }
    insert_outbox(p, &inserts)?;
    update_outbox(p, &updates)?;
    Ok(None)
}

/// Updates outbox entries (also how a step's delivery records are written), a run in one
/// statement.
pub(crate) fn update_outbox(p: &mut Pipeline, run: &[&OutboxEntry]) -> Result<(), StoreError> {
    batch::update_outbox(p, run, |p, entry| {
        p.guarded(sql::UPDATE_OUTBOX, outbox_row(entry)?, Entity::OutboxEntry);
        Ok(())
    })
}

/// Inserts invitations. An insert writes nothing when its project is missing:
/// `NotFound(Project)`.
fn insert_invitations(p: &mut Pipeline, run: &[&Invitation]) -> Result<(), StoreError> {
    batch::insert::<batch::Invitations>(p, run, |p, invitation| {
        p.guarded(
            sql::INSERT_INVITATION,
            invitation_row(invitation)?,
            Entity::Project,
        );
        Ok(())
    })
}

fn insert_outbox(p: &mut Pipeline, run: &[&OutboxEntry]) -> Result<(), StoreError> {
    batch::insert::<batch::OutboxEntries>(p, run, |p, entry| {
        p.query(sql::INSERT_OUTBOX, outbox_row(entry)?);
        Ok(())
    })
}

/// Each expectation as a guarded bump. A record named twice is bumped once; its later
/// expectations must name the version its first one held, or the change is refused.
fn expectations(p: &mut Pipeline, expect: &[Expectation]) -> Option<StoreError> {
    let mut held: HashMap<(bool, Uuid), Version> = HashMap::new();
    for expectation in expect {
        let (is_project, id, version, entity, statement) = match *expectation {
            Expectation::ProjectVersion { project, version } => (
                true,
                project.key(),
                version,
                Entity::Project,
                sql::BUMP_PROJECT,
            ),
            Expectation::UserVersion { user, version } => {
                (false, user.key(), version, Entity::User, sql::BUMP_USER)
            }
        };
        if let Some(first) = held.get(&(is_project, id)) {
            if *first != version {
                return Some(StoreError::Conflict(entity));
            }
            continue;
        }
        p.guarded(statement, params![id, codec::version(version)], entity);
        held.insert((is_project, id), version);
    }
    None
}

fn administrators(p: &mut Pipeline, account: &Account) {
    if account.administrators.is_empty() {
        return;
    }
    let users: Vec<Uuid> = account.administrators.iter().map(|u| u.key()).collect();
    p.query(
        sql::INSERT_ACCOUNT_ADMINISTRATORS,
        params![account.id.key(), users],
    );
}

fn phc(password: Option<&PasswordHash>) -> Option<String> {
    password.map(|p| p.as_phc().to_owned())
}

fn invitation_row(i: &Invitation) -> Result<Vec<Param>, StoreError> {
    Ok(params![
        i.id.key(),
        i.project.key(),
        i.email.as_str().to_owned(),
        i.role.as_str().to_owned(),
        i.invited_by.key(),
        i.state.as_str().to_owned(),
        nanos(i.created_at)?,
        nanos(i.sent_at)?,
        nanos(i.expires_at)?,
        opt_nanos(i.closed_at)?,
        i.token_hash.as_bytes().to_vec(),
        i64::from(i.sends),
        i.language.clone(),
        i.email.canonical().to_owned(),
    ])
}

fn outbox_row(entry: &OutboxEntry) -> Result<Vec<Param>, StoreError> {
    let n = &entry.notice;
    Ok(params![
        entry.id.key(),
        codec::kind_name(n.kind)?,
        n.to.as_str().to_owned(),
        n.invitation.key(),
        n.project.key(),
        n.project_name.clone(),
        n.account_name.clone(),
        n.role.as_str().to_owned(),
        n.inviter.as_str().to_owned(),
        nanos(n.expires_at)?,
        i64::from(n.send),
        entry.status.as_str().to_owned(),
        i64::from(entry.attempts),
        nanos(entry.next_attempt_at)?,
        entry.last_error.clone(),
        nanos(entry.created_at)?,
        opt_nanos(entry.finished_at)?,
        n.language.clone(),
        n.sent_by.key(),
        n.role_name.clone(),
    ])
}
