//! The world a scenario runs in: a [`Roster`] on the store under test with a manual clock, seeded
//! randomness and a recording notifier, plus shortcuts that build people and projects through the
//! service's own commands, so every world is one the rules allow.

use roster::StoreExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery};
use roster::{
    Acceptance, AuditEvent, Clock, DeliveryStatus, Email, Invitation, InvitationState,
    InvitationToken, InviteOutcome, InviteRequest, Limits, ManualClock, Notifier, NotifyError,
    OutboxEntry, OutgoingNotice, PasswordPolicy, Project, ProjectId, Role, RoleCatalog, Roster,
    RosterConfig, SeededRandom, Store, User, UserId,
};
use roster_memory::RecordingNotifier;

/// The password every person in a scenario signs up with.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// The address of the account administrator [`World::admin_with_project`] creates.
pub(crate) const ADMIN: &str = "admin@example.com";

/// Larger than any listing a scenario produces, so one read sees everything.
const ALL: usize = 500;

/// Fails the test unless `$result` is an `Err` matching `$pattern`.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $result {
            Err($pattern) $(if $guard)? => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}

/// Parses an address the scenario knows to be valid.
pub(crate) fn email(address: &str) -> Email {
    Email::parse(address).expect("scenario addresses are valid")
}

/// The configuration scenarios run with: fast password hashing and the given limits.
pub(crate) fn config_with(limits: Limits) -> RosterConfig {
    RosterConfig::default()
        .limits(limits)
        .passwords(PasswordPolicy::insecure_fast_for_tests())
}

/// Everything one scenario acts on and inspects.
pub(crate) struct World {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) roster: Roster,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) notifier: RecordingNotifier,
}

/// What a failed command must leave untouched in a project: compared before and after.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    project: Option<Project>,
    invitations: Vec<Invitation>,
    members: Vec<Member>,
    audit: Vec<AuditEvent>,
    outbox: Vec<OutboxEntry>,
    messages: usize,
}

