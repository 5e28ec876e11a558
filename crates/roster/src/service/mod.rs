//! The [`Roster`] service: commands that read, decide with the rules in `policy`, and apply one
//! [`Change`] with a version precondition, retrying on conflict.

mod accounts;
mod delivery;
mod invite;
mod listing;
mod manage;
mod token_flow;
#[cfg(feature = "worker")]
mod worker;

pub use accounts::SignIn;
pub use delivery::DeliveryReport;
pub use invite::{InviteOutcome, InviteReport, InviteRequest, InviteRow};
pub use manage::Resent;
pub use token_flow::{Acceptance, Accepted, InvitationPreview};
#[cfg(feature = "worker")]
pub use worker::DeliveryWorker;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::account::{Account, Project};
use crate::audit::{AuditAction, AuditEvent};
use crate::clock::{Clock, SystemClock};
use crate::config::RosterConfig;
use crate::error::RosterError;
use crate::id::{EventId, UserId};
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::notifier::Notifier;
use crate::policy;
use crate::random::{OsRandom, RandomSource};
use crate::role::Role;
use crate::store::{Change, Entity, ProjectContext, Store, StoreError};
use crate::token::InvitationToken;
use crate::user::User;

/// The roster service. Cheap to clone (an `Arc` inside), `Send + Sync`: build one at start-up and
/// share it.
///
/// Every command reads what its decision needs, decides with pure rules, and applies one atomic
/// change guarded by the version of the project it read; if another command changed the project
/// meanwhile, it reads and decides again (up to [`RosterConfig::max_attempts`] times). Notices a
/// change announces are written to the outbox in the same change and sent right after the commit;
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
    /// A hash of no one's password, verified against when an address is unknown so sign-in takes
    /// the same time either way; made on first use with this instance's cost.
    dummy_hash: std::sync::OnceLock<crate::user::PasswordHash>,
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

    /// The service.
    pub fn build(self) -> Roster {
        Roster {
            inner: Arc::new(Inner {
                store: self.store,
                notifier: self.notifier,
                clock: self.clock,
                random: self.random,
                config: self.config,
                dummy_hash: std::sync::OnceLock::new(),
            }),
        }
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

pub(crate) type Decision<'a, T> =
    Pin<Box<dyn Future<Output = Result<Plan<T>, RosterError>> + Send + 'a>>;

/// The project a command acts on, with its account and the actor's role in it.
pub(crate) struct ProjectScope {
    pub(crate) project: Project,
    pub(crate) account: Account,
    pub(crate) actor: Option<User>,
    pub(crate) actor_role: Option<Role>,
    pub(crate) actor_membership: Option<Membership>,
}

impl ProjectScope {
    /// The scope `context` describes, for `actor` (whose role counts even if their user record
    /// is missing: an account administrator's rank comes from the account).
    pub(crate) fn new(context: ProjectContext, actor: Option<UserId>) -> Self {
        let actor_role = actor.and_then(|actor| {
            policy::effective_role(&context.account, actor, context.actor_membership.as_ref())
        });
        ProjectScope {
            project: context.project,
            account: context.account,
            actor: context.actor,
            actor_role,
            actor_membership: context.actor_membership,
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
        Roster::builder(store, notifier).build()
    }

    /// A builder to set the clock, random source or configuration.
    pub fn builder(store: Arc<dyn Store>, notifier: Arc<dyn Notifier>) -> RosterBuilder {
        RosterBuilder {
            store,
            notifier,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            config: RosterConfig::default(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RosterConfig {
        &self.inner.config
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

    /// Reads the project, its account and the actor's standing in it.
    pub(crate) async fn scope(
        &self,
        project: crate::id::ProjectId,
        actor: Option<UserId>,
    ) -> Result<ProjectScope, RosterError> {
        let context = self
            .store()
            .project_context(project, actor)
            .await?
            .ok_or(RosterError::NotFound(Entity::Project))?;
        Ok(ProjectScope::new(context, actor))
    }

    /// Reads and decides (through `decide`), applies the change, and on a conflict reads and
    /// decides again; then sends the plan's notices. Uniqueness violations count as conflicts
    /// because every decision read the records it writes: a violation means someone else wrote
    /// them in between.
    pub(crate) async fn transact<'a, T, F>(&'a self, decide: F) -> Result<T, RosterError>
    where
        T: Send + 'a,
        F: Fn() -> Decision<'a, T> + Send + Sync + 'a,
    {
        self.transact_and_deliver(decide)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// [`Roster::transact`], also telling how the plan's notices fared.
    pub(crate) async fn transact_and_deliver<'a, T, F>(
        &'a self,
        decide: F,
    ) -> Result<(T, DeliveryReport), RosterError>
    where
        T: Send + 'a,
        F: Fn() -> Decision<'a, T> + Send + Sync + 'a,
    {
        let attempts = self.inner.config.max_attempts.max(1);
        for attempt in 1..=attempts {
            let plan = decide().await?;
            if plan.change.is_empty() {
                return Ok((plan.outcome, DeliveryReport::default()));
            }
            match self.store().apply(plan.change).await {
                Ok(()) => {
                    let report = self.send_after_commit(plan.outgoing).await;
                    return Ok((plan.outcome, report));
                }
                Err(StoreError::Conflict(_) | StoreError::AlreadyExists(_)) => {
                    tracing::debug!(attempt, "concurrent change; deciding again");
                }
                Err(error) => return Err(error.into()),
            }
        }
        tracing::warn!(attempts, "gave up after repeated conflicts");
        Err(RosterError::Contention { attempts })
    }
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
    }

    fn plan_writing_something() -> Plan<u32> {
        let change = Change {
            audit: Vec::new(),
            ..Change::default()
        };
        let mut plan = Plan::new(change, 7);
        plan.change.accounts.push(crate::account::Account {
            id: crate::id::AccountId::from_uuid(uuid::Uuid::nil()),
            name: "Acme".into(),
            administrators: Vec::new(),
            created_at: chrono::Utc::now(),
        });
        plan
    }

    #[tokio::test]
    async fn conflicts_make_the_command_decide_again_until_it_applies() {
        let mut store = MockStore::new();
        let mut answers = vec![
            Err(StoreError::Conflict(Entity::Project)),
            Err(StoreError::AlreadyExists(Entity::Invitation)),
            Ok(()),
        ]
        .into_iter();
        store
            .expect_apply()
            .times(3)
            .returning(move |_| answers.next().unwrap());
        let roster = roster_on(store, RosterConfig::default());
        let decisions = std::sync::atomic::AtomicU32::new(0);
        let outcome = roster
            .transact(|| {
                decisions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Box::pin(async { Ok(plan_writing_something()) })
            })
            .await
            .unwrap();
        assert_eq!(outcome, 7);
        assert_eq!(decisions.into_inner(), 3);
    }

    #[tokio::test]
    async fn endless_conflicts_end_in_a_retryable_contention_error() {
        let mut store = MockStore::new();
        store
            .expect_apply()
            .times(4)
            .returning(|_| Err(StoreError::Conflict(Entity::Project)));
        let roster = roster_on(
            store,
            RosterConfig {
                max_attempts: 4,
                ..RosterConfig::default()
            },
        );
        let error = roster
            .transact(|| Box::pin(async { Ok(plan_writing_something()) }))
            .await
            .unwrap_err();
        assert!(matches!(error, RosterError::Contention { attempts: 4 }));
        assert!(error.is_retryable());
    }

    #[tokio::test]
    async fn backend_failures_are_not_retried_and_keep_their_source() {
        let mut store = MockStore::new();
        store
            .expect_apply()
            .times(1)
            .returning(|_| Err(StoreError::backend(std::io::Error::other("disk on fire"))));
        let roster = roster_on(store, RosterConfig::default());
        let error = roster
            .transact(|| Box::pin(async { Ok(plan_writing_something()) }))
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
    async fn a_decision_that_writes_nothing_never_reaches_the_store() {
        let roster = roster_on(MockStore::new(), RosterConfig::default());
        let outcome = roster
            .transact(|| Box::pin(async { Ok(Plan::new(Change::default(), "noop")) }))
            .await
            .unwrap();
        assert_eq!(outcome, "noop");
    }
}
