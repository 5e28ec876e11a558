//! Unicode character classes the address policy uses, from `icu_properties` (the Unicode data
//! `idna` itself is built on, so both agree on the Unicode version).

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Why a character is never accepted anywhere in an address, whatever the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unsafe {
    /// Default-ignorable or format (`Cf`) characters: zero-width characters, the byte order
    /// mark, bidi controls, the soft hyphen, variation selectors, tags, Hangul fillers. They do
    /// not show, or they change how the text around them shows.
    Invisible,
    /// Private-use code points (`Co`): no meaning outside a private agreement.
    PrivateUse,
    /// Unassigned code points and noncharacters (`Cn`), and surrogates (`Cs`, which a Rust
    /// string cannot hold anyway).
    Unassigned,
}

/// The general category of `c`.
pub(crate) fn category(c: char) -> GeneralCategory {
    CodePointMapData::<GeneralCategory>::new().get(c)
}

/// Why `c` is unsafe in any part of an address, if it is.
pub(super) fn unsafe_kind(c: char) -> Option<Unsafe> {
    if c.is_ascii() {
        return None;
    }
    let category = category(c);
    if category == GeneralCategory::Format
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
    {
        return Some(Unsafe::Invisible);
    }
    match category {
        GeneralCategory::PrivateUse => Some(Unsafe::PrivateUse),
        GeneralCategory::Unassigned | GeneralCategory::Surrogate => Some(Unsafe::Unassigned),
        _ => None,
    }
}

/// Whether `c` is a combining mark (`Mn`, `Mc`, `Me`): it combines with the character before it.
pub(super) fn is_mark(c: char) -> bool {
    matches!(
        category(c),
        GeneralCategory::NonspacingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::EnclosingMark
    )
}

/// Whether a non-ASCII `c` may appear in a local part: letters, marks, numbers, punctuation and
/// symbols (`L`, `M`, `N`, `P`, `S`); never separators (`Z`) or others (`C`).
pub(super) fn is_local_part_letter(c: char) -> bool {
    !matches!(
        category(c),
        GeneralCategory::SpaceSeparator
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    ) && unsafe_kind(c).is_none()
}
