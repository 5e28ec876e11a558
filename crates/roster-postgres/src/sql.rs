//! Every statement the store runs, in one place. Column lists are macros taking the table's
//! alias, so statements stay `concat!`-able constants; the decoders in [`crate::codec`] read the
//! columns in the order listed here. Parameters are typed by what they are compared with.

macro_rules! project_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".account_id, ",
            $t,
            ".name, ",
            $t,
            ".created_at, ",
            // The current version is the newest row: one step of a backward index scan.
            "(SELECT max(pv.version) FROM project_versions pv WHERE pv.project_id = ",
            $t,
            ".id)"
        )
    };
}

macro_rules! account_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".name, ",
            $t,
            ".created_at, ",
            $t,
            ".allowed_domains, ",
            "ARRAY(SELECT x.user_id FROM account_administrators x WHERE x.account_id = ",
            $t,
            ".id ORDER BY x.position)"
        )
    };
}

macro_rules! user_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".email, ",
            $t,
            ".registered_at, ",
            $t,
            ".created_at, ",
            $t,
            ".version"
        )
    };
}

macro_rules! membership_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".project_id, ",
            $t,
            ".user_id, ",
            $t,
            ".role, ",
            $t,
            ".invited_by, ",
            $t,
            ".since"
        )
    };
}

macro_rules! invitation_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".project_id, ",
            $t,
            ".email, ",
            $t,
            ".role, ",
            $t,
            ".invited_by, ",
            $t,
            ".state, ",
            $t,
            ".created_at, ",
            $t,
            ".sent_at, ",
            $t,
            ".expires_at, ",
            $t,
            ".closed_at, ",
            $t,
            ".token_hash, ",
            $t,
            ".sends, ",
            $t,
            ".language, ",
            $t,
            ".email_canonical"
        )
    };
}

macro_rules! outbox_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".kind, ",
            $t,
            ".to_email, ",
            $t,
            ".invitation_id, ",
            $t,
            ".project_id, ",
            $t,
            ".project_name, ",
            $t,
            ".account_name, ",
            $t,
            ".role, ",
            $t,
            ".inviter, ",
            $t,
            ".expires_at, ",
            $t,
            ".send, ",
            $t,
            ".status, ",
            $t,
            ".attempts, ",
            $t,
            ".next_attempt_at, ",
            $t,
            ".last_error, ",
            $t,
            ".created_at, ",
            $t,
            ".finished_at, ",
            $t,
            ".language, ",
            $t,
            ".sent_by, ",
            $t,
            ".role_name"
        )
    };
}

/// The project context's columns: the project, its account, the actor and their membership
/// (aliases `p`, `a`, `au`, `am`).
macro_rules! context_columns {
    () => {
        concat!(
            project_columns!("p"),
            ", ",
            account_columns!("a"),
            ", ",
            user_columns!("au"),
            ", ",
            membership_columns!("am")
        )
    };
}

/// The joins of the actor and their membership to the project `p`, the actor being `$actor`.
macro_rules! actor_joins {
    ($actor:literal) => {
        concat!(
            " LEFT JOIN users au ON au.id = ",
            $actor,
            " LEFT JOIN memberships am ON am.project_id = p.id AND am.user_id = ",
            $actor
        )
    };
}

// ---- locks, in the order a step takes them ----

/// The project's row lock (`$1` project). `NO KEY UPDATE`: it waits for other changes of the
/// project, but not for inserts that only reference it (memberships, invitations).
pub(crate) const LOCK_PROJECT: &str = "SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE";

/// The row lock of an invitation's project (`$1` invitation id).
pub(crate) const LOCK_PROJECT_OF_INVITATION: &str = "SELECT 1 FROM projects WHERE id = \
     (SELECT project_id FROM invitations WHERE id = $1) FOR NO KEY UPDATE";

/// The row lock of the project of the invitation a token opens (`$1` token hash).
pub(crate) const LOCK_PROJECT_OF_TOKEN: &str = "SELECT 1 FROM projects WHERE id = \
     (SELECT project_id FROM invitations WHERE token_hash = $1) FOR NO KEY UPDATE";

