//! W1: whole phases of the invitation flow on a fresh SQLite file per run, through the service,
//! beside a raw rusqlite baseline on the minimal schema a person would write by hand.
//!
//! A **run** is one fresh file: an untimed setup (one project, one administrator, `N` = 2,000
//! registered users), then the timed phases:
//!
//! - INVITE: `N` commands, one address each (every registered user's address);
//! - ACCEPT: each token accepted by its existing user (`Acceptance::ExistingUser`, so argon2
//!   stays out), one command each;
//! - BULK (a run of its own, on its own fresh file with the same setup): one call of 10,000 new
//!   addresses.
//!
//! Both journal settings the issue names run: `delete_full` (rollback journal deleted after each
//! transaction, `synchronous = FULL`) and `wal_normal` (WAL, `synchronous = NORMAL`). The service
//! side opens its file with `SqliteStore::open_with` and those `SqliteOptions`; the registered
//! users are written straight into the store's own `users` table (registered, no password), as
//! `benches/sqlite.rs` seeds its invitees, because hashing 2,000 passwords would dominate setup.
//!
//! The **raw baseline** creates, on its own fresh file with the same settings, one `invitations`
//! table (id, project_id, email, role, inviter_id, state, created_at, expires_at, token_hash) with
//! a unique index on `token_hash` and a partial unique index on `(project_id, email)` where
//! `state = 'pending'`, and a `memberships` table unique on `(project_id, user_id)`. Invite is one
//! `INSERT` in its own transaction; accept is a `SELECT` by token hash, an `UPDATE` of the state
//! and an `INSERT` of the membership in one transaction; bulk is 10,000 `INSERT`s in one
//! transaction. It generates and hashes tokens the way the service does.
//!
//! A third side, **same writes**, runs INVITE only: the W1 setup through the service, then each
//! address invited by hand-written statements on the store's own file and schema, writing the
//! rows a roster invite writes (the project's version bump, the invitation, its audit event, its
//! outbox entry) in one `BEGIN IMMEDIATE` transaction, and marking the notices delivered in
//! batches of 200 as the service's flush does. Minimal over same writes is what the rows the rules
//! require cost; same writes over roster is roster's own overhead.
//!
//! **What criterion sees.** Each phase of each run is timed as a whole (the `W1 run` and summary
//! lines) and also cut, by completed commands, into 20 consecutive slices of `N / 20` commands.
//! Criterion calls each benchmark eleven times (one warm-up call and its least, ten samples),
//! one slice per call, taken round-robin from the runs made so far; a run is made only when
//! the slices run out. So criterion's samples cost about one run instead of eleven (a
//! `delete_full` run through the service takes about ten seconds), and criterion's warning that
//! it cannot complete its samples in 1 ns is expected. Bulk is one command, so each of its eleven
//! calls is a whole run of its own.
//!
//! Groups:
//!
//! - `w1/{delete_full,wal_normal}/{invite,accept,bulk_10k}/{roster,raw}`, and
//!   `w1/{delete_full,wal_normal}/invite/same_writes`;
//! - `w1/concurrency/{wal_normal,delete_full}/{invite,accept}/{1,8,64}`: C tokio tasks on a
//!   multi-thread runtime, all inviting into the one project (the `N` registered users dealt
//!   round-robin), then all accepting. Each command runs once; errors (`Contention` before the one-trip port) are
//!   counted by kind and printed, never a panic, and throughput counts successful commands;
//! - `w1/accept_latency/{1k,1m}/{roster,raw}` (`wal_normal`): one criterion iteration per
//!   accept; every accept's own duration is kept and p50/p99/p99.9 printed. The file holds 1,000
//!   or 1,000,000 pending invitations in the one project, written with raw statements in one
//!   transaction through the schema of its side (the store's for roster, the minimal one for
//!   raw). The accepted tickets come in batches of 100, made untimed before the batch and
//!   deleted after it, so the stored count stays within 100 of the nominal one: for roster, 100
//!   registered users written into the file, then invited by the service in one call (so the
//!   store's own connection writes last before the timed accepts, as in real use); for raw,
//!   100 inserted invitations.
//!
//! Output, one line each, on stdout (`grep '^W1 '`): `W1 run ...` as each run ends, then at the
//! end `W1 <mode> <phase> roster=…/s raw=…/s ratio=…x` (medians over runs, with the min..max
//! spread of each side; `ratio` is raw over roster, how many times the service's throughput the
//! baseline reaches, which the targets cap), `W1 concurrency ...` (successful commands per
//! second, and as a multiple of one task's) and `W1 accept_latency ...`. Each names its target
//! and whether this run `met` or `MISSED` it.
//!
//! Run: `cargo bench -p roster-benches --bench w1` (about three and a half minutes on the
//! 2-core development machine; filling the 1,000,000-row file takes half a minute of it). Environment:
//! `W1_RUNS` (default 3) whole runs per side and mode at least, `W1_CONC_RUNS` (default 1) per
//! concurrency level; `W1_QUICK=1` shrinks everything for a smoke pass (N = 500, bulk 2,500,
//! 100,000 stored instead of 1,000,000, one run each, shorter latency sampling), and says so in
//! every line (`n=500`). Criterion's filters pick groups, e.g. `-- w1/wal_normal`.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
};
use roster::{
    Acceptance, Email, InvitationId, InvitationToken, InviteRequest, OsRandom, ProjectId, Role,
    Roster, RosterError, StoreError, TokenHash, UserId,
};
use roster_benches::{roster_on, seed_admin_project};
use roster_sqlite::rusqlite::{Connection, TransactionBehavior, params};
use roster_sqlite::{JournalMode, SqliteOptions, SqliteStore, Synchronous};
use tempfile::TempDir;
use tokio::runtime::Runtime;

// ---- sizes and settings ----

/// How big the workload is and how many runs to make.
struct Sizes {
    quick: bool,
    /// Registered users in the setup, and commands per INVITE and ACCEPT phase.
    users: usize,
    /// Addresses in the one BULK call.
    bulk: usize,
    /// The large stored count of `accept_latency`.
    many_stored: usize,
    /// Whole runs per side and mode, at least.
    runs: usize,
    /// Whole runs per concurrency level, at least.
    concurrency_runs: usize,
    /// Criterion's warm-up and measurement time for each `accept_latency` benchmark.
    latency_warm_up: Duration,
    latency_measurement: Duration,
}

