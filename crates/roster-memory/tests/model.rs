//! Property tests: random sequences of commands from several actors run against the service on
//! an [`InMemoryStore`](roster_memory::InMemoryStore) and against a plain reference model side by
//! side. Each command's outcome (success, or which refusal) must be the one the model predicts,
//! and after every step the store must agree with the model and keep the invariants: one pending
//! invitation per project and address, an Administrator in every project, memberships exactly as
//! predicted, no role above the granting actor's, tokens that never work twice, an audit trail
//! that grows only with successful commands.
//!
//! The world is small on purpose so that commands collide: one account, two projects, six
//! addresses (some registered, some not, typed with varying case), and actors drawn at random
//! from them, so that many commands are refused.

mod model {
    pub mod commands;
    pub mod invariants;
    pub mod reference;
    pub mod world;
}

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use roster::Email;

use model::commands::{Address, Command, NotifierMode, command, notifier_mode};
use model::reference::{INVALID_ADDRESSES, POOL};
use model::world::World;

/// Runs `commands` in a fresh world whose notifier starts in `mode`, checking everything after
/// each step.
fn run_scenario(seed: u64, mode: NotifierMode, commands: &[Command]) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| TestCaseError::fail(format!("runtime: {error}")))?;
    runtime.block_on(async {
        let mut world = World::new(seed).await?;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_service_behaves_like_the_reference_model(
        seed in any::<u64>(),
        mode in notifier_mode(),
        commands in proptest::collection::vec(command(), 1..40),
    ) {
        run_scenario(seed, mode, &commands)?;
    }
}

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
