//! Cases of the [`Store`] contract, driven directly through `Arc<dyn Store>`.
//!
//! Each case is a `pub async fn(Arc<dyn Store>)` that gets a fresh, empty store and panics when
//! the store breaks the contract documented on [`Store`] and [`Change`]. The cases build raw
//! records with [`crate::fixtures`] and never go through the service, so a failure points at the
//! adapter alone.
//!
//! The families:
//! - reads: every read returns what was written, and nothing for unknown ids;
//! - invitations and outbox: lookups by token and address, filters by effective state, due
//!   notices, pagination;
//! - versions: inserts start at [`Version::INITIAL`], expectations bump by one, stale or missing
//!   ones refuse the whole change;
//! - uniqueness: every rule answers `AlreadyExists` or `NotFound` with the right [`Entity`];
//! - atomicity: a change that fails on its last write leaves no trace, in reads, indexes,
//!   counts or versions;
//! - concurrency: many tasks racing on one project version, or on one uniqueness rule;
//! - contexts: what a step reads (the project, an invitation, a bulk invite) agrees with the
//!   single-record reads and stays one consistent snapshot while changes land;
//! - steps: a step decides inside the store's isolation, alone or in a group.

use chrono::{DateTime, Duration};
#[cfg(doc)]
use roster::Entity;
use roster::StoreExt;
use roster::store::InvitationQuery;
use roster::{
    Account, AuditEvent, Change, Invitation, OutboxEntry, PasswordHash, Project, ProjectId, Store,
    User, Version,
};

use crate::fixtures::{Fixtures, World, start};

/// Applies a change and fails the case unless the store refuses it with an error matching
/// `$pattern`. `$what` names the attempt in the failure message.
macro_rules! assert_refused {
    ($store:expr, $change:expr, $pattern:pat, $what:expr) => {{
        match $store.apply($change).await {
            Ok(()) => panic!(
                "{}: the store applied a change it must refuse with {}",
                $what,
                stringify!($pattern)
            ),
            Err(error) => assert!(
                matches!(error, $pattern),
                "{}: expected {}, got {error:?}",
                $what,
                stringify!($pattern)
            ),
        }
    }};
}

mod atomicity;
mod concurrency;
mod contexts;
mod invitations;
mod outbox;
mod reads;
mod steps;
mod uniqueness;
mod versions;

pub use atomicity::*;
pub use concurrency::*;
pub use contexts::*;
pub use invitations::*;
pub use outbox::*;
pub use reads::*;
pub use steps::*;
pub use uniqueness::*;
pub use versions::*;

/// Expands one test per `Store` contract case, each on a fresh store from `$factory`.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_cases {
    ($factory:path) => {
        $crate::__cases!(
            $factory,
            store_cases;
            // reads
            unknown_ids_read_as_none_or_empty,
            seeded_world_reads_back,
            accounts_and_projects_read_back_in_id_order,
            users_are_found_by_id_and_by_canonical_email,
            password_hash_is_stored_kept_and_replaced,
            user_update_moves_the_email_index,
            membership_reads_back_updates_and_deletes,
            members_paginate_in_user_id_order_with_their_users,
            count_members_counts_each_role,
            accounts_of_user_lists_administered_and_member_accounts,
            account_update_replaces_its_fields,
            audit_events_list_per_project_in_order_with_cursor,
            // invitations
            invitation_reads_back_by_id_and_current_token,
            rotating_the_token_hash_retires_the_old_one,
            pending_invitation_matches_canonical_email_even_when_expired,
            invitations_filter_by_effective_state,
            invitations_paginate_in_id_order_after_filtering,
            count_pending_invitations_excludes_expired_in_effect,
            count_sends_by_counts_link_notices_since_across_projects,
            // outbox
            outbox_entry_reads_back_and_updates,
            due_notices_are_queued_and_due_earliest_first,
            outbox_filters_by_status_and_project_in_id_order,
            // versions
            inserted_projects_and_users_start_at_the_initial_version,
            each_applied_change_bumps_expected_versions_by_one,
            updates_keep_the_stored_version,
            stale_project_expectation_conflicts_and_applies_nothing,
            stale_user_expectation_conflicts_and_applies_nothing,
            expectation_on_missing_record_is_not_found,
            expectations_are_checked_before_writes,
            // uniqueness
            duplicate_account_and_project_ids_are_rejected,
            duplicate_user_id_or_canonical_email_is_rejected,
            duplicate_membership_is_rejected,
            duplicate_invitation_id_or_token_hash_is_rejected,
            second_pending_invitation_per_project_and_address_is_rejected,
            duplicate_audit_event_and_outbox_ids_are_rejected,
            updates_and_deletes_of_missing_records_are_not_found,
            references_to_unknown_projects_or_users_are_not_found,
            the_first_failing_write_decides_the_error,
            // atomicity
            failed_change_on_duplicate_membership_leaves_no_trace,
            failed_change_on_second_pending_invitation_leaves_no_trace,
            failed_change_on_duplicate_token_hash_leaves_no_trace,
            failed_change_on_missing_invitation_update_leaves_no_trace,
            failed_change_on_duplicate_audit_event_leaves_no_trace,
            failed_change_on_last_outbox_write_leaves_no_trace,
            writes_within_a_change_apply_in_order,
            // concurrency
            racing_changes_on_one_project_version_exactly_one_wins,
            racing_changes_that_retry_on_conflict_all_apply_once,
            changes_to_different_projects_do_not_contend,
            racing_pending_invitations_for_one_address_exactly_one_is_stored,
            racing_user_inserts_for_one_address_exactly_one_is_stored,
            // composite reads
            project_context_matches_the_single_reads,
            invitation_context_matches_the_single_reads,
            invite_context_matches_the_single_reads,
            invitation_context_never_pairs_an_old_invitation_with_a_newer_version,
            invite_context_never_pairs_old_invitees_with_a_newer_version,
            project_context_never_pairs_an_old_membership_with_a_newer_version,
            // steps
            a_step_decides_on_what_it_reads_and_applies_the_change,
            racing_steps_on_one_project_never_conflict,
            a_failing_step_leaves_no_trace_and_spares_the_others,
            delivery_records_are_written_before_the_step_reads,
            a_step_deciding_nothing_writes_nothing,
            a_panicking_decision_is_an_error_and_the_store_goes_on,
        );
    };
}

