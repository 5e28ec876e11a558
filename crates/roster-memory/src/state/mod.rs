//! Every table of the store and the reads that join them.
//!
//! Each table keeps its own indexes consistent through two primitive writes, `put` (or `insert`)
//! and `take` (or `remove`); [`crate::undo`] reverts a change with the same primitives, so the
//! indexes cannot drift from the rows.

mod accounts;
mod audit;
mod invitations;
mod memberships;
mod outbox;
mod projects;
mod users;

pub(crate) use accounts::Accounts;
pub(crate) use audit::AuditTrail;
pub(crate) use invitations::Invitations;
pub(crate) use memberships::Memberships;
pub(crate) use outbox::Outbox;
pub(crate) use projects::Projects;
pub(crate) use users::{UserRow, Users};

use std::collections::BTreeSet;

use roster::store::Member;
use roster::{Account, AccountId, ProjectId, UserId};

/// The whole content of an [`InMemoryStore`](crate::InMemoryStore), behind its one lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) accounts: Accounts,
    pub(crate) projects: Projects,
    pub(crate) users: Users,
    pub(crate) memberships: Memberships,
    pub(crate) invitations: Invitations,
    pub(crate) audit: AuditTrail,
    pub(crate) outbox: Outbox,
}

impl State {
    /// Up to `limit` members of `project` after the cursor, with their users, in user id order.
    pub(crate) fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Vec<Member> {
        self.memberships
            .of_project(project, after)
            .filter_map(|membership| {
                let row = self.users.get(membership.user)?;
                Some(Member {
                    membership: membership.clone(),
                    user: row.user.clone(),
                })
            })
            .take(limit)
            .collect()
    }

    /// The accounts `user` administers or owns a project `user` is a member of, in id order.
    pub(crate) fn accounts_of_user(&self, user: UserId) -> Vec<Account> {
        let via_projects = self
            .memberships
            .projects_of(user)
            .filter_map(|project| self.projects.get(project).map(|p| p.account));
        let ids: BTreeSet<AccountId> = self
            .accounts
            .administered_by(user)
            .chain(via_projects)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.accounts.get(id).cloned())
            .collect()
    }
}
