-- Each email an inviter sends is counted against them: the per-inviter limit counts outbox
-- entries of the link-carrying kinds by the user who wrote them (`Notice::sent_by`), so a
-- colleague's resend of the same invitation no longer moves the count to the colleague.
--
-- Entries written before this version did not record their sender; they take the invitation's
-- last sender (the nil id when the invitation is not stored), which is what the count used then.
ALTER TABLE outbox ADD COLUMN sent_by BLOB CHECK (sent_by IS NULL OR length(sent_by) = 16);
UPDATE outbox SET sent_by = coalesce(
    (SELECT invited_by FROM invitations WHERE invitations.id = outbox.invitation_id),
    zeroblob(16)
);
CREATE INDEX outbox_sends_by_sender ON outbox (sent_by, created_at)
    WHERE kind IN ('invitation', 'access_granted');
DROP INDEX invitations_by_sender;

-- Two fewer invitation indexes (each is a page every invite and every acceptance writes):
-- pending invitations, the ones listings and limits ask for by state, keep a partial index in
-- id order. It also answers the count of those pending in effect from the index alone (it
-- holds every column the count reads), visiting each stored-pending entry of the project;
-- listings of the final states walk the project's invitations in id order and filter.
DROP INDEX invitations_by_project_state;
DROP INDEX invitations_pending_by_expiry;
CREATE INDEX invitations_pending ON invitations (project_id, id, expires_at, state)
    WHERE state = 'pending';

-- Failed notices wait for someone to look (`Roster::delivery_status`, listings of the failed):
-- a partial index holds just them, so finding the few never walks the delivered many.
CREATE INDEX outbox_failed ON outbox (id) WHERE status = 'failed';
