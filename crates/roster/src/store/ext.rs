//! [`StoreExt`]: conveniences every [`Store`] gets, built on its nine methods. Nobody implements
//! it; a wrapper that forwards the nine methods forwards these too.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Change, InvitationContext, InvitationKey, InviteContext, InviteQuery, ProjectContext, Read,
    Snapshot, Step, Store, StoreError,
};
use crate::account::{Account, Project};
use crate::email::Email;
use crate::id::{InvitationId, NoticeId, ProjectId, UserId};
use crate::invitation::Invitation;
use crate::membership::Membership;
use crate::notice::OutboxEntry;
use crate::role::Role;
use crate::token::TokenHash;
use crate::user::{PasswordHash, User};

/// Reads and writes built on [`Store`]: a read in a step that writes nothing, a change applied
/// as it is, and single records. Each read is one read-only [`Store::transact`], so it sees one
/// consistent snapshot of committed state (on SQLite, on a reader connection); listings and the
/// sign-in lookup are on [`Store`] itself.
///
/// ```
/// # async fn demo(store: &dyn roster::Store, id: roster::UserId) -> Result<(), roster::StoreError> {
/// use roster::store::StoreExt;
///
/// if let Some(user) = store.user(id).await? {
///     println!("{} is registered: {}", user.email, user.is_registered());
/// }
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait StoreExt: Store {
    /// What `read` finds now, in a step that writes nothing.
    async fn read(&self, read: Read) -> Result<Snapshot, StoreError> {
        let seen: Arc<Mutex<Option<Snapshot>>> = Arc::default();
        let kept = seen.clone();
        let step = Step::read_only(read, move |snapshot| {
            *kept.lock().unwrap_or_else(PoisonError::into_inner) = Some(snapshot);
        });
        self.transact(step).await?;
        let snapshot = seen.lock().unwrap_or_else(PoisonError::into_inner).take();
        snapshot.ok_or_else(|| StoreError::backend("the store did not run the step's decision"))
    }

    /// Applies `change` as it is (its expectations checked), whatever is stored.
    async fn apply(&self, change: Change) -> Result<(), StoreError> {
        self.transact(Step::write(change)).await
    }

    /// The account with this id.
    async fn account(&self, id: crate::id::AccountId) -> Result<Option<Account>, StoreError> {
        match self.read(Read::Account(id)).await? {
            Snapshot::Account(account) => Ok(account),
            _ => Err(mismatch()),
        }
    }

    /// The project with its account, and the acting user with their membership in it; `None`
    /// if the project or its account does not exist.
    async fn project_context(
        &self,
        project: ProjectId,
        actor: Option<UserId>,
    ) -> Result<Option<ProjectContext>, StoreError> {
        match self.read(Read::Project { project, actor }).await? {
            Snapshot::Project(context) => Ok(context),
            _ => Err(mismatch()),
        }
    }

    /// The project with this id, with its current version (`None` also if its account is gone).
    async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        Ok(self
            .project_context(id, None)
            .await?
            .map(|context| context.project))
    }

    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        match self.read(Read::User(id)).await? {
            Snapshot::User(user) => Ok(user),
            _ => Err(mismatch()),
        }
    }

    /// The user whose address has the same canonical form as `email`.
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        match self.read(Read::Address(email.clone())).await? {
            Snapshot::Address(user) => Ok(user),
            _ => Err(mismatch()),
        }
    }

    /// The password hash of a user, if they have set a password.
    async fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>, StoreError> {
        let Some(user) = self.user(user).await? else {
            return Ok(None);
        };
        Ok(self
            .credentials(&user.email)
            .await?
            .and_then(|(_, password)| password))
    }

    /// The membership of `user` in `project` (`None` also if the project is gone).
    async fn membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError> {
        let read = Read::Member {
            project,
            actor: user,
            member: user,
            managers: Vec::new(),
        };
        match self.read(read).await? {
            Snapshot::Member(context) => Ok(context.and_then(|context| context.member)),
            _ => Err(mismatch()),
        }
    }

    /// How many members of `project` hold exactly `role` (a walk over [`Store::members`]).
    async fn count_members(&self, project: ProjectId, role: Role) -> Result<u64, StoreError> {
        const PAGE: usize = 500;
        let (mut count, mut after) = (0, None);
        loop {
            let page = self.members(project, after, PAGE).await?;
            count += page
                .iter()
                .filter(|member| member.membership.role == role)
                .count() as u64;
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.user.id),
                _ => return Ok(count),
            }
        }
    }

    /// The invitation `key` finds with its people, for `actor`; `None` if nothing is found or
    /// its project is gone.
    async fn invitation_context(
        &self,
        key: InvitationKey,
        actor: Option<UserId>,
    ) -> Result<Option<InvitationContext>, StoreError> {
        let read = Read::Invitation {
            key,
            actor,
            sent_since: None,
        };
        match self.read(read).await? {
            Snapshot::Invitation { context, .. } => Ok(context),
            _ => Err(mismatch()),
        }
    }

    /// The invitation with this id.
    async fn invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        Ok(self
            .invitation_context(InvitationKey::Id(id), None)
            .await?
            .map(|context| context.invitation))
    }

    /// The invitation whose current token has this hash. Rotated-away hashes find nothing.
    async fn invitation_by_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Invitation>, StoreError> {
        Ok(self
            .invitation_context(InvitationKey::Token(*hash), None)
            .await?
            .map(|context| context.invitation))
    }

    /// Everything a bulk invite reads.
    async fn invite_context(
        &self,
        query: InviteQuery,
    ) -> Result<Option<InviteContext>, StoreError> {
        match self.read(Read::Invite(query)).await? {
            Snapshot::Invite(context) => Ok(context),
            _ => Err(mismatch()),
        }
    }

    /// The invitation of `project` for `email` whose stored state is `Pending`, expired in
    /// effect or not.
    async fn pending_invitation(
        &self,
        project: ProjectId,
        email: &Email,
    ) -> Result<Option<Invitation>, StoreError> {
        let query = InviteQuery {
            project,
            actor: nobody(),
            emails: vec![email.clone()],
            sent_since: None,
            pending_at: None,
        };
        Ok(self
            .invite_context(query)
            .await?
            .and_then(|context| context.invitees.into_iter().next())
            .and_then(|invitee| invitee.pending))
    }

    /// How many invitations of `project` are pending in effect at `now`.
    async fn count_pending_invitations(
        &self,
        project: ProjectId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let query = InviteQuery {
            project,
            actor: nobody(),
            emails: Vec::new(),
            sent_since: None,
            pending_at: Some(now),
        };
        Ok(self
            .invite_context(query)
            .await?
            .and_then(|context| context.pending_invitations)
            .unwrap_or(0))
    }

    /// How many invitation emails `sender` sent at or after `since`, in any project: the outbox
    /// entries of a kind that carries a link ([`NoticeKind::carries_link`](crate::NoticeKind::carries_link))
    /// whose notice was written by them ([`Notice::sent_by`](crate::Notice::sent_by)) and
    /// created then, in any status.
    async fn count_sends_by(
        &self,
        sender: UserId,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let read = Read::Invitation {
            key: InvitationKey::Id(InvitationId::from_uuid(Uuid::nil())),
            actor: Some(sender),
            sent_since: Some(since),
        };
        match self.read(read).await? {
            Snapshot::Invitation { sent_by_actor, .. } => Ok(sent_by_actor.unwrap_or(0)),
            _ => Err(mismatch()),
        }
    }

    /// The outbox entry with this id.
    async fn outbox_entry(&self, id: NoticeId) -> Result<Option<OutboxEntry>, StoreError> {
        match self.read(Read::Notice { id, actor: None }).await? {
            Snapshot::Notice(context) => Ok(context.map(|context| context.entry)),
            _ => Err(mismatch()),
        }
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// An id no user has (ids are UUID v7, never nil): for reads that need no actor.
fn nobody() -> UserId {
    UserId::from_uuid(Uuid::nil())
}

/// The error for a store that answered a read with a snapshot of another kind.
pub(crate) fn mismatch() -> StoreError {
    StoreError::backend("the store answered a different read than the one asked")
}
