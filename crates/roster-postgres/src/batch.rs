//! Runs of inserts into one table written as one statement over arrays (`INSERT … SELECT …
//! FROM unnest($1, $2, …)`), for the changes that write many rows (a bulk invite writes three
//! per address): the server then plans and executes one statement instead of thousands, and
//! answers once.
//!
//! A change of a single row keeps its one-row statement; the batch is only for runs. Runs of
//! outbox updates (a step's delivery records: a bulk invite's sends come back as one per
//! address) are batched the same way, as one `UPDATE … FROM unnest(…)`.

use std::collections::HashMap;

use roster::{AuditEvent, Entity, Invitation, NoticeId, OutboxEntry, StoreError};
use uuid::Uuid;

use crate::codec::{self, Key, nanos, opt_key, opt_nanos};
use crate::pipeline::Pipeline;
use crate::sql;

/// Rows of one table gathered a column at a time, and the statement that inserts them.
pub(crate) trait Columns: Default {
    /// What one row is written from.
    type Row;
    /// Adds a row's values to the columns.
    fn push(&mut self, row: &Self::Row) -> Result<(), StoreError>;
    /// Adds the statement inserting every row pushed.
    fn add(self, p: &mut Pipeline);
}

/// Adds the inserts of `rows`: a single row by `one`, its own statement; more in one batch.
pub(crate) fn insert<C: Columns>(
    p: &mut Pipeline,
    rows: &[&C::Row],
    one: impl FnOnce(&mut Pipeline, &C::Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    match rows {
        [] => Ok(()),
        [row] => one(p, row),
        rows => {
            let mut columns = C::default();
            for row in rows {
                columns.push(row)?;
            }
            columns.add(p);
            Ok(())
        }
    }
}

/// Invitations to insert, one column at a time.
#[derive(Default)]
pub(crate) struct Invitations {
    id: Vec<Uuid>,
    project: Vec<Uuid>,
    email: Vec<String>,
    role: Vec<String>,
    invited_by: Vec<Uuid>,
    state: Vec<String>,
    created_at: Vec<i64>,
    sent_at: Vec<i64>,
    expires_at: Vec<i64>,
    closed_at: Vec<Option<i64>>,
    token_hash: Vec<Vec<u8>>,
    sends: Vec<i64>,
    language: Vec<Option<String>>,
    canonical: Vec<String>,
}

impl Columns for Invitations {
    type Row = Invitation;

    fn push(&mut self, i: &Invitation) -> Result<(), StoreError> {
        self.id.push(i.id.key());
        self.project.push(i.project.key());
        self.email.push(i.email.as_str().to_owned());
        self.role.push(i.role.as_str().to_owned());
        self.invited_by.push(i.invited_by.key());
        self.state.push(i.state.as_str().to_owned());
        self.created_at.push(nanos(i.created_at)?);
        self.sent_at.push(nanos(i.sent_at)?);
        self.expires_at.push(nanos(i.expires_at)?);
        self.closed_at.push(opt_nanos(i.closed_at)?);
        self.token_hash.push(i.token_hash.as_bytes().to_vec());
        self.sends.push(i64::from(i.sends));
        self.language.push(i.language.clone());
        self.canonical.push(i.email.canonical().to_owned());
        Ok(())
    }

    /// `NotFound(Project)` unless every row's project exists.
    fn add(self, p: &mut Pipeline) {
        let rows = i64::try_from(self.id.len()).unwrap_or(i64::MAX);
        p.guarded(
            sql::INSERT_INVITATIONS,
            params![
                self.id,
                self.project,
                self.email,
                self.role,
                self.invited_by,
                self.state,
                self.created_at,
                self.sent_at,
                self.expires_at,
                self.closed_at,
                self.token_hash,
                self.sends,
                self.language,
                self.canonical,
                rows,
            ],
            Entity::Project,
        );
    }
}

/// Audit events to insert, one column at a time.
#[derive(Default)]
pub(crate) struct AuditEvents {
    id: Vec<Uuid>,
    at: Vec<i64>,
    actor: Vec<Option<Uuid>>,
    account: Vec<Uuid>,
    project: Vec<Option<Uuid>>,
    action: Vec<String>,
}

impl Columns for AuditEvents {
    type Row = AuditEvent;

    fn push(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        self.id.push(event.id.key());
        self.at.push(nanos(event.at)?);
        self.actor.push(opt_key(event.actor));
        self.account.push(event.account.key());
        self.project.push(opt_key(event.project));
        self.action.push(codec::action_json(&event.action)?);
        Ok(())
    }

    fn add(self, p: &mut Pipeline) {
        p.query(
            sql::INSERT_AUDIT_EVENTS,
            params![
                self.id,
                self.at,
                self.actor,
                self.account,
                self.project,
                self.action
            ],
        );
    }
}

/// Outbox entries to insert, one column at a time.
#[derive(Default)]
pub(crate) struct OutboxEntries {
    id: Vec<Uuid>,
    kind: Vec<String>,
    to: Vec<String>,
    invitation: Vec<Uuid>,
    project: Vec<Uuid>,
    project_name: Vec<String>,
    account_name: Vec<String>,
    role: Vec<String>,
    inviter: Vec<String>,
    expires_at: Vec<i64>,
    send: Vec<i64>,
    status: Vec<String>,
    attempts: Vec<i64>,
    next_attempt_at: Vec<i64>,
    last_error: Vec<Option<String>>,
    created_at: Vec<i64>,
    finished_at: Vec<Option<i64>>,
    language: Vec<Option<String>>,
    sent_by: Vec<Uuid>,
    role_name: Vec<String>,
}

impl Columns for OutboxEntries {
    type Row = OutboxEntry;

    fn push(&mut self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let n = &entry.notice;
        self.id.push(entry.id.key());
        self.kind.push(codec::kind_name(n.kind)?);
        self.to.push(n.to.as_str().to_owned());
        self.invitation.push(n.invitation.key());
        self.project.push(n.project.key());
        self.project_name.push(n.project_name.clone());
        self.account_name.push(n.account_name.clone());
        self.role.push(n.role.as_str().to_owned());
        self.inviter.push(n.inviter.as_str().to_owned());
        self.expires_at.push(nanos(n.expires_at)?);
        self.send.push(i64::from(n.send));
        self.status.push(entry.status.as_str().to_owned());
        self.attempts.push(i64::from(entry.attempts));
        self.next_attempt_at.push(nanos(entry.next_attempt_at)?);
        self.last_error.push(entry.last_error.clone());
        self.created_at.push(nanos(entry.created_at)?);
        self.finished_at.push(opt_nanos(entry.finished_at)?);
        self.language.push(n.language.clone());
        self.sent_by.push(n.sent_by.key());
        self.role_name.push(n.role_name.clone());
        Ok(())
    }

    fn add(self, p: &mut Pipeline) {
        p.query(sql::INSERT_OUTBOX_ENTRIES, self.params());
    }
}

impl OutboxEntries {
    fn params(self) -> Vec<crate::pipeline::Param> {
        params![
            self.id,
            self.kind,
            self.to,
            self.invitation,
            self.project,
            self.project_name,
            self.account_name,
            self.role,
            self.inviter,
            self.expires_at,
            self.send,
            self.status,
            self.attempts,
            self.next_attempt_at,
            self.last_error,
            self.created_at,
            self.finished_at,
            self.language,
            self.sent_by,
            self.role_name,
        ]
    }
}

/// Adds the updates of `entries`, in order: a single one by `one`; more in one statement,
/// `NotFound(OutboxEntry)` unless every entry exists. Every update writes the whole entry, so of
/// an entry written twice only its last write is sent.
pub(crate) fn update_outbox(
    p: &mut Pipeline,
    entries: &[&OutboxEntry],
    one: impl FnOnce(&mut Pipeline, &OutboxEntry) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    match entries {
        [] => return Ok(()),
        [entry] => return one(p, entry),
        _ => {}
    }
    let mut last: HashMap<NoticeId, usize> = HashMap::with_capacity(entries.len());
    for (at, entry) in entries.iter().enumerate() {
        last.insert(entry.id, at);
    }
    let latest = entries
        .iter()
        .enumerate()
        .filter(|(at, entry)| last[&entry.id] == *at)
        .map(|(_, entry)| *entry);
    let mut columns = OutboxEntries::default();
    for entry in latest {
        columns.push(entry)?;
    }
    let rows = i64::try_from(columns.id.len()).unwrap_or(i64::MAX);
    let mut params = columns.params();
    params.push(Box::new(rows));
    p.guarded(sql::UPDATE_OUTBOX_ENTRIES, params, Entity::OutboxEntry);
    Ok(())
}