/// The row lock of an outbox entry's project (`$1` entry).
pub(crate) const LOCK_PROJECT_OF_NOTICE: &str = "SELECT 1 FROM projects WHERE id = \
     (SELECT project_id FROM outbox WHERE id = $1) FOR NO KEY UPDATE";

/// A user's row lock (`$1` user): taken after the project's, when a step counts what the user
/// sent in any project.
pub(crate) const LOCK_USER: &str = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE";

/// A user's row lock, taken without waiting (`$1` user): by a step joining a transaction that
/// holds other steps' locks.
pub(crate) const LOCK_USER_NOWAIT: &str =
    "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE NOWAIT";

/// An account's row lock (`$1` account), for steps that read an account to change it.
pub(crate) const LOCK_ACCOUNT: &str = "SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE";

/// The row lock of the user with an address, if there is one (`$1` canonical address).
pub(crate) const LOCK_USER_BY_EMAIL: &str =
    "SELECT 1 FROM users WHERE email_canonical = $1 FOR NO KEY UPDATE";

// ---- contexts ----

/// A project's context (`$1` project, `$2` actor or NULL).
pub(crate) const PROJECT_CONTEXT: &str = concat!(
    "SELECT ",
    context_columns!(),
    " FROM projects p JOIN accounts a ON a.id = p.account_id",
    actor_joins!("$2::uuid"),
    " WHERE p.id = $1"
);

/// The joins from an invitation `i` to everything its context holds (`$2` actor or NULL).
macro_rules! invitation_context {
    ($key:literal) => {
        concat!(
            "SELECT ",
            invitation_columns!("i"),
            ", ",
            context_columns!(),
            ", ",
            user_columns!("iu"),
            ", ",
            membership_columns!("im"),
            ", ",
            user_columns!("eu"),
            ", ",
            membership_columns!("em"),
            " FROM invitations i LEFT JOIN projects p ON p.id = i.project_id",
            " LEFT JOIN accounts a ON a.id = p.account_id",
            actor_joins!("$2::uuid"),
            " LEFT JOIN users iu ON iu.id = i.invited_by",
            " LEFT JOIN memberships im ON im.project_id = p.id AND im.user_id = i.invited_by",
            " LEFT JOIN users eu ON eu.email_canonical = i.email_canonical",
            " LEFT JOIN memberships em ON em.project_id = p.id AND em.user_id = eu.id",
            " WHERE ",
            $key
        )
    };
}

/// An invitation's context by id (`$1` id, `$2` actor or NULL).
pub(crate) const INVITATION_CONTEXT_BY_ID: &str = invitation_context!("i.id = $1");

/// An invitation's context by current token (`$1` hash, `$2` actor or NULL).
pub(crate) const INVITATION_CONTEXT_BY_TOKEN: &str = invitation_context!("i.token_hash = $1");

/// An outbox entry, its project's context and its invitation (`$1` entry, `$2` actor or NULL).
pub(crate) const NOTICE_CONTEXT: &str = concat!(
    "SELECT ",
    outbox_columns!("o"),
    ", ",
    context_columns!(),
    ", ",
    invitation_columns!("i"),
    " FROM outbox o LEFT JOIN projects p ON p.id = o.project_id",
    " LEFT JOIN accounts a ON a.id = p.account_id",
    actor_joins!("$2::uuid"),
    " LEFT JOIN invitations i ON i.id = o.invitation_id",
    " WHERE o.id = $1"
);

