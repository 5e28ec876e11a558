-- The index that pages and counts a project's pending invitations is keyed on `closed_at IS
-- NULL` instead of `state = 'pending'`; the CHECK makes the two the same set of rows.
--
-- Why: an invite looks up each address's pending invitation by `project_id`, `email_canonical`
-- and `state = 'pending'`. With two indexes partial on `state = 'pending'` and leading with
-- `project_id`, the planner, whenever it believed the project held about one pending
-- invitation (a table not analysed yet), costed both the same and could take the listing index,
-- filtering every pending invitation of the project by address. The lookup does not state
-- `closed_at IS NULL`, so only the unique index by address can serve it now.
ALTER TABLE invitations ADD CONSTRAINT invitations_closed_iff_not_pending
    CHECK ((state = 'pending') = (closed_at IS NULL));
DROP INDEX invitations_pending;
CREATE INDEX invitations_open ON invitations (project_id, id, expires_at)
    WHERE closed_at IS NULL;
