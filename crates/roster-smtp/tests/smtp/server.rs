//! A real SMTP server on 127.0.0.1 for the tests: `mailin`'s protocol engine (the one inside
//! `mailin-embedded`) behind a tokio listener, so a test can start it late, refuse chosen
//! recipients, cut a delivery after taking the message, stall before answering `DATA`, and read
//! back what arrived.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One message as the server took it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub from: String,
    /// Every `RCPT TO` the server accepted.
    pub to: Vec<String>,
    /// The message, as sent after `DATA` (dot-unstuffed).
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    refusals: HashMap<String, (u16, String)>,
    cuts: usize,
    /// How many `DATA` commands to stall, and for how long.
    stalls: usize,
    stall_for: Duration,
}

/// The server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    accept: JoinHandle<()>,
}

impl TestServer {
    /// A server on a free port.
    pub async fn start() -> Self {
        TestServer::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// A server on `addr` (one nobody listened on until now, say).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.expect("the port is free");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let accept = tokio::spawn(accept(listener, shared.clone()));
        TestServer {
            addr,
            shared,
            accept,
        }
    }

    /// The configuration URL for it.
    pub fn url(&self) -> String {
        url_for(self.addr)
    }

    /// Answers `RCPT TO:<recipient>` with `code` and `text` from now on.
    pub fn refuse(&self, recipient: &str, code: u16, text: &str) {
        self.shared
            .lock()
            .unwrap()
            .refusals
            .insert(recipient.to_lowercase(), (code, text.to_owned()));
    }

    /// Accepts `recipient` again.
    pub fn welcome(&self, recipient: &str) {
        self.shared
            .lock()
            .unwrap()
            .refusals
            .remove(&recipient.to_lowercase());
    }

    /// Takes the next `count` messages, then drops the connection instead of answering `250`:
    /// the client cannot know the message arrived.
    pub fn cut_next(&self, count: usize) {
        self.shared.lock().unwrap().cuts = count;
    }

    /// Waits `pause` before answering each of the next `count` `DATA` commands (a server that
    /// accepted the envelope, then hangs), then goes on as usual.
    pub fn stall_next(&self, count: usize, pause: Duration) {
        let mut shared = self.shared.lock().unwrap();
        shared.stalls = count;
        shared.stall_for = pause;
    }

    /// What arrived so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Waits (up to 10 s) until at least `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {count} messages, got {}", self.received().len());
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The configuration URL for a server at `addr`, with a short timeout.
pub fn url_for(addr: SocketAddr) -> String {
    format!("smtp://{addr}?tls=none&timeout=5s&pool=4")
}

/// An address nobody listens on (yet): bound, then released.
pub fn vacant_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Accepts connections until aborted; the sessions end with it (the join set is dropped).
async fn accept(listener: TcpListener, shared: Arc<Mutex<Shared>>) {
    let mut sessions = JoinSet::new();
    while let Ok((stream, peer)) = listener.accept().await {
        sessions.spawn(session(stream, peer.ip(), shared.clone()));
        while sessions.try_join_next().is_some() {}
    }
}

async fn session(
    stream: TcpStream,
    peer: IpAddr,
    shared: Arc<Mutex<Shared>>,
) -> std::io::Result<()> {
    let cut = Arc::new(AtomicBool::new(false));
    let stall = Arc::new(Mutex::new(None));
    let recorder = Recorder {
        shared,
        cut: cut.clone(),
        stall: stall.clone(),
        envelope: None,
        data: Vec::new(),
    };
    let mut session = SessionBuilder::new("roster-test.localhost").build(peer, recorder);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        let pause = stall.lock().unwrap().take();
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
        if cut.load(Ordering::SeqCst) {
            // Hang up with the message taken and unacknowledged.
            return Ok(());
        }
        match response.action {
            Action::NoReply => {}
            Action::Close => {
                write.write_all(&response.buffer()?).await?;
                return Ok(());
            }
            _ => write.write_all(&response.buffer()?).await?,
        }
    }
}

/// The per-connection handler: refuses chosen recipients, records messages.
struct Recorder {
    shared: Arc<Mutex<Shared>>,
    cut: Arc<AtomicBool>,
    /// Set by `DATA` when it is to be stalled: the session waits that long before answering.
    stall: Arc<Mutex<Option<Duration>>>,
    envelope: Option<(String, Vec<String>)>,
    data: Vec<u8>,
}

fn bare(path: &str) -> String {
    path.trim_matches(|c| c == '<' || c == '>').to_lowercase()
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        match self.shared.lock().unwrap().refusals.get(&bare(to)) {
            Some((code, text)) => Response::custom(*code, text.clone()),
            None => mailin::response::OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.envelope = Some((bare(from), to.iter().map(|to| bare(to)).collect()));
        self.data.clear();
        let mut shared = self.shared.lock().unwrap();
        if shared.stalls > 0 {
            shared.stalls -= 1;
            *self.stall.lock().unwrap() = Some(shared.stall_for);
        }
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let (from, to) = self.envelope.take().unwrap_or_default();
        let mut shared = self.shared.lock().unwrap();
        shared.received.push(Received {
            from,
            to,
            data: std::mem::take(&mut self.data),
        });
        if shared.cuts > 0 {
            shared.cuts -= 1;
            self.cut.store(true, Ordering::SeqCst);
        }
        mailin::response::OK
    }
}
