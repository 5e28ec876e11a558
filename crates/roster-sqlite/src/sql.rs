//! Every statement the store runs, in one place: constants, so each is prepared once per
//! connection (`prepare_cached` keys on the text) and a test can check all of them against the
//! schema and its indexes.
//!
//! Column lists are macros so that statements stay `concat!`-able constants; the decoders in
//! [`crate::codec`] read the columns in the order listed here. The wide tables (invitations,
//! the outbox) are described in [`crate::tables`], which makes their lists and inserts.

use crate::tables;

macro_rules! project_columns {
    () => {
        "id, account_id, name, created_at, version"
    };
}

macro_rules! account_columns {
    () => {
        "a.id, a.name, a.created_at, aa.user_id, a.allowed_domains"
    };
}

macro_rules! user_columns {
    () => {
        "id, email, registered_at, created_at, version"
    };
}

macro_rules! membership_columns {
    () => {
        "project_id, user_id, role, invited_by, since"
    };
}

macro_rules! audit_columns {
    () => {
        "id, at, actor, account_id, project_id, action"
    };
}

// ---- reads ----

/// One account and its administrators, one row per administrator (`?1` account).
pub(crate) const ACCOUNT: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts a LEFT JOIN account_administrators aa ON aa.account_id = a.id \
     WHERE a.id = ?1 ORDER BY aa.position"
);

/// The accounts a user administers or belongs to through a project (`?1` user).
pub(crate) const ACCOUNTS_OF_USER: &str = concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts a LEFT JOIN account_administrators aa ON aa.account_id = a.id \
     WHERE a.id IN ( \
         SELECT account_id FROM account_administrators WHERE user_id = ?1 \
         UNION \
         SELECT p.account_id FROM memberships m JOIN projects p ON p.id = m.project_id \
         WHERE m.user_id = ?1) \
     ORDER BY a.id, aa.position"
);

/// A project (`?1` id).
pub(crate) const PROJECT: &str = concat!(
    "SELECT ",
    project_columns!(),
    " FROM projects WHERE id = ?1"
);

/// An account's projects (`?1` account).
pub(crate) const PROJECTS: &str = concat!(
    "SELECT ",
    project_columns!(),
    " FROM projects WHERE account_id = ?1 ORDER BY id"
);

/// A user (`?1` id).
pub(crate) const USER: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1");

/// A user by canonical address (`?1`).
pub(crate) const USER_BY_EMAIL: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE email_canonical = ?1"
);

/// A user by canonical address (`?1`), followed by their password hash: the sign-in lookup.
pub(crate) const CREDENTIALS: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", password_hash FROM users WHERE email_canonical = ?1"
);

/// One membership (`?1` project, `?2` user).
pub(crate) const MEMBERSHIP: &str = concat!(
    "SELECT ",
    membership_columns!(),
    " FROM memberships WHERE project_id = ?1 AND user_id = ?2"
);

/// A page of members with their users (`?1` project, `?2` after user, `?3` limit).
pub(crate) const MEMBERS: &str = "SELECT m.project_id, m.user_id, m.role, m.invited_by, m.since, \
     u.id, u.email, u.registered_at, u.created_at, u.version \
     FROM memberships m JOIN users u ON u.id = m.user_id \
     WHERE m.project_id = ?1 AND m.user_id > ?2 ORDER BY m.user_id LIMIT ?3";

/// Members of a project holding a role (`?1` project, `?2` role).
pub(crate) const COUNT_MEMBERS: &str =
    "SELECT COUNT(*) FROM memberships WHERE project_id = ?1 AND role = ?2";

/// An invitation (`?1` id).
pub(crate) const INVITATION: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE id = ?1"
);

/// The invitation a token opens (`?1` token hash): what preview and accept look up.
pub(crate) const INVITATION_BY_TOKEN: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE token_hash = ?1"
);

/// The stored-pending invitation of an address (`?1` project, `?2` canonical address).
/// `state = 'pending'` is spelled out so the partial unique index answers.
pub(crate) const PENDING_INVITATION: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE project_id = ?1 AND email_canonical = ?2 AND state = 'pending'"
);

/// A page of a project's invitations in any state (`?1` project, `?2` after, `?3` limit).
pub(crate) const INVITATIONS_ALL: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
);

/// A page of invitations pending in effect (`?4` now), through the partial index of the pending
/// (the planner would otherwise walk the project's whole history in id order, which looks as
/// cheap to it).
pub(crate) const INVITATIONS_PENDING: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations INDEXED BY invitations_pending WHERE project_id = ?1 AND id > ?2 \
     AND state = 'pending' AND expires_at > ?4 ORDER BY id LIMIT ?3"
);

