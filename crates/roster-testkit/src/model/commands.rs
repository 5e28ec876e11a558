//! The commands a property test runs, and how proptest draws them.

use proptest::prelude::*;
use proptest::sample::Index;
use roster::Role;

use super::reference::{ADMIN, INVALID_ADDRESSES, POOL};

/// Who accepts as an existing user.
#[derive(Debug, Clone)]
pub enum Claimant {
    /// The person the invitation was sent to (the only one who may succeed).
    Invitee,
    /// Someone of the pool, usually somebody else.
    Person(usize),
}

/// Which token (or invitation) a command uses, among those seen so far: biased towards the ones
/// that still open a pending invitation, so that the happy paths run often, but stale ones are
/// tried too.
#[derive(Debug, Clone)]
pub struct Pick {
    /// Prefer a live one (falls back to any if none is).
    pub prefer_live: bool,
    /// Which one among the candidates.
    pub index: Index,
}

/// The address of an invitation row.
#[derive(Debug, Clone)]
pub enum Address {
    /// A person of the pool, typed in one of several case/space variants.
    Pool {
        /// Index into [`POOL`].
        person: usize,
        /// Which spelling (see [`Address::typed`]).
        variant: u8,
    },
    /// One of [`INVALID_ADDRESSES`].
    Invalid(usize),
}

impl Address {
    /// The address as the Administrator types it. Every variant of a person has the same
    /// canonical form, which is what the service must compare.
    pub fn typed(&self) -> String {
        match self {
            Address::Pool { person, variant } => spell(POOL[*person], *variant),
            Address::Invalid(index) => INVALID_ADDRESSES[*index].to_owned(),
        }
    }
}

fn spell(address: &str, variant: u8) -> String {
    match variant {
        0 => address.to_owned(),
        1 => {
            let mut chars = address.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect()
        }
        2 => address.to_ascii_uppercase(),
        _ => format!("  {}\t", address.replace("example", "EXAMPLE")),
    }
}

/// One row of an invite call.
#[derive(Debug, Clone)]
pub struct Row {
    /// The address.
    pub address: Address,
    /// The role offered (sometimes one nobody may grant).
    pub role: Role,
}

/// Who acts (or is acted on): anyone of the pool, or a member of the project concerned, picked
/// when the step runs so that enough commands come from people who hold a role there.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A person of the pool (often one without any role: refused).
    Anyone(usize),
    /// A member of the project (the account administrator if it has none).
    Member(Index),
}

/// How the recording notifier behaves from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifierMode {
    /// Every send succeeds.
    Up,
    /// Every send fails temporarily (retried with backoff).
    Temporary,
    /// Every send fails for good.
    Permanent,
}

/// One step of a generated scenario. People are indices into [`POOL`]; tokens and invitations
/// are picked among those seen so far when the step runs.
#[derive(Debug, Clone)]
pub enum Command {
    /// `invite(actor, project, rows)`.
    Invite {
        actor: Actor,
        project: usize,
        rows: Vec<Row>,
    },
    /// `accept(token, NewUser)`, with a password the policy accepts or not.
    AcceptNew { token: Pick, password_ok: bool },
    /// `accept(token, ExistingUser)`.
    AcceptExisting { token: Pick, claimant: Claimant },
    /// `decline(token)`.
    Decline { token: Pick },
    /// `resend(actor, invitation)`.
    Resend { actor: Actor, invitation: Pick },
    /// `revoke(actor, invitation)`.
    Revoke { actor: Actor, invitation: Pick },
    /// `change_role(actor, project, target, role)`.
    ChangeRole {
        actor: Actor,
        project: usize,
        target: Actor,
        role: Role,
    },
    /// `remove_member(actor, project, target)`.
    RemoveMember {
        actor: Actor,
        project: usize,
        target: Actor,
    },
    /// `leave(user, project)`.
    Leave { user: Actor, project: usize },
    /// Moves the clock forward.
    Advance { hours: i64 },
    /// Changes how the notifier behaves.
    SetNotifier(NotifierMode),
    /// `deliver_due()`, run an hour later if `later` (past every backoff), after the notifier
    /// recovered if `recovered` (an outage ends, then the delivery job runs).
    DeliverDue { later: bool, recovered: bool },
}

fn person() -> impl Strategy<Value = usize> {
    0..POOL.len()
}

/// Actors are anyone of the pool, the account administrator, or a member of the project.
fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        2 => person().prop_map(Actor::Anyone),
        1 => Just(Actor::Anyone(ADMIN)),
        3 => any::<Index>().prop_map(Actor::Member),
    ]
}

fn project() -> impl Strategy<Value = usize> {
    0..2usize
}

/// One of the keys a case's catalog draws from (see [`super::roles::KEYS`]): some declared
/// (project or account-level roles), some not.
fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(&super::roles::KEYS[..])
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        10 => (person(), 0..4u8).prop_map(|(person, variant)| Address::Pool { person, variant }),
        1 => (0..INVALID_ADDRESSES.len()).prop_map(Address::Invalid),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (address(), role()).prop_map(|(address, role)| Row { address, role })
}

fn pick() -> impl Strategy<Value = Pick> {
    (proptest::bool::weighted(0.75), any::<Index>())
        .prop_map(|(prefer_live, index)| Pick { prefer_live, index })
}

fn claimant() -> impl Strategy<Value = Claimant> {
    prop_oneof![3 => Just(Claimant::Invitee), 1 => person().prop_map(Claimant::Person)]
}

/// Either a few hours (inside the daily limit's window) or about a week (around expiry).
fn hours() -> impl Strategy<Value = i64> {
    prop_oneof![2 => 1..=30i64, 1 => (6 * 24)..=(8 * 24i64)]
}

/// How the notifier behaves: up first (the shrinking target), often down.
pub fn notifier_mode() -> impl Strategy<Value = NotifierMode> {
    prop_oneof![
        1 => Just(NotifierMode::Up),
        2 => Just(NotifierMode::Temporary),
        1 => Just(NotifierMode::Permanent),
    ]
}

/// One command, weighted towards inviting and accepting, which create the state the other
/// commands act on.
pub fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        6 => (actor(), project(), proptest::collection::vec(row(), 1..=4))
            .prop_map(|(actor, project, rows)| Command::Invite { actor, project, rows }),
        3 => (pick(), proptest::bool::weighted(0.9))
            .prop_map(|(token, password_ok)| Command::AcceptNew { token, password_ok }),
        3 => (pick(), claimant())
            .prop_map(|(token, claimant)| Command::AcceptExisting { token, claimant }),
        1 => pick().prop_map(|token| Command::Decline { token }),
        2 => (actor(), pick())
            .prop_map(|(actor, invitation)| Command::Resend { actor, invitation }),
        1 => (actor(), pick())
            .prop_map(|(actor, invitation)| Command::Revoke { actor, invitation }),
        2 => (actor(), project(), actor(), role()).prop_map(|(actor, project, target, role)| {
            Command::ChangeRole { actor, project, target, role }
        }),
        2 => (actor(), project(), actor())
            .prop_map(|(actor, project, target)| Command::RemoveMember { actor, project, target }),
        1 => (actor(), project()).prop_map(|(user, project)| Command::Leave { user, project }),
        3 => hours().prop_map(|hours| Command::Advance { hours }),
        3 => notifier_mode().prop_map(Command::SetNotifier),
        3 => (proptest::bool::weighted(0.7), any::<bool>())
            .prop_map(|(later, recovered)| Command::DeliverDue { later, recovered }),
    ]
}
