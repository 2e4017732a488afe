//! Where table data lives and how recipients reach it: table locations and the object stores
//! behind them (one module per kind of store: `s3`, `gcs`, `azure`, behind `backend`'s trait),
//! storage credentials, presigned and server-signed file URLs, and safe resolution of a data
//! file inside a local table's directory.

mod azure;
mod backend;
mod counted;
mod credential;
mod gcs;
mod kinds;
mod local;
mod location;
mod runtime;
mod s3;
mod signed_url;
mod store;
mod stored_file;
mod vault;

pub use credential::{CredentialKind, StorageCredential};
pub use kinds::is_public_option;
pub use local::resolve_in_table;
pub use location::{local_root, parse_location};
pub use runtime::block_on;
pub use signed_url::{FileUrlSigner, SignedUrl};
pub use store::{Location, MAX_URL_LIFETIME, Stores, TableStore, check_location, storage_error};
pub use stored_file::StoredFile;
pub use vault::Vault;
