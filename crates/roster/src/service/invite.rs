//! Bulk invitation: one call, many addresses, an outcome per row.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use serde::{Deserialize, Serialize};

use super::{DeliveryReport, Plan, ProjectScope, Queued, Roster};
use crate::audit::AuditAction;
use crate::catalog::RoleCatalog;
use crate::clock::{earlier, later};
use crate::email::{Email, EmailError};
use crate::error::{LimitKind, RosterError};
use crate::id::{InvitationId, ProjectId, UserId};
use crate::invitation::{Invitation, InvitationState};
use crate::notice::DeliveryStatus;
use crate::notice::{Notice, NoticeKind};
use crate::policy;
use crate::role::Role;
use crate::store::{
    Change, Entity, Expectation, InvitationWrite, InviteContext, InviteQuery, Invitee, Read,
    Snapshot, StoreError,
};
use crate::token::InvitationToken;
use crate::user::User;

/// One row of an [`invite`](Roster::invite) call: an address as typed, the role to offer and,
/// optionally, the invitee's language. Deserializes from `{"email": …, "role": …, "language": …}`
/// (`language` optional).
///
/// ```
/// use roster::{InviteRequest, Role};
///
/// let row = InviteRequest::new("ann@example.com", Role::USER).language("de");
/// assert_eq!(row.language.as_deref(), Some("de"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    /// The address, as typed by the Administrator (validated by the call).
    pub email: String,
    /// The role to offer.
    pub role: Role,
    /// The invitee's language (a tag such as `de` or `pt-BR`), stored on the invitation and
    /// copied into every notice about it. `None` keeps what a pending invitation already has.
    #[serde(default)]
    pub language: Option<String>,
}

impl InviteRequest {
    /// A row inviting `email` as `role`, in the notifier's default language.
    pub fn new(email: impl Into<String>, role: Role) -> Self {
        InviteRequest {
            email: email.into(),
            role,
            language: None,
        }
    }

    /// Writes the invitation's emails in `language` (a tag such as `de`), where the notifier has
    /// templates for it.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
}

/// What happened to one row.
///
/// Serialized with its kind in `outcome` (`"invited"`, `"role_not_allowed"`...) beside its
/// fields; tokens are never serialized (see [`InviteReport::with_tokens`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InviteOutcome {
    /// A new invitation was created and its notice queued.
    Invited {
        /// The invitation.
        invitation: Invitation,
        /// The link's token (shown only here and in the notice).
        #[serde(skip_serializing)]
        token: InvitationToken,
        /// Which notice was sent: `Invitation` to a new person, `AccessGranted` to an existing user.
        notice: NoticeKind,
    },
    /// The address already had a pending invitation: it got a new token, a new expiry and the
    /// row's role; the old link stopped working.
    Refreshed {
        /// The invitation.
        invitation: Invitation,
        /// The new token.
        #[serde(skip_serializing)]
        token: InvitationToken,
        /// Which notice was sent.
        notice: NoticeKind,
    },
    /// The address belongs to a member of the project already; nothing was sent.
    AlreadyMember {
        /// The member.
        user: UserId,
        /// Their role.
        role: Role,
    },
    /// The address failed the syntax policy.
    InvalidEmail(EmailError),
    /// The row's language is not a BCP 47 language tag (such as `de` or `pt-BR`) of at most
    /// 35 characters; nothing was sent.
    InvalidLanguage,
    /// The same address (by canonical form) appeared in an earlier row of this call.
    Duplicate,
    /// The actor may not grant this role: it ranks above their own, or is the account-level role.
    RoleNotAllowed {
        /// The role asked for.
        role: Role,
    },
    /// The service's role catalog has no role with this key; nothing was sent.
    UnknownRole {
        /// The key asked for.
        role: Role,
    },
    /// The account restricts its invitations to other domains
    /// ([`Account::allowed_domains`](crate::Account::allowed_domains)); nothing was sent.
    DomainNotAllowed {
        /// The address's domain, in canonical form.
        domain: String,
    },
    /// A configured limit was reached; this row was not sent.
    LimitReached(LimitKind),
}