/// Generous enough for every listing a case makes, so "all of them" is one page.
const ALL: usize = 1_000;

/// Applies `change`, failing the case (named by `what`) if the store refuses it.
async fn apply_ok(store: &dyn Store, change: Change, what: &str) {
    if let Err(error) = store.apply(change).await {
        panic!("{what}: the store refused a valid change: {error:?}");
    }
}

/// Seeds a [`World`] at [`start`], failing the case if the store refuses it.
async fn seed(store: &dyn Store, fx: &Fixtures) -> World {
    World::seed(store, fx, start())
        .await
        .unwrap_or_else(|error| panic!("seeding a world: the store refused it: {error:?}"))
}

/// Inserts one more project into `account`, failing the case if the store refuses it.
async fn add_project(store: &dyn Store, fx: &Fixtures, account: &Account) -> Project {
    let project = fx.project(start(), account.id);
    let change = Change {
        projects: vec![project.clone()],
        ..Change::default()
    };
    apply_ok(store, change, "adding a project").await;
    project
}

/// The stored project, which the case knows exists.
async fn stored_project(store: &dyn Store, id: ProjectId) -> Project {
    store
        .project(id)
        .await
        .expect("reading a project")
        .expect("the project exists")
}

/// The stored version of a project the case knows exists.
async fn project_version(store: &dyn Store, id: ProjectId) -> Version {
    stored_project(store, id).await.version
}

/// The stored version of a user the case knows exists.
async fn user_version(store: &dyn Store, id: roster::UserId) -> Version {
    store
        .user(id)
        .await
        .expect("reading a user")
        .expect("the user exists")
        .version
}

/// A query for every invitation of `project`, in any effective state as of `now`.
fn all_invitations(project: ProjectId, now: DateTime<chrono::Utc>) -> InvitationQuery {
    InvitationQuery {
        project,
        state: None,
        now,
        after: None,
        limit: ALL,
    }
}

/// Everything a store exposes about one [`World`], read through every read method. Two equal
/// snapshots mean a change in between left no trace a caller could see.
#[derive(Debug, PartialEq)]
struct Snapshot {
    project: Option<Project>,
    projects: Vec<Project>,
    people: Vec<Person>,
    members: Vec<roster::store::Member>,
    invitations: Vec<Invitation>,
    pending_by_address: Option<Invitation>,
    by_token: Option<Invitation>,
    pending_count: u64,
    sent_by_owner: u64,
    audit: Vec<AuditEvent>,
    outbox: Vec<OutboxEntry>,
    due: Vec<OutboxEntry>,
}

/// What the store says about one user of a world.
#[derive(Debug, PartialEq)]
struct Person {
    user: Option<User>,
    by_email: Option<User>,
    password: Option<PasswordHash>,
    accounts: Vec<Account>,
    membership: Option<roster::Membership>,
}

impl Snapshot {
    /// Reads everything about `world` from `store`.
    async fn take(store: &dyn Store, world: &World) -> Snapshot {
        let now = world.now;
        let project = world.project.id;
        let mut people = Vec::new();
        for user in [&world.owner, &world.member, &world.outsider, &world.invitee] {
            people.push(Person::take(store, project, user).await);
        }
        Snapshot {
            project: store.project(project).await.expect("project"),
            projects: store.projects(world.account.id).await.expect("projects"),
            people,
            members: store.members(project, None, ALL).await.expect("members"),
            invitations: store
                .invitations(&all_invitations(project, now))
                .await
                .expect("invitations"),
            pending_by_address: store
                .pending_invitation(project, &world.invitation.email)
                .await
                .expect("pending invitation"),
            by_token: store
                .invitation_by_token(&world.token.hash())
                .await
                .expect("invitation by token"),
            pending_count: store
                .count_pending_invitations(project, now)
                .await
                .expect("pending count"),
            sent_by_owner: store
                .count_sends_by(world.owner.id, now - Duration::days(30))
                .await
                .expect("sent count"),
            audit: store
                .audit_events(project, None, ALL)
                .await
                .expect("audit events"),
            outbox: store
                .outbox(&roster::store::OutboxQuery {
                    limit: ALL,
                    ..Default::default()
                })
                .await
                .expect("outbox"),
            due: store
                .due_notices(now + Duration::days(365), ALL)
                .await
                .expect("due notices"),
        }
    }
}

impl Person {
    /// Reads everything about `user` (and their membership in `project`) from `store`.
    async fn take(store: &dyn Store, project: ProjectId, user: &User) -> Person {
        Person {
            user: store.user(user.id).await.expect("user"),
            by_email: store
                .user_by_email(&user.email)
                .await
                .expect("user by email"),
            password: store.password_hash(user.id).await.expect("password hash"),
            accounts: store.accounts_of_user(user.id).await.expect("accounts"),
            membership: store
                .membership(project, user.id)
                .await
                .expect("membership"),
        }
    }
}
