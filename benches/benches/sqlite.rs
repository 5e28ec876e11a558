//! The SQLite store through the whole service, beside a raw rusqlite baseline that writes the
//! same rows with hand-written prepared statements, in the same run and on the same disk.
//!
//! Both sides open their file with `SqliteStore::open` (so migrations create the same schema)
//! and run with the store's default settings: WAL, `synchronous = FULL`, foreign keys on, one
//! `BEGIN IMMEDIATE` transaction per change. The baseline makes, inside its transaction, the
//! reads a decision needs (the project and its version, the account's administrators, the
//! actor's or inviter's membership, the user by address, the pending invitation), then the
//! writes. Like the service, it marks the notices delivered in batches of 200 (the service's
//! flush writes its records together shortly after the sends; a null notifier here, so email
//! costs nothing), and writes no user row for an invited address (the acceptance makes it).
//!
//! - `sqlite/invite_one`: one new address per command (an invitation, an audit event, an
//!   outbox entry and the project's version bump; the delivery records in batches);
//! - `sqlite/accept_one`: one token per command (the invitation closed, a membership, an audit
//!   event, the version bump), accepted as `Acceptance::ExistingUser` so password hashing
//!   (argon2, slow on purpose) stays out of the measurement. The invitees are registered users
//!   whose invitations are seeded straight into the file, outside the timed region;
//! - `sqlite/bulk_invite_10k`: 10,000 new addresses in one command;
//! - `sqlite/accept_stored`: accept latency with 1,000 and with 1,000,000 stored invitations
//!   (pending, one user each, all in the measured project: the worst case for its indexes),
//!   through the service and through the baseline on the same file. The file is filled with the
//!   baseline's statements in one transaction, and what each batch of acceptances adds is
//!   deleted after it, so the file keeps its size however many iterations criterion runs.
//!
//! Run with `cargo bench -p roster-benches --bench sqlite` (about two minutes). Targets:
//! per-command paths within 1.5x of the baseline, bulk within 2x, accept at 1M within 1.5x of
//! accept at 1k.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use roster::{
    Acceptance, AccountId, Email, EventId, InvitationId, InvitationToken, InviteRequest, NoticeId,
    ProjectId, Role, Roster, SeededRandom, UserId,
};
use roster_benches::{roster_on, seed_admin_project};
use roster_sqlite::SqliteStore;
use roster_sqlite::rusqlite::{
    Connection, OptionalExtension, Transaction, TransactionBehavior, params,
};
use tempfile::TempDir;

/// Addresses handed out so far in this process: every address is new to every file.
static NEXT_ADDRESS: AtomicU64 = AtomicU64::new(0);

/// A new address. Zero-padded, so addresses made later also sort later: filling a file appends
/// to the address indexes instead of inserting all over them.
fn fresh_address() -> String {
    let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed);
    format!("person{n:09}@bench.example")
}

fn fresh_addresses(count: usize) -> Vec<String> {
    (0..count).map(|_| fresh_address()).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .expect("instant within i64 nanoseconds")
}

/// A database file holding an administrator, an account and a project, made through the
/// service so both sides start from the same state.
struct Site {
    _dir: TempDir,
    path: PathBuf,
    admin: UserId,
    account: AccountId,
    project: ProjectId,
}

/// A new site, and the service that made it (still open on the file).
fn new_site(runtime: &tokio::runtime::Runtime) -> (Site, Roster) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("roster.db");
    let store = SqliteStore::open(&path).expect("open the store");
    let roster = roster_on(Arc::new(store));
    let seeded = runtime.block_on(seed_admin_project(&roster));
    let (admin, account, project) = (seeded.admin.id, seeded.account.id, seeded.project.id);
    let site = Site {
        _dir: dir,
        path,
        admin,
        account,
        project,
    };
    (site, roster)
}

/// A raw connection with the store's settings (the journal mode, WAL, is kept in the file).
fn raw_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the file");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal", "the store left the file in WAL mode");
    conn.set_prepared_statement_cache_capacity(64);
    conn
}

// ---- the baseline's statements ----

const PROJECT: &str = "SELECT account_id, name, version FROM projects WHERE id = ?1";
const ACCOUNT: &str = "SELECT a.name, aa.user_id FROM accounts a \
     LEFT JOIN account_administrators aa ON aa.account_id = a.id WHERE a.id = ?1";