impl InviteOutcome {
    /// The row's outcome for a refusal of `policy`'s domain and grant checks on `role`.
    fn refused(refusal: RosterError, role: Role) -> Self {
        match refusal {
            RosterError::DomainNotAllowed { domain } => InviteOutcome::DomainNotAllowed { domain },
            RosterError::UnknownRole { role } => InviteOutcome::UnknownRole { role },
            // `RoleNotAllowed`, the only other refusal those checks make.
            _ => InviteOutcome::RoleNotAllowed { role },
        }
    }

    /// Whether the row produced a pending invitation (new or refreshed).
    pub fn is_sent(&self) -> bool {
        matches!(
            self,
            InviteOutcome::Invited { .. } | InviteOutcome::Refreshed { .. }
        )
    }

    /// The token of a sent row.
    pub fn token(&self) -> Option<&InvitationToken> {
        match self {
            InviteOutcome::Invited { token, .. } | InviteOutcome::Refreshed { token, .. } => {
                Some(token)
            }
            _ => None,
        }
    }
}

/// The outcome of one row, with the address as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteRow {
    /// The address as given.
    pub email: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: InviteOutcome,
    /// For a row that was sent, how its email fared right after the commit: `Delivered`,
    /// `Queued` (not delivered yet: the notifier failed for now, or the command's time for mail
    /// ran out; it is retried until it goes out), or `Failed` (refused for good; listed among
    /// the failed notices). `None` for rows that sent nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryStatus>,
}

/// The outcome of an [`invite`](Roster::invite) call, row by row in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct InviteReport {
    /// One entry per request row.
    pub rows: Vec<InviteRow>,
    /// The call's emails at a glance (see [`InviteRow::delivery`]).
    pub delivery: DeliveryReport,
}

impl InviteReport {
    /// How many rows were sent (invited or refreshed).
    pub fn sent(&self) -> usize {
        self.rows.iter().filter(|row| row.outcome.is_sent()).count()
    }

    /// The report serialized with each sent row's token (`"token"`): for a service that shows
    /// or links the invitation itself, never for logs. Serializing the report alone leaves the
    /// tokens out.
    ///
    /// ```
    /// # fn show(report: &roster::InviteReport) -> serde_json::Result<String> {
    /// serde_json::to_string(&report.with_tokens())
    /// # }
    /// ```
    pub fn with_tokens(&self) -> WithTokens<'_> {
        WithTokens(self)
    }
}

/// An [`InviteReport`] that serializes its tokens: see [`InviteReport::with_tokens`].
#[derive(Debug, Clone, Copy)]
pub struct WithTokens<'a>(&'a InviteReport);

impl Serialize for WithTokens<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(flatten)]
            row: &'a InviteRow,
            #[serde(skip_serializing_if = "Option::is_none")]
            token: Option<String>,
        }
        #[derive(Serialize)]
        struct Report<'a> {
            rows: Vec<Row<'a>>,
            delivery: &'a DeliveryReport,
        }
        let rows = self
            .0
            .rows
            .iter()
            .map(|row| Row {
                row,
                token: row.outcome.token().map(InvitationToken::expose_secret),
            })
            .collect();
        Report {
            rows,
            delivery: &self.0.delivery,
        }
        .serialize(serializer)
    }
}

/// Budgets of the configured limits for this call: `None` is unlimited.
struct Budgets {
    per_inviter: Option<(u32, u64)>,
    pending: Option<(u32, u64)>,
}

impl Budgets {
    /// Whether one more send fits, and if so takes it. `fresh` says whether the send adds a new
    /// pending invitation. Every send costs the inviter one unit, a refresh as much as a first
    /// send: the window counts the emails each inviter sent.
    fn take(&mut self, fresh: bool) -> Result<(), LimitKind> {
        if let Some((limit, 0)) = self.per_inviter {
            return Err(LimitKind::InvitationsPerInviterPerDay { limit });
        }
        if let Some((limit, left)) = self.pending
            && fresh
            && left == 0
        {
            return Err(LimitKind::PendingInvitationsPerProject { limit });
        }
        if let Some((_, left)) = &mut self.per_inviter {
            *left -= 1;
        }
        if let Some((_, left)) = &mut self.pending
            && fresh
        {
            *left -= 1;
        }
        Ok(())
    }
}

