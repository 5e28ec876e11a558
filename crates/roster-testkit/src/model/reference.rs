//! The reference model: plain maps and vectors that say what each command should do.
//!
//! Every method checks first and mutates only once the command is known to succeed, so a refused
//! command leaves the model as it was, just as it must leave the store.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use roster::{
    DeliveryStatus, Denial, Entity, InvitationId, InvitationState, LimitKind, NoticeKind, Role,
    RosterError,
};

use super::commands::{Address, NotifierMode, Row};
use super::roles::ModelRoles;

/// The people of the world. Case variants of these are typed in invitations.
pub const POOL: [&str; 6] = [
    "admin@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.org",
    "erin@example.org",
    "frank@example.org",
];
/// The account administrator: registered, first Administrator of both projects.
pub const ADMIN: usize = 0;
/// The people registered before the scenario starts.
pub const REGISTERED_AT_START: [usize; 3] = [ADMIN, 1, 2];
/// Addresses the syntax policy refuses.
pub const INVALID_ADDRESSES: [&str; 3] = ["not-an-address", "ann@localhost", "two@@example.com"];

/// How long a link works.
pub const LIFETIME: Duration = Duration::days(7);
/// `Limits::invitations_per_inviter_per_day` of the world.
pub const PER_INVITER_PER_DAY: u32 = 3;
/// `Limits::pending_invitations_per_project` of the world.
pub const PENDING_PER_PROJECT: u32 = 3;

/// A refusal, reduced to what the model can predict (no ids, no sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(Denial),
    RoleNotAllowed(Role),
    UnknownRole(Role),
    LastAdministrator,
    InvalidToken,
    Closed(InvitationState),
    InviterNoLongerAuthorized,
    AlreadyMember,
    NotRegistered,
    AlreadyRegistered,
    PasswordLength,
    NotFound(Entity),
    Limit(LimitKind),
    /// Anything the model never predicts (store failures, contention...): always a mismatch.
    Unexpected(String),
}

impl Refusal {
    /// The refusal a service error stands for.
    pub fn of(error: &RosterError) -> Refusal {
        match error {
            RosterError::Forbidden(denial) => Refusal::Forbidden(*denial),
            RosterError::RoleNotAllowed { role } => Refusal::RoleNotAllowed(*role),
            RosterError::UnknownRole { role } => Refusal::UnknownRole(*role),
            RosterError::LastAdministrator => Refusal::LastAdministrator,
            RosterError::InvalidToken => Refusal::InvalidToken,
            RosterError::InvitationClosed { state } => Refusal::Closed(*state),
            RosterError::InviterNoLongerAuthorized => Refusal::InviterNoLongerAuthorized,
            RosterError::AlreadyMember => Refusal::AlreadyMember,
            RosterError::NotRegistered => Refusal::NotRegistered,
            RosterError::AlreadyRegistered => Refusal::AlreadyRegistered,
            RosterError::PasswordLength { .. } => Refusal::PasswordLength,
            RosterError::NotFound(entity) => Refusal::NotFound(*entity),
            RosterError::LimitReached(kind) => Refusal::Limit(*kind),
            other => Refusal::Unexpected(format!("{other:?}")),
        }
    }
}

/// What one invite row should come out as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowExpect {
    /// A new invitation (index into [`Model::invitations`]) and the notice kind.
    Invited {
        invitation: usize,
        notice: NoticeKind,
    },
    /// The live invitation was refreshed.
    Refreshed {
        invitation: usize,
        notice: NoticeKind,
    },
    /// The person is a member already.
    AlreadyMember {
        person: usize,
        role: Role,
    },
    InvalidEmail,
    Duplicate,
    RoleNotAllowed(Role),
    UnknownRole(Role),
    LimitReached(LimitKind),
}

/// How an invitee accepts.
#[derive(Debug, Clone, Copy)]
pub enum How {
    /// As a new user; `password_ok` says whether the password fits the policy.
    NewUser { password_ok: bool },
    /// As the registered user `claimant` (a person of the pool).
    ExistingUser { claimant: usize },
}