fn sizes() -> &'static Sizes {
    static SIZES: OnceLock<Sizes> = OnceLock::new();
    SIZES.get_or_init(|| {
        let quick = std::env::var("W1_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let count = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .map(|v| v.parse::<usize>().expect("a count").max(1))
                .unwrap_or(default)
        };
        if quick {
            Sizes {
                quick,
                users: 500,
                bulk: 2_500,
                many_stored: 100_000,
                runs: count("W1_RUNS", 1),
                concurrency_runs: count("W1_CONC_RUNS", 1),
                latency_warm_up: Duration::from_millis(200),
                latency_measurement: Duration::from_millis(800),
            }
        } else {
            Sizes {
                quick,
                users: 2_000,
                bulk: 10_000,
                many_stored: 1_000_000,
                runs: count("W1_RUNS", 3),
                concurrency_runs: count("W1_CONC_RUNS", 1),
                latency_warm_up: Duration::from_millis(500),
                latency_measurement: Duration::from_secs(2),
            }
        }
    })
}

/// Slices per timed phase that criterion samples (see the module documentation).
const SLICES: usize = 20;
/// Concurrency levels: tasks inviting into (then accepting in) the one project.
const TASKS: [usize; 3] = [1, 8, 64];
/// Tickets seeded, accepted and deleted together in `accept_latency`.
const LATENCY_BATCH: usize = 100;
/// The service's default invitation lifetime, used by the baseline too.
const LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// The two journal settings of W1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    DeleteFull,
    WalNormal,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::DeleteFull => "delete_full",
            Mode::WalNormal => "wal_normal",
        }
    }

    fn journal(self) -> JournalMode {
        match self {
            Mode::DeleteFull => JournalMode::Delete,
            Mode::WalNormal => JournalMode::Wal,
        }
    }

    fn synchronous(self) -> Synchronous {
        match self {
            Mode::DeleteFull => Synchronous::Full,
            Mode::WalNormal => Synchronous::Normal,
        }
    }

    fn options(self) -> SqliteOptions {
        SqliteOptions::default()
            .journal_mode(self.journal())
            .synchronous(self.synchronous())
    }

    /// Targets: the most the service may take over the minimal baseline, per phase.
    fn target(self, phase: &str) -> Option<f64> {
        match (self, phase) {
            (Mode::DeleteFull, "invite" | "accept") => Some(1.3),
            (Mode::WalNormal, "invite" | "bulk_10k") => Some(3.0),
            (Mode::WalNormal, "accept") => Some(2.0),
            _ => None,
        }
    }

    /// The least that 64 tasks must reach, as a multiple of one task's throughput.
    fn concurrency_target(self) -> f64 {
        match self {
            Mode::DeleteFull => 5.0,
            Mode::WalNormal => 2.0,
        }
    }
}

// ---- small helpers ----

/// Addresses handed out so far in this process: every address is new to every file, and
/// addresses made later sort later (appends to the address indexes).
static NEXT_ADDRESS: AtomicU64 = AtomicU64::new(0);

fn fresh_address() -> String {
    let n = NEXT_ADDRESS.fetch_add(1, Ordering::Relaxed);
    format!("w1person{n:09}@bench.example")
}

fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .expect("instant within i64 nanoseconds")
}

fn single_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn multi_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .build()
        .expect("runtime")
}

/// The kind of an error, as counted and printed: the variant's name (`Contention`,
/// `Store::Backend`, ...).
fn error_kind(error: &RosterError) -> String {
    fn variant(debug: &str) -> &str {
        let end = debug
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(debug.len());
        &debug[..end]
    }
    match error {
        RosterError::Store(store) => {
            let retryable = match store {
                StoreError::Backend { retryable, .. } => {
                    if *retryable {
                        "(retryable)"
                    } else {
                        "(permanent)"
                    }
                }
                _ => "",
            };
            format!("Store::{}{retryable}", variant(&format!("{store:?}")))
        }
        other => variant(&format!("{other:?}")).to_owned(),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn spread(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{min:.0}..{max:.0}/s")
}

fn verdict(ratio: f64, limit: f64, at_most: bool) -> &'static str {
    let met = if at_most {
        ratio <= limit
    } else {
        ratio >= limit
    };
    if met { "met" } else { "MISSED" }
}

fn size_label(count: usize) -> String {
    match count {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Summary lines, printed together once every benchmark has run.
static SUMMARY: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn summarize(line: String) {
    SUMMARY.lock().expect("summary").push(line);
}

// ---- timed phases ----

/// One timed phase: when each command finished (from the phase's start, in order), how many
/// succeeded, and the errors by kind.
#[derive(Debug, Default)]
struct Phase {
    finished: Vec<Duration>,
    ok: usize,
    errors: BTreeMap<String, usize>,
}

impl Phase {
    fn record(&mut self, at: Duration, outcome: Result<(), String>) {
        self.finished.push(at);
        match outcome {
            Ok(()) => self.ok += 1,
            Err(kind) => *self.errors.entry(kind).or_default() += 1,
        }
    }

    fn elapsed(&self) -> Duration {
        self.finished.last().copied().unwrap_or_default()
    }

    /// Successful commands (for bulk: addresses) per second.
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed().as_secs_f64()
    }

    fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    /// The phase cut into `count` consecutive slices by completed commands.
    fn slices(&self, count: usize) -> Vec<Duration> {
        let n = self.finished.len();
        let count = count.min(n);
        (0..count)
            .map(|k| {
                let end = self.finished[(k + 1) * n / count - 1];
                let start = if k == 0 {
                    Duration::ZERO
                } else {
                    self.finished[k * n / count - 1]
                };
                end - start
            })
            .collect()
    }
}

fn errors_text(errors: &BTreeMap<String, usize>) -> String {
    let total: usize = errors.values().sum();
    let mut text = format!("errors={total}");
    for (kind, count) in errors {
        let _ = write!(text, " {kind}={count}");
    }
    text
}

/// Whole runs of one workload on one side, made when first needed, and their slices not yet
/// handed to criterion.
struct Runs<'a> {
    label: String,
    phases: &'static [&'static str],
    slices_per_phase: usize,
    min_runs: usize,
    make: Box<dyn FnMut() -> Vec<Phase> + 'a>,
    runs: Vec<Vec<Phase>>,
    queues: Vec<VecDeque<Duration>>,
}

