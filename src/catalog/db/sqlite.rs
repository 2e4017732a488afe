//! SQLite: one file in the data directory (WAL mode, `synchronous=FULL`: a committed change
//! and its audit event survive a crash of the machine), one connection per handle, writes in
//! `BEGIN IMMEDIATE` transactions, which hold the database's single write lock from the start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{Param, Row, RowOf, Value, migrations, newer_schema};
use crate::{Error, Result};

/// The schema, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[(&str, &str)] = migrations![
    "" / "0001_initial",
    "" / "0002_start_version",
    "" / "0003_admin_tokens",
    "" / "0004_recipient_lifecycle",
    "" / "0005_ip_access_lists",
    "" / "0006_oauth_clients",
    "" / "0007_token_last_used",
    "" / "0008_settings",
    "" / "0009_fire_quality",
    "" / "0010_fire_decisions",
    "" / "0011_storage_credentials",
    "" / "0012_catalog_changes",
    "" / "0013_partition_filters",
    "" / "0014_pending_changes",
    "" / "0015_console_sessions",
    "" / "0016_audit_ledger",
    "" / "0017_key_fingerprints",
];

/// Another writer may hold the lock this long before a write gives up (503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Sqlite {
    /// Shared by the handles of an in-memory database, which cannot be opened twice.
    conn: Arc<Mutex<Connection>>,
    /// A second, read-only connection (none in memory) that only reads the catalog's change
    /// counter: its own lock, so change checks never wait for a writer.
    counter: Option<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl Sqlite {
    /// The file at `path` (created if needed), or a private in-memory database.
    pub(super) fn open(path: Option<&Path>) -> Result<Sqlite> {
        let mut db = Sqlite::connection(path)?;
        if let Some(path) = path {
            let counter = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            db.counter = Some(Mutex::new(counter));
        }
        Ok(db)
    }

    fn connection(path: Option<&Path>) -> Result<Sqlite> {
        let conn = match path {
            Some(path) => Connection::open(path).map_err(|e| {
                Error::caused(format!("cannot open the catalog {}", path.display()), e)
            })?,
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            counter: None,
            path: path.map(Path::to_path_buf),
        })
    }

    pub(super) fn sibling(&self) -> Result<Sqlite> {
        match &self.path {
            Some(path) => Sqlite::connection(Some(path)),
            None => Ok(Sqlite {
                conn: self.conn.clone(),
                counter: None,
                path: None,
            }),
        }
    }

    pub(super) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn with<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        work(&self.lock())
    }

    /// `work` in a transaction holding the database's write lock from the start.
    pub(super) fn write<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Immediate, work)
    }

    /// `work` on one consistent state of the database (WAL: writers go on meanwhile).
    pub(super) fn snapshot<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, work)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        work: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(behavior)?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// `work` on the change counter's connection (the main one in memory, where no other
    /// process is).
    pub(super) fn counter<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        match &self.counter {
            Some(counter) => work(&counter.lock().unwrap_or_else(|p| p.into_inner())),
            None => self.with(work),
        }
    }

    pub(super) fn migrate(&self) -> Result<(usize, usize)> {
        self.write(|tx| {
            let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
            let applied = applied as usize;
            if applied > MIGRATIONS.len() {
                return Err(newer_schema(applied, MIGRATIONS.len()));
            }
            for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
                tx.execute_batch(sql).map_err(|e| {
                    Error::internal(format!("catalog migration {name} failed: {e}"))
                })?;
                tx.pragma_update(None, "user_version", (index + 1) as i64)?;
                tracing::debug!(migration = name, "applied catalog migration");
            }
            Ok((MIGRATIONS.len() - applied, MIGRATIONS.len()))
        })
    }
}

/// A parameter as SQLite takes it.
struct Bind<'a>(Value<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Real(x) => ValueRef::Real(x),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn bound<'a>(params: &'a [&'a dyn Param]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(params.iter().map(|p| Bind(p.value())))
}

pub(super) fn execute(conn: &Connection, sql: &str, params: &[&dyn Param]) -> Result<usize> {
    Ok(conn.prepare_cached(sql)?.execute(bound(params))?)
}

pub(super) fn query_each(
    conn: &Connection,
    sql: &str,
    params: &[&dyn Param],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(bound(params))?;
    while let Some(row) = rows.next()? {
        each(&Row(RowOf::Sqlite(row)))?;
    }
    Ok(())
}

pub(super) fn value<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Value<'r>> {
    Ok(match row.get_ref(index)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|e| Error::caused(format!("database column {index}"), e))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b),
    })
}

impl From<rusqlite::Error> for crate::Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        match e.sqlite_error_code() {
            // Another process held the write lock past the busy timeout: say so, don't hang.
            Some(DatabaseBusy | DatabaseLocked) => crate::Error::Unavailable {
                message: "the database is busy: another writer held it for 10 s; try again".into(),
                source: Some(std::sync::Arc::new(e)),
            },
            _ => crate::Error::caused("database error", e),
        }
    }
}
