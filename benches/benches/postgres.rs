//! The PostgreSQL store through the whole service, beside a raw tokio-postgres baseline on the
//! minimal schema a person would write by hand (W1's, see `benches/w1.rs`), in the same run and
//! on the same server; then throughput as service instances are added.
//!
//! Needs a server: `scripts/postgres-throwaway -- cargo bench -p roster-benches --bench postgres`
//! (without `ROSTER_POSTGRES_URL` it prints a notice and measures nothing). Each side works in a
//! fresh schema of its own.
//!
//! - `postgres/invite_one/{roster,raw}`: one new address per command. Roster: a writing step
//!   (two round trips: `BEGIN`, the project's lock and the reads; the writes and `COMMIT`).
//!   Raw: one `INSERT` of the invitation, in its own (implicit) transaction: one round trip.
//! - `postgres/invite_one/raw_checked`: the same invite by hand with the checks and the outbox
//!   row roster's has (`BEGIN`, the inviter's membership `FOR UPDATE`, no pending invitation for
//!   the address, the invitation's and the outbox row's `INSERT`s, `COMMIT`), each awaited in
//!   turn as one usually writes it: six round trips.
//! - `postgres/accept_one/{roster,raw}`: one token per command, accepted by its registered user
//!   (argon2 stays out). Raw: `BEGIN`, the invitation by token hash `FOR UPDATE`, its `UPDATE`,
//!   the membership's `INSERT`, `COMMIT`, each awaited in turn as one usually writes it: five
//!   round trips.
//! - `PG bulk_10k` lines: 10,000 new addresses in one command. Raw: 10,000 prepared `INSERT`s
//!   of the minimal schema pipelined inside one transaction. Same writes: the rows roster's
//!   bulk invite writes (invitations, audit events, outbox entries, the project's version), by
//!   hand on the store's own schema, each table's in one statement over arrays, with the
//!   project's lock and the check that no address is taken. Then how long writing the bulk's
//!   10,000 delivery records takes (untimed in the bulk, as the service writes them after the
//!   call returns).
//!
//! Then `PG instances …` lines: 1, 4 and 8 service instances (each its own `PostgresStore`,
//! so its own pool of 4 connections), each running 8 tasks of 25 invites, first each instance
//! on a project of its own, then all on one project; commands per second in total (the median
//! of 5 rounds, each round measuring 1, 4 and 8 instances in turn, and the range), and errors.
//! Targets: invite and accept within 1.5x of raw, bulk within 2x; zero errors and no collapse
//! (8 instances at least as fast in total as one).

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::try_join_all;
use roster::{Acceptance, InvitationToken, InviteRequest, OsRandom, ProjectId, Roster, UserId};
use roster_benches::{roster_on, seed_admin_project};
use roster_postgres::{PostgresOptions, PostgresStore};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};

static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh_address() -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("pg{n:09}@bench.example")
}

/// A schema name no other run uses.
fn fresh_schema(side: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("bench_{side}_{nanos}")
}

fn url() -> Option<String> {
    std::env::var("ROSTER_POSTGRES_URL").ok()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn store(url: &str, pool: usize, schema: &str) -> PostgresStore {
    let options = PostgresOptions::new(url)
        .expect("the URL")
        .pool_size(pool)
        .schema(schema)
        .expect("a schema name");
    PostgresStore::connect_with(options).await.expect("connect")
}

/// The service on a fresh schema: an administrator and a project.
struct Site {
    roster: Roster,
    schema: String,
    admin: UserId,
    account: roster::AccountId,
    project: ProjectId,
}

async fn site(url: &str) -> Site {
    let schema = fresh_schema("roster");
    let roster = roster_on(Arc::new(store(url, 4, &schema).await));
    let seeded = seed_admin_project(&roster).await;
    Site {
        roster,
        schema,
        admin: seeded.admin.id,
        account: seeded.account.id,
        project: seeded.project.id,
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// W1's minimal schema, on a fresh schema of its own.
async fn raw_client(url: &str) -> Client {
    let client = connect(url).await;
    let schema = fresh_schema("raw");
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema};
             CREATE TABLE invitations (
                 id uuid PRIMARY KEY, project_id uuid NOT NULL, email text NOT NULL,
                 role text NOT NULL, inviter_id uuid NOT NULL, state text NOT NULL,
                 created_at bigint NOT NULL, expires_at bigint NOT NULL,
                 token_hash bytea NOT NULL UNIQUE);
             CREATE UNIQUE INDEX invitations_one_pending ON invitations (project_id, email)
                 WHERE state = 'pending';
             CREATE TABLE memberships (
                 project_id uuid NOT NULL, user_id uuid NOT NULL, role text NOT NULL,
                 since bigint NOT NULL, PRIMARY KEY (project_id, user_id));
             CREATE TABLE outbox (
                 id uuid PRIMARY KEY, invitation_id uuid NOT NULL, to_email text NOT NULL,
                 status text NOT NULL, created_at bigint NOT NULL);"
        ))
        .await
        .expect("the minimal schema");
    client
}