impl<'a> Runs<'a> {
    fn new(
        label: String,
        phases: &'static [&'static str],
        slices_per_phase: usize,
        min_runs: usize,
        make: impl FnMut() -> Vec<Phase> + 'a,
    ) -> Self {
        Runs {
            label,
            phases,
            slices_per_phase,
            min_runs,
            make: Box::new(make),
            queues: phases.iter().map(|_| VecDeque::new()).collect(),
            runs: Vec::new(),
        }
    }

    /// Makes `count` more runs, printing each, and queues their slices round-robin.
    fn make_runs(&mut self, count: usize) {
        let first = self.runs.len();
        for number in first..first + count {
            let phases = (self.make)();
            let mut line = format!("W1 run {} #{}", self.label, number + 1);
            for (name, phase) in self.phases.iter().zip(&phases) {
                let _ = write!(
                    line,
                    " {name}={:.0}/s ({} ok in {:.3}s",
                    phase.rate(),
                    phase.ok,
                    phase.elapsed().as_secs_f64()
                );
                if phase.error_count() > 0 {
                    let _ = write!(line, ", {}", errors_text(&phase.errors));
                }
                line.push(')');
            }
            println!("{line}");
            self.runs.push(phases);
        }
        for (index, queue) in self.queues.iter_mut().enumerate() {
            let sliced: Vec<Vec<Duration>> = self.runs[first..]
                .iter()
                .map(|run| run[index].slices(self.slices_per_phase))
                .collect();
            for slice in 0..self.slices_per_phase {
                queue.extend(sliced.iter().filter_map(|run| run.get(slice).copied()));
            }
        }
    }

    /// The time of the next `iters` slices of `phase` (for criterion's `iter_custom`).
    fn take(&mut self, phase: usize, iters: u64) -> Duration {
        let iters = usize::try_from(iters).expect("iterations");
        if self.runs.len() < self.min_runs {
            self.make_runs(self.min_runs - self.runs.len());
        }
        let mut fruitless = 0;
        while self.queues[phase].len() < iters {
            let before = self.queues[phase].len();
            self.make_runs(1);
            if self.queues[phase].len() == before {
                // Every command of the phase failed before it (no accepts after no invites):
                // nothing to time, and nothing to panic about either.
                fruitless += 1;
                if fruitless == 3 {
                    return Duration::from_nanos(iters as u64);
                }
            }
        }
        self.queues[phase].drain(..iters).sum()
    }

    /// Each run's rate in `phase`.
    fn rates(&self, phase: usize) -> Vec<f64> {
        self.runs.iter().map(|run| run[phase].rate()).collect()
    }

    fn errors(&self, phase: usize) -> BTreeMap<String, usize> {
        let mut all = BTreeMap::new();
        for run in &self.runs {
            for (kind, count) in &run[phase].errors {
                *all.entry(kind.clone()).or_default() += count;
            }
        }
        all
    }
}

// ---- the service's side ----

/// The store's statements for seeding a file directly (the schema `SqliteStore` created).
const STORE_INSERT_USER: &str = "INSERT INTO users \
     (id, email, registered_at, created_at, version, email_canonical, password_hash) \
     VALUES (?1, ?2, ?3, ?4, 0, ?5, NULL)";
const STORE_INSERT_INVITATION: &str = "INSERT INTO invitations (id, project_id, email, role, \
     invited_by, state, created_at, sent_at, expires_at, closed_at, token_hash, sends, \
     email_canonical) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, NULL, ?8, 1, ?9)";

