//! Many tasks in many processes accept one token at the same instant: one wins, every other is
//! told the invitation is taken, and the file holds exactly one membership.

use roster::StoreExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster::{
    Acceptance, AuditAction, Email, InvitationId, InvitationState, InvitationToken, InviteOutcome,
    InviteRequest, ManualClock, Project, RosterError, Store, UserId,
};
use roster_memory::RecordingNotifier;
use roster_sqlite::SqliteStore;

use crate::support::{
    Children, Event, OFFERED, PATIENCE, file_problems, input, is_child, parent_service, runtime,
    say, seed, service, start, test_name,
};

const PROCESSES: usize = 8;
const TASKS_PER_PROCESS: usize = 4;
const INVITEE: &str = "invitee@example.com";
const INVITEE_PASSWORD: &str = "invitee-password";

/// Who the invitation was sent to, and so how the racers accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Invitee {
    /// A person with no account: every racer accepts as a new user with its own password.
    New,
    /// A registered user: every racer accepts as that user.
    Registered,
}

impl Invitee {
    fn name(self) -> &'static str {
        match self {
            Invitee::New => "new",
            Invitee::Registered => "registered",
        }
    }

    fn from_name(name: &str) -> Self {
        [Invitee::New, Invitee::Registered]
            .into_iter()
            .find(|invitee| invitee.name() == name)
            .unwrap()
    }

    /// What a loser may be told: mostly that the invitation was accepted; or, if it read the
    /// invitation as pending just before the winner committed, what it found of the winner's work
    /// when it read further (the address now registered, or the membership).
    fn losing_answers(self) -> &'static [&'static str] {
        match self {
            Invitee::New => &["closed", "registered", "member"],
            Invitee::Registered => &["closed", "member"],
        }
    }
}

#[test]
fn processes_racing_to_accept_one_token_as_new_users_make_one_member() {
    race(Invitee::New);
}

#[test]
fn processes_racing_to_accept_one_token_as_its_registered_user_make_one_member() {
    race(Invitee::Registered);
}

/// The child: opens the file with its own store and service, says it is ready, waits for the
/// parent's go, then accepts the token from several tasks at once and says how each fared.
#[test]
#[ignore = "child process of the race tests; does nothing when run by hand"]
fn child_accepting_the_token() {
    if is_child("race") {
        runtime().block_on(accept_in_child());
    }
}

fn race(invitee: Invitee) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.db");
    let go = dir.path().join("go");
    let rt = runtime();
    let scene = rt.block_on(Scene::set(&path, invitee));

    let inputs = (0..PROCESSES)
        .map(|index| {
            vec![
                ("ROSTER_DB", path.display().to_string()),
                ("ROSTER_GO", go.display().to_string()),
                ("ROSTER_TOKEN", scene.token.expose_secret()),
                ("ROSTER_INVITEE", invitee.name().to_owned()),
                // A new person has no user yet: the racers accept as new users, never by id.
                (
                    "ROSTER_USER",
                    scene.invitee.unwrap_or(scene.owner).to_string(),
                ),
                ("ROSTER_INDEX", index.to_string()),
            ]
        })
        .collect();
    let name = test_name(module_path!(), "child_accepting_the_token");
    let mut children = Children::spawn(&name, "race", inputs);
    children.expect_all("READY");
    // Every child has its store open and waits on this file: they start within a millisecond.
    std::fs::write(&go, "").unwrap();
    let answers = answers(&mut children);

    let tally = answers
        .iter()
        .fold(BTreeMap::new(), |mut tally, (_, answer)| {
            *tally.entry(answer.as_str()).or_insert(0) += 1;
            tally
        });
    eprintln!("{invitee:?} invitee, {PROCESSES} processes x {TASKS_PER_PROCESS} tasks: {tally:?}");
    assert_eq!(answers.len(), PROCESSES * TASKS_PER_PROCESS, "{answers:?}");
    let winners: Vec<&str> = answers
        .iter()
        .filter(|(_, answer)| answer == "won")
        .map(|(password, _)| password.as_str())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one acceptance wins: {tally:?}");
    assert!(
        answers
            .iter()
            .all(|(_, answer)| answer == "won"
                || invitee.losing_answers().contains(&answer.as_str())),
        "every loser is told the invitation was taken: {tally:?}"
    );
    let loser = answers
        .iter()
        .find(|(_, answer)| answer != "won")
        .map(|(password, _)| password.as_str())
        .unwrap();

    rt.block_on(scene.check(&path, winners[0], loser));
    assert_eq!(file_problems(&path), Vec::<String>::new());
}

/// Every task's `(password, answer)`, once all children have exited successfully.
fn answers(children: &mut Children) -> Vec<(String, String)> {
    let mut answers = Vec::new();
    let mut ended = 0;
    while ended < PROCESSES {
        match children.next_event() {
            Event::Said(_, said) => {
                let (password, answer) = said.split_once(' ').unwrap();
                answers.push((password.to_owned(), answer.to_owned()));
            }
            Event::Closed(_) => ended += 1,
        }
    }
    let statuses = children.wait_all();
    if !statuses.iter().all(|status| status.success()) {
        children.fail(&format!("a child failed: {statuses:?}"));
    }
    answers
}

/// The file before the race: an owner's project with one pending invitation.
struct Scene {
    kind: Invitee,
    owner: UserId,
    project: Project,
    invitation: InvitationId,
    /// The invitee's user before the race: the registered one, or none (the winner makes it).
    invitee: Option<UserId>,
    token: InvitationToken,
}