/// What the model knows of a person of the pool.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// A user record exists (registered: an invitation alone makes none).
    pub exists: bool,
    /// The user has a password.
    pub registered: bool,
}

/// What the model knows of a project.
#[derive(Debug, Clone, Default)]
pub struct ProjectModel {
    /// Members (person -> role).
    pub members: BTreeMap<usize, Role>,
    /// The version the store must report.
    pub version: u64,
    /// The audit actions recorded (when, which), in the order they were recorded.
    pub audit: Vec<(DateTime<Utc>, &'static str)>,
}

/// What the model knows of an invitation.
#[derive(Debug, Clone)]
pub struct InvitationModel {
    /// The real id, bound from the outcome that created it.
    pub id: Option<InvitationId>,
    pub project: usize,
    pub person: usize,
    pub role: Role,
    pub invited_by: usize,
    /// The stored state (a `Pending` past expiry stays stored `Pending` until something closes it).
    pub state: InvitationState,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// How many times it was sent (created, refreshed, resent).
    pub sends: u32,
    /// The token (index into the world's token list) that opens it now, if a known one does.
    pub current_token: Option<usize>,
}

impl InvitationModel {
    /// The state callers are told at `now`.
    pub fn effective_state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.state == InvitationState::Pending && self.expires_at <= now {
            InvitationState::Expired
        } else {
            self.state
        }
    }
}

/// What the model knows of an outbox entry.
#[derive(Debug, Clone)]
pub struct NoticeModel {
    pub project: usize,
    pub invitation: usize,
    pub kind: NoticeKind,
    /// The invitation's send count when the notice was written.
    pub send: u32,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// Queued and past its retry time. Backoffs are at most an hour and the clock moves by at
    /// least an hour, so a queued entry is due exactly when the clock moved since it failed.
    pub due: bool,
}

/// The whole reference model.
#[derive(Debug, Clone)]
pub struct Model {
    pub now: DateTime<Utc>,
    /// The case's role catalog.
    pub roles: ModelRoles,
    pub people: Vec<Person>,
    pub projects: Vec<ProjectModel>,
    pub invitations: Vec<InvitationModel>,
    pub notices: Vec<NoticeModel>,
    /// Every invitation email sent (first sends, refreshes, resends): who sent it, and when.
    pub sends: Vec<(usize, DateTime<Utc>)>,
    /// For each token of the world's list, the invitation it was issued for.
    pub token_owner: Vec<usize>,
    pub notifier: NotifierMode,
    /// Successful sends so far.
    pub delivered: usize,
    /// Send attempts so far, failed ones included.
    pub send_attempts: usize,
}

impl Model {
    /// The world right after set-up: registered people, two projects administered by the account
    /// administrator, one `ProjectCreated` event each.
    pub fn new(now: DateTime<Utc>, projects: usize, roles: ModelRoles) -> Model {
        let mut people = vec![Person::default(); POOL.len()];
        for person in REGISTERED_AT_START {
            people[person] = Person {
                exists: true,
                registered: true,
            };
        }
        let project = ProjectModel {
            members: BTreeMap::from([(ADMIN, roles.top_manager())]),
            version: 0,
            audit: vec![(now, "ProjectCreated")],
        };
        Model {
            now,
            roles,
            people,
            projects: vec![project; projects],
            invitations: Vec::new(),
            notices: Vec::new(),
            sends: Vec::new(),
            token_owner: Vec::new(),
            notifier: NotifierMode::Up,
            delivered: 0,
            send_attempts: 0,
        }
    }

    /// The role `person` acts with in `project`: account administrators outrank their membership;
    /// a key the catalog lacks grants nothing.
    pub fn role_of(&self, person: usize, project: usize) -> Option<Role> {
        let membership = self.projects[project].members.get(&person).copied();
        self.roles.effective(person == ADMIN, membership)
    }

    fn manager_role(&self, person: usize, project: usize) -> Result<Role, Refusal> {
        self.role_of(person, project)
            .filter(|role| self.roles.manages(*role))
            .ok_or(Refusal::Forbidden(Denial::NotAnAdministrator))
    }