const MEMBER_ROLE: &str = "SELECT role FROM memberships WHERE project_id = ?1 AND user_id = ?2";
const USER_EMAIL: &str = "SELECT email FROM users WHERE id = ?1";
const USER_BY_EMAIL: &str = "SELECT id, registered_at FROM users WHERE email_canonical = ?1";
const PENDING: &str = "SELECT id FROM invitations \
     WHERE project_id = ?1 AND email_canonical = ?2 AND state = 'pending'";
const BY_TOKEN: &str = "SELECT id, project_id, email_canonical, role, invited_by, state, \
     expires_at FROM invitations WHERE token_hash = ?1";
const BUMP: &str = "UPDATE projects SET version = version + 1 WHERE id = ?1 AND version = ?2";
const INSERT_USER: &str = "INSERT INTO users \
     (id, email, registered_at, created_at, version, email_canonical, password_hash) \
     VALUES (?1, ?2, ?3, ?4, 0, ?5, NULL)";
const INSERT_INVITATION: &str = "INSERT INTO invitations (id, project_id, email, role, \
     invited_by, state, created_at, sent_at, expires_at, closed_at, token_hash, sends, \
     email_canonical) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, NULL, ?8, 1, ?9)";
const INSERT_AUDIT: &str = "INSERT INTO audit_events (id, at, actor, account_id, project_id, \
     action) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const INSERT_OUTBOX: &str = "INSERT INTO outbox (id, kind, to_email, invitation_id, \
     project_id, project_name, account_name, role, inviter, expires_at, send, status, attempts, \
     next_attempt_at, last_error, created_at, finished_at, sent_by) VALUES (?1, ?2, ?3, ?4, ?5, \
     ?6, ?7, ?8, ?9, ?10, 1, 'queued', 1, ?11, NULL, ?12, NULL, ?13)";
const DELIVERED: &str = "UPDATE outbox SET status = 'delivered', finished_at = ?2, \
     last_error = NULL WHERE id = ?1";
const INSERT_MEMBERSHIP: &str = "INSERT INTO memberships \
     (project_id, user_id, role, invited_by, since) VALUES (?1, ?2, ?3, ?4, ?5)";
const CLOSE_INVITATION: &str =
    "UPDATE invitations SET state = 'accepted', closed_at = ?2 WHERE id = ?1";

/// An invitation's lifetime and a notice's delivery lease: the service's defaults.
const LIFETIME: chrono::Duration = chrono::Duration::days(7);
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// What a decision reads about the project before inviting or accepting.
struct Scope {
    version: i64,
    project_name: String,
    account_name: String,
    administrators: Vec<[u8; 16]>,
}