const INSERT: &str = "INSERT INTO invitations (id, project_id, email, role, inviter_id, state, \
                      created_at, expires_at, token_hash) VALUES ($1, $2, $3, 'user', $4, \
                      'pending', $5, $6, $7)";

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
}

/// One invitation as the baseline writes it: a fresh token, hashed as the service does.
async fn raw_invite(
    client: &Client,
    statement: &tokio_postgres::Statement,
    project: uuid::Uuid,
) -> Vec<u8> {
    let token = InvitationToken::generate(&OsRandom);
    let hash = token.hash().as_bytes().to_vec();
    let now = now_nanos();
    client
        .execute(
            statement,
            &[
                &uuid::Uuid::now_v7(),
                &project,
                &fresh_address(),
                &uuid::Uuid::nil(),
                &now,
                &(now + 1),
                &hash,
            ],
        )
        .await
        .expect("insert");
    hash
}

/// The same invite as a person would write it with the checks and the outbox row roster's
/// invite has: in a transaction, the inviter's membership locked and checked, no pending
/// invitation for the address, the invitation and its outbox row inserted, each awaited in
/// turn: six round trips.
async fn raw_checked_invite(client: &mut Client, project: uuid::Uuid, inviter: uuid::Uuid) {
    let tx = client.transaction().await.expect("begin");
    let role: String = tx
        .query_one(
            "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2 FOR UPDATE",
            &[&project, &inviter],
        )
        .await
        .expect("the inviter")
        .get(0);
    assert_eq!(role, "administrator");
    let address = fresh_address();
    let pending = tx
        .query_opt(
            "SELECT 1 FROM invitations WHERE project_id = $1 AND email = $2 AND state = 'pending'",
            &[&project, &address],
        )
        .await
        .expect("pending");
    assert!(pending.is_none());
    let token = InvitationToken::generate(&OsRandom);
    let hash = token.hash().as_bytes().to_vec();
    let (id, now) = (uuid::Uuid::now_v7(), now_nanos());
    tx.execute(
        INSERT,
        &[&id, &project, &address, &inviter, &now, &(now + 1), &hash],
    )
    .await
    .expect("insert");
    tx.execute(
        "INSERT INTO outbox (id, invitation_id, to_email, status, created_at) \
         VALUES ($1, $2, $3, 'queued', $4)",
        &[&uuid::Uuid::now_v7(), &id, &address, &now],
    )
    .await
    .expect("outbox");
    tx.commit().await.expect("commit");
}

async fn raw_accept(client: &mut Client, hash: &[u8]) {
    let tx = client.transaction().await.expect("begin");
    let row = tx
        .query_one(
            "SELECT id, project_id, role FROM invitations WHERE token_hash = $1 \
             AND state = 'pending' FOR UPDATE",
            &[&hash],
        )
        .await
        .expect("the invitation");
    let (id, project, role): (uuid::Uuid, uuid::Uuid, String) =
        (row.get(0), row.get(1), row.get(2));
    tx.execute(
        "UPDATE invitations SET state = 'accepted' WHERE id = $1",
        &[&id],
    )
    .await
    .expect("update");
    tx.execute(
        "INSERT INTO memberships (project_id, user_id, role, since) VALUES ($1, $2, $3, $4)",
        &[&project, &uuid::Uuid::now_v7(), &role, &now_nanos()],
    )
    .await
    .expect("membership");
    tx.commit().await.expect("commit");
}

