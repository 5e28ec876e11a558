//! A connection to a server over TLS, verified against a root certificate given to the store
//! (`ROSTER_POSTGRES_TLS_ROOT`, the throw-away authority that signed the certificate of
//! `scripts/postgres-throwaway`'s server). Needs the `tls` feature:
//! `scripts/postgres-throwaway -- cargo test -p roster-postgres --features tls --test tls`.
//! Skipped with a notice without the variables.

#![cfg(feature = "tls")]

mod common;

use std::sync::Arc;

use roster::{InviteRequest, Limits, Role};
use roster_memory::RecordingNotifier;
use roster_postgres::{PostgresError, PostgresStore};

const APPLICATION: &str = "roster_tls_test";

#[tokio::test]
async fn the_store_works_over_tls_verified_against_the_root_it_was_given() {
    let Ok(root) = std::env::var("ROSTER_POSTGRES_TLS_ROOT") else {
        eprintln!("ROSTER_POSTGRES_TLS_ROOT is not set: skipping the TLS test");
        return;
    };
    let Some(url) = common::url() else {
        return;
    };
    let pem = std::fs::read(&root).expect("the server's certificate");
    let url = format!("{url}?sslmode=require&application_name={APPLICATION}");
    let schema = common::unique_schema();

    // Trusting only the webpki roots, the self-signed server is refused.
    let refused = PostgresStore::connect_with(common::options(&url, &schema).tls(true)).await;
    assert!(
        matches!(refused, Err(PostgresError::Connect { .. })),
        "{refused:?}"
    );

    let options = common::options(&url, &schema)
        .tls_root_certificates(&pem)
        .expect("the certificate parses");
    let store = PostgresStore::connect_with(options).await.expect("connect");
    store.check().await.expect("ready");
    let roster = common::roster_builder(
        Arc::new(store),
        Arc::new(RecordingNotifier::new()),
        Limits::default(),
    )
    .build()
    .unwrap();
    let (admin, project) = common::admin_with_project(&roster).await;
    let rows = [InviteRequest::new("ana@example.com", Role::USER)];
    assert_eq!(
        roster
            .invite(admin.id, project.id, &rows)
            .await
            .unwrap()
            .sent(),
        1
    );

    // The server says the store's connections are encrypted.
    let client = common::raw(&common::url().unwrap()).await;
    let (all, encrypted): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
                 JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = $1",
                &[&APPLICATION],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(all > 0, "no connection of the store's is open");
    assert_eq!(encrypted, all);
}

#[test]
fn root_certificates_that_do_not_parse_are_refused() {
    let options = roster_postgres::PostgresOptions::new("postgres://u@127.0.0.1/db").unwrap();
    let none = options.clone().tls_root_certificates(b"not a certificate");
    assert!(
        matches!(none, Err(PostgresError::Certificates { .. })),
        "{none:?}"
    );
    let broken = options
        .tls_root_certificates(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    assert!(
        matches!(broken, Err(PostgresError::Certificates { .. })),
        "{broken:?}"
    );
}
