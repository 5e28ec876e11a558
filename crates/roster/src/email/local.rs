//! The local part (before the `@`): a dot-atom of ASCII `atext` and visible non-ASCII
//! characters, in the form that is sent (NFKC, case kept) and the canonical form (NFKC,
//! lowercase).

use unicode_normalization::UnicodeNormalization;

use super::chars::{is_local_part_letter, is_mark};
use super::error::EmailError;

/// RFC 5321 limit on the local part, in octets.
pub(super) const MAX_LOCAL_PART_OCTETS: usize = 64;
/// ASCII characters allowed in a dot-atom besides letters and digits (RFC 5322 `atext`).
const ATOM_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
/// Case mapping and compatibility normalization reach a fixed point in one or two rounds; the
/// bound only guards against a Unicode oddity looping.
const MAX_FOLD_ROUNDS: usize = 4;

/// A validated local part in both forms.
#[derive(Debug)]
pub(super) struct LocalPart {
    /// What is sent: the typed local part in NFKC, case kept.
    pub(super) sent: String,
    /// What identifies the mailbox: `sent` lowercased, in NFKC.
    pub(super) canonical: String,
}

/// Validates `typed` (already free of whitespace, controls and unsafe characters).
pub(super) fn parse(typed: &str) -> Result<LocalPart, EmailError> {
    // NFKC folds compatibility forms into what they stand for (full-width `ａ` is `a`, `ﬁ` is
    // `fi`), so both spellings reach the same mailbox and identity. It also composes (NFC).
    let sent: String = typed.nfkc().collect();
    check_syntax(&sent)?;
    let canonical = fold(&sent);
    check_syntax(&canonical)?;
    let len = sent.len().max(canonical.len());
    if len > MAX_LOCAL_PART_OCTETS {
        return Err(EmailError::LocalPartTooLong { len });
    }
    Ok(LocalPart { sent, canonical })
}

/// Lowercase, then NFKC, until nothing changes: lowercasing can leave a string that is not
/// normalized (`J` + caron lowercases to `j` + caron, which composes to `ǰ`), and the canonical
/// form must be a fixed point so that parsing it again yields itself.
pub(super) fn fold(part: &str) -> String {
    let mut current: String = part.to_lowercase().nfkc().collect();
    for _ in 0..MAX_FOLD_ROUNDS {
        let next: String = current.to_lowercase().nfkc().collect();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn check_syntax(local: &str) -> Result<(), EmailError> {
    if let Some(ch) = local.chars().find(|&c| c != '.' && !is_atom_char(c)) {
        return Err(EmailError::InvalidLocalPartCharacter { ch });
    }
    if local.starts_with('.') {
        return Err(EmailError::LocalPartStartsWithDot);
    }
    if local.ends_with('.') {
        return Err(EmailError::LocalPartEndsWithDot);
    }
    if local.contains("..") {
        return Err(EmailError::LocalPartConsecutiveDots);
    }
    // A mark at the start of the local part would combine with whatever precedes the address
    // when it is shown; one right after a dot would sit on the dot.
    for atom in local.split('.') {
        if let Some(ch) = atom.chars().next().filter(|&c| is_mark(c)) {
            return Err(EmailError::LeadingCombiningMark { ch });
        }
    }
    Ok(())
}

/// Characters of an atom: ASCII `atext`, and non-ASCII letters, marks, numbers, punctuation
/// and symbols (RFC 6531 `UTF8-non-ascii`, minus what cannot be seen or has no meaning).
fn is_atom_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || ATOM_SPECIALS.contains(c)
    } else {
        is_local_part_letter(c)
    }
}
