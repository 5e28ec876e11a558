//! The IDNA2008 rules that UTS #46 processing alone lets through: the code point derivation of
//! RFC 5892 (which refuses symbols, emoji, punctuation and other non-letters that UTS #46 keeps
//! valid), its contextual rules for the few characters valid only in context (CONTEXTO), and the
//! Bidi Rule of RFC 5893 applied to every label of a domain that has a right-to-left label.
//!
//! Every property comes from `icu_properties`, the data `idna` itself uses.

use icu_properties::props::{
    BidiClass, ChangesWhenNfkcCasefolded, DefaultIgnorableCodePoint, GeneralCategory,
    HangulSyllableType, JoinControl, NoncharacterCodePoint, Script, WhiteSpace,
};
use icu_properties::{CodePointMapData, CodePointSetData};

/// The derived property value of a code point (RFC 5892, section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Derived {
    /// Valid anywhere in a label.
    Pvalid,
    /// Valid only where a contextual rule for joiners (ZWJ, ZWNJ) allows it.
    ContextJ,
    /// Valid only where a contextual rule of RFC 5892 appendix A allows it.
    ContextO,
    /// Never valid.
    Disallowed,
    /// Not assigned in this Unicode version.
    Unassigned,
}

/// The RFC 5892 derivation for one code point, in the RFC's order of rules.
pub(super) fn derived(c: char) -> Derived {
    if let Some(exception) = exception(c) {
        return exception;
    }
    let category = CodePointMapData::<GeneralCategory>::new().get(c);
    let noncharacter = CodePointSetData::new::<NoncharacterCodePoint>().contains(c);
    if category == GeneralCategory::Unassigned && !noncharacter {
        return Derived::Unassigned;
    }
    if matches!(c, 'a'..='z' | '0'..='9' | '-') {
        return Derived::Pvalid;
    }
    if CodePointSetData::new::<JoinControl>().contains(c) {
        return Derived::ContextJ;
    }
    // Unstable: NFKC_Casefold changes it.
    if CodePointSetData::new::<ChangesWhenNfkcCasefolded>().contains(c) {
        return Derived::Disallowed;
    }
    // IgnorableProperties.
    if noncharacter
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointSetData::new::<WhiteSpace>().contains(c)
    {
        return Derived::Disallowed;
    }
    if in_ignorable_block(c) {
        return Derived::Disallowed;
    }
    // OldHangulJamo.
    if matches!(
        CodePointMapData::<HangulSyllableType>::new().get(c),
        HangulSyllableType::LeadingJamo
            | HangulSyllableType::VowelJamo
            | HangulSyllableType::TrailingJamo
    ) {
        return Derived::Disallowed;
    }
    // LetterDigits.
    match category {
        GeneralCategory::LowercaseLetter
        | GeneralCategory::UppercaseLetter
        | GeneralCategory::OtherLetter
        | GeneralCategory::DecimalNumber
        | GeneralCategory::ModifierLetter
        | GeneralCategory::NonspacingMark
        | GeneralCategory::SpacingMark => Derived::Pvalid,
        _ => Derived::Disallowed,
    }
}

/// RFC 5892 section 2.6, the exceptions to the derivation.
fn exception(c: char) -> Option<Derived> {
    match c {
        // ß, final sigma, Arabic sign sindhi ampersand and postposition men, Tibetan mark
        // intersyllabic tsheg, ideographic number zero.
        '\u{df}' | '\u{3c2}' | '\u{6fd}' | '\u{6fe}' | '\u{f0b}' | '\u{3007}' => {
            Some(Derived::Pvalid)
        }
        // Middle dot, Greek keraia, Hebrew geresh and gershayim, katakana middle dot, and the
        // two sets of Arabic-Indic digits.
        '\u{b7}'
        | '\u{375}'
        | '\u{5f3}'
        | '\u{5f4}'
        | '\u{30fb}'
        | '\u{660}'..='\u{669}'
        | '\u{6f0}'..='\u{6f9}' => Some(Derived::ContextO),
        // Tatweel, N'Ko lajanyalan, Hangul tone marks, vertical kana repeat marks, vertical ideographic iteration mark.
        '\u{640}' | '\u{7fa}' | '\u{302e}' | '\u{302f}' | '\u{3031}'..='\u{3035}' | '\u{303b}' => {
            Some(Derived::Disallowed)
        }
        _ => None,
    }
}

