//! A process killed (SIGKILL) during a bulk invite leaves the file whole: the batch is all there
//! or not at all, the file reopens, and notices it queued but never sent go out after restart.
//!
//! Rounds run one after another on the same file, each in a new child killed at a chosen point:
//! once the batch is committed and the child is sending (its notifier never returns); early and
//! halfway into the transaction writing the batch; and halfway through its commit writing the
//! write-ahead log. The parent finds the write by probing the file's write lock from outside,
//! watches the log's size, and aims the later kills with what the committed round measured.

use roster::StoreExt;
use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use roster::store::{InvitationQuery, OutboxQuery};
use roster::{
    AuditAction, AuditEvent, DeliveryStatus, Email, Invitation, InvitationId, InvitationState,
    InviteRequest, ManualClock, Notifier, NotifyError, OutboxEntry, OutgoingNotice, ProjectId,
    Store, UserId, Version,
};
use roster_memory::RecordingNotifier;
use roster_sqlite::rusqlite::Connection;
use roster_sqlite::{SqliteOptions, SqliteStore, Synchronous};

use crate::support::{
    Children, Event, LockProbe, OFFERED, PATIENCE, file_problems, input, is_child, parent_service,
    runtime, say, seed, service, start, test_name,
};

/// Rows of each bulk invite: one transaction writing 40,000 rows (users, invitations, outbox
/// entries, audit events), about a second of writing even in a debug build, so a kill lands in
/// the middle of it.
const ROWS: usize = 10_000;

/// Read page size when counting what a round left.
const PAGE: usize = 500;

/// Where in the bulk invite a child is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// When it starts sending the first notice: the batch is committed, nothing delivered.
    WhenSending,
    /// Inside the transaction writing the batch, this fraction of the way through it (as long
    /// as the `WhenSending` round held the write lock).
    IntoTheWrite(f64),
    /// While the commit writes the batch's pages to the write-ahead log, once it has written
    /// this fraction of them (as many as the `WhenSending` round wrote): the file is left with
    /// a torn, uncommitted tail for the next opener to discard.
    IntoTheCommit(f64),
}

/// Each round's name (which prefixes its addresses) and kill point, in order: the first
/// measures how long the write takes.
const ROUNDS: [(&str, Kill); 4] = [
    ("sent", Kill::WhenSending),
    ("early", Kill::IntoTheWrite(0.0)),
    ("halfway", Kill::IntoTheWrite(0.5)),
    ("committing", Kill::IntoTheCommit(0.5)),
];

#[test]
fn processes_killed_during_a_bulk_invite_leave_whole_batches_and_their_notices_go_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let rt = runtime();
    let (owner, project) = rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let (owner, project) =
            seed(&parent_service(store, Arc::new(RecordingNotifier::new()))).await;
        (owner.id, project.id)
    });

    let mut aim = Aim::default();
    let mut committed = Vec::new();
    for (round, kill) in ROUNDS {
        let before = rt.block_on(version_of(&path, project));
        let killed = kill_a_bulk_invite(&path, owner, project, round, kill, &mut aim);
        let census = rt.block_on(Census::take(&path, project, round));
        assert_eq!(file_problems(&path), Vec::<String>::new(), "round {round}");
        let found = census.assert_whole(round);
        eprintln!("round {round}: killed {killed}; {found} of {ROWS} invitations in the file");
        let whole = u64::from(found == ROWS);
        assert_eq!(census.version, Version(before.0 + whole), "round {round}");
        if matches!(kill, Kill::WhenSending) {
            assert_eq!(found, ROWS, "a child killed while sending had committed");
        }
        if found == ROWS {
            committed.push(census);
        }
    }

    rt.block_on(deliver_after_restart(&path, project, &committed));
    assert_eq!(file_problems(&path), Vec::<String>::new());
}

/// The child: opens the file with its own store and service, says it is starting, and invites
/// a whole batch in one call. Its notifier never returns, so the call never ends.
#[test]
#[ignore = "child process of the crash test; does nothing when run by hand"]
fn child_inviting_in_bulk() {
    if is_child("bulk") {
        runtime().block_on(invite_in_child());
    }
}

