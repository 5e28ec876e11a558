//! The [`Roster`] service: each command hands the store one [`Step`]: what to read, and a pure
//! decision (the rules in `policy`) that the store runs on it inside its own isolation.

mod access;
mod accounts;
mod delivery;
mod invite;
mod listing;
mod manage;
mod token_flow;
#[cfg(feature = "worker")]
mod worker;

pub use access::Access;
pub use accounts::{MAX_ALLOWED_DOMAINS, SignIn};
pub use delivery::{DeliveryReport, OutboxStatus};
pub use invite::{InviteOutcome, InviteReport, InviteRequest, InviteRow, WithTokens};
pub use manage::Resent;
pub use token_flow::{Acceptance, Accepted, InvitationPreview};
#[cfg(feature = "worker")]
pub use worker::DeliveryWorker;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::account::{Account, Project};
use crate::audit::{AuditAction, AuditEvent};
use crate::catalog::RoleCatalog;
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, RosterConfig};
use crate::error::RosterError;
use crate::id::{EventId, UserId};
use crate::notice::OutboxEntry;
use crate::notifier::Notifier;
use crate::policy;
use crate::random::{OsRandom, RandomSource};
use crate::role::Role;
use crate::store::{
    Change, Entity, ProjectContext, Read, Snapshot, Step, Store, StoreError, StoreExt,
};
use crate::token::InvitationToken;
use crate::user::User;

/// The roster service. Cheap to clone (an `Arc` inside), `Send + Sync`: build one at start-up and
/// share it.
///
/// Every command is one trip to the store: the store reads what the command decides on, runs its
/// pure decision and applies the resulting change atomically, all inside its own isolation (its
/// lock, its write transaction), so commands on one project are serialized without conflicts and
/// never fail because others are busy. Notices a change announces are written to the outbox in
/// the same change and sent right after the commit;
/// one that cannot be sent stays queued for [`Roster::deliver_due`] or a
/// [`DeliveryWorker`](crate::DeliveryWorker).
#[derive(Clone)]
pub struct Roster {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    config: RosterConfig,
    roles: RoleCatalog,
    /// A hash of no one's password, verified against when an address is unknown so sign-in takes
    /// the same time either way; made on first use with this instance's cost.
    dummy_hash: std::sync::OnceLock<crate::user::PasswordHash>,
    /// Outcomes of sends not yet written: they ride along with the next command (or a flush)
    /// instead of costing a commit of their own.
    deliveries: Mutex<Vec<delivery::Record>>,
    /// Whether a flush of `deliveries` is already scheduled.
    flush_scheduled: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Roster")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Roster`]; only the store and the notifier are required.
pub struct RosterBuilder {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    config: RosterConfig,
    roles: RoleCatalog,
}

impl fmt::Debug for RosterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RosterBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RosterBuilder {
    /// Uses `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `random` instead of the operating system's generator (for tokens, ids and salts).
    pub fn random(mut self, random: Arc<dyn RandomSource>) -> Self {
        self.random = random;
        self
    }

