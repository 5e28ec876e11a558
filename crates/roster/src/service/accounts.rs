//! Users, sign-in, accounts and projects.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Plan, ProjectScope, Roster};

/// The most domains an account may restrict its invitations to.
pub const MAX_ALLOWED_DOMAINS: usize = 100;
use crate::account::{Account, Project};
use crate::audit::{AuditAction, AuditEvent};
use crate::email::Email;
use crate::error::{Denial, LimitKind, RosterError};
use crate::id::{AccountId, EventId, ProjectId, UserId};
use crate::membership::Membership;
use crate::password;
use crate::store::{AccountWrite, Change, Entity, Expectation, Read, Snapshot, UserWrite};
use crate::user::{PasswordHash, User};
use crate::version::Version;

const MAX_NAME_CHARS: usize = 200;

/// A successful sign-in: the user and the accounts they may pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// The user.
    pub user: User,
    /// The accounts the user may pick, in id order.
    pub accounts: Vec<Account>,
}

pub(crate) fn check_name(field: &'static str, name: &str) -> Result<String, RosterError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RosterError::InvalidName {
            field,
            reason: "must not be empty",
        });
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(RosterError::InvalidName {
            field,
            reason: "must be at most 200 characters",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(RosterError::InvalidName {
            field,
            reason: "must not contain control characters",
        });
    }
    // Names go into emails and pages: nothing that hides, reorders or breaks the text around it.
    if name.chars().any(|c| {
        use icu_properties::props::GeneralCategory;
        matches!(
            crate::email::chars::category(c),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
    }) {
        return Err(RosterError::InvalidName {
            field,
            reason: "must not contain invisible, direction-changing or line-separating characters",
        });
    }
    Ok(name.to_owned())
}

/// Runs slow password work (argon2 takes tens of milliseconds on purpose, far more in an
/// unoptimized build) off the async workers, so other tasks keep running meanwhile: on Tokio's
/// blocking pool inside a Tokio runtime (with the default `worker` feature), inline otherwise.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RosterError> {
    #[cfg(feature = "worker")]
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        return runtime
            .spawn_blocking(work)
            .await
            .map_err(|error| RosterError::PasswordHashing(Box::new(error)));
    }
    Ok(work())
}

impl Roster {
    /// Checks and hashes a password, off the async workers (see [`off_the_runtime`]).
    pub(crate) async fn hash_password(&self, password: &str) -> Result<PasswordHash, RosterError> {
        password::check_length(&self.config().passwords, password)?;
        let salt = password::salt(self.random());
        let policy = self.config().passwords.clone();
        let password = password.to_owned();
        off_the_runtime(move || password::hash_with_salt(&policy, salt, &password)).await?
    }

    /// Whether `password` matches `stored` (or, for `None`, spends the same work on a hash of
    /// no one's password and answers no), off the async workers.
    async fn verify_password(
        &self,
        stored: Option<PasswordHash>,
        password: &str,
    ) -> Result<bool, RosterError> {
        let roster = self.clone();
        let password = password.to_owned();
        off_the_runtime(move || match &stored {
            Some(stored) => password::verify(stored, &password),
            None => {
                // Spend the same work as a real check so timing does not reveal which
                // addresses are registered.
                password::verify(roster.dummy_hash(), &password);
                false
            }
        })
        .await
    }