fn per_command(c: &mut Criterion) {
    let Some(url) = url() else {
        eprintln!(
            "postgres bench: ROSTER_POSTGRES_URL is unset; nothing measured (see scripts/postgres-throwaway)"
        );
        return;
    };
    let runtime = runtime();
    let site = runtime.block_on(site(&url));
    let mut raw = runtime.block_on(raw_client(&url));
    let insert = runtime.block_on(raw.prepare(INSERT)).expect("prepare");
    let raw_project = uuid::Uuid::now_v7();

    let mut group = c.benchmark_group("postgres/invite_one");
    group.bench_function("roster", |b| {
        b.iter(|| {
            let rows = [InviteRequest::new(fresh_address(), roster::Role::USER)];
            let report = runtime
                .block_on(site.roster.invite(site.admin, site.project, &rows))
                .expect("invite");
            assert_eq!(report.sent(), 1);
            black_box(report);
        });
    });
    group.bench_function("raw", |b| {
        b.iter(|| black_box(runtime.block_on(raw_invite(&raw, &insert, raw_project))));
    });
    let inviter = uuid::Uuid::now_v7();
    runtime
        .block_on(raw.execute(
            "INSERT INTO memberships VALUES ($1, $2, 'administrator', 0)",
            &[&raw_project, &inviter],
        ))
        .expect("the inviter");
    group.bench_function("raw_checked", |b| {
        b.iter(|| runtime.block_on(raw_checked_invite(&mut raw, raw_project, inviter)));
    });
    group.finish();

    let mut group = c.benchmark_group("postgres/accept_one");
    group.bench_function("roster", |b| {
        b.iter_custom(|iters| {
            // Untimed: registered invitees and their invitations.
            let tickets = runtime.block_on(async {
                let mut tickets = Vec::new();
                for _ in 0..iters {
                    let address = fresh_address();
                    let user = site
                        .roster
                        .register(&address, "bench-password")
                        .await
                        .expect("register");
                    let rows = [InviteRequest::new(address, roster::Role::USER)];
                    let report = site
                        .roster
                        .invite(site.admin, site.project, &rows)
                        .await
                        .expect("invite");
                    tickets.push((
                        user.id,
                        report.rows[0].outcome.token().expect("sent").clone(),
                    ));
                }
                tickets
            });
            let start = Instant::now();
            for (user, token) in &tickets {
                let accepted = runtime
                    .block_on(
                        site.roster
                            .accept(token, Acceptance::ExistingUser { user: *user }),
                    )
                    .expect("accept");
                black_box(accepted);
            }
            start.elapsed()
        });
    });
    group.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            let hashes = runtime.block_on(async {
                let mut hashes = Vec::new();
                for _ in 0..iters {
                    hashes.push(raw_invite(&raw, &insert, raw_project).await);
                }
                hashes
            });
            let start = Instant::now();
            for hash in &hashes {
                runtime.block_on(raw_accept(&mut raw, hash));
            }
            start.elapsed()
        });
    });
    group.finish();
}

const BULK: usize = 10_000;
const TASKS: usize = 8;
const INVITES_PER_TASK: usize = 25;

