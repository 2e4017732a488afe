//! The catalog: an embedded SQLite database of tables, shares, recipients, tokens and grants.
//!
//! Every request reads the database afresh, so a running server sees changes made by another
//! process (the `fireshare sql` command) without a restart. Writes run in `BEGIN IMMEDIATE`
//! transactions; WAL mode lets readers go on while a writer works.

mod activation_links;
mod console_sessions;
pub mod history;
mod migrations;
mod objects;
pub mod partition_filter;
mod pending_changes;
mod quality;
mod settings;
mod storage_credentials;
mod tokens;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

pub use activation_links::{Activation, LinkInfo};
pub use objects::{Grant, NewMember, NewRecipient, Recipient, Share, SharedTable, Table};
pub use pending_changes::{FOUR_EYES, NewChange, PendingChange};
pub use quality::{
    Decision, FIRE_ENTITY, FIRE_MIN_PASS_RATE, FileKey, QualityReport, rules_digest,
};
pub use settings::FIRE_SCHEMAS;
pub use storage_credentials::{CredentialInfo, NewCredential, SealedCredential};
pub use tokens::{AdminTokenInfo, AdminTokenOwner, LiveToken, OAuthClient, TokenInfo, TokenOwner};

use crate::Result;

pub struct Catalog {
    conn: Mutex<Connection>,
    /// A second connection (none in memory) that only reads the catalog's change counter,
    /// which every catalog write of any process moves. Its own lock: change checks never wait
    /// for a writer.
    watch: Option<Mutex<Connection>>,
    /// Bumped by every write of this process.
    generation: AtomicU64,
}

/// Changes whenever the catalog may have changed, by this process or another one: compare two
/// stamps to know whether what was read from the catalog still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStamp {
    generation: u64,
    changes: i64,
}

impl Catalog {
    /// Opens (creating if needed) the catalog at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        let watch = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        Self::setup(conn, Some(Mutex::new(watch)))
    }

    /// A private in-memory catalog, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    /// See [`ChangeStamp`]: one row read from the page cache, no write.
    pub fn change_stamp(&self) -> ChangeStamp {
        let changes = self.watch.as_ref().map_or(0, |watch| {
            let conn = watch.lock().unwrap_or_else(|p| p.into_inner());
            // On error, a value no earlier stamp holds: whatever was kept is dropped.
            conn.prepare_cached("SELECT n FROM catalog_changes")
                .and_then(|mut s| s.query_row([], |r| r.get(0)))
                .unwrap_or(-1)
        });
        ChangeStamp {
            generation: self.generation.load(Ordering::Acquire),
            changes,
        }
    }

    fn setup(mut conn: Connection, watch: Option<Mutex<Connection>>) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a change commits with its audit event, which must survive a crash of the
        // machine too.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrations::run(&mut conn)?;
        Ok(Catalog {
            conn: Mutex::new(conn),
            watch,
            generation: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs read-only work.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        f(&Tx { conn: &self.lock() })
    }

    /// Runs `f` in one write transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&Tx { conn: &tx })?;
        tx.execute("UPDATE catalog_changes SET n = n + 1", [])?;
        tx.commit()?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(value)
    }
}

/// The catalog as one read or write transaction sees it: every operation on catalog rows is a
/// method of it (grouped by the files of this module), so that no other module sees the
/// database or its SQL.
pub struct Tx<'a> {
    conn: &'a Connection,
}

impl Tx<'_> {
    /// Runs `f` and undoes whatever it wrote, whether it succeeds or not: what a change
    /// would do, without doing it.
    pub fn trial<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("SAVEPOINT trial")?;
        let outcome = f(self);
        self.conn
            .execute_batch("ROLLBACK TO SAVEPOINT trial; RELEASE SAVEPOINT trial")?;
        outcome
    }

    /// The transaction's connection, for the audit ledger alone: its tables share the
    /// catalog's database so that a change and the event recording it commit together.
    pub fn connection(&self) -> &Connection {
        self.conn
    }
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

/// A new random identifier for a catalog object.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
