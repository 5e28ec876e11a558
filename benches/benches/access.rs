//! `Roster::access`, the per-request permission check, beside what a person would write by hand
//! for the same question in the same run.
//!
//! - `access/sqlite`: on a SQLite file (WAL), the service's read-only step on a reader
//!   connection (through Tokio's blocking pool, as every store call) beside a raw rusqlite
//!   baseline that asks the same on one connection with two cached prepared statements (is the
//!   user an administrator of the project's account; else the role of their membership) and
//!   looks the role's permissions up in a `HashMap`, called directly on the thread;
//! - `access/memory`: on the in-memory store, beside a `Mutex<HashMap>` of (project, user) to
//!   role and a `HashMap` of permissions.
//!
//! The member asked about holds "Purge and Prefetch only (API)" in a project with 1,000 members.
//! Run with `cargo bench -p roster-benches --bench access` (under a minute).

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use roster::{
    Acceptance, InviteRequest, ProjectId, Role, RoleCatalog, RoleDefinition, Roster, Store, UserId,
};
use roster_benches::{NullNotifier, seed_admin_project};
use roster_memory::InMemoryStore;
use roster_sqlite::SqliteStore;
use roster_sqlite::rusqlite::{Connection, OptionalExtension};

const ADMINS: Role = Role::from_static("administrators");
const PURGE_API: Role = Role::from_static("purge_prefetch_api");
const USERS: Role = Role::from_static("users");
const MEMBERS: usize = 1_000;

fn catalog() -> RoleCatalog {
    RoleCatalog::build([
        RoleDefinition::new(ADMINS, "Administrators", 100)
            .managing_members()
            .permissions(["billing", "purge", "prefetch", "reports", "api", "web"]),
        RoleDefinition::new(PURGE_API, "Purge and Prefetch only (API)", 30)
            .permissions(["purge", "prefetch", "api"]),
        RoleDefinition::new(USERS, "Users", 10).permissions(["reports", "web"]),
    ])
    .expect("a valid catalog")
}

fn roster_on(store: Arc<dyn Store>) -> Roster {
    Roster::builder(store, Arc::new(NullNotifier))
        .config(
            roster::RosterConfig::default()
                .passwords(roster::PasswordPolicy::insecure_fast_for_tests()),
        )
        .roles(catalog())
        .build()
        .expect("a valid configuration")
}

/// A project with `MEMBERS` members, the last of whom is the one asked about.
async fn populate(roster: &Roster) -> (ProjectId, UserId) {
    let seeded = seed_admin_project(roster).await;
    let mut last = None;
    for chunk in 0..MEMBERS / 100 {
        let rows: Vec<_> = (0..100)
            .map(|i| {
                let role = if chunk * 100 + i + 1 == MEMBERS {
                    PURGE_API
                } else {
                    USERS
                };
                InviteRequest::new(format!("m{chunk:03}{i:03}@bench.example"), role)
            })
            .collect();
        let report = roster
            .invite(seeded.admin.id, seeded.project.id, &rows)
            .await
            .expect("invite");
        for row in report.rows {
            let token = row.outcome.token().expect("sent").clone();
            let password = "bench-password".to_owned();
            let accepted = roster
                .accept(&token, Acceptance::NewUser { password })
                .await
                .expect("accept");
            last = Some(accepted.user.id);
        }
    }
    (seeded.project.id, last.expect("members"))
}

fn permissions() -> HashMap<&'static str, Vec<&'static str>> {
    HashMap::from([
        (
            "administrators",
            vec!["api", "billing", "prefetch", "purge", "reports", "web"],
        ),
        ("purge_prefetch_api", vec!["api", "prefetch", "purge"]),
        ("users", vec!["reports", "web"]),
    ])
}

/// What a person writes by hand: is the user an administrator of the account; else their role.
fn raw_access(
    conn: &Connection,
    permissions: &HashMap<&'static str, Vec<&'static str>>,
    project: &[u8],
    user: &[u8],
) -> Option<Vec<&'static str>> {
    let admin: Option<i64> = conn
        .prepare_cached(
            "SELECT 1 FROM projects p JOIN account_administrators aa \
             ON aa.account_id = p.account_id WHERE p.id = ?1 AND aa.user_id = ?2",
        )
        .expect("prepare")
        .query_row((project, user), |row| row.get(0))
        .optional()
        .expect("query");
    let role: Option<String> = if admin.is_some() {
        Some("administrators".into())
    } else {
        conn.prepare_cached("SELECT role FROM memberships WHERE project_id = ?1 AND user_id = ?2")
            .expect("prepare")
            .query_row((project, user), |row| row.get(0))
            .optional()
            .expect("query")
    };
    role.and_then(|role| permissions.get(role.as_str()).cloned())
}

fn sqlite(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("roster.db");
    let roster = roster_on(Arc::new(SqliteStore::open(&path).expect("open")));
    let (project, member) = runtime.block_on(populate(&roster));
    let mut group = c.benchmark_group("access/sqlite");
    group.bench_function("roster", |b| {
        b.iter(|| {
            let access = runtime
                .block_on(roster.access(member, project))
                .expect("access");
            assert!(access.allows("purge"));
            black_box(access);
        });
    });
    let conn = Connection::open(&path).expect("open");
    let table = permissions();
    let (project, member) = (
        project.as_uuid().as_bytes().to_vec(),
        member.as_uuid().as_bytes().to_vec(),
    );
    group.bench_function("raw_baseline", |b| {
        b.iter(|| {
            let allowed = raw_access(&conn, &table, &project, &member).expect("a member");
            assert!(allowed.contains(&"purge"));
            black_box(allowed);
        });
    });
    group.finish();
}

fn memory(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let roster = roster_on(Arc::new(InMemoryStore::new()));
    let (project, member) = runtime.block_on(populate(&roster));
    let mut group = c.benchmark_group("access/memory");
    group.bench_function("roster", |b| {
        b.iter(|| {
            let access = runtime
                .block_on(roster.access(member, project))
                .expect("access");
            assert!(access.allows("purge"));
            black_box(access);
        });
    });
    let roles = Mutex::new(HashMap::from([((project, member), "purge_prefetch_api")]));
    let table = permissions();
    group.bench_function("raw_baseline", |b| {
        b.iter(|| {
            let role = *roles
                .lock()
                .expect("not poisoned")
                .get(&(project, member))
                .expect("a member");
            let allowed = table.get(role).expect("a role");
            assert!(allowed.contains(&"purge"));
            black_box(allowed);
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = sqlite, memory
}
criterion_main!(benches);
