//! The pages' templates (MiniJinja, HTML-escaped) and how a page is answered.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("accounts.html", include_str!("templates/accounts.html")),
        ("projects.html", include_str!("templates/projects.html")),
        ("project.html", include_str!("templates/project.html")),
        ("invitation.html", include_str!("templates/invitation.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|error| panic!("template {name}: {error}"));
    }
    env
});

/// The page `name` rendered with `context`, as a `status` answer.
pub(crate) fn page(status: StatusCode, name: &str, context: Value) -> Response {
    match TEMPLATES
        .get_template(name)
        .and_then(|template| template.render(context))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, name, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// `response` with `Referrer-Policy: no-referrer`: for pages whose URL carries a token, so that
/// no link followed from them hands it to another site.
pub(crate) fn without_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