    /// A role asked for now: known to the catalog, and grantable by `actor_role`.
    fn grantable(&self, actor_role: Role, role: Role) -> Result<(), Refusal> {
        if self.roles.get(role).is_none() {
            Err(Refusal::UnknownRole(role))
        } else if self.roles.may_grant(actor_role, role) {
            Ok(())
        } else {
            Err(Refusal::RoleNotAllowed(role))
        }
    }

    fn window_start(&self) -> DateTime<Utc> {
        self.now - Duration::hours(24)
    }

    /// Invitation emails `person` sent inside the daily window, whoever sent them again later.
    fn sent_by(&self, person: usize) -> u64 {
        let since = self.window_start();
        self.sends
            .iter()
            .filter(|(by, at)| *by == person && *at >= since)
            .count() as u64
    }

    fn pending_in(&self, project: usize) -> u64 {
        self.invitations
            .iter()
            .filter(|inv| {
                inv.project == project && inv.effective_state(self.now) == InvitationState::Pending
            })
            .count() as u64
    }

    /// The invitation of (project, person) whose stored state is `Pending`, expired or not.
    fn stored_pending(&self, project: usize, person: usize) -> Option<usize> {
        self.invitations.iter().position(|inv| {
            inv.project == project && inv.person == person && inv.state == InvitationState::Pending
        })
    }

    /// Members holding a role that manages members.
    pub fn managers(&self, project: usize) -> usize {
        self.projects[project]
            .members
            .values()
            .filter(|role| self.roles.manages(**role))
            .count()
    }

    fn notice_kind_for(&self, person: usize) -> NoticeKind {
        if self.people[person].registered {
            NoticeKind::AccessGranted
        } else {
            NoticeKind::Invitation
        }
    }