/// Combining Diacritical Marks for Symbols (where the keycap U+20E3 lives), Musical Symbols,
/// and Ancient Greek Musical Notation (RFC 5892, IgnorableBlocks).
fn in_ignorable_block(c: char) -> bool {
    matches!(c, '\u{20d0}'..='\u{20ff}' | '\u{1d100}'..='\u{1d1ff}' | '\u{1d200}'..='\u{1d24f}')
}

/// The first character of `label` that breaks its CONTEXTO rule (RFC 5892 appendix A.3–A.9),
/// if any. Characters that are not CONTEXTO pass.
pub(super) fn contexto_violation(label: &str) -> Option<char> {
    let chars: Vec<char> = label.chars().collect();
    let script = |c: char| CodePointMapData::<Script>::new().get(c);
    let has_arabic_indic = chars.iter().any(|c| ('\u{660}'..='\u{669}').contains(c));
    let has_extended = chars.iter().any(|c| ('\u{6f0}'..='\u{6f9}').contains(c));
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let ok = match c {
            // MIDDLE DOT: only between two 'l's (Catalan "l·l").
            '\u{b7}' => before == Some('l') && after == Some('l'),
            // GREEK LOWER NUMERAL SIGN: followed by a Greek character.
            '\u{375}' => after.is_some_and(|a| script(a) == Script::Greek),
            // HEBREW GERESH and GERSHAYIM: preceded by a Hebrew character.
            '\u{5f3}' | '\u{5f4}' => before.is_some_and(|b| script(b) == Script::Hebrew),
            // KATAKANA MIDDLE DOT: the label has Hiragana, Katakana or Han.
            '\u{30fb}' => chars.iter().any(|&o| {
                o != '\u{30fb}'
                    && matches!(script(o), Script::Hiragana | Script::Katakana | Script::Han)
            }),
            // The two kinds of Arabic-Indic digits do not mix.
            '\u{660}'..='\u{669}' => !has_extended,
            '\u{6f0}'..='\u{6f9}' => !has_arabic_indic,
            _ => true,
        };
        if !ok {
            return Some(c);
        }
    }
    None
}

fn bidi(c: char) -> BidiClass {
    CodePointMapData::<BidiClass>::new().get(c)
}

/// Whether `domain` (in Unicode form) is a Bidi domain name: one with a right-to-left
/// character or an Arabic digit in any label (RFC 5893, section 1.4).
pub(super) fn is_bidi_domain(domain: &str) -> bool {
    domain.chars().any(|c| {
        matches!(
            bidi(c),
            BidiClass::RightToLeft | BidiClass::ArabicLetter | BidiClass::ArabicNumber
        )
    })
}

