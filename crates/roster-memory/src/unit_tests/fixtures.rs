//! Records for the unit tests: a seeded world of one account, one project and one inviter.

use chrono::{DateTime, Duration, Utc};
use roster::StoreExt;
use roster::store::{InvitationWrite, MembershipWrite, UserWrite};
use roster::{
    Account, AccountId, Change, DeliveryStatus, Email, Invitation, InvitationId, InvitationState,
    Membership, Notice, NoticeId, NoticeKind, OutboxEntry, Project, ProjectId, Role, SeededRandom,
    TokenHash, User, UserId, Version,
};

use crate::InMemoryStore;

pub(crate) fn now() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

pub(crate) fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

/// A store holding one account, one project (version 0) and its Administrator.
pub(crate) struct World {
    pub(crate) store: InMemoryStore,
    pub(crate) random: SeededRandom,
    pub(crate) account: AccountId,
    pub(crate) project: ProjectId,
    pub(crate) admin: UserId,
}

impl World {
    pub(crate) async fn new() -> World {
        let random = SeededRandom::new(7);
        let store = InMemoryStore::new();
        let admin = User {
            id: UserId::generate(now(), &random),
            email: email("admin@example.com"),
            registered_at: Some(now()),
            created_at: now(),
            version: Version::INITIAL,
        };
        let account = Account {
            id: AccountId::generate(now(), &random),
            name: "Acme".into(),
            administrators: vec![admin.id],
            created_at: now(),
            allowed_domains: Vec::new(),
        };
        let project = Project {
            id: ProjectId::generate(now(), &random),
            account: account.id,
            name: "Website".into(),
            created_at: now(),
            version: Version::INITIAL,
        };
        let (account_id, project_id, admin_id) = (account.id, project.id, admin.id);
        let change = Change {
            accounts: vec![roster::store::AccountWrite::Insert(account)],
            projects: vec![project],
            users: vec![UserWrite::Insert {
                user: admin,
                password: None,
            }],
            memberships: vec![MembershipWrite::Insert(Membership {
                project: project_id,
                user: admin_id,
                role: Role::ADMINISTRATOR,
                invited_by: None,
                since: now(),
            })],
            ..Change::default()
        };
        store.apply(change).await.unwrap();
        World {
            store,
            random,
            account: account_id,
            project: project_id,
            admin: admin_id,
        }
    }

    /// A change guarded by the project's current version.
    pub(crate) async fn change(&self) -> Change {
        let project = self.store.project(self.project).await.unwrap().unwrap();
        Change::on_project(self.project, project.version)
    }

    /// A pending invitation of `to` sent now by the admin, expiring in a week, with token `seed`.
    pub(crate) fn invitation(&self, to: &str, seed: u8) -> Invitation {
        Invitation {
            id: InvitationId::generate(now(), &self.random),
            project: self.project,
            email: email(to),
            role: Role::USER,
            invited_by: self.admin,
            state: InvitationState::Pending,
            created_at: now(),
            sent_at: now(),
            expires_at: now() + Duration::days(7),
            closed_at: None,
            token_hash: TokenHash::from_bytes([seed; 32]),
            sends: 1,
            language: None,
        }
    }

    /// Applies one invitation insert on the current version.
    pub(crate) async fn insert_invitation(&self, invitation: &Invitation) {
        let mut change = self.change().await;
        change
            .invitations
            .push(InvitationWrite::Insert(invitation.clone()));
        self.store.apply(change).await.unwrap();
    }

    /// A queued notice about `invitation`, due now.
    pub(crate) fn notice(&self, invitation: &Invitation) -> OutboxEntry {
        OutboxEntry {
            id: NoticeId::generate(now(), &self.random),
            notice: Notice {
                kind: NoticeKind::Invitation,
                to: invitation.email.clone(),
                invitation: invitation.id,
                project: self.project,
                project_name: "Website".into(),
                account_name: "Acme".into(),
                role: invitation.role,
                role_name: invitation.role.to_string(),
                inviter: email("admin@example.com"),
                sent_by: invitation.invited_by,
                expires_at: invitation.expires_at,
                send: invitation.sends,
                language: invitation.language.clone(),
            },
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: now(),
            last_error: None,
            created_at: now(),
            finished_at: None,
        }
    }

    pub(crate) async fn version(&self) -> Version {
        self.store
            .project(self.project)
            .await
            .unwrap()
            .unwrap()
            .version
    }
}
