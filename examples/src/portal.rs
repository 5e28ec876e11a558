//! The portal flow of the quickstart, written so it can run again on the state a previous run
//! left: people who exist sign in instead of signing up, the account is reused, and each run adds
//! a new project, so the invitations of every run are fresh.

use async_trait::async_trait;
use roster::StoreExt;
use roster::{
    Acceptance, AuditAction, InvitationToken, InviteOutcome, InviteReport, InviteRequest,
    NoticeKind, Notifier, NotifyError, OutgoingNotice, PageRequest, Role, RoleCatalog,
    RoleDefinition, Roster, RosterError, User,
};

/// Where the portal serves invitation links.
pub const LINK_BASE: &str = "https://portal.example.com/invitations";

/// A notifier that prints each email instead of sending it: how a real one (SMTP, an API) turns a
/// notice into a message.
#[derive(Debug, Clone)]
pub struct ConsoleNotifier {
    link_base: String,
}

impl Default for ConsoleNotifier {
    fn default() -> Self {
        ConsoleNotifier::with_link_base(LINK_BASE)
    }
}

impl ConsoleNotifier {
    /// Prints links under `link_base` (the token is appended as the last path segment).
    pub fn with_link_base(link_base: impl Into<String>) -> Self {
        ConsoleNotifier {
            link_base: link_base.into(),
        }
    }
}

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
                println!(
                    "    │ Create your password to join as {}:",
                    notice.role_name
                );
            }
            NoticeKind::AccessGranted => {
                println!(
                    "    │ Subject: You were given access to {}",
                    notice.project_name
                );
                println!(
                    "    │ Accept to pick {} when you sign in ({}):",
                    notice.account_name, notice.role_name
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
            println!("    │ {}/{}", self.link_base, token.expose_secret());
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
const DAVE: (&str, &str) = ("dave@acme.example", "dave-secret-12");

/// The customer portal's roles.
pub const ADMINISTRATORS: Role = Role::from_static("administrators");
/// Engineers: everything but billing; they may invite people up to their own rank.
pub const ENGINEERS: Role = Role::from_static("engineers");
/// Purge and prefetch through the API and the web console.
pub const PURGE_API_WEB: Role = Role::from_static("purge_prefetch_api_web");
/// Purge and prefetch through the API only.
pub const PURGE_API: Role = Role::from_static("purge_prefetch_api");
/// Users: reports, through the web console.
pub const USERS: Role = Role::from_static("users");

/// The customer portal's role catalog, as a service declares it at start-up. The two "Purge and
/// Prefetch only" roles tie: neither has more rights than the other.
pub fn catalog() -> RoleCatalog {
    RoleCatalog::build([
        RoleDefinition::new(ADMINISTRATORS, "Administrators", 100)
            .managing_members()
            .name_in("de", "Administratoren")
            .permissions(["billing", "purge", "prefetch", "reports", "api", "web"]),
        RoleDefinition::new(ENGINEERS, "Engineers", 60)
            .managing_members()
            .name_in("de", "Ingenieure")
            .permissions(["purge", "prefetch", "reports", "api", "web"]),
        RoleDefinition::new(PURGE_API_WEB, "Purge and Prefetch only (API+Web)", 30)
            .permissions(["purge", "prefetch", "api", "web"]),
        RoleDefinition::new(PURGE_API, "Purge and Prefetch only (API)", 30)
            .permissions(["purge", "prefetch", "api"]),
        RoleDefinition::new(USERS, "Users", 10).permissions(["reports", "web"]),
    ])
    .expect("the portal's catalog is valid")
}

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

/// Accepts `token` as the person it was sent to: signing in first if they have a password from
/// an earlier run, choosing one otherwise.
async fn accept_as(
    roster: &Roster,
    token: &InvitationToken,
    (email, password): (&str, &str),
) -> Result<User, RosterError> {
    let acceptance = if roster.preview(token).await?.registered_user {
        let user = roster.authenticate(email, password).await?.user;
        Acceptance::ExistingUser { user: user.id }
    } else {
        Acceptance::NewUser {
            password: password.to_owned(),
        }
    };
    Ok(roster.accept(token, acceptance).await?.user)
}

/// Prints each row of an invite call; the tokens of the rows that were sent, in order.
fn report(roster: &Roster, report: &InviteReport) -> Vec<InvitationToken> {
    let mut tokens = Vec::new();
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
                    row.email,
                    roster.roles().display_name(invitation.role)
                );
                tokens.push(token.clone());
            }
            InviteOutcome::InvalidEmail(error) => println!("   {:<22} refused: {error}", row.email),
            InviteOutcome::RoleNotAllowed { role } => println!(
                "   {:<22} refused: {} ranks above the inviter",
                row.email,
                roster.roles().display_name(*role)
            ),
            other => println!("   {:<22} {other:?}", row.email),
        }
    }
    tokens
}

