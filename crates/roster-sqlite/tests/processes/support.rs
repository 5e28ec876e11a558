//! What the parent tests and their children share: the service setup, the file checks, and the
//! child processes with their marked stdout lines.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use roster::{
    ManualClock, Notifier, PasswordPolicy, Project, Role, Roster, RosterConfig, SeededRandom,
    Store, User,
};
use roster_sqlite::rusqlite::{Connection, ErrorCode};

/// How long any wait on a child may take before the test gives up: generous, since the workspace
/// suite may run on two busy cores, but never forever.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Prefix of the stdout lines a child means for its parent. libtest may print on the same line
/// (`test name ... `), so the mark is searched anywhere in a line.
const MARK: &str = "roster-child> ";

/// The environment variable naming the role a child plays; unset in a normal test run, where
/// the child entry points do nothing.
const ROLE: &str = "ROSTER_CHILD_ROLE";

/// The instant every clock of these tests starts at, in parents and children alike.
pub fn start() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// A runtime for the async steps of parents and children (a parent's waits on its children
/// stay outside it).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A service on `clock` with cheap passwords and the OS random source, so that no two processes
/// draw the same ids.
pub fn service(
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<ManualClock>,
) -> Roster {
    Roster::builder(store, notifier)
        .clock(clock)
        .config(config())
        .build()
        .expect("a valid configuration")
}

/// The parent's own service: seeded, as only the parent draws ids from it.
pub fn parent_service(store: Arc<dyn Store>, notifier: Arc<dyn Notifier>) -> Roster {
    Roster::builder(store, notifier)
        .clock(Arc::new(ManualClock::new(start())))
        .random(Arc::new(SeededRandom::new(42)))
        .config(config())
        .build()
        .expect("a valid configuration")
}

fn config() -> RosterConfig {
    RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests())
}

/// A registered owner, their account, and a project they administer.
pub async fn seed(roster: &Roster) -> (User, Project) {
    let owner = roster
        .register("owner@example.com", "owner-password")
        .await
        .unwrap();
    let account = roster.create_account(owner.id, "Acme").await.unwrap();
    let project = roster
        .create_project(owner.id, account.id, "Rockets")
        .await
        .unwrap();
    (owner, project)
}

/// The role invitations of these tests offer.
pub const OFFERED: Role = Role::USER;

/// What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find wrong with the file; empty
/// when it is sound.
pub fn file_problems(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|line: &String| line != "ok")
        .collect();
    let mut foreign_keys = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let dangling = foreign_keys
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|table| format!("dangling foreign key in {}", table.unwrap()));
    problems.extend(dangling);
    problems
}

/// Watches the file's write lock from outside, as another process would.
pub struct LockProbe(Connection);

impl LockProbe {
    pub fn open(path: &Path) -> Self {
        let conn = Connection::open(path).unwrap();
        // Answer at once: a probe that waited for the lock would learn nothing.
        conn.busy_timeout(Duration::ZERO).unwrap();
        LockProbe(conn)
    }

    /// Whether some connection holds the write lock (is inside a write transaction) right now.
    /// When nobody does, the probe takes the lock and releases it at once.
    pub fn write_lock_held(&self) -> bool {
        match self.0.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                self.0.execute_batch("ROLLBACK").unwrap();
                false
            }
            Err(error) if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => true,
            Err(error) => panic!("probing the write lock failed: {error}"),
        }
    }
}

// ---- the child's side ----

/// Whether this process is a child playing `role`. Child entry points return at once otherwise,
/// so a run with `--ignored` outside these tests passes them without doing anything.
pub fn is_child(role: &str) -> bool {
    std::env::var(ROLE).is_ok_and(|played| played == role)
}

/// An input the parent gave this child.
pub fn input(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the parent sets {name}"))
}

/// Tells the parent something (one line; stdout is line-buffered, so it leaves at once).
pub fn say(message: impl std::fmt::Display) {
    println!("{MARK}{message}");
}

/// The libtest name of `function` in the module whose `module_path!()` is `module` (libtest
/// names leave out the crate).
pub fn test_name(module: &str, function: &str) -> String {
    let (_, path) = module.split_once("::").expect("a module of the test crate");
    format!("{path}::{function}")
}

// ---- the parent's side ----