/// A page of invitations expired in effect: stored as expired, or stored as pending past their
/// expiry (`?4` now).
pub(crate) const INVITATIONS_EXPIRED: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE project_id = ?1 AND id > ?2 \
     AND (state = 'expired' OR (state = 'pending' AND expires_at <= ?4)) ORDER BY id LIMIT ?3"
);

/// A page of invitations in a final stored state (`?4` state).
pub(crate) const INVITATIONS_IN_STATE: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE project_id = ?1 AND id > ?2 AND state = ?4 ORDER BY id LIMIT ?3"
);

/// Invitations pending in effect (`?1` project, `?2` now).
pub(crate) const COUNT_PENDING: &str = "SELECT COUNT(*) FROM invitations \
     WHERE project_id = ?1 AND state = 'pending' AND expires_at > ?2";

/// Invitation emails someone sent since an instant (`?1` sender, `?2` since). The kinds are
/// spelled out so the partial index answers.
pub(crate) const COUNT_SENDS_BY: &str = "SELECT COUNT(*) FROM outbox \
     WHERE sent_by = ?1 AND created_at >= ?2 AND kind IN ('invitation', 'access_granted')";

/// A page of a project's audit events (`?1` project, `?2` after, `?3` limit).
pub(crate) const AUDIT_EVENTS: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM audit_events WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
);

/// An outbox entry (`?1` id).
pub(crate) const OUTBOX_ENTRY: &str =
    concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = ?1");

/// Queued entries due at an instant, earliest first (`?1` now, `?2` limit).
pub(crate) const DUE_NOTICES: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1 \
     ORDER BY next_attempt_at, id LIMIT ?2"
);

/// A page of the whole outbox (`?1` after, `?2` limit).
pub(crate) const OUTBOX_ALL: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2"
);

/// A page of one project's outbox (`?3` project).
pub(crate) const OUTBOX_OF_PROJECT: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE project_id = ?3 AND id > ?1 ORDER BY id LIMIT ?2"
);

/// A page of the outbox in one status (`?3` status).
pub(crate) const OUTBOX_IN_STATUS: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE status = ?3 AND id > ?1 ORDER BY id LIMIT ?2"
);

/// A page of the failed entries (`?1` after, `?2` limit); the status is spelled out so the
/// partial index answers.
pub(crate) const OUTBOX_FAILED: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE status = 'failed' AND id > ?1 ORDER BY id LIMIT ?2"
);

/// A page of one project's failed entries (`?3` project): the failed are few, so they are
/// found through their own index and filtered by project, rather than by walking the project's
/// delivered history.
pub(crate) const OUTBOX_OF_PROJECT_FAILED: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox INDEXED BY outbox_failed \
     WHERE status = 'failed' AND project_id = ?3 AND id > ?1 ORDER BY id LIMIT ?2"
);

/// A page of one project's outbox in one status (`?3` project, `?4` status).
pub(crate) const OUTBOX_OF_PROJECT_IN_STATUS: &str = concat!(
    "SELECT ",
    outbox_columns!(),
    " FROM outbox WHERE project_id = ?3 AND status = ?4 AND id > ?1 ORDER BY id LIMIT ?2"
);

// ---- writes ----

/// Moves a project one version forward if it is at the expected one (`?1` id, `?2` version).
pub(crate) const BUMP_PROJECT: &str =
    "UPDATE projects SET version = version + 1 WHERE id = ?1 AND version = ?2";

/// Moves a user one version forward if it is at the expected one (`?1` id, `?2` version).
pub(crate) const BUMP_USER: &str =
    "UPDATE users SET version = version + 1 WHERE id = ?1 AND version = ?2";

/// Whether a project exists (`?1` id).
pub(crate) const PROJECT_EXISTS: &str = "SELECT 1 FROM projects WHERE id = ?1";

/// Whether a user exists (`?1` id).
pub(crate) const USER_EXISTS: &str = "SELECT 1 FROM users WHERE id = ?1";

/// A new account.
pub(crate) const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, name, created_at, allowed_domains) VALUES (?1, ?2, ?3, ?4)";

/// An account's name and allowed domains (`?1` id).
pub(crate) const UPDATE_ACCOUNT: &str =
    "UPDATE accounts SET name = ?2, allowed_domains = ?3 WHERE id = ?1";

/// Every administrator of an account, before they are written again (`?1` account).
pub(crate) const DELETE_ACCOUNT_ADMINISTRATORS: &str =
    "DELETE FROM account_administrators WHERE account_id = ?1";

