//! The catalog: an embedded SQLite database of tables, shares, recipients, tokens and grants.
//!
//! Every request reads the database afresh, so a running server sees changes made by another
//! process (the `fireshare sql` command) without a restart. Writes run in `BEGIN IMMEDIATE`
//! transactions; WAL mode lets readers go on while a writer works.

mod activation;
mod migrations;
mod objects;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use activation::*;
pub use objects::*;
pub use tokens::*;

use crate::Result;

pub struct Catalog {
    conn: Mutex<Connection>,
    /// The database's WAL file (none in memory): other processes' commits show there.
    wal: Option<PathBuf>,
    /// Bumped by every write of this process.
    generation: AtomicU64,
}

/// Changes whenever the catalog may have changed, by this process or another one: compare two
/// stamps to know whether what was read from the catalog still holds, without touching SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStamp {
    generation: u64,
    /// Size and modification time of the WAL file, where every commit lands first.
    wal: Option<(u64, SystemTime)>,
}

impl Catalog {
    /// Opens (creating if needed) the catalog at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Self::setup(conn, Some(wal.into()))
    }

    /// A private in-memory catalog, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    /// See [`ChangeStamp`]. A commit by another process appends to the WAL file (or, after a
    /// checkpoint, rewrites or recreates it), which moves its size or time: one `stat`.
    pub fn change_stamp(&self) -> ChangeStamp {
        let wal = self.wal.as_ref().and_then(|wal| {
            let meta = std::fs::metadata(wal).ok()?;
            Some((meta.len(), meta.modified().ok()?))
        });
        ChangeStamp {
            generation: self.generation.load(Ordering::Acquire),
            wal,
        }
    }

    fn setup(mut conn: Connection, wal: Option<PathBuf>) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrations::run(&mut conn)?;
        Ok(Catalog {
            conn: Mutex::new(conn),
            wal,
            generation: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs read-only work.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.lock())
    }

    /// Runs `f` in one write transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(value)
    }
}

/// A new random identifier for a catalog object.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