fn read_scope(tx: &Transaction<'_>, project: [u8; 16]) -> Scope {
    let (account, project_name, version): ([u8; 16], String, i64) = tx
        .prepare_cached(PROJECT)
        .expect("prepare")
        .query_row([project], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("the project");
    let mut account_name = String::new();
    let mut administrators = Vec::new();
    let mut stmt = tx.prepare_cached(ACCOUNT).expect("prepare");
    let mut rows = stmt.query([account]).expect("the account");
    while let Some(row) = rows.next().expect("account row") {
        account_name = row.get(0).expect("name");
        if let Some(user) = row.get::<_, Option<[u8; 16]>>(1).expect("administrator") {
            administrators.push(user);
        }
    }
    Scope {
        version,
        project_name,
        account_name,
        administrators,
    }
}

fn member_role(tx: &Transaction<'_>, project: [u8; 16], user: [u8; 16]) -> Option<String> {
    tx.prepare_cached(MEMBER_ROLE)
        .expect("prepare")
        .query_row([project, user], |row| row.get(0))
        .optional()
        .expect("membership")
}

/// Whether `user` may invite to the project (or still may grant what they offered).
fn may_manage(tx: &Transaction<'_>, scope: &Scope, project: [u8; 16], user: [u8; 16]) -> bool {
    scope.administrators.contains(&user)
        || member_role(tx, project, user).is_some_and(|role| role == "administrator")
}

fn bump(tx: &Transaction<'_>, project: [u8; 16], version: i64) {
    let changed = tx
        .prepare_cached(BUMP)
        .expect("prepare")
        .execute(params![project, version])
        .expect("bump");
    assert_eq!(changed, 1, "nobody else writes the baseline's file");
}

fn audit(tx: &Transaction<'_>, at: i64, actor: [u8; 16], site: &Site, action: &str) {
    let id = EventId::generate(Utc::now(), &roster::OsRandom);
    tx.prepare_cached(INSERT_AUDIT)
        .expect("prepare")
        .execute(params![
            id.as_uuid().into_bytes(),
            at,
            actor,
            site.account.as_uuid().into_bytes(),
            site.project.as_uuid().into_bytes(),
            action
        ])
        .expect("audit event");
}

/// The hand-written baseline: one connection and the statements above.
struct Raw {
    conn: Connection,
    site: Rc<Site>,
    random: SeededRandom,
    /// Notices sent but not yet marked delivered: written in batches, as the service's flush
    /// writes its records.
    unrecorded: Vec<NoticeId>,
}

/// Delivery records per batch (about what the service's 200 ms flush gathers at these rates).
const RECORD_BATCH: usize = 200;

impl Raw {
    /// A new site, then the service closed and a raw connection opened on its file.
    fn new(runtime: &tokio::runtime::Runtime) -> Self {
        let (site, roster) = new_site(runtime);
        drop(roster);
        Raw::on(Rc::new(site))
    }

    /// A raw connection on an existing site's file.
    fn on(site: Rc<Site>) -> Self {
        Raw {
            conn: raw_connection(&site.path),
            site,
            random: SeededRandom::new(11),
            unrecorded: Vec::new(),
        }
    }

    /// What the service's `invite` does for new addresses, as the admin: the decision's reads
    /// and the rows, in one transaction; the delivery records follow in batches.
    fn invite(&mut self, addresses: &[String]) -> Vec<InvitationToken> {
        let site = &self.site;
        let project = site.project.as_uuid().into_bytes();
        let admin = site.admin.as_uuid().into_bytes();
        let now = Utc::now();
        let (at, expires_at) = (nanos(now), nanos(now + LIFETIME));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let scope = read_scope(&tx, project);
        assert!(may_manage(&tx, &scope, project, admin));
        let inviter: String = tx
            .prepare_cached(USER_EMAIL)
            .expect("prepare")
            .query_row([admin], |row| row.get(0))
            .expect("the inviter");
        let mut tokens = Vec::with_capacity(addresses.len());
        let mut notices = Vec::with_capacity(addresses.len());
        for address in addresses {
            let email = Email::parse(address).expect("valid address");
            let user: Option<([u8; 16], Option<i64>)> = tx
                .prepare_cached(USER_BY_EMAIL)
                .expect("prepare")
                .query_row([email.canonical()], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .expect("user by address");
            if let Some((user, _)) = user {
                assert!(
                    member_role(&tx, project, user).is_none(),
                    "not a member yet"
                );
            }
            let pending: Option<[u8; 16]> = tx
                .prepare_cached(PENDING)
                .expect("prepare")
                .query_row(params![project, email.canonical()], |row| row.get(0))
                .optional()
                .expect("pending invitation");
            assert!(pending.is_none(), "a new address");

            let token = InvitationToken::generate(&self.random);
            let invitation = InvitationId::generate(now, &self.random);
            tx.prepare_cached(INSERT_INVITATION)
                .expect("prepare")
                .execute(params![
                    invitation.as_uuid().into_bytes(),
                    project,
                    email.as_str(),
                    Role::USER.as_str(),
                    admin,
                    at,
                    expires_at,
                    token.hash().as_bytes(),
                    email.canonical()
                ])
                .expect("invitation");
            let action = format!(
                r#"{{"type":"invitation_sent","invitation":"{invitation}","email":"{}","role":"user"}}"#,
                email.as_str()
            );
            audit(&tx, at, admin, site, &action);
            let notice = NoticeId::generate(now, &self.random);
            tx.prepare_cached(INSERT_OUTBOX)
                .expect("prepare")
                .execute(params![
                    notice.as_uuid().into_bytes(),
                    "invitation",
                    email.as_str(),
                    invitation.as_uuid().into_bytes(),
                    project,
                    scope.project_name,
                    scope.account_name,
                    Role::USER.as_str(),
                    inviter,
                    expires_at,
                    nanos(now + LEASE),
                    at,
                    admin
                ])
                .expect("outbox entry");
            notices.push(notice);
            tokens.push(token);
        }
        bump(&tx, project, scope.version);
        tx.commit().expect("commit");
        self.unrecorded.extend(notices);
        if self.unrecorded.len() >= RECORD_BATCH {
            let notices = std::mem::take(&mut self.unrecorded);
            self.record_delivery(&notices);
        }
        tokens
    }

    /// The service's batched flush: each notice sent is marked delivered.
    fn record_delivery(&mut self, notices: &[NoticeId]) {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let at = nanos(Utc::now());
        for notice in notices {
            tx.prepare_cached(DELIVERED)
                .expect("prepare")
                .execute(params![notice.as_uuid().into_bytes(), at])
                .expect("delivery record");
        }
        tx.commit().expect("commit");
    }

    /// What the service's `accept` does for a registered invitee: the decision's reads and the
    /// rows, in one transaction.
    fn accept(&mut self, ticket: &Ticket) {
        let now = nanos(Utc::now());
        let user = ticket.user.as_uuid().into_bytes();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        #[allow(clippy::type_complexity)] // One row, named by the destructuring right here.
        let (invitation, project, canonical, role, inviter, state, expires_at): (
            [u8; 16],
            [u8; 16],
            String,
            String,
            [u8; 16],
            String,
            i64,
        ) = tx
            .prepare_cached(BY_TOKEN)
            .expect("prepare")
            .query_row([ticket.token.hash().as_bytes()], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ))
            })
            .expect("the invitation");
        assert!(state == "pending" && expires_at > now, "a live invitation");
        let scope = read_scope(&tx, project);
        assert!(
            may_manage(&tx, &scope, project, inviter),
            "inviter still may"
        );
        let invitee: ([u8; 16], Option<i64>) = tx
            .prepare_cached(USER_BY_EMAIL)
            .expect("prepare")
            .query_row([canonical.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("the invitee");
        assert!(
            invitee.0 == user && invitee.1.is_some(),
            "the registered invitee"
        );
        assert!(
            member_role(&tx, project, user).is_none(),
            "not a member yet"
        );

        bump(&tx, project, scope.version);
        tx.prepare_cached(INSERT_MEMBERSHIP)
            .expect("prepare")
            .execute(params![project, user, role, inviter, now])
            .expect("membership");
        tx.prepare_cached(CLOSE_INVITATION)
            .expect("prepare")
            .execute(params![invitation, now])
            .expect("invitation closed");
        let action = format!(
            r#"{{"type":"invitation_accepted","invitation":"{}","user":"{}","role":"{role}"}}"#,
            hex(invitation),
            hex(user)
        );
        audit(&tx, now, user, &self.site, &action);
        tx.commit().expect("commit");
    }
}

/// An id's bytes in hex, as the baseline's audit JSON names it.
fn hex(id: [u8; 16]) -> String {
    format!("{:032x}", u128::from_be_bytes(id))
}

/// A pending invitation seeded for an accept bench: its token and the registered invitee.
struct Ticket {
    token: InvitationToken,
    user: UserId,
}

/// Writes `count` pending invitations from the site's admin to fresh addresses straight into
/// the file, one user each (registered if `registered`), in one transaction, with the
/// baseline's statements. Returns the tokens and invitees.
fn seed(conn: &mut Connection, site: &Site, count: usize, registered: bool) -> Vec<Ticket> {
    let random = roster::OsRandom;
    let now = Utc::now();
    let (at, expires_at) = (nanos(now), nanos(now + LIFETIME));
    let project = site.project.as_uuid().into_bytes();
    let admin = site.admin.as_uuid().into_bytes();
    // In token-hash order, with ids and addresses made as rows are written: then every index
    // grows at its end, and a million rows take seconds instead of minutes of random inserts.
    let mut tokens: Vec<(roster::TokenHash, InvitationToken)> = (0..count)
        .map(|_| {
            let token = InvitationToken::generate(&random);
            (token.hash(), token)
        })
        .collect();
    tokens.sort_unstable_by_key(|(hash, _)| *hash);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let mut tickets = Vec::with_capacity(count);
    {
        let mut insert_user = tx.prepare_cached(INSERT_USER).expect("prepare");
        let mut insert_invitation = tx.prepare_cached(INSERT_INVITATION).expect("prepare");
        for (hash, token) in tokens {
            let email = Email::parse(&fresh_address()).expect("valid address");
            let user = UserId::generate(now, &random);
            insert_user
                .execute(params![
                    user.as_uuid().into_bytes(),
                    email.as_str(),
                    registered.then_some(at),
                    at,
                    email.canonical()
                ])
                .expect("user");
            insert_invitation
                .execute(params![
                    InvitationId::generate(now, &random).as_uuid().into_bytes(),
                    project,
                    email.as_str(),
                    Role::USER.as_str(),
                    admin,
                    at,
                    expires_at,
                    hash.as_bytes(),
                    email.canonical()
                ])
                .expect("invitation");
            tickets.push(Ticket { token, user });
        }
    }
    tx.commit().expect("commit");
    tickets
}

/// Registered invitees' tickets for a site, seeded on demand outside the timed region.
struct Pool {
    conn: Connection,
    tickets: Vec<Ticket>,
}

impl Pool {
    fn new(path: &Path) -> Self {
        Pool {
            conn: raw_connection(path),
            tickets: Vec::new(),
        }
    }

    /// `count` unused tickets, seeding exactly the missing ones (so the file grows no more
    /// than the bench consumes).
    fn take(&mut self, site: &Site, count: usize) -> Vec<Ticket> {
        if self.tickets.len() < count {
            let missing = count - self.tickets.len();
            self.tickets
                .extend(seed(&mut self.conn, site, missing, true));
        }
        self.tickets.split_off(self.tickets.len() - count)
    }

    /// The newest audit event of the site's project: where [`Pool::retire`] starts deleting.
    fn last_event(&self, site: &Site) -> [u8; 16] {
        self.conn
            .query_row(
                "SELECT max(id) FROM audit_events WHERE project_id = ?1",
                [site.project.as_uuid().into_bytes()],
                |row| row.get(0),
            )
            .expect("the newest event")
    }

    /// Deletes what accepting `tickets` added or left behind (the memberships, the invitations,
    /// their users, the audit events after `last_event`), so a file keeps the size under test
    /// however many iterations the bench runs.
    fn retire(&mut self, site: &Site, tickets: &[Ticket], last_event: [u8; 16]) {
        let project = site.project.as_uuid().into_bytes();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        for ticket in tickets {
            let user = ticket.user.as_uuid().into_bytes();
            tx.prepare_cached("DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2")
                .expect("prepare")
                .execute([project, user])
                .expect("membership");
            tx.prepare_cached("DELETE FROM invitations WHERE token_hash = ?1")
                .expect("prepare")
                .execute([ticket.token.hash().as_bytes()])
                .expect("invitation");
            tx.prepare_cached("DELETE FROM users WHERE id = ?1")
                .expect("prepare")
                .execute([user])
                .expect("user");
        }
        tx.execute(
            "DELETE FROM audit_events WHERE project_id = ?1 AND id > ?2",
            [project, last_event],
        )
        .expect("audit events");
        tx.commit().expect("commit");
    }

    /// How many invitations the file stores.
    fn stored_invitations(&self) -> i64 {
        self.conn
            .query_row("SELECT count(*) FROM invitations", [], |row| row.get(0))
            .expect("count")
    }
}

/// Times `iters` acceptances through the service, each of a fresh ticket.
fn time_service_accepts(
    runtime: &tokio::runtime::Runtime,
    roster: &Roster,
    tickets: &[Ticket],
) -> Duration {
    let start = Instant::now();
    for ticket in tickets {
        let accepted = runtime
            .block_on(roster.accept(
                &ticket.token,
                Acceptance::ExistingUser { user: ticket.user },
            ))
            .expect("accept");
        black_box(accepted);
    }
    start.elapsed()
}

/// Times the baseline's acceptance of each ticket.
fn time_raw_accepts(raw: &mut Raw, tickets: &[Ticket]) -> Duration {
    let start = Instant::now();
    for ticket in tickets {
        raw.accept(ticket);
    }
    start.elapsed()
}

fn invite_one(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("sqlite/invite_one");

    let (site, roster) = new_site(&runtime);
    group.bench_function("roster", |b| {
        b.iter(|| {
            let rows = [InviteRequest::new(fresh_address(), Role::USER)];
            let report = runtime
                .block_on(roster.invite(site.admin, site.project, &rows))
                .expect("invite");
            assert_eq!(report.sent(), 1);
            black_box(report);
        });
    });

    let mut raw = Raw::new(&runtime);
    group.bench_function("raw_baseline", |b| {
        b.iter(|| black_box(raw.invite(&[fresh_address()])));
    });
    group.finish();
}

fn accept_one(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("sqlite/accept_one");

    let (site, roster) = new_site(&runtime);
    let mut pool = Pool::new(&site.path);
    group.bench_function("roster", |b| {
        b.iter_custom(|iters| {
            let tickets = pool.take(&site, iters as usize);
            time_service_accepts(&runtime, &roster, &tickets)
        });
    });

    let mut raw = Raw::new(&runtime);
    let mut pool = Pool::new(&raw.site.path);
    group.bench_function("raw_baseline", |b| {
        b.iter_custom(|iters| {
            let tickets = pool.take(&raw.site, iters as usize);
            time_raw_accepts(&mut raw, &tickets)
        });
    });
    group.finish();
}

const BULK_ROWS: usize = 10_000;

fn bulk_invite(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("sqlite/bulk_invite_10k");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(15));

    let (site, roster) = new_site(&runtime);
    group.bench_function("roster", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let rows: Vec<InviteRequest> = fresh_addresses(BULK_ROWS)
                    .into_iter()
                    .map(|address| InviteRequest::new(address, Role::USER))
                    .collect();
                let start = Instant::now();
                let report = runtime
                    .block_on(roster.invite(site.admin, site.project, &rows))
                    .expect("invite");
                total += start.elapsed();
                assert_eq!(report.sent(), BULK_ROWS);
                drop(black_box(report));
            }
            total
        });
    });

    let mut raw = Raw::new(&runtime);
    group.bench_function("raw_baseline", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let addresses = fresh_addresses(BULK_ROWS);
                let start = Instant::now();
                let tokens = raw.invite(&addresses);
                total += start.elapsed();
                drop(black_box(tokens));
            }
            total
        });
    });
    group.finish();
}