/// One administrator of a new account, at its position in the list.
pub(crate) const INSERT_ACCOUNT_ADMINISTRATOR: &str =
    "INSERT INTO account_administrators (account_id, position, user_id) VALUES (?1, ?2, ?3)";

/// A new project.
pub(crate) const INSERT_PROJECT: &str = concat!(
    "INSERT INTO projects (",
    project_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5)"
);

/// A new user with its canonical address and password hash.
pub(crate) const INSERT_USER: &str = concat!(
    "INSERT INTO users (",
    user_columns!(),
    ", email_canonical, password_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
);

/// A user's fields (`?1` id). The version is left alone (updates keep the stored version),
/// and so is the password hash when `?6` is `NULL`.
pub(crate) const UPDATE_USER: &str = "UPDATE users SET email = ?2, email_canonical = ?3, \
     registered_at = ?4, created_at = ?5, password_hash = COALESCE(?6, password_hash) \
     WHERE id = ?1";

/// A new membership.
pub(crate) const INSERT_MEMBERSHIP: &str = concat!(
    "INSERT INTO memberships (",
    membership_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5)"
);

/// A membership's fields (`?1` project, `?2` user).
pub(crate) const UPDATE_MEMBERSHIP: &str = "UPDATE memberships SET role = ?3, invited_by = ?4, \
     since = ?5 WHERE project_id = ?1 AND user_id = ?2";

/// A membership removed (`?1` project, `?2` user).
pub(crate) const DELETE_MEMBERSHIP: &str =
    "DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2";

/// A new invitation, its columns as [`tables::invitations`] lists them.
pub(crate) const INSERT_INVITATION: &str = tables::invitations::INSERT;

/// A new audit event.
pub(crate) const INSERT_AUDIT_EVENT: &str = concat!(
    "INSERT INTO audit_events (",
    audit_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
);