/// A pending invitation of `email` to a project from its administrator (`keys`: the project's
/// and the administrator's), sent at and expiring at `times`, written with the store's statement.
fn store_insert_invitation(
    conn: &Connection,
    id: InvitationId,
    keys: ([u8; 16], [u8; 16]),
    email: &Email,
    times: (i64, i64),
    hash: &TokenHash,
) {
    let ((project, admin), (at, expires_at)) = (keys, times);
    conn.prepare_cached(STORE_INSERT_INVITATION)
        .expect("prepare")
        .execute(params![
            id.as_uuid().into_bytes(),
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
}

/// A registered user of the setup.
#[derive(Debug, Clone)]
struct Invitee {
    address: String,
    user: UserId,
}

/// A fresh file with the W1 setup, and the service on it.
struct RosterSite {
    roster: Roster,
    admin: UserId,
    project: ProjectId,
    users: Vec<Invitee>,
    path: PathBuf,
    _dir: TempDir,
}

/// A raw connection on a file the store made (its journal mode is the store's; rollback modes
/// default to DELETE on every connection).
fn store_file_connection(path: &Path, mode: Mode) -> Connection {
    let conn = Connection::open(path).expect("open the file");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");
    conn.pragma_update(None, "synchronous", mode.synchronous().as_str())
        .expect("synchronous");
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal mode");
    assert_eq!(
        journal,
        mode.journal().as_str(),
        "the store left the file in the journal mode asked for"
    );
    conn.set_prepared_statement_cache_capacity(64);
    conn
}

/// Writes `count` registered users (new addresses, no password) straight into the store's
/// `users` table, in one transaction.
fn store_insert_users(conn: &mut Connection, count: usize) -> Vec<Invitee> {
    let now = Utc::now();
    let at = nanos(now);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let mut invitees = Vec::with_capacity(count);
    {
        let mut insert = tx.prepare_cached(STORE_INSERT_USER).expect("prepare");
        for _ in 0..count {
            let address = fresh_address();
            let email = Email::parse(&address).expect("valid address");
            let user = UserId::generate(now, &OsRandom);
            insert
                .execute(params![
                    user.as_uuid().into_bytes(),
                    email.as_str(),
                    Some(at),
                    at,
                    email.canonical()
                ])
                .expect("user");
            invitees.push(Invitee { address, user });
        }
    }
    tx.commit().expect("commit");
    invitees
}

/// Opens a fresh store file in `mode`, makes the administrator and project through the service
/// and writes `users` registered users straight into the store's `users` table.
fn roster_site(runtime: &Runtime, mode: Mode, users: usize) -> RosterSite {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("roster.db");
    let store = SqliteStore::open_with(&path, mode.options()).expect("open the store");
    let roster = roster_on(Arc::new(store));
    let seeded = runtime.block_on(seed_admin_project(&roster));
    let mut conn = store_file_connection(&path, mode);
    let invitees = store_insert_users(&mut conn, users);
    drop(conn);
    RosterSite {
        roster,
        admin: seeded.admin.id,
        project: seeded.project.id,
        users: invitees,
        path,
        _dir: dir,
    }
}

/// One W1 run through the service: setup, INVITE, ACCEPT.
fn roster_run(runtime: &Runtime, mode: Mode) -> Vec<Phase> {
    let site = roster_site(runtime, mode, sizes().users);
    runtime.block_on(async {
        let mut invite = Phase::default();
        let mut tickets = Vec::with_capacity(site.users.len());
        let start = Instant::now();
        for invitee in &site.users {
            let rows = [InviteRequest::new(invitee.address.as_str(), Role::USER)];
            let outcome = match site.roster.invite(site.admin, site.project, &rows).await {
                Ok(report) => match report.rows[0].outcome.token() {
                    Some(token) => {
                        tickets.push((token.clone(), invitee.user));
                        Ok(())
                    }
                    None => Err(format!("NotSent({:?})", report.rows[0].outcome)),
                },
                Err(error) => Err(error_kind(&error)),
            };
            invite.record(start.elapsed(), outcome);
        }

        let mut accept = Phase::default();
        let start = Instant::now();
        for (token, user) in &tickets {
            let outcome = site
                .roster
                .accept(token, Acceptance::ExistingUser { user: *user })
                .await
                .map(|accepted| drop(black_box(accepted)))
                .map_err(|error| error_kind(&error));
            accept.record(start.elapsed(), outcome);
        }
        vec![invite, accept]
    })
}

/// Statements of the same-writes baseline: by hand, on the store's own schema, the rows one
/// roster invite writes (the project's version, the invitation, its audit event, its outbox
/// entry), and the batched delivery record.
const SAME_BUMP: &str = "UPDATE projects SET version = version + 1 WHERE id = ?1";
const SAME_AUDIT: &str = "INSERT INTO audit_events (project_id, id, at, actor, account_id, action) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const SAME_OUTBOX: &str = "INSERT INTO outbox (id, kind, to_email, invitation_id, project_id, \
     project_name, account_name, role, inviter, expires_at, send, status, attempts, \
     next_attempt_at, last_error, created_at, finished_at, language, sent_by) VALUES \
     (?1, 'access_granted', ?2, ?3, ?4, 'Bench', 'Bench', 'user', 'admin@bench.example', ?5, 1, \
     'queued', 1, ?6, NULL, ?7, NULL, NULL, ?8)";
const SAME_DELIVERED: &str = "UPDATE outbox SET status = 'delivered', finished_at = ?2 \
     WHERE id = ?1";
/// Delivery records per batch, as the service's flush gathers about that many in its 200 ms
/// at these rates.
const SAME_RECORD_BATCH: usize = 200;

/// One INVITE run of the same-writes baseline: the W1 setup through the service, then each
/// registered user invited by hand-written statements on the store's file, one `BEGIN
/// IMMEDIATE` transaction per invite, the delivery records written in batches. What it costs
/// beside the minimal baseline is what the rows the rules require cost; what roster costs
/// beside it is roster's own.
fn same_writes_run(runtime: &Runtime, mode: Mode) -> Vec<Phase> {
    let site = roster_site(runtime, mode, sizes().users);
    let mut conn = store_file_connection(&site.path, mode);
    let project = site.project.as_uuid().into_bytes();
    let admin = site.admin.as_uuid().into_bytes();
    let account: Vec<u8> = conn
        .query_row(
            "SELECT account_id FROM projects WHERE id = ?1",
            [project],
            |row| row.get(0),
        )
        .expect("the project's account");
    let mut invite = Phase::default();
    let mut unrecorded = Vec::with_capacity(SAME_RECORD_BATCH);
    let start = Instant::now();
    for invitee in &site.users {
        let now = Utc::now();
        let (at, expires_at) = (nanos(now), nanos(now + LIFETIME));
        let email = Email::parse(&invitee.address).expect("valid address");
        let token = InvitationToken::generate(&OsRandom);
        let invitation = InvitationId::generate(now, &OsRandom);
        let notice = roster::NoticeId::generate(now, &OsRandom);
        let action = format!(
            r#"{{"type":"invitation_sent","invitation":"{}","email":"{}","role":"user"}}"#,
            invitation.as_uuid(),
            email.as_str()
        );
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        tx.prepare_cached(SAME_BUMP)
            .expect("prepare")
            .execute([project])
            .expect("version");
        store_insert_invitation(
            &tx,
            invitation,
            (project, admin),
            &email,
            (at, expires_at),
            &token.hash(),
        );
        tx.prepare_cached(SAME_AUDIT)
            .expect("prepare")
            .execute(params![
                project,
                roster::EventId::generate(now, &OsRandom)
                    .as_uuid()
                    .into_bytes(),
                at,
                admin,
                account,
                action
            ])
            .expect("audit event");
        tx.prepare_cached(SAME_OUTBOX)
            .expect("prepare")
            .execute(params![
                notice.as_uuid().into_bytes(),
                email.as_str(),
                invitation.as_uuid().into_bytes(),
                project,
                expires_at,
                nanos(now + chrono::Duration::minutes(5)),
                at,
                admin
            ])
            .expect("outbox entry");
        tx.commit().expect("commit");
        unrecorded.push(notice);
        if unrecorded.len() == SAME_RECORD_BATCH {
            same_record(&mut conn, &mut unrecorded);
        }
        invite.record(start.elapsed(), Ok(()));
    }
    same_record(&mut conn, &mut unrecorded);
    vec![invite]
}

/// Marks `notices` delivered in one transaction.
fn same_record(conn: &mut Connection, notices: &mut Vec<roster::NoticeId>) {
    let at = nanos(Utc::now());
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    for notice in notices.drain(..) {
        tx.prepare_cached(SAME_DELIVERED)
            .expect("prepare")
            .execute(params![notice.as_uuid().into_bytes(), at])
            .expect("delivered");
    }
    tx.commit().expect("commit");
}

/// One BULK run through the service: setup, then one call of `bulk` new addresses.
fn roster_bulk_run(runtime: &Runtime, mode: Mode) -> Vec<Phase> {
    let site = roster_site(runtime, mode, sizes().users);
    let rows: Vec<InviteRequest> = (0..sizes().bulk)
        .map(|_| InviteRequest::new(fresh_address(), Role::USER))
        .collect();
    let mut phase = Phase::default();
    let start = Instant::now();
    let result = runtime.block_on(site.roster.invite(site.admin, site.project, &rows));
    let elapsed = start.elapsed();
    phase.finished.push(elapsed);
    match result {
        Ok(report) => {
            phase.ok = report.sent();
            if report.sent() < rows.len() {
                phase
                    .errors
                    .insert("NotSent".into(), rows.len() - report.sent());
            }
            drop(black_box(report));
        }
        Err(error) => {
            phase.errors.insert(error_kind(&error), rows.len());
        }
    }
    vec![phase]
}

/// One concurrency run: setup, then `tasks` tasks invite the registered users (dealt
/// round-robin), then accept what they got. Each command runs once; errors are counted.
fn concurrency_run(runtime: &Runtime, mode: Mode, tasks: usize) -> Vec<Phase> {
    let site = roster_site(runtime, mode, sizes().users);
    let mut shares: Vec<Vec<Invitee>> = vec![Vec::new(); tasks];
    for (index, invitee) in site.users.iter().enumerate() {
        shares[index % tasks].push(invitee.clone());
    }
    type Finished = Vec<(Instant, Result<(), String>)>;
    let gather = |mut phase: Phase, start: Instant, results: Vec<Finished>| {
        let mut all: Vec<(Instant, Result<(), String>)> = results.into_iter().flatten().collect();
        all.sort_by_key(|(at, _)| *at);
        for (at, outcome) in all {
            phase.record(at - start, outcome);
        }
        phase
    };
    runtime.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let (roster, admin, project) = (site.roster.clone(), site.admin, site.project);
                tokio::spawn(async move {
                    let mut finished = Vec::with_capacity(share.len());
                    let mut tickets = Vec::with_capacity(share.len());
                    for invitee in share {
                        let rows = [InviteRequest::new(invitee.address.as_str(), Role::USER)];
                        let outcome = match roster.invite(admin, project, &rows).await {
                            Ok(report) => match report.rows[0].outcome.token() {
                                Some(token) => {
                                    tickets.push((token.clone(), invitee.user));
                                    Ok(())
                                }
                                None => Err("NotSent".to_owned()),
                            },
                            Err(error) => Err(error_kind(&error)),
                        };
                        finished.push((Instant::now(), outcome));
                    }
                    (finished, tickets)
                })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks);
        let mut ticket_shares = Vec::with_capacity(tasks);
        for handle in handles {
            let (finished, tickets) = handle.await.expect("invite task");
            results.push(finished);
            ticket_shares.push(tickets);
        }
        let invite = gather(Phase::default(), start, results);

        let start = Instant::now();
        let handles: Vec<_> = ticket_shares
            .into_iter()
            .map(|tickets| {
                let roster = site.roster.clone();
                tokio::spawn(async move {
                    let mut finished = Vec::with_capacity(tickets.len());
                    for (token, user) in tickets {
                        let outcome = roster
                            .accept(&token, Acceptance::ExistingUser { user })
                            .await
                            .map(|accepted| drop(black_box(accepted)))
                            .map_err(|error| error_kind(&error));
                        finished.push((Instant::now(), outcome));
                    }
                    finished
                })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks);
        for handle in handles {
            results.push(handle.await.expect("accept task"));
        }
        let accept = gather(Phase::default(), start, results);
        vec![invite, accept]
    })
}

