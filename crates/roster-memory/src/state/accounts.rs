//! The accounts table, indexed by administrator.

use std::collections::{BTreeSet, HashMap};

use roster::{Account, AccountId, Entity, StoreError, UserId};

/// Accounts by id, plus which accounts each user administers.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    rows: HashMap<AccountId, Account>,
    by_administrator: BTreeSet<(UserId, AccountId)>,
}

impl Accounts {
    pub(crate) fn get(&self, id: AccountId) -> Option<&Account> {
        self.rows.get(&id)
    }

    /// The accounts `user` administers, in id order.
    pub(crate) fn administered_by(&self, user: UserId) -> impl Iterator<Item = AccountId> + '_ {
        crate::keys::page_of(&self.by_administrator, user, None)
    }

    /// Stores a new account; its id must be free.
    pub(crate) fn insert(&mut self, account: Account) -> Result<(), StoreError> {
        if self.rows.contains_key(&account.id) {
            return Err(StoreError::AlreadyExists(Entity::Account));
        }
        for admin in &account.administrators {
            self.by_administrator.insert((*admin, account.id));
        }
        self.rows.insert(account.id, account);
        Ok(())
    }

    /// Replaces a stored account (administrators and index entries included); the account as it
    /// was.
    pub(crate) fn replace(&mut self, account: Account) -> Result<Account, StoreError> {
        let Some(old) = self.rows.get(&account.id).cloned() else {
            return Err(StoreError::NotFound(Entity::Account));
        };
        self.remove(account.id);
        self.insert(account)?;
        Ok(old)
    }

    /// Removes an account and its index entries (used to undo an insert).
    pub(crate) fn remove(&mut self, id: AccountId) {
        if let Some(account) = self.rows.remove(&id) {
            for admin in &account.administrators {
                self.by_administrator.remove(&(*admin, id));
            }
        }
    }
}
