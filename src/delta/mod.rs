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

impl DeletionVector {
    /// The DV file of a `u` (UUID-relative) or `p` (path) descriptor, relative to the table
    /// root; `None` for inline (`i`) vectors, which live in the descriptor itself.
    pub fn file_path(&self) -> Option<Result<String, String>> {
        match self.storage_type.as_str() {
            "i" => None,
            "u" => Some(uuid_relative_path(&self.path_or_inline_dv)),
            "p" => Some(Ok(decode_log_path(&self.path_or_inline_dv))),
            other => Some(Err(format!(
                "unknown deletion vector storage type '{other}'"
            ))),
        }
    }
}

/// `<prefix><20 chars of Z85 UUID>` -> `<prefix>/deletion_vector_<uuid>.bin` (Delta protocol).
fn uuid_relative_path(encoded: &str) -> Result<String, String> {
    let split = encoded
        .len()
        .checked_sub(20)
        .filter(|s| encoded.is_char_boundary(*s))
        .ok_or_else(|| format!("deletion vector id '{encoded}' is too short"))?;
    let (prefix, z85) = encoded.split_at(split);
    let bytes =
        z85_decode(z85).ok_or_else(|| format!("deletion vector id '{encoded}' is not Z85"))?;
    let uuid = uuid::Uuid::from_slice(&bytes).map_err(|e| e.to_string())?;
    let file = format!("deletion_vector_{uuid}.bin");
    Ok(if prefix.is_empty() {
        file
    } else {
        format!("{prefix}/{file}")
    })
}

/// Z85 (ZeroMQ base-85) decoding: every 5 characters give 4 big-endian bytes.
fn z85_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 85] =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if !text.len().is_multiple_of(5) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for chunk in text.as_bytes().chunks(5) {
        let mut value: u64 = 0;
        for c in chunk {
            value = value * 85 + ALPHABET.iter().position(|a| a == c)? as u64;
        }
        out.extend_from_slice(&u32::try_from(value).ok()?.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dv(storage_type: &str, path: &str) -> DeletionVector {
        DeletionVector {
            storage_type: storage_type.into(),
            path_or_inline_dv: path.into(),
            offset: Some(1),
            size_in_bytes: 36,
            cardinality: 2,
        }
    }

    #[test]
    fn deletion_vector_files() {
        // The descriptor of the Delta protocol's example: prefix "ab", UUID d2c639aa-8816-431a-aaf6-d3fe2512ff61.
        let path = dv("u", "ab^-aqEH.-t@S}K{vb[*k^")
            .file_path()
            .unwrap()
            .unwrap();
        assert_eq!(
            path,
            "ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin"
        );
        let path = dv("u", "^-aqEH.-t@S}K{vb[*k^")
            .file_path()
            .unwrap()
            .unwrap();
        assert_eq!(
            path,
            "deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin"
        );
        assert!(
            dv("i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L")
                .file_path()
                .is_none()
        );
        assert!(dv("u", "short").file_path().unwrap().is_err());
        assert!(
            dv("u", "ab\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"")
                .file_path()
                .unwrap()
                .is_err()
        );
        assert_eq!(
            dv("p", "dv/a%20b.bin").file_path().unwrap().unwrap(),
            "dv/a b.bin"
        );
    }
}
