//! The users table, indexed by canonical address, with password hashes beside the records.

use std::collections::HashMap;

use roster::{Email, Entity, PasswordHash, StoreError, User, UserId, Version};

/// A stored user and their password hash, kept together so one undo entry restores both.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) user: User,
    pub(crate) password: Option<PasswordHash>,
}

/// Users by id, plus the owner of each canonical address (`Email` compares canonically).
#[derive(Debug, Default)]
pub(crate) struct Users {
    rows: HashMap<UserId, UserRow>,
    by_email: HashMap<Email, UserId>,
}

impl Users {
    pub(crate) fn get(&self, id: UserId) -> Option<&UserRow> {
        self.rows.get(&id)
    }

    pub(crate) fn contains(&self, id: UserId) -> bool {
        self.rows.contains_key(&id)
    }

    pub(crate) fn by_email(&self, email: &Email) -> Option<&UserRow> {
        self.by_email.get(email).and_then(|id| self.rows.get(id))
    }

    /// Stores a new user at [`Version::INITIAL`]; the id and the canonical address must be free.
    pub(crate) fn insert(
        &mut self,
        mut user: User,
        password: Option<PasswordHash>,
    ) -> Result<(), StoreError> {
        if self.rows.contains_key(&user.id) || self.by_email.contains_key(&user.email) {
            return Err(StoreError::AlreadyExists(Entity::User));
        }
        user.version = Version::INITIAL;
        self.put(UserRow { user, password });
        Ok(())
    }

    /// Replaces a user's fields, keeping the stored version and, when `password` is `None`, the
    /// stored password. Returns the row as it was, for undoing.
    pub(crate) fn update(
        &mut self,
        mut user: User,
        password: Option<PasswordHash>,
    ) -> Result<UserRow, StoreError> {
        let Some(current) = self.rows.get(&user.id) else {
            return Err(StoreError::NotFound(Entity::User));
        };
        if self
            .by_email
            .get(&user.email)
            .is_some_and(|owner| *owner != user.id)
        {
            return Err(StoreError::AlreadyExists(Entity::User));
        }
        user.version = current.user.version;
        let password = password.or_else(|| current.password.clone());
        let old = self
            .take(user.id)
            .ok_or(StoreError::NotFound(Entity::User))?;
        self.put(UserRow { user, password });
        Ok(old)
    }

    /// Stores a row as is, indexing it. The id and address must be free.
    pub(crate) fn put(&mut self, row: UserRow) {
        self.by_email.insert(row.user.email.clone(), row.user.id);
        self.rows.insert(row.user.id, row);
    }

    /// Removes a row and its index entry.
    pub(crate) fn take(&mut self, id: UserId) -> Option<UserRow> {
        let row = self.rows.remove(&id)?;
        self.by_email.remove(&row.user.email);
        Some(row)
    }

    /// Moves the user's version forward by one. Returns whether the user exists.
    pub(crate) fn bump_version(&mut self, id: UserId) -> bool {
        self.rows
            .get_mut(&id)
            .map(|row| row.user.version = row.user.version.next())
            .is_some()
    }
}