/// `instances` service instances, each running `TASKS` tasks of `INVITES_PER_TASK` invites, on
/// projects of their own or all on one: commands per second in total, and errors.
fn instances_run(
    runtime: &Runtime,
    url: &str,
    instances: usize,
    one_project: bool,
) -> (f64, usize) {
    runtime.block_on(async {
        let schema = fresh_schema("instances");
        // Each instance draws its ids and tokens from the OS, as real instances do (a shared
        // seed would make them draw the same ids).
        let mut rosters = Vec::new();
        for _ in 0..instances {
            let store = Arc::new(store(url, 4, &schema).await);
            let roster = Roster::builder(store, Arc::new(roster_benches::NullNotifier))
                .config(
                    roster::RosterConfig::default()
                        .passwords(roster::PasswordPolicy::insecure_fast_for_tests()),
                )
                .build()
                .expect("a valid configuration");
            rosters.push(roster);
        }
        let first = rosters[0].clone();
        let seeded = seed_admin_project(&first).await;
        let mut projects = Vec::new();
        for index in 0..instances {
            projects.push(if one_project || index == 0 {
                seeded.project.id
            } else {
                first
                    .create_project(seeded.admin.id, seeded.account.id, &format!("P{index}"))
                    .await
                    .expect("project")
                    .id
            });
        }
        let admin = seeded.admin.id;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (roster, project) in rosters.iter().zip(&projects) {
            for _ in 0..TASKS {
                let (roster, project) = (roster.clone(), *project);
                tasks.push(tokio::spawn(async move {
                    let mut errors = 0;
                    for _ in 0..INVITES_PER_TASK {
                        let rows = [InviteRequest::new(fresh_address(), roster::Role::USER)];
                        if let Err(error) = roster.invite(admin, project, &rows).await {
                            if errors == 0 {
                                eprintln!("PG instances: an invite failed: {error}");
                            }
                            errors += 1;
                        }
                    }
                    errors
                }));
            }
        }
        let mut errors = 0;
        for task in tasks {
            errors += task.await.expect("task");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let commands = (instances * TASKS * INVITES_PER_TASK - errors) as f64;
        (commands / elapsed, errors)
    })
}

/// One bulk invite of `BULK` new addresses through the service and through the baseline, three
/// times each on fresh schemas: a line per side with the median, or the error a side answered.
fn bulk(_c: &mut Criterion) {
    let Some(url) = url() else {
        return;
    };
    let runtime = runtime();
    let mut roster_times = Vec::new();
    let mut raw_times = Vec::new();
    let mut same_times = Vec::new();
    let mut flush_times = Vec::new();
    for _ in 0..3 {
        let site = runtime.block_on(site(&url));
        let rows: Vec<_> = (0..BULK)
            .map(|_| InviteRequest::new(fresh_address(), roster::Role::USER))
            .collect();
        let start = Instant::now();
        match runtime.block_on(site.roster.invite(site.admin, site.project, &rows)) {
            Ok(report) => {
                assert_eq!(report.sent(), BULK);
                roster_times.push(start.elapsed());
                // The delivery records of the sends, written now rather than by the flush the
                // service schedules, which would run during the next measurement.
                let start = Instant::now();
                runtime
                    .block_on(site.roster.flush())
                    .expect("the delivery records");
                flush_times.push(start.elapsed());
            }
            Err(error) => println!(
                "PG bulk_10k roster FAILED after {:?}: {error}",
                start.elapsed()
            ),
        }
        let mut raw = runtime.block_on(raw_client(&url));
        let insert = runtime.block_on(raw.prepare(INSERT)).expect("prepare");
        let project = uuid::Uuid::now_v7();
        let start = Instant::now();
        runtime.block_on(async {
            let tx = raw.transaction().await.expect("begin");
            let inserts = (0..BULK).map(|_| {
                let token = InvitationToken::generate(&OsRandom);
                let hash = token.hash().as_bytes().to_vec();
                let now = now_nanos();
                let (id, address) = (uuid::Uuid::now_v7(), fresh_address());
                let (tx, insert) = (&tx, &insert);
                async move {
                    let nil = uuid::Uuid::nil();
                    tx.execute(
                        insert,
                        &[&id, &project, &address, &nil, &now, &(now + 1), &hash],
                    )
                    .await
                }
            });
            try_join_all(inserts).await.expect("inserts");
            tx.commit().await.expect("commit");
        });
        raw_times.push(start.elapsed());
        // The same rows as roster's, by hand, on a service schema of its own.
        let same_site = runtime.block_on(self::site(&url));
        let mut same = runtime.block_on(connect(&url));
        runtime
            .block_on(same.batch_execute(&format!("SET search_path TO {}", same_site.schema)))
            .expect("the service's schema");
        let addresses: Vec<String> = (0..BULK).map(|_| fresh_address()).collect();
        let start = Instant::now();
        runtime.block_on(same_writes_bulk(&mut same, &same_site, &addresses));
        same_times.push(start.elapsed());
    }
    raw_times.sort();
    same_times.sort();
    let raw = raw_times[1];
    let same = same_times[1];
    match roster_times.len() {
        0 => println!("PG bulk_10k raw={raw:?}: roster failed every run MISSED"),
        n => {
            roster_times.sort();
            let roster = roster_times[n / 2];
            let ratio = roster.as_secs_f64() / raw.as_secs_f64();
            let verdict = if ratio <= 2.0 { "met" } else { "MISSED" };
            println!(
                "PG bulk_10k roster={roster:?} raw={raw:?} ratio={ratio:.2}x (target 2x) {verdict}"
            );
            println!(
                "PG bulk_10k same_writes={same:?} roster/same_writes={:.2}x same_writes/raw={:.2}x",
                roster.as_secs_f64() / same.as_secs_f64(),
                same.as_secs_f64() / raw.as_secs_f64(),
            );
            flush_times.sort();
            println!(
                "PG bulk_10k then its 10,000 delivery records written: {:?}",
                flush_times[flush_times.len() / 2]
            );
        }
    }
}

/// The bulk invite written by hand on the store's own schema, writing the rows roster's writes:
/// in one transaction, the project's row locked, the addresses already pending or registered
/// looked up, then each table's rows in one statement over arrays (invitations, audit events,
/// outbox entries) and the project's version moved on; each statement awaited in turn.
async fn same_writes_bulk(client: &mut Client, site: &Site, addresses: &[String]) {
    let (project, account, admin) = (
        site.project.as_uuid(),
        site.account.as_uuid(),
        site.admin.as_uuid(),
    );
    let tx = client.transaction().await.expect("begin");
    tx.execute(
        "SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE",
        &[&project],
    )
    .await
    .expect("the project's lock");
    let taken = tx
        .query(
            "SELECT email_canonical FROM invitations WHERE project_id = $1 \
             AND email_canonical = ANY($2) AND state = 'pending' \
             UNION ALL SELECT email_canonical FROM users WHERE email_canonical = ANY($2)",
            &[&project, &addresses],
        )
        .await
        .expect("the addresses taken");
    assert!(taken.is_empty(), "every address is new");
    let now = now_nanos();
    let expires = now + 7 * 24 * 3_600 * 1_000_000_000;
    let n = addresses.len();
    let ids: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
    let hashes: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let token = InvitationToken::generate(&OsRandom);
            token.hash().as_bytes().to_vec()
        })
        .collect();
    tx.execute(
        "INSERT INTO invitations (id, project_id, email, role, invited_by, state, created_at, \
         sent_at, expires_at, token_hash, sends, email_canonical) \
         SELECT id, $2, email, 'user', $3, 'pending', $4, $4, $5, hash, 1, email \
         FROM unnest($1::uuid[], $6::text[], $7::bytea[]) AS r (id, email, hash)",
        &[&ids, &project, &admin, &now, &expires, &addresses, &hashes],
    )
    .await
    .expect("the invitations");
    let events: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
    let actions: Vec<String> = ids
        .iter()
        .zip(addresses)
        .map(|(id, email)| {
            format!(
                r#"{{"type":"invitation_sent","invitation":"{id}","email":"{email}","role":"user"}}"#
            )
        })
        .collect();
    tx.execute(
        "INSERT INTO audit_events (id, at, actor, account_id, project_id, action) \
         SELECT id, $2, $3, $4, $5, action FROM unnest($1::uuid[], $6::text[]) AS r (id, action)",
        &[&events, &now, &admin, &account, &project, &actions],
    )
    .await
    .expect("the audit events");
    let notices: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
    tx.execute(
        "INSERT INTO outbox (id, kind, to_email, invitation_id, project_id, project_name, \
         account_name, role, inviter, expires_at, send, status, attempts, next_attempt_at, \
         created_at, sent_by, role_name) \
         SELECT id, 'invitation', email, invitation, $2, 'Bench', 'Bench', 'user', \
         'admin@bench.example', $3, 1, 'queued', 0, $4, $4, $5, 'User' \
         FROM unnest($1::uuid[], $6::text[], $7::uuid[]) AS r (id, email, invitation)",
        &[&notices, &project, &expires, &now, &admin, &addresses, &ids],
    )
    .await
    .expect("the outbox entries");
    tx.execute(
        "WITH next AS (SELECT max(version) + 1 AS v FROM project_versions WHERE project_id = $1) \
         INSERT INTO project_versions (project_id, version) SELECT $1, v FROM next",
        &[&project],
    )
    .await
    .expect("the version");
    tx.commit().await.expect("commit");
}

