//! The plans the server picks for the statements whose plan is not obvious, against the server
//! `ROSTER_POSTGRES_URL` names (skipped with a notice when it is unset).
//!
//! A plan is asserted rather than a duration: whether a lookup probes an index or filters a
//! scan does not depend on the machine.

use tokio_postgres::{Client, NoTls};

use crate::{PostgresOptions, PostgresStore};

/// Pending invitations (and users) the project holds when its plans are read: enough that a
/// scan of them would show.
const HELD: i64 = 2_000;

/// A client on a freshly migrated schema holding one project with [`HELD`] pending invitations
/// and as many users, on tables never analysed (the state of a new deployment in its first
/// minute, and the one in which the planner guessed worst); `None` without a server.
async fn populated() -> Option<(Client, uuid::Uuid)> {
    let Ok(url) = std::env::var("ROSTER_POSTGRES_URL") else {
        eprintln!("ROSTER_POSTGRES_URL is not set: skipping this PostgreSQL test");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!("plans_{}_{nanos}", std::process::id());
    let options = PostgresOptions::new(&url)
        .expect("the URL")
        .schema(&schema)
        .expect("a schema name");
    PostgresStore::connect_with(options).await.expect("migrate");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    let project = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    client
        .batch_execute(&format!(
            "SET search_path TO {schema};
             ALTER TABLE invitations SET (autovacuum_enabled = false);
             ALTER TABLE users SET (autovacuum_enabled = false);
             INSERT INTO accounts (id, name, created_at) VALUES ('{project}', 'A', 0);
             INSERT INTO projects (id, account_id, name, created_at) VALUES ('{project}', '{project}', 'P', 0);
             INSERT INTO project_versions (project_id, version) VALUES ('{project}', 0);
             INSERT INTO users (id, email, email_canonical, created_at)
                 SELECT gen_random_uuid(), 'u' || n || '@x.example', 'u' || n || '@x.example', 0
                 FROM generate_series(1, {HELD}) n;
             INSERT INTO invitations (id, project_id, email, role, invited_by, state, created_at,
                     sent_at, expires_at, token_hash, sends, email_canonical)
                 SELECT gen_random_uuid(), '{project}', 'i' || n || '@x.example', 'user',
                     '{project}', 'pending', 0, 0, 1, sha256(n::text::bytea), 1,
                     'i' || n || '@x.example'
                 FROM generate_series(1, {HELD}) n;"
        ))
        .await
        .expect("the project's invitations");
    Some((client, project))
}

/// `statement`'s plan, as run with `params` under each way of planning a prepared statement.
async fn plans(
    client: &Client,
    statement: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Vec<(&'static str, String)> {
    let mut plans = Vec::new();
    for mode in ["force_custom_plan", "force_generic_plan"] {
        client
            .batch_execute(&format!("SET plan_cache_mode = {mode}"))
            .await
            .expect("set the plan mode");
        let explain = client
            .prepare(&format!("EXPLAIN (ANALYZE, COSTS OFF) {statement}"))
            .await
            .expect("prepare");
        let lines: Vec<String> = client
            .query(&explain, params)
            .await
            .expect("explain")
            .iter()
            .map(|row| row.get(0))
            .collect();
        plans.push((mode, lines.join("\n")));
    }
    plans
}

#[tokio::test]
async fn an_invites_address_lookup_probes_by_address_whatever_the_project_holds() {
    let Some((client, project)) = populated().await else {
        return;
    };
    // A new address and one already invited: either way, found by probing, not by scanning.
    let addresses = vec!["new@x.example".to_owned(), "i7@x.example".to_owned()];
    for (mode, plan) in plans(&client, super::INVITEES, &[&project, &addresses]).await {
        assert!(
            !plan.contains("Rows Removed") && !plan.contains("Seq Scan"),
            "{mode}: the lookup scans what the project or the site holds:\n{plan}"
        );
        assert!(
            plan.contains("invitations_one_pending_per_address"),
            "{mode}: the pending invitation is not found by address:\n{plan}"
        );
    }
}
