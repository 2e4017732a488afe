//! Where table data lives and how recipients reach it: table locations, signed file URLs,
//! and safe resolution of a data file inside a table's directory.

mod local;
mod location;
mod signed_url;

pub use local::resolve_in_table;
pub use location::{local_root, parse_location};
pub use signed_url::{FileUrlSigner, SignedUrl};
