//! Schema version 2: stored addresses under the IDNA address policy.
//!
//! Version 1 files keep canonical addresses computed by the old policy (NFC and lowercase, the
//! domain as typed): `jörg@bücher.de` and `jörg@xn--bcher-kva.de` were two identities, and some
//! stored addresses (with a zero-width space, say) are now refused outright. This step parses
//! every stored address again with [`Email::parse`] and rewrites `users.email_canonical` and
//! `invitations.email_canonical` to the new canonical form, which the lookups and the unique
//! indexes (`users.email_canonical`, `invitations_one_pending_per_address`) use.
//!
//! It never merges anything silently. If two users, or two pending invitations of one project,
//! now share a canonical address, or a stored address (of a user, an invitation, a queued notice
//! or an audit event) is refused by the new policy, the step changes nothing and fails with an
//! [`EmailConflicts`] naming every one of them; the README says how to resolve them.

use std::collections::BTreeMap;
use std::fmt;

use roster::{AuditAction, Email, EmailError, InvitationId, ProjectId, UserId};
use rusqlite::Connection;
use uuid::Uuid;

/// The stored addresses that keep a file from reaching schema version 2. Nothing was changed.
///
/// Returned, boxed, as the source of the `rusqlite::Error` inside
/// [`SqliteError::Migrate`](crate::SqliteError::Migrate); [`EmailConflicts::find`] gets it out.
///
/// ```
/// # fn open(path: &std::path::Path) {
/// match roster_sqlite::SqliteStore::open(path) {
///     Ok(_store) => {}
///     Err(error) => match roster_sqlite::EmailConflicts::find(&error) {
///         Some(conflicts) => eprintln!("resolve these, then open again: {conflicts}"),
///         None => eprintln!("{error}"),
///     },
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailConflicts {
    /// Groups of rows whose addresses are now one identity.
    pub collisions: Vec<EmailCollision>,
    /// Stored addresses the address policy now refuses.
    pub refused: Vec<RefusedEmail>,
}

/// Rows that the new canonical form makes one identity, where only one may exist.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailCollision {
    /// Users whose addresses are now one (`users.email_canonical` is unique).
    Users {
        /// The canonical address they share.
        canonical: String,
        /// Each user, with the address as stored (typed).
        users: Vec<(UserId, String)>,
    },
    /// Pending invitations of one project whose addresses are now one (at most one pending
    /// invitation per project and address).
    PendingInvitations {
        /// The project.
        project: ProjectId,
        /// The canonical address they share.
        canonical: String,
        /// Each invitation, with the address as stored (typed).
        invitations: Vec<(InvitationId, String)>,
    },
}

/// A stored address that the address policy now refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedEmail {
    /// Where it is: `users.email`, `invitations.email`, `outbox.to_email`, `outbox.inviter` or
    /// `audit_events.action`.
    pub column: &'static str,
    /// The row's `id`.
    pub id: Uuid,
    /// The address as stored (for an audit event, its whole `action` JSON).
    pub address: String,
    /// Why it is refused; `None` for an audit event whose JSON no longer reads.
    pub reason: Option<EmailError>,
}

impl EmailConflicts {
    /// The conflicts that stopped `error`, an error from opening a store, if that is what
    /// stopped it.
    pub fn find(error: &crate::SqliteError) -> Option<&EmailConflicts> {
        let mut source = std::error::Error::source(error);
        while let Some(error) = source {
            if let Some(rusqlite::Error::ToSqlConversionFailure(inner)) =
                error.downcast_ref::<rusqlite::Error>()
            {
                return inner.downcast_ref::<EmailConflicts>();
            }
            source = error.source();
        }
        None
    }

    fn is_empty(&self) -> bool {
        self.collisions.is_empty() && self.refused.is_empty()
    }
}

/// The most entries the message lists; the fields hold them all.
const LISTED: usize = 20;

impl fmt::Display for EmailConflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored addresses conflict under the new address policy ({} collisions, {} refused \
             addresses); nothing was changed. Resolve them (see the README, \"Email \
             addresses\") and open the file again:",
            self.collisions.len(),
            self.refused.len()
        )?;
        let mut listed = 0;
        for collision in &self.collisions {
            if listed == LISTED {
                break;
            }
            listed += 1;
            match collision {
                EmailCollision::Users { canonical, users } => {
                    write!(f, " users")?;
                    for (id, email) in users {
                        write!(f, " {id} ({email:?})")?;
                    }
                    write!(f, " are all {canonical:?};")?;
                }
                EmailCollision::PendingInvitations {
                    project,
                    canonical,
                    invitations,
                } => {
                    write!(f, " pending invitations of project {project}")?;
                    for (id, email) in invitations {
                        write!(f, " {id} ({email:?})")?;
                    }
                    write!(f, " are all {canonical:?};")?;
                }
            }
        }
        for refused in &self.refused {
            if listed == LISTED {
                break;
            }
            listed += 1;
            write!(f, " {} of row {} ", refused.column, refused.id)?;
            match &refused.reason {
                Some(reason) => write!(f, "{:?} is refused: {reason};", refused.address)?,
                None => write!(f, "no longer reads;")?,
            }
        }
        let total = self.collisions.len() + self.refused.len();
        if total > listed {
            write!(f, " and {} more", total - listed)?;
        }
        Ok(())
    }
}

impl std::error::Error for EmailConflicts {}

/// One stored address, parsed again.
struct Stored {
    id: Uuid,
    typed: String,
    old: String,
    new: String,
}

