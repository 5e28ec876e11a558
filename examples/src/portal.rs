//! The portal flow of the quickstart, written so it can run again on the state a previous run
//! left: people who exist sign in instead of signing up, the account is reused, and each run adds
//! a new project, so the invitations of every run are fresh.

use async_trait::async_trait;
use roster::StoreExt;
use roster::{
    Acceptance, AuditAction, InvitationToken, InviteOutcome, InviteRequest, NoticeKind, Notifier,
    NotifyError, OutgoingNotice, PageRequest, Role, Roster, RosterError, User,
};

/// Where the portal serves invitation links.
pub const LINK_BASE: &str = "https://portal.example.com/invitations";

/// A notifier that prints each email instead of sending it: how a real one (SMTP, an API) turns a
/// notice into a message.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsoleNotifier;

#[async_trait]
impl Notifier for ConsoleNotifier {
    async fn send(&self, outgoing: &OutgoingNotice) -> Result<(), NotifyError> {
        let notice = &outgoing.notice;
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
        if let Some(token) = &outgoing.token {
            println!("    │ {LINK_BASE}/{}", token.expose_secret());
            println!(
                "    │ The link works until {}.",
                notice.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        println!("    └");
        Ok(())
    }
}

const ALICE: (&str, &str) = ("alice@acme.example", "alice-secret-1");
const BOB: (&str, &str) = ("Bob@Example.org", "bob-secret-12");
const CAROL: (&str, &str) = ("carol@acme.example", "carol-secret-1");

fn step(text: &str) {
    println!("\n== {text}");
}

/// Signs the person in, or signs them up if they have no password yet.
async fn sign_in_or_up(
    roster: &Roster,
    (email, password): (&str, &str),
) -> Result<User, RosterError> {
    match roster.authenticate(email, password).await {
        Ok(signed_in) => {
            println!("   {email} signs in");
            Ok(signed_in.user)
        }
        Err(RosterError::InvalidCredentials) => {
            println!("   {email} signs up");
            roster.register(email, password).await
        }
        Err(error) => Err(error),
    }
}

/// Runs the whole flow, printing each step and (through the roster's notifier) each email.
pub async fn run(roster: &Roster) -> Result<(), RosterError> {
    step("Alice, an account administrator, opens the account \"Acme Cloud\"");
    let alice = sign_in_or_up(roster, ALICE).await?;
    let accounts = roster.accounts_of(alice.id).await?;
    let account = match accounts
        .into_iter()
        .find(|account| account.name == "Acme Cloud")
    {
        Some(account) => account,
        None => roster.create_account(alice.id, "Acme Cloud").await?,
    };
    let run = roster.store().projects(account.id).await?.len() + 1;
    let project = roster
        .create_project(alice.id, account.id, &format!("Billing #{run}"))
        .await?;
    println!(
        "   run {run}: new project {} in {}",
        project.name, account.name
    );

    step("Bob has a login already");
    let bob = sign_in_or_up(roster, BOB).await?;

    step("Alice invites three addresses in one call (one existing user, two new) plus a typo");
    let rows = [
        InviteRequest::new("bob@example.org", Role::USER),
        InviteRequest::new(CAROL.0, Role::ADMINISTRATOR),
        InviteRequest::new("dave@acme.example", Role::OBSERVER),
        InviteRequest::new("erin@@acme", Role::USER),
    ];
    let report = roster.invite(alice.id, project.id, &rows).await?;
    let mut tokens: Vec<InvitationToken> = Vec::new();
    for row in &report.rows {
        match &row.outcome {
            InviteOutcome::Invited {
                invitation,
                token,
                notice,
            }
            | InviteOutcome::Refreshed {
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
        <[_; 3]>::try_from(tokens).expect("the three valid rows were invited");

    step("Carol opens her link (a read-only preview: mail scanners cannot use it up)");
    let preview = roster.preview(&carol_token).await?;
    println!(
        "   {} invites {} to {} / {} as {}",
        preview.inviter, preview.email, preview.account_name, preview.project_name, preview.role
    );

    if preview.registered_user {
        step("Carol has a password from an earlier run: she signs in and accepts");
        let carol = roster.authenticate(CAROL.0, CAROL.1).await?.user;
        roster
            .accept(&carol_token, Acceptance::ExistingUser { user: carol.id })
            .await?;
    } else {
        step("Carol is new: she accepts by choosing a password");
        let password = CAROL.1.to_owned();
        roster
            .accept(&carol_token, Acceptance::NewUser { password })
            .await?;
    }
    let signed_in = roster.authenticate(CAROL.0, CAROL.1).await?;
    let names: Vec<_> = signed_in.accounts.iter().map(|a| a.name.as_str()).collect();
    println!("   Carol signs in; accounts to pick: {names:?}");

    step("Bob, already signed in, accepts as the existing user");
    let accepted = roster
        .accept(&bob_token, Acceptance::ExistingUser { user: bob.id })
        .await?;
    println!(
        "   {} is now {} in {}",
        accepted.user.email, accepted.membership.role, accepted.project.name
    );

    step("Bob (a User, not an Administrator) tries to invite someone");
    let frank = [InviteRequest::new("frank@example.org", Role::USER)];
    match roster.invite(bob.id, project.id, &frank).await {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("only administrators may invite"),
    }

    step("Carol's link is used a second time");
    let again = Acceptance::NewUser {
        password: "another-pass".into(),
    };
    match roster.accept(&carol_token, again).await {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("a token never works twice"),
    }

    step(&format!("Members of {}", project.name));
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

    step(&format!("Audit trail of {}", project.name));
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
    // Delivery records ride along with later commands; write the last ones before exiting, or
    // the next run would send those emails again.
    roster.flush().await
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
