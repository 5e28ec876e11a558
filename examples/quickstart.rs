//! The whole portal flow on the in-memory store, printing each step and each email as it would be
//! sent. Run with `cargo run --example quickstart`.

use std::sync::Arc;

use async_trait::async_trait;
use roster::{
    Acceptance, AuditAction, InviteOutcome, InviteRequest, NoticeKind, Notifier, NotifyError,
    OutgoingNotice, PageRequest, PasswordPolicy, Role, Roster, RosterConfig, RosterError,
};
use roster_memory::InMemoryStore;

/// Where the portal serves invitation links.
const LINK_BASE: &str = "https://portal.example.com/invitations";

/// A notifier that prints each email instead of sending it: how a real one (SMTP, an API) would
/// turn a notice into a message.
struct ConsoleNotifier;

#[async_trait]
impl Notifier for ConsoleNotifier {
    async fn send(&self, outgoing: &OutgoingNotice) -> Result<(), NotifyError> {
        let notice = &outgoing.notice;
        let link = outgoing
            .token
            .as_ref()
            .map(|token| format!("{LINK_BASE}/{}", token.expose_secret()));
        println!("    ┌ email to {}", notice.to);
        match notice.kind {
            NoticeKind::Invitation => {
                println!(
                    "    │ Subject: {} invited you to {}",
                    notice.inviter, notice.project_name
                );
                println!("    │ Create your password to join as {}:", notice.role);
            }
            NoticeKind::AccessGranted => {
                println!(
                    "    │ Subject: You were given access to {}",
                    notice.project_name
                );
                println!(
                    "    │ Accept to pick {} when you sign in ({}):",
                    notice.account_name, notice.role
                );
            }
            NoticeKind::Revocation => {
                println!(
                    "    │ Subject: Your invitation to {} was withdrawn",
                    notice.project_name
                );
            }
            _ => println!("    │ (a kind of notice this demo does not know)"),
        }
        if let Some(link) = link {
            println!("    │ {link}");
            println!(
                "    │ The link works until {}.",
                notice.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        println!("    └");
        Ok(())
    }
}

/// One line per audit event, for people rather than machines.
fn describe(action: &AuditAction) -> String {
    match action {
        AuditAction::ProjectCreated { name } => format!("created project {name}"),
        AuditAction::InvitationSent { email, role, .. } => format!("invited {email} as {role}"),
        AuditAction::InvitationResent { email, .. } => format!("resent the invitation of {email}"),
        AuditAction::InvitationAccepted { role, .. } => format!("accepted, joining as {role}"),
        other => format!("{other:?}"),
    }
}

fn step(text: &str) {
    println!("\n== {text}");
}

#[tokio::main]
async fn main() -> Result<(), RosterError> {
    let roster = Roster::builder(Arc::new(InMemoryStore::new()), Arc::new(ConsoleNotifier))
        // Demo-grade hashing keeps the example instant; keep the default cost in production.
        .config(RosterConfig {
            passwords: PasswordPolicy::insecure_fast_for_tests(),
            ..RosterConfig::default()
        })
        .build();

    step("Alice signs up and creates the account \"Acme Cloud\" with a project \"Billing\"");
    let alice = roster
        .register("alice@acme.example", "alice-secret-1")
        .await?;
    let account = roster.create_account(alice.id, "Acme Cloud").await?;
    let project = roster
        .create_project(alice.id, account.id, "Billing")
        .await?;
    println!("   account {} / project {}", account.name, project.name);

    step("Bob already has a login (from another account)");
    let bob = roster.register("Bob@Example.org", "bob-secret-12").await?;
    println!("   registered {}", bob.email);

    step("Alice invites three addresses in one call (one existing user, two new) plus a typo");
    let report = roster
        .invite(
            alice.id,
            project.id,
            &[
                InviteRequest::new("bob@example.org", Role::User),
                InviteRequest::new("carol@acme.example", Role::Administrator),
                InviteRequest::new("dave@acme.example", Role::Observer),
                InviteRequest::new("erin@@acme", Role::User),
            ],
        )
        .await?;
    let mut tokens = Vec::new();
    for row in &report.rows {
        match &row.outcome {
            InviteOutcome::Invited {
                invitation,
                token,
                notice,
            } => {
                println!(
                    "   {:<22} invited as {} ({notice:?} notice)",
                    row.email, invitation.role
                );
                tokens.push(token.clone());
            }
            InviteOutcome::InvalidEmail(error) => println!("   {:<22} refused: {error}", row.email),
            other => println!("   {:<22} {other:?}", row.email),
        }
    }
    let [bob_token, carol_token, _dave_token] =
        <[_; 3]>::try_from(tokens).expect("three invitations");

    step("Carol opens her link (a read-only preview: mail scanners cannot use it up)");
    let preview = roster.preview(&carol_token).await?;
    println!(
        "   {} invites {} to {} / {} as {} (registered already: {})",
        preview.inviter,
        preview.email,
        preview.account_name,
        preview.project_name,
        preview.role,
        preview.registered_user
    );

    step("Carol accepts with a new password, then signs in");
    roster
        .accept(
            &carol_token,
            Acceptance::NewUser {
                password: "carol-secret-1".into(),
            },
        )
        .await?;
    let sign_in = roster
        .authenticate("carol@acme.example", "carol-secret-1")
        .await?;
    let names: Vec<_> = sign_in.accounts.iter().map(|a| a.name.as_str()).collect();
    println!(
        "   signed in as {}; accounts to pick: {names:?}",
        sign_in.user.email
    );

    step("Bob, already signed in, accepts as the existing user");
    let accepted = roster
        .accept(&bob_token, Acceptance::ExistingUser { user: bob.id })
        .await?;
    println!(
        "   {} is now {} in {}",
        accepted.user.email, accepted.membership.role, accepted.project.name
    );

    step("Bob (a User, not an Administrator) tries to invite someone");
    match roster
        .invite(
            bob.id,
            project.id,
            &[InviteRequest::new("frank@example.org", Role::User)],
        )
        .await
    {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("only administrators may invite"),
    }

    step("Carol's link is used a second time");
    match roster
        .accept(
            &carol_token,
            Acceptance::NewUser {
                password: "another-pass".into(),
            },
        )
        .await
    {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("a token never works twice"),
    }

    step("Members of Billing");
    for member in roster
        .members(alice.id, project.id, PageRequest::first(50))
        .await?
        .items
    {
        println!(
            "   {:<22} {}",
            member.user.email.to_string(),
            member.membership.role
        );
    }

    step("Audit trail of Billing");
    for event in roster
        .audit_trail(alice.id, project.id, PageRequest::first(50))
        .await?
        .items
    {
        let actor = match event.actor {
            Some(id) => roster
                .store()
                .user(id)
                .await?
                .map(|user| user.email.to_string()),
            None => None,
        };
        println!(
            "   {} {:<20} {}",
            event.at.format("%H:%M:%S"),
            actor.unwrap_or_else(|| "(invitee)".into()),
            describe(&event.action)
        );
    }
    Ok(())
}
