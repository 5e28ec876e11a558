//! What a step reads, as statements added to a [`Pipeline`], and the [`Snapshot`] built from
//! their answers: the async counterpart of [`roster::store::lookup::gather`], with the same
//! contents, in as few statements as possible. Each context is one joined statement (a project
//! with its account, actor and actor's membership; an invitation with all of that and its
//! inviter and invitee; a bulk invite's addresses in one `unnest`); counts are statements of
//! their own, sent in the same batch.
//!
//! [`locks`] adds the row locks a writing step takes before it reads: the step's project (found
//! through the invitation or outbox entry when that is what the step names), then, when the step
//! counts what its actor sent in any project, the actor's user row.

use roster::store::{
    InvitationContext, InvitationKey, InviteContext, InviteQuery, Invitee, MemberContext,
    NoticeContext, ProjectContext, Read, Snapshot, Step,
};
use roster::{OutboxEntry, StoreError, UserId};
use tokio_postgres::Row;

use crate::codec::{self, Key, bound};
use crate::codec::{
    ACCOUNT_COLUMNS, INVITATION_COLUMNS, MEMBERSHIP_COLUMNS, OUTBOX_COLUMNS, PROJECT_COLUMNS,
    USER_COLUMNS,
};
use crate::pipeline::Pipeline;
use crate::{sql, write};

/// How many columns a project context spans (`context_columns!`).
const CONTEXT_COLUMNS: usize =
    PROJECT_COLUMNS + ACCOUNT_COLUMNS + USER_COLUMNS + MEMBERSHIP_COLUMNS;

/// How a writing step takes its row locks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locking {
    /// The step opens its transaction: it waits for each lock, its project's first.
    Wait,
    /// The step joins a transaction that already holds its project's lock (see
    /// [`crate::group`]): it takes the others without waiting (`NOWAIT`), so that a transaction
    /// holding the locks of several steps never waits while holding them, and two such can never
    /// wait for each other.
    Joined,
}

/// Adds the row locks a writing step takes for `read`, in the order that keeps instances from
/// deadlocking: the project first, the actor second.
pub(crate) fn locks(read: &Read, p: &mut Pipeline, locking: Locking) {
    let user_lock = match locking {
        Locking::Wait => sql::LOCK_USER,
        Locking::Joined => sql::LOCK_USER_NOWAIT,
    };
    match read {
        Read::Nothing => {}
        Read::User(id) => {
            p.query(sql::LOCK_USER, params![id.key()]);
        }
        Read::Address(email) => {
            p.query(
                sql::LOCK_USER_BY_EMAIL,
                params![email.canonical().to_owned()],
            );
        }
        Read::Account(id) => {
            p.query(sql::LOCK_ACCOUNT, params![id.key()]);
        }
        // A joining step's project is locked already.
        Read::Project { .. } | Read::Member { .. } if locking == Locking::Joined => {}
        Read::Project { project, .. } | Read::Member { project, .. } => {
            p.query(sql::LOCK_PROJECT, params![project.key()]);
        }
        Read::Invitation {
            key,
            actor,
            sent_since,
        } => {
            match key {
                InvitationKey::Id(id) => {
                    p.query(sql::LOCK_PROJECT_OF_INVITATION, params![id.key()])
                }
                InvitationKey::Token(hash) => p.query(
                    sql::LOCK_PROJECT_OF_TOKEN,
                    params![hash.as_bytes().to_vec()],
                ),
            };
            if let (Some(actor), Some(_)) = (actor, sent_since) {
                p.query(sql::LOCK_USER, params![actor.key()]);
            }
        }
        Read::Invite(query) => {
            if locking == Locking::Wait {
                p.query(sql::LOCK_PROJECT, params![query.project.key()]);
            }
            if query.sent_since.is_some() {
                p.query(user_lock, params![query.actor.key()]);
            }
        }
        Read::Notice { id, .. } => {
            p.query(sql::LOCK_PROJECT_OF_NOTICE, params![id.key()]);
        }
        // A read this crate does not know yet takes no lock; `reads` refuses it.
        _ => {}
    }
}

/// What a writing step sends before its decision: its locks, its delivery records, its reads.
pub(crate) fn prelude(step: &Step, locking: Locking) -> Result<(Pipeline, Plan), StoreError> {
    let mut p = Pipeline::default();
    locks(&step.read, &mut p, locking);
    let deliveries: Vec<&OutboxEntry> = step.deliveries.iter().collect();
    write::update_outbox(&mut p, &deliveries)?;
    let plan = reads(&step.read, &mut p)?;
    Ok((p, plan))
}