    /// Uses `config` instead of the defaults.
    pub fn config(mut self, config: RosterConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses the service's own roles instead of the [default four](RoleCatalog::default).
    /// Every rule (who may invite, the ceiling on what they grant, the last-manager protection)
    /// works on `roles`; stored keys it lacks grant nothing.
    pub fn roles(mut self, roles: RoleCatalog) -> Self {
        self.roles = roles;
        self
    }

    /// The service, once its configuration passes [`RosterConfig::validate`].
    ///
    /// Errors: [`ConfigError`] naming the first setting refused.
    pub fn build(self) -> Result<Roster, ConfigError> {
        self.config.validate()?;
        Ok(Roster {
            inner: Arc::new(Inner {
                store: self.store,
                notifier: self.notifier,
                clock: self.clock,
                random: self.random,
                config: self.config,
                roles: self.roles,
                dummy_hash: std::sync::OnceLock::new(),
                deliveries: Mutex::new(Vec::new()),
                flush_scheduled: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }
}

/// What a command decided: the change to apply, the outcome to return once it is committed, and
/// the notices to send right after.
pub(crate) struct Plan<T> {
    pub(crate) change: Change,
    pub(crate) outcome: T,
    pub(crate) outgoing: Vec<Queued>,
}

/// An outbox entry written by a plan, with the token to send it with (tokens are never stored).
pub(crate) struct Queued {
    pub(crate) entry: OutboxEntry,
    pub(crate) token: Option<InvitationToken>,
}

impl<T> Plan<T> {
    pub(crate) fn new(change: Change, outcome: T) -> Self {
        Plan {
            change,
            outcome,
            outgoing: Vec::new(),
        }
    }
}

/// The project a command acts on, with its account and the actor's role in it.
pub(crate) struct ProjectScope {
    pub(crate) project: Project,
    pub(crate) account: Account,
    pub(crate) actor: Option<User>,
    pub(crate) actor_role: Option<Role>,
}

impl ProjectScope {
    /// The scope `context` describes, for `actor` (whose role counts even if their user record
    /// is missing: an account administrator's rank comes from the account).
    pub(crate) fn new(roles: &RoleCatalog, context: ProjectContext, actor: Option<UserId>) -> Self {
        let actor_role = actor.and_then(|actor| {
            policy::effective_role(
                roles,
                &context.account,
                actor,
                context.actor_membership.as_ref(),
            )
        });
        ProjectScope {
            project: context.project,
            account: context.account,
            actor: context.actor,
            actor_role,
        }
    }

    /// The acting user's record; `NotFound(User)` if it does not exist.
    pub(crate) fn actor_user(&self) -> Result<&User, RosterError> {
        self.actor
            .as_ref()
            .ok_or(RosterError::NotFound(Entity::User))
    }
}

impl Roster {
    /// A service on `store` and `notifier` with the system clock, the OS random generator and the
    /// default configuration.
    pub fn new(store: Arc<dyn Store>, notifier: Arc<dyn Notifier>) -> Self {
        Roster::builder(store, notifier)
            .build()
            // The defaults pass `validate` (a unit test holds it to that).
            .unwrap_or_else(|error| unreachable!("the default configuration is refused: {error}"))
    }

    /// A builder to set the clock, random source or configuration.
    pub fn builder(store: Arc<dyn Store>, notifier: Arc<dyn Notifier>) -> RosterBuilder {
        RosterBuilder {
            store,
            notifier,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            config: RosterConfig::default(),
            roles: RoleCatalog::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RosterConfig {
        &self.inner.config
    }

    /// The role catalog in force: display names, ranks and permissions of the stored keys.
    pub fn roles(&self) -> &RoleCatalog {
        &self.inner.roles
    }

    /// The store, for reads the service does not wrap.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub(crate) fn random(&self) -> &dyn RandomSource {
        &*self.inner.random
    }

    pub(crate) fn notifier(&self) -> &dyn Notifier {
        &*self.inner.notifier
    }

    pub(crate) fn event(
        &self,
        now: DateTime<Utc>,
        actor: Option<UserId>,
        scope: &ProjectScope,
        action: AuditAction,
    ) -> AuditEvent {
        AuditEvent {
            id: EventId::generate(now, self.random()),
            at: now,
            actor,
            account: scope.account.id,
            project: Some(scope.project.id),
            action,
        }
    }

    /// Reads the project, its account and the actor's standing in it (for listings, which read
    /// committed state outside any step).
    pub(crate) async fn scope(
        &self,
        project: crate::id::ProjectId,
        actor: Option<UserId>,
    ) -> Result<ProjectScope, RosterError> {
        let roles = self.roles().clone();
        self.look(Read::Project { project, actor }, move |snapshot| {
            let Snapshot::Project(context) = snapshot else {
                return Err(wrong_snapshot());
            };
            let context = context.ok_or(RosterError::NotFound(Entity::Project))?;
            Ok(ProjectScope::new(&roles, context, actor))
        })
        .await
    }

    /// Reads `read` in one read-only step and hands the snapshot to `look` (a preview, a
    /// permission check): nothing is written, and a store may answer from a reader.
    pub(crate) async fn look<T, F>(&self, read: Read, look: F) -> Result<T, RosterError>
    where
        T: Send + 'static,
        F: FnOnce(Snapshot) -> Result<T, RosterError> + Send + 'static,
    {
        look(self.store().read(read).await?)
    }

    /// Runs one command in one trip to the store: the store reads what `read` names and calls
    /// `decide` on it inside its own isolation, then applies the plan's change; the plan's
    /// notices are sent once that has committed. Delivery records waiting to be written ride
    /// along when no flush is scheduled. A refusal from `decide` writes nothing of the command.
    pub(crate) async fn run<T, F>(&self, read: Read, decide: F) -> Result<T, RosterError>
    where
        T: Send + 'static,
        F: FnMut(Snapshot) -> Result<Plan<T>, RosterError> + Send + 'static,
    {
        self.run_and_deliver(read, decide)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// [`Roster::run`], also telling how the plan's notices fared.
    pub(crate) async fn run_and_deliver<T, F>(
        &self,
        read: Read,
        mut decide: F,
    ) -> Result<(T, delivery::Sent), RosterError>
    where
        T: Send + 'static,
        F: FnMut(Snapshot) -> Result<Plan<T>, RosterError> + Send + 'static,
    {
        let verdict: Verdict<T> = Arc::default();
        let kept = verdict.clone();
        let deliveries = self.riding_deliveries();
        let step = Step::new(read, move |snapshot| {
            let (change, outcome) = match decide(snapshot) {
                // A plan that writes nothing leaves the versions it was decided on alone too.
                Ok(plan) if plan.change.is_empty() => (Change::default(), Ok(plan)),
                Ok(mut plan) => (std::mem::take(&mut plan.change), Ok(plan)),
                Err(error) => (Change::default(), Err(error)),
            };
            *lock(&kept) = Some(outcome);
            change
        })
        .with_deliveries(delivery::Record::entries(&deliveries));
        if let Err(error) = self.store().transact(step).await {
            self.keep_deliveries(deliveries);
            return Err(error.into());
        }
        let plan = lock(&verdict)
            .take()
            .ok_or_else(|| StoreError::backend("the store did not run the decision"))??;
        let sent = self.send_after_commit_each(plan.outgoing).await;
        Ok((plan.outcome, sent))
    }
}

/// Where a decision run by the store leaves its plan (or refusal) for the command.
type Verdict<T> = Arc<Mutex<Option<Result<Plan<T>, RosterError>>>>;

/// Locks a mutex whose holders never panic mid-update, taking over a poisoned one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The error for a store that answered a read with a snapshot of another kind.
pub(crate) fn wrong_snapshot() -> RosterError {
    crate::store::ext::mismatch().into()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::notifier::MockNotifier;
    use crate::random::SeededRandom;
    use crate::store::MockStore;

    pub(crate) fn roster_with(config: RosterConfig) -> Roster {
        roster_on(MockStore::new(), config)
    }

    pub(crate) fn roster_on(store: MockStore, config: RosterConfig) -> Roster {
        Roster::builder(Arc::new(store), Arc::new(MockNotifier::new()))
            .clock(Arc::new(ManualClock::new(
                "2026-01-01T00:00:00Z".parse().unwrap(),
            )))
            .random(Arc::new(SeededRandom::new(1)))
            .config(config)
            .build()
            .expect("a valid configuration")
    }

    fn plan_writing_something() -> Plan<u32> {
        let mut plan = Plan::new(Change::default(), 7);
        let account = crate::account::Account {
            id: crate::id::AccountId::from_uuid(uuid::Uuid::nil()),
            name: "Acme".into(),
            administrators: Vec::new(),
            created_at: chrono::Utc::now(),
            allowed_domains: Vec::new(),
        };
        plan.change
            .accounts
            .push(crate::store::AccountWrite::Insert(account));
        plan
    }

    /// A store that runs each step's decision on an empty snapshot and keeps the changes.
    fn deciding_store(changes: Arc<Mutex<Vec<Change>>>) -> MockStore {
        let mut store = MockStore::new();
        store.expect_transact().returning(move |mut step| {
            let change = step.decide(Snapshot::Nothing)?;
            lock(&changes).push(change);
            Ok(())
        });
        store
    }

    #[tokio::test]
    async fn the_store_runs_the_decision_once_and_applies_its_change() {
        let changes = Arc::new(Mutex::new(Vec::new()));
        let roster = roster_on(deciding_store(changes.clone()), RosterConfig::default());
        let decisions = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = decisions.clone();
        let outcome = roster
            .run(Read::Nothing, move |_| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(plan_writing_something())
            })
            .await
            .unwrap();
        assert_eq!(outcome, 7);
        assert_eq!(decisions.load(std::sync::atomic::Ordering::SeqCst), 1);
        let changes = lock(&changes);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].accounts.len(), 1);
    }

    #[tokio::test]
    async fn a_refusal_writes_nothing_and_reaches_the_caller() {
        let changes = Arc::new(Mutex::new(Vec::new()));
        let roster = roster_on(deciding_store(changes.clone()), RosterConfig::default());
        let error = roster
            .run(Read::Nothing, |_| -> Result<Plan<()>, RosterError> {
                Err(RosterError::NotRegistered)
            })
            .await
            .unwrap_err();
        assert!(matches!(error, RosterError::NotRegistered));
        assert!(lock(&changes).iter().all(Change::is_empty));
    }

    #[tokio::test]
    async fn backend_failures_keep_their_source() {
        let mut store = MockStore::new();
        store
            .expect_transact()
            .times(1)
            .returning(|_| Err(StoreError::backend(std::io::Error::other("disk on fire"))));
        let roster = roster_on(store, RosterConfig::default());
        let error = roster
            .run(Read::Nothing, |_| Ok(plan_writing_something()))
            .await
            .unwrap_err();
        assert!(!error.is_retryable());
        let mut chain =
            std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            });
        assert!(chain.any(|e| e.to_string() == "disk on fire"));
    }

    #[tokio::test]
    async fn a_store_that_skips_the_decision_is_refused() {
        let mut store = MockStore::new();
        store.expect_transact().returning(|_| Ok(()));
        let roster = roster_on(store, RosterConfig::default());
        let error = roster
            .run(Read::Nothing, |_| Ok(plan_writing_something()))
            .await
            .unwrap_err();
        assert!(
            matches!(error, RosterError::Store(StoreError::Backend { .. })),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_store_answering_another_read_is_refused() {
        let mut store = MockStore::new();
        store.expect_transact().returning(|mut step| {
            step.decide(Snapshot::User(None))?;
            Ok(())
        });
        let roster = roster_on(store, RosterConfig::default());
        let error = roster
            .create_project(
                crate::id::UserId::from_uuid(uuid::Uuid::nil()),
                crate::id::AccountId::from_uuid(uuid::Uuid::nil()),
                "Website",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, RosterError::Store(StoreError::Backend { .. })),
            "{error:?}"
        );
    }
}
