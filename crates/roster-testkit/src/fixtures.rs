//! Builders for raw records, for cases that talk to a [`Store`] directly.
//!
//! Every record built here is valid on its own and unique: all ids come from one [`Fixtures`]
//! value, which stamps them on a private millisecond timeline, so an id made later always sorts
//! after an id made earlier. Stores list by id, and the cases need to know the expected order
//! without relying on the order in which records were written.
//!
//! Timestamps *inside* records are the `now` the caller passes, never the id timeline. They are
//! whole seconds away from [`start`], so adapters that keep microseconds round-trip them exactly.
//!
//! ```
//! use roster_testkit::fixtures::{Fixtures, start};
//!
//! let fx = Fixtures::new(7);
//! let now = start();
//! let owner = fx.registered_user(now);
//! let account = fx.account(now, owner.id);
//! let first = fx.project(now, account.id);
//! let second = fx.project(now, account.id);
//! assert!(first.id < second.id);
//! ```

use roster::StoreExt;
use roster::store::AccountWrite;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use roster::store::{InvitationWrite, MembershipWrite, OutboxWrite, UserWrite};
use roster::{
    Account, AccountId, AuditAction, AuditEvent, Change, DeliveryStatus, Email, EventId,
    Invitation, InvitationId, InvitationState, InvitationToken, Membership, Notice, NoticeId,
    NoticeKind, OutboxEntry, PasswordHash, Project, ProjectId, Role, SeededRandom, Store,
    StoreError, User, UserId, Version,
};

/// The instant the cases treat as "now" unless they need another: 2026-01-01T00:00:00Z.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid fixed instant")
}

/// How long a fixture invitation stays valid after it is sent.
pub fn invitation_lifetime() -> Duration {
    Duration::days(7)
}

/// Parses an address the caller knows to be valid.
///
/// # Panics
/// If `address` is not a valid email address.
pub fn email(address: &str) -> Email {
    Email::parse(address).unwrap_or_else(|error| panic!("{address:?} is invalid: {error}"))
}

/// A membership of `user` in `project` with `role`, begun at `now`, invited by nobody.
pub fn membership(now: DateTime<Utc>, project: ProjectId, user: UserId, role: Role) -> Membership {
    Membership {
        project,
        user,
        role,
        invited_by: None,
        since: now,
    }
}

/// The source of unique ids, addresses, tokens and names for one case.
///
/// Ids are drawn from a [`SeededRandom`] and a timeline far from the instants cases use for
/// records (it starts in mid-2025 and moves one millisecond per id), so fixture ids never collide
/// with ids a service generates from its own clock and random source. `Fixtures` is `Sync`: tasks
/// of a race may share one behind an `Arc`.
#[derive(Debug)]
pub struct Fixtures {
    random: SeededRandom,
    ticks: AtomicI64,
}

impl Default for Fixtures {
    fn default() -> Self {
        Fixtures::new(0x5eed)
    }
}

/// Where the id timeline starts: 2025-06-01T00:00:00Z, in milliseconds since the Unix epoch.
const ID_TIMELINE_START_MILLIS: i64 = 1_748_736_000_000;