async fn invite_in_child() {
    let store = Arc::new(SqliteStore::open(input("ROSTER_DB")).unwrap());
    let clock = Arc::new(ManualClock::new(start()));
    let roster = service(store, Arc::new(Stall), clock);
    let actor: UserId = input("ROSTER_ACTOR").parse().unwrap();
    let project: ProjectId = input("ROSTER_PROJECT").parse().unwrap();
    let prefix = input("ROSTER_PREFIX");
    let rows: Vec<InviteRequest> = (0..ROWS)
        .map(|row| InviteRequest::new(format!("{prefix}-{row}@example.com"), OFFERED))
        .collect();
    say("STARTED");
    let sent = roster
        .invite(actor, project, &rows)
        .await
        .map(|report| report.sent());
    panic!("the bulk invite returned instead of stalling: {sent:?}");
}

/// A notifier that tells the parent sending has begun, then hangs until the parent kills the
/// process.
struct Stall;

#[async_trait]
impl Notifier for Stall {
    async fn send(&self, _: &OutgoingNotice) -> Result<(), NotifyError> {
        say("SENDING");
        tokio::time::sleep(PATIENCE).await;
        // Never killed: the parent is gone. Do not outlive it.
        std::process::exit(3);
    }
}

/// How the committed round's write went, to aim the kills of later rounds.
#[derive(Debug, Clone, Copy)]
struct Aim {
    /// How long the child was seen holding the write lock.
    write: Duration,
    /// How many bytes its commit added to the write-ahead log.
    wal: u64,
}

impl Default for Aim {
    fn default() -> Self {
        Aim {
            write: Duration::from_millis(50),
            wal: 0,
        }
    }
}

/// Runs a child inviting a batch named `round` and kills it at `kill`; says where it was. A
/// `WhenSending` round measures its write into `aim`; the other kinds aim with it.
fn kill_a_bulk_invite(
    path: &Path,
    owner: UserId,
    project: ProjectId,
    round: &str,
    kill: Kill,
    aim: &mut Aim,
) -> String {
    let inputs = vec![vec![
        ("ROSTER_DB", path.display().to_string()),
        ("ROSTER_ACTOR", owner.to_string()),
        ("ROSTER_PROJECT", project.to_string()),
        ("ROSTER_PREFIX", round.to_owned()),
    ]];
    let name = test_name(module_path!(), "child_inviting_in_bulk");
    let mut child = Children::spawn(&name, "bulk", inputs);
    child.expect(0, "STARTED");
    // Planning the batch only reads: the one write lock the child takes is the batch's. The
    // probe is closed before the kill, so that the next opener finds the file as the child
    // left it (closing the last connection would checkpoint it and drop the log).
    let mut probe = Some(LockProbe::open(path));
    let wal = wal_of(path);
    let deadline = Instant::now() + PATIENCE;
    let measuring = matches!(kill, Kill::WhenSending);
    // When the child was first and last seen holding the write lock, and the WAL's size then.
    let mut writing: Option<(Instant, Instant, u64)> = None;
    loop {
        if probe.as_ref().is_some_and(LockProbe::write_lock_held) {
            let now = Instant::now();
            let (first, _, wal_then) = writing.unwrap_or((now, now, size(&wal)));
            writing = Some((first, now, wal_then));
            if !measuring {
                probe = None;
            }
        }
        if let Some((_, _, wal_then)) = writing {
            match kill {
                Kill::IntoTheWrite(fraction) => {
                    let into = aim.write.mul_f64(fraction);
                    std::thread::sleep(into);
                    let written = size(&wal).saturating_sub(wal_then);
                    child.kill(0);
                    return format!("{into:?} into its write ({written} bytes in the WAL)");
                }
                Kill::IntoTheCommit(fraction) => {
                    let goal = wal_then + (aim.wal as f64 * fraction) as u64;
                    let written = size(&wal);
                    if written > wal_then && written >= goal {
                        child.kill(0);
                        let written = written - wal_then;
                        return format!("as its commit was writing the WAL ({written} bytes in)");
                    }
                }
                Kill::WhenSending => {}
            }
        }
        // While the commit is being written, look as often as possible.
        let wait = match (kill, writing) {
            (Kill::IntoTheCommit(_), Some(_)) => Duration::ZERO,
            _ => Duration::from_micros(500),
        };
        match child.poll(wait) {
            // Too late for the kills aimed at the write (a write too quick to be seen): the
            // batch is committed, which the round accepts too.
            Some(Event::Said(_, said)) if said == "SENDING" => {
                drop(probe);
                child.kill(0);
                if let (true, Some((first, last, wal_then))) = (measuring, writing) {
                    *aim = Aim {
                        write: last - first,
                        wal: size(&wal).saturating_sub(wal_then),
                    };
                }
                return if measuring {
                    format!(
                        "while sending, after a write of {:?} ({} bytes of WAL)",
                        aim.write, aim.wal
                    )
                } else {
                    "while sending: its write went by unseen".to_owned()
                };
            }
            Some(other) => child.fail(&format!("unexpected {other:?}")),
            None if Instant::now() > deadline => child.fail("the child never committed"),
            None => {}
        }
    }
}

