//! The invariants checked against the store after every step, and the comparison of the store's
//! state with the model's.

use roster::StoreExt;
use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::store::{InvitationQuery, OutboxQuery};
use roster::{AuditAction, InvitationState, NoticeKind, Role, RosterError, UserId};

use super::reference::POOL;
use super::world::{ALL, Checked, OrFail, World};

/// The name the model records for an audit action.
fn action_name(action: &AuditAction) -> &'static str {
    match action {
        AuditAction::AccountCreated { .. } => "AccountCreated",
        AuditAction::ProjectCreated { .. } => "ProjectCreated",
        AuditAction::InvitationSent { .. } => "InvitationSent",
        AuditAction::InvitationResent { .. } => "InvitationResent",
        AuditAction::InvitationAccepted { .. } => "InvitationAccepted",
        AuditAction::InvitationDeclined { .. } => "InvitationDeclined",
        AuditAction::InvitationRevoked { .. } => "InvitationRevoked",
        AuditAction::InvitationExpired { .. } => "InvitationExpired",
        AuditAction::RoleChanged { .. } => "RoleChanged",
        AuditAction::MemberRemoved { .. } => "MemberRemoved",
        AuditAction::MemberLeft { .. } => "MemberLeft",
        _ => "unknown",
    }
}

impl World {
    /// Every invariant, against the store, after every step.
    pub async fn check(&mut self) -> Checked {
        // Delivery records ride along with the next command; write them before reading back.
        self.roster.flush().await.or_fail("flush")?;
        self.check_people().await?;
        self.check_sends().await?;
        self.harvest_notices()?;
        for project in 0..self.projects.len() {
            self.check_project(project).await?;
            self.check_members(project).await?;
            self.check_invitations(project).await?;
            self.check_outbox(project).await?;
        }
        self.check_tokens().await
    }

    /// Each person's invitation emails inside the daily window, as the store counts them for
    /// the per-inviter limit, are the ones the model saw them send.
    async fn check_sends(&self) -> Checked {
        let since = self.model.now - chrono::Duration::hours(24);
        for (person, id) in self.ids.iter().enumerate() {
            let Some(id) = *id else { continue };
            let stored = self
                .store
                .count_sends_by(id, since)
                .await
                .or_fail("sends")?;
            let expected = self
                .model
                .sends
                .iter()
                .filter(|(by, at)| *by == person && *at >= since)
                .count() as u64;
            prop_assert_eq!(stored, expected, "sends of {} in the window", POOL[person]);
        }
        Ok(())
    }

    /// User records exist and are registered as the model says; learns new users' ids.
    async fn check_people(&mut self) -> Checked {
        for (person, address) in POOL.iter().enumerate() {
            let email = &self.emails[person];
            let user = self.store.user_by_email(email).await.or_fail("user")?;
            let expected = &self.model.people[person];
            prop_assert_eq!(
                user.is_some(),
                expected.exists,
                "user record of {}",
                address
            );
            if let Some(user) = user {
                prop_assert_eq!(
                    user.is_registered(),
                    expected.registered,
                    "registration of {}",
                    address
                );
                prop_assert!(self.ids[person].is_none_or(|id| id == user.id));
                self.ids[person] = Some(user.id);
            }
        }
        Ok(())
    }

    /// Every notice the notifier received was predicted; tokens delivered by redeliveries are
    /// the ones that now open their invitations.
    fn harvest_notices(&mut self) -> Checked {
        let messages = self.notifier.messages();
        prop_assert_eq!(messages.len(), self.model.delivered, "notices delivered");
        prop_assert_eq!(
            self.notifier.attempts(),
            self.model.send_attempts,
            "send attempts"
        );
        let known: HashMap<_, _> = self
            .model
            .invitations
            .iter()
            .enumerate()
            .filter_map(|(index, inv)| inv.id.map(|id| (id, index)))
            .collect();
        for message in &messages[self.messages_seen..] {
            let carries = message.notice.kind.carries_link();
            prop_assert_eq!(
                message.token.is_some(),
                carries,
                "token in {:?}",
                message.notice.kind
            );
            let invitation = *known.get(&message.notice.invitation).or_fail("notice")?;
            let invitee = POOL[self.model.invitations[invitation].person];
            prop_assert_eq!(message.notice.to.canonical(), invitee, "notice recipient");
            if message.token.is_some() {
                let inv = &self.model.invitations[invitation];
                prop_assert_eq!(
                    (message.notice.role, message.notice.expires_at),
                    (inv.role, inv.expires_at),
                    "a delivered link announces what it opens"
                );
            }
            // Tokens of invite and resend outcomes are bound already; a new one comes from a
            // redelivery, and the last one delivered for an invitation is the one that works.
            if let Some(token) = &message.token
                && !self.token_index.contains_key(&token.hash())
            {
                self.bind(invitation, token.clone());
            }
        }
        self.messages_seen = messages.len();
        Ok(())
    }

    async fn check_project(&self, project: usize) -> Checked {
        let id = self.projects[project];
        let model = &self.model.projects[project];
        let stored = self.store.project(id).await.or_fail("project")?;
        prop_assert_eq!(
            stored.or_fail("project")?.version.0,
            model.version,
            "version"
        );
        let events = self
            .store
            .audit_events(id, None, ALL)
            .await
            .or_fail("audit")?;
        let actual: Vec<_> = events
            .iter()
            .map(|event| (event.at, action_name(&event.action)))
            .collect();
        prop_assert_eq!(&actual, &model.audit, "audit trail of project {}", project);
        prop_assert!(events.iter().all(|event| event.project == Some(id)));
        Ok(())
    }