/// How many rounds of the instance phases run. The phases of one round run one after another
/// (1, 4, 8 instances) and the rounds repeat, so a drift of the machine during the run falls on
/// every count alike instead of on the count measured last.
const ROUNDS: usize = 5;

fn instances(_c: &mut Criterion) {
    let Some(url) = url() else {
        return;
    };
    let runtime = runtime();
    let counts = [1, 4, 8];
    for one_project in [false, true] {
        let mut rates = vec![Vec::new(); counts.len()];
        let mut errors = vec![0; counts.len()];
        for _ in 0..ROUNDS {
            for (at, &count) in counts.iter().enumerate() {
                let (rate, failed) = instances_run(&runtime, &url, count, one_project);
                rates[at].push(rate);
                errors[at] += failed;
            }
        }
        let medians: Vec<f64> = rates
            .iter_mut()
            .map(|rates| {
                rates.sort_by(f64::total_cmp);
                rates[rates.len() / 2]
            })
            .collect();
        let one = medians[0];
        for (at, &count) in counts.iter().enumerate() {
            let median = medians[at];
            let verdict = if errors[at] == 0 && (count == 1 || median >= one) {
                "met"
            } else {
                "MISSED"
            };
            println!(
                "PG instances={count} tasks={TASKS} projects={} invite/s={median:.0} ({:.0}..{:.0}) vs one={:.2}x errors={} {verdict}",
                if one_project { "one" } else { "separate" },
                rates[at][0],
                rates[at][rates[at].len() - 1],
                median / one,
                errors[at],
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    targets = per_command, bulk, instances
}
criterion_main!(benches);
