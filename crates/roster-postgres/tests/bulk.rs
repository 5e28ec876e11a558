//! A bulk invite of thousands of addresses is one step: its reads are one `unnest` statement,
//! and its thousands of writes one pipelined batch with the commit. Skipped with a notice when
//! `ROSTER_POSTGRES_URL` is unset.

mod common;

use std::sync::Arc;
use std::time::Instant;

use roster::store::{InvitationQuery, OutboxQuery};
use roster::{
    DeliveryStatus, InvitationState, InviteOutcome, InviteRequest, PasswordPolicy, Role, Roster,
    RosterConfig,
};
use roster_memory::RecordingNotifier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_invite_of_3000_addresses_lands_whole() {
    let Some(store) = common::fresh_store().await else {
        return;
    };
    let roster = Roster::builder(store.clone(), Arc::new(RecordingNotifier::new()))
        .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
        .build()
        .unwrap();
    let admin = roster
        .register("admin@example.com", "a long password")
        .await
        .unwrap();
    let account = roster.create_account(admin.id, "Acme").await.unwrap();
    let project = roster
        .create_project(admin.id, account.id, "Rocket")
        .await
        .unwrap();
    let rows: Vec<_> = (0..3000)
        .map(|i| InviteRequest::new(format!("person{i}@example.com"), Role::USER))
        .collect();
    let started = Instant::now();
    let result = roster.invite(admin.id, project.id, &rows).await.unwrap();
    eprintln!("bulk invite of 3000 addresses: {:?}", started.elapsed());
    assert!(
        result
            .rows
            .iter()
            .all(|row| matches!(row.outcome, InviteOutcome::Invited { .. }))
    );
    let pending = store
        .invitations(&InvitationQuery {
            project: project.id,
            state: Some(InvitationState::Pending),
            now: chrono::Utc::now(),
            after: None,
            limit: 10_000,
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 3000);
    let queued = store
        .outbox(&OutboxQuery {
            status: Some(DeliveryStatus::Queued),
            project: Some(project.id),
            after: None,
            limit: 10_000,
        })
        .await
        .unwrap();
    // Delivered right after the commit, or still queued: one notice per address either way.
    let delivered = store
        .outbox(&OutboxQuery {
            status: Some(DeliveryStatus::Delivered),
            project: Some(project.id),
            after: None,
            limit: 10_000,
        })
        .await
        .unwrap();
    assert_eq!(queued.len() + delivered.len(), 3000);
    // Inviting them all again refreshes each pending invitation, in one step too.
    let again = roster.invite(admin.id, project.id, &rows).await.unwrap();
    assert!(
        again
            .rows
            .iter()
            .all(|row| matches!(row.outcome, InviteOutcome::Refreshed { .. }))
    );
}