/// Where the answers of a read's statements are in the batch.
pub(crate) enum Plan {
    Nothing,
    User(usize),
    Address(usize),
    Account(usize),
    Project(usize),
    Member {
        context: usize,
        member: Option<usize>,
        managers: usize,
    },
    Invitation {
        context: usize,
        sent: Option<usize>,
    },
    Invite {
        context: usize,
        invitees: usize,
        emails: usize,
        sent: Option<usize>,
        pending: Option<usize>,
    },
    Notice(usize),
}

/// Adds the statements that read what `read` asks for.
pub(crate) fn reads(read: &Read, p: &mut Pipeline) -> Result<Plan, StoreError> {
    Ok(match read {
        Read::Nothing => Plan::Nothing,
        Read::User(id) => Plan::User(p.query(sql::USER, params![id.key()])),
        Read::Address(email) => {
            Plan::Address(p.query(sql::USER_BY_EMAIL, params![email.canonical().to_owned()]))
        }
        Read::Account(id) => Plan::Account(p.query(sql::ACCOUNT, params![id.key()])),
        Read::Project { project, actor } => Plan::Project(p.query(
            sql::PROJECT_CONTEXT,
            params![project.key(), codec::opt_key(*actor)],
        )),
        Read::Member {
            project,
            actor,
            member,
            managers,
        } => {
            let context = p.query(
                sql::PROJECT_CONTEXT,
                params![project.key(), Some(actor.key())],
            );
            let member = (member != actor)
                .then(|| p.query(sql::MEMBERSHIP, params![project.key(), member.key()]));
            let roles: Vec<String> = managers.iter().map(|r| r.as_str().to_owned()).collect();
            let managers = p.query(sql::COUNT_MEMBERS_IN_ROLES, params![project.key(), roles]);
            Plan::Member {
                context,
                member,
                managers,
            }
        }
        Read::Invitation {
            key,
            actor,
            sent_since,
        } => {
            let context = match key {
                InvitationKey::Id(id) => p.query(
                    sql::INVITATION_CONTEXT_BY_ID,
                    params![id.key(), codec::opt_key(*actor)],
                ),
                InvitationKey::Token(hash) => p.query(
                    sql::INVITATION_CONTEXT_BY_TOKEN,
                    params![hash.as_bytes().to_vec(), codec::opt_key(*actor)],
                ),
            };
            let sent = match (actor, sent_since) {
                (Some(actor), Some(since)) => Some(sends_by(p, *actor, *since)),
                _ => None,
            };
            Plan::Invitation { context, sent }
        }
        Read::Invite(query) => invite(query, p),
        Read::Notice { id, actor } => Plan::Notice(p.query(
            sql::NOTICE_CONTEXT,
            params![id.key(), codec::opt_key(*actor)],
        )),
        other => {
            return Err(StoreError::backend(format!(
                "roster-postgres cannot read {other:?}"
            )));
        }
    })
}

fn sends_by(p: &mut Pipeline, actor: UserId, since: chrono::DateTime<chrono::Utc>) -> usize {
    p.query(sql::COUNT_SENDS_BY, params![actor.key(), bound(since)])
}

fn invite(query: &InviteQuery, p: &mut Pipeline) -> Plan {
    let context = p.query(
        sql::PROJECT_CONTEXT,
        params![query.project.key(), Some(query.actor.key())],
    );
    let canonicals: Vec<String> = query
        .emails
        .iter()
        .map(|email| email.canonical().to_owned())
        .collect();
    let invitees = p.query(sql::INVITEES, params![query.project.key(), canonicals]);
    let sent = query
        .sent_since
        .map(|since| sends_by(p, query.actor, since));
    let pending = query
        .pending_at
        .map(|now| p.query(sql::COUNT_PENDING, params![query.project.key(), bound(now)]));
    Plan::Invite {
        context,
        invitees,
        emails: query.emails.len(),
        sent,
        pending,
    }
}