/// A new outbox entry, its columns as [`tables::outbox`] lists them.
pub(crate) const INSERT_OUTBOX: &str = tables::outbox::INSERT;

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// Every statement, by name.
    const ALL: &[(&str, &str)] = &[
        ("ACCOUNT", ACCOUNT),
        ("ACCOUNTS_OF_USER", ACCOUNTS_OF_USER),
        ("PROJECT", PROJECT),
        ("PROJECTS", PROJECTS),
        ("USER", USER),
        ("USER_BY_EMAIL", USER_BY_EMAIL),
        ("CREDENTIALS", CREDENTIALS),
        ("MEMBERSHIP", MEMBERSHIP),
        ("MEMBERS", MEMBERS),
        ("COUNT_MEMBERS", COUNT_MEMBERS),
        ("INVITATION", INVITATION),
        ("INVITATION_BY_TOKEN", INVITATION_BY_TOKEN),
        ("PENDING_INVITATION", PENDING_INVITATION),
        ("INVITATIONS_ALL", INVITATIONS_ALL),
        ("INVITATIONS_PENDING", INVITATIONS_PENDING),
        ("INVITATIONS_EXPIRED", INVITATIONS_EXPIRED),
        ("INVITATIONS_IN_STATE", INVITATIONS_IN_STATE),
        ("COUNT_PENDING", COUNT_PENDING),
        ("COUNT_SENDS_BY", COUNT_SENDS_BY),
        ("AUDIT_EVENTS", AUDIT_EVENTS),
        ("OUTBOX_ENTRY", OUTBOX_ENTRY),
        ("DUE_NOTICES", DUE_NOTICES),
        ("OUTBOX_ALL", OUTBOX_ALL),
        ("OUTBOX_OF_PROJECT", OUTBOX_OF_PROJECT),
        ("OUTBOX_IN_STATUS", OUTBOX_IN_STATUS),
        ("OUTBOX_FAILED", OUTBOX_FAILED),
        ("OUTBOX_OF_PROJECT_FAILED", OUTBOX_OF_PROJECT_FAILED),
        ("OUTBOX_OF_PROJECT_IN_STATUS", OUTBOX_OF_PROJECT_IN_STATUS),
        ("BUMP_PROJECT", BUMP_PROJECT),
        ("BUMP_USER", BUMP_USER),
        ("PROJECT_EXISTS", PROJECT_EXISTS),
        ("USER_EXISTS", USER_EXISTS),
        ("INSERT_ACCOUNT", INSERT_ACCOUNT),
        ("INSERT_ACCOUNT_ADMINISTRATOR", INSERT_ACCOUNT_ADMINISTRATOR),
        ("UPDATE_ACCOUNT", UPDATE_ACCOUNT),
        (
            "DELETE_ACCOUNT_ADMINISTRATORS",
            DELETE_ACCOUNT_ADMINISTRATORS,
        ),
        ("INSERT_PROJECT", INSERT_PROJECT),
        ("INSERT_USER", INSERT_USER),
        ("UPDATE_USER", UPDATE_USER),
        ("INSERT_MEMBERSHIP", INSERT_MEMBERSHIP),
        ("UPDATE_MEMBERSHIP", UPDATE_MEMBERSHIP),
        ("DELETE_MEMBERSHIP", DELETE_MEMBERSHIP),
        ("INSERT_INVITATION", INSERT_INVITATION),
        ("INSERT_AUDIT_EVENT", INSERT_AUDIT_EVENT),
        ("INSERT_OUTBOX", INSERT_OUTBOX),
    ];

    /// Statements allowed to walk a whole table: listings of everything, which page by id.
    const WHOLE_TABLE: &[&str] = &["OUTBOX_ALL"];

    /// Statements allowed to sort their result: the accounts of one user, a handful of rows
    /// found through indexes, ordered by id after a union.
    const SORTS_OWN_RESULT: &[&str] = &["ACCOUNTS_OF_USER"];

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrate::migrate(&mut conn).unwrap();
        conn
    }

    /// SQLite's plan for `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        // Parameters left unbound are NULL, which changes nothing in a plan.
        let mut rows = stmt.raw_query();
        let mut steps = Vec::new();
        while let Some(row) = rows.next().unwrap() {
            steps.push(row.get::<_, String>(3).unwrap());
        }
        steps
    }

    #[test]
    fn every_statement_prepares_against_the_schema() {
        let conn = migrated();
        for (name, sql) in ALL {
            if let Err(error) = conn.prepare(sql) {
                panic!("{name}: {error}");
            }
        }
    }

    /// Every lookup a command makes goes through an index (O(log n) with millions of
    /// invitations): no step scans a table, and no sort needs a temporary B-tree. SQLite plans
    /// the same way whatever the table sizes (no `ANALYZE` statistics are kept), so an empty
    /// database shows the plans a large one gets.
    #[test]
    fn every_statement_searches_an_index() {
        let conn = migrated();
        let mut offending = Vec::new();
        for (name, sql) in ALL {
            let steps = plan(&conn, sql);
            let scans = |step: &String| step.starts_with("SCAN") && !WHOLE_TABLE.contains(name);
            let sorts =
                |step: &String| step.contains("TEMP B-TREE") && !SORTS_OWN_RESULT.contains(name);
            if steps.iter().any(|step| scans(step) || sorts(step)) {
                offending.push(format!("{name}: {steps:?}"));
            }
        }
        assert!(offending.is_empty(), "{}", offending.join("\n"));
    }

    #[test]
    fn lookups_by_token_and_pending_address_use_their_unique_indexes() {
        let conn = migrated();
        let by_token = plan(&conn, INVITATION_BY_TOKEN).join(" | ");
        assert!(
            by_token.contains("USING INDEX sqlite_autoindex_invitations"),
            "{by_token}"
        );
        let pending = plan(&conn, PENDING_INVITATION).join(" | ");
        assert!(
            pending.contains("invitations_one_pending_per_address"),
            "{pending}"
        );
    }

    /// The statements schema 4 gave an index of their own use it, as they were written to.
    #[test]
    fn counts_and_failed_listings_use_their_partial_indexes() {
        let conn = migrated();
        for (name, sql, expected) in [
            (
                "COUNT_PENDING",
                COUNT_PENDING,
                "USING COVERING INDEX invitations_pending (project_id=?)",
            ),
            (
                "COUNT_SENDS_BY",
                COUNT_SENDS_BY,
                "INDEX outbox_sends_by_sender (sent_by=? AND created_at>?)",
            ),
            (
                "INVITATIONS_PENDING",
                INVITATIONS_PENDING,
                "USING INDEX invitations_pending (project_id=? AND id>?)",
            ),
            ("OUTBOX_FAILED", OUTBOX_FAILED, "INDEX outbox_failed (id>?)"),
            (
                "OUTBOX_OF_PROJECT_FAILED",
                OUTBOX_OF_PROJECT_FAILED,
                "INDEX outbox_failed (id>?)",
            ),
        ] {
            let steps = plan(&conn, sql).join(" | ");
            assert!(steps.contains(expected), "{name}: {steps}");
        }
    }
}
