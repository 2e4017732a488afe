//! The database under the catalog and the audit ledger: embedded SQLite (one file in the data
//! directory, the default) or PostgreSQL (shared by several replicas), behind one small
//! interface, so that every catalog operation and every ledger query is written once.
//!
//! Statements are written in the SQL both understand, with SQLite's numbered placeholders
//! (`?1`, `?2`…, renumbered `$1`… for PostgreSQL). Parameters and columns are plain values
//! ([`Value`]); names compare case-insensitively in both (`COLLATE NOCASE`, a collation the
//! PostgreSQL schema defines), and PostgreSQL's schema defines SQLite's `json_extract` too.
//! What the two do differently lives here: opening, migrations, transactions, the exclusive
//! sections that SQLite's single writer gives for free ([`Lock`]), and how a change of the
//! catalog reaches every process (a counter SQLite's readers see at once; with PostgreSQL, a
//! watcher per server and changes that wait for the replicas to confirm them: `watch`).

mod flags;
mod postgres;
mod sqlite;
mod watch;

use std::cell::RefCell;
use std::path::PathBuf;

pub use flags::DatabaseFlags;
pub use postgres::PgSettings;

use crate::{Error, Result};

/// Where the catalog lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A private in-memory SQLite database, for tests.
    Memory,
    /// A PostgreSQL database.
    Postgres(Box<PgSettings>),
}

/// A value passed to or read from a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What may be passed as a statement's parameter.
pub trait Param {
    fn value(&self) -> Value<'_>;
}

/// A statement's parameters: `params![a, b]` is `&[&a, &b]` as [`Param`]s.
#[macro_export]
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::catalog::db::Param),*] as &[&dyn $crate::catalog::db::Param]
    };
}
pub use params;

macro_rules! int_params {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                // Counts and versions fit; a bound past i64 (a "no limit") saturates.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_params!(i64, i32, u8, u16, u32, u64, usize);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(*self as i64)
    }
}
impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}

/// What a column may be read as.
pub trait Column: Sized {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String>;
}

fn expected<T>(what: &str, value: Value<'_>) -> std::result::Result<T, String> {
    Err(format!("expected {what}, found {value:?}"))
}

macro_rules! int_columns {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
                match value {
                    Value::Int(n) => <$t>::try_from(n).map_err(|_| format!("{n} is out of range")),
                    other => expected("an integer", other),
                }
            }
        }
    )*};
}
int_columns!(i64, i32, u32, u64, usize);

impl Column for bool {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Int(n) => Ok(n != 0),
            other => expected("a flag", other),
        }
    }
}
impl Column for f64 {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Real(x) => Ok(x),
            Value::Int(n) => Ok(n as f64),
            other => expected("a number", other),
        }
    }
}
impl Column for String {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.to_string()),
            other => expected("text", other),
        }
    }
}
impl Column for Vec<u8> {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.to_vec()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => expected("bytes", other),
        }
    }
}
impl<T: Column> Column for Option<T> {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row of a statement's result.
pub struct Row<'r>(RowOf<'r>);

enum RowOf<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r ::postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0) as `T`.
    pub fn get<T: Column>(&self, index: usize) -> Result<T> {
        T::from_value(self.value(index)?)
            .map_err(|e| Error::internal(format!("database column {index}: {e}")))
    }

    /// Column `index` as it is.
    pub fn value(&self, index: usize) -> Result<Value<'_>> {
        match &self.0 {
            RowOf::Sqlite(row) => sqlite::value(row, index),
            RowOf::Postgres(row) => postgres::value(row, index),
        }
    }

    /// The names of the row's columns, in order (what `SELECT *` found).
    pub fn names(&self) -> Vec<&str> {
        match &self.0 {
            RowOf::Sqlite(row) => row.as_ref().column_names().collect(),
            RowOf::Postgres(row) => row.columns().iter().map(|c| c.name()).collect(),
        }
    }
}

