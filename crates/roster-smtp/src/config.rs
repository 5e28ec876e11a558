//! Where and how to reach the SMTP server: from a struct or from a URL such as
//! `smtp://user:pass@mail.example.com:587?tls=starttls`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use url::{Host, Url};

/// How the connection to the server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Security {
    /// Plain text, no TLS at all: for a relay on the same machine or a test server only.
    None,
    /// Plain connection upgraded with `STARTTLS`, which the server must offer (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte, "SMTPS" (usually port 465).
    Implicit,
}

impl Security {
    /// The port the security is usually served on: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::StartTls => 587,
            Security::Implicit => 465,
        }
    }

    /// The name used in URLs: `none`, `starttls` or `implicit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::StartTls => "starttls",
            Security::Implicit => "implicit",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Security::None, Security::StartTls, Security::Implicit]
            .into_iter()
            .find(|security| security.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user name and password for `AUTH`. The password never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password: the one way to read it, for the transport.
    pub fn expose_password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The connection to an SMTP server. Build it with [`SmtpConfig::new`] and set fields, or parse a
/// URL with [`SmtpConfig::from_url`] (or `str::parse`):
///
/// ```text
/// smtp://[user[:password]@]host[:port][?tls=none|starttls|implicit][&timeout=10s][&pool=4][&helo=name]
/// smtps://...   same as smtp://...?tls=implicit
/// ```
///
/// The default port follows the security (25, 587, 465); `timeout` takes seconds (`30`, `30s`) or
/// milliseconds (`500ms`); user and password are percent-decoded. `Debug` and `Display` never
/// show the password.
///
/// ```
/// use roster_smtp::{Security, SmtpConfig};
///
/// let config: SmtpConfig = "smtp://mailer:s%40cret@mail.example.com?tls=starttls".parse()?;
/// assert_eq!(config.port, 587);
/// assert_eq!(config.security, Security::StartTls);
/// assert_eq!(config.credentials.as_ref().unwrap().expose_password(), "s@cret");
/// assert_eq!(
///     config.to_string(),
///     "smtp://mailer:<redacted>@mail.example.com:587?tls=starttls&timeout=10s&pool=4"
/// );
/// # Ok::<(), roster_smtp::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name or IP address.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// Credentials for `AUTH`, if the server wants them.
    pub credentials: Option<Credentials>,
    /// How long to wait for the server on each step (connect, each command). Keep it below
    /// roster's [`roster::DeliveryPolicy::send_deadline`] (30 s by default), so a server that
    /// stops answering is reported as a timeout by the step that waited, before roster cuts the
    /// whole send at its deadline. Default: 10 s.
    pub timeout: Duration,
    /// How many connections the pool keeps open at most; sends beyond it wait for one. Match
    /// [`roster::DeliveryPolicy::concurrency`]. Default: 4.
    pub pool_size: u32,
    /// The name this client gives in `EHLO` (a host name or an IP address). Default: the address
    /// literal `[127.0.0.1]`; servers that check it want the sending host's real name here.
    pub hello_name: Option<String>,
}

impl SmtpConfig {
    /// The defaults for `host`: STARTTLS on port 587, no credentials, 10 s timeout, 4 connections.
    pub fn new(host: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: Security::StartTls.default_port(),
            security: Security::StartTls,
            credentials: None,
            timeout: Duration::from_secs(10),
            pool_size: 4,
            hello_name: None,
        }
    }

    /// Parses a URL such as `smtp://user:pass@host:587?tls=starttls` (see [`SmtpConfig`]).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming what is wrong; it never repeats the password.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        let parsed = Url::parse(url).map_err(ConfigError::Url)?;
        let mut security = match parsed.scheme() {
            "smtp" => None,
            "smtps" => Some(Security::Implicit),
            other => return Err(ConfigError::Scheme(other.to_owned())),
        };
        let host = match parsed.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(ConfigError::MissingHost),
        };
        let mut config = SmtpConfig::new(host);
        config.credentials = credentials(&parsed)?;
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "tls" => {
                    let chosen =
                        Security::from_name(&value).ok_or_else(|| invalid("tls", &value))?;
                    if security.is_some_and(|implied| implied != chosen) {
                        return Err(ConfigError::Conflict(
                            "smtps:// is implicit TLS; use smtp:// for tls=none or tls=starttls",
                        ));
                    }
                    security = Some(chosen);
                }
                "timeout" => config.timeout = duration(&value)?,
                "pool" | "pool_size" => {
                    config.pool_size = value
                        .parse()
                        .ok()
                        .filter(|size| *size > 0)
                        .ok_or_else(|| invalid("pool", &value))?;
                }
                "helo" | "hello_name" => config.hello_name = Some(value.into_owned()),
                other => return Err(ConfigError::UnknownParameter(other.to_owned())),
            }
        }
        config.security = security.unwrap_or_default();
        config.port = parsed
            .port()
            .unwrap_or_else(|| config.security.default_port());
        config.validate()?;
        Ok(config)
    }

    /// Checks what reaches the socket and the SMTP conversation: a host of at most 253
    /// characters, a port other than 0, and a `helo` name that is a host name (letters, digits,
    /// hyphens and dots) or an address literal in brackets, so no line break can inject a
    /// command. [`SmtpConfig::from_str`] and the notifier's builder both run it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |parameter, value: &str| ConfigError::InvalidValue {
            parameter,
            value: value.chars().take(80).collect(),
        };
        if self.host.is_empty() || self.host.len() > 253 {
            return Err(invalid("host", &self.host));
        }
        if self.port == 0 {
            return Err(invalid("port", "0"));
        }
        if let Some(name) = &self.hello_name
            && !is_hello_name(name)
        {
            return Err(invalid("helo", name));
        }
        Ok(())
    }
}