impl Roster {
    /// Invites each address of `requests` to `project` with its role, in one atomic change.
    ///
    /// Rows are checked one by one and each gets an [`InviteOutcome`]; rows that pass are applied
    /// together, rows that fail change nothing. Inviting an address with a pending invitation
    /// refreshes it (one pending invitation per project and address). Only an Administrator of the
    /// project or an administrator of its account may invite, and never to a role above their own.
    ///
    /// The tokens are in the outcome and in the notices, which are queued in the same change and
    /// sent right after it commits.
    ///
    /// Errors (for the whole call): [`RosterError::NotFound`], [`RosterError::Forbidden`],
    /// [`RosterError::LimitReached`] with [`LimitKind::RowsPerInvite`].
    #[tracing::instrument(skip_all, fields(actor = %actor, project = %project, rows = requests.len()))]
    pub async fn invite(
        &self,
        actor: UserId,
        project: ProjectId,
        requests: &[InviteRequest],
    ) -> Result<InviteReport, RosterError> {
        let limit = self.config().limits.rows_per_invite;
        if requests.len() > limit {
            return Err(RosterError::LimitReached(LimitKind::RowsPerInvite {
                limit,
            }));
        }
        let now = self.now();
        let limits = &self.config().limits;
        let window_start = sending_window_start(now);
        // Sort out what the request alone settles, so the store is asked about every address
        // to invite at once, along with everything else the decision reads.
        let mut seen = HashSet::new();
        let mut languages = Vec::with_capacity(requests.len());
        let screened: Vec<Screened> = requests
            .iter()
            .map(|row| {
                let language = row.language.as_deref().map(language_tag).transpose();
                let screened = match (Email::parse(&row.email), &language) {
                    (Err(error), _) => Screened::Invalid(error),
                    (Ok(_), Err(())) => Screened::BadLanguage,
                    (Ok(email), Ok(_)) if !seen.insert(email.canonical().to_owned()) => {
                        Screened::Duplicate
                    }
                    (Ok(email), Ok(_)) => Screened::Asked(email),
                };
                languages.push(language.ok().flatten());
                screened
            })
            .collect();
        let query = InviteQuery {
            project,
            actor,
            emails: screened
                .iter()
                .filter_map(|row| match row {
                    Screened::Asked(email) => Some(email.clone()),
                    _ => None,
                })
                .collect(),
            sent_since: limits.invitations_per_inviter_per_day.map(|_| window_start),
            pending_at: limits.pending_invitations_per_project.map(|_| now),
        };
        let roster = self.clone();
        // Each row with its language as validated (a canonical tag), never as typed.
        let requests: Vec<InviteRequest> = requests
            .iter()
            .zip(languages)
            .map(|(row, language)| InviteRequest {
                language,
                ..row.clone()
            })
            .collect();
        let (mut report, sent) = self
            .run_and_deliver(Read::Invite(query), move |snapshot| {
                let Snapshot::Invite(context) = snapshot else {
                    return Err(super::wrong_snapshot());
                };
                let context = context.ok_or(RosterError::NotFound(Entity::Project))?;
                roster.plan_invite(actor, &requests, &screened, context, now)
            })
            .await?;
        for row in &mut report.rows {
            if let InviteOutcome::Invited { invitation, .. }
            | InviteOutcome::Refreshed { invitation, .. } = &row.outcome
            {
                row.delivery = sent.status_of(invitation.id);
            }
        }
        report.delivery = sent.report;
        tracing::info!(sent = report.sent(), "invitations processed");
        Ok(report)
    }