// ---- the raw baseline: the minimal schema ----

const RAW_SCHEMA: &str = "
CREATE TABLE invitations (
    id          BLOB    NOT NULL PRIMARY KEY,
    project_id  BLOB    NOT NULL,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    inviter_id  BLOB    NOT NULL,
    state       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    token_hash  BLOB    NOT NULL
);
CREATE UNIQUE INDEX invitations_by_token ON invitations (token_hash);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (project_id, email)
    WHERE state = 'pending';
CREATE TABLE memberships (
    project_id  BLOB    NOT NULL,
    user_id     BLOB    NOT NULL,
    role        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, user_id)
);
";
const RAW_INSERT_INVITATION: &str = "INSERT INTO invitations (id, project_id, email, role, \
     inviter_id, state, created_at, expires_at, token_hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)";
const RAW_BY_TOKEN: &str =
    "SELECT id, project_id, role, state, expires_at FROM invitations WHERE token_hash = ?1";
const RAW_CLOSE: &str = "UPDATE invitations SET state = 'accepted' WHERE id = ?1";
const RAW_INSERT_MEMBERSHIP: &str =
    "INSERT INTO memberships (project_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)";

/// A fresh file with the minimal schema, in `mode`, and the ids of its setup.
struct RawSite {
    conn: Connection,
    project: [u8; 16],
    admin: [u8; 16],
    _dir: TempDir,
}

fn raw_site(mode: Mode) -> RawSite {
    let dir = tempfile::tempdir().expect("temporary directory");
    let conn = Connection::open(dir.path().join("raw.db")).expect("open the file");
    conn.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    let journal: String = conn
        .pragma_update_and_check(None, "journal_mode", mode.journal().as_str(), |row| {
            row.get(0)
        })
        .expect("journal mode");
    assert_eq!(journal, mode.journal().as_str(), "journal mode");
    conn.pragma_update(None, "synchronous", mode.synchronous().as_str())
        .expect("synchronous");
    conn.execute_batch(RAW_SCHEMA).expect("schema");
    conn.set_prepared_statement_cache_capacity(16);
    let now = Utc::now();
    RawSite {
        conn,
        project: ProjectId::generate(now, &OsRandom).as_uuid().into_bytes(),
        admin: UserId::generate(now, &OsRandom).as_uuid().into_bytes(),
        _dir: dir,
    }
}

impl RawSite {
    /// Inserts one pending invitation of `address` (canonical form) and returns its token.
    fn insert_invitation(
        conn: &Connection,
        project: [u8; 16],
        admin: [u8; 16],
        address: &str,
    ) -> InvitationToken {
        let now = Utc::now();
        let token = InvitationToken::generate(&OsRandom);
        conn.prepare_cached(RAW_INSERT_INVITATION)
            .expect("prepare")
            .execute(params![
                InvitationId::generate(now, &OsRandom)
                    .as_uuid()
                    .into_bytes(),
                project,
                address.to_lowercase(),
                Role::USER.as_str(),
                admin,
                nanos(now),
                nanos(now + LIFETIME),
                token.hash().as_bytes()
            ])
            .expect("invitation");
        token
    }

    /// Invite: one `INSERT` in its own transaction.
    fn invite(&mut self, address: &str) -> InvitationToken {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let token = Self::insert_invitation(&tx, self.project, self.admin, address);
        tx.commit().expect("commit");
        token
    }

    /// Bulk: one `INSERT` per address, one transaction.
    fn bulk(&mut self, addresses: &[String]) -> Vec<InvitationToken> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let tokens = addresses
            .iter()
            .map(|address| Self::insert_invitation(&tx, self.project, self.admin, address))
            .collect();
        tx.commit().expect("commit");
        tokens
    }

    /// Accept: the invitation by token hash, its state updated, the membership inserted, in
    /// one transaction.
    fn accept(&mut self, token: &InvitationToken, user: UserId) {
        let now = nanos(Utc::now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        let (id, project, role, state, expires_at): ([u8; 16], [u8; 16], String, String, i64) = tx
            .prepare_cached(RAW_BY_TOKEN)
            .expect("prepare")
            .query_row([token.hash().as_bytes()], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .expect("the invitation");
        assert!(state == "pending" && expires_at > now, "a live invitation");
        tx.prepare_cached(RAW_CLOSE)
            .expect("prepare")
            .execute([id])
            .expect("state");
        tx.prepare_cached(RAW_INSERT_MEMBERSHIP)
            .expect("prepare")
            .execute(params![project, user.as_uuid().into_bytes(), role, now])
            .expect("membership");
        tx.commit().expect("commit");
    }
}

/// One W1 run of the baseline: setup (ids of `N` users), INVITE, ACCEPT.
fn raw_run(mode: Mode) -> Vec<Phase> {
    let mut site = raw_site(mode);
    let now = Utc::now();
    let users: Vec<Invitee> = (0..sizes().users)
        .map(|_| Invitee {
            address: fresh_address(),
            user: UserId::generate(now, &OsRandom),
        })
        .collect();
    let mut invite = Phase::default();
    let mut tickets = Vec::with_capacity(users.len());
    let start = Instant::now();
    for invitee in &users {
        tickets.push((site.invite(&invitee.address), invitee.user));
        invite.record(start.elapsed(), Ok(()));
    }
    let mut accept = Phase::default();
    let start = Instant::now();
    for (token, user) in &tickets {
        site.accept(token, *user);
        accept.record(start.elapsed(), Ok(()));
    }
    vec![invite, accept]
}

/// One BULK run of the baseline.
fn raw_bulk_run(mode: Mode) -> Vec<Phase> {
    let mut site = raw_site(mode);
    let addresses: Vec<String> = (0..sizes().bulk).map(|_| fresh_address()).collect();
    let start = Instant::now();
    let tokens = site.bulk(&addresses);
    let mut phase = Phase::default();
    phase.finished.push(start.elapsed());
    phase.ok = tokens.len();
    drop(black_box(tokens));
    vec![phase]
}

/// Makes criterion call each benchmark of `group` exactly eleven times with one iteration each:
/// one warm-up call and ten samples (its least). Criterion times its warm-up by the wall clock
/// of each call, and a call that only hands out queued slices takes microseconds, so any real
/// warm-up or measurement time would make it ask for hundreds of slices (whole runs). With a
/// nanosecond each, one call ends the warm-up and every sample is one iteration; criterion then
/// warns that it cannot complete its samples in 1 ns, which is expected.
fn eleven_calls<'g, 'c>(
    group: &'g mut BenchmarkGroup<'c, WallTime>,
) -> &'g mut BenchmarkGroup<'c, WallTime> {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_nanos(1))
        .measurement_time(Duration::from_nanos(1))
}

