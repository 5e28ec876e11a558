//! Shared pieces of the benchmarks in `benches/benches/`.

use std::sync::Arc;

use async_trait::async_trait;
use roster::{
    Notifier, NotifyError, OutgoingNotice, PasswordPolicy, Roster, RosterConfig, SeededRandom,
    Store,
};

/// A notifier that accepts everything and does nothing, so benchmarks measure roster, not email.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullNotifier;

#[async_trait]
impl Notifier for NullNotifier {
    async fn send(&self, _notice: &OutgoingNotice) -> Result<(), NotifyError> {
        Ok(())
    }
}

/// A service on `store` with a null notifier, a seeded random source and cheap password hashing.
pub fn roster_on(store: Arc<dyn Store>) -> Roster {
    Roster::builder(store, Arc::new(NullNotifier))
        .random(Arc::new(SeededRandom::new(7)))
        .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
        .build()
        .expect("a valid configuration")
}

/// What every benchmark starts from: an administrator, their account and a project in it.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The administrator (registered, account administrator, project Administrator).
    pub admin: roster::User,
    /// Their account.
    pub account: roster::Account,
    /// A project of the account.
    pub project: roster::Project,
}

/// Registers an administrator and creates their account and a project.
pub async fn seed_admin_project(roster: &Roster) -> Seeded {
    let admin = roster
        .register("admin@bench.example", "bench-password")
        .await
        .expect("admin");
    let account = roster
        .create_account(admin.id, "Bench")
        .await
        .expect("account");
    let project = roster
        .create_project(admin.id, account.id, "Bench")
        .await
        .expect("project");
    Seeded {
        admin,
        account,
        project,
    }
}