/// The snapshot the answers hold, as `plan` placed them.
pub(crate) fn snapshot(plan: Plan, rows: &[Vec<Row>]) -> Result<Snapshot, StoreError> {
    let first = |at: usize| rows[at].first();
    let total = |at: usize| match first(at) {
        Some(row) => codec::total(row, 0),
        None => Ok(0),
    };
    Ok(match plan {
        Plan::Nothing => Snapshot::Nothing,
        Plan::User(at) => Snapshot::User(first(at).map(|r| codec::user(r, 0)).transpose()?),
        Plan::Address(at) => Snapshot::Address(first(at).map(|r| codec::user(r, 0)).transpose()?),
        Plan::Account(at) => {
            Snapshot::Account(first(at).map(|r| codec::account(r, 0)).transpose()?)
        }
        Plan::Project(at) => {
            Snapshot::Project(first(at).map(|r| context(r, 0)).transpose()?.flatten())
        }
        Plan::Member {
            context: at,
            member,
            managers,
        } => {
            let Some(project) = first(at).map(|r| context(r, 0)).transpose()?.flatten() else {
                return Ok(Snapshot::Member(None));
            };
            let member = match member {
                Some(m) => first(m).map(|r| codec::membership(r, 0)).transpose()?,
                None => project.actor_membership.clone(),
            };
            Snapshot::Member(Some(MemberContext {
                project,
                member,
                managers: total(managers)?,
            }))
        }
        Plan::Invitation { context: at, sent } => Snapshot::Invitation {
            context: first(at).map(invitation_context).transpose()?.flatten(),
            sent_by_actor: sent.map(total).transpose()?,
        },
        Plan::Invite {
            context: at,
            invitees,
            emails,
            sent,
            pending,
        } => {
            let Some(project) = first(at).map(|r| context(r, 0)).transpose()?.flatten() else {
                return Ok(Snapshot::Invite(None));
            };
            let mut found = Vec::with_capacity(emails);
            for row in &rows[invitees] {
                found.push(invitee(row)?);
            }
            if found.len() != emails {
                return Err(StoreError::backend(
                    "the invitees read do not match the addresses",
                ));
            }
            Snapshot::Invite(Some(InviteContext {
                project,
                invitees: found,
                sent_by_actor: sent.map(total).transpose()?,
                pending_invitations: pending.map(total).transpose()?,
            }))
        }
        Plan::Notice(at) => Snapshot::Notice(first(at).map(notice_context).transpose()?),
    })
}

/// A project context from `context_columns!` at `at`: `None` if the project or its account is
/// missing (a left join's empty side).
fn context(row: &Row, at: usize) -> Result<Option<ProjectContext>, StoreError> {
    let account_at = at + PROJECT_COLUMNS;
    if !codec::present(row, at)? || !codec::present(row, account_at)? {
        return Ok(None);
    }
    let actor_at = account_at + ACCOUNT_COLUMNS;
    Ok(Some(ProjectContext {
        project: codec::project(row, at)?,
        account: codec::account(row, account_at)?,
        actor: codec::opt_user(row, actor_at)?,
        actor_membership: codec::opt_membership(row, actor_at + USER_COLUMNS)?,
    }))
}

fn invitation_context(row: &Row) -> Result<Option<InvitationContext>, StoreError> {
    let invitation = codec::invitation(row, 0)?;
    let Some(project) = context(row, INVITATION_COLUMNS)? else {
        return Ok(None);
    };
    let at = INVITATION_COLUMNS + CONTEXT_COLUMNS;
    Ok(Some(InvitationContext {
        invitation,
        project,
        inviter: codec::opt_user(row, at)?,
        inviter_membership: codec::opt_membership(row, at + USER_COLUMNS)?,
        invitee: codec::opt_user(row, at + USER_COLUMNS + MEMBERSHIP_COLUMNS)?,
        invitee_membership: codec::opt_membership(row, at + 2 * USER_COLUMNS + MEMBERSHIP_COLUMNS)?,
    }))
}

fn notice_context(row: &Row) -> Result<NoticeContext, StoreError> {
    Ok(NoticeContext {
        entry: codec::outbox_entry(row, 0)?,
        project: context(row, OUTBOX_COLUMNS)?,
        invitation: codec::opt_invitation(row, OUTBOX_COLUMNS + CONTEXT_COLUMNS)?,
    })
}

fn invitee(row: &Row) -> Result<Invitee, StoreError> {
    // Column 0 is the address's position.
    Ok(Invitee {
        user: codec::opt_user(row, 1)?,
        membership: codec::opt_membership(row, 1 + USER_COLUMNS)?,
        pending: codec::opt_invitation(row, 1 + USER_COLUMNS + MEMBERSHIP_COLUMNS)?,
    })
}
