//! Bytes on disk per stored invitation: invites `N` new addresses (default 100,000; the first
//! argument) through the service into a fresh SQLite file, in calls of 10,000, records the
//! deliveries, closes the store (a final checkpoint folds the WAL into the file), and prints the
//! file's size divided by `N`.
//!
//! `cargo run --release -p roster-benches --bin footprint -- 1000000`

use std::sync::Arc;

use roster::{InviteRequest, Role};
use roster_benches::{roster_on, seed_admin_project};
use roster_sqlite::{SqliteOptions, SqliteStore, Synchronous};

const CALL: usize = 10_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("a number of invitations"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    // `FOOTPRINT_FILE` keeps the file for inspection (`sqlite3 FILE "SELECT name, sum(pgsize)
    // FROM dbstat GROUP BY name"`).
    let path = std::env::var_os("FOOTPRINT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("footprint.db"));
    let options = SqliteOptions::default().synchronous(Synchronous::Normal);
    let store = Arc::new(SqliteStore::open_with(&path, options).expect("a file"));
    let roster = roster_on(store.clone());
    let seeded = seed_admin_project(&roster).await;
    let (admin, project) = (seeded.admin.id, seeded.project.id);
    let empty = std::fs::metadata(&path).expect("the file").len();
    let mut invited = 0;
    while invited < count {
        let rows: Vec<InviteRequest> = (invited..count.min(invited + CALL))
            .map(|n| InviteRequest::new(format!("person{n:09}@footprint.example"), Role::USER))
            .collect();
        let report = roster.invite(admin, project, &rows).await.expect("invite");
        assert_eq!(report.sent(), rows.len());
        invited += rows.len();
    }
    roster.flush().await.expect("delivery records");
    drop(roster);
    drop(store);
    let size = std::fs::metadata(&path).expect("the file").len();
    println!(
        "footprint invitations={count} file_bytes={size} bytes_per_invitation={:.0}",
        (size - empty) as f64 / count as f64
    );
}
