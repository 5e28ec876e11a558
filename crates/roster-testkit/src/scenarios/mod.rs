//! Cases of the service rules, run through the [`roster::Roster`] service on the store under
//! test: who may do what, the life of an invitation, limits, the audit trail, the outbox, and
//! races between commands running at once.
//!
//! Every case takes a fresh, empty store and builds its world through the service's own commands
//! (register, create account and project, invite, accept...), so the worlds are ones the rules
//! allow and the assertions hold on any conforming store.

#[macro_use]
mod harness;

mod accept;
mod audit;
mod dawdle;
mod delivery;
mod domains;
mod invite;
mod limits;
mod manage;
mod races;
mod roles;

pub use accept::*;
pub use audit::*;
pub use delivery::*;
pub use domains::*;
pub use invite::*;
pub use limits::*;
pub use manage::*;
pub use races::*;
pub use roles::*;

/// Expands one named test per scenario case (see [`crate::store_conformance`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __scenario_cases {
    ($factory:path) => {
        $crate::__cases!($factory, scenarios;
            // invite
            only_administrators_invite,
            nobody_invites_above_their_own_role,
            bulk_invite_reports_each_row_in_order,
            an_invite_with_only_failing_rows_changes_nothing,
            notices_are_sent_after_the_commit,
            inviting_again_refreshes_the_pending_invitation,
            reinviting_after_expiry_creates_a_new_invitation,
            an_invitee_who_registers_meanwhile_accepts_as_existing_user,
            only_language_tags_are_stored,
            // accept
            a_new_user_accepts_with_a_password,
            an_existing_user_accepts_and_gains_the_account,
            wrong_acceptances_are_refused_and_change_nothing,
            a_token_works_only_once,
            a_declined_invitation_stays_closed,
            a_revoked_invitation_stays_closed,
            an_invitation_expires_after_seven_days,
            a_custom_invitation_lifetime_is_honoured,
            a_token_opens_only_its_own_project,
            preview_describes_and_changes_nothing,
            acceptance_rechecks_the_inviter,
            // manage
            only_administrators_manage_members,
            a_project_administrator_manages_members,
            an_account_administrator_manages_without_membership,
            nobody_grants_a_role_above_their_own,
            members_who_outrank_the_actor_are_out_of_reach,
            resend_rotates_the_token_and_extends_the_expiry,
            resending_an_expired_invitation_renews_it,
            revoke_closes_the_invitation_and_tells_the_invitee,
            the_last_administrator_stays,
            one_of_two_administrators_may_step_down,
            managing_requires_an_existing_membership,
            // limits
            the_portal_limit_allows_five_invitations_a_day,
            every_send_counts_against_its_sender,
            a_colleague_refresh_gives_no_budget_back,
            pending_invitations_per_project_are_capped,
            too_many_rows_fail_the_whole_call,
            // audit
            every_command_is_audited_in_order,
            the_events_of_one_command_keep_their_order,
            // delivery
            a_temporary_failure_leaves_the_notice_queued_for_retry,
            a_permanent_failure_is_listed_and_can_be_requeued,
            a_notice_for_a_revoked_invitation_is_cancelled,
            a_superseded_notice_is_not_sent,
            a_notice_interrupted_mid_send_is_sent_after_its_lease,
            a_long_outage_delays_mail_but_never_loses_it,
            each_sent_row_says_how_its_email_fared,
            // roles
            a_host_catalog_bounds_grants_by_rank,
            access_answers_the_role_in_effect_and_its_permissions,
            tied_managers_and_the_last_manager,
            a_removed_role_grants_nothing_and_never_fails,
            // domains
            an_account_restricts_invitations_to_its_domains,
            // races
            one_token_accepted_by_many_new_users_at_once,
            one_token_accepted_by_a_registered_user_many_times_at_once,
            administrators_demoting_each_other_keep_one,
            the_last_two_administrators_leaving_at_once_keep_one,
            concurrent_invites_of_one_address_leave_one_pending_invitation,
            concurrent_invites_to_many_projects_create_one_user,
            concurrent_invites_respect_the_daily_limit,
            accept_and_revoke_at_once_have_one_winner,
            accepting_declining_and_revoking_at_once_leave_one_outcome,
            many_delivery_passes_at_once_send_each_notice_once,
            mixed_commands_of_64_tasks_on_one_project_never_fail,
        );
    };
}
