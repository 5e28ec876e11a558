//! 1,000 invitation emails through `SmtpNotifier` to an SMTP sink on 127.0.0.1, beside a baseline
//! that sends the same messages, built beforehand, with plain lettre: the same pool size, the same
//! concurrency (the outbox's `buffer_unordered`), the same server. The difference is what the
//! notifier adds per send: rendering the templates, building the message, its send slot.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::{StreamExt, stream};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use roster::{
    Email, InvitationId, InvitationToken, Notice, NoticeId, NoticeKind, Notifier, OutgoingNotice,
    ProjectId, Role, SeededRandom, UserId,
};
use roster_smtp::{Security, SmtpConfig, SmtpNotifier};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const EMAILS: usize = 1_000;
/// The notifier's default pool size and the outbox's default concurrency.
const POOL: u32 = 4;
const FROM: &str = "no-reply@portal.bench.example";
const LINK_BASE: &str = "https://portal.bench.example/invitations";

/// Every message the sink took, raw, when it was asked to keep them.
type Kept = Arc<Mutex<Vec<Vec<u8>>>>;

/// An SMTP server that says yes to everything and throws the messages away (or keeps them, to
/// build the baseline's copies), so the benchmark measures the clients.
struct Sink {
    addr: SocketAddr,
    taken: Arc<AtomicUsize>,
}

impl Sink {
    async fn start(keep: Option<Kept>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Replies are small writes: without this, delayed ACKs stall every exchange
                // for tens of milliseconds and hide what the clients cost.
                stream.set_nodelay(true).expect("nodelay");
                tokio::spawn(session(stream, counter.clone(), keep.clone()));
            }
        });
        Sink { addr, taken }
    }

    fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

async fn session(
    stream: TcpStream,
    taken: Arc<AtomicUsize>,
    keep: Option<Kept>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 sink.localhost\r\n").await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        if verb == b"QUIT" {
            return write.write_all(b"221 bye\r\n").await;
        }
        if verb == b"DATA" {
            write.write_all(b"354 go on\r\n").await?;
            let data = read_data(&mut reader).await?;
            taken.fetch_add(1, Ordering::SeqCst);
            if let Some(keep) = &keep {
                keep.lock().expect("lock").push(data);
            }
        }
        write.write_all(b"250 ok\r\n").await?;
    }
}

/// The message after `DATA`, up to the lone dot, dot-unstuffed.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let (mut data, mut line) = (Vec::new(), Vec::new());
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 || line == b".\r\n" {
            return Ok(data);
        }
        // lettre writes the body and the closing dot separately; with Nagle on its side, the dot
        // waits for our ACK, which Linux delays by up to 40 ms unless told to ACK at once (the
        // flag resets after each read). Real servers vary; the sink should not hide the clients.
        socket2::SockRef::from(reader.get_ref().as_ref()).set_tcp_quickack(true)?;
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

fn notices() -> Vec<OutgoingNotice> {
    let random = SeededRandom::new(11);
    let now = "2026-03-01T09:00:00Z".parse().expect("time");
    (0..EMAILS)
        .map(|i| OutgoingNotice {
            id: NoticeId::generate(now, &random),
            notice: Notice {
                kind: NoticeKind::Invitation,
                to: Email::parse(&format!("person{i}@bench.example")).expect("email"),
                invitation: InvitationId::generate(now, &random),
                project: ProjectId::generate(now, &random),
                project_name: "Website".into(),
                account_name: "Acme".into(),
                role: Role::USER,
                role_name: "User".into(),
                inviter: Email::parse("admin@bench.example").expect("email"),
                sent_by: UserId::generate(now, &random),
                expires_at: now + chrono::Duration::days(7),
                send: 1,
                language: None,
            },
            token: Some(InvitationToken::generate(&random)),
        })
        .collect()
}

fn notifier(sink: &Sink) -> SmtpNotifier {
    let mut config = SmtpConfig::new(sink.addr.ip().to_string());
    config.port = sink.addr.port();
    config.security = Security::None;
    config.pool_size = POOL;
    config.timeout = Duration::from_secs(10);
    SmtpNotifier::builder(config, FROM, LINK_BASE)
        .from_name("Bench Portal")
        .build()
        .expect("notifier")
}