// ---- W1 phases ----

fn phases(c: &mut Criterion, mode: Mode) {
    let runtime = single_thread_runtime();
    let sizes = sizes();
    let name = mode.name();
    let mut roster = Runs::new(
        format!("{name} roster"),
        &["invite", "accept"],
        SLICES,
        sizes.runs,
        || roster_run(&runtime, mode),
    );
    let mut raw = Runs::new(
        format!("{name} raw"),
        &["invite", "accept"],
        SLICES,
        sizes.runs,
        || raw_run(mode),
    );
    let mut same = Runs::new(
        format!("{name} same_writes"),
        &["invite"],
        SLICES,
        sizes.runs,
        || same_writes_run(&runtime, mode),
    );
    let slice = (sizes.users / SLICES) as u64;
    for (index, phase) in ["invite", "accept"].into_iter().enumerate() {
        let mut group = c.benchmark_group(format!("w1/{name}/{phase}"));
        eleven_calls(&mut group).throughput(Throughput::Elements(slice));
        group.bench_function("roster", |b| {
            b.iter_custom(|iters| roster.take(index, iters));
        });
        group.bench_function("raw", |b| {
            b.iter_custom(|iters| raw.take(index, iters));
        });
        if index == 0 {
            group.bench_function("same_writes", |b| {
                b.iter_custom(|iters| same.take(0, iters));
            });
        }
        group.finish();
    }
    if !same.runs.is_empty() && !raw.runs.is_empty() && !roster.runs.is_empty() {
        let (ours, same_rates, theirs) = (roster.rates(0), same.rates(0), raw.rates(0));
        summarize(format!(
            "W1 {name} invite same_writes={:.0}/s raw/same={:.2}x same/roster={:.2}x \
             same_spread={} runs={} n={}",
            median(&same_rates),
            median(&theirs) / median(&same_rates),
            median(&same_rates) / median(&ours),
            spread(&same_rates),
            same.runs.len(),
            sizes.users,
        ));
    }

    let mut roster_bulk = Runs::new(format!("{name} roster"), &["bulk_10k"], 1, 1, || {
        roster_bulk_run(&runtime, mode)
    });
    let mut raw_bulk = Runs::new(format!("{name} raw"), &["bulk_10k"], 1, 1, || {
        raw_bulk_run(mode)
    });
    let mut group = c.benchmark_group(format!("w1/{name}/bulk_10k"));
    eleven_calls(&mut group).throughput(Throughput::Elements(sizes.bulk as u64));
    group.bench_function("roster", |b| {
        b.iter_custom(|iters| roster_bulk.take(0, iters));
    });
    group.bench_function("raw", |b| {
        b.iter_custom(|iters| raw_bulk.take(0, iters));
    });
    group.finish();

    for (roster, raw, index, phase, count) in [
        (&roster, &raw, 0, "invite", sizes.users),
        (&roster, &raw, 1, "accept", sizes.users),
        (&roster_bulk, &raw_bulk, 0, "bulk_10k", sizes.bulk),
    ] {
        if roster.runs.is_empty() || raw.runs.is_empty() {
            continue;
        }
        let (ours, theirs) = (roster.rates(index), raw.rates(index));
        let ratio = median(&theirs) / median(&ours);
        let target = match mode.target(phase) {
            Some(limit) => format!("target={limit}x {}", verdict(ratio, limit, true)),
            None => "target=none".to_owned(),
        };
        summarize(format!(
            "W1 {name} {phase} roster={:.0}/s raw={:.0}/s ratio={ratio:.2}x {target} \
             roster_spread={} raw_spread={} runs={}/{} {} n={count}",
            median(&ours),
            median(&theirs),
            spread(&ours),
            spread(&theirs),
            roster.runs.len(),
            raw.runs.len(),
            errors_text(&roster.errors(index)),
        ));
    }
}

fn delete_full(c: &mut Criterion) {
    phases(c, Mode::DeleteFull);
}

fn wal_normal(c: &mut Criterion) {
    phases(c, Mode::WalNormal);
}

// ---- concurrency ----

