//! The Delta Sharing protocol as plain functions: listing shares, schemas and tables
//! (`listing`), a table's version, metadata and files (`query`), its changes (`changes`), the
//! versions recipients may read (`served`). `table` holds what every table endpoint shares,
//! `params` the checks of parameters as sent, `file_pages` the one paging of file listings,
//! `cursor` the signed tokens handed to clients. The HTTP layer (`web`) only extracts and maps.

pub mod capabilities;
pub mod changes;
pub mod cursor;
pub mod file_pages;
pub mod list_pages;
pub mod listing;
pub mod ndjson;
pub mod params;
pub mod predicate;
pub mod query;
mod served;
pub mod table;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::catalog::{Catalog, SharedTable};
use crate::delta::DeltaLog;
use crate::secret::ServerSecret;
use crate::storage::{FileUrlSigner, Stores};

/// What the protocol needs of a server: the catalog, the Delta reader and the stores tables
/// are read through, and the keys that sign what is handed to clients.
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub delta: &'a DeltaLog,
    pub stores: &'a Stores,
    /// Signs the URLs of local tables' files (this server's `/files/`).
    pub signer: &'a FileUrlSigner,
    /// Signs page and refresh tokens.
    pub secret: &'a ServerSecret,
    /// How long file URLs live, unless a share sets its own lifetime.
    pub url_ttl: Duration,
    /// Shared tables looked up, by recipient and name, while the catalog is unchanged.
    pub tables: &'a TableMemo,
}

/// See [`Context::tables`].
pub type TableMemo = crate::catalog::Memo<[String; 4], Option<SharedTable>>;
