//! The text of the emails: [`Templates`] and how notices are rendered with them.

use std::fmt;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use roster::NoticeKind;

/// The language of the built-in templates.
pub const BUILTIN_LANGUAGE: &str = "en";

/// Which part of an email a template renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The `Subject` header (flattened to one line).
    Subject,
    /// The `text/plain` body.
    Text,
    /// The `text/html` body (every variable escaped).
    Html,
}

impl Part {
    fn suffix(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "txt",
            Part::Html => "html",
        }
    }
}

/// The stable name of a kind of notice, as in template names; `None` for kinds this crate does
/// not know yet.
pub fn kind_name(kind: NoticeKind) -> Option<&'static str> {
    match kind {
        NoticeKind::Invitation => Some("invitation"),
        NoticeKind::AccessGranted => Some("access_granted"),
        NoticeKind::Revocation => Some("revocation"),
        _ => None,
    }
}

const KINDS: [NoticeKind; 3] = [
    NoticeKind::Invitation,
    NoticeKind::AccessGranted,
    NoticeKind::Revocation,
];

const BUILTIN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("button.html", include_str!("../templates/button.html")),
    (
        "en/invitation.subject",
        include_str!("../templates/en/invitation.subject"),
    ),
    (
        "en/invitation.txt",
        include_str!("../templates/en/invitation.txt"),
    ),
    (
        "en/invitation.html",
        include_str!("../templates/en/invitation.html"),
    ),
    (
        "en/access_granted.subject",
        include_str!("../templates/en/access_granted.subject"),
    ),
    (
        "en/access_granted.txt",
        include_str!("../templates/en/access_granted.txt"),
    ),
    (
        "en/access_granted.html",
        include_str!("../templates/en/access_granted.html"),
    ),
    (
        "en/revocation.subject",
        include_str!("../templates/en/revocation.subject"),
    ),
    (
        "en/revocation.txt",
        include_str!("../templates/en/revocation.txt"),
    ),
    (
        "en/revocation.html",
        include_str!("../templates/en/revocation.html"),
    ),
];

/// The text of the emails: a subject, a plain-text body and an HTML body for each kind of notice,
/// in any number of languages, written as [MiniJinja](https://docs.rs/minijinja) templates. The
/// built-in ones are English; a service overrides or adds what it wants.
///
/// # Variables
///
/// Every template sees:
///
/// | name | value |
/// | --- | --- |
/// | `kind` | `invitation`, `access_granted` or `revocation` |
/// | `to` | the recipient's address |
/// | `project`, `account` | the project's and the account's names |
/// | `role` | the role offered, as people see it: its display name in the notice's language, from the service's role catalog (`Administrator`) |
/// | `role_id` | the role's stable key (`administrator`), to translate it or branch on it |
/// | `inviter` | the address of whoever sent the invitation |
/// | `expires_at` | when the link stops working, as `2026-01-08 00:00 UTC` |
/// | `expires_at_iso` | the same in RFC 3339, to format it another way |
/// | `link` | the invitation link; `none` in a revocation |
/// | `sender` | the From name (or address) |
/// | `language` | the notice's language tag, or `none` |
/// | `subject` | the rendered subject (in the bodies only) |
///
/// Printing a variable that does not exist is an error (caught by [`Templates::check`] when the
/// notifier is built), so a typo never sends an email with a hole in it. HTML templates (names
/// ending in `.html`) escape every variable; subjects and plain text do not need it, and a
/// subject is flattened to one line whatever its variables contain.
///
/// # Languages
///
/// Templates are looked up per part for the notice's language (`pt-BR`), then its primary
/// subtag (`pt`), then the default language, then the built-in English: a language can override
/// just the subjects, or everything. The built-in HTML templates extend `layout.html` and include
/// `button.html` (with `label` and, optionally, `hint` set), which
/// [`Templates::set_shared`] can replace or which new templates can reuse.
///
/// ```
/// use roster::NoticeKind;
/// use roster_smtp::{Part, Templates};
///
/// let mut templates = Templates::new();
/// templates.set(
///     NoticeKind::Invitation,
///     "de",
///     Part::Subject,
///     "{{ inviter }} hat Sie zu {{ project }} eingeladen",
/// )?;
/// templates.check()?;
/// # Ok::<(), roster_smtp::TemplateError>(())
/// ```
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
    default_language: String,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.env.templates().map(|(name, _)| name).collect();
        names.sort_unstable();
        f.debug_struct("Templates")
            .field("default_language", &self.default_language)
            .field("templates", &names)
            .finish()
    }
}

