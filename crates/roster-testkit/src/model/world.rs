//! The real service on the store under test, driven command by command beside the reference model,
//! with every invariant checked against the store after every step.

use roster::StoreExt;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::{
    Acceptance, AccountId, DeliveryPolicy, Email, InvitationState, InvitationToken, InviteOutcome,
    InviteRequest, Limits, ManualClock, PasswordPolicy, ProjectId, Role, Roster, RosterConfig,
    RosterError, SeededRandom, Store, TokenHash, UserId,
};
use roster_memory::{Failure, RecordingNotifier};

use super::commands::{Actor, Address, Claimant, Command, NotifierMode, Pick, Row};
use super::reference::{
    ADMIN, How, LIFETIME, Model, PENDING_PER_PROJECT, PER_INVITER_PER_DAY, POOL,
    REGISTERED_AT_START, Refusal, RowExpect,
};
use super::roles::ModelRoles;

const PASSWORD: &str = "correct horse battery";
const SHORT_PASSWORD: &str = "short";
/// The id used for people of the pool who have no user record yet: it belongs to nobody.
const GHOST: &str = "01900000-0000-7000-8000-00000000dead";
/// More than any scenario can produce, so one page lists everything.
pub const ALL: usize = 10_000;

/// What every step and check returns: a failure names what went wrong.
pub type Checked<T = ()> = Result<T, TestCaseError>;

/// Turns any unexpected error into a test failure.
pub trait OrFail<T> {
    fn or_fail(self, what: &str) -> Checked<T>;
}

impl<T, E: Debug> OrFail<T> for Result<T, E> {
    fn or_fail(self, what: &str) -> Checked<T> {
        self.map_err(|error| TestCaseError::fail(format!("{what}: {error:?}")))
    }
}

impl<T> OrFail<T> for Option<T> {
    fn or_fail(self, what: &str) -> Checked<T> {
        self.ok_or_else(|| TestCaseError::fail(format!("{what}: missing")))
    }
}

/// Compares the model's prediction with the service's answer; on a predicted and actual success,
/// hands both on.
fn settle<E: Debug, A>(
    expected: Result<E, Refusal>,
    actual: Result<A, RosterError>,
) -> Checked<Option<(E, A)>> {
    match (expected, actual) {
        (Ok(expected), Ok(actual)) => Ok(Some((expected, actual))),
        (Err(expected), Err(actual)) => {
            prop_assert_eq!(
                Refusal::of(&actual),
                expected,
                "refused, but not as predicted"
            );
            Ok(None)
        }
        (Ok(expected), Err(actual)) => Err(TestCaseError::fail(format!(
            "predicted success ({expected:?}), got {actual:?}"
        ))),
        (Err(expected), Ok(_)) => Err(TestCaseError::fail(format!(
            "predicted {expected:?}, but the command succeeded"
        ))),
    }
}

fn config() -> RosterConfig {
    RosterConfig::default()
        .limits(
            Limits::default()
                .invitation_lifetime(LIFETIME)
                .invitations_per_inviter_per_day(Some(PER_INVITER_PER_DAY))
                .pending_invitations_per_project(Some(PENDING_PER_PROJECT)),
        )
        .delivery(DeliveryPolicy::default())
        .passwords(PasswordPolicy::insecure_fast_for_tests())
}

/// The service, what the test learned from it (ids, tokens), and the model.
pub struct World {
    pub(super) roster: Roster,
    pub(super) store: Arc<dyn Store>,
    pub(super) notifier: RecordingNotifier,
    pub(super) clock: Arc<ManualClock>,
    pub(super) account: AccountId,
    pub(super) projects: Vec<ProjectId>,
    /// The address of each person of the pool, parsed once (parsing is not cheap in debug).
    pub(super) emails: Vec<Email>,
    /// The user id of each person of the pool, once they have a user record.
    pub(super) ids: Vec<Option<UserId>>,
    /// The id standing for people of the pool without a user record.
    pub(super) ghost: UserId,
    /// Every token seen (in outcomes and in delivered notices), stale ones included.
    pub(super) tokens: Vec<InvitationToken>,
    pub(super) token_index: HashMap<TokenHash, usize>,
    /// Tokens that were used up (accepted, declined) or whose invitation was revoked: none may
    /// ever open a pending invitation again.
    pub(super) spent: Vec<usize>,
    /// How many of the notifier's messages were looked at already.
    pub(super) messages_seen: usize,
    pub(super) model: Model,
}

