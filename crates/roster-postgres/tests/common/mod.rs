//! What every test file shares: the server from `ROSTER_POSTGRES_URL`, and fresh schemas on it.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use roster::{Limits, Notifier, PasswordPolicy, Project, RosterBuilder, RosterConfig, Store, User};
use roster_postgres::{PostgresOptions, PostgresStore};

/// The variable naming the server the tests use.
pub const URL_VAR: &str = "ROSTER_POSTGRES_URL";

/// The server's URL, or `None` (with a notice) when the variable is unset.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "{URL_VAR} is not set: skipping this PostgreSQL test \
                 (scripts/postgres-throwaway -- cargo test -p roster-postgres runs them)"
            );
            None
        }
    }
}

/// A schema name no other test uses.
pub fn unique_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t_{}_{n}_{nanos}", std::process::id())
}

/// A plain client on the test server, for looking (or acting) behind the store's back.
pub async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Options for `schema` on the test server.
pub fn options(url: &str, schema: &str) -> PostgresOptions {
    PostgresOptions::new(url)
        .expect("a valid ROSTER_POSTGRES_URL")
        .pool_size(4)
        .schema(schema)
        .expect("a valid schema name")
}

/// A store on a fresh schema of its own, or `None` without a server.
pub async fn fresh_postgres() -> Option<(PostgresStore, String, String)> {
    let url = url()?;
    let schema = unique_schema();
    let store = PostgresStore::connect_with(options(&url, &schema))
        .await
        .expect("connecting to ROSTER_POSTGRES_URL");
    Some((store, url, schema))
}

/// The factory of the testkit's suites: a fresh schema per case, or `None` (skip) without a
/// server.
pub async fn fresh_store() -> Option<Arc<dyn Store>> {
    let (store, _, _) = fresh_postgres().await?;
    Some(Arc::new(store))
}

/// `count` separate instances (separate pools) on one fresh schema, or `None` without a server.
pub async fn instances(count: usize) -> Option<Vec<Arc<dyn Store>>> {
    let url = url()?;
    let schema = unique_schema();
    let mut stores: Vec<Arc<dyn Store>> = Vec::with_capacity(count);
    for _ in 0..count {
        let store = PostgresStore::connect_with(options(&url, &schema))
            .await
            .expect("connecting to ROSTER_POSTGRES_URL");
        stores.push(Arc::new(store));
    }
    Some(stores)
}

/// The password every test user registers with.
pub const PASSWORD: &str = "correct horse battery staple";

/// A service on `store` sending through `notifier`, with fast password hashing and `limits`.
pub fn roster_builder(
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    limits: Limits,
) -> RosterBuilder {
    roster::Roster::builder(store, notifier).config(
        RosterConfig::default()
            .limits(limits)
            .passwords(PasswordPolicy::insecure_fast_for_tests()),
    )
}

/// Registers an administrator and creates their account and a project.
pub async fn admin_with_project(roster: &roster::Roster) -> (User, Project) {
    let admin = roster
        .register("admin@example.com", PASSWORD)
        .await
        .unwrap();
    let account = roster.create_account(admin.id, "Acme").await.unwrap();
    let project = roster
        .create_project(admin.id, account.id, "Rocket")
        .await
        .unwrap();
    (admin, project)
}