impl Fixtures {
    /// Fixtures whose random parts are determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Fixtures {
            random: SeededRandom::new(seed),
            ticks: AtomicI64::new(0),
        }
    }

    /// The next tick: a number never handed out before by this value.
    fn tick(&self) -> i64 {
        self.ticks.fetch_add(1, Ordering::Relaxed)
    }

    /// The instant at which the next id is stamped; strictly later than the previous one.
    fn stamp(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ID_TIMELINE_START_MILLIS + self.tick())
            .expect("the id timeline stays within chrono's range")
    }

    /// A fresh account id, greater than every id made before by this value.
    pub fn account_id(&self) -> AccountId {
        AccountId::generate(self.stamp(), &self.random)
    }

    /// A fresh project id, greater than every id made before by this value.
    pub fn project_id(&self) -> ProjectId {
        ProjectId::generate(self.stamp(), &self.random)
    }

    /// A fresh user id, greater than every id made before by this value.
    pub fn user_id(&self) -> UserId {
        UserId::generate(self.stamp(), &self.random)
    }

    /// A fresh invitation id, greater than every id made before by this value.
    pub fn invitation_id(&self) -> InvitationId {
        InvitationId::generate(self.stamp(), &self.random)
    }

    /// A fresh audit event id, greater than every id made before by this value.
    pub fn event_id(&self) -> EventId {
        EventId::generate(self.stamp(), &self.random)
    }

    /// A fresh outbox entry id, greater than every id made before by this value.
    pub fn notice_id(&self) -> NoticeId {
        NoticeId::generate(self.stamp(), &self.random)
    }

    /// An address nobody else has, typed in mixed case (`Person7@Example.com`) so that cases can
    /// check the typed form survives a round trip while lookups go by the canonical form.
    pub fn email(&self) -> Email {
        email(&format!("Person{}@Example.com", self.tick()))
    }

    /// A fresh invitation token.
    pub fn token(&self) -> InvitationToken {
        InvitationToken::generate(&self.random)
    }

    /// A distinct, PHC-shaped password hash. Stores keep it opaque, so it need not verify.
    pub fn password(&self) -> PasswordHash {
        PasswordHash::from_phc(format!(
            "$argon2id$v=19$m=8,t=1,p=1$Zml4dHVyZQ$fixture{}",
            self.tick()
        ))
    }

    /// An account created at `now`, administered by `administrator`.
    pub fn account(&self, now: DateTime<Utc>, administrator: UserId) -> Account {
        let id = self.account_id();
        Account {
            id,
            name: format!("Account {}", self.tick()),
            administrators: vec![administrator],
            created_at: now,
            allowed_domains: Vec::new(),
        }
    }

    /// A project of `account`, created at `now`, at [`Version::INITIAL`].
    pub fn project(&self, now: DateTime<Utc>, account: AccountId) -> Project {
        let id = self.project_id();
        Project {
            id,
            account,
            name: format!("Project {}", self.tick()),
            created_at: now,
            version: Version::INITIAL,
        }
    }

    /// A user with a fresh address, registered (and created) at `now`.
    pub fn registered_user(&self, now: DateTime<Utc>) -> User {
        let address = self.email();
        User {
            registered_at: Some(now),
            ..self.invited_user(now, address)
        }
    }

    /// A user for `address` that was only invited: created at `now`, not registered.
    pub fn invited_user(&self, now: DateTime<Utc>, address: Email) -> User {
        User {
            id: self.user_id(),
            email: address,
            registered_at: None,
            created_at: now,
            version: Version::INITIAL,
        }
    }

    /// A `Pending` invitation of `address` to `project` with role [`Role::USER`] and language
    /// `de`, sent by `invited_by` at `now`, opened by `token`, expiring [`invitation_lifetime`]
    /// later.
    pub fn invitation(
        &self,
        now: DateTime<Utc>,
        project: ProjectId,
        address: Email,
        invited_by: UserId,
        token: &InvitationToken,
    ) -> Invitation {
        Invitation {
            id: self.invitation_id(),
            project,
            email: address,
            role: Role::USER,
            invited_by,
            state: InvitationState::Pending,
            created_at: now,
            sent_at: now,
            expires_at: now + invitation_lifetime(),
            closed_at: None,
            token_hash: token.hash(),
            sends: 1,
            // Set, so that every round trip through a store also checks the language column.
            language: Some("de".to_owned()),
        }
    }

    /// A `Queued` invitation notice for `invitation`, enqueued and due at `now`.
    pub fn outbox_entry(&self, now: DateTime<Utc>, invitation: &Invitation) -> OutboxEntry {
        OutboxEntry {
            id: self.notice_id(),
            notice: Notice {
                kind: NoticeKind::Invitation,
                to: invitation.email.clone(),
                invitation: invitation.id,
                project: invitation.project,
                project_name: "Project".to_owned(),
                account_name: "Account".to_owned(),
                role: invitation.role,
                role_name: invitation.role.to_string(),
                inviter: email("inviter@example.com"),
                sent_by: invitation.invited_by,
                expires_at: invitation.expires_at,
                send: invitation.sends,
                language: invitation.language.clone(),
            },
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            finished_at: None,
        }
    }

    /// An audit event about `project` at `now`. Its action names a unique label, so two events
    /// built here are never equal.
    pub fn audit_event(
        &self,
        now: DateTime<Utc>,
        project: &Project,
        actor: Option<UserId>,
    ) -> AuditEvent {
        AuditEvent {
            id: self.event_id(),
            at: now,
            actor,
            account: project.account,
            project: Some(project.id),
            action: AuditAction::ProjectCreated {
                name: format!("event {}", self.tick()),
            },
        }
    }
}