impl World {
    /// A world with the default limits.
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self::with_limits(store, Limits::default())
    }

    /// A world with the default limits and the service's own `roles`.
    pub(crate) fn with_roles(store: Arc<dyn Store>, roles: RoleCatalog) -> Self {
        let mut world = Self::new(store);
        world.roster = world.process_with_roles(Arc::new(world.notifier.clone()), roles);
        world
    }

    /// Another process on the same store, clock and configuration, with `roles` (a catalog
    /// changed between two deployments, say).
    pub(crate) fn process_with_roles(
        &self,
        notifier: Arc<dyn Notifier>,
        roles: RoleCatalog,
    ) -> Roster {
        Roster::builder(self.store.clone(), notifier)
            .clock(self.clock.clone())
            .random(Arc::new(SeededRandom::new(11)))
            .config(self.roster.config().clone())
            .roles(roles)
            .build()
            .expect("a valid configuration")
    }

    /// A world with the given limits.
    pub(crate) fn with_limits(store: Arc<dyn Store>, limits: Limits) -> Self {
        let clock = Arc::new(ManualClock::new(
            "2026-01-01T00:00:00Z".parse().expect("valid instant"),
        ));
        let notifier = RecordingNotifier::new();
        let roster = Roster::builder(store.clone(), Arc::new(notifier.clone()))
            .clock(clock.clone())
            .random(Arc::new(SeededRandom::new(42)))
            .config(config_with(limits))
            .build()
            .expect("a valid configuration");
        World {
            store,
            roster,
            clock,
            notifier,
        }
    }

    /// Another process on the same store, clock and configuration, sending through `notifier`.
    pub(crate) fn process_with(&self, notifier: Arc<dyn Notifier>) -> Roster {
        Roster::builder(self.store.clone(), notifier)
            .clock(self.clock.clone())
            .random(Arc::new(SeededRandom::new(7)))
            .config(self.roster.config().clone())
            .roles(self.roster.roles().clone())
            .build()
            .expect("a valid configuration")
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// A registered user with [`PASSWORD`].
    pub(crate) async fn register(&self, address: &str) -> User {
        self.roster
            .register(address, PASSWORD)
            .await
            .expect("registration succeeds")
    }

    /// A registered [`ADMIN`] who created the account "Acme" and its project "Rocket" (and so is
    /// account administrator and the project's first Administrator).
    pub(crate) async fn admin_with_project(&self) -> (User, Project) {
        let admin = self.register(ADMIN).await;
        let account = self
            .roster
            .create_account(admin.id, "Acme")
            .await
            .expect("account created");
        let project = self
            .roster
            .create_project(admin.id, account.id, "Rocket")
            .await
            .expect("project created");
        (admin, project)
    }

    /// Another project of the same account, created by its administrator.
    pub(crate) async fn sibling_project(&self, admin: &User, of: &Project, name: &str) -> Project {
        self.roster
            .create_project(admin.id, of.account, name)
            .await
            .expect("project created")
    }

    /// The outcome of a one-row invite call (the call itself must succeed).
    pub(crate) async fn invite(
        &self,
        actor: UserId,
        project: ProjectId,
        address: &str,
        role: Role,
    ) -> InviteOutcome {
        let report = self
            .roster
            .invite(actor, project, &[InviteRequest::new(address, role)])
            .await
            .expect("invite call succeeds");
        assert_eq!(report.rows.len(), 1);
        report.rows.into_iter().next().expect("one row").outcome
    }

    /// Invites one address, which must be sent (invited or refreshed).
    pub(crate) async fn send(
        &self,
        actor: UserId,
        project: ProjectId,
        address: &str,
        role: Role,
    ) -> (Invitation, InvitationToken) {
        sent(self.invite(actor, project, address, role).await)
    }

    /// A new person, invited by `actor`, who accepts with [`PASSWORD`].
    pub(crate) async fn new_member(
        &self,
        actor: UserId,
        project: ProjectId,
        address: &str,
        role: Role,
    ) -> User {
        let (_, token) = self.send(actor, project, address, role).await;
        self.roster
            .accept(&token, new_user())
            .await
            .expect("acceptance succeeds")
            .user
    }

    pub(crate) async fn role_of(&self, project: ProjectId, user: UserId) -> Option<Role> {
        self.store
            .membership(project, user)
            .await
            .expect("store reads")
            .map(|membership| membership.role)
    }

    pub(crate) async fn administrators(&self, project: ProjectId) -> u64 {
        self.store
            .count_members(project, Role::ADMINISTRATOR)
            .await
            .expect("store reads")
    }

    pub(crate) async fn user(&self, address: &str) -> Option<User> {
        self.store
            .user_by_email(&email(address))
            .await
            .expect("store reads")
    }

    /// Whether `address` belongs to a registered user (an invitation alone makes no user).
    pub(crate) async fn is_registered(&self, address: &str) -> bool {
        self.user(address)
            .await
            .is_some_and(|user| user.is_registered())
    }

    pub(crate) async fn invitation(&self, invitation: &Invitation) -> Invitation {
        self.store
            .invitation(invitation.id)
            .await
            .expect("store reads")
            .expect("the invitation exists")
    }

    /// Invitations of a project in an effective state (all of them for `None`).
    pub(crate) async fn invitations(
        &self,
        project: ProjectId,
        state: Option<InvitationState>,
    ) -> Vec<Invitation> {
        let query = InvitationQuery {
            project,
            state,
            now: self.now(),
            after: None,
            limit: ALL,
        };
        self.store.invitations(&query).await.expect("store reads")
    }

    /// The pending invitations of a project for one address.
    pub(crate) async fn pending_for(&self, project: ProjectId, address: &str) -> Vec<Invitation> {
        let address = email(address);
        let mut pending = self
            .invitations(project, Some(InvitationState::Pending))
            .await;
        pending.retain(|invitation| invitation.email == address);
        pending
    }

    pub(crate) async fn members(&self, project: ProjectId) -> Vec<Member> {
        self.store
            .members(project, None, ALL)
            .await
            .expect("store reads")
    }

    pub(crate) async fn audit(&self, project: ProjectId) -> Vec<AuditEvent> {
        self.store
            .audit_events(project, None, ALL)
            .await
            .expect("store reads")
    }

    /// The outbox entries of a project, as the service lists them to an Administrator.
    pub(crate) async fn notices(
        &self,
        actor: UserId,
        project: ProjectId,
        status: Option<DeliveryStatus>,
    ) -> Vec<OutboxEntry> {
        self.roster
            .notices(actor, project, status, roster::PageRequest::first(ALL))
            .await
            .expect("an Administrator lists notices")
            .items
    }

    /// Everything stored about `project`, once the delivery records of earlier commands are
    /// written (a refused command that wrote them along would otherwise seem to change them).
    pub(crate) async fn snapshot(&self, project: ProjectId) -> Snapshot {
        self.roster
            .flush()
            .await
            .expect("delivery records are written");
        let outbox = OutboxQuery {
            status: None,
            project: Some(project),
            after: None,
            limit: ALL,
        };
        Snapshot {
            project: self.store.project(project).await.expect("store reads"),
            invitations: self.invitations(project, None).await,
            members: self.members(project).await,
            audit: self.audit(project).await,
            outbox: self.store.outbox(&outbox).await.expect("store reads"),
            messages: self.notifier.messages().len(),
        }
    }

    /// Whether a token still opens an invitation.
    pub(crate) async fn opens(&self, token: &InvitationToken) -> bool {
        match self.roster.preview(token).await {
            Ok(_) => true,
            Err(roster::RosterError::InvalidToken) => false,
            Err(other) => panic!("preview failed: {other:?}"),
        }
    }
}