/// A host name (LDH labels of at most 63 characters, at most 253 in all) or an address literal
/// (`[192.0.2.1]`, `[IPv6:…]`): what `EHLO` may carry.
fn is_hello_name(name: &str) -> bool {
    if let Some(literal) = name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let address = literal.strip_prefix("IPv6:").unwrap_or(literal);
        return address.parse::<IpAddr>().is_ok();
    }
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl FromStr for SmtpConfig {
    type Err = ConfigError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        SmtpConfig::from_url(url)
    }
}

/// The URL form, with the password shown as `<redacted>`.
impl fmt::Display for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("smtp://")?;
        if let Some(credentials) = &self.credentials {
            let user = percent_encoding::utf8_percent_encode(
                credentials.username(),
                percent_encoding::NON_ALPHANUMERIC,
            );
            write!(f, "{user}:<redacted>@")?;
        }
        match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            _ => f.write_str(&self.host)?,
        }
        write!(
            f,
            ":{}?tls={}&timeout={}&pool={}",
            self.port,
            self.security,
            DisplayDuration(self.timeout),
            self.pool_size
        )?;
        if let Some(name) = &self.hello_name {
            write!(f, "&helo={name}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("pool_size", &self.pool_size)
            .field("hello_name", &self.hello_name)
            .finish()
    }
}

struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{}ms", self.0.as_millis())
        }
    }
}

fn credentials(url: &Url) -> Result<Option<Credentials>, ConfigError> {
    let decode = |part: &str, what: &'static str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| ConfigError::Encoding(what))
    };
    if url.username().is_empty() {
        if url.password().is_some() {
            return Err(ConfigError::Conflict("a password needs a user name"));
        }
        return Ok(None);
    }
    let username = decode(url.username(), "user name")?;
    let password = decode(url.password().unwrap_or_default(), "password")?;
    Ok(Some(Credentials::new(username, password)))
}

fn duration(value: &str) -> Result<Duration, ConfigError> {
    let parsed = if let Some(millis) = value.strip_suffix("ms") {
        millis.parse().map(Duration::from_millis)
    } else {
        let seconds = value.strip_suffix('s').unwrap_or(value);
        seconds.parse().map(Duration::from_secs)
    };
    parsed
        .ok()
        .filter(|timeout| !timeout.is_zero())
        .ok_or_else(|| invalid("timeout", value))
}

fn invalid(parameter: &'static str, value: &str) -> ConfigError {
    ConfigError::InvalidValue {
        parameter,
        value: value.to_owned(),
    }
}