/// The migration step: recompute, check, and rewrite; or refuse with every conflict.
pub(crate) fn recanonicalize(conn: &Connection) -> rusqlite::Result<()> {
    let mut conflicts = EmailConflicts {
        collisions: Vec::new(),
        refused: Vec::new(),
    };

    let users = read(
        conn,
        "SELECT id, email, email_canonical FROM users",
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, ())),
    )?;
    let users = parse_all(users, "users.email", &mut conflicts);
    let mut by_address: BTreeMap<&str, Vec<&Stored>> = BTreeMap::new();
    for (user, ()) in &users {
        by_address.entry(&user.new).or_default().push(user);
    }
    for (canonical, group) in by_address.into_iter().filter(|(_, g)| g.len() > 1) {
        conflicts.collisions.push(EmailCollision::Users {
            canonical: canonical.to_owned(),
            users: group
                .iter()
                .map(|user| (UserId::from(user.id), user.typed.clone()))
                .collect(),
        });
    }

    let invitations = read(
        conn,
        "SELECT id, email, email_canonical, project_id, state = 'pending' FROM invitations",
        |row| {
            let project: [u8; 16] = row.get(3)?;
            let pending: bool = row.get(4)?;
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, (project, pending)))
        },
    )?;
    let invitations = parse_all(invitations, "invitations.email", &mut conflicts);
    let mut pending: BTreeMap<([u8; 16], &str), Vec<&Stored>> = BTreeMap::new();
    for (invitation, (project, is_pending)) in &invitations {
        if *is_pending {
            pending
                .entry((*project, &invitation.new))
                .or_default()
                .push(invitation);
        }
    }
    for ((project, canonical), group) in pending.into_iter().filter(|(_, g)| g.len() > 1) {
        conflicts
            .collisions
            .push(EmailCollision::PendingInvitations {
                project: ProjectId::from(Uuid::from_bytes(project)),
                canonical: canonical.to_owned(),
                invitations: group
                    .iter()
                    .map(|invitation| (InvitationId::from(invitation.id), invitation.typed.clone()))
                    .collect(),
            });
    }

    for (column, sql) in [
        ("outbox.to_email", "SELECT id, to_email FROM outbox"),
        ("outbox.inviter", "SELECT id, inviter FROM outbox"),
    ] {
        let rows = read(conn, sql, |row| {
            Ok((row.get(0)?, row.get(1)?, String::new(), ()))
        })?;
        parse_all(rows, column, &mut conflicts);
    }
    let mut audit = conn.prepare("SELECT id, action FROM audit_events")?;
    let mut rows = audit.query([])?;
    while let Some(row) = rows.next()? {
        let action: String = row.get(1)?;
        if serde_json::from_str::<AuditAction>(&action).is_err() {
            let id: [u8; 16] = row.get(0)?;
            conflicts.refused.push(RefusedEmail {
                column: "audit_events.action",
                id: Uuid::from_bytes(id),
                address: action,
                reason: None,
            });
        }
    }

    if !conflicts.is_empty() {
        return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(conflicts)));
    }
    rewrite(conn, "users", users.iter().map(|(user, ())| user))?;
    rewrite(
        conn,
        "invitations",
        invitations.iter().map(|(invitation, _)| invitation),
    )?;
    Ok(())
}

type Row<T> = ([u8; 16], String, String, T);

fn read<T>(
    conn: &Connection,
    sql: &str,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Row<T>>,
) -> rusqlite::Result<Vec<Row<T>>> {
    let mut statement = conn.prepare(sql)?;
    statement.query_map([], map)?.collect()
}

/// Every row whose address parses, with its new canonical form; the others go to `refused`.
fn parse_all<T>(
    rows: Vec<Row<T>>,
    column: &'static str,
    conflicts: &mut EmailConflicts,
) -> Vec<(Stored, T)> {
    let mut parsed = Vec::with_capacity(rows.len());
    for (id, typed, old, extra) in rows {
        let id = Uuid::from_bytes(id);
        match Email::parse(&typed) {
            Ok(email) => parsed.push((
                Stored {
                    id,
                    new: email.canonical().to_owned(),
                    typed,
                    old,
                },
                extra,
            )),
            Err(reason) => conflicts.refused.push(RefusedEmail {
                column,
                id,
                address: typed,
                reason: Some(reason),
            }),
        }
    }
    parsed
}

/// Writes the new canonical addresses of `table`, in two passes so that no unique index sees
/// two rows with one address in between: first a placeholder no address can equal (it has a
/// NUL), then the new value.
fn rewrite<'a>(
    conn: &Connection,
    table: &str,
    rows: impl Iterator<Item = &'a Stored>,
) -> rusqlite::Result<()> {
    let changed: Vec<&Stored> = rows.filter(|row| row.new != row.old).collect();
    let placeholder =
        format!("UPDATE {table} SET email_canonical = char(0) || hex(id) WHERE id = ?1");
    let update = format!("UPDATE {table} SET email_canonical = ?2 WHERE id = ?1");
    let mut placeholder = conn.prepare(&placeholder)?;
    for row in &changed {
        placeholder.execute([row.id.as_bytes().as_slice()])?;
    }
    let mut update = conn.prepare(&update)?;
    for row in &changed {
        update.execute((row.id.as_bytes().as_slice(), row.new.as_str()))?;
    }
    if !changed.is_empty() {
        tracing::info!(
            table,
            rows = changed.len(),
            "recomputed canonical email addresses"
        );
    }
    Ok(())
}