impl World {
    /// An account administered by `ADMIN` with two projects, and the registered people.
    pub async fn new(store: Arc<dyn Store>, seed: u64, roles: ModelRoles) -> Checked<World> {
        let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().or_fail("start")?;
        let clock = Arc::new(ManualClock::new(start));
        let notifier = RecordingNotifier::new();
        let roster = Roster::builder(store.clone(), Arc::new(notifier.clone()))
            .clock(clock.clone())
            .random(Arc::new(SeededRandom::new(seed)))
            .config(config())
            .roles(roles.catalog())
            .build()
            .expect("a valid configuration");
        let mut ids = vec![None; POOL.len()];
        for person in REGISTERED_AT_START {
            let user = roster.register(POOL[person], PASSWORD).await;
            ids[person] = Some(user.or_fail("register")?.id);
        }
        let admin = ids[ADMIN].or_fail("admin")?;
        let account = roster
            .create_account(admin, "Acme")
            .await
            .or_fail("account")?;
        let mut projects = Vec::new();
        for name in ["Apollo", "Gemini"] {
            let project = roster.create_project(admin, account.id, name).await;
            projects.push(project.or_fail("project")?.id);
        }
        let emails = POOL.iter().map(|address| Email::parse(address));
        let emails = emails.collect::<Result<_, _>>().or_fail("pool")?;
        Ok(World {
            ghost: GHOST.parse().or_fail("ghost id")?,
            emails,
            roster,
            store,
            notifier,
            clock,
            account: account.id,
            model: Model::new(start, projects.len(), roles),
            projects,
            ids,
            tokens: Vec::new(),
            token_index: HashMap::new(),
            spent: Vec::new(),
            messages_seen: 0,
        })
    }

    /// Gives each project a member besides the account administrator, through the commands
    /// under test (so checked like any other step): Bob administers the first project (so
    /// invitations come from someone who can lose the right to send them), Carol uses the second.
    pub async fn seed_members(&mut self) -> Checked {
        let roles = &self.model.roles;
        let seeds = [(0, 1, roles.top_manager()), (1, 2, roles.lowest())];
        for (project, person, role) in seeds {
            let row = Row {
                address: Address::Pool { person, variant: 0 },
                role,
            };
            prop_assert!(self.invite(ADMIN, project, &[row]).await?, "seed invite");
            self.check().await?;
            let token = self.tokens.len() - 1;
            let how = How::ExistingUser { claimant: person };
            prop_assert!(self.accept_with(token, how).await?, "seed accept");
            self.check().await?;
        }
        Ok(())
    }

    /// The person an [`Actor`] designates in `project`.
    fn person(&self, actor: &Actor, project: usize) -> usize {
        match actor {
            Actor::Anyone(person) => *person,
            Actor::Member(index) => {
                let members: Vec<usize> = self.model.projects[project]
                    .members
                    .keys()
                    .copied()
                    .collect();
                if members.is_empty() {
                    ADMIN
                } else {
                    members[index.index(members.len())]
                }
            }
        }
    }

    pub(super) fn user_id(&self, person: usize) -> UserId {
        self.ids[person].unwrap_or(self.ghost)
    }

    /// Runs one command against both the service and the model, then checks every invariant.
    pub async fn run(&mut self, command: &Command) -> Checked {
        let before = self.versions().await?;
        let succeeded = match command {
            Command::Invite {
                actor,
                project,
                rows,
            } => {
                let actor = self.person(actor, *project);
                self.invite(actor, *project, rows).await?
            }
            Command::AcceptNew { token, password_ok } => {
                let how = How::NewUser {
                    password_ok: *password_ok,
                };
                self.accept(token, how).await?
            }
            Command::AcceptExisting { token, claimant } => {
                self.accept_existing(token, claimant).await?
            }
            Command::Decline { token } => self.decline(token).await?,
            Command::Resend { actor, invitation } => self.resend(actor, invitation).await?,
            Command::Revoke { actor, invitation } => self.revoke(actor, invitation).await?,
            Command::ChangeRole {
                actor,
                project,
                target,
                role,
            } => {
                let (actor, target) = (self.person(actor, *project), self.person(target, *project));
                self.change_role(actor, *project, target, *role).await?
            }
            Command::RemoveMember {
                actor,
                project,
                target,
            } => self.remove_member(actor, *project, target).await?,
            Command::Leave { user, project } => self.leave(user, *project).await?,
            Command::Advance { hours } => {
                self.advance(Duration::hours(*hours));
                true
            }
            Command::SetNotifier(mode) => {
                self.set_notifier(*mode);
                true
            }
            Command::DeliverDue { later, recovered } => {
                if *later {
                    self.advance(Duration::hours(1));
                }
                if *recovered {
                    self.set_notifier(NotifierMode::Up);
                }
                self.deliver_due().await?
            }
        };
        if !succeeded {
            // A refused command changes nothing: no project moved.
            prop_assert_eq!(&self.versions().await?, &before, "a refused command wrote");
        }
        self.check().await
    }

