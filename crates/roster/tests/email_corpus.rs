//! `Email::parse` against the reference validator (Python's `email-validator`) on a corpus of
//! addresses it judged: `tests/data/email_corpus.jsonl`, written by
//! `tests/data/make_email_corpus.py`. Nothing here runs Python; the verdicts are data.
//!
//! The test asserts that the two agree on at least 99% of the corpus, that every address on
//! which they disagree falls under one of the documented policy differences (the table in the
//! `Email` documentation), that the domain of every address both accept is the same in both
//! forms, and that the README states the figure this data gives.

use std::collections::BTreeMap;

use roster::{Email, EmailError};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

const CORPUS: &str = include_str!("data/email_corpus.jsonl");
const README: &str = include_str!("../../../README.md");

/// One address and the reference validator's verdict.
struct Verdict {
    address: String,
    valid: bool,
    domain: Option<String>,
    ascii_domain: Option<String>,
    reason: Option<String>,
}

fn corpus() -> Vec<Verdict> {
    let mut lines = CORPUS.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header line")).unwrap();
    assert!(header["email_validator"].is_string(), "{header}");
    lines
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("a JSON line");
            let text = |key: &str| record[key].as_str().map(str::to_owned);
            Verdict {
                address: text("address").expect("an address"),
                valid: record["valid"].as_bool().expect("a verdict"),
                domain: text("domain"),
                ascii_domain: text("ascii_domain"),
                reason: text("reason"),
            }
        })
        .collect()
}

/// The documented policy difference that explains a disagreement, if one does.
fn documented_difference(
    verdict: &Verdict,
    ours: &Result<Email, EmailError>,
) -> Option<&'static str> {
    let address = verdict.address.as_str();
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
    match (ours, verdict.valid) {
        // We refuse what the reference accepts.
        (Err(EmailError::InvisibleCharacter { .. }), true) => Some(
            "default-ignorable letters and marks (variation selectors, U+034F, Hangul fillers)",
        ),
        (Err(EmailError::LocalPartTooLong { .. }), true) => Some("local part over 64 octets"),
        (Err(EmailError::TopLevelLabelNotAlphabetic { .. }), true) => {
            Some("digits or hyphens in the top-level label")
        }
        (Err(EmailError::LeadingCombiningMark { .. }), true) => {
            Some("combining mark right after a dot")
        }
        (
            Err(
                EmailError::InvalidLocalPartCharacter { .. }
                | EmailError::LocalPartStartsWithDot
                | EmailError::LocalPartEndsWithDot
                | EmailError::LocalPartConsecutiveDots,
            ),
            true,
        ) if local.nfc().collect::<String>() != local.nfkc().collect::<String>() => {
            Some("compatibility forms folded into a character the local part refuses")
        }
        // We accept what the reference refuses.
        (Ok(_), false) if address.trim() != address => Some("surrounding whitespace trimmed"),
        (Ok(_), false)
            if verdict
                .reason
                .as_deref()
                .is_some_and(|reason| reason.contains("too long"))
                && address.nfc().count() < address.chars().count() =>
        {
            Some("length measured on the NFC form, not on the typed NFD one")
        }
        _ => None,
    }
}

#[test]
fn agrees_with_the_reference_validator_but_for_documented_policy() {
    let corpus = corpus();
    assert!(corpus.len() >= 2000, "{} addresses", corpus.len());
    let mut agreed = 0;
    let mut differences: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for verdict in &corpus {
        let ours = Email::parse(&verdict.address);
        if ours.is_ok() == verdict.valid {
            agreed += 1;
            if let Ok(email) = &ours {
                assert_eq!(
                    Some(email.domain()),
                    verdict.domain.as_deref(),
                    "{:?}: the canonical domain is the Unicode form the reference shows",
                    verdict.address
                );
                assert_eq!(
                    Some(email.ascii_domain()),
                    verdict.ascii_domain.as_deref(),
                    "{:?}",
                    verdict.address
                );
            }
            continue;
        }
        match documented_difference(verdict, &ours) {
            Some(policy) => differences
                .entry(policy)
                .or_default()
                .push(verdict.address.clone()),
            None => unexplained.push(format!(
                "{:?}: reference {}, roster {:?}",
                verdict.address,
                if verdict.valid { "accepts" } else { "refuses" },
                ours.map(|email| email.canonical().to_owned())
            )),
        }
    }
    assert!(
        unexplained.is_empty(),
        "differences that no documented policy explains:\n{}",
        unexplained.join("\n")
    );

    let total = corpus.len();
    let per_mille = agreed * 1000 / total;
    let figure = format!("{}.{}%", per_mille / 10, per_mille % 10);
    println!("agreement: {agreed} of {total} ({figure})");
    for (policy, addresses) in &differences {
        println!("{:4}  {policy}", addresses.len());
    }
    assert!(
        agreed * 100 >= total * 99,
        "agreement {figure} is below 99%"
    );
    let stated = format!("{agreed} of {total} addresses ({figure})");
    assert!(
        README.contains(&stated),
        "the README's address section should say \"{stated}\""
    );
}

/// The examples of the issue that opened this policy, as the corpus records them.
#[test]
fn the_corpus_covers_the_reported_examples() {
    let corpus = corpus();
    let verdict = |address: &str| {
        corpus
            .iter()
            .find(|v| v.address == address)
            .unwrap_or_else(|| panic!("{address:?} is in the corpus"))
            .valid
    };
    for (address, valid) in [
        ("jörg@bücher.de", true),
        ("jörg@xn--bcher-kva.de", true),
        ("x@ﬁle.com", true),
        ("ａ@ｅｘａｍｐｌｅ.com", true),
        ("a@xn--zz.com", false),
        ("a@xn--a.com", false),
        ("a@xn--bcher--kva.com", false),
        ("a@ab--cd.com", false),
        ("ab@exa⒈mple.com", false),
        ("a@1.אב.com", false),
        ("a\u{200b}@example.com", false),
        ("\u{feff}a@example.com", false),
        ("\u{202e}admin@example.com", false),
    ] {
        assert_eq!(verdict(address), valid, "{address:?}");
        assert_eq!(Email::parse(address).is_ok(), valid, "{address:?}");
    }
}