fn concurrency(c: &mut Criterion) {
    let runtime = multi_thread_runtime();
    let sizes = sizes();
    for mode in [Mode::WalNormal, Mode::DeleteFull] {
        let name = mode.name();
        let runtime = &runtime;
        let mut levels: Vec<Runs<'_>> = TASKS
            .iter()
            .map(|&tasks| {
                Runs::new(
                    format!("concurrency {name} tasks={tasks}"),
                    &["invite", "accept"],
                    SLICES,
                    sizes.concurrency_runs,
                    move || concurrency_run(runtime, mode, tasks),
                )
            })
            .collect();
        for (index, phase) in ["invite", "accept"].into_iter().enumerate() {
            let mut group = c.benchmark_group(format!("w1/concurrency/{name}/{phase}"));
            eleven_calls(&mut group);
            if phase == "invite" {
                // Attempted invites per slice; accepts follow the invites that succeeded, so
                // their slices have no fixed size.
                group.throughput(Throughput::Elements((sizes.users / SLICES) as u64));
            }
            for (tasks, runs) in TASKS.iter().zip(levels.iter_mut()) {
                group.bench_function(BenchmarkId::from_parameter(tasks), |b| {
                    b.iter_custom(|iters| runs.take(index, iters));
                });
            }
            group.finish();
        }
        let single = &levels[0];
        if single.runs.is_empty() {
            continue;
        }
        let combined = |runs: &Runs<'_>| -> Vec<f64> {
            runs.runs
                .iter()
                .map(|run| {
                    let ok: usize = run.iter().map(|phase| phase.ok).sum();
                    let time: f64 = run.iter().map(|phase| phase.elapsed().as_secs_f64()).sum();
                    ok as f64 / time
                })
                .collect()
        };
        let base_invite = median(&single.rates(0));
        let base_accept = median(&single.rates(1));
        let base_total = median(&combined(single));
        for (tasks, runs) in TASKS.iter().zip(&levels) {
            if runs.runs.is_empty() {
                continue;
            }
            let (invite, accept, total) = (
                median(&runs.rates(0)),
                median(&runs.rates(1)),
                median(&combined(runs)),
            );
            let mut errors = runs.errors(0);
            for (kind, count) in runs.errors(1) {
                *errors.entry(kind).or_default() += count;
            }
            let target = if *tasks == 64 {
                let limit = mode.concurrency_target();
                let zero = if errors.is_empty() {
                    "no_errors met"
                } else {
                    "no_errors MISSED"
                };
                format!(
                    " target={limit}x {} {zero}",
                    verdict(total / base_total, limit, false)
                )
            } else {
                String::new()
            };
            let accepts: Vec<usize> = runs.runs.iter().map(|run| run[1].ok).collect();
            summarize(format!(
                "W1 concurrency {name} tasks={tasks} invite={invite:.0}/s accept={accept:.0}/s \
                 total={total:.0}/s vs_1task: invite={:.2}x accept={:.2}x total={:.2}x{target} \
                 {} (invite {}, accept {}) accepted={accepts:?} runs={} n={}",
                invite / base_invite,
                accept / base_accept,
                total / base_total,
                errors_text(&errors),
                runs.errors(0).values().sum::<usize>(),
                runs.errors(1).values().sum::<usize>(),
                runs.runs.len(),
                sizes.users,
            ));
        }
    }
}

// ---- accept latency ----

/// A ticket for `accept_latency`: a token and its registered invitee.
struct Ticket {
    token: InvitationToken,
    user: UserId,
}

/// Where a latency bench accepts: the service on a filled store file, or the baseline on a
/// filled minimal file.
enum LatencySide {
    Roster {
        runtime: Runtime,
        site: RosterSite,
        conn: Connection,
    },
    Raw(RawSite),
}

/// The store's schema: `count` pending invitations in the project, each to its own new user
/// (not registered), in one transaction. In token-hash order, with ids and addresses made as
/// rows are written, so every index grows at its end (as `benches/sqlite.rs` fills its files).
fn store_fill(conn: &mut Connection, project: ProjectId, admin: UserId, count: usize) {
    let now = Utc::now();
    let (at, expires_at) = (nanos(now), nanos(now + LIFETIME));
    let (project, admin) = (project.as_uuid().into_bytes(), admin.as_uuid().into_bytes());
    let mut hashes: Vec<_> = (0..count)
        .map(|_| InvitationToken::generate(&OsRandom).hash())
        .collect();
    hashes.sort_unstable();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    {
        let mut insert_user = tx.prepare_cached(STORE_INSERT_USER).expect("prepare");
        for hash in hashes {
            let email = Email::parse(&fresh_address()).expect("valid address");
            let user = UserId::generate(now, &OsRandom);
            insert_user
                .execute(params![
                    user.as_uuid().into_bytes(),
                    email.as_str(),
                    None::<i64>,
                    at,
                    email.canonical()
                ])
                .expect("user");
            store_insert_invitation(
                &tx,
                InvitationId::generate(now, &OsRandom),
                (project, admin),
                &email,
                (at, expires_at),
                &hash,
            );
        }
    }
    tx.commit().expect("commit");
}

/// The minimal schema: `count` pending invitations of new addresses in one transaction, in
/// token-hash order; returns tickets with invented user ids.
fn raw_fill(site: &mut RawSite, count: usize) -> Vec<Ticket> {
    let now = Utc::now();
    let (at, expires_at) = (nanos(now), nanos(now + LIFETIME));
    let mut tokens: Vec<_> = (0..count)
        .map(|_| {
            let token = InvitationToken::generate(&OsRandom);
            (token.hash(), token)
        })
        .collect();
    tokens.sort_unstable_by_key(|(hash, _)| *hash);
    let tx = site
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let mut tickets = Vec::with_capacity(count);
    {
        let mut insert = tx.prepare_cached(RAW_INSERT_INVITATION).expect("prepare");
        for (hash, token) in tokens {
            insert
                .execute(params![
                    InvitationId::generate(now, &OsRandom)
                        .as_uuid()
                        .into_bytes(),
                    site.project,
                    fresh_address(),
                    Role::USER.as_str(),
                    site.admin,
                    at,
                    expires_at,
                    hash.as_bytes()
                ])
                .expect("invitation");
            tickets.push(Ticket {
                token,
                user: UserId::generate(now, &OsRandom),
            });
        }
    }
    tx.commit().expect("commit");
    tickets
}

impl LatencySide {
    /// A `wal_normal` file of its side holding `stored` pending invitations in the project.
    fn filled(roster_side: bool, stored: usize) -> Self {
        let mode = Mode::WalNormal;
        let start = Instant::now();
        let side = if roster_side {
            let runtime = single_thread_runtime();
            let site = roster_site(&runtime, mode, 0);
            let mut conn = store_file_connection(&site.path, mode);
            conn.pragma_update(None, "cache_size", -2_000_000)
                .expect("cache size");
            store_fill(&mut conn, site.project, site.admin, stored);
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .expect("checkpoint");
            conn.pragma_update(None, "cache_size", -2_000)
                .expect("cache size");
            LatencySide::Roster {
                runtime,
                site,
                conn,
            }
        } else {
            let mut site = raw_site(mode);
            site.conn
                .pragma_update(None, "cache_size", -2_000_000)
                .expect("cache size");
            drop(raw_fill(&mut site, stored));
            site.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .expect("checkpoint");
            site.conn
                .pragma_update(None, "cache_size", -2_000)
                .expect("cache size");
            LatencySide::Raw(site)
        };
        eprintln!(
            "w1/accept_latency: filled {stored} invitations ({}) in {:.1?}",
            if roster_side { "roster" } else { "raw" },
            start.elapsed()
        );
        side
    }

