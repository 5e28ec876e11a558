//! Several processes on one file, each running many tasks of mixed commands on one project:
//! every command succeeds (writers of other processes wait on the file's write lock instead of
//! failing), and the file holds exactly what the commands did.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster::store::InvitationQuery;
use roster::{
    Acceptance, InvitationState, InviteRequest, ManualClock, ProjectId, Roster, RosterError, Store,
    UserId,
};
use roster_memory::RecordingNotifier;
use roster_sqlite::SqliteStore;

use crate::support::{
    Children, Event, OFFERED, PATIENCE, file_problems, input, is_child, parent_service, runtime,
    say, seed, service, start, test_name,
};

const PROCESSES: usize = 4;
const TASKS_PER_PROCESS: usize = 8;
/// Rounds per task; each round is three commands (invite, resend, then accept or revoke).
const ROUNDS: usize = 8;

#[test]
fn processes_running_mixed_commands_on_one_project_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let go = dir.path().join("go");
    let rt = runtime();
    let (owner, project) = rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let roster = parent_service(store, Arc::new(RecordingNotifier::new()));
        let (owner, project) = seed(&roster).await;
        (owner.id, project.id)
    });
    let inputs = (0..PROCESSES)
        .map(|index| {
            vec![
                ("ROSTER_DB", path.display().to_string()),
                ("ROSTER_GO", go.display().to_string()),
                ("ROSTER_OWNER", owner.to_string()),
                ("ROSTER_PROJECT", project.to_string()),
                ("ROSTER_INDEX", index.to_string()),
            ]
        })
        .collect();
    let name = test_name(module_path!(), "child_running_mixed_commands");
    let mut children = Children::spawn(&name, "load", inputs);
    children.expect_all("READY");
    std::fs::write(&go, "").unwrap();

    let mut failures = Vec::new();
    let mut finished = 0;
    let mut ended = 0;
    while ended < PROCESSES {
        match children.next_event() {
            Event::Said(child, said) if said == "DONE" => {
                let _ = child;
                finished += 1;
            }
            Event::Said(child, said) => failures.push(format!("child {child}: {said}")),
            Event::Closed(_) => ended += 1,
        }
    }
    let statuses = children.wait_all();
    if !statuses.iter().all(|status| status.success()) {
        children.fail(&format!("a child failed: {statuses:?}"));
    }
    assert!(failures.is_empty(), "commands that failed: {failures:#?}");
    assert_eq!(finished, PROCESSES * TASKS_PER_PROCESS);

    rt.block_on(async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let per_state = |state| {
            let store = store.clone();
            async move {
                let query = InvitationQuery {
                    project,
                    state: Some(state),
                    now: start(),
                    after: None,
                    limit: 100_000,
                };
                store.invitations(&query).await.unwrap().len()
            }
        };
        let total = PROCESSES * TASKS_PER_PROCESS * ROUNDS;
        assert_eq!(per_state(InvitationState::Accepted).await, total / 2);
        assert_eq!(per_state(InvitationState::Revoked).await, total / 2);
        assert_eq!(per_state(InvitationState::Pending).await, 0);
        let members = store.members(project, None, 100_000).await.unwrap();
        assert_eq!(members.len(), 1 + total / 2, "the owner and every acceptor");
    });
    assert_eq!(file_problems(&path), Vec::<String>::new());
}

/// The child: its own store and service on the file; on the parent's go, runs its tasks and
/// says `DONE` for each task that finished, and the error of any command that failed.
#[test]
#[ignore = "child process of the load test; does nothing when run by hand"]
fn child_running_mixed_commands() {
    if is_child("load") {
        runtime().block_on(load_in_child());
    }
}

async fn load_in_child() {
    let store = Arc::new(SqliteStore::open(input("ROSTER_DB")).unwrap());
    let clock = Arc::new(ManualClock::new(start()));
    let roster = service(store, Arc::new(RecordingNotifier::new()), clock);
    let owner: UserId = input("ROSTER_OWNER").parse().unwrap();
    let project: ProjectId = input("ROSTER_PROJECT").parse().unwrap();
    let index = input("ROSTER_INDEX");
    say("READY");
    wait_for(Path::new(&input("ROSTER_GO"))).await;

    let tasks: Vec<_> = (0..TASKS_PER_PROCESS)
        .map(|task| {
            let roster = roster.clone();
            let prefix = format!("p{index}t{task}");
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let address = format!("{prefix}r{round}@example.com");
                    if let Err(error) = round_of(&roster, owner, project, &address, round).await {
                        return Err(format!("{address}: {error:?}").replace('\n', " "));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => say("DONE"),
            Err(error) => say(error),
        }
    }
    roster.flush().await.unwrap();
}

/// Invites `address`, resends the invitation, then accepts it (even rounds) or revokes it.
async fn round_of(
    roster: &Roster,
    owner: UserId,
    project: ProjectId,
    address: &str,
    round: usize,
) -> Result<(), RosterError> {
    let report = roster
        .invite(owner, project, &[InviteRequest::new(address, OFFERED)])
        .await?;
    let invitation = match &report.rows[0].outcome {
        roster::InviteOutcome::Invited { invitation, .. } => invitation.id,
        other => panic!("{address} not invited: {other:?}"),
    };
    let resent = roster.resend(owner, invitation).await?;
    if round.is_multiple_of(2) {
        let acceptance = Acceptance::NewUser {
            password: format!("password of {address}"),
        };
        roster.accept(&resent.token, acceptance).await?;
    } else {
        roster.revoke(owner, invitation).await?;
    }
    Ok(())
}

async fn wait_for(go: &Path) {
    let deadline = Instant::now() + PATIENCE;
    while !go.exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