fn lettre_transport(sink: &Sink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.addr.ip().to_string())
        .port(sink.addr.port())
        .timeout(Some(Duration::from_secs(10)))
        .pool_config(PoolConfig::new().max_size(POOL))
        .build()
}

/// Sends every notice through the notifier, [`POOL`] at a time, as the outbox does.
async fn send_notices(notifier: &SmtpNotifier, notices: &[OutgoingNotice]) {
    stream::iter(notices)
        .map(|outgoing| notifier.send(outgoing))
        .buffer_unordered(POOL as usize)
        .for_each(|sent| {
            sent.expect("sent");
            async {}
        })
        .await;
}

async fn send_messages(transport: &AsyncSmtpTransport<Tokio1Executor>, messages: Vec<Message>) {
    stream::iter(messages)
        .map(|message| transport.send(message))
        .buffer_unordered(POOL as usize)
        .for_each(|sent| {
            black_box(sent.expect("sent"));
            async {}
        })
        .await;
}

/// The notifier's messages, as they arrived, rebuilt with lettre's builder: same headers, same
/// plain-text and HTML parts. Building is outside the measurement.
fn prebuilt(runtime: &Runtime, notices: &[OutgoingNotice]) -> Vec<Message> {
    let kept = Kept::default();
    runtime.block_on(async {
        let sink = Sink::start(Some(kept.clone())).await;
        send_notices(&notifier(&sink), notices).await;
    });
    let raw = std::mem::take(&mut *kept.lock().expect("lock"));
    assert_eq!(raw.len(), EMAILS, "the notifier sent every notice once");
    raw.iter().map(|data| rebuild(data)).collect()
}

fn rebuild(data: &[u8]) -> Message {
    let parsed = mail_parser::MessageParser::default()
        .parse(data)
        .expect("a message");
    let mailbox = |address: Option<&mail_parser::Address<'_>>| {
        let first = address.and_then(|a| a.first()).expect("an address");
        Mailbox::new(
            first.name().map(str::to_owned),
            first.address().expect("address").parse().expect("valid"),
        )
    };
    let date = parsed.date().expect("Date").to_timestamp();
    Message::builder()
        .from(mailbox(parsed.from()))
        .to(mailbox(parsed.to()))
        .subject(parsed.subject().expect("Subject"))
        .date(UNIX_EPOCH + Duration::from_secs(date.try_into().expect("after 1970")))
        .message_id(Some(format!(
            "<{}>",
            parsed.message_id().expect("Message-ID")
        )))
        .multipart(MultiPart::alternative_plain_html(
            parsed.body_text(0).expect("text").into_owned(),
            parsed.body_html(0).expect("html").into_owned(),
        ))
        .expect("message")
}

fn send_1000(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let notices = notices();
    let messages = prebuilt(&runtime, &notices);
    let sink = runtime.block_on(Sink::start(None));
    let notifier = runtime.block_on(async { notifier(&sink) });
    let transport = runtime.block_on(async { lettre_transport(&sink) });

    // Both reach the server, once per message.
    runtime.block_on(send_notices(&notifier, &notices));
    runtime.block_on(send_messages(&transport, messages.clone()));
    assert_eq!(sink.taken(), 2 * EMAILS);

    let mut group = c.benchmark_group("smtp/send_1000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("roster_smtp", |b| {
        b.to_async(&runtime)
            .iter(|| send_notices(&notifier, &notices));
    });
    group.bench_function("lettre_baseline", |b| {
        b.to_async(&runtime).iter_batched(
            || messages.clone(),
            |messages| send_messages(&transport, messages),
            BatchSize::PerIteration,
        );
    });
    group.finish();
    // The pools' destructors spawn their shutdown on the runtime.
    runtime.block_on(async move {
        drop(notifier);
        drop(transport);
    });
}

criterion_group!(benches, send_1000);
criterion_main!(benches);