/// What a child did, as the parent sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Child `.0` said `.1`.
    Said(usize, String),
    /// Child `.0` closed its stdout: it exited or was killed.
    Closed(usize),
}

/// Child processes running one entry point of this binary. Dropping them kills those still
/// running, so a failing test leaves no process behind.
pub struct Children {
    processes: Vec<Child>,
    events: Receiver<Event>,
    stderr: Vec<Option<JoinHandle<String>>>,
}

impl Children {
    /// Starts one child per entry of `inputs`, each running the test `name` as `role` with its
    /// inputs as environment variables.
    pub fn spawn(name: &str, role: &str, inputs: Vec<Vec<(&str, String)>>) -> Self {
        let exe = std::env::current_exe().unwrap();
        let (sender, events) = mpsc::channel();
        let mut children = Children {
            processes: Vec::new(),
            events,
            stderr: Vec::new(),
        };
        for (index, envs) in inputs.into_iter().enumerate() {
            let mut child = Command::new(&exe)
                .args([
                    name,
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ROLE, role)
                .envs(envs)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in stdout.lines().map_while(Result::ok) {
                    if let Some((_, message)) = line.split_once(MARK) {
                        let _ = sender.send(Event::Said(index, message.to_owned()));
                    }
                }
                let _ = sender.send(Event::Closed(index));
            });
            let mut stderr = child.stderr.take().unwrap();
            children.stderr.push(Some(std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            })));
            children.processes.push(child);
        }
        children
    }

    /// The next event, or `None` if none comes within `timeout`.
    pub fn poll(&mut self, timeout: Duration) -> Option<Event> {
        match self.events.recv_timeout(timeout) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => self.fail("no child is left to hear from"),
        }
    }

    /// The next event; fails the test if none comes within [`PATIENCE`].
    pub fn next_event(&mut self) -> Event {
        self.poll(PATIENCE)
            .unwrap_or_else(|| self.fail("no child said anything in time"))
    }

    /// Waits until child `index` says `expected`, ignoring what the others say.
    pub fn expect(&mut self, index: usize, expected: &str) {
        loop {
            match self.next_event() {
                Event::Said(child, said) if child == index && said == expected => return,
                Event::Said(child, said) if child == index => self.fail(&format!(
                    "child {index} said {said:?} instead of {expected:?}"
                )),
                Event::Closed(child) if child == index => {
                    self.fail(&format!("child {index} ended before saying {expected:?}"))
                }
                _ => {}
            }
        }
    }

    /// Waits until every child has said `expected`, and nothing else.
    pub fn expect_all(&mut self, expected: &str) {
        let mut pending: Vec<bool> = vec![true; self.processes.len()];
        while pending.contains(&true) {
            match self.next_event() {
                Event::Said(child, said) if said == expected && pending[child] => {
                    pending[child] = false;
                }
                other => self.fail(&format!("waiting for {expected:?}, got {other:?}")),
            }
        }
    }

    /// Sends SIGKILL to child `index` and reaps it.
    pub fn kill(&mut self, index: usize) {
        let child = &mut self.processes[index];
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits for every child to exit on its own, and returns how each did.
    pub fn wait_all(&mut self) -> Vec<ExitStatus> {
        let deadline = Instant::now() + PATIENCE;
        let mut statuses = Vec::new();
        for index in 0..self.processes.len() {
            loop {
                if let Some(status) = self.processes[index].try_wait().unwrap() {
                    statuses.push(status);
                    break;
                }
                if Instant::now() > deadline {
                    self.fail(&format!("child {index} did not exit in time"));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        statuses
    }

    /// What the children wrote on stderr; kills those still running to get it.
    pub fn stderr(&mut self) -> String {
        self.kill_all();
        let mut all = String::new();
        for (index, reader) in self.stderr.iter_mut().enumerate() {
            if let Some(text) = reader.take().and_then(|reader| reader.join().ok()) {
                all.push_str(&format!("--- stderr of child {index} ---\n{text}\n"));
            }
        }
        all
    }

    /// Fails the test with `why` and what the children wrote on stderr.
    pub fn fail(&mut self, why: &str) -> ! {
        let stderr = self.stderr();
        panic!("{why}\n{stderr}");
    }

    fn kill_all(&mut self) {
        for child in &mut self.processes {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.kill_all();
    }
}
