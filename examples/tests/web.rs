//! The web portal's pages through `tower::ServiceExt::oneshot`, carrying the session cookie as a
//! browser would: sign-in, the Access tab, the invite form's rows and results, the link page
//! (which never consumes on GET and sends no referrer), CSRF refusal, and who sees what.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use roster::{Email, PasswordPolicy, Roster, RosterConfig};
use roster_examples::portal::{self, ADMINISTRATORS, USERS};
use roster_memory::{InMemoryStore, RecordingNotifier};
use tower::ServiceExt;

struct Browser {
    app: Router,
    cookie: Option<String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    referrer_policy: Option<String>,
    html: String,
}

impl Browser {
    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.app.clone().oneshot(request).await.unwrap();
        if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
            let cookie = cookie.to_str().unwrap();
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
                "{cookie}"
            );
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|value: &header::HeaderValue| value.to_str().unwrap().to_owned())
        };
        let (location, referrer_policy) =
            (header(header::LOCATION), header(header::REFERRER_POLICY));
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            referrer_policy,
            html: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request
    }

    async fn get(&mut self, uri: &str) -> Page {
        let request = self.request("GET", uri).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// Posts `fields` (URL-encoded) with the session's form token, as the page's form would.
    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all).await
    }

    async fn post_raw(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = fields
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .request("POST", uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn csrf(&mut self) -> String {
        let page = self.get("/sign-in").await;
        let start = page
            .html
            .find("name=\"csrf\" value=\"")
            .expect("a form token")
            + 19;
        page.html[start..start + 64].to_owned()
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.post("/sign-in", &[("email", email), ("password", password)])
            .await
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn portal_site() -> (Roster, RecordingNotifier, roster::ProjectId) {
    let mail = RecordingNotifier::new();
    let roster = Roster::builder(Arc::new(InMemoryStore::new()), Arc::new(mail.clone()))
        .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
        .roles(portal::catalog())
        .build()
        .unwrap();
    let alice = roster
        .register("alice@acme.example", "alice-password")
        .await
        .unwrap();
    let account = roster.create_account(alice.id, "Acme Cloud").await.unwrap();
    let project = roster
        .create_project(alice.id, account.id, "Website")
        .await
        .unwrap();
    (roster, mail, project.id)
}

#[tokio::test]
async fn the_seed_flow_page_by_page() {
    let (roster, mail, project) = portal_site().await;
    let bob = roster
        .register("bob@example.org", "bob-password")
        .await
        .unwrap();
    let other = roster.create_account(bob.id, "Bob's Studio").await.unwrap();
    roster
        .create_project(bob.id, other.id, "Portfolio")
        .await
        .unwrap();
    let app = roster_examples::web::app(roster.clone(), false);

    let mut alice = Browser {
        app: app.clone(),
        cookie: None,
    };
    let signed = alice.sign_in("alice@acme.example", "alice-password").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let projects = alice.get("/").await;
    assert!(projects.html.contains("Website"), "{}", projects.html);
    let tab = format!("/projects/{project}");
    let access = alice.get(&tab).await;
    assert!(access.html.contains("Invite Users") && access.html.contains("Members"));

    // "add another user" keeps what was typed and adds a row.
    let more = alice
        .post(
            &format!("{tab}/invite"),
            &[
                ("email", "bob@example.org"),
                ("role", "engineers"),
                ("action", "add"),
            ],
        )
        .await;
    assert_eq!(more.html.matches("name=\"email\"").count(), 2);
    assert!(more.html.contains("value=\"bob@example.org\""));

    let rows = [
        ("email", "bob@example.org"),
        ("role", ADMINISTRATORS.as_str()),
        ("email", "new@acme.example"),
        ("role", USERS.as_str()),
        ("email", "bad@@acme"),
        ("role", USERS.as_str()),
        ("action", "send"),
    ];
    let sent = alice.post(&format!("{tab}/invite"), &rows).await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(
        sent.html
            .contains("Access granted: an existing user, notified"),
        "{}",
        sent.html
    );
    assert!(sent.html.contains("Invitation sent"));
    assert!(sent.html.contains("Not a valid address"));
    assert!(sent.html.contains("Resend") && sent.html.contains("Revoke"));

    // The new person's link: GET shows and consumes nothing, and sends no referrer.
    let token = mail
        .last_token_to(&Email::parse("new@acme.example").unwrap())
        .unwrap()
        .expose_secret();
    let mut newcomer = Browser {
        app: app.clone(),
        cookie: None,
    };
    for _ in 0..2 {
        let link = newcomer.get(&format!("/invitations/{token}")).await;
        assert_eq!(link.status, StatusCode::OK);
        assert_eq!(link.referrer_policy.as_deref(), Some("no-referrer"));
        assert!(link.html.contains("Create a password") && link.html.contains("Users"));
        assert!(
            link.html.contains("alice@acme.example"),
            "the inviter is shown"
        );
    }
    let accepted = newcomer
        .post(
            &format!("/invitations/{token}/accept"),
            &[("password", "a new password")],
        )
        .await;
    assert_eq!(accepted.location.as_deref(), Some("/sign-in?done=password"));
    let used = newcomer.get(&format!("/invitations/{token}")).await;
    assert_eq!(used.status, StatusCode::GONE);
    assert!(used.html.contains("already used"));
    newcomer.sign_in("new@acme.example", "a new password").await;
    let home = newcomer.get("/").await;
    assert!(home.html.contains("Website") && home.html.contains("Users"));
    // A User sees the members but no invite form, and a forged POST is refused.
    let tab_page = newcomer.get(&tab).await;
    assert!(tab_page.html.contains("Members") && !tab_page.html.contains("Invite Users"));
    let forged = newcomer
        .post_raw(
            &format!("{tab}/invite"),
            &[
                ("csrf", "forged"),
                ("email", "x@acme.example"),
                ("role", "users"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let posted = newcomer
        .post(
            &format!("{tab}/invite"),
            &[
                ("email", "x@acme.example"),
                ("role", "users"),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(
        posted.status,
        StatusCode::FORBIDDEN,
        "with a valid token, the rule refuses"
    );

    // Bob, signed in, accepts and picks between his two accounts.
    let token = mail
        .last_token_to(&Email::parse("bob@example.org").unwrap())
        .unwrap()
        .expose_secret();
    let mut bob_browser = Browser { app, cookie: None };
    let signed = bob_browser.sign_in("bob@example.org", "bob-password").await;
    assert_eq!(
        signed.location.as_deref(),
        Some("/"),
        "one account so far: picked"
    );
    let link = bob_browser.get(&format!("/invitations/{token}")).await;
    assert!(link.html.contains(">Accept<"), "{}", link.html);
    let accepted = bob_browser
        .post(&format!("/invitations/{token}/accept"), &[])
        .await;
    assert_eq!(accepted.location.as_deref(), Some("/accounts"));
    let picker = bob_browser.get("/accounts").await;
    assert!(
        picker.html.contains("Acme Cloud") && picker.html.contains("Bob&#x27;s Studio"),
        "{}",
        picker.html
    );
}