impl Templates {
    /// The built-in English templates, with English as the default language.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(format_value);
        for (name, source) in BUILTIN {
            env.add_template(name, source)
                .expect("the built-in templates compile");
        }
        Templates {
            env,
            default_language: BUILTIN_LANGUAGE.to_owned(),
        }
    }

    /// The language used when a notice has none, or one without templates.
    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    /// Makes `language` the default (for example `de` for a German-speaking service); parts it
    /// has no template for still fall back to the built-in English.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Language`] for a tag with characters other than letters, digits, `-`
    /// and `_`.
    pub fn set_default_language(&mut self, language: &str) -> Result<&mut Self, TemplateError> {
        self.default_language = normalize(language)?;
        Ok(self)
    }

    /// Sets the template of one part of one kind of notice in one language, replacing the
    /// built-in one or adding a language.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Syntax`] if the source does not compile, [`TemplateError::Language`] for
    /// a malformed language tag, [`TemplateError::UnknownKind`] for a kind this crate has no
    /// templates for.
    pub fn set(
        &mut self,
        kind: NoticeKind,
        language: &str,
        part: Part,
        source: impl Into<String>,
    ) -> Result<&mut Self, TemplateError> {
        let kind = kind_name(kind).ok_or(TemplateError::UnknownKind)?;
        let name = template_name(&normalize(language)?, kind, part);
        self.add(name, source.into())?;
        Ok(self)
    }

    /// Replaces or adds a template shared by others, such as `layout.html` (the frame of the
    /// built-in HTML emails) or `button.html` (their call-to-action button), or a new one for
    /// your own templates to extend or include.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Syntax`] if the source does not compile, [`TemplateError::Language`] if
    /// `name` contains a `/` (those names belong to [`Templates::set`]).
    pub fn set_shared(
        &mut self,
        name: &str,
        source: impl Into<String>,
    ) -> Result<&mut Self, TemplateError> {
        if name.contains('/') {
            return Err(TemplateError::Language(name.to_owned()));
        }
        self.add(name.to_owned(), source.into())?;
        Ok(self)
    }

    fn add(&mut self, name: String, source: String) -> Result<(), TemplateError> {
        self.env
            .add_template_owned(name, source)
            .map_err(TemplateError::Syntax)
    }

    /// Renders every part of every kind in every language with sample values: a template that
    /// prints an unknown variable, or includes one that does not exist, fails here rather than
    /// when an email is due. [`SmtpNotifierBuilder::build`](crate::SmtpNotifierBuilder::build)
    /// calls it.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Render`] naming the template.
    pub fn check(&self) -> Result<(), TemplateError> {
        let mut languages: Vec<String> = self
            .env
            .templates()
            .filter_map(|(name, _)| name.split_once('/').map(|(lang, _)| lang.to_owned()))
            .collect();
        languages.push(self.default_language.clone());
        languages.sort_unstable();
        languages.dedup();
        for language in &languages {
            for kind in KINDS {
                let mut vars = Vars::sample(kind);
                vars.language = Some(language.clone());
                self.render(&vars)?;
            }
        }
        Ok(())
    }

    /// Renders the three parts for `vars`, in its language or the nearest one available.
    pub(crate) fn render(&self, vars: &Vars) -> Result<Rendered, TemplateError> {
        let chain = self.chain(vars.language.as_deref());
        let values = vars.context();
        let subject = one_line(&self.render_part(&chain, vars.kind, Part::Subject, &values)?);
        let bodies = minijinja::context! { subject => &subject, ..values };
        Ok(Rendered {
            text: self.render_part(&chain, vars.kind, Part::Text, &bodies)?,
            html: self.render_part(&chain, vars.kind, Part::Html, &bodies)?,
            subject,
        })
    }

    fn render_part(
        &self,
        chain: &[String],
        kind: &str,
        part: Part,
        context: &Value,
    ) -> Result<String, TemplateError> {
        for language in chain {
            let name = template_name(language, kind, part);
            if let Ok(template) = self.env.get_template(&name) {
                return template.render(context).map_err(TemplateError::Render);
            }
        }
        Err(TemplateError::Missing(template_name(
            BUILTIN_LANGUAGE,
            kind,
            part,
        )))
    }

    /// The languages to try, best first.
    fn chain(&self, language: Option<&str>) -> Vec<String> {
        let mut chain = Vec::with_capacity(4);
        if let Some(tag) = language.and_then(|tag| normalize(tag).ok()) {
            if let Some((primary, _)) = tag.split_once('-') {
                let primary = primary.to_owned();
                chain.push(tag);
                chain.push(primary);
            } else {
                chain.push(tag);
            }
        }
        chain.push(self.default_language.clone());
        chain.push(BUILTIN_LANGUAGE.to_owned());
        chain.dedup();
        chain
    }
}