/// What a project knows about each address of a bulk invite, in the order given (`$1`
/// project, `$2` canonical addresses): the user, their membership, the stored-pending
/// invitation.
///
/// Each lookup is a lateral subquery that the `LIMIT` (at most one row matches anyway: each is
/// on a unique key) keeps from being flattened into a join. As plain joins, whenever the planner
/// believed the project held about one invitation (a table not analysed yet, or a generic plan
/// on a site of many small projects) it scanned every pending invitation of the project once and
/// filtered it by address: the same estimated cost as probing by address, and preferred on a tie
/// because it needs nothing from the outer row. An invite then cost time in proportion to the
/// project's pending invitations (4.7 ms at 4,000), and a bulk of 10,000 into a project holding
/// thousands ran into the statement timeout. A subquery sees the address as a constant and
/// probes `invitations_one_pending_per_address`, the one index `state = 'pending'` can use (see
/// migration 2).
pub(crate) const INVITEES: &str = concat!(
    "SELECT e.ord, ",
    user_columns!("u"),
    ", ",
    membership_columns!("m"),
    ", ",
    invitation_columns!("i"),
    " FROM unnest($2::text[]) WITH ORDINALITY AS e(canonical, ord)",
    " LEFT JOIN LATERAL (SELECT * FROM users",
    " WHERE email_canonical = e.canonical LIMIT 1) u ON true",
    " LEFT JOIN LATERAL (SELECT * FROM memberships",
    " WHERE project_id = $1 AND user_id = u.id LIMIT 1) m ON true",
    " LEFT JOIN LATERAL (SELECT * FROM invitations WHERE project_id = $1",
    " AND email_canonical = e.canonical AND state = 'pending' LIMIT 1) i ON true",
    " ORDER BY e.ord"
);

/// One membership (`$1` project, `$2` user).
pub(crate) const MEMBERSHIP: &str = concat!(
    "SELECT ",
    membership_columns!("m"),
    " FROM memberships m WHERE m.project_id = $1 AND m.user_id = $2"
);

/// Members of a project holding one of some roles (`$1` project, `$2` roles).
pub(crate) const COUNT_MEMBERS_IN_ROLES: &str =
    "SELECT count(*) FROM memberships WHERE project_id = $1 AND role = ANY ($2::text[])";

/// Invitations pending in effect (`$1` project, `$2` now). Open (`closed_at IS NULL`) is pending
/// stored, said so that only `invitations_open` serves it (see migration 2).
pub(crate) const COUNT_PENDING: &str = "SELECT count(*) FROM invitations \
     WHERE project_id = $1 AND closed_at IS NULL AND expires_at > $2";

/// Invitation emails someone sent since an instant (`$1` sender, `$2` since).
pub(crate) const COUNT_SENDS_BY: &str = "SELECT count(*) FROM outbox \
     WHERE sent_by = $1 AND created_at >= $2 AND kind IN ('invitation', 'access_granted')";

/// A user (`$1` id).
pub(crate) const USER: &str = concat!(
    "SELECT ",
    user_columns!("u"),
    " FROM users u WHERE u.id = $1"
);

/// A user by canonical address (`$1`).
pub(crate) const USER_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_columns!("u"),
    " FROM users u WHERE u.email_canonical = $1"
);

/// An account with its administrators (`$1` id).
pub(crate) const ACCOUNT: &str = concat!(
    "SELECT ",
    account_columns!("a"),
    " FROM accounts a WHERE a.id = $1"
);

// ---- listings ----

/// The accounts a user administers or belongs to through a project (`$1` user).
pub(crate) const ACCOUNTS_OF_USER: &str = concat!(
    "SELECT ",
    account_columns!("a"),
    " FROM accounts a WHERE a.id IN (",
    "SELECT account_id FROM account_administrators WHERE user_id = $1 UNION ",
    "SELECT p.account_id FROM memberships m JOIN projects p ON p.id = m.project_id ",
    "WHERE m.user_id = $1) ORDER BY a.id"
);

/// An account's projects (`$1` account).
pub(crate) const PROJECTS: &str = concat!(
    "SELECT ",
    project_columns!("p"),
    " FROM projects p WHERE p.account_id = $1 ORDER BY p.id"
);

/// The sign-in lookup: a user by canonical address, then their password hash.
pub(crate) const CREDENTIALS: &str = concat!(
    "SELECT ",
    user_columns!("u"),
    ", u.password_hash FROM users u WHERE u.email_canonical = $1"
);

