//! The wide tables the store writes row by row, each described once: its name and its columns
//! in order, key first. The description makes everything that depends on the order: the column
//! list every select reads (a macro, so statements stay `concat!`-able constants), the insert,
//! the read-then-update-what-changed of [`crate::update`], and the `Column` positions through
//! which [`crate::codec`] decodes a row and [`crate::write`] fills one. A column added to the
//! description reaches all of them; none restates the order.
//!
//! Written in plain SQLite, the descriptions are also what a PostgreSQL store would share: the
//! names, the order and the encodings, with only the placeholders and the driver different.

/// A table updated by [`crate::update::update_changed`]: its name, its columns (key first) and
/// the statement reading them all by key.
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [&'static str],
    pub(crate) select: &'static str,
}

/// `table!(module, list_macro = "name" { key, column, ... })` defines `module` with `NAME`,
/// `COLUMNS`, `INSERT`, `TABLE`, the `Column` positions and an empty `Row` to fill, and the
/// macro `list_macro!()` that expands to the comma-separated column list.
macro_rules! table {
    (
        $(#[$doc:meta])*
        $module:ident, $list:ident = $name:literal { $key:ident $(, $column:ident)* $(,)? }
    ) => {
        /// The column list of the table, for `concat!`.
        macro_rules! $list {
            () => {
                concat!(stringify!($key) $(, ", ", stringify!($column))*)
            };
        }

        $(#[$doc])*
        pub(crate) mod $module {
            use rusqlite::types::Value;

            /// The table's name.
            pub(crate) const NAME: &str = $name;

            /// The columns, key first, in the order of every statement on the table.
            pub(crate) const COLUMNS: &[&str] = &[stringify!($key) $(, stringify!($column))*];

            /// A whole row inserted, parameters in column order.
            pub(crate) const INSERT: &str = concat!(
                "INSERT INTO ", $name, " (", $list!(), ") VALUES (?"
                $(, table!(@placeholder $column))*, ")"
            );

            /// The table as [`crate::update::update_changed`] updates it.
            pub(crate) const TABLE: super::Table = super::Table {
                name: NAME,
                columns: COLUMNS,
                select: concat!(
                    "SELECT ", $list!(), " FROM ", $name, " WHERE ", stringify!($key), " = ?1"
                ),
            };

            /// Where each column is, in a row read or written.
            #[allow(non_camel_case_types, dead_code)]
            #[derive(Debug, Clone, Copy)]
            pub(crate) enum Column {
                $key $(, $column)*
            }

            impl Column {
                /// The column's position (from 0).
                pub(crate) const fn at(self) -> usize {
                    self as usize
                }
            }

            /// A row of `NULL`s to fill by [`Column`], one value per column.
            pub(crate) fn row() -> Vec<Value> {
                vec![Value::Null; COLUMNS.len()]
            }
        }
    };
    (@placeholder $column:ident) => {
        ", ?"
    };
}

table! {
    /// Invitations; never deleted, final states are history.
    invitations, invitation_columns = "invitations" {
        id, project_id, email, role, invited_by, state, created_at, sent_at, expires_at,
        closed_at, token_hash, sends, language, email_canonical,
    }
}

table! {
    /// The outbox: one entry per email a change announced, with its delivery state.
    outbox, outbox_columns = "outbox" {
        id, kind, to_email, invitation_id, project_id, project_name, account_name, role,
        inviter, expires_at, send, status, attempts, next_attempt_at, last_error, created_at,
        finished_at, language, sent_by, role_name,
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn statements_follow_the_description() {
        assert_eq!(
            invitations::INSERT,
            "INSERT INTO invitations (id, project_id, email, role, invited_by, state, \
             created_at, sent_at, expires_at, closed_at, token_hash, sends, language, \
             email_canonical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(
            outbox::TABLE.select,
            concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = ?1")
        );
        assert_eq!(outbox::Column::role_name.at(), outbox::COLUMNS.len() - 1);
        assert_eq!(
            invitations::COLUMNS[invitations::Column::token_hash.at()],
            "token_hash"
        );
    }

    /// The descriptions name the schema's columns, each once,, in the order their selects read them.
    #[test]
    fn the_tables_match_the_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrate::migrate(&mut conn).unwrap();
        for table in [&invitations::TABLE, &outbox::TABLE] {
            let stmt = conn.prepare(table.select).unwrap();
            let names: Vec<&str> = stmt.column_names().collect();
            assert_eq!(names, table.columns, "{}", table.name);
            let mut schema = conn
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    table.name
                ))
                .unwrap();
            let mut columns: Vec<String> = schema
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let mut listed: Vec<&str> = table.columns.to_vec();
            columns.sort();
            listed.sort_unstable();
            assert_eq!(columns, listed, "{}: every column, once", table.name);
        }
    }
}