/// A configuration URL that could not be used. Messages never include the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not a URL at all.
    #[error("not an SMTP URL: {0}")]
    Url(#[source] url::ParseError),
    /// A scheme other than `smtp` or `smtps`.
    #[error("unsupported scheme {0:?}: use smtp:// or smtps://")]
    Scheme(String),
    /// No host name.
    #[error("the URL names no host")]
    MissingHost,
    /// A query parameter this crate does not know (a typo, most likely).
    #[error("unknown parameter {0:?}: expected tls, timeout, pool or helo")]
    UnknownParameter(String),
    /// A known parameter with a value that does not parse.
    #[error("invalid {parameter} {value:?}")]
    InvalidValue {
        /// The parameter.
        parameter: &'static str,
        /// Its value.
        value: String,
    },
    /// Parts of the URL that contradict each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// A user name or password that is not valid UTF-8 once percent-decoded.
    #[error("the {0} is not valid UTF-8 once percent-decoded")]
    Encoding(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> SmtpConfig {
        SmtpConfig::from_url(url).unwrap()
    }

    #[test]
    fn the_scheme_and_tls_pick_security_and_default_port() {
        let cases = [
            ("smtp://mail.example.com", Security::StartTls, 587),
            ("smtp://mail.example.com?tls=none", Security::None, 25),
            (
                "smtp://mail.example.com?tls=STARTTLS",
                Security::StartTls,
                587,
            ),
            (
                "smtp://mail.example.com?tls=implicit",
                Security::Implicit,
                465,
            ),
            ("smtps://mail.example.com", Security::Implicit, 465),
            (
                "smtps://mail.example.com?tls=implicit",
                Security::Implicit,
                465,
            ),
            ("smtp://127.0.0.1:2525?tls=none", Security::None, 2525),
        ];
        for (url, security, port) in cases {
            let config = parse(url);
            assert_eq!((config.security, config.port), (security, port), "{url}");
        }
    }

    /// Values that would reach the SMTP conversation or the socket are checked: a `helo` with a
    /// line break (which would inject commands), port 0, an absurdly long host.
    #[test]
    fn hostile_helo_port_and_host_are_refused() {
        for (url, parameter) in [
            ("smtp://mail.example?helo=x%0D%0ARSET", "helo"),
            ("smtp://mail.example?helo=a%20b", "helo"),
            ("smtp://mail.example?helo=", "helo"),
            ("smtp://mail.example:0", "port"),
        ] {
            match url.parse::<SmtpConfig>() {
                Err(ConfigError::InvalidValue { parameter: p, .. }) => {
                    assert_eq!(p, parameter, "{url}")
                }
                other => panic!("{url}: expected invalid {parameter}, got {other:?}"),
            }
        }
        let long = format!("smtp://{}.example", "a".repeat(300));
        assert!(matches!(
            long.parse::<SmtpConfig>(),
            Err(ConfigError::InvalidValue {
                parameter: "host",
                ..
            })
        ));
        for fine in [
            "smtp://mail.example?helo=client.example",
            "smtp://mail.example?helo=[192.0.2.1]",
            "smtp://mail.example:2525",
        ] {
            fine.parse::<SmtpConfig>()
                .unwrap_or_else(|e| panic!("{fine}: {e}"));
        }
        let mut config = SmtpConfig::new("mail.example");
        config.hello_name = Some("x\r\nRSET".into());
        assert!(
            config.validate().is_err(),
            "a struct-built config is checked too"
        );
    }

    #[test]
    fn hosts_credentials_and_parameters_are_read() {
        let config = parse(
            "smtp://us%20er:p%40ss%3Aword@[::1]:2525?tls=none&timeout=1500ms&pool=8&helo=client.example",
        );
        assert_eq!(config.host, "::1");
        let credentials = config.credentials.unwrap();
        assert_eq!(credentials.username(), "us er");
        assert_eq!(credentials.expose_password(), "p@ss:word");
        assert_eq!(config.timeout, Duration::from_millis(1500));
        assert_eq!(config.pool_size, 8);
        assert_eq!(config.hello_name.as_deref(), Some("client.example"));
        assert_eq!(
            parse("smtp://h.example?timeout=7").timeout,
            Duration::from_secs(7)
        );
        assert_eq!(
            parse("smtp://h.example?timeout=7s").timeout,
            Duration::from_secs(7)
        );
        let no_password = parse("smtp://user@h.example").credentials.unwrap();
        assert_eq!(no_password.expose_password(), "");
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let refused = |url: &str| SmtpConfig::from_url(url).unwrap_err();
        assert!(matches!(refused("mail.example.com"), ConfigError::Url(_)));
        assert!(
            matches!(refused("http://mail.example.com"), ConfigError::Scheme(s) if s == "http")
        );
        assert!(matches!(
            refused("smtp:///nohost"),
            ConfigError::MissingHost
        ));
        assert!(
            matches!(refused("smtp://h.example?tsl=none"), ConfigError::UnknownParameter(p) if p == "tsl")
        );
        assert!(matches!(
            refused("smtp://h.example?tls=maybe"),
            ConfigError::InvalidValue {
                parameter: "tls",
                ..
            }
        ));
        assert!(matches!(
            refused("smtp://h.example?timeout=0"),
            ConfigError::InvalidValue {
                parameter: "timeout",
                ..
            }
        ));
        assert!(matches!(
            refused("smtp://h.example?timeout=soon"),
            ConfigError::InvalidValue { .. }
        ));
        assert!(matches!(
            refused("smtp://h.example?pool=0"),
            ConfigError::InvalidValue {
                parameter: "pool",
                ..
            }
        ));
        assert!(matches!(
            refused("smtps://h.example?tls=none"),
            ConfigError::Conflict(_)
        ));
        assert!(matches!(
            refused("smtp://:secret@h.example"),
            ConfigError::Conflict(_)
        ));
        assert!(matches!(
            refused("smtp://u:%FF@h.example"),
            ConfigError::Encoding("password")
        ));
    }

    #[test]
    fn the_password_never_shows() {
        let config = parse("smtp://mailer:hunter2@mail.example.com");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!config.to_string().contains("hunter2"));
        assert!(!format!("{:?}", config.credentials).contains("hunter2"));
        let error = SmtpConfig::from_url("smtp://mailer:hunter2@mail.example.com?x=1").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn display_is_a_url_that_parses_back_to_the_same_settings() {
        for url in [
            "smtp://127.0.0.1:2525?tls=none&timeout=250ms&pool=2",
            "smtps://[::1]?helo=me.example",
            "smtp://mail.example.com",
        ] {
            let config = parse(url);
            assert_eq!(parse(&config.to_string()), config, "{url} -> {config}");
        }
    }
}
