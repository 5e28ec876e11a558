//! Every route through `tower::ServiceExt::oneshot`, on the in-memory store, and every kind of
//! error as a problem details answer.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use roster::store::{InvitationQuery, Member, OutboxQuery, Step};
use roster::{
    Account, AccountId, AuditEvent, Email, EventId, Invitation, Limits, OutboxEntry, PasswordHash,
    PasswordPolicy, Project, ProjectId, Roster, RosterConfig, Store, StoreError, User, UserId,
};
use roster_axum::{ActorSource, RosterApi};
use roster_memory::{InMemoryStore, RecordingNotifier};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Trusts an `x-user-id` header, as behind an authenticating proxy.
struct FromHeader;

#[async_trait]
impl ActorSource for FromHeader {
    async fn actor(&self, parts: &Parts) -> Option<UserId> {
        parts.headers.get("x-user-id")?.to_str().ok()?.parse().ok()
    }
}

struct Site {
    roster: Roster,
    mail: RecordingNotifier,
    admin: User,
    project: Project,
}

fn roster_on(store: Arc<dyn Store>, mail: &RecordingNotifier) -> Roster {
    Roster::builder(store, Arc::new(mail.clone()))
        .config(
            RosterConfig::default()
                .passwords(PasswordPolicy::insecure_fast_for_tests())
                .limits(Limits::default().rows_per_invite(5)),
        )
        .build()
        .expect("a valid configuration")
}

async fn site() -> Site {
    let mail = RecordingNotifier::new();
    let roster = roster_on(Arc::new(InMemoryStore::new()), &mail);
    let admin = roster
        .register("admin@example.com", "admin password")
        .await
        .unwrap();
    let account = roster.create_account(admin.id, "Acme").await.unwrap();
    let project = roster
        .create_project(admin.id, account.id, "Rocket")
        .await
        .unwrap();
    Site {
        roster,
        mail,
        admin,
        project,
    }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    actor: Option<UserId>,
    body: Option<Value>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(actor) = actor {
        request = request.header("x-user-id", actor.to_string());
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        content_type,
        body,
    }
}

/// A problem answer with `status` and `code`.
fn assert_problem(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    assert_eq!(answer.body["status"], status.as_u16());
    assert_eq!(answer.body["type"], format!("urn:roster:problem:{code}"));
}

