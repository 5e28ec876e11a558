//! Password hashing (argon2, slow on purpose) never holds an async worker: on a runtime with a
//! single thread, other tasks keep running while someone signs up or signs in.

use std::sync::Arc;

use roster::{Roster, RosterError};
use roster_memory::{InMemoryStore, RecordingNotifier};

/// How many times the only thread of the runtime came back to this task while `work` ran on
/// it. Hashing inline would hold the thread for the whole hash, leaving a handful of turns.
async fn turns_while<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> (u64, T) {
    let running = tokio::spawn(work);
    let mut turns = 0;
    while !running.is_finished() {
        tokio::task::yield_now().await;
        turns += 1;
    }
    (turns, running.await.expect("the task ends"))
}

#[tokio::test(flavor = "current_thread")]
async fn signing_up_and_in_leave_the_runtime_free() {
    // The default policy: the real cost, as in production.
    let roster = Roster::new(
        Arc::new(InMemoryStore::new()),
        Arc::new(RecordingNotifier::new()),
    );
    let signing_up = roster.clone();
    let (turns, registered) = turns_while(async move {
        signing_up
            .register("ann@example.com", "correct horse battery")
            .await
    })
    .await;
    registered.expect("registered");
    assert!(
        turns >= 100,
        "only {turns} turns while hashing: it ran on the runtime's thread"
    );

    let signing_in = roster.clone();
    let (turns, signed_in) = turns_while(async move {
        signing_in
            .authenticate("ann@example.com", "wrong password here")
            .await
    })
    .await;
    assert!(matches!(signed_in, Err(RosterError::InvalidCredentials)));
    assert!(turns >= 100, "only {turns} turns while verifying");
}