/// A page of members with their users (`$1` project, `$2` after user, `$3` limit).
pub(crate) const MEMBERS: &str = concat!(
    "SELECT ",
    membership_columns!("m"),
    ", ",
    user_columns!("u"),
    " FROM memberships m JOIN users u ON u.id = m.user_id",
    " WHERE m.project_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
);

/// A page of a project's invitations (`$1` project, `$2` after, `$3` limit).
pub(crate) const INVITATIONS_ALL: &str = concat!(
    "SELECT ",
    invitation_columns!("i"),
    " FROM invitations i WHERE i.project_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3"
);

/// A page of invitations pending in effect (`$4` now), on `invitations_open`.
pub(crate) const INVITATIONS_PENDING: &str = concat!(
    "SELECT ",
    invitation_columns!("i"),
    " FROM invitations i WHERE i.project_id = $1 AND i.id > $2",
    " AND i.closed_at IS NULL AND i.expires_at > $4 ORDER BY i.id LIMIT $3"
);

/// A page of invitations expired in effect (`$4` now).
pub(crate) const INVITATIONS_EXPIRED: &str = concat!(
    "SELECT ",
    invitation_columns!("i"),
    " FROM invitations i WHERE i.project_id = $1 AND i.id > $2",
    " AND (i.state = 'expired' OR (i.closed_at IS NULL AND i.expires_at <= $4))",
    " ORDER BY i.id LIMIT $3"
);

/// A page of invitations in a final stored state (`$4` state).
pub(crate) const INVITATIONS_IN_STATE: &str = concat!(
    "SELECT ",
    invitation_columns!("i"),
    " FROM invitations i WHERE i.project_id = $1 AND i.id > $2 AND i.state = $4",
    " ORDER BY i.id LIMIT $3"
);

/// A page of a project's audit events (`$1` project, `$2` after, `$3` limit).
pub(crate) const AUDIT_EVENTS: &str = "SELECT id, at, actor, account_id, project_id, action \
     FROM audit_events WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3";

/// Queued entries due at an instant, earliest first (`$1` now, `$2` limit).
pub(crate) const DUE_NOTICES: &str = concat!(
    "SELECT ",
    outbox_columns!("o"),
    " FROM outbox o WHERE o.status = 'queued' AND o.next_attempt_at <= $1",
    " ORDER BY o.next_attempt_at, o.id LIMIT $2"
);

/// A page of the outbox (`$1` after, `$2` limit, `$3` project or NULL, `$4` status or NULL).
pub(crate) const OUTBOX: &str = concat!(
    "SELECT ",
    outbox_columns!("o"),
    " FROM outbox o WHERE o.id > $1 AND ($3::uuid IS NULL OR o.project_id = $3)",
    " AND ($4::text IS NULL OR o.status = $4) ORDER BY o.id LIMIT $2"
);

/// A write that must change one row, raising `RS404` (see the schema's `roster_found`) when
/// it changes none.
macro_rules! found {
    ($write:literal) => {
        concat!(
            "WITH w AS (",
            $write,
            " RETURNING 1) SELECT roster_found((SELECT count(*) FROM w))"
        )
    };
}

// ---- writes ----

/// Moves a project one version forward if it is at `$2` (`$1` id), raising `RS404` if it does
/// not exist and `RS409` if it is at another version. The next version is inserted and the one
/// it supersedes deleted (see migration 0003); a concurrent bump from the same version that
/// commits first takes the key, and this one then inserts nothing: `RS409` too.
pub(crate) const BUMP_PROJECT: &str = "WITH bumped AS (INSERT INTO project_versions (project_id, \
     version) SELECT $1, $2::bigint + 1 WHERE (SELECT max(version) FROM project_versions WHERE \
     project_id = $1) = $2 ON CONFLICT DO NOTHING RETURNING 1), superseded AS (DELETE FROM \
     project_versions WHERE project_id = $1 AND version = $2 AND EXISTS (SELECT 1 FROM bumped)) \
     SELECT roster_bumped((SELECT count(*) FROM bumped), EXISTS (SELECT 1 FROM projects WHERE id = $1))";

