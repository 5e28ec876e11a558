//! The model-based property test every store runs: random sequences of commands from several
//! actors, run against the service on the store under test and against a plain reference model
//! side by side. Each command's outcome (success, or which refusal) must be the one the model
//! predicts, and after every step the store must agree with the model and keep the invariants:
//! one pending invitation per project and address, an Administrator in every project,
//! memberships exactly as predicted, no role above the granting actor's, tokens that never work
//! twice, an audit trail that grows only with successful commands.
//!
//! The world is small on purpose so that commands collide: one account, two projects, six
//! addresses (some registered, some not, typed with varying case), and actors drawn at random
//! from them, so that many commands are refused.
//!
//! [`model_conformance!`](crate::model_conformance) expands to the test.

// The model's own items are internal to the suite: documented where they explain the model.
#![allow(missing_docs)]

pub mod commands;
pub mod invariants;
pub mod reference;
pub mod roles;
pub mod world;

use proptest::test_runner::TestCaseError;

pub use commands::{Command, NotifierMode, command, notifier_mode};
pub use roles::{ModelRoles, model_roles};
use world::World;

/// Runs `commands` on `store` (fresh and empty) in a world whose notifier starts in `mode`,
/// checking everything after each step.
pub fn run_scenario<S: crate::__private::FreshStore>(
    store: impl std::future::Future<Output = S>,
    seed: u64,
    roles: ModelRoles,
    mode: NotifierMode,
    commands: &[Command],
) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| TestCaseError::fail(format!("runtime: {error}")))?;
    runtime.block_on(async {
        // A factory answering `None` skips the case (its server is not configured).
        let Some(store) = store.await.into_store() else {
            return Ok(());
        };
        let mut world = World::new(store, seed, roles).await?;
        world.check().await?;
        world.seed_members().await?;
        world.run(&Command::SetNotifier(mode)).await?;
        for (step, command) in commands.iter().enumerate() {
            world.run(command).await.map_err(|error| {
                TestCaseError::fail(format!("step {step}: {command:?}: {error}"))
            })?;
        }
        Ok(())
    })
}

/// Expands to the model-based property test (`$cases` random sequences of up to 40 commands),
/// each on a fresh store from `$factory`, an `async fn() -> Arc<dyn Store>`.
#[macro_export]
macro_rules! model_conformance {
    ($factory:path, $cases:expr) => {
        $crate::__proptest::proptest! {
            #![proptest_config($crate::__proptest::prelude::ProptestConfig {
                cases: $cases,
                ..$crate::__proptest::prelude::ProptestConfig::default()
            })]

            #[test]
            fn the_service_behaves_like_the_reference_model(
                seed in $crate::__proptest::prelude::any::<u64>(),
                roles in $crate::model::model_roles(),
                mode in $crate::model::notifier_mode(),
                commands in $crate::__proptest::collection::vec($crate::model::command(), 1..40),
            ) {
                $crate::model::run_scenario($factory(), seed, roles, mode, &commands)?;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use roster::Email;

    use super::commands::Address;
    use super::reference::{INVALID_ADDRESSES, POOL};

    /// The model's assumptions about addresses: every spelling of a person is valid and has the
    /// person's canonical form; the invalid ones are refused.
    #[test]
    fn the_address_pool_is_what_the_model_assumes() {
        for (person, canonical) in POOL.iter().enumerate() {
            for variant in 0..4 {
                let typed = Address::Pool { person, variant }.typed();
                let email = Email::parse(&typed).unwrap();
                assert_eq!(email.canonical(), *canonical, "{typed:?}");
            }
        }
        for index in 0..INVALID_ADDRESSES.len() {
            assert!(Email::parse(&Address::Invalid(index).typed()).is_err());
        }
    }
}