    async fn check_members(&self, project: usize) -> Checked {
        let id = self.projects[project];
        let members = self.store.members(id, None, ALL).await.or_fail("members")?;
        let actual: BTreeMap<UserId, Role> = members
            .iter()
            .map(|member| (member.user.id, member.membership.role))
            .collect();
        prop_assert_eq!(actual.len(), members.len(), "one membership per user");
        let expected: BTreeMap<UserId, Role> = self.model.projects[project]
            .members
            .iter()
            .map(|(person, role)| (self.user_id(*person), *role))
            .collect();
        prop_assert_eq!(&actual, &expected, "members of project {}", project);
        let roles = &self.model.roles;
        prop_assert!(
            actual
                .values()
                .all(|role| roles.get(*role).is_some_and(|role| !role.account)),
            "a membership carries an account-level or undeclared role"
        );
        let mut managers = 0;
        for role in roles
            .roles
            .iter()
            .filter(|role| role.manages && !role.account)
        {
            managers += self
                .store
                .count_members(id, role.key)
                .await
                .or_fail("count")?;
        }
        prop_assert!(
            managers >= 1,
            "project {} lost its last member managing members",
            project
        );
        Ok(())
    }

    async fn check_invitations(&self, project: usize) -> Checked {
        let now = self.model.now;
        let query = InvitationQuery {
            project: self.projects[project],
            state: None,
            now,
            after: None,
            limit: ALL,
        };
        let stored = self
            .store
            .invitations(&query)
            .await
            .or_fail("invitations")?;
        let mut pending: HashMap<String, usize> = HashMap::new();
        let mut stored_pending: HashMap<String, usize> = HashMap::new();
        for inv in &stored {
            let canonical = inv.email.canonical().to_owned();
            if inv.effective_state(now) == InvitationState::Pending {
                *pending.entry(canonical.clone()).or_default() += 1;
            }
            if inv.state == InvitationState::Pending {
                *stored_pending.entry(canonical).or_default() += 1;
            }
        }
        prop_assert!(
            pending.values().all(|n| *n <= 1),
            "two pending invitations: {:?}",
            pending
        );
        prop_assert!(
            stored_pending.values().all(|n| *n <= 1),
            "two stored pending: {:?}",
            stored_pending
        );

        let model: Vec<_> = self
            .model
            .invitations
            .iter()
            .filter(|inv| inv.project == project)
            .collect();
        prop_assert_eq!(
            stored.len(),
            model.len(),
            "invitations of project {}",
            project
        );
        for expected in model {
            let actual = stored
                .iter()
                .find(|inv| Some(inv.id) == expected.id)
                .or_fail("invitation in store")?;
            prop_assert_eq!(
                actual.state,
                expected.state,
                "stored state of {:?}",
                actual.id
            );
            prop_assert_eq!(actual.role, expected.role);
            prop_assert_eq!(actual.invited_by, self.user_id(expected.invited_by));
            prop_assert_eq!(actual.email.canonical(), POOL[expected.person]);
            prop_assert_eq!(actual.sent_at, expected.sent_at);
            prop_assert_eq!(actual.expires_at, expected.expires_at);
            prop_assert!(
                self.model
                    .roles
                    .get(actual.role)
                    .is_some_and(|role| !role.account),
                "invitation to an account-level or undeclared role"
            );
        }
        Ok(())
    }

    async fn check_outbox(&self, project: usize) -> Checked {
        let query = OutboxQuery {
            project: Some(self.projects[project]),
            limit: ALL,
            ..OutboxQuery::default()
        };
        let entries = self.store.outbox(&query).await.or_fail("outbox")?;
        let mut actual: Vec<(NoticeKind, String, u32)> = entries
            .iter()
            .map(|e| (e.notice.kind, e.status.as_str().to_owned(), e.attempts))
            .collect();
        let mut expected: Vec<(NoticeKind, String, u32)> = self
            .model
            .notices
            .iter()
            .filter(|n| n.project == project)
            .map(|n| (n.kind, n.status.as_str().to_owned(), n.attempts))
            .collect();
        let key = |e: &(NoticeKind, String, u32)| (format!("{:?}", e.0), e.1.clone(), e.2);
        actual.sort_by_key(key);
        expected.sort_by_key(key);
        prop_assert_eq!(
            actual,
            expected,
            "outbox of project {} (kind, status, attempts)",
            project
        );
        Ok(())
    }

    /// Every token opens what the model says: its invitation (in its current state) if it is the
    /// newest, nothing otherwise; and a spent token never opens a pending invitation again.
    async fn check_tokens(&self) -> Checked {
        let now = self.model.now;
        for (index, token) in self.tokens.iter().enumerate() {
            let inv = &self.model.invitations[self.model.token_owner[index]];
            // The store's lookup is what every token command starts with, and cheaper than
            // `preview`, which the spent tokens go through below.
            let opened = self
                .store
                .invitation_by_token(&token.hash())
                .await
                .or_fail("invitation_by_token")?;
            if inv.current_token == Some(index) {
                let opened = opened.or_fail("invitation of a current token")?;
                prop_assert_eq!(Some(opened.id), inv.id);
                prop_assert_eq!(opened.effective_state(now), inv.effective_state(now));
            } else {
                prop_assert!(
                    opened.is_none(),
                    "stale token {} opened {:?}",
                    index,
                    opened
                );
            }
        }
        for index in &self.spent {
            match self.roster.preview(&self.tokens[*index]).await {
                Err(RosterError::InvalidToken) => {}
                Ok(preview) => prop_assert!(
                    preview.state != InvitationState::Pending,
                    "a spent token opens a pending invitation"
                ),
                Err(other) => return Err(TestCaseError::fail(format!("preview: {other:?}"))),
            }
        }
        Ok(())
    }
}