/// The same for a user.
pub(crate) const BUMP_USER: &str = "WITH bumped AS (UPDATE users SET version = version + 1 \
     WHERE id = $1 AND version = $2 RETURNING 1) SELECT roster_bumped((SELECT count(*) FROM \
     bumped), EXISTS (SELECT 1 FROM users WHERE id = $1))";

/// A new account.
pub(crate) const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, name, created_at, allowed_domains) VALUES ($1, $2, $3, $4)";

/// An account's name and allowed domains (`$1` id).
pub(crate) const UPDATE_ACCOUNT: &str =
    found!("UPDATE accounts SET name = $2, allowed_domains = $3 WHERE id = $1");

/// Every administrator of an account, before they are written again (`$1` account).
pub(crate) const DELETE_ACCOUNT_ADMINISTRATORS: &str =
    "DELETE FROM account_administrators WHERE account_id = $1";

/// An account's administrators in order (`$1` account, `$2` users).
pub(crate) const INSERT_ACCOUNT_ADMINISTRATORS: &str = "INSERT INTO account_administrators (account_id, position, user_id) \
     SELECT $1, (t.ord - 1)::integer, t.user_id \
     FROM unnest($2::uuid[]) WITH ORDINALITY AS t(user_id, ord)";

/// A new project, at the initial version.
pub(crate) const INSERT_PROJECT: &str = "WITH p AS (INSERT INTO projects (id, account_id, name, \
     created_at) VALUES ($1, $2, $3, $4) RETURNING id) INSERT INTO project_versions (project_id, \
     version) SELECT id, 0 FROM p";

/// A new user, at the initial version.
pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, email, registered_at, created_at, \
     version, email_canonical, password_hash) VALUES ($1, $2, $3, $4, 0, $5, $6)";

/// A user's fields (`$1` id); the version is left alone, and so is the password hash when `$6`
/// is NULL.
pub(crate) const UPDATE_USER: &str = found!(
    "UPDATE users SET email = $2, email_canonical = $3, \
     registered_at = $4, created_at = $5, password_hash = COALESCE($6, password_hash) \
     WHERE id = $1"
);

/// A new membership.
pub(crate) const INSERT_MEMBERSHIP: &str = "INSERT INTO memberships \
     (project_id, user_id, role, invited_by, since) VALUES ($1, $2, $3, $4, $5)";

/// A membership's fields (`$1` project, `$2` user).
pub(crate) const UPDATE_MEMBERSHIP: &str = found!(
    "UPDATE memberships SET role = $3, invited_by = $4, \
     since = $5 WHERE project_id = $1 AND user_id = $2"
);

/// A membership removed (`$1` project, `$2` user).
pub(crate) const DELETE_MEMBERSHIP: &str =
    found!("DELETE FROM memberships WHERE project_id = $1 AND user_id = $2");

/// A new invitation, only if its project exists (no row inserted otherwise: the contract checks
/// the project before uniqueness).
pub(crate) const INSERT_INVITATION: &str = found!(
    "INSERT INTO invitations (id, project_id, email, role, \
     invited_by, state, created_at, sent_at, expires_at, closed_at, token_hash, sends, language, \
     email_canonical) SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::uuid, $6::text, \
     $7::bigint, $8::bigint, $9::bigint, $10::bigint, $11::bytea, $12::bigint, $13::text, \
     $14::text WHERE EXISTS (SELECT 1 FROM projects WHERE id = $2)"
);

/// New invitations, a column per array (`$1`..`$14` as in [`INSERT_INVITATION`], `$15` how
/// many): `RS404` unless every row's project exists.
pub(crate) const INSERT_INVITATIONS: &str = "WITH w AS (INSERT INTO invitations (id, project_id, \
     email, role, invited_by, state, created_at, sent_at, expires_at, closed_at, token_hash, \
     sends, language, email_canonical) SELECT r.* FROM unnest($1::uuid[], $2::uuid[], \
     $3::text[], $4::text[], $5::uuid[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], \
     $10::bigint[], $11::bytea[], $12::bigint[], $13::text[], $14::text[]) AS r (id, \
     project_id, email, role, invited_by, state, created_at, sent_at, expires_at, closed_at, \
     token_hash, sends, language, email_canonical) WHERE EXISTS (SELECT 1 FROM projects p \
     WHERE p.id = r.project_id) RETURNING 1) \
     SELECT roster_found(CASE (SELECT count(*) FROM w) WHEN $15 THEN $15 ELSE 0 END)";