    /// Records a change to a project: its version moves and its events are appended.
    fn commit(&mut self, project: usize, events: &[&'static str]) {
        let now = self.now;
        let project = &mut self.projects[project];
        project.version += 1;
        project.audit.extend(events.iter().map(|name| (now, *name)));
    }

    /// Queues a notice and makes the first delivery attempt right away, as the service does
    /// after every commit.
    fn enqueue(&mut self, project: usize, invitation: usize, kind: NoticeKind) {
        let send = self.invitations[invitation].sends;
        self.notices.push(NoticeModel {
            project,
            invitation,
            kind,
            send,
            status: DeliveryStatus::Queued,
            attempts: 1,
            due: false,
        });
        let last = self.notices.len() - 1;
        let _ = self.attempt(last);
    }

    /// One delivery attempt of notice `index` (its `attempts` already counts it); returns the
    /// entry's status after it.
    fn attempt(&mut self, index: usize) -> DeliveryStatus {
        self.send_attempts += 1;
        let mode = self.notifier;
        let notice = &mut self.notices[index];
        notice.due = false;
        notice.status = match mode {
            NotifierMode::Up => {
                self.delivered += 1;
                DeliveryStatus::Delivered
            }
            // Temporary failures never end delivery, however many.
            NotifierMode::Temporary => DeliveryStatus::Queued,
            NotifierMode::Permanent => DeliveryStatus::Failed,
        };
        notice.status
    }

    /// `invite`: either a refusal of the whole call, or one expectation per row.
    pub fn invite(
        &mut self,
        actor: usize,
        project: usize,
        rows: &[Row],
    ) -> Result<Vec<RowExpect>, Refusal> {
        let actor_role = self.manager_role(actor, project)?;
        let mut budgets = Budgets {
            per_inviter: u64::from(PER_INVITER_PER_DAY).saturating_sub(self.sent_by(actor)),
            pending: u64::from(PENDING_PER_PROJECT).saturating_sub(self.pending_in(project)),
        };
        let mut seen = HashSet::new();
        let mut events = Vec::new();
        let mut queued = Vec::new();
        let mut expects = Vec::with_capacity(rows.len());
        for row in rows {
            let expect = match row.address {
                Address::Invalid(_) => RowExpect::InvalidEmail,
                Address::Pool { person, .. } if !seen.insert(person) => RowExpect::Duplicate,
                Address::Pool { person, .. } => match self.grantable(actor_role, row.role) {
                    Err(Refusal::UnknownRole(role)) => RowExpect::UnknownRole(role),
                    Err(_) => RowExpect::RoleNotAllowed(row.role),
                    Ok(()) => {
                        let draft = Draft {
                            actor,
                            project,
                            person,
                            role: row.role,
                        };
                        self.invite_row(draft, &mut budgets, &mut events, &mut queued)
                    }
                },
            };
            expects.push(expect);
        }
        if !queued.is_empty() {
            self.commit(project, &events);
            for (invitation, kind) in queued {
                self.enqueue(project, invitation, kind);
            }
        }
        Ok(expects)
    }

    fn invite_row(
        &mut self,
        draft: Draft,
        budgets: &mut Budgets,
        events: &mut Vec<&'static str>,
        queued: &mut Vec<(usize, NoticeKind)>,
    ) -> RowExpect {
        let Draft {
            actor,
            project,
            person,
            role,
        } = draft;
        if let Some(role) = self.projects[project].members.get(&person) {
            return RowExpect::AlreadyMember {
                person,
                role: *role,
            };
        }
        let now = self.now;
        let existing = self.stored_pending(project, person);
        let live = existing
            .filter(|i| self.invitations[*i].effective_state(now) == InvitationState::Pending);
        if let Err(limit) = budgets.take(live.is_none()) {
            return RowExpect::LimitReached(limit);
        }
        self.sends.push((actor, now));
        let notice = self.notice_kind_for(person);
        let expect = match live {
            Some(index) => {
                let inv = &mut self.invitations[index];
                inv.role = role;
                inv.invited_by = actor;
                inv.sent_at = now;
                inv.expires_at = now + LIFETIME;
                inv.sends += 1;
                inv.current_token = None;
                events.push("InvitationResent");
                RowExpect::Refreshed {
                    invitation: index,
                    notice,
                }
            }
            None => {
                if let Some(stale) = existing {
                    self.invitations[stale].state = InvitationState::Expired;
                    events.push("InvitationExpired");
                }
                self.invitations.push(InvitationModel {
                    id: None,
                    project,
                    person,
                    role,
                    invited_by: actor,
                    state: InvitationState::Pending,
                    sent_at: now,
                    expires_at: now + LIFETIME,
                    sends: 1,
                    current_token: None,
                });
                events.push("InvitationSent");
                RowExpect::Invited {
                    invitation: self.invitations.len() - 1,
                    notice,
                }
            }
        };
        let (RowExpect::Invited { invitation, .. } | RowExpect::Refreshed { invitation, .. }) =
            expect
        else {
            unreachable!("only sent rows reach here");
        };
        queued.push((invitation, notice));
        expect
    }

    /// Checks that `token` opens a pending invitation; returns the invitation's index.
    fn open_pending(&self, token: usize) -> Result<usize, Refusal> {
        let index = self.token_owner[token];
        let inv = &self.invitations[index];
        if inv.current_token != Some(token) {
            return Err(Refusal::InvalidToken);
        }
        match inv.effective_state(self.now) {
            InvitationState::Pending => Ok(index),
            state => Err(Refusal::Closed(state)),
        }
    }

    /// `accept`: the accepted invitation's index.
    pub fn accept(&mut self, token: usize, how: How) -> Result<usize, Refusal> {
        if let How::NewUser { password_ok: false } = how {
            return Err(Refusal::PasswordLength);
        }
        let index = self.open_pending(token)?;
        let inv = &self.invitations[index];
        let (project, person, role) = (inv.project, inv.person, inv.role);
        let inviter_may = self
            .roles
            .still_grants(self.role_of(inv.invited_by, project), role);
        if !inviter_may {
            return Err(Refusal::InviterNoLongerAuthorized);
        }
        let registered = self.people[person].registered;
        match how {
            How::ExistingUser { claimant } if claimant != person => {
                return Err(Refusal::Forbidden(Denial::NotTheInvitee));
            }
            // An address only invited has no user record, so no user id is its invitee's.
            How::ExistingUser { .. } if !self.people[person].exists => {
                return Err(Refusal::Forbidden(Denial::NotTheInvitee));
            }
            How::ExistingUser { .. } if !registered => return Err(Refusal::NotRegistered),
            How::NewUser { .. } if registered => return Err(Refusal::AlreadyRegistered),
            _ => {}
        }
        if self.projects[project].members.contains_key(&person) {
            return Err(Refusal::AlreadyMember);
        }
        self.invitations[index].state = InvitationState::Accepted;
        self.people[person].exists = true;
        self.people[person].registered = true;
        self.projects[project].members.insert(person, role);
        self.commit(project, &["InvitationAccepted"]);
        Ok(index)
    }

    /// `decline`.
    pub fn decline(&mut self, token: usize) -> Result<(), Refusal> {
        let index = self.open_pending(token)?;
        self.invitations[index].state = InvitationState::Declined;
        let project = self.invitations[index].project;
        self.commit(project, &["InvitationDeclined"]);
        Ok(())
    }

    /// The checks resend and revoke share: a manager who may grant the invitation's role, on a
    /// pending invitation.
    fn manage_pending(&self, actor: usize, index: usize) -> Result<(), Refusal> {
        self.manage(actor, index, false)
    }

    /// The actor may manage the invitation's project and grant its role, and the invitation is
    /// pending (or, when `renewing`, expired without having been closed: stored `Pending`).
    fn manage(&self, actor: usize, index: usize, renewing: bool) -> Result<(), Refusal> {
        let inv = &self.invitations[index];
        let actor_role = self.manager_role(actor, inv.project)?;
        if !self.roles.still_grants(Some(actor_role), inv.role) {
            return Err(Refusal::RoleNotAllowed(inv.role));
        }
        match inv.effective_state(self.now) {
            InvitationState::Pending => Ok(()),
            _ if renewing && inv.state == InvitationState::Pending => Ok(()),
            state => Err(Refusal::Closed(state)),
        }
    }

    /// `resend`.
    pub fn resend(&mut self, actor: usize, index: usize) -> Result<(), Refusal> {
        self.manage(actor, index, true)?;
        let inv = &self.invitations[index];
        if self.sent_by(actor) >= u64::from(PER_INVITER_PER_DAY) {
            return Err(Refusal::Limit(LimitKind::InvitationsPerInviterPerDay {
                limit: PER_INVITER_PER_DAY,
            }));
        }
        let now = self.now;
        let kind = self.notice_kind_for(inv.person);
        self.sends.push((actor, now));
        let inv = &mut self.invitations[index];
        inv.invited_by = actor;
        inv.sent_at = now;
        inv.expires_at = now + LIFETIME;
        inv.sends += 1;
        inv.current_token = None;
        let project = inv.project;
        self.commit(project, &["InvitationResent"]);
        self.enqueue(project, index, kind);
        Ok(())
    }

    /// `revoke`.
    pub fn revoke(&mut self, actor: usize, index: usize) -> Result<(), Refusal> {
        self.manage_pending(actor, index)?;
        self.invitations[index].state = InvitationState::Revoked;
        let project = self.invitations[index].project;
        self.commit(project, &["InvitationRevoked"]);
        self.enqueue(project, index, NoticeKind::Revocation);
        Ok(())
    }

    /// The target's membership role for change_role and remove_member, once it is known that
    /// the target does not outrank the actor (by the target's effective role: an account
    /// administrator outranks project Administrators even through a membership).
    fn target_role(
        &self,
        actor_role: Role,
        project: usize,
        target: usize,
    ) -> Result<Role, Refusal> {
        let role = *self.projects[project]
            .members
            .get(&target)
            .ok_or(Refusal::NotFound(Entity::Membership))?;
        let held = self.role_of(target, project).unwrap_or(role);
        if self.roles.outranks(held, actor_role) {
            return Err(Refusal::Forbidden(Denial::TargetOutranksActor));
        }
        Ok(role)
    }

    fn keeps_administrator(
        &self,
        project: usize,
        current: Role,
        next: Option<Role>,
    ) -> Result<(), Refusal> {
        let loses_one =
            self.roles.manages(current) && !next.is_some_and(|next| self.roles.manages(next));
        if loses_one && self.managers(project) <= 1 {
            Err(Refusal::LastAdministrator)
        } else {
            Ok(())
        }
    }

    /// `change_role`: whether anything changed.
    pub fn change_role(
        &mut self,
        actor: usize,
        project: usize,
        target: usize,
        role: Role,
    ) -> Result<bool, Refusal> {
        let actor_role = self.manager_role(actor, project)?;
        self.grantable(actor_role, role)?;
        let current = self.target_role(actor_role, project, target)?;
        if current == role {
            return Ok(false);
        }
        self.keeps_administrator(project, current, Some(role))?;
        self.projects[project].members.insert(target, role);
        self.commit(project, &["RoleChanged"]);
        Ok(true)
    }

    /// `remove_member`.
    pub fn remove_member(
        &mut self,
        actor: usize,
        project: usize,
        target: usize,
    ) -> Result<(), Refusal> {
        let actor_role = self.manager_role(actor, project)?;
        let current = self.target_role(actor_role, project, target)?;
        self.keeps_administrator(project, current, None)?;
        self.projects[project].members.remove(&target);
        self.commit(project, &["MemberRemoved"]);
        Ok(())
    }

    /// `leave`.
    pub fn leave(&mut self, person: usize, project: usize) -> Result<(), Refusal> {
        let current = *self.projects[project]
            .members
            .get(&person)
            .ok_or(Refusal::NotFound(Entity::Membership))?;
        self.keeps_administrator(project, current, None)?;
        self.projects[project].members.remove(&person);
        self.commit(project, &["MemberLeft"]);
        Ok(())
    }

    /// Moves the clock; every queued entry becomes due (see [`NoticeModel::due`]).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        for notice in &mut self.notices {
            if notice.status == DeliveryStatus::Queued {
                notice.due = true;
            }
        }
    }

    /// `deliver_due`: each due entry is cancelled (its invitation closed or was sent again since)
    /// or leased, its token rotated, and sent again. Each of those is one change to its project.
    /// Returns the expected report as (delivered, retrying, failed, cancelled).
    pub fn deliver_due(&mut self) -> [usize; 4] {
        let now = self.now;
        let mut report = [0; 4];
        for index in 0..self.notices.len() {
            let notice = &self.notices[index];
            if notice.status != DeliveryStatus::Queued || !notice.due {
                continue;
            }
            let project = notice.project;
            self.projects[project].version += 1;
            if notice.kind.carries_link() {
                let inv = &mut self.invitations[notice.invitation];
                let closed = inv.effective_state(now) != InvitationState::Pending;
                let superseded = inv.sends != notice.send;
                if closed || superseded {
                    let notice = &mut self.notices[index];
                    notice.status = DeliveryStatus::Cancelled;
                    notice.due = false;
                    report[3] += 1;
                    continue;
                }
                // The fresh token is known only if the notifier delivers it.
                inv.current_token = None;
            }
            self.notices[index].attempts += 1;
            let slot = match self.attempt(index) {
                DeliveryStatus::Delivered => 0,
                DeliveryStatus::Queued => 1,
                _ => 2,
            };
            report[slot] += 1;
        }
        report
    }
}

/// One row to plan.
struct Draft {
    actor: usize,
    project: usize,
    person: usize,
    role: Role,
}

/// What is left of the configured limits during one invite call.
struct Budgets {
    per_inviter: u64,
    pending: u64,
}

impl Budgets {
    /// `fresh`: the row adds a pending invitation. Every send costs the inviter one.
    fn take(&mut self, fresh: bool) -> Result<(), LimitKind> {
        if self.per_inviter == 0 {
            return Err(LimitKind::InvitationsPerInviterPerDay {
                limit: PER_INVITER_PER_DAY,
            });
        }
        if fresh && self.pending == 0 {
            return Err(LimitKind::PendingInvitationsPerProject {
                limit: PENDING_PER_PROJECT,
            });
        }
        self.per_inviter -= 1;
        if fresh {
            self.pending -= 1;
        }
        Ok(())
    }
}
