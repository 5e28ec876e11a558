//! Every case is registered: a `pub async fn` case that the suite's macros do not name would be
//! dropped without a word, so this test reads the case modules and the macros and compares.

/// The case files of one macro, and the file whose macro names them.
struct Suite {
    registry: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const SUITES: &[Suite] = &[
    Suite {
        registry: include_str!("store_cases/mod.rs"),
        files: &[
            ("atomicity", include_str!("store_cases/atomicity.rs")),
            ("concurrency", include_str!("store_cases/concurrency.rs")),
            ("contexts", include_str!("store_cases/contexts.rs")),
            ("invitations", include_str!("store_cases/invitations.rs")),
            ("outbox", include_str!("store_cases/outbox.rs")),
            ("reads", include_str!("store_cases/reads.rs")),
            ("steps", include_str!("store_cases/steps.rs")),
            ("uniqueness", include_str!("store_cases/uniqueness.rs")),
            ("versions", include_str!("store_cases/versions.rs")),
        ],
    },
    Suite {
        registry: include_str!("scenarios/mod.rs"),
        files: &[
            ("accept", include_str!("scenarios/accept.rs")),
            ("audit", include_str!("scenarios/audit.rs")),
            ("delivery", include_str!("scenarios/delivery.rs")),
            ("domains", include_str!("scenarios/domains.rs")),
            ("invite", include_str!("scenarios/invite.rs")),
            ("limits", include_str!("scenarios/limits.rs")),
            ("manage", include_str!("scenarios/manage.rs")),
            ("races", include_str!("scenarios/races.rs")),
            ("roles", include_str!("scenarios/roles.rs")),
        ],
    },
];

/// The names of the `pub async fn`s in `source` (every one of them is a case).
fn cases(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split('(').next())
        .collect()
}

/// The names listed in the `__cases!` call of `registry`, after the factory and module.
fn registered(registry: &str) -> Vec<&str> {
    let start = registry.find("$crate::__cases!(").expect("a __cases! call");
    let body = &registry[start..];
    let body = &body[body.find(';').expect("the module name ends with ;") + 1..];
    let end = body.find(");").expect("the end of the __cases! call");
    body[..end]
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn every_case_is_registered_once() {
    for suite in SUITES {
        // Every module holding cases is read here (the helpers' modules are not case files).
        for module in suite.registry.lines().filter_map(|line| {
            line.strip_prefix("mod ")
                .or_else(|| line.strip_prefix("pub mod "))
                .and_then(|rest| rest.strip_suffix(';'))
        }) {
            let helper = matches!(module, "dawdle" | "harness");
            let read = suite.files.iter().any(|(name, _)| *name == module);
            assert!(
                helper || read,
                "the case module {module} is not read by this test"
            );
        }
        let listed = registered(suite.registry);
        let mut defined = Vec::new();
        for (module, source) in suite.files {
            let names = cases(source);
            assert!(!names.is_empty(), "{module} defines no case");
            defined.extend(names);
        }
        for name in &defined {
            let times = listed.iter().filter(|listed| *listed == name).count();
            assert_eq!(times, 1, "{name} is registered {times} times");
        }
        for name in &listed {
            assert!(
                defined.contains(name),
                "{name} is registered but not defined"
            );
        }
    }
}
