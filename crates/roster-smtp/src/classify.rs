//! What a failed SMTP exchange means for the outbox: try again later, or give up on the notice.

use lettre::transport::smtp;
use roster::NotifyError;

/// The longest reason kept on an outbox entry; servers can be chatty.
const MAX_REASON: usize = 500;

/// Replies about the sender's own credentials (RFC 4954): the configuration is at fault, not the
/// notice, so the outbox keeps retrying while an operator fixes it.
const CREDENTIAL_CODES: [u16; 4] = [530, 534, 535, 538];

/// Whether a failure is worth retrying: everything is (connection refused, timeouts, TLS
/// trouble, 4xx replies) except a 5xx reply about the message or its recipient.
pub(crate) fn is_retryable(code: Option<u16>, permanent: bool) -> bool {
    match code {
        Some(code) if CREDENTIAL_CODES.contains(&code) => true,
        _ => !permanent,
    }
}

/// What lettre says, as a client error, when the envelope has a non-ASCII address and the
/// server's EHLO did not list SMTPUTF8 ("Envelope contains non-ascii chars but server does not
/// support SMTPUTF8"): lettre does not send such an envelope at all (RFC 6531).
const NO_SMTPUTF8: &str = "SMTPUTF8";

/// Whether `error` is lettre refusing, before sending anything, an envelope that needs SMTPUTF8
/// to a server that does not offer it. Retrying cannot help: the same server will say the same.
pub(crate) fn is_missing_smtputf8(error: &smtp::Error, needs_smtputf8: bool) -> bool {
    needs_smtputf8 && error.is_client() && error.to_string().contains(NO_SMTPUTF8)
}

/// The reason recorded for a notice whose internationalized address the server cannot take.
pub(crate) fn missing_smtputf8_reason(server: &str, to: &str) -> String {
    format!(
        "{server}: the server does not offer SMTPUTF8, which the internationalized address \
         {to} needs (its local part is not ASCII); send through a server that supports SMTPUTF8"
    )
}

/// The outbox's view of a transport error: temporary or permanent, with the server's words as
/// the reason, minus any `secrets` (the token and link of the notice).
pub(crate) fn classify(error: smtp::Error, server: &str, secrets: &[&str]) -> NotifyError {
    let code = error
        .status()
        .and_then(|code| code.to_string().parse().ok());
    let said = error.to_string();
    let reason = redact(&format!("{server}: {said}"), secrets);
    let verdict = if is_retryable(code, error.is_permanent()) {
        NotifyError::temporary(reason)
    } else {
        NotifyError::permanent(reason)
    };
    // The source repeats the server's words; keep it only when they hold no secret.
    if secrets.iter().any(|secret| said.contains(secret)) {
        verdict
    } else {
        verdict.with_source(error)
    }
}

/// `text` without `secrets` and cut to a reasonable length.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret, "<redacted>");
    }
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_about_the_message_are_permanent_the_rest_is_retried() {
        assert!(!is_retryable(Some(550), true));
        assert!(!is_retryable(Some(553), true));
        assert!(!is_retryable(Some(554), true));
        assert!(is_retryable(Some(421), false));
        assert!(is_retryable(Some(451), false));
        assert!(is_retryable(Some(452), false));
        // No reply at all: refused connection, timeout, TLS failure.
        assert!(is_retryable(None, false));
    }

    #[test]
    fn bad_credentials_are_retried_while_someone_fixes_the_configuration() {
        for code in CREDENTIAL_CODES {
            assert!(is_retryable(Some(code), true), "{code}");
        }
    }

    #[test]
    fn the_smtputf8_reason_says_what_is_missing_and_for_whom() {
        let reason = missing_smtputf8_reason("mail.example:25", "jörg@xn--bcher-kva.de");
        assert!(reason.contains("SMTPUTF8"), "{reason}");
        assert!(reason.contains("jörg@xn--bcher-kva.de"), "{reason}");
        assert!(reason.starts_with("mail.example:25: "), "{reason}");
    }

    #[test]
    fn reasons_lose_their_secrets_and_their_length() {
        let reason = redact(
            "550 no such user; link https://x.example/i/SECRET token SECRET",
            &["https://x.example/i/SECRET", "SECRET", ""],
        );
        assert_eq!(reason, "550 no such user; link <redacted> token <redacted>");
        let long = redact(&"é".repeat(400), &[]);
        assert!(long.len() <= MAX_REASON + '…'.len_utf8());
        assert!(long.ends_with('…'));
    }
}
