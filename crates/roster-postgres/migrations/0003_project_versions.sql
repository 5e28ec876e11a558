-- A project's version moves out of its `projects` row into a row of its own per version.
--
-- Why: every change decided on a project bumped `projects.version`, and the `projects` row is
-- also the lock that serializes the project's changes. Transactions queued on that lock hold a
-- statement snapshot while they wait, which keeps the server from pruning the row's old
-- versions: under many instances on one project, the row's page filled with dead versions,
-- updates stopped being HOT, and every lookup by id walked all of them. Here a bump inserts the
-- next version and deletes the one it supersedes, so the `projects` row is only ever locked,
-- never rewritten, and the current version is the first entry a backward scan of the primary
-- key meets, however many dead ones lie below it. The primary key is the guard: of two
-- transactions bumping from the same version, the second is refused.
CREATE TABLE project_versions (
    project_id  uuid    NOT NULL REFERENCES projects (id),
    version     bigint  NOT NULL CHECK (version >= 0),
    PRIMARY KEY (project_id, version)
);
INSERT INTO project_versions (project_id, version) SELECT id, version FROM projects;
ALTER TABLE projects DROP COLUMN version;
