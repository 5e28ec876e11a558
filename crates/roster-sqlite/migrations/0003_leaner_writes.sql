-- Fewer B-trees per command: every page a command touches is a page its commit writes (a WAL
-- frame, or a journal page and a database page), so each index must earn its place.

-- Audit events are keyed by their project, so the table is its own listing index (one B-tree
-- instead of two). Account-level events (no project) have the empty BLOB there.
CREATE TABLE audit_events_keyed (
    project_id  BLOB    NOT NULL CHECK (length(project_id) IN (0, 16)),
    id          BLOB    NOT NULL CHECK (length(id) = 16),
    at          INTEGER NOT NULL,
    actor       BLOB    CHECK (actor IS NULL OR length(actor) = 16),
    account_id  BLOB    NOT NULL CHECK (length(account_id) = 16),
    action      TEXT    NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
INSERT INTO audit_events_keyed (project_id, id, at, actor, account_id, action)
    SELECT coalesce(project_id, X''), id, at, actor, account_id, action FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_keyed RENAME TO audit_events;

-- The outbox keeps two indexes: the queued entries by due time (delivery; an entry leaves it
-- once sent) and each project's entries in id order (listings, filtered by status as they go).
DROP INDEX outbox_due;
DROP INDEX outbox_by_status;
DROP INDEX outbox_by_project_status;
CREATE INDEX outbox_queued_by_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
