-- roster schema for PostgreSQL, version 1: the tables of the SQLite store's final schema.
--
-- Conventions, the same in every table:
-- * ids are `uuid` (PostgreSQL compares them byte by byte, which is UUID order, so
--   "ORDER BY id" is creation order: ids are UUID v7);
-- * instants are `bigint` nanoseconds since the Unix epoch, UTC (as on SQLite: `timestamptz`
--   keeps only microseconds, and the store promises instants back to the nanosecond);
-- * enums are their stable lower-case names; roles are `text` keys of the host's catalog with
--   no CHECK, so catalogs can grow without a migration;
-- * addresses are kept as typed (`email`) and in canonical form (`email_canonical`), which every
--   lookup and uniqueness rule uses;
-- * no plaintext invitation token is ever stored: invitations keep the 32-byte SHA-256
--   `token_hash`, and the outbox keeps no token at all.
--
-- Foreign keys name the parents the Store contract reports as `NotFound` when missing (a
-- membership's project and user, an invitation's project); other references are plain columns.

CREATE TABLE accounts (
    id               uuid    NOT NULL PRIMARY KEY,
    name             text    NOT NULL,
    created_at       bigint  NOT NULL,
    -- Canonical email domains, separated by spaces; empty for no restriction.
    allowed_domains  text    NOT NULL DEFAULT ''
);

CREATE TABLE account_administrators (
    account_id  uuid     NOT NULL REFERENCES accounts (id),
    position    integer  NOT NULL,
    user_id     uuid     NOT NULL,
    PRIMARY KEY (account_id, position)
);
CREATE INDEX account_administrators_by_user ON account_administrators (user_id, account_id);

-- `version` is bumped by every change decided on the project; the row is also the lock that
-- serializes a project's changes (`SELECT ... FOR NO KEY UPDATE`).
CREATE TABLE projects (
    id          uuid    NOT NULL PRIMARY KEY,
    account_id  uuid    NOT NULL,
    name        text    NOT NULL,
    created_at  bigint  NOT NULL,
    version     bigint  NOT NULL DEFAULT 0 CHECK (version >= 0)
);
CREATE INDEX projects_by_account ON projects (account_id, id);

CREATE TABLE users (
    id               uuid    NOT NULL PRIMARY KEY,
    email            text    NOT NULL,
    email_canonical  text    NOT NULL,
    registered_at    bigint,
    created_at       bigint  NOT NULL,
    version          bigint  NOT NULL DEFAULT 0 CHECK (version >= 0),
    password_hash    text,
    CONSTRAINT users_email_canonical_key UNIQUE (email_canonical)
);

CREATE TABLE memberships (
    project_id  uuid    NOT NULL REFERENCES projects (id),
    user_id     uuid    NOT NULL REFERENCES users (id),
    role        text    NOT NULL,
    invited_by  uuid,
    since       bigint  NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id, project_id);
CREATE INDEX memberships_by_role ON memberships (project_id, role);

-- Invitations are never deleted: final states are history.
CREATE TABLE invitations (
    id               uuid     NOT NULL PRIMARY KEY,
    project_id       uuid     NOT NULL REFERENCES projects (id),
    email            text     NOT NULL,
    role             text     NOT NULL,
    invited_by       uuid     NOT NULL,
    state            text     NOT NULL
                     CHECK (state IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    created_at       bigint   NOT NULL,
    sent_at          bigint   NOT NULL,
    expires_at       bigint   NOT NULL,
    closed_at        bigint,
    token_hash       bytea    NOT NULL CHECK (length(token_hash) = 32),
    sends            bigint   NOT NULL CHECK (sends >= 0),
    language         text,
    email_canonical  text     NOT NULL,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);
-- At most one stored-pending invitation per (project, canonical address), expired in effect or
-- not; it also answers `pending_invitation`.
CREATE UNIQUE INDEX invitations_one_pending_per_address
    ON invitations (project_id, email_canonical) WHERE state = 'pending';
CREATE INDEX invitations_by_project ON invitations (project_id, id);
CREATE INDEX invitations_pending ON invitations (project_id, id, expires_at)
    WHERE state = 'pending';

-- Append-only. `action` is the JSON of `AuditAction`; account-level events have no project.
CREATE TABLE audit_events (
    id          uuid    NOT NULL PRIMARY KEY,
    at          bigint  NOT NULL,
    actor       uuid,
    account_id  uuid    NOT NULL,
    project_id  uuid,
    action      text    NOT NULL
);
CREATE INDEX audit_events_by_project ON audit_events (project_id, id) WHERE project_id IS NOT NULL;

-- Notices written in the same transaction as the state they announce, delivered after the
-- commit. There is deliberately no token column.
CREATE TABLE outbox (
    id               uuid     NOT NULL PRIMARY KEY,
    kind             text     NOT NULL,
    to_email         text     NOT NULL,
    invitation_id    uuid     NOT NULL,
    project_id       uuid     NOT NULL,
    project_name     text     NOT NULL,
    account_name     text     NOT NULL,
    role             text     NOT NULL,
    inviter          text     NOT NULL,
    expires_at       bigint   NOT NULL,
    send             bigint   NOT NULL CHECK (send >= 0),
    status           text     NOT NULL
                     CHECK (status IN ('queued', 'delivered', 'failed', 'cancelled')),
    attempts         bigint   NOT NULL CHECK (attempts >= 0),
    next_attempt_at  bigint   NOT NULL,
    last_error       text,
    created_at       bigint   NOT NULL,
    finished_at      bigint,
    language         text,
    sent_by          uuid     NOT NULL,
    role_name        text     NOT NULL DEFAULT ''
);
CREATE INDEX outbox_queued_by_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX outbox_by_project ON outbox (project_id, id);
CREATE INDEX outbox_failed ON outbox (id) WHERE status = 'failed';
CREATE INDEX outbox_sends_by_sender ON outbox (sent_by, created_at)
    WHERE kind IN ('invitation', 'access_granted');

-- Guards for pipelined writes: a change's statements are sent together with its COMMIT, so a
-- write that must find its row raises an error when it does not (aborting the transaction, which
-- turns the COMMIT into a rollback) instead of reporting zero rows after the fact. The store
-- maps the codes: RS404 to `NotFound`, RS409 to `Conflict`, of the entity it wrote.
CREATE FUNCTION roster_found(changed bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF changed = 0 THEN
        RAISE EXCEPTION 'roster: the row written does not exist' USING ERRCODE = 'RS404';
    END IF;
    RETURN changed;
END
$$;

CREATE FUNCTION roster_bumped(changed bigint, present boolean) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF changed = 0 AND NOT present THEN
        RAISE EXCEPTION 'roster: the expected row does not exist' USING ERRCODE = 'RS404';
    ELSIF changed = 0 THEN
        RAISE EXCEPTION 'roster: the expected version moved' USING ERRCODE = 'RS409';
    END IF;
    RETURN changed;
END
$$;
