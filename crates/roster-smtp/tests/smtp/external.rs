//! Against an SMTP server from outside the project: `.ci/run` starts Python's `aiosmtpd` with a
//! Maildir handler and runs this with `--ignored`, giving the server's URL and the Maildir in
//! `ROSTER_SMTP_URL` and `ROSTER_MAILDIR`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use roster::{Acceptance, DeliveryStatus};

use super::server::Received;
use super::support::{ADMIN, FROM, Mail, Portal, notifier};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set; see .ci/run"))
}

/// The Maildir messages (in `new/` or `cur/`) addressed to `to`.
fn delivered_to(maildir: &Path, to: &str) -> Vec<Vec<u8>> {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(maildir.join(sub)).ok())
        .flatten()
        .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
        .filter(|data| String::from_utf8_lossy(data).contains(to))
        .collect()
}

#[tokio::test]
#[ignore = "needs an external SMTP server: ROSTER_SMTP_URL and ROSTER_MAILDIR (see .ci/run)"]
async fn an_invitation_lands_in_the_maildir_of_an_independent_server() {
    let maildir = PathBuf::from(env("ROSTER_MAILDIR"));
    let portal = Portal::open(notifier(&env("ROSTER_SMTP_URL"))).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let to = format!("maildir-{nanos}@example.com");
    portal.invite(&[&to]).await;
    let [notice] = <[_; 1]>::try_from(portal.notices(None).await).unwrap();
    let status = (notice.status, notice.last_error);
    assert_eq!(status, (DeliveryStatus::Delivered, None));

    let mut landed = Vec::new();
    for _ in 0..100 {
        landed = delivered_to(&maildir, &to);
        if !landed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let [data] = <[Vec<u8>; 1]>::try_from(landed).expect("exactly one message landed");
    let mail = Mail::parse(&Received {
        from: FROM.to_owned(),
        to: vec![to.clone()],
        data,
    });
    assert_eq!(mail.to, [to.as_str()]);
    assert_eq!(mail.from_address, FROM);
    assert_eq!(mail.subject, format!("{ADMIN} invited you to Billing"));
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.has_date && !mail.message_id.is_empty());
    let token = mail.token().expect("a link");
    assert!(mail.html.contains(&token.expose_secret()));
    let password = "maildir-password".to_owned();
    portal
        .roster
        .accept(&token, Acceptance::NewUser { password })
        .await
        .unwrap();
}
