-- roster schema, version 1.
--
-- Conventions, the same in every table:
-- * ids are UUIDs stored as 16-byte BLOBs; SQLite compares BLOBs byte by byte, which is UUID
--   order, so "ORDER BY id" is creation order (ids are UUID v7);
-- * instants are INTEGER nanoseconds since the Unix epoch, UTC;
-- * enums are their stable lower-case names (`Role::as_str` and friends);
-- * addresses are kept as typed (`email`, for display) and in canonical form
--   (`email_canonical`), which every lookup and uniqueness rule uses;
-- * no plaintext invitation token is ever stored: invitations keep the 32-byte SHA-256
--   `token_hash`, and the outbox keeps no token at all.
--
-- Foreign keys name the parents the Store contract reports as `NotFound` when missing
-- (a membership's project and user, an invitation's project); other references are plain
-- columns, as the contract lets them point anywhere.

CREATE TABLE accounts (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- `Account::administrators`, in order (`position`), and the reverse lookup for
-- `accounts_of_user`.
CREATE TABLE account_administrators (
    account_id  BLOB    NOT NULL REFERENCES accounts (id),
    position    INTEGER NOT NULL,
    user_id     BLOB    NOT NULL CHECK (length(user_id) = 16),
    PRIMARY KEY (account_id, position)
) WITHOUT ROWID;
CREATE INDEX account_administrators_by_user ON account_administrators (user_id, account_id);

-- `version` serializes every change to a project's members and invitations: a change is
-- applied only if it still holds the version the command read.
CREATE TABLE projects (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    account_id  BLOB    NOT NULL CHECK (length(account_id) = 16),
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0)
) WITHOUT ROWID;
CREATE INDEX projects_by_account ON projects (account_id, id);

-- One user per canonical address. `password_hash` is a PHC string (argon2id), NULL until the
-- user sets a password.
CREATE TABLE users (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    email            TEXT    NOT NULL,
    email_canonical  TEXT    NOT NULL UNIQUE,
    registered_at    INTEGER,
    created_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
    password_hash    TEXT
) WITHOUT ROWID;

-- One membership per (project, user); the primary key lists a project's members in user id
-- order.
CREATE TABLE memberships (
    project_id  BLOB    NOT NULL REFERENCES projects (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    role        TEXT    NOT NULL
                CHECK (role IN ('observer', 'user', 'administrator', 'account_administrator')),
    invited_by  BLOB    CHECK (invited_by IS NULL OR length(invited_by) = 16),
    since       INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id, project_id);
CREATE INDEX memberships_by_role ON memberships (project_id, role);

-- Invitations are never deleted: final states are history.
CREATE TABLE invitations (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    project_id       BLOB    NOT NULL REFERENCES projects (id),
    email            TEXT    NOT NULL,
    email_canonical  TEXT    NOT NULL,
    role             TEXT    NOT NULL
                     CHECK (role IN ('observer', 'user', 'administrator', 'account_administrator')),
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
-- At most one stored-pending invitation per (project, canonical address), expired in effect or
-- not; it also answers `pending_invitation`.
CREATE UNIQUE INDEX invitations_one_pending_per_address
    ON invitations (project_id, email_canonical) WHERE state = 'pending';
CREATE INDEX invitations_by_project ON invitations (project_id, id);
CREATE INDEX invitations_by_project_state ON invitations (project_id, state, id);
CREATE INDEX invitations_pending_by_expiry
    ON invitations (project_id, expires_at) WHERE state = 'pending';
CREATE INDEX invitations_by_sender ON invitations (invited_by, sent_at);

-- Append-only. `action` is the JSON of `AuditAction`.
CREATE TABLE audit_events (
    id          BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    at          INTEGER NOT NULL,
    actor       BLOB    CHECK (actor IS NULL OR length(actor) = 16),
    account_id  BLOB    NOT NULL CHECK (length(account_id) = 16),
    project_id  BLOB    CHECK (project_id IS NULL OR length(project_id) = 16),
    action      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_events_by_project ON audit_events (project_id, id) WHERE project_id IS NOT NULL;

-- Notices written in the same transaction as the state they announce, delivered after the
-- commit. The columns are the `Notice` fields; there is deliberately no token column.
CREATE TABLE outbox (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    kind             TEXT    NOT NULL,
    to_email         TEXT    NOT NULL,
    invitation_id    BLOB    NOT NULL CHECK (length(invitation_id) = 16),
    project_id       BLOB    NOT NULL CHECK (length(project_id) = 16),
    project_name     TEXT    NOT NULL,
    account_name     TEXT    NOT NULL,
    role             TEXT    NOT NULL,
    inviter          TEXT    NOT NULL,
    expires_at       INTEGER NOT NULL,
    send             INTEGER NOT NULL CHECK (send >= 0),
    status           TEXT    NOT NULL
                     CHECK (status IN ('queued', 'delivered', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    language         TEXT
) WITHOUT ROWID;
-- Due entries: equality on status, then a range on the due time, already in the order
-- `due_notices` returns them (the primary key `id` breaks ties).
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_project ON outbox (project_id, id);
CREATE INDEX outbox_by_status ON outbox (status, id);
CREATE INDEX outbox_by_project_status ON outbox (project_id, status, id);