    fn plan_invite(
        &self,
        actor: UserId,
        requests: &[InviteRequest],
        screened: &[Screened],
        context: InviteContext,
        now: DateTime<Utc>,
    ) -> Result<Plan<InviteReport>, RosterError> {
        let limits = &self.config().limits;
        let asked = screened
            .iter()
            .filter(|row| matches!(row, Screened::Asked(_)))
            .count();
        let roles = self.roles();
        let scope = ProjectScope::new(roles, context.project, Some(actor));
        let actor_role = policy::require_manager(roles, scope.actor_role)?;
        let inviter = scope.actor_user()?;
        let mut change = Change::on_project(scope.project.id, scope.project.version);
        let mut budgets = Budgets {
            per_inviter: self.inviter_budget(inviter, context.sent_by_actor, &mut change)?,
            pending: match limits.pending_invitations_per_project {
                Some(limit) => Some((limit, left(limit, context.pending_invitations)?)),
                None => None,
            },
        };

        if context.invitees.len() != asked {
            return Err(StoreError::backend(format!(
                "the store answered for {} addresses, asked about {asked}",
                context.invitees.len()
            ))
            .into());
        }
        let mut invitees = context.invitees.into_iter();
        let mut rows = Vec::with_capacity(requests.len());
        let mut outgoing = Vec::new();
        for (request, screened) in requests.iter().zip(screened) {
            let outcome = match screened {
                Screened::Invalid(error) => InviteOutcome::InvalidEmail(error.clone()),
                Screened::BadLanguage => InviteOutcome::InvalidLanguage,
                Screened::Duplicate => InviteOutcome::Duplicate,
                Screened::Asked(email) => {
                    let invitee = invitees.next().unwrap_or_default();
                    let allowed = policy::require_allowed_domain(&scope.account, email)
                        .and_then(|()| policy::require_grantable(roles, actor_role, request.role));
                    match allowed {
                        Ok(()) => {
                            let draft = InviteDraft {
                                scope: &scope,
                                inviter,
                                email,
                                role: request.role,
                                language: request.language.as_deref(),
                                now,
                            };
                            self.plan_row(draft, invitee, &mut budgets, &mut change, &mut outgoing)
                        }
                        Err(refusal) => InviteOutcome::refused(refusal, request.role),
                    }
                }
            };
            rows.push(InviteRow {
                email: request.email.clone(),
                outcome,
                delivery: None,
            });
        }
        Ok(Plan {
            change,
            outcome: InviteReport {
                rows,
                delivery: DeliveryReport::default(),
            },
            outgoing,
        })
    }

    /// What is left of the inviter's daily budget, `None` when unlimited, given how many
    /// invitations they sent within the window (`sent`, counted by the store when the limit is
    /// on). Adds the inviter's version to `change`: it serializes their invitations across
    /// projects, so two concurrent calls cannot both spend the last unit of the budget.
    pub(crate) fn inviter_budget(
        &self,
        inviter: &User,
        sent: Option<u64>,
        change: &mut Change,
    ) -> Result<Option<(u32, u64)>, RosterError> {
        let Some(limit) = self.config().limits.invitations_per_inviter_per_day else {
            return Ok(None);
        };
        change.expect.push(Expectation::UserVersion {
            user: inviter.id,
            version: inviter.version,
        });
        Ok(Some((limit, left(limit, sent)?)))
    }

    fn plan_row(
        &self,
        draft: InviteDraft<'_>,
        invitee: Invitee,
        budgets: &mut Budgets,
        change: &mut Change,
        outgoing: &mut Vec<Queued>,
    ) -> InviteOutcome {
        let InviteDraft {
            scope,
            inviter,
            email,
            role,
            language,
            now,
        } = draft;
        let Invitee {
            user,
            membership,
            pending: existing,
        } = invitee;
        if let (Some(user), Some(membership)) = (&user, membership) {
            return InviteOutcome::AlreadyMember {
                user: user.id,
                role: membership.role,
            };
        }
        let live = existing
            .as_ref()
            .filter(|inv| inv.effective_state(now) == InvitationState::Pending);
        if let Err(limit) = budgets.take(live.is_none()) {
            return InviteOutcome::LimitReached(limit);
        }

        let token = InvitationToken::generate(self.random());
        let expires_at = later(now, self.config().limits.invitation_lifetime);
        let notice_kind = notice_kind(user.as_ref());
        let refreshed = live.is_some();
        let invitation = match existing {
            Some(mut live) if refreshed => {
                live.role = role;
                live.invited_by = inviter.id;
                live.sent_at = now;
                live.expires_at = expires_at;
                live.token_hash = token.hash();
                live.sends += 1;
                if let Some(language) = language {
                    live.language = Some(language.to_owned());
                }
                change
                    .invitations
                    .push(InvitationWrite::Update(live.clone()));
                change.audit.push(self.event(
                    now,
                    Some(inviter.id),
                    scope,
                    AuditAction::InvitationResent {
                        invitation: live.id,
                        email: live.email.clone(),
                        role,
                    },
                ));
                live
            }
            stale => {
                // An expired invitation's language still says what the invitee reads.
                let language = language
                    .map(str::to_owned)
                    .or_else(|| stale.as_ref().and_then(|stale| stale.language.clone()));
                if let Some(stale) = stale {
                    change
                        .invitations
                        .push(InvitationWrite::Update(expire(stale.clone(), now)));
                    change.audit.push(self.event(
                        now,
                        None,
                        scope,
                        AuditAction::InvitationExpired {
                            invitation: stale.id,
                            email: stale.email,
                        },
                    ));
                }
                // An address with no user yet gets none: the invitation carries the address, and
                // the user is made when the invitee accepts or signs up (one row fewer per
                // invitation).
                let invitation = Invitation {
                    id: InvitationId::generate(now, self.random()),
                    project: scope.project.id,
                    email: email.clone(),
                    role,
                    invited_by: inviter.id,
                    state: InvitationState::Pending,
                    created_at: now,
                    sent_at: now,
                    expires_at,
                    closed_at: None,
                    token_hash: token.hash(),
                    sends: 1,
                    language,
                };
                change
                    .invitations
                    .push(InvitationWrite::Insert(invitation.clone()));
                change.audit.push(self.event(
                    now,
                    Some(inviter.id),
                    scope,
                    AuditAction::InvitationSent {
                        invitation: invitation.id,
                        email: email.clone(),
                        role,
                    },
                ));
                invitation
            }
        };
        let notice = notice_for(self.roles(), scope, &invitation, inviter, notice_kind);
        outgoing.push(self.enqueue(change, notice, Some(token.clone()), now));
        if refreshed {
            InviteOutcome::Refreshed {
                invitation,
                token,
                notice: notice_kind,
            }
        } else {
            InviteOutcome::Invited {
                invitation,
                token,
                notice: notice_kind,
            }
        }
    }
}