    /// Accepts `count` fresh tickets (seeded before, deleted after, neither timed), each timed
    /// on its own; returns their total.
    fn accept_batch(&mut self, count: usize, latencies: &mut Vec<Duration>) -> Duration {
        let mut total = Duration::ZERO;
        match self {
            LatencySide::Roster {
                runtime,
                site,
                conn,
            } => {
                // Registered invitees written straight into the file, then invited through the
                // service (untimed), so the store's own connections are the last to write
                // before the timed acceptances: a write by another connection would make the
                // first acceptance reload the writer's cache, which the service alone never
                // causes.
                let invitees = store_insert_users(conn, count);
                let last_event: [u8; 16] = conn
                    .query_row(
                        "SELECT max(id) FROM audit_events WHERE project_id = ?1",
                        [site.project.as_uuid().into_bytes()],
                        |row| row.get(0),
                    )
                    .expect("the newest event");
                let rows: Vec<InviteRequest> = invitees
                    .iter()
                    .map(|invitee| InviteRequest::new(invitee.address.as_str(), Role::USER))
                    .collect();
                let report = runtime
                    .block_on(site.roster.invite(site.admin, site.project, &rows))
                    .expect("invite the batch");
                let tickets: Vec<Ticket> = report
                    .rows
                    .iter()
                    .zip(&invitees)
                    .map(|(row, invitee)| Ticket {
                        token: row.outcome.token().expect("invited").clone(),
                        user: invitee.user,
                    })
                    .collect();
                runtime.block_on(async {
                    for ticket in &tickets {
                        let start = Instant::now();
                        let accepted = site
                            .roster
                            .accept(
                                &ticket.token,
                                Acceptance::ExistingUser { user: ticket.user },
                            )
                            .await
                            .expect("accept");
                        let took = start.elapsed();
                        black_box(accepted);
                        latencies.push(took);
                        total += took;
                    }
                });
                // Everything the batch added goes again, so the file keeps its size.
                let project = site.project.as_uuid().into_bytes();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .expect("begin");
                for ticket in &tickets {
                    let user = ticket.user.as_uuid().into_bytes();
                    let hash = ticket.token.hash();
                    tx.prepare_cached(
                        "DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2",
                    )
                    .expect("prepare")
                    .execute([project, user])
                    .expect("membership");
                    tx.prepare_cached(
                        "DELETE FROM outbox WHERE invitation_id = \
                         (SELECT id FROM invitations WHERE token_hash = ?1)",
                    )
                    .expect("prepare")
                    .execute([hash.as_bytes()])
                    .expect("outbox entry");
                    tx.prepare_cached("DELETE FROM invitations WHERE token_hash = ?1")
                        .expect("prepare")
                        .execute([hash.as_bytes()])
                        .expect("invitation");
                    tx.prepare_cached("DELETE FROM users WHERE id = ?1")
                        .expect("prepare")
                        .execute([user])
                        .expect("user");
                }
                tx.execute(
                    "DELETE FROM audit_events WHERE project_id = ?1 AND id > ?2",
                    params![project, last_event],
                )
                .expect("audit events");
                tx.commit().expect("commit");
            }
            LatencySide::Raw(site) => {
                let tickets = raw_fill(site, count);
                for ticket in &tickets {
                    let start = Instant::now();
                    site.accept(&ticket.token, ticket.user);
                    let took = start.elapsed();
                    latencies.push(took);
                    total += took;
                }
                let tx = site
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .expect("begin");
                for ticket in &tickets {
                    tx.prepare_cached(
                        "DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2",
                    )
                    .expect("prepare")
                    .execute(params![site.project, ticket.user.as_uuid().into_bytes()])
                    .expect("membership");
                    tx.prepare_cached("DELETE FROM invitations WHERE token_hash = ?1")
                        .expect("prepare")
                        .execute([ticket.token.hash().as_bytes()])
                        .expect("invitation");
                }
                tx.commit().expect("commit");
            }
        }
        total
    }

    fn stored(&self) -> i64 {
        let conn = match self {
            LatencySide::Roster { conn, .. } => conn,
            LatencySide::Raw(site) => &site.conn,
        };
        conn.query_row("SELECT count(*) FROM invitations", [], |row| row.get(0))
            .expect("count")
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn accept_latency(c: &mut Criterion) {
    let sizes = sizes();
    for stored in [1_000, sizes.many_stored] {
        let label = size_label(stored);
        let mut group = c.benchmark_group(format!("w1/accept_latency/{label}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(sizes.latency_warm_up)
            .measurement_time(sizes.latency_measurement)
            .throughput(Throughput::Elements(1));
        let mut p50s = Vec::new();
        for (side, roster_side) in [("roster", true), ("raw", false)] {
            let mut target: Option<LatencySide> = None;
            let mut latencies = Vec::new();
            group.bench_function(side, |b| {
                let target = target.get_or_insert_with(|| LatencySide::filled(roster_side, stored));
                b.iter_custom(|iters| {
                    let mut left = usize::try_from(iters).expect("iterations");
                    let mut total = Duration::ZERO;
                    while left > 0 {
                        let batch = left.min(LATENCY_BATCH);
                        total += target.accept_batch(batch, &mut latencies);
                        left -= batch;
                    }
                    total
                });
            });
            let Some(target) = target else { continue };
            latencies.sort_unstable();
            let (p50, p99, p999) = (
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 0.999),
            );
            let ratio = p99.as_secs_f64() / p50.as_secs_f64();
            let check = if roster_side {
                format!(" target=5x {}", verdict(ratio, 5.0, true))
            } else {
                String::new()
            };
            p50s.push((side, p50));
            summarize(format!(
                "W1 accept_latency stored={stored} mode=wal_normal side={side} p50={:.0}µs \
                 p99={:.0}µs p99.9={:.0}µs max={:.0}µs p99/p50={ratio:.2}x{check} \
                 commands={} stored_at_end={}",
                micros(p50),
                micros(p99),
                micros(p999),
                micros(*latencies.last().expect("a latency")),
                latencies.len(),
                target.stored(),
            ));
        }
        group.finish();
        if let [("roster", ours), ("raw", theirs)] = p50s[..] {
            summarize(format!(
                "W1 accept_latency stored={stored} p50 roster/raw={:.2}x",
                ours.as_secs_f64() / theirs.as_secs_f64()
            ));
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = delete_full, wal_normal, concurrency, accept_latency
}

fn main() {
    let sizes = sizes();
    println!(
        "W1 settings users={} bulk={} many_stored={} runs={} concurrency_runs={} quick={}",
        sizes.users, sizes.bulk, sizes.many_stored, sizes.runs, sizes.concurrency_runs, sizes.quick
    );
    let start = Instant::now();
    benches();
    println!();
    println!("W1 summary ({:.0?} in all):", start.elapsed());
    for line in SUMMARY.lock().expect("summary").iter() {
        println!("{line}");
    }
    Criterion::default().configure_from_args().final_summary();
}