#[tokio::test]
async fn the_whole_flow_through_the_routes() {
    let site = site().await;
    let app = RosterApi::new(site.roster.clone(), FromHeader).router();
    let p = site.project.id;
    let admin = Some(site.admin.id);
    let bob = site
        .roster
        .register("bob@example.com", "bob password")
        .await
        .unwrap();

    // Invite: one new person, one existing user, one typo. No token in the answer.
    let rows = json!({"rows": [
        {"email": "ann@example.com", "role": "user"},
        {"email": "Bob@Example.com", "role": "administrator", "language": "de"},
        {"email": "x@@y", "role": "user"},
    ]});
    let answer = call(
        &app,
        Method::POST,
        &format!("/projects/{p}/invitations"),
        admin,
        Some(rows),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let outcomes: Vec<&str> = answer.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["invited", "invited", "invalid_email"]);
    assert_eq!(answer.body["rows"][0]["delivery"], "delivered");
    assert_eq!(answer.body["rows"][2]["code"], "multiple_at");
    assert!(!answer.body.to_string().contains("\"token\""));
    let ann_token = site
        .mail
        .last_token_to(&Email::parse("ann@example.com").unwrap())
        .unwrap()
        .expose_secret();
    let bob_token = site
        .mail
        .last_token_to(&Email::parse("bob@example.com").unwrap())
        .unwrap()
        .expose_secret();

    // Invitations listed by state, without ?limit=.
    let answer = call(
        &app,
        Method::GET,
        &format!("/projects/{p}/invitations?state=pending"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 2);
    let invitation = answer.body["items"][0]["id"].as_str().unwrap().to_owned();

    // The invitee's link: preview, then acceptance as a new person.
    let answer = call(
        &app,
        Method::POST,
        "/invitations/preview",
        None,
        Some(json!({"token": ann_token})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["project_name"], "Rocket");
    let answer = call(
        &app,
        Method::POST,
        "/invitations/accept",
        None,
        Some(json!({"token": ann_token, "password": "ann password"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let ann: UserId = answer.body["user"]["id"].as_str().unwrap().parse().unwrap();

    // Bob accepts signed in, as the existing user.
    let answer = call(
        &app,
        Method::POST,
        "/invitations/accept",
        Some(bob.id),
        Some(json!({"token": bob_token})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["membership"]["role"], "administrator");

    // Sign-in answers the accounts to pick.
    let answer = call(
        &app,
        Method::POST,
        "/sign-in",
        None,
        Some(json!({"email": "ann@example.com", "password": "ann password"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["accounts"][0]["name"], "Acme");

    // Members, paginated.
    let answer = call(
        &app,
        Method::GET,
        &format!("/projects/{p}/members?limit=2"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 2);
    assert!(answer.body["next"].is_string());
    let answer = call(
        &app,
        Method::GET,
        &format!("/projects/{p}/members"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.body["items"].as_array().unwrap().len(), 3);

    // What Ann may do.
    let answer = call(
        &app,
        Method::GET,
        &format!("/projects/{p}/access"),
        Some(ann),
        None,
    )
    .await;
    assert_eq!(answer.body["role"], "user");
    assert_eq!(answer.body["manages_members"], false);

    // Role change, resend, revoke, removal, leaving.
    let answer = call(
        &app,
        Method::PUT,
        &format!("/projects/{p}/members/{ann}/role"),
        admin,
        Some(json!({"role": "observer"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["role"], "observer");
    let rows = json!({"rows": [{"email": "cy@example.com", "role": "user"}]});
    let answer = call(
        &app,
        Method::POST,
        &format!("/projects/{p}/invitations"),
        admin,
        Some(rows),
    )
    .await;
    let cy = answer.body["rows"][0]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = call(
        &app,
        Method::POST,
        &format!("/invitations/{cy}/resend"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["delivery"], "delivered");
    assert!(answer.body.get("token").is_none());
    let answer = call(
        &app,
        Method::POST,
        &format!("/invitations/{cy}/revoke"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["state"], "revoked");
    let answer = call(
        &app,
        Method::DELETE,
        &format!("/projects/{p}/members/{ann}"),
        admin,
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = call(
        &app,
        Method::POST,
        &format!("/projects/{p}/leave"),
        Some(bob.id),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);

    // Declining a fresh invitation.
    let rows = json!({"rows": [{"email": "dee@example.com", "role": "user"}]});
    call(
        &app,
        Method::POST,
        &format!("/projects/{p}/invitations"),
        admin,
        Some(rows),
    )
    .await;
    let dee_token = site
        .mail
        .last_token_to(&Email::parse("dee@example.com").unwrap())
        .unwrap()
        .expose_secret();
    let answer = call(
        &app,
        Method::POST,
        "/invitations/decline",
        None,
        Some(json!({"token": dee_token})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(invitation.len() > 10);
}

#[tokio::test]
async fn tokens_are_in_invite_answers_only_when_asked_for() {
    let site = site().await;
    let app = RosterApi::new(site.roster.clone(), FromHeader)
        .expose_tokens(true)
        .router();
    let rows = json!({"rows": [{"email": "ann@example.com", "role": "user"}]});
    let uri = format!("/projects/{}/invitations", site.project.id);
    let answer = call(&app, Method::POST, &uri, Some(site.admin.id), Some(rows)).await;
    let token = site
        .mail
        .last_token_to(&Email::parse("ann@example.com").unwrap())
        .unwrap();
    assert_eq!(answer.body["rows"][0]["token"], token.expose_secret());
}

#[tokio::test]
async fn every_kind_of_error_is_a_problem_with_its_status() {
    let site = site().await;
    let app = RosterApi::new(site.roster.clone(), FromHeader).router();
    let p = site.project.id;
    let admin = Some(site.admin.id);
    let outsider = site
        .roster
        .register("out@example.com", "outsider password")
        .await
        .unwrap();
    let invite = |rows: Value| Some(json!({ "rows": rows }));
    let invitations = format!("/projects/{p}/invitations");

    let missing = ProjectId::from_uuid(uuid_of(7));
    let answer = call(
        &app,
        Method::GET,
        &format!("/projects/{missing}/members"),
        admin,
        None,
    )
    .await;
    assert_problem(&answer, StatusCode::NOT_FOUND, "not_found");

    let rows = invite(json!([{"email": "a@example.com", "role": "user"}]));
    let answer = call(
        &app,
        Method::POST,
        &invitations,
        Some(outsider.id),
        rows.clone(),
    )
    .await;
    assert_problem(&answer, StatusCode::FORBIDDEN, "forbidden.not_a_manager");

    let answer = call(
        &app,
        Method::PUT,
        &format!("/projects/{p}/members/{}/role", site.admin.id),
        admin,
        Some(json!({"role": "ghost"})),
    )
    .await;
    assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unknown_role");
    let answer = call(
        &app,
        Method::POST,
        "/invitations/preview",
        None,
        Some(json!({"token": "nope"})),
    )
    .await;
    assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_token");

    let answer = call(
        &app,
        Method::POST,
        &format!("/projects/{p}/leave"),
        admin,
        None,
    )
    .await;
    assert_problem(&answer, StatusCode::CONFLICT, "last_manager");

    call(&app, Method::POST, &invitations, admin, rows.clone()).await;
    let token = site
        .mail
        .last_token_to(&Email::parse("a@example.com").unwrap())
        .unwrap()
        .expose_secret();
    let accept = json!({"token": token, "password": "a fine password"});
    call(
        &app,
        Method::POST,
        "/invitations/accept",
        None,
        Some(accept.clone()),
    )
    .await;
    let answer = call(
        &app,
        Method::POST,
        "/invitations/accept",
        None,
        Some(accept),
    )
    .await;
    assert_problem(&answer, StatusCode::GONE, "invitation_closed.accepted");

    let answer = call(&app, Method::POST, &invitations, None, rows).await;
    assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");
    let answer = call(
        &app,
        Method::POST,
        "/sign-in",
        None,
        Some(json!({"email": "admin@example.com", "password": "wrong password"})),
    )
    .await;
    assert_problem(&answer, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let answer = call(
        &app,
        Method::POST,
        "/invitations/accept",
        None,
        Some(json!({"token": token})),
    )
    .await;
    assert_problem(&answer, StatusCode::UNAUTHORIZED, "unauthenticated");

    let six: Vec<Value> = (0..6)
        .map(|i| json!({"email": format!("r{i}@example.com"), "role": "user"}))
        .collect();
    let answer = call(&app, Method::POST, &invitations, admin, invite(json!(six))).await;
    assert_problem(&answer, StatusCode::TOO_MANY_REQUESTS, "limit_reached");

    let answer = call(
        &app,
        Method::POST,
        &invitations,
        admin,
        Some(json!({"rows": "no"})),
    )
    .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad_request");
    let answer = call(
        &app,
        Method::GET,
        "/projects/not-an-id/members",
        admin,
        None,
    )
    .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad_request");
    let answer = call(
        &app,
        Method::GET,
        &format!("{invitations}?state=lost"),
        admin,
        None,
    )
    .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad_request");
}

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

/// A store whose listings fail the way `retryable` says, the rest forwarded.
struct Failing {
    inner: InMemoryStore,
    retryable: bool,
}

impl Failing {
    fn error(&self) -> StoreError {
        StoreError::Backend {
            source: "the disk is on fire".into(),
            retryable: self.retryable,
        }
    }
}

#[async_trait]
impl Store for Failing {
    async fn transact(&self, step: Step) -> Result<(), StoreError> {
        self.inner.transact(step).await
    }
    async fn projects(&self, a: AccountId) -> Result<Vec<Project>, StoreError> {
        self.inner.projects(a).await
    }
    async fn accounts_of_user(&self, u: UserId) -> Result<Vec<Account>, StoreError> {
        self.inner.accounts_of_user(u).await
    }
    async fn credentials(
        &self,
        e: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
        self.inner.credentials(e).await
    }
    async fn members(
        &self,
        _: ProjectId,
        _: Option<UserId>,
        _: usize,
    ) -> Result<Vec<Member>, StoreError> {
        Err(self.error())
    }
    async fn invitations(&self, q: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> {
        self.inner.invitations(q).await
    }
    async fn audit_events(
        &self,
        p: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.audit_events(p, after, limit).await
    }
    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.due_notices(now, limit).await
    }
    async fn outbox(&self, q: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.outbox(q).await
    }
}

#[tokio::test]
async fn store_failures_are_unavailable_or_internal_without_detail() {
    for (retryable, status, code) in [
        (true, StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
        (false, StatusCode::INTERNAL_SERVER_ERROR, "store"),
    ] {
        let mail = RecordingNotifier::new();
        let store = Arc::new(Failing {
            inner: InMemoryStore::new(),
            retryable,
        });
        let roster = roster_on(store, &mail);
        let admin = roster
            .register("admin@example.com", "admin password")
            .await
            .unwrap();
        let account = roster.create_account(admin.id, "Acme").await.unwrap();
        let project = roster
            .create_project(admin.id, account.id, "Rocket")
            .await
            .unwrap();
        let app = RosterApi::new(roster, FromHeader).router();
        let uri = format!("/projects/{}/members", project.id);
        let answer = call(&app, Method::GET, &uri, Some(admin.id), None).await;
        assert_problem(&answer, status, code);
        if !retryable {
            assert!(answer.body.get("detail").is_none(), "{}", answer.body);
            assert!(!answer.body.to_string().contains("fire"));
        }
    }
}