/// Whether `label` satisfies the six conditions of the Bidi Rule (RFC 5893, section 2).
pub(super) fn satisfies_bidi_rule(label: &str) -> bool {
    use BidiClass as B;
    let mut classes = label.chars().map(bidi);
    let Some(first) = classes.next() else {
        return true;
    };
    let rest: Vec<BidiClass> = classes.collect();
    // The last character that is not a nonspacing mark (the first one, if all the rest are).
    let last = rest
        .iter()
        .rev()
        .find(|&&class| class != B::NonspacingMark)
        .copied()
        .unwrap_or(first);
    match first {
        // 1 and 2, 3, 4: a right-to-left label.
        B::RightToLeft | B::ArabicLetter => {
            let allowed = |class: &BidiClass| {
                matches!(
                    *class,
                    B::RightToLeft
                        | B::ArabicLetter
                        | B::ArabicNumber
                        | B::EuropeanNumber
                        | B::EuropeanSeparator
                        | B::CommonSeparator
                        | B::EuropeanTerminator
                        | B::OtherNeutral
                        | B::BoundaryNeutral
                        | B::NonspacingMark
                )
            };
            let has = |wanted: BidiClass| rest.contains(&wanted);
            rest.iter().all(allowed)
                && matches!(
                    last,
                    B::RightToLeft | B::ArabicLetter | B::EuropeanNumber | B::ArabicNumber
                )
                && !(has(B::EuropeanNumber) && has(B::ArabicNumber))
        }
        // 1 and 5, 6: a left-to-right label.
        B::LeftToRight => {
            let allowed = |class: &BidiClass| {
                matches!(
                    *class,
                    B::LeftToRight
                        | B::EuropeanNumber
                        | B::EuropeanSeparator
                        | B::CommonSeparator
                        | B::EuropeanTerminator
                        | B::OtherNeutral
                        | B::BoundaryNeutral
                        | B::NonspacingMark
                )
            };
            rest.iter().all(allowed) && matches!(last, B::LeftToRight | B::EuropeanNumber)
        }
        // 1: a label starting with anything else (a digit, say) is neither.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_follows_rfc_5892() {
        for c in [
            'a', 'z', '0', '-', 'ü', 'ß', 'ς', '例', 'я', '\u{94d}', '\u{e31}',
        ] {
            assert_eq!(derived(c), Derived::Pvalid, "{c:?}");
        }
        // Symbols, emoji, compatibility forms, uppercase, the keycap, old Hangul jamo,
        // the tatweel, the fraction slash.
        for c in [
            '☃', '😀', '💩', '½', 'ﬁ', 'A', 'Ü', '\u{20e3}', '\u{1100}', '\u{640}', '\u{2044}',
            '_', '.', '\u{3164}',
        ] {
            assert_eq!(derived(c), Derived::Disallowed, "{c:?}");
        }
        assert_eq!(derived('\u{200d}'), Derived::ContextJ);
        for c in [
            '\u{b7}', '\u{375}', '\u{5f3}', '\u{30fb}', '\u{661}', '\u{6f1}',
        ] {
            assert_eq!(derived(c), Derived::ContextO, "{c:?}");
        }
        assert_eq!(derived('\u{378}'), Derived::Unassigned);
        assert_eq!(derived('\u{fdd0}'), Derived::Disallowed, "noncharacter");
    }

    #[test]
    fn contextual_rules() {
        assert_eq!(contexto_violation("l\u{b7}l"), None);
        assert_eq!(contexto_violation("a\u{b7}b"), Some('\u{b7}'));
        assert_eq!(contexto_violation("\u{375}α"), None);
        assert_eq!(contexto_violation("α\u{375}"), Some('\u{375}'));
        assert_eq!(contexto_violation("א\u{5f3}"), None);
        assert_eq!(contexto_violation("\u{5f3}א"), Some('\u{5f3}'));
        assert_eq!(contexto_violation("カ\u{30fb}キ"), None);
        assert_eq!(contexto_violation("a\u{30fb}b"), Some('\u{30fb}'));
        assert_eq!(contexto_violation("\u{661}\u{662}"), None);
        assert_eq!(contexto_violation("\u{661}\u{6f2}"), Some('\u{661}'));
    }

    #[test]
    fn bidi_rule() {
        assert!(is_bidi_domain("אב.com"));
        assert!(!is_bidi_domain("bücher.de"));
        assert!(satisfies_bidi_rule("אב"));
        assert!(satisfies_bidi_rule("מ1ב"));
        assert!(satisfies_bidi_rule("אב1"));
        assert!(!satisfies_bidi_rule("1אב"), "starts with a digit");
        assert!(!satisfies_bidi_rule("1"), "a digit label in a bidi domain");
        assert!(!satisfies_bidi_rule("אaב"), "L inside an RTL label");
        assert!(!satisfies_bidi_rule("\u{661}\u{662}"), "starts with AN");
        assert!(satisfies_bidi_rule("com"));
        assert!(satisfies_bidi_rule("abc1"));
    }
}
