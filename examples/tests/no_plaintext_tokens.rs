//! After full quickstart runs on a SQLite file, no invitation token is anywhere in the file (nor in
//! its WAL): only their hashes are.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster::{PasswordPolicy, Roster, RosterConfig};
use roster_memory::RecordingNotifier;
use roster_sqlite::SqliteStore;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every byte of the database and its side files.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        bytes.extend(std::fs::read(&path).expect("read file"));
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_file_holds_token_hashes_but_never_a_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("quickstart.db");
    let notifier = RecordingNotifier::new();
    for _run in 0..2 {
        let store = Arc::new(SqliteStore::open(&path).expect("open"));
        let roster = Roster::builder(store, Arc::new(notifier.clone()))
            .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
            .roles(roster_examples::portal::catalog())
            .build()
            .expect("a valid configuration");
        roster_examples::portal::run(&roster)
            .await
            .expect("the portal flow");
    }

    let tokens: Vec<_> = notifier
        .messages()
        .into_iter()
        .filter_map(|m| m.token)
        .collect();
    assert_eq!(tokens.len(), 8, "two runs, four invitations each");
    let bytes = database_bytes(dir.path());
    for token in &tokens {
        let text = token.expose_secret();
        let raw = URL_SAFE_NO_PAD.decode(&text).expect("base64url");
        assert!(
            !contains(&bytes, text.as_bytes()),
            "token text found in the file"
        );
        assert!(!contains(&bytes, &raw), "raw token bytes found in the file");
    }
    // The scan does read what was stored: the hash of the last token of each invitation is there.
    let last = tokens.last().expect("a token");
    assert!(
        contains(&bytes, last.hash().as_bytes()),
        "token hash missing: the scan reads nothing"
    );
}
