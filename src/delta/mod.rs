//! Reading Delta tables: snapshots at a version or a timestamp, their protocol, metadata and
//! data files. Built on delta_kernel, which stays behind this module's own small types:
//! nothing outside `delta/` touches a kernel type.

mod kernel;
pub mod writer;

use std::collections::BTreeMap;

pub use kernel::{DeltaLog, Snapshot};

/// Which snapshot of a table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    Latest,
    Version(u64),
    /// The latest version committed at or before this time (ms since the epoch).
    Timestamp(i64),
}

/// The table's `protocol` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub min_reader_version: i32,
    pub min_writer_version: i32,
    pub reader_features: Option<Vec<String>>,
    pub writer_features: Option<Vec<String>>,
}

impl Protocol {
    /// Reader features a client must support to read the table correctly: the explicit list
    /// for reader version 3, column mapping for reader version 2.
    pub fn required_reader_features(&self) -> Vec<String> {
        match self.min_reader_version {
            ..=1 => Vec::new(),
            2 => vec!["columnMapping".to_string()],
            _ => self.reader_features.clone().unwrap_or_default(),
        }
    }
}

/// The table's `metaData` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub format_provider: String,
    pub format_options: BTreeMap<String, String>,
    pub schema_string: String,
    pub partition_columns: Vec<String>,
    pub configuration: BTreeMap<String, String>,
    pub created_time: Option<i64>,
}

/// A deletion vector descriptor as it appears in an `add` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionVector {
    pub storage_type: String,
    pub path_or_inline_dv: String,
    pub offset: Option<i32>,
    pub size_in_bytes: i32,
    pub cardinality: i64,
}

/// One live data file of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// Path relative to the table root, percent-decoded (a real file name); or an absolute
    /// URL when the log holds one (shallow clones).
    pub path: String,
    pub size: i64,
    pub modification_time: i64,
    /// The raw stats JSON string of the log, unchanged.
    pub stats: Option<String>,
    /// Partition column -> value as written in the log (None = null).
    pub partition_values: BTreeMap<String, Option<String>>,
    pub deletion_vector: Option<DeletionVector>,
}

impl DataFile {
    /// True when the path is a URL rather than relative to the table root.
    pub fn is_absolute(&self) -> bool {
        self.path.contains("://") || self.path.starts_with('/')
    }
}

/// Percent-decodes a path as written in the Delta log (paths there are URI-encoded).
pub fn decode_log_path(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}