    fn set_notifier(&mut self, mode: NotifierMode) {
        match mode {
            NotifierMode::Up => self.notifier.succeed(),
            NotifierMode::Temporary => self.notifier.fail_with(Failure::Temporary),
            NotifierMode::Permanent => self.notifier.fail_with(Failure::Permanent),
        }
        self.model.notifier = mode;
    }

    fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
        self.model.advance(by);
    }

    async fn deliver_due(&mut self) -> Checked<bool> {
        let [delivered, retrying, failed, cancelled] = self.model.deliver_due();
        let report = self.roster.deliver_due().await.or_fail("deliver_due")?;
        prop_assert_eq!(
            (
                report.delivered,
                report.retrying,
                report.failed,
                report.cancelled
            ),
            (delivered, retrying, failed, cancelled),
            "delivery report (delivered, retrying, failed, cancelled)"
        );
        Ok(true)
    }

    async fn invite(&mut self, actor: usize, project: usize, rows: &[Row]) -> Checked<bool> {
        let requests: Vec<InviteRequest> = rows
            .iter()
            .map(|row| InviteRequest::new(row.address.typed(), row.role))
            .collect();
        let expected = self.model.invite(actor, project, rows);
        let actual = self
            .roster
            .invite(self.user_id(actor), self.projects[project], &requests)
            .await;
        let Some((expects, report)) = settle(expected, actual)? else {
            return Ok(false);
        };
        prop_assert_eq!(report.rows.len(), expects.len());
        for (expect, row) in expects.iter().zip(&report.rows) {
            self.check_row(expect, &row.outcome)
                .map_err(|error| TestCaseError::fail(format!("row {:?}: {error}", row.email)))?;
        }
        Ok(true)
    }

    fn check_row(&mut self, expect: &RowExpect, outcome: &InviteOutcome) -> Checked {
        match (expect, outcome) {
            (
                RowExpect::Invited { invitation, notice },
                InviteOutcome::Invited {
                    invitation: real,
                    token,
                    notice: kind,
                },
            ) => {
                prop_assert_eq!(kind, notice);
                self.model.invitations[*invitation].id = Some(real.id);
                self.bind(*invitation, token.clone());
            }
            (
                RowExpect::Refreshed { invitation, notice },
                InviteOutcome::Refreshed {
                    invitation: real,
                    token,
                    notice: kind,
                },
            ) => {
                prop_assert_eq!(kind, notice);
                prop_assert_eq!(self.model.invitations[*invitation].id, Some(real.id));
                self.bind(*invitation, token.clone());
            }
            (
                RowExpect::AlreadyMember { person, role },
                InviteOutcome::AlreadyMember { user, role: held },
            ) => {
                prop_assert_eq!(Some(*user), self.ids[*person]);
                prop_assert_eq!(held, role);
            }
            (RowExpect::InvalidEmail, InviteOutcome::InvalidEmail(_))
            | (RowExpect::Duplicate, InviteOutcome::Duplicate) => {}
            (RowExpect::RoleNotAllowed(expected), InviteOutcome::RoleNotAllowed { role })
            | (RowExpect::UnknownRole(expected), InviteOutcome::UnknownRole { role }) => {
                prop_assert_eq!(role, expected);
            }
            (RowExpect::LimitReached(expected), InviteOutcome::LimitReached(limit)) => {
                prop_assert_eq!(limit, expected);
            }
            (expect, outcome) => {
                return Err(TestCaseError::fail(format!(
                    "predicted {expect:?}, got {outcome:?}"
                )));
            }
        }
        Ok(())
    }

    /// Remembers `token` as the one that now opens model invitation `invitation`.
    pub(super) fn bind(&mut self, invitation: usize, token: InvitationToken) {
        let index = *self.token_index.entry(token.hash()).or_insert_with(|| {
            self.tokens.push(token);
            self.model.token_owner.push(invitation);
            self.tokens.len() - 1
        });
        self.model.invitations[invitation].current_token = Some(index);
    }

    /// The token a pick designates, if any token was seen yet.
    fn pick_token(&self, pick: &Pick) -> Option<usize> {
        let now = self.model.now;
        let current: Vec<usize> = (0..self.tokens.len())
            .filter(|t| {
                let inv = &self.model.invitations[self.model.token_owner[*t]];
                inv.current_token == Some(*t)
                    && inv.effective_state(now) == InvitationState::Pending
            })
            .collect();
        if pick.prefer_live && !current.is_empty() {
            Some(current[pick.index.index(current.len())])
        } else if self.tokens.is_empty() {
            None
        } else {
            Some(pick.index.index(self.tokens.len()))
        }
    }

    fn pick_invitation(&self, pick: &Pick) -> Option<usize> {
        let now = self.model.now;
        let invitations = &self.model.invitations;
        let live: Vec<usize> = (0..invitations.len())
            .filter(|i| invitations[*i].effective_state(now) == InvitationState::Pending)
            .collect();
        if pick.prefer_live && !live.is_empty() {
            Some(live[pick.index.index(live.len())])
        } else {
            let count = invitations.len();
            (count > 0).then(|| pick.index.index(count))
        }
    }

    async fn accept_existing(&mut self, pick: &Pick, claimant: &Claimant) -> Checked<bool> {
        let Some(token) = self.pick_token(pick) else {
            return Ok(false);
        };
        let claimant = match claimant {
            Claimant::Invitee => self.model.invitations[self.model.token_owner[token]].person,
            Claimant::Person(person) => *person,
        };
        self.accept_with(token, How::ExistingUser { claimant })
            .await
    }

    async fn accept(&mut self, pick: &Pick, how: How) -> Checked<bool> {
        match self.pick_token(pick) {
            Some(token) => self.accept_with(token, how).await,
            None => Ok(false),
        }
    }

    async fn accept_with(&mut self, token: usize, how: How) -> Checked<bool> {
        let invitation = self.model.invitations[self.model.token_owner[token]].clone();
        let inviter = self.user_id(invitation.invited_by);
        let inviter_held = self.held_role(inviter, invitation.project).await?;
        let acceptance = match how {
            How::NewUser { password_ok } => Acceptance::NewUser {
                password: if password_ok {
                    PASSWORD
                } else {
                    SHORT_PASSWORD
                }
                .to_owned(),
            },
            How::ExistingUser { claimant } => Acceptance::ExistingUser {
                user: self.user_id(claimant),
            },
        };
        let expected = self.model.accept(token, how);
        let actual = self.roster.accept(&self.tokens[token], acceptance).await;
        let Some((index, accepted)) = settle(expected, actual)? else {
            return Ok(false);
        };
        self.spent.push(token);
        let invitation = &self.model.invitations[index];
        let project = self.projects[invitation.project];
        // A new person's user is made by the acceptance itself.
        let known = *self.ids[invitation.person].get_or_insert(accepted.user.id);
        prop_assert_eq!(accepted.user.id, known);
        prop_assert!(
            accepted.user.registered_at.is_some(),
            "accepted but not registered"
        );
        prop_assert_eq!(accepted.membership.role, invitation.role);
        prop_assert_eq!(accepted.membership.project, project);
        // Never above what the inviter holds, and never an account-level role.
        prop_assert!(
            self.model
                .roles
                .still_grants(inviter_held, accepted.membership.role),
            "granted {:?} on behalf of an inviter holding {:?}",
            accepted.membership.role,
            inviter_held
        );
        // Exactly one membership for the accepting user.
        let members = self
            .store
            .members(project, None, ALL)
            .await
            .or_fail("members")?;
        let mine = members
            .iter()
            .filter(|member| member.user.id == accepted.user.id)
            .count();
        prop_assert_eq!(mine, 1, "memberships of the accepting user");
        Ok(true)
    }

    async fn decline(&mut self, pick: &Pick) -> Checked<bool> {
        let Some(token) = self.pick_token(pick) else {
            return Ok(false);
        };
        let expected = self.model.decline(token);
        let actual = self.roster.decline(&self.tokens[token]).await;
        let succeeded = settle(expected, actual)?.is_some();
        if succeeded {
            self.spent.push(token);
        }
        Ok(succeeded)
    }

    async fn resend(&mut self, actor: &Actor, pick: &Pick) -> Checked<bool> {
        let Some(index) = self.pick_invitation(pick) else {
            return Ok(false);
        };
        let actor = self.person(actor, self.model.invitations[index].project);
        let id = self.model.invitations[index].id.or_fail("invitation id")?;
        let expected = self.model.resend(actor, index);
        let actual = self.roster.resend(self.user_id(actor), id).await;
        let Some(((), resent)) = settle(expected, actual)? else {
            return Ok(false);
        };
        prop_assert_eq!(resent.invitation.id, id);
        self.bind(index, resent.token);
        Ok(true)
    }

    async fn revoke(&mut self, actor: &Actor, pick: &Pick) -> Checked<bool> {
        let Some(index) = self.pick_invitation(pick) else {
            return Ok(false);
        };
        let actor = self.person(actor, self.model.invitations[index].project);
        let id = self.model.invitations[index].id.or_fail("invitation id")?;
        let current = self.model.invitations[index].current_token;
        let expected = self.model.revoke(actor, index);
        let actual = self.roster.revoke(self.user_id(actor), id).await;
        let Some(((), revoked)) = settle(expected, actual)? else {
            return Ok(false);
        };
        prop_assert_eq!(revoked.state, InvitationState::Revoked);
        self.spent.extend(current);
        Ok(true)
    }

    async fn change_role(
        &mut self,
        actor: usize,
        project: usize,
        target: usize,
        role: Role,
    ) -> Checked<bool> {
        let actor_id = self.user_id(actor);
        let held = self.held_role(actor_id, project).await?;
        let expected = self.model.change_role(actor, project, target, role);
        let actual = self
            .roster
            .change_role(actor_id, self.projects[project], self.user_id(target), role)
            .await;
        let Some((_, membership)) = settle(expected, actual)? else {
            return Ok(false);
        };
        prop_assert_eq!(membership.role, role);
        prop_assert!(
            held.is_some_and(|held| self.model.roles.may_grant(held, membership.role)),
            "granted {:?} by an actor holding {:?}",
            membership.role,
            held
        );
        Ok(true)
    }

    async fn remove_member(
        &mut self,
        actor: &Actor,
        project: usize,
        target: &Actor,
    ) -> Checked<bool> {
        let (actor, target) = (self.person(actor, project), self.person(target, project));
        let expected = self.model.remove_member(actor, project, target);
        let (actor, target) = (self.user_id(actor), self.user_id(target));
        let actual = self
            .roster
            .remove_member(actor, self.projects[project], target)
            .await;
        Ok(settle(expected, actual)?.is_some())
    }

    async fn leave(&mut self, user: &Actor, project: usize) -> Checked<bool> {
        let user = self.person(user, project);
        let expected = self.model.leave(user, project);
        let actual = self
            .roster
            .leave(self.user_id(user), self.projects[project])
            .await;
        Ok(settle(expected, actual)?.is_some())
    }

    /// The role `user` holds in `project` according to the store (account administrators first).
    pub(super) async fn held_role(&self, user: UserId, project: usize) -> Checked<Option<Role>> {
        let account = self.store.account(self.account).await.or_fail("account")?;
        let account_admin = account.or_fail("account")?.is_administrator(user);
        let membership = self
            .store
            .membership(self.projects[project], user)
            .await
            .or_fail("membership")?;
        let held = membership.map(|membership| membership.role);
        Ok(self.model.roles.effective(account_admin, held))
    }

    pub(super) async fn versions(&self) -> Checked<Vec<u64>> {
        let mut versions = Vec::new();
        for project in &self.projects {
            let project = self.store.project(*project).await.or_fail("project")?;
            versions.push(project.or_fail("project")?.version.0);
        }
        Ok(versions)
    }
}
