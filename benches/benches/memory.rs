//! The in-memory store through the whole service, beside a hand-written baseline that does the same
//! work with plain maps under one mutex: the same rows (user, invitation, outbox entry, audit event),
//! the same uniqueness checks and the same token generation and hashing.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use roster::{
    Email, InvitationToken, InviteRequest, OsRandom, RandomSource, Role, Roster, TokenHash,
};
use roster_benches::{Seeded, roster_on, seed_admin_project};
use roster_memory::InMemoryStore;

/// What the baseline stores for one invitation: the same fields the service keeps.
#[allow(dead_code)] // Fields are written to be measured, never read.
struct RawInvitation {
    id: u128,
    project: u64,
    email: Email,
    role: Role,
    token_hash: TokenHash,
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
struct RawTables {
    users: HashMap<String, u128>,
    members: HashMap<(u64, u128), Role>,
    invitations: HashMap<u128, RawInvitation>,
    by_token: HashMap<TokenHash, u128>,
    pending: HashMap<(u64, String), u128>,
    outbox: Vec<(u128, String)>,
    audit: Vec<(u128, &'static str)>,
}

fn raw_invite(
    tables: &Mutex<RawTables>,
    project: u64,
    address: &str,
    next_id: &mut u128,
) -> InvitationToken {
    let email = Email::parse(address).expect("valid");
    let token = InvitationToken::generate(&OsRandom);
    let mut random_id = [0u8; 16];
    OsRandom.fill_bytes(&mut random_id);
    let mut tables = tables.lock().expect("lock");
    *next_id += 1;
    let id = *next_id;
    let user = *tables
        .users
        .entry(email.canonical().to_owned())
        .or_insert(id);
    assert!(!tables.members.contains_key(&(project, user)));
    assert!(
        !tables
            .pending
            .contains_key(&(project, email.canonical().to_owned()))
    );
    tables
        .pending
        .insert((project, email.canonical().to_owned()), id);
    tables.by_token.insert(token.hash(), id);
    tables.outbox.push((id, email.canonical().to_owned()));
    tables.audit.push((id, "invitation_sent"));
    let expires_at = chrono::Utc::now() + chrono::Duration::days(7);
    tables.invitations.insert(
        id,
        RawInvitation {
            id,
            project,
            email,
            role: Role::USER,
            token_hash: token.hash(),
            expires_at,
        },
    );
    token
}

fn invite_one(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("memory/invite_one");

    let roster: Roster = roster_on(Arc::new(InMemoryStore::new()));
    let Seeded { admin, project, .. } = runtime.block_on(seed_admin_project(&roster));
    let mut n = 0u64;
    group.bench_function("roster", |b| {
        b.iter(|| {
            n += 1;
            let rows = [InviteRequest::new(
                format!("person{n}@bench.example"),
                Role::USER,
            )];
            let report = runtime
                .block_on(roster.invite(admin.id, project.id, &rows))
                .expect("invite");
            black_box(report);
        });
    });

    let tables = Mutex::new(RawTables::default());
    let (mut m, mut next_id) = (0u64, 0u128);
    group.bench_function("raw_baseline", |b| {
        b.iter(|| {
            m += 1;
            black_box(raw_invite(
                &tables,
                1,
                &format!("person{m}@bench.example"),
                &mut next_id,
            ));
        });
    });
    group.finish();
}

criterion_group!(benches, invite_one);
criterion_main!(benches);