/// MiniJinja's own formatting, except that strings in HTML keep their `/`: links stay readable
/// (`href="https://..."`) and spam filters see no obfuscated URL. Every other character that
/// matters in HTML text or a quoted attribute is escaped.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if *state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
            escape_html(out, text)
                .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "output"))
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Writes `text` to `out` with every character that matters in HTML text or a quoted attribute
/// escaped, copying the runs between them whole.
fn escape_html(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let entity = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#x27;",
            _ => continue,
        };
        out.write_str(&text[start..at])?;
        out.write_str(entity)?;
        start = at + c.len_utf8();
    }
    out.write_str(&text[start..])
}

fn template_name(language: &str, kind: &str, part: Part) -> String {
    format!("{language}/{kind}.{}", part.suffix())
}

/// A language tag in the form templates are filed under: lower case, `-` between subtags.
fn normalize(tag: &str) -> Result<String, TemplateError> {
    let tag = tag.trim();
    let well_formed = !tag.is_empty()
        && tag.len() <= 35
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(TemplateError::Language(tag.to_owned()));
    }
    Ok(tag.to_ascii_lowercase().replace('_', "-"))
}

/// Flattens text for a header: every control character (CR and LF included) and Unicode line
/// or paragraph separator becomes a space, runs of white space shrink to one, ends are trimmed.
/// Nothing a template or a name holds can start a new header line.
pub(crate) fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The values a notice is rendered with.
#[derive(Debug, Clone)]
pub(crate) struct Vars {
    pub(crate) kind: &'static str,
    pub(crate) to: String,
    pub(crate) project: String,
    pub(crate) account: String,
    pub(crate) role: String,
    pub(crate) role_id: String,
    pub(crate) inviter: String,
    pub(crate) expires_at: chrono::DateTime<chrono::Utc>,
    pub(crate) link: Option<String>,
    pub(crate) sender: String,
    pub(crate) language: Option<String>,
}

impl Vars {
    /// Every variable but `subject`, which is rendered from them.
    fn context(&self) -> Value {
        minijinja::context! {
            kind => self.kind,
            to => &self.to,
            project => &self.project,
            account => &self.account,
            role => &self.role,
            role_id => &self.role_id,
            inviter => &self.inviter,
            expires_at => self.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            expires_at_iso => self.expires_at.to_rfc3339(),
            link => self.link.as_deref(),
            sender => &self.sender,
            language => self.language.as_deref(),
        }
    }

    /// Plausible values for [`Templates::check`].
    fn sample(kind: NoticeKind) -> Self {
        Vars {
            kind: kind_name(kind).unwrap_or("invitation"),
            to: "invitee@example.com".into(),
            project: "Website".into(),
            account: "Acme".into(),
            role: "User".into(),
            role_id: "user".into(),
            inviter: "admin@example.com".into(),
            expires_at: chrono::DateTime::UNIX_EPOCH,
            link: kind
                .carries_link()
                .then(|| "https://portal.example.com/invitations/TOKEN".into()),
            sender: "Acme".into(),
            language: None,
        }
    }
}

/// A notice rendered: the three parts of its email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

