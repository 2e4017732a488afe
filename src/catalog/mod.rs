//! The catalog: tables, shares, recipients, tokens and grants, in an embedded SQLite file or in
//! a PostgreSQL database that several replicas share ([`db`]).
//!
//! Every request reads the database afresh, so a running server sees changes made by another
//! process (the `fireshare sql` command, another replica) without a restart. Writes are
//! transactions that one writer at a time runs, whichever process it is in.

mod activation_links;
mod console_sessions;
pub mod db;
pub mod history;
pub mod keys;
mod memo;
mod objects;
pub mod partition_filter;
mod pending_changes;
mod quality;
mod settings;
mod storage_credentials;
mod tokens;

use std::sync::atomic::{AtomicU64, Ordering};

pub use activation_links::{Activation, LinkInfo};
pub use db::{DatabaseFlags, Db, Location, Lock, PgSettings};
pub use memo::Memo;
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
    db: Db,
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
    /// Opens (creating if needed) the catalog at `location` and brings its schema up to date.
    pub fn open(location: &Location) -> Result<Self> {
        Ok(Catalog {
            db: Db::open(location)?,
            generation: AtomicU64::new(0),
        })
    }

    /// A private in-memory catalog, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::open(&Location::Memory)
    }

    /// The database the catalog lives in (the audit ledger's too).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// See [`ChangeStamp`]: with SQLite one row read from the page cache by a connection of
    /// its own; with PostgreSQL one round trip, which sees what any replica committed.
    pub fn change_stamp(&self) -> ChangeStamp {
        ChangeStamp {
            generation: self.generation.load(Ordering::Acquire),
            changes: self.db.changes(),
        }
    }

    /// Runs read-only work.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.db.read(|conn| f(&Tx { conn }))
    }

    /// Runs `f` in one write transaction, alone among the catalog's writers of every process:
    /// committed if it returns `Ok`, rolled back otherwise. Every process and replica sees
    /// from its next request that the catalog changed (see [`ChangeStamp`]).
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let value = self.db.change(|conn| f(&Tx { conn }))?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(value)
    }

    /// [`Catalog::write`] for what nothing remembered under a change stamp holds — last-used
    /// times, FIRE results and reports, console sessions, key fingerprints: it moves no stamp,
    /// so no process forgets what it remembered.
    pub fn store<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.db.write(Lock::Catalog, |conn| f(&Tx { conn }))
    }
}

/// The catalog as one read or write transaction sees it: every operation on catalog rows is a
/// method of it (grouped by the files of this module), so that no other module sees the
/// database or its SQL.
pub struct Tx<'a> {
    conn: &'a db::Conn<'a>,
}

impl Tx<'_> {
    /// Runs `f` and undoes whatever it wrote, whether it succeeds or not: what a change
    /// would do, without doing it.
    pub fn trial<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.conn.batch("SAVEPOINT trial")?;
        let outcome = f(self);
        self.conn
            .batch("ROLLBACK TO SAVEPOINT trial; RELEASE SAVEPOINT trial")?;
        outcome
    }

    /// The transaction's connection, for the audit ledger alone: its tables share the
    /// catalog's database so that a change and the event recording it commit together.
    pub fn connection(&self) -> &db::Conn<'_> {
        self.conn
    }
}

/// A new random identifier for a catalog object.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