/// Accepting as a new person with [`PASSWORD`].
pub(crate) fn new_user() -> Acceptance {
    Acceptance::NewUser {
        password: PASSWORD.into(),
    }
}

/// The invitation and token of a row that was sent.
pub(crate) fn sent(outcome: InviteOutcome) -> (Invitation, InvitationToken) {
    match outcome {
        InviteOutcome::Invited {
            invitation, token, ..
        }
        | InviteOutcome::Refreshed {
            invitation, token, ..
        } => (invitation, token),
        other => panic!("expected the row to be sent, got {other:?}"),
    }
}

/// The future type `async_trait` gives `Notifier::send` (written out: this crate does not depend
/// on `async-trait`).
type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// A notifier whose sends never finish, standing in for a process that dies mid-send.
pub(crate) struct HangingNotifier {
    /// Signalled when a send has started (and so the change announcing it was committed).
    pub(crate) reached: Arc<tokio::sync::Notify>,
}

impl Notifier for HangingNotifier {
    fn send<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _notice: &'life1 OutgoingNotice,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            self.reached.notify_one();
            std::future::pending().await
        })
    }
}

/// What [`WitnessNotifier`] saw in the store at the moment of a send.
#[derive(Debug, Clone)]
pub(crate) struct Witnessed {
    pub(crate) notice: OutgoingNotice,
    /// The outbox entry of the notice was committed.
    pub(crate) entry_committed: bool,
    /// The token of the notice opened a pending invitation.
    pub(crate) token_opens_pending: bool,
}

/// A notifier that looks at the store while sending, to tell whether sends follow commits.
pub(crate) struct WitnessNotifier {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) seen: Mutex<Vec<Witnessed>>,
}

impl WitnessNotifier {
    async fn witness(&self, notice: &OutgoingNotice) {
        let entry = self.store.outbox_entry(notice.id).await.expect("reads");
        let invitation = match &notice.token {
            Some(token) => self
                .store
                .invitation_by_token(&token.hash())
                .await
                .expect("reads"),
            None => None,
        };
        self.seen.lock().expect("not poisoned").push(Witnessed {
            notice: notice.clone(),
            entry_committed: entry.is_some(),
            token_opens_pending: invitation
                .is_some_and(|invitation| invitation.state == InvitationState::Pending),
        });
    }
}

impl Notifier for WitnessNotifier {
    fn send<'life0, 'life1, 'async_trait>(
        &'life0 self,
        notice: &'life1 OutgoingNotice,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            self.witness(notice).await;
            Ok(())
        })
    }
}