/// A template that could not be added or rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The source does not compile.
    #[error("template syntax: {0}")]
    Syntax(#[source] minijinja::Error),
    /// Rendering failed (an unknown variable, a missing include, ...).
    #[error("template rendering: {0}")]
    Render(#[source] minijinja::Error),
    /// No template for a part, not even a built-in one.
    #[error("no template {0:?}")]
    Missing(String),
    /// A language tag (or shared template name) that cannot name templates.
    #[error("malformed language tag {0:?}: letters, digits, '-' and '_' only")]
    Language(String),
    /// A kind of notice this crate has no templates for.
    #[error("no templates for this kind of notice")]
    UnknownKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(kind: NoticeKind) -> Vars {
        Vars::sample(kind)
    }

    #[test]
    fn the_built_in_templates_render_every_kind() {
        let templates = Templates::new();
        templates.check().unwrap();
        let invitation = templates.render(&vars(NoticeKind::Invitation)).unwrap();
        assert_eq!(
            invitation.subject,
            "admin@example.com invited you to Website"
        );
        assert!(
            invitation
                .text
                .contains("https://portal.example.com/invitations/TOKEN")
        );
        assert!(invitation.text.contains("as User"));
        assert!(
            invitation
                .html
                .contains("href=\"https://portal.example.com/invitations/TOKEN\"")
        );
        assert!(
            invitation
                .html
                .contains("<title>admin@example.com invited you to Website</title>")
        );
        let revocation = templates.render(&vars(NoticeKind::Revocation)).unwrap();
        assert!(!revocation.text.contains("https://"));
        assert!(!revocation.html.contains("https:"));
    }

    #[test]
    fn html_escapes_every_variable_and_text_keeps_it_verbatim() {
        let mut hostile = vars(NoticeKind::Invitation);
        hostile.project = "<script>alert(1)</script> & \"R&D\"".into();
        hostile.account = "O'Brien's".into();
        let rendered = Templates::new().render(&hostile).unwrap();
        assert!(!rendered.html.contains("<script>"));
        assert!(
            rendered
                .html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;R&amp;D&quot;")
        );
        assert!(rendered.html.contains("O&#x27;Brien&#x27;s"));
        assert!(
            rendered
                .text
                .contains("<script>alert(1)</script> & \"R&D\"")
        );
    }

    #[test]
    fn subjects_are_one_line_whatever_the_names_hold() {
        let mut hostile = vars(NoticeKind::Invitation);
        hostile.project = "Evil\r\nBcc: victim@example.com\u{2028}\ttoo".into();
        let rendered = Templates::new().render(&hostile).unwrap();
        assert_eq!(
            rendered.subject,
            "admin@example.com invited you to Evil Bcc: victim@example.com too"
        );
    }

    #[test]
    fn languages_fall_back_part_by_part_to_the_default_then_english() {
        let mut templates = Templates::new();
        templates
            .set(
                NoticeKind::Invitation,
                "de",
                Part::Subject,
                "Einladung zu {{ project }}",
            )
            .unwrap()
            .set(
                NoticeKind::Invitation,
                "pt_BR",
                Part::Subject,
                "Convite: {{ project }}",
            )
            .unwrap();
        let subject = |templates: &Templates, language: Option<&str>| {
            let mut vars = vars(NoticeKind::Invitation);
            vars.language = language.map(str::to_owned);
            templates.render(&vars).unwrap()
        };
        assert_eq!(
            subject(&templates, Some("de")).subject,
            "Einladung zu Website"
        );
        assert_eq!(
            subject(&templates, Some("DE-at")).subject,
            "Einladung zu Website"
        );
        assert_eq!(
            subject(&templates, Some("pt-br")).subject,
            "Convite: Website"
        );
        assert_eq!(
            subject(&templates, Some("fr")).subject,
            "admin@example.com invited you to Website"
        );
        assert_eq!(
            subject(&templates, Some("../etc")).subject,
            "admin@example.com invited you to Website"
        );
        // German has no body of its own: the English one is used.
        assert!(subject(&templates, Some("de")).text.starts_with("Hello,"));

        templates.set_default_language("de").unwrap();
        assert_eq!(subject(&templates, None).subject, "Einladung zu Website");
        assert_eq!(
            subject(&templates, Some("fr")).subject,
            "Einladung zu Website"
        );
    }

    #[test]
    fn mistakes_surface_when_set_or_checked_not_when_sending() {
        let mut templates = Templates::new();
        let syntax = templates.set(NoticeKind::Revocation, "en", Part::Text, "{% if %}");
        assert!(matches!(syntax, Err(TemplateError::Syntax(_))));
        assert!(matches!(
            templates.set(NoticeKind::Revocation, "d/e", Part::Text, "x"),
            Err(TemplateError::Language(_))
        ));
        assert!(matches!(
            templates.set_shared("en/x.html", "x"),
            Err(TemplateError::Language(_))
        ));
        templates
            .set(NoticeKind::Revocation, "fr", Part::Text, "{{ projet }}")
            .unwrap();
        let error = templates.check().unwrap_err();
        assert!(error.to_string().contains("fr/revocation.txt"), "{error}");
    }

    #[test]
    fn a_shared_layout_can_be_replaced() {
        let mut templates = Templates::new();
        templates
            .set_shared(
                "layout.html",
                "<main>{% block content %}{% endblock %}</main>",
            )
            .unwrap();
        let html = templates
            .render(&vars(NoticeKind::Revocation))
            .unwrap()
            .html;
        assert!(html.starts_with("<main>"), "{html}");
    }
}
