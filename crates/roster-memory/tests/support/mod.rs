//! What the integration tests here share.

use roster::{Project, Roster, User};

/// Registers an administrator and gives them an account with one project.
pub async fn admin_with_project(roster: &Roster) -> (User, Project) {
    let admin = roster
        .register("admin@example.com", "a fine password")
        .await
        .unwrap();
    let account = roster.create_account(admin.id, "Acme").await.unwrap();
    let project = roster
        .create_project(admin.id, account.id, "Rockets")
        .await
        .unwrap();
    (admin, project)
}