/// A row sorted before the store is asked: settled by its address alone, or asked about.
enum Screened {
    Invalid(EmailError),
    BadLanguage,
    Duplicate,
    Asked(Email),
}

/// The longest language tag accepted: BCP 47's practical maximum for a language, script, region
/// and a variant, far above anything a template set uses.
const MAX_LANGUAGE_TAG: usize = 35;

/// `tag` as a canonical BCP 47 language identifier (`PT-br` becomes `pt-BR`), or `Err` for
/// anything else: too long, not a tag, or carrying characters no tag has (NUL, CR/LF, markup).
fn language_tag(tag: &str) -> Result<String, ()> {
    if tag.is_empty() || tag.len() > MAX_LANGUAGE_TAG {
        return Err(());
    }
    icu_locale_core::LanguageIdentifier::try_from_str(tag)
        .map(|identifier| identifier.to_string())
        .map_err(drop)
}

/// What is left of `limit` once `used` is spent. The store counts whenever a limit is on; a
/// count missing then is a store breaking its contract, not a reason to stop limiting.
fn left(limit: u32, used: Option<u64>) -> Result<u64, RosterError> {
    let used =
        used.ok_or_else(|| StoreError::backend("the store left out a count it was asked for"))?;
    Ok(u64::from(limit).saturating_sub(used))
}

struct InviteDraft<'a> {
    scope: &'a ProjectScope,
    inviter: &'a User,
    email: &'a Email,
    role: Role,
    language: Option<&'a str>,
    now: DateTime<Utc>,
}

/// Where the rolling 24 hours of the per-inviter limit begin.
pub(crate) fn sending_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    earlier(now, Duration::hours(24))
}

/// Which notice an invitation to `user`'s address is: an access notice for a registered user, an
/// invitation to create a password for anyone else.
pub(crate) fn notice_kind(user: Option<&User>) -> NoticeKind {
    if user.is_some_and(User::is_registered) {
        NoticeKind::AccessGranted
    } else {
        NoticeKind::Invitation
    }
}

/// Closes a stored-`Pending` invitation that is past its expiry.
pub(crate) fn expire(mut invitation: Invitation, now: DateTime<Utc>) -> Invitation {
    invitation.state = InvitationState::Expired;
    invitation.closed_at = Some(invitation.expires_at.min(now));
    invitation
}