/// The write-ahead log beside the database file.
fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// A file's size; 0 if it does not exist.
fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// What the file holds of one round's batch, read by a freshly opened store.
struct Census {
    /// The project's version.
    version: Version,
    invitations: Vec<Invitation>,
    outbox: Vec<OutboxEntry>,
    /// Invitations with an `InvitationSent` event.
    logged: Vec<InvitationId>,
    users: usize,
}

impl Census {
    async fn take(path: &Path, project: ProjectId, round: &str) -> Census {
        let store = SqliteStore::open(path).expect("the file opens after a kill");
        let prefix = format!("{round}-");
        let ours = |email: &Email| email.canonical().starts_with(&prefix);
        let invitations = invitations(&store, project).await;
        let outbox = outbox(&store, project).await;
        let events = audit_events(&store, project).await;
        Census {
            version: store.project(project).await.unwrap().unwrap().version,
            invitations: invitations.into_iter().filter(|i| ours(&i.email)).collect(),
            outbox: outbox.into_iter().filter(|e| ours(&e.notice.to)).collect(),
            logged: events
                .into_iter()
                .filter_map(|event| match event.action {
                    AuditAction::InvitationSent {
                        invitation, email, ..
                    } if ours(&email) => Some(invitation),
                    _ => None,
                })
                .collect(),
            users: users_named(path, &prefix),
        }
    }

    /// Asserts the round left its whole batch or nothing, consistently in every table, and
    /// returns how many invitations it left.
    fn assert_whole(&self, round: &str) -> usize {
        let found = self.invitations.len();
        assert!(
            found == 0 || found == ROWS,
            "round {round}: {found} of {ROWS} invitations, a torn batch"
        );
        let invited: BTreeSet<InvitationId> = self.invitations.iter().map(|i| i.id).collect();
        let announced: BTreeSet<InvitationId> =
            self.outbox.iter().map(|e| e.notice.invitation).collect();
        let logged: BTreeSet<InvitationId> = self.logged.iter().copied().collect();
        assert_eq!(invited.len(), found, "round {round}: distinct invitations");
        assert_eq!(self.outbox.len(), found, "round {round}: one notice each");
        assert_eq!(announced, invited, "round {round}: notices");
        assert_eq!(self.logged.len(), found, "round {round}: one event each");
        assert_eq!(logged, invited, "round {round}: audit events");
        assert_eq!(
            self.users, 0,
            "round {round}: invitations make no user records"
        );
        assert!(
            self.invitations
                .iter()
                .all(|i| i.state == InvitationState::Pending && i.sends == 1),
            "round {round}: invitations"
        );
        // Committed, then never delivered: the child was killed while sending.
        assert!(
            self.outbox
                .iter()
                .all(|e| e.status == DeliveryStatus::Queued && e.attempts == 1),
            "round {round}: notices stay queued"
        );
        found
    }
}