/// Runs the whole flow, printing each step and (through the roster's notifier) each email. The
/// roster must be built with [`catalog`].
pub async fn run(roster: &Roster) -> Result<(), RosterError> {
    if let Some(missing) = [ADMINISTRATORS, ENGINEERS, PURGE_API_WEB, PURGE_API, USERS]
        .into_iter()
        .find(|role| roster.roles().get(*role).is_none())
    {
        return Err(RosterError::UnknownRole { role: missing });
    }
    step("The portal's roles, highest rank first");
    for role in roster.roles().roles() {
        println!(
            "   {:<36} rank {:>3}{}  {}",
            role.display_name(),
            role.rank(),
            if role.manages_members() {
                ", manages members"
            } else {
                "                 "
            },
            role.permission_names().join(" ")
        );
    }

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
        InviteRequest::new("bob@example.org", ENGINEERS),
        InviteRequest::new(CAROL.0, ADMINISTRATORS).language("de"),
        InviteRequest::new(DAVE.0, PURGE_API),
        InviteRequest::new("erin@@acme", USERS),
    ];
    let tokens = report(roster, &roster.invite(alice.id, project.id, &rows).await?);
    let [bob_token, carol_token, dave_token] =
        <[_; 3]>::try_from(tokens).expect("the three valid rows were invited");

    step("Carol opens her link (a read-only preview: mail scanners cannot use it up)");
    let preview = roster.preview(&carol_token).await?;
    println!(
        "   {} invites {} to {} / {} as {}",
        preview.inviter,
        preview.email,
        preview.account_name,
        preview.project_name,
        roster.roles().display_name(preview.role)
    );
    accept_as(roster, &carol_token, CAROL).await?;
    let signed_in = roster.authenticate(CAROL.0, CAROL.1).await?;
    let names: Vec<_> = signed_in.accounts.iter().map(|a| a.name.as_str()).collect();
    println!("   Carol accepts and signs in; accounts to pick: {names:?}");

    step("Bob, already signed in, accepts as the existing user; Dave accepts too");
    let accepted = roster
        .accept(&bob_token, Acceptance::ExistingUser { user: bob.id })
        .await?;
    println!(
        "   {} is now {} in {}",
        accepted.user.email,
        roster.roles().display_name(accepted.membership.role),
        accepted.project.name
    );
    let dave = accept_as(roster, &dave_token, DAVE).await?;

    step("Bob, an Engineer, invites two people: not as Administrators (ranked above him)");
    let rows = [
        InviteRequest::new("frank@example.org", ADMINISTRATORS),
        InviteRequest::new("grace@example.org", PURGE_API_WEB),
    ];
    report(roster, &roster.invite(bob.id, project.id, &rows).await?);

    step("Dave (Purge and Prefetch only, who manages no one) tries to invite someone");
    let heidi = [InviteRequest::new("heidi@example.org", USERS)];
    match roster.invite(dave.id, project.id, &heidi).await {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("only roles that manage members may invite"),
    }

    step("Carol's link is used a second time");
    let again = Acceptance::NewUser {
        password: "another-pass".into(),
    };
    match roster.accept(&carol_token, again).await {
        Err(error) => println!("   refused: {error}"),
        Ok(_) => unreachable!("a token never works twice"),
    }

    step(&format!(
        "Members of {}, and what each may do (Roster::access, asked on every request)",
        project.name
    ));
    for member in roster
        .members(alice.id, project.id, PageRequest::first(50))
        .await?
        .items
    {
        let access = roster.access(member.user.id, project.id).await?;
        println!(
            "   {:<22} {:<34} {}",
            member.user.email.to_string(),
            access.display_name().unwrap_or("No access"),
            access.permissions().join(" ")
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
            describe(roster.roles(), &event.action)
        );
    }
    // Delivery records ride along with later commands; write the last ones before exiting, or
    // the next run would send those emails again.
    roster.flush().await
}

/// One line per audit event, for people rather than machines.
fn describe(roles: &RoleCatalog, action: &AuditAction) -> String {
    match action {
        AuditAction::ProjectCreated { name } => format!("created project {name}"),
        AuditAction::InvitationSent { email, role, .. } => {
            format!("invited {email} as {}", roles.display_name(*role))
        }
        AuditAction::InvitationResent { email, .. } => format!("resent the invitation of {email}"),
        AuditAction::InvitationAccepted { role, .. } => {
            format!("accepted, joining as {}", roles.display_name(*role))
        }
        other => format!("{other:?}"),
    }
}