/// A small, coherent world: one account with one project, its people and one pending invitation.
///
/// - `owner` administers `account` and is the project's `Administrator`;
/// - `member` holds [`Role::USER`] in `project`;
/// - `outsider` is registered and belongs nowhere;
/// - `invitee` is the unregistered user of an address with the `Pending` `invitation` (opened by
///   `token`, sent by `owner`), whose notice waits in the outbox as `notice`.
#[derive(Debug, Clone)]
pub struct World {
    /// The instant every record was created at.
    pub now: DateTime<Utc>,
    /// The account.
    pub account: Account,
    /// The project, at the version it has right after seeding ([`Version::INITIAL`]).
    pub project: Project,
    /// The account administrator, also the project's Administrator.
    pub owner: User,
    /// A project member with role [`Role::USER`].
    pub member: User,
    /// A registered user with no membership anywhere.
    pub outsider: User,
    /// The unregistered user of the invited address.
    pub invitee: User,
    /// `owner`'s membership: [`Role::ADMINISTRATOR`], invited by nobody.
    pub owner_membership: Membership,
    /// `member`'s membership: [`Role::USER`], invited by `owner`.
    pub member_membership: Membership,
    /// The pending invitation of `invitee`'s address.
    pub invitation: Invitation,
    /// The plaintext token of `invitation`.
    pub token: InvitationToken,
    /// The queued notice announcing `invitation`.
    pub notice: OutboxEntry,
    /// The audit event recording the project's creation.
    pub created: AuditEvent,
}

impl World {
    /// Builds the records of a world at `now`, without writing them anywhere.
    pub fn build(fx: &Fixtures, now: DateTime<Utc>) -> World {
        let owner = fx.registered_user(now);
        let member = fx.registered_user(now);
        let outsider = fx.registered_user(now);
        let invitee = fx.invited_user(now, fx.email());
        let account = fx.account(now, owner.id);
        let project = fx.project(now, account.id);
        let token = fx.token();
        let invitation = fx.invitation(now, project.id, invitee.email.clone(), owner.id, &token);
        let notice = fx.outbox_entry(now, &invitation);
        let created = fx.audit_event(now, &project, Some(owner.id));
        let owner_membership = membership(now, project.id, owner.id, Role::ADMINISTRATOR);
        let member_membership = Membership {
            invited_by: Some(owner.id),
            ..membership(now, project.id, member.id, Role::USER)
        };
        World {
            now,
            account,
            project,
            owner,
            member,
            outsider,
            invitee,
            owner_membership,
            member_membership,
            invitation,
            token,
            notice,
            created,
        }
    }

    /// One change inserting every record of the world, with no expectations.
    pub fn change(&self, fx: &Fixtures) -> Change {
        let registered = |user: &User| UserWrite::Insert {
            user: user.clone(),
            password: Some(fx.password()),
        };
        Change {
            accounts: vec![AccountWrite::Insert(self.account.clone())],
            projects: vec![self.project.clone()],
            users: vec![
                registered(&self.owner),
                registered(&self.member),
                registered(&self.outsider),
                UserWrite::Insert {
                    user: self.invitee.clone(),
                    password: None,
                },
            ],
            memberships: vec![
                MembershipWrite::Insert(self.owner_membership.clone()),
                MembershipWrite::Insert(self.member_membership.clone()),
            ],
            invitations: vec![InvitationWrite::Insert(self.invitation.clone())],
            audit: vec![self.created.clone()],
            outbox: vec![OutboxWrite::Insert(self.notice.clone())],
            ..Change::default()
        }
    }

    /// Builds a world at `now` and writes it to `store` in one change.
    pub async fn seed(
        store: &dyn Store,
        fx: &Fixtures,
        now: DateTime<Utc>,
    ) -> Result<World, StoreError> {
        let world = World::build(fx, now);
        store.apply(world.change(fx)).await?;
        Ok(world)
    }
}