/// After restart, the notices the killed children queued go out once their lease runs out,
/// each with a link that works.
async fn deliver_after_restart(path: &Path, project: ProjectId, committed: &[Census]) {
    // Two commits per notice: fsync on each (synchronous = FULL) would only slow this down.
    let options = SqliteOptions::default().synchronous(Synchronous::Normal);
    let store = Arc::new(SqliteStore::open_with(path, options).unwrap());
    let notifier = RecordingNotifier::new();
    let clock = Arc::new(ManualClock::new(start()));
    let roster = service(store.clone(), Arc::new(notifier.clone()), clock.clone());

    let report = roster.deliver_due().await.unwrap();
    assert_eq!(
        report.total(),
        0,
        "a killed sender's lease holds until it runs out"
    );
    clock.advance(roster.config().delivery.lease + chrono::Duration::seconds(1));
    let expected: usize = committed.iter().map(|c| c.invitations.len()).sum();
    let mut delivered = 0;
    for _ in 0..expected / roster.config().delivery.batch_size + 2 {
        let report = roster.deliver_due().await.unwrap();
        assert_eq!(report.delivered, report.total(), "{report:?}");
        if report.total() == 0 {
            break;
        }
        delivered += report.delivered;
    }
    assert_eq!(delivered, expected);
    assert_eq!(roster.deliver_due().await.unwrap().total(), 0);

    let outbox = outbox(&store, project).await;
    assert_eq!(outbox.len(), expected);
    assert!(outbox.iter().all(|e| e.status == DeliveryStatus::Delivered));
    let invited: BTreeSet<InvitationId> = committed
        .iter()
        .flat_map(|census| census.invitations.iter().map(|i| i.id))
        .collect();
    let messages = notifier.messages();
    assert_eq!(messages.len(), expected);
    let mut opened = BTreeSet::new();
    for message in &messages {
        let token = message
            .token
            .as_ref()
            .expect("an invitation carries a link");
        let preview = roster.preview(token).await.unwrap();
        assert_eq!(preview.invitation, message.notice.invitation);
        assert_eq!(preview.state, InvitationState::Pending);
        opened.insert(preview.invitation);
    }
    assert_eq!(opened, invited, "every committed invitation, once");
}

async fn version_of(path: &Path, project: ProjectId) -> Version {
    let store = SqliteStore::open(path).unwrap();
    store.project(project).await.unwrap().unwrap().version
}

/// Users whose canonical address starts with `prefix`, counted in SQL (the store has no
/// listing of users).
fn users_named(path: &Path, prefix: &str) -> usize {
    let count: i64 = Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM users WHERE substr(email_canonical, 1, length(?1)) = ?1",
            [prefix],
            |row| row.get(0),
        )
        .unwrap();
    usize::try_from(count).unwrap()
}

async fn invitations(store: &SqliteStore, project: ProjectId) -> Vec<Invitation> {
    every(
        |after| async move {
            let query = InvitationQuery {
                project,
                state: None,
                now: start(),
                after,
                limit: PAGE,
            };
            store.invitations(&query).await.unwrap()
        },
        |invitation| invitation.id,
    )
    .await
}

async fn outbox(store: &SqliteStore, project: ProjectId) -> Vec<OutboxEntry> {
    every(
        |after| async move {
            let query = OutboxQuery {
                status: None,
                project: Some(project),
                after,
                limit: PAGE,
            };
            store.outbox(&query).await.unwrap()
        },
        |entry| entry.id,
    )
    .await
}

async fn audit_events(store: &SqliteStore, project: ProjectId) -> Vec<AuditEvent> {
    every(
        |after| async move { store.audit_events(project, after, PAGE).await.unwrap() },
        |event| event.id,
    )
    .await
}

/// Every item of a keyset-paged listing.
async fn every<T, C, F, Fut>(mut page: F, cursor: impl Fn(&T) -> C) -> Vec<T>
where
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = Vec<T>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let items = page(after.take()).await;
        let last = items.len() < PAGE;
        after = items.last().map(&cursor);
        all.extend(items);
        if last {
            return all;
        }
    }
}