/// A section of work that only one writer at a time may run, whichever process or replica it
/// runs in. SQLite's write transactions are exclusive anyway; PostgreSQL takes an advisory lock
/// held until the transaction ends.
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    /// A change of the catalog: what it read stays true until it commits, and the rows it
    /// diffs for the ledger are its own changes alone.
    Catalog,
    /// An append to the audit chain: one head, extended by one writer at a time.
    Ledger,
    /// Schema migrations: two servers starting together must not both migrate.
    Migrations,
}

/// One connection, inside or outside a transaction: what statements run on.
pub struct Conn<'c>(ConnOf<'c>);

enum ConnOf<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c RefCell<postgres::PgConn>),
}

impl Conn<'_> {
    /// Runs a statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        match &self.0 {
            ConnOf::Sqlite(conn) => sqlite::execute(conn, sql, params),
            ConnOf::Postgres(conn) => conn.borrow_mut().execute(sql, params),
        }
    }

    /// Calls `each` with every row of a query, in order, as they are read.
    pub fn query_each(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match &self.0 {
            ConnOf::Sqlite(conn) => sqlite::query_each(conn, sql, params, &mut each),
            ConnOf::Postgres(conn) => conn
                .borrow_mut()
                .query_each(sql, params, &mut each)
                .map(drop),
        }
    }

    /// Every row of a query, each read by `read`.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut read: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        self.query_each(sql, params, |row| {
            rows.push(read(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row of a query, if any, read by `read`.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut read = Some(read);
        let mut found = None;
        self.query_each(sql, params, |row| {
            if let Some(read) = read.take() {
                found = Some(read(row)?);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// The one row a query must give (an aggregate, a singleton row).
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, read)?
            .ok_or_else(|| Error::internal(format!("no row from: {sql}")))
    }

    /// Runs statements separated by `;`, without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            ConnOf::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            ConnOf::Postgres(conn) => conn.borrow_mut().batch(sql),
        }
    }

    /// Waits until this transaction alone holds `lock` (see [`Lock`]); held until it ends.
    pub fn exclusive(&self, lock: Lock) -> Result<()> {
        match &self.0 {
            ConnOf::Sqlite(_) => Ok(()),
            ConnOf::Postgres(conn) => conn.borrow_mut().batch(&postgres::lock_statement(lock)),
        }
    }
}

/// An open database: a SQLite connection, or a pool of PostgreSQL connections.
pub struct Db(DbOf);

enum DbOf {
    Sqlite(sqlite::Sqlite),
    Postgres(std::sync::Arc<postgres::Pool>),
}

impl Db {
    /// Opens the database at `location` and brings its schema up to date (under
    /// [`Lock::Migrations`]); refuses one written by a newer fireshare.
    pub fn open(location: &Location) -> Result<Db> {
        let db = Db::connect(location)?;
        db.migrate()?;
        Ok(db)
    }

    /// Opens the database at `location` as it is.
    pub fn connect(location: &Location) -> Result<Db> {
        Ok(Db(match location {
            Location::Sqlite(path) => DbOf::Sqlite(sqlite::Sqlite::open(Some(path))?),
            Location::Memory => DbOf::Sqlite(sqlite::Sqlite::open(None)?),
            Location::Postgres(settings) => {
                DbOf::Postgres(std::sync::Arc::new(postgres::Pool::new(settings)?))
            }
        }))
    }

    /// Another handle on the same database (a connection of its own for SQLite, the same pool
    /// for PostgreSQL): the ledger's writer works beside the catalog without waiting for it.
    pub fn sibling(&self) -> Result<Db> {
        Ok(Db(match &self.0 {
            DbOf::Sqlite(db) => DbOf::Sqlite(db.sibling()?),
            DbOf::Postgres(pool) => DbOf::Postgres(pool.clone()),
        }))
    }

    /// Applies the migrations this build has and the database lacks; returns how many, and
    /// the schema version reached.
    pub fn migrate(&self) -> Result<(usize, usize)> {
        match &self.0 {
            DbOf::Sqlite(db) => db.migrate(),
            DbOf::Postgres(pool) => pool.migrate(),
        }
    }