/// The notice announcing `invitation`.
pub(crate) fn notice_for(
    roles: &RoleCatalog,
    scope: &ProjectScope,
    invitation: &Invitation,
    sender: &User,
    kind: NoticeKind,
) -> Notice {
    Notice {
        kind,
        to: invitation.email.clone(),
        invitation: invitation.id,
        project: scope.project.id,
        project_name: scope.project.name.clone(),
        account_name: scope.account.name.clone(),
        role: invitation.role,
        role_name: roles
            .display_name_in(invitation.role, invitation.language.as_deref())
            .to_owned(),
        inviter: sender.email.clone(),
        sent_by: sender.id,
        expires_at: invitation.expires_at,
        send: invitation.sends,
        language: invitation.language.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::account::{Account, Project};
    use crate::config::{Limits, RosterConfig};
    use crate::id::AccountId;
    use crate::random::SeededRandom;
    use crate::service::tests::roster_on;
    use crate::store::{InviteContext, MockStore, ProjectContext};
    use crate::version::Version;

    /// A store whose `invite_context` answers a project administered by `admin` with
    /// `invitees` and `sent` whatever it was asked.
    fn answering(admin: &User, invitees: Vec<Invitee>, sent: Option<u64>) -> MockStore {
        let random = SeededRandom::new(3);
        let now = Utc::now();
        let account = Account {
            id: AccountId::generate(now, &random),
            name: "Acme".into(),
            administrators: vec![admin.id],
            created_at: now,
            allowed_domains: Vec::new(),
        };
        let project = Project {
            id: ProjectId::generate(now, &random),
            account: account.id,
            name: "Website".into(),
            created_at: now,
            version: Version::INITIAL,
        };
        let context = ProjectContext {
            project,
            account,
            actor: Some(admin.clone()),
            actor_membership: None,
        };
        let mut store = MockStore::new();
        store.expect_transact().returning(move |mut step| {
            step.decide(Snapshot::Invite(Some(InviteContext {
                project: context.clone(),
                invitees: invitees.clone(),
                sent_by_actor: sent,
                pending_invitations: None,
            })))?;
            Ok(())
        });
        store
    }

    fn admin() -> User {
        User {
            id: UserId::generate(Utc::now(), &SeededRandom::new(4)),
            email: Email::parse("admin@example.com").unwrap(),
            registered_at: Some(Utc::now()),
            created_at: Utc::now(),
            version: Version::INITIAL,
        }
    }

    fn rows(addresses: &[&str]) -> Vec<InviteRequest> {
        addresses
            .iter()
            .map(|address| InviteRequest::new(*address, Role::USER))
            .collect()
    }

    /// A store answering for fewer or more addresses than asked is refused before anything is
    /// decided.
    #[tokio::test]
    async fn a_store_answering_for_other_addresses_than_asked_is_refused() {
        let admin = admin();
        for answered in [1, 3] {
            let store = answering(&admin, vec![Invitee::default(); answered], None);
            let roster = roster_on(store, RosterConfig::default());
            let error = roster
                .invite(
                    admin.id,
                    ProjectId::generate(Utc::now(), &SeededRandom::new(5)),
                    &rows(&["a@example.com", "b@example.com"]),
                )
                .await
                .unwrap_err();
            assert!(
                matches!(error, RosterError::Store(StoreError::Backend { .. })),
                "{answered} answers for 2 addresses: {error:?}"
            );
        }
    }

    /// With the per-inviter limit on, a store that leaves out the count is refused rather than
    /// taken to mean nothing was sent.
    #[tokio::test]
    async fn a_store_leaving_out_a_count_it_was_asked_for_is_refused() {
        let admin = admin();
        let store = answering(&admin, vec![Invitee::default()], None);
        let config = RosterConfig::default()
            .limits(Limits::default().invitations_per_inviter_per_day(Some(5)));
        let error = roster_on(store, config)
            .invite(
                admin.id,
                ProjectId::generate(Utc::now(), &SeededRandom::new(5)),
                &rows(&["a@example.com"]),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, RosterError::Store(StoreError::Backend { .. })),
            "{error:?}"
        );
    }
}

#[cfg(test)]
mod json_tests {
    use serde_json::json;

    use super::*;
    use crate::email::EmailError;
    use crate::random::SeededRandom;

