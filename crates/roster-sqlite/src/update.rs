//! Updates that write only the columns whose values changed.
//!
//! SQLite rewrites the entry of every index that covers a column an `UPDATE` names, whether or
//! not the value differs. A record replaced whole (as `InvitationWrite::Update` and
//! `OutboxWrite::Update` hand them over) would rewrite all of its table's indexes, dirtying a
//! page of each and writing it to the log at commit. Reading the stored row first (its page is
//! about to be written anyway) and naming only what differs keeps an acceptance, say, to the
//! two invitation indexes that involve its state (the pending address and the pending list).

use std::fmt::Write as _;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use crate::tables::Table;

/// Gives the row keyed by `row[0]` the values of `row` (one per column of `table`, in order),
/// writing only the columns that differ. Returns how many rows matched: 0 if there is none.
pub(crate) fn update_changed(
    conn: &Connection,
    table: &Table,
    row: Vec<Value>,
) -> rusqlite::Result<usize> {
    debug_assert_eq!(row.len(), table.columns.len());
    let stored: Option<Vec<Value>> = conn
        .prepare_cached(table.select)?
        .query_row([&row[0]], |found| {
            (0..table.columns.len()).map(|i| found.get(i)).collect()
        })
        .optional()?;
    let Some(stored) = stored else {
        return Ok(0);
    };
    let mut statement = format!("UPDATE {} SET ", table.name);
    let mut params = Vec::with_capacity(row.len());
    let mut values = row.into_iter();
    params.extend(values.next());
    for ((column, value), old) in table.columns[1..].iter().zip(values).zip(&stored[1..]) {
        if value != *old {
            if params.len() > 1 {
                statement.push_str(", ");
            }
            params.push(value);
            // Writing to a String cannot fail.
            let _ = write!(statement, "{column} = ?{}", params.len());
        }
    }
    if params.len() == 1 {
        return Ok(1);
    }
    statement.push_str(" WHERE id = ?1");
    conn.prepare_cached(&statement)?
        .execute(rusqlite::params_from_iter(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIRS: Table = Table {
        name: "pairs",
        columns: &["id", "a", "b"],
        select: "SELECT id, a, b FROM pairs WHERE id = ?1",
    };

    /// A table whose triggers log every column an `UPDATE` names.
    fn logged() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE pairs (id INTEGER PRIMARY KEY, a TEXT, b BLOB);
             CREATE TABLE named (col TEXT);
             CREATE TRIGGER named_a AFTER UPDATE OF a ON pairs BEGIN INSERT INTO named VALUES ('a'); END;
             CREATE TRIGGER named_b AFTER UPDATE OF b ON pairs BEGIN INSERT INTO named VALUES ('b'); END;
             INSERT INTO pairs VALUES (1, 'x', NULL);",
        )
        .unwrap();
        conn
    }

    fn named(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT col FROM named").unwrap();
        let cols = stmt.query_map([], |row| row.get(0)).unwrap();
        cols.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn row(a: &str, b: Option<&[u8]>) -> Vec<Value> {
        vec![
            Value::Integer(1),
            Value::Text(a.into()),
            b.map_or(Value::Null, |b| Value::Blob(b.to_vec())),
        ]
    }

    #[test]
    fn only_the_columns_that_changed_are_written() {
        let conn = logged();
        assert_eq!(
            update_changed(&conn, &PAIRS, row("x", Some(b"1"))).unwrap(),
            1
        );
        assert_eq!(named(&conn), ["b"]);
        let stored: (String, Vec<u8>) = conn
            .query_row("SELECT a, b FROM pairs WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(stored, ("x".to_owned(), b"1".to_vec()));

        assert_eq!(update_changed(&conn, &PAIRS, row("y", None)).unwrap(), 1);
        let mut both = named(&conn).split_off(1);
        both.sort();
        assert_eq!(both, ["a", "b"], "both changed, both named");
    }

    #[test]
    fn an_unchanged_row_is_found_and_not_written() {
        let conn = logged();
        assert_eq!(update_changed(&conn, &PAIRS, row("x", None)).unwrap(), 1);
        assert!(named(&conn).is_empty());
    }

    #[test]
    fn a_missing_row_matches_nothing() {
        let conn = logged();
        let mut missing = row("x", None);
        missing[0] = Value::Integer(2);
        assert_eq!(update_changed(&conn, &PAIRS, missing).unwrap(), 0);
        assert!(named(&conn).is_empty());
    }
}
