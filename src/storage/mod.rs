//! Where table data lives and how recipients reach it: table locations and the object stores
//! behind them, storage credentials, presigned and server-signed file URLs, and safe
//! resolution of a data file inside a local table's directory.

mod credential;
mod local;
mod location;
mod signed_url;
mod store;
mod stored_file;
mod vault;

pub use credential::{CredentialKind, StorageCredential, is_public_option};
pub use local::resolve_in_table;
pub use location::{local_root, parse_location};
pub use signed_url::{FileUrlSigner, SignedUrl};
pub use store::{
    Location, MAX_URL_LIFETIME, Stores, TableStore, block_on, check_location, storage_error,
};
pub use stored_file::StoredFile;
pub use vault::Vault;