    /// Registers a person with a password (sign-up outside any invitation). An address that was
    /// only invited so far becomes registered, keeping its pending invitations, which it can then
    /// accept as an existing user. Verifying that the person owns the address is the host
    /// service's business.
    ///
    /// Errors: [`RosterError::InvalidEmail`], [`RosterError::PasswordLength`],
    /// [`RosterError::EmailTaken`].
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, email: &str, password: &str) -> Result<User, RosterError> {
        let email = Email::parse(email)?;
        let hash = self.hash_password(password).await?;
        let roster = self.clone();
        let user = self
            .run(Read::Address(email.clone()), move |snapshot| {
                let Snapshot::Address(existing) = snapshot else {
                    return Err(super::wrong_snapshot());
                };
                if existing.as_ref().is_some_and(User::is_registered) {
                    return Err(RosterError::EmailTaken);
                }
                let mut change = Change::default();
                let user = roster.plan_registration(
                    existing,
                    email.clone(),
                    Some(hash.clone()),
                    roster.now(),
                    &mut change,
                );
                Ok(Plan::new(change, user))
            })
            .await?;
        tracing::info!(user = %user.id, "user registered");
        Ok(user)
    }

    /// Adds to `change` the registration of `email` at `now`: the unregistered user who has it
    /// (`existing`, only invited so far; guarded by their version) becomes registered, or a new
    /// user is made. The caller has refused an address already registered.
    pub(crate) fn plan_registration(
        &self,
        existing: Option<User>,
        email: Email,
        password: Option<PasswordHash>,
        now: DateTime<Utc>,
        change: &mut Change,
    ) -> User {
        match existing {
            Some(mut user) => {
                change.expect.push(Expectation::UserVersion {
                    user: user.id,
                    version: user.version,
                });
                user.registered_at = Some(now);
                change.users.push(UserWrite::Update {
                    user: user.clone(),
                    password,
                });
                user
            }
            None => {
                let user = User {
                    id: UserId::generate(now, self.random()),
                    email,
                    registered_at: Some(now),
                    created_at: now,
                    version: Version::INITIAL,
                };
                change.users.push(UserWrite::Insert {
                    user: user.clone(),
                    password,
                });
                user
            }
        }
    }

    /// Checks an address and password; returns the user and the accounts they may pick.
    ///
    /// Unknown addresses, users without a password and wrong passwords all answer
    /// [`RosterError::InvalidCredentials`], in about the same time.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<SignIn, RosterError> {
        let (user, stored) = match Email::parse(email) {
            Ok(email) => match self.store().credentials(&email).await? {
                Some((user, stored)) => (Some(user), stored),
                None => (None, None),
            },
            Err(_) => (None, None),
        };
        let verified = self.verify_password(stored, password).await?;
        let Some(user) = user.filter(|_| verified) else {
            tracing::info!("sign-in refused");
            return Err(RosterError::InvalidCredentials);
        };
        let accounts = self.store().accounts_of_user(user.id).await?;
        tracing::info!(user = %user.id, accounts = accounts.len(), "signed in");
        Ok(SignIn { user, accounts })
    }

    fn dummy_hash(&self) -> &PasswordHash {
        self.inner.dummy_hash.get_or_init(|| {
            password::hash(
                &self.config().passwords,
                self.random(),
                "roster-dummy-password",
            )
            .unwrap_or_else(|_| PasswordHash::from_phc(""))
        })
    }

    /// Creates an account; `actor` (a registered user) becomes its administrator.
    #[tracing::instrument(skip_all, fields(actor = %actor))]
    pub async fn create_account(&self, actor: UserId, name: &str) -> Result<Account, RosterError> {
        let name = check_name("account name", name)?;
        let roster = self.clone();
        let account = self
            .run(Read::User(actor), move |snapshot| {
                let Snapshot::User(user) = snapshot else {
                    return Err(super::wrong_snapshot());
                };
                let user = user.ok_or(RosterError::NotFound(Entity::User))?;
                if !user.is_registered() {
                    return Err(RosterError::NotRegistered);
                }
                let now = roster.now();
                let account = Account {
                    id: AccountId::generate(now, roster.random()),
                    name: name.clone(),
                    administrators: vec![actor],
                    created_at: now,
                    allowed_domains: Vec::new(),
                };
                let change = Change {
                    accounts: vec![AccountWrite::Insert(account.clone())],
                    audit: vec![AuditEvent {
                        id: EventId::generate(now, roster.random()),
                        at: now,
                        actor: Some(actor),
                        account: account.id,
                        project: None,
                        action: AuditAction::AccountCreated { name: name.clone() },
                    }],
                    ..Change::default()
                };
                Ok(Plan::new(change, account))
            })
            .await?;
        tracing::info!(account = %account.id, "account created");
        Ok(account)
    }

    /// Restricts the account's invitations to addresses at `domains` (compared in canonical
    /// form, so `Bücher.DE` and `xn--bcher-kva.de` are one domain); an empty list lifts the
    /// restriction. Only account administrators may. Audited as
    /// [`AuditAction::AllowedDomainsChanged`]; invitations already sent stay as they are, but
    /// are not resent to other domains.
    ///
    /// Errors: [`RosterError::InvalidDomain`] naming the first domain refused,
    /// [`RosterError::LimitReached`] past [`MAX_ALLOWED_DOMAINS`],
    /// [`RosterError::Forbidden`], [`RosterError::NotFound`].
    #[tracing::instrument(skip_all, fields(actor = %actor, account = %account))]
    pub async fn set_allowed_domains(
        &self,
        actor: UserId,
        account: AccountId,
        domains: &[&str],
    ) -> Result<Account, RosterError> {
        let mut canonical = Vec::with_capacity(domains.len());
        for domain in domains {
            let parsed =
                Email::canonical_domain(domain).map_err(|source| RosterError::InvalidDomain {
                    domain: (*domain).to_owned(),
                    source,
                })?;
            canonical.push(parsed);
        }
        canonical.sort();
        canonical.dedup();
        if canonical.len() > MAX_ALLOWED_DOMAINS {
            return Err(RosterError::LimitReached(LimitKind::AllowedDomains {
                limit: MAX_ALLOWED_DOMAINS,
            }));
        }
        let roster = self.clone();
        self.run(Read::Account(account), move |snapshot| {
            let Snapshot::Account(account) = snapshot else {
                return Err(super::wrong_snapshot());
            };
            let mut account = account.ok_or(RosterError::NotFound(Entity::Account))?;
            if !account.is_administrator(actor) {
                return Err(RosterError::Forbidden(Denial::NotAnAccountAdministrator));
            }
            if account.allowed_domains == canonical {
                return Ok(Plan::new(Change::default(), account));
            }
            let now = roster.now();
            let from = std::mem::replace(&mut account.allowed_domains, canonical.clone());
            let change = Change {
                accounts: vec![AccountWrite::Update(account.clone())],
                audit: vec![AuditEvent {
                    id: EventId::generate(now, roster.random()),
                    at: now,
                    actor: Some(actor),
                    account: account.id,
                    project: None,
                    action: AuditAction::AllowedDomainsChanged {
                        from,
                        to: canonical.clone(),
                    },
                }],
                ..Change::default()
            };
            Ok(Plan::new(change, account))
        })
        .await
    }

    /// Creates a project in an account. Only an account administrator may; they become its
    /// first member, holding the catalog's [top managing role](crate::RoleCatalog::top_manager_role)
    /// (Administrator, by default), so the project starts with a manager.
    #[tracing::instrument(skip_all, fields(actor = %actor, account = %account))]
    pub async fn create_project(
        &self,
        actor: UserId,
        account: AccountId,
        name: &str,
    ) -> Result<Project, RosterError> {
        let name = check_name("project name", name)?;
        let roster = self.clone();
        let project = self
            .run(Read::Account(account), move |snapshot| {
                let Snapshot::Account(account) = snapshot else {
                    return Err(super::wrong_snapshot());
                };
                let account = account.ok_or(RosterError::NotFound(Entity::Account))?;
                if !account.is_administrator(actor) {
                    return Err(RosterError::Forbidden(Denial::NotAnAccountAdministrator));
                }
                let now = roster.now();
                let project = Project {
                    id: ProjectId::generate(now, roster.random()),
                    account: account.id,
                    name: name.clone(),
                    created_at: now,
                    version: Version::INITIAL,
                };
                let scope = ProjectScope {
                    project: project.clone(),
                    account,
                    actor: None,
                    actor_role: Some(roster.roles().account_administrator_role()),
                };
                let change = Change {
                    projects: vec![project.clone()],
                    memberships: vec![crate::store::MembershipWrite::Insert(Membership {
                        project: project.id,
                        user: actor,
                        role: roster.roles().top_manager_role(),
                        invited_by: None,
                        since: now,
                    })],
                    audit: vec![roster.event(
                        now,
                        Some(actor),
                        &scope,
                        AuditAction::ProjectCreated { name: name.clone() },
                    )],
                    ..Change::default()
                };
                Ok(Plan::new(change, project))
            })
            .await?;
        tracing::info!(project = %project.id, "project created");
        Ok(project)
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;
    use crate::RosterError;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("n", "  Acme ").unwrap(), "Acme");
        assert!(matches!(
            check_name("n", "  "),
            Err(RosterError::InvalidName { .. })
        ));
        assert!(matches!(
            check_name("n", &"x".repeat(201)),
            Err(RosterError::InvalidName { .. })
        ));
        assert!(matches!(
            check_name("n", "a\r\nBcc: x"),
            Err(RosterError::InvalidName { .. })
        ));
        for hostile in [
            "Acme\u{2028}Inc",
            "\u{202e}emcA",
            "Ac\u{200b}me",
            "Ac\u{2029}me",
        ] {
            assert!(
                matches!(
                    check_name("n", hostile),
                    Err(RosterError::InvalidName { .. })
                ),
                "{hostile:?}"
            );
        }
        assert_eq!(check_name("n", "Müller & Söhne").unwrap(), "Müller & Söhne");
    }
}