/// An invitation's fields (`$1` id).
pub(crate) const UPDATE_INVITATION: &str = found!(
    "UPDATE invitations SET project_id = $2, email = $3, \
     role = $4, invited_by = $5, state = $6, created_at = $7, sent_at = $8, expires_at = $9, \
     closed_at = $10, token_hash = $11, sends = $12, language = $13, email_canonical = $14 \
     WHERE id = $1"
);

/// A new audit event.
pub(crate) const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events \
     (id, at, actor, account_id, project_id, action) VALUES ($1, $2, $3, $4, $5, $6)";

/// New audit events, a column per array (in [`INSERT_AUDIT_EVENT`]'s order).
pub(crate) const INSERT_AUDIT_EVENTS: &str = "INSERT INTO audit_events \
     (id, at, actor, account_id, project_id, action) SELECT * FROM unnest($1::uuid[], \
     $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[])";

/// A new outbox entry.
pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO outbox (id, kind, to_email, invitation_id, \
     project_id, project_name, account_name, role, inviter, expires_at, send, status, attempts, \
     next_attempt_at, last_error, created_at, finished_at, language, sent_by, role_name) VALUES \
     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

/// New outbox entries, a column per array (in [`INSERT_OUTBOX`]'s order).
pub(crate) const INSERT_OUTBOX_ENTRIES: &str = "INSERT INTO outbox (id, kind, to_email, \
     invitation_id, project_id, project_name, account_name, role, inviter, expires_at, send, \
     status, attempts, next_attempt_at, last_error, created_at, finished_at, language, sent_by, \
     role_name) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], \
     $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
     $12::text[], $13::bigint[], $14::bigint[], $15::text[], $16::bigint[], $17::bigint[], \
     $18::text[], $19::uuid[], $20::text[])";

/// An outbox entry's fields (`$1` id).
pub(crate) const UPDATE_OUTBOX: &str = found!(
    "UPDATE outbox SET kind = $2, to_email = $3, \
     invitation_id = $4, project_id = $5, project_name = $6, account_name = $7, role = $8, \
     inviter = $9, expires_at = $10, send = $11, status = $12, attempts = $13, \
     next_attempt_at = $14, last_error = $15, created_at = $16, finished_at = $17, \
     language = $18, sent_by = $19, role_name = $20 WHERE id = $1"
);

/// Outbox entries' fields, a column per array (in [`INSERT_OUTBOX`]'s order, `$21` how many,
/// each id once): `RS404` unless every one exists.
pub(crate) const UPDATE_OUTBOX_ENTRIES: &str = "WITH w AS (UPDATE outbox o SET kind = r.kind, \
     to_email = r.to_email, invitation_id = r.invitation_id, project_id = r.project_id, \
     project_name = r.project_name, account_name = r.account_name, role = r.role, \
     inviter = r.inviter, expires_at = r.expires_at, send = r.send, status = r.status, \
     attempts = r.attempts, next_attempt_at = r.next_attempt_at, last_error = r.last_error, \
     created_at = r.created_at, finished_at = r.finished_at, language = r.language, \
     sent_by = r.sent_by, role_name = r.role_name \
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], \
     $13::bigint[], $14::bigint[], $15::text[], $16::bigint[], $17::bigint[], $18::text[], \
     $19::uuid[], $20::text[]) AS r (id, kind, to_email, invitation_id, project_id, \
     project_name, account_name, role, inviter, expires_at, send, status, attempts, \
     next_attempt_at, last_error, created_at, finished_at, language, sent_by, role_name) \
     WHERE o.id = r.id RETURNING 1) \
     SELECT roster_found(CASE (SELECT count(*) FROM w) WHEN $21 THEN $21 ELSE 0 END)";

#[cfg(test)]
mod plans;
