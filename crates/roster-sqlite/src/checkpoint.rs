//! WAL checkpoints off the commit path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that
//! commit (and every step of its group) then waits for the whole WAL to be copied into the
//! database file, which is what made an acceptance's p99 many times its median. The writer
//! instead hands the checkpoint to a thread of the store's own, with a connection of its own,
//! which runs it `PASSIVE`: it copies what no reader still needs, never blocks the writer, and
//! the writer starts the WAL over once a checkpoint has caught up. Only when a steady stream of
//! commits keeps it from catching up does a commit finish the job itself (see `MAX_PAGES`).

use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};

use rusqlite::Connection;
use rusqlite::wal::CheckpointMode;

use crate::error::SqliteError;
use crate::options::SqliteOptions;

/// How many pages the WAL may hold before the writer asks for a checkpoint: SQLite's own
/// automatic threshold.
const PAGES: i32 = 1_000;

/// How many pages the WAL may hold before the writer checkpoints in its own commit after all.
/// Under a steady stream of commits a checkpoint running beside the writer never quite catches
/// up (the writer appends while it copies), and only a complete one lets the writer start the
/// WAL over; by then the thread has copied most frames, so this one has little left to do.
const MAX_PAGES: i32 = 4 * PAGES;

/// Makes `writer` ask a checkpointing thread (started here, with its own connection to `path`)
/// instead of checkpointing in its commits. The thread ends when `writer` closes.
pub(crate) fn hand_off(
    writer: &mut Connection,
    path: &Path,
    options: &SqliteOptions,
) -> Result<(), SqliteError> {
    let conn = crate::store::open_connection(path, options)?;
    let (ask, asked) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("roster-sqlite-checkpoint".into())
        .spawn(move || {
            while asked.recv().is_ok() {
                if let Err(error) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                    tracing::warn!(error = %error, "WAL checkpoint failed; the next one retries");
                }
            }
        })
        .map_err(|source| SqliteError::Checkpointer { source })?;
    writer
        .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: i32| {
            if pages >= MAX_PAGES {
                // A checkpoint that fails here is retried at the next commit.
                let _ = wal.checkpoint();
            } else if pages >= PAGES {
                ask_for_checkpoint(&ask);
            }
            Ok(())
        }))
        .map_err(|source| SqliteError::Configure {
            setting: "wal_hook".into(),
            source,
        })
}

/// Asks once; a checkpoint already asked for and not yet started covers this one too.
fn ask_for_checkpoint(ask: &SyncSender<()>) {
    match ask.try_send(()) {
        Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
    }
}