/// A site whose project already stores `count` pending invitations, each to its own user, and
/// the service on it.
fn filled_site(runtime: &tokio::runtime::Runtime, count: usize) -> (Site, Roster) {
    let (site, roster) = new_site(runtime);
    drop(roster);
    let start = Instant::now();
    let mut conn = raw_connection(&site.path);
    // A cache that holds every page the one filling transaction dirties, so SQLite need not
    // spill pages to the log before the commit.
    conn.pragma_update(None, "cache_size", -2_000_000)
        .expect("cache size");
    drop(seed(&mut conn, &site, count, false));
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    eprintln!(
        "sqlite/accept_stored: filled {count} invitations in {:.1?}",
        start.elapsed()
    );
    let store = SqliteStore::open(&site.path).expect("open the store");
    (site, roster_on(Arc::new(store)))
}

fn accept_stored(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("sqlite/accept_stored");
    for stored in [1_000, 1_000_000] {
        let (site, roster) = filled_site(&runtime, stored);
        let site = Rc::new(site);
        let mut pool = Pool::new(&site.path);
        group.bench_with_input(BenchmarkId::new("roster", stored), &stored, |b, _| {
            b.iter_custom(|iters| {
                let (tickets, last_event) =
                    (pool.take(&site, iters as usize), pool.last_event(&site));
                let elapsed = time_service_accepts(&runtime, &roster, &tickets);
                pool.retire(&site, &tickets, last_event);
                elapsed
            });
        });
        // The same file, to tell what SQLite itself loses to a bigger file from what the store
        // adds.
        let mut raw = Raw::on(site.clone());
        group.bench_with_input(BenchmarkId::new("raw_baseline", stored), &stored, |b, _| {
            b.iter_custom(|iters| {
                let (tickets, last_event) =
                    (pool.take(&site, iters as usize), pool.last_event(&site));
                let elapsed = time_raw_accepts(&mut raw, &tickets);
                pool.retire(&site, &tickets, last_event);
                elapsed
            });
        });
        eprintln!(
            "sqlite/accept_stored/{stored}: {} invitations stored at the end",
            pool.stored_invitations()
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    targets = invite_one, accept_one, bulk_invite, accept_stored
}
criterion_main!(benches);
