//! [`Pipeline`]: statements sent to the server together and answered in order, so a step costs
//! one round trip per batch rather than one per statement.
//!
//! tokio-postgres sends a query when its future is first polled; polling every future of a batch
//! at once (in order) puts them all on the wire before the first answer arrives, and the server
//! runs them one after another, in that order. An error in one aborts the transaction, so every
//! later statement fails too (`25P02`) and a trailing `COMMIT` turns into a rollback: the first
//! error in order is the one reported.

use std::collections::HashMap;
use std::task::{Context, Poll, Waker};

use deadpool_postgres::ClientWrapper;
use futures_util::future::{BoxFuture, join_all};
use roster::{Entity, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::error::store_error;

/// A statement parameter, owned so the batch can outlive the code that built it.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// Owned parameters: `params![a, b]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as $crate::pipeline::Param),*]
    };
}

enum Item {
    /// A simple-protocol command (`BEGIN`, `COMMIT`).
    Command(&'static str),
    /// A prepared statement with its parameters; `guards` names the entity whose `RS404` /
    /// `RS409` it may raise.
    Query {
        sql: &'static str,
        params: Vec<Param>,
        guards: Option<Entity>,
    },
}

/// A batch of statements, run by [`Pipeline::run`] in one round trip.
#[derive(Default)]
pub(crate) struct Pipeline {
    items: Vec<Item>,
}

impl Pipeline {
    /// Adds a simple command; returns its position.
    pub(crate) fn command(&mut self, sql: &'static str) -> usize {
        self.items.push(Item::Command(sql));
        self.items.len() - 1
    }

    /// Adds a statement; returns its position.
    pub(crate) fn query(&mut self, sql: &'static str, params: Vec<Param>) -> usize {
        self.push(sql, params, None)
    }

    /// Adds a guarded write (see the schema's `roster_found` and `roster_bumped`) whose refusal
    /// is `NotFound(entity)` or `Conflict(entity)`.
    pub(crate) fn guarded(&mut self, sql: &'static str, params: Vec<Param>, entity: Entity) {
        self.push(sql, params, Some(entity));
    }

    /// Appends every statement of `other`; returns the position of its first, from which its
    /// own positions count.
    pub(crate) fn append(&mut self, other: Pipeline) -> usize {
        let at = self.items.len();
        self.items.extend(other.items);
        at
    }

    /// How many statements the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    fn push(&mut self, sql: &'static str, params: Vec<Param>, guards: Option<Entity>) -> usize {
        self.items.push(Item::Query {
            sql,
            params,
            guards,
        });
        self.items.len() - 1
    }

    /// Sends every statement at once and waits for all answers: the rows of each, by position,
    /// or the first error in order.
    pub(crate) async fn run(self, client: &ClientWrapper) -> Result<Vec<Vec<Row>>, StoreError> {
        self.run_at(client).await.map_err(|failure| failure.error)
    }

    /// As [`Pipeline::run`], with the position of the statement that failed first. Nothing
    /// after it took effect in its transaction (it answered `25P02`).
    pub(crate) async fn run_at(self, client: &ClientWrapper) -> Result<Vec<Vec<Row>>, Failure> {
        // Statements are prepared once per connection and cached; preparing the new ones of a
        // batch is itself pipelined.
        // Each distinct statement once: a bulk invite repeats two statements thousands of times,
        // and preparing every repetition would cost the server a prepared statement each.
        let mut distinct: Vec<&'static str> = Vec::new();
        let mut position: HashMap<&'static str, usize> = HashMap::new();
        for item in &self.items {
            if let Item::Query { sql, .. } = item {
                position.entry(sql).or_insert_with(|| {
                    distinct.push(sql);
                    distinct.len() - 1
                });
            }
        }
        let prepared = join_all(distinct.iter().map(|sql| client.prepare_cached(sql))).await;
        let mut statements = Vec::with_capacity(prepared.len());
        for statement in prepared {
            // Nothing was sent yet: the failure is the batch's first statement's.
            statements.push(statement.map_err(|error| Failure {
                at: 0,
                error: store_error(error),
            })?);
        }
        let mut guards = Vec::with_capacity(self.items.len());
        let mut futures: Vec<BoxFuture<'_, Result<Vec<Row>, tokio_postgres::Error>>> =
            Vec::with_capacity(self.items.len());
        for item in self.items {
            match item {
                Item::Command(sql) => {
                    guards.push(None);
                    futures.push(Box::pin(async move {
                        client.batch_execute(sql).await.map(|()| Vec::new())
                    }));
                }
                Item::Query {
                    sql,
                    params,
                    guards: guard,
                } => {
                    guards.push(guard);
                    let statement = statements[position[sql]].clone();
                    futures.push(Box::pin(async move {
                        let refs: Vec<&(dyn ToSql + Sync)> = params
                            .iter()
                            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                            .collect();
                        client.query(&statement, &refs).await
                    }));
                }
            }
        }
        // The first poll of each puts its request on the wire, in order; the answers then come
        // back in that order, and are read in it (the connection hands each request its
        // answers in turn, so the one awaited is always the next to be answered).
        // A future that fails at once (a closed connection) is done after its first poll, and
        // must not be polled again.
        let early: Vec<_> = {
            let mut noop = Context::from_waker(Waker::noop());
            futures
                .iter_mut()
                .map(|future| match future.as_mut().poll(&mut noop) {
                    Poll::Ready(answer) => Some(answer),
                    Poll::Pending => None,
                })
                .collect()
        };
        let mut rows = Vec::with_capacity(futures.len());
        let mut first_error = None;
        for (at, ((future, early), guard)) in futures.into_iter().zip(early).zip(guards).enumerate()
        {
            let answer = match early {
                Some(answer) => answer,
                None => future.await,
            };
            match answer {
                Ok(found) => rows.push(found),
                Err(error) => {
                    first_error.get_or_insert_with(|| Failure {
                        at,
                        error: guarded_error(error, guard),
                    });
                    rows.push(Vec::new());
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(rows),
        }
    }
}

/// The first failure of a batch: where, and what.
pub(crate) struct Failure {
    /// The position of the statement that failed.
    pub(crate) at: usize,
    /// Its error.
    pub(crate) error: StoreError,
}

/// A guard's refusal as the contract's error, any other failure as [`store_error`] maps it.
fn guarded_error(error: tokio_postgres::Error, guard: Option<Entity>) -> StoreError {
    if let (Some(entity), Some(db)) = (guard, error.as_db_error()) {
        match db.code().code() {
            "RS404" => return StoreError::NotFound(entity),
            "RS409" => return StoreError::Conflict(entity),
            _ => {}
        }
    }
    store_error(error)
}