    fn invitation() -> Invitation {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let random = SeededRandom::new(3);
        Invitation {
            id: InvitationId::generate(now, &random),
            project: crate::id::ProjectId::generate(now, &random),
            email: Email::parse("ann@example.com").unwrap(),
            role: Role::USER,
            invited_by: UserId::generate(now, &random),
            state: InvitationState::Pending,
            created_at: now,
            sent_at: now,
            expires_at: now,
            closed_at: None,
            token_hash: crate::token::TokenHash::from_bytes([0; 32]),
            sends: 1,
            language: None,
        }
    }

    fn report(token: &InvitationToken) -> InviteReport {
        let row = |email: &str, outcome| InviteRow {
            email: email.into(),
            outcome,
            delivery: None,
        };
        InviteReport {
            rows: vec![
                InviteRow {
                    delivery: Some(DeliveryStatus::Queued),
                    ..row(
                        "ann@example.com",
                        InviteOutcome::Invited {
                            invitation: invitation(),
                            token: token.clone(),
                            notice: NoticeKind::Invitation,
                        },
                    )
                },
                row("x@@y", InviteOutcome::InvalidEmail(EmailError::MultipleAt)),
                row(
                    "boss@example.com",
                    InviteOutcome::RoleNotAllowed {
                        role: Role::ACCOUNT_ADMINISTRATOR,
                    },
                ),
                row(
                    "many@example.com",
                    InviteOutcome::LimitReached(LimitKind::PendingInvitationsPerProject {
                        limit: 3,
                    }),
                ),
                row("dup@example.com", InviteOutcome::Duplicate),
            ],
            delivery: DeliveryReport {
                retrying: 1,
                ..DeliveryReport::default()
            },
        }
    }

    /// Every row is one flat object tagged by its outcome; the token is left out unless asked
    /// for, and then only on the rows that have one.
    #[test]
    fn reports_serialize_flat_and_without_tokens() {
        let token = InvitationToken::generate(&SeededRandom::new(9));
        let report = report(&token);
        let value = serde_json::to_value(&report).unwrap();
        let rows = value["rows"].as_array().unwrap();
        assert_eq!(rows[0]["outcome"], "invited");
        assert_eq!(rows[0]["email"], "ann@example.com");
        assert_eq!(rows[0]["notice"], "invitation");
        assert_eq!(rows[0]["delivery"], "queued");
        assert_eq!(rows[0]["invitation"]["role"], "user");
        assert_eq!(
            rows[1],
            json!({"email": "x@@y", "outcome": "invalid_email", "code": "multiple_at"})
        );
        assert_eq!(
            rows[2],
            json!({"email": "boss@example.com", "outcome": "role_not_allowed", "role": "account_administrator"})
        );
        assert_eq!(
            rows[3],
            json!({"email": "many@example.com", "outcome": "limit_reached",
                   "limit_kind": "pending_invitations_per_project", "limit": 3})
        );
        assert_eq!(
            rows[4],
            json!({"email": "dup@example.com", "outcome": "duplicate"})
        );
        assert_eq!(value["delivery"]["retrying"], 1);
        let text = value.to_string();
        assert!(!text.contains(&token.expose_secret()), "{text}");

        let with = serde_json::to_value(report.with_tokens()).unwrap();
        assert_eq!(with["rows"][0]["token"], token.expose_secret());
        assert!(with["rows"][1].get("token").is_none());
        assert_eq!(with["rows"][0]["outcome"], "invited");
    }

    #[test]
    fn requests_deserialize_with_an_optional_language() {
        let rows: Vec<InviteRequest> = serde_json::from_value(json!([
            {"email": "ann@example.com", "role": "user"},
            {"email": "bo@example.com", "role": "administrator", "language": "de"}
        ]))
        .unwrap();
        assert_eq!(rows[0], InviteRequest::new("ann@example.com", Role::USER));
        assert_eq!(rows[1].language.as_deref(), Some("de"));
        assert!(
            serde_json::from_value::<InviteRequest>(json!({"email": "a@b.c", "role": "Root"}))
                .is_err()
        );
    }

    #[test]
    fn a_page_request_defaults_every_field() {
        let page: crate::PageRequest<UserId> = serde_json::from_value(json!({})).unwrap();
        assert_eq!(page, crate::PageRequest::first(crate::DEFAULT_PAGE_SIZE));
        let page: crate::PageRequest<UserId> = serde_json::from_value(json!({"limit": 5})).unwrap();
        assert_eq!(page.limit, 5);
    }
}