impl Scene {
    async fn set(path: &Path, kind: Invitee) -> Scene {
        let store = Arc::new(SqliteStore::open(path).unwrap());
        let roster = parent_service(store.clone(), Arc::new(RecordingNotifier::new()));
        let (owner, project) = seed(&roster).await;
        if kind == Invitee::Registered {
            roster.register(INVITEE, INVITEE_PASSWORD).await.unwrap();
        }
        let request = InviteRequest::new(INVITEE, OFFERED);
        let mut report = roster
            .invite(owner.id, project.id, &[request])
            .await
            .unwrap();
        let InviteOutcome::Invited {
            invitation, token, ..
        } = report.rows.remove(0).outcome
        else {
            panic!("the invitation is sent");
        };
        let invitee = store
            .user_by_email(&Email::parse(INVITEE).unwrap())
            .await
            .unwrap();
        assert_eq!(invitee.is_some(), kind == Invitee::Registered);
        Scene {
            kind,
            owner: owner.id,
            project: store.project(project.id).await.unwrap().unwrap(),
            invitation: invitation.id,
            invitee: invitee.map(|user| user.id),
            token,
        }
    }

    /// The file after the race, read by a fresh store: one acceptance and nothing else.
    async fn check(&self, path: &Path, winner: &str, loser: &str) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).unwrap());
        let invitee = store
            .user_by_email(&Email::parse(INVITEE).unwrap())
            .await
            .unwrap()
            .expect("the winner's acceptance made the invitee a user")
            .id;
        if let Some(before) = self.invitee {
            assert_eq!(
                invitee, before,
                "the registered invitee is the one who joined"
            );
        }
        let project = self.project.id;
        let invitation = store.invitation(self.invitation).await.unwrap().unwrap();
        assert_eq!(invitation.state, InvitationState::Accepted);

        let stored = store.project(project).await.unwrap().unwrap();
        assert_eq!(
            stored.version,
            self.project.version.next(),
            "one accept, one version"
        );
        let members = store.members(project, None, 100).await.unwrap();
        let theirs: Vec<_> = members
            .iter()
            .filter(|member| member.user.id == invitee)
            .collect();
        assert_eq!(theirs.len(), 1, "{members:?}");
        assert_eq!(members.len(), 2, "the owner and the invitee: {members:?}");
        assert_eq!(theirs[0].membership.role, OFFERED);
        assert_eq!(theirs[0].membership.invited_by, Some(self.owner));
        assert!(theirs[0].user.is_registered());

        let events = store.audit_events(project, None, 100).await.unwrap();
        let acceptances: Vec<_> = events
            .iter()
            .filter_map(|event| match &event.action {
                AuditAction::InvitationAccepted { user, .. } => Some(*user),
                _ => None,
            })
            .collect();
        assert_eq!(acceptances, vec![invitee]);

        // The password that counts is the winner's: no loser's write slipped in after it.
        let (winner, loser) = match self.kind {
            Invitee::New => (winner, loser),
            Invitee::Registered => (INVITEE_PASSWORD, "not-the-password"),
        };
        let roster = parent_service(store, Arc::new(RecordingNotifier::new()));
        let signed_in = roster.authenticate(INVITEE, winner).await.unwrap();
        assert_eq!(signed_in.user.id, invitee);
        assert!(matches!(
            roster.authenticate(INVITEE, loser).await,
            Err(RosterError::InvalidCredentials)
        ));
    }
}

async fn accept_in_child() {
    let store = Arc::new(SqliteStore::open(input("ROSTER_DB")).unwrap());
    let clock = Arc::new(ManualClock::new(start()));
    let roster = service(store, Arc::new(RecordingNotifier::new()), clock);
    let token: InvitationToken = input("ROSTER_TOKEN").parse().unwrap();
    let user: UserId = input("ROSTER_USER").parse().unwrap();
    let invitee = Invitee::from_name(&input("ROSTER_INVITEE"));
    let index = input("ROSTER_INDEX");
    say("READY");
    wait_for(Path::new(&input("ROSTER_GO"))).await;

    let tasks: Vec<_> = (0..TASKS_PER_PROCESS)
        .map(|task| {
            let (roster, token) = (roster.clone(), token.clone());
            let password = format!("password-{index}-{task}");
            let acceptance = match invitee {
                Invitee::New => Acceptance::NewUser {
                    password: password.clone(),
                },
                Invitee::Registered => Acceptance::ExistingUser { user },
            };
            tokio::spawn(async move {
                let result = roster.accept(&token, acceptance).await;
                (password, answer(result.map(drop)))
            })
        })
        .collect();
    for task in tasks {
        let (password, answer) = task.await.unwrap();
        say(format!("{password} {answer}"));
    }
}

/// How an acceptance ended, in one word (an unexpected error keeps its details, spaceless).
fn answer(result: Result<(), RosterError>) -> String {
    match result {
        Ok(()) => "won".to_owned(),
        Err(RosterError::InvitationClosed {
            state: InvitationState::Accepted,
        }) => "closed".to_owned(),
        Err(RosterError::AlreadyRegistered) => "registered".to_owned(),
        Err(RosterError::AlreadyMember) => "member".to_owned(),
        Err(other) => format!("unexpected:{other:?}").replace(' ', "_"),
    }
}

async fn wait_for(go: &Path) {
    let deadline = Instant::now() + PATIENCE;
    while !go.exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
