-- Roles the host defines: memberships and invitations store any role key of the service's
-- catalog (`Role`: 1 to 32 bytes of a-z, 0-9, '_', '-', '.'), not only the four built-in names.
-- SQLite cannot drop a CHECK constraint, so both tables are rebuilt, with their indexes.
CREATE TABLE memberships_keyed (
    project_id  BLOB    NOT NULL REFERENCES projects (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    role        TEXT    NOT NULL CHECK (length(role) BETWEEN 1 AND 32),
    invited_by  BLOB    CHECK (invited_by IS NULL OR length(invited_by) = 16),
    since       INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
INSERT INTO memberships_keyed (project_id, user_id, role, invited_by, since)
    SELECT project_id, user_id, role, invited_by, since FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_keyed RENAME TO memberships;
CREATE INDEX memberships_by_user ON memberships (user_id, project_id);
CREATE INDEX memberships_by_role ON memberships (project_id, role);

CREATE TABLE invitations_keyed (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    project_id       BLOB    NOT NULL REFERENCES projects (id),
    email            TEXT    NOT NULL,
    email_canonical  TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (length(role) BETWEEN 1 AND 32),
    invited_by       BLOB    NOT NULL CHECK (length(invited_by) = 16),
    state            TEXT    NOT NULL
                     CHECK (state IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    closed_at        INTEGER,
    token_hash       BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    sends            INTEGER NOT NULL CHECK (sends >= 0),
    -- The invitee's language tag (`Invitation::language`), NULL when none was given.
    language         TEXT
) WITHOUT ROWID;
INSERT INTO invitations_keyed (id, project_id, email, email_canonical, role, invited_by, state,
        created_at, sent_at, expires_at, closed_at, token_hash, sends, language)
    SELECT id, project_id, email, email_canonical, role, invited_by, state, created_at, sent_at,
        expires_at, closed_at, token_hash, sends, language FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_keyed RENAME TO invitations;
CREATE UNIQUE INDEX invitations_one_pending_per_address
    ON invitations (project_id, email_canonical) WHERE state = 'pending';
CREATE INDEX invitations_by_project ON invitations (project_id, id);
CREATE INDEX invitations_pending ON invitations (project_id, id, expires_at, state)
    WHERE state = 'pending';

-- What an email shows is the role's display name, resolved when the notice is written (the
-- catalog may change before a queued notice goes out). Queued entries of older files get the
-- names the built-in roles had.
ALTER TABLE outbox ADD COLUMN role_name TEXT NOT NULL DEFAULT '';
UPDATE outbox SET role_name = CASE role
    WHEN 'observer' THEN 'Observer'
    WHEN 'user' THEN 'User'
    WHEN 'administrator' THEN 'Administrator'
    WHEN 'account_administrator' THEN 'Account administrator'
    ELSE role END;

-- The email domains an account's invitations are restricted to, in canonical form, separated by
-- spaces; empty for no restriction.
ALTER TABLE accounts ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '';