    /// Runs `work` outside any transaction.
    pub fn read<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        match &self.0 {
            DbOf::Sqlite(db) => db.with(|conn| work(&Conn(ConnOf::Sqlite(conn)))),
            DbOf::Postgres(pool) => pool.read(|conn| work(&Conn(ConnOf::Postgres(conn)))),
        }
    }

    /// Runs `work` in one transaction holding `lock`: committed if it returns `Ok`, rolled
    /// back otherwise.
    pub fn write<T>(&self, lock: Lock, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        match &self.0 {
            DbOf::Sqlite(db) => db.write(|conn| work(&Conn(ConnOf::Sqlite(conn)))),
            DbOf::Postgres(pool) => pool.write(lock, |conn| work(&Conn(ConnOf::Postgres(conn)))),
        }
    }

    /// Runs read-only `work` on one consistent snapshot of the database: what a check or an
    /// export of a ledger that goes on growing meanwhile needs.
    pub fn snapshot<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        match &self.0 {
            DbOf::Sqlite(db) => db.snapshot(|conn| work(&Conn(ConnOf::Sqlite(conn)))),
            DbOf::Postgres(pool) => pool.snapshot(|conn| work(&Conn(ConnOf::Postgres(conn)))),
        }
    }

    /// Runs `work` unless another process (another replica) is running work under the same
    /// `name` now: `None` then. With SQLite, where one server runs such work, it just runs.
    pub fn exclusively<T>(
        &self,
        name: &str,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<Option<T>> {
        match &self.0 {
            DbOf::Sqlite(_) => work().map(Some),
            DbOf::Postgres(pool) => pool.exclusively(name, work),
        }
    }

    /// Runs `work` as a change of the catalog: one transaction holding [`Lock::Catalog`] that
    /// also moves the change counter, by which every process sees that the catalog changed.
    /// With PostgreSQL, by the time it returns every live replica has seen it (see `watch`):
    /// whatever the author does next, at whichever replica, meets the changed catalog.
    pub fn change<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        let (value, n) = self.write(Lock::Catalog, |conn| {
            let value = work(conn)?;
            let n: i64 = conn.query_one(
                "UPDATE catalog_changes SET n = n + 1 RETURNING n",
                &[],
                |r| r.get(0),
            )?;
            if let ConnOf::Postgres(conn) = &conn.0 {
                conn.borrow_mut()
                    .batch(&format!("NOTIFY {}", watch::CHANNEL))?;
            }
            Ok((value, n))
        })?;
        if let DbOf::Postgres(pool) = &self.0 {
            pool.await_replicas(n);
        }
        Ok(value)
    }

    /// Keeps the change counter in memory, without a read per request, for a server: with
    /// PostgreSQL a watcher thread follows it (see `watch`); SQLite's read costs nothing.
    pub fn watch(&self) {
        if let DbOf::Postgres(pool) = &self.0 {
            pool.watch();
        }
    }

    /// A number that moves whenever a catalog change of any process commits (see
    /// `Catalog::change_stamp`), read without waiting for writers. When it cannot be read, a
    /// negative number no call gave before: nothing remembered is trusted then.
    pub fn changes(&self) -> i64 {
        static UNREADABLE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(-1);
        let read =
            |conn: &Conn<'_>| conn.query_one("SELECT n FROM catalog_changes", &[], |r| r.get(0));
        match &self.0 {
            DbOf::Sqlite(db) => db.counter(|conn| read(&Conn(ConnOf::Sqlite(conn)))),
            DbOf::Postgres(pool) => match pool.known_changes() {
                Some(n) => Ok(n),
                None => self.read(read),
            },
        }
        .unwrap_or_else(|_| UNREADABLE.fetch_sub(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// The SQLite file, if that is what this is.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.0 {
            DbOf::Sqlite(db) => db.path(),
            DbOf::Postgres(_) => None,
        }
    }
}

/// The refusal to open a schema a newer fireshare wrote.
fn newer_schema(applied: usize, known: usize) -> Error {
    Error::internal(format!(
        "the catalog was written by a newer fireshare (schema version {applied}, this build knows {known})"
    ))
}

/// Embeds a list of migration files of `catalog/migrations/`.
macro_rules! migrations {
    ($($dir:literal / $name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../catalog/migrations/", $dir, $name, ".sql")))),*]
    };
}
use migrations;
