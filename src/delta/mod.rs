//! Reading Delta tables: snapshots at a version or a timestamp, their protocol, metadata and
//! data files. Built on delta_kernel, which stays behind this module's own small types:
//! nothing outside `delta/` touches a kernel type.

mod commits;
mod file_cache;
mod kernel;
pub mod writer;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use commits::{Action, Commit, Commits, Kind};
pub use file_cache::DEFAULT_FILE_CACHE_BYTES;
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

/// Partition column -> value as written in the log (None = null).
pub type PartitionValues = BTreeMap<String, Option<String>>;

/// One live data file of a snapshot. Its text is borrowed where it can be: from the file list
/// the server keeps (see `file_cache`), or from the commit it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile<'a> {
    /// Path relative to the table root, percent-decoded (a real file name); or an absolute
    /// URL when the log holds one (shallow clones).
    pub path: Cow<'a, str>,
    /// The path as the log writes it, when that differs from `path` (see [`DataFile::log_path`]).
    pub encoded_path: Option<Cow<'a, str>>,
    pub size: i64,
    pub modification_time: i64,
    /// The stats JSON of the log, unchanged.
    pub stats: Option<Stats<'a>>,
    pub partition_values: Cow<'a, PartitionValues>,
    pub deletion_vector: Option<Cow<'a, DeletionVector>>,
    /// The MD5 of [`DataFile::log_path`], once asked for (see [`DataFile::log_path_md5`]).
    pub md5_memo: OnceLock<[u8; 16]>,
}

impl DataFile<'_> {
    /// The same file, owning its text.
    pub fn into_owned(self) -> DataFile<'static> {
        DataFile {
            path: Cow::Owned(self.path.into_owned()),
            encoded_path: self.encoded_path.map(|p| Cow::Owned(p.into_owned())),
            size: self.size,
            modification_time: self.modification_time,
            stats: self.stats.map(Stats::into_owned),
            partition_values: Cow::Owned(self.partition_values.into_owned()),
            deletion_vector: self.deletion_vector.map(|dv| Cow::Owned(dv.into_owned())),
            md5_memo: self.md5_memo,
        }
    }

    /// The path as it stands in the log (percent-encoded): what file ids are derived from,
    /// as the reference server does.
    pub fn log_path(&self) -> &str {
        self.encoded_path.as_deref().unwrap_or(&self.path)
    }

    /// The MD5 of the log path (the parquet format's file id). Kept with the file: a kept
    /// file list is listed again and again, and MD5 has no hardware help, unlike SHA-256.
    pub fn log_path_md5(&self) -> [u8; 16] {
        use md5::Digest;
        *self
            .md5_memo
            .get_or_init(|| md5::Md5::digest(self.log_path().as_bytes()).into())
    }

    /// True when the path is a URL rather than relative to the table root.
    pub fn is_absolute(&self) -> bool {
        self.path.contains("://") || self.path.starts_with('/')
    }
}

/// A file's stats (a JSON text), kept escaped as the contents of a JSON string: the form the
/// log writes and responses repeat, copied whole into every file line; unescaped only where a
/// predicate or a limit reads the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats<'a>(Cow<'a, str>);

impl<'a> Stats<'a> {
    /// Stats already escaped: the text between the quotes of a JSON string.
    pub fn escaped(escaped: Cow<'a, str>) -> Self {
        Stats(escaped)
    }

    /// The stats JSON text `text`, escaped.
    pub fn of_text(text: &str) -> Stats<'static> {
        let mut escaped = serde_json::to_string(text).expect("a string serializes");
        escaped.pop();
        escaped.remove(0);
        Stats(Cow::Owned(escaped))
    }

    /// The stats as the contents of a JSON string.
    pub fn as_escaped(&self) -> &str {
        &self.0
    }

    /// The stats JSON text, unescaped.
    pub fn text(&self) -> Cow<'_, str> {
        if !self.0.contains('\\') {
            return Cow::Borrowed(&self.0);
        }
        let quoted = format!("\"{}\"", self.0);
        Cow::Owned(serde_json::from_str(&quoted).unwrap_or_default())
    }

    pub fn into_owned(self) -> Stats<'static> {
        Stats(Cow::Owned(self.0.into_owned()))
    }
}

/// A log path as [`DataFile`] keeps it: decoded (unless it is a URL), and as written when
/// that differs.
pub(crate) fn split_log_path(raw: Cow<'_, str>) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    if raw.contains("://") || !raw.contains('%') {
        return (raw, None);
    }
    let decoded = decode_log_path(&raw);
    if decoded == *raw {
        (raw, None)
    } else {
        (Cow::Owned(decoded), Some(raw))
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

/// The fields of a raw `add`, `remove` or `cdc` action that a listing uses, read straight from
/// its text (the path and the stats borrowed from it).
#[derive(serde::Deserialize)]
struct FileAction<'a> {
    #[serde(borrow)]
    path: Option<std::borrow::Cow<'a, str>>,
    size: Option<i64>,
    #[serde(rename = "modificationTime")]
    modification_time: Option<i64>,
    #[serde(borrow)]
    stats: Option<&'a serde_json::value::RawValue>,
    #[serde(rename = "partitionValues", default)]
    partition_values: PartitionValues,
    #[serde(rename = "deletionVector")]
    deletion_vector: Option<DeletionVectorAction>,
    #[serde(rename = "dataChange")]
    data_change: Option<bool>,
}

#[derive(serde::Deserialize)]
struct DeletionVectorAction {
    #[serde(rename = "storageType", default)]
    storage_type: String,
    #[serde(rename = "pathOrInlineDv", default)]
    path_or_inline_dv: String,
    offset: Option<i32>,
    #[serde(rename = "sizeInBytes", default)]
    size_in_bytes: i32,
    #[serde(default)]
    cardinality: i64,
}

/// A raw `add`, `remove` or `cdc` action of a commit, read once (a change feed reads little
/// else: a JSON tree of each action cost more than half of a long feed).
pub struct FileChange<'a> {
    /// `None` when the action lacks a path or a size (old writers may omit `size` on
    /// `remove`) or is not an action of that shape. Its path is borrowed from the action.
    pub file: Option<DataFile<'a>>,
    /// `dataChange` is absent or true.
    pub data_change: bool,
}

impl<'a> FileChange<'a> {
    /// The change an action's JSON text describes; `None` when the text is not JSON.
    pub fn of(action: &'a str) -> Option<Self> {
        let action = match serde_json::from_str::<FileAction<'a>>(action) {
            Ok(action) => action,
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Some(FileChange {
                    file: None,
                    data_change: true,
                });
            }
            Err(_) => return None,
        };
        let data_change = action.data_change != Some(false);
        let file = action.path.zip(action.size).map(|(path, size)| {
            let (path, encoded_path) = split_log_path(path);
            DataFile {
                path,
                encoded_path,
                size,
                modification_time: action.modification_time.unwrap_or(0),
                // A JSON string, as the protocol has it; anything else is no stats.
                stats: action
                    .stats
                    .and_then(|raw| raw.get().strip_prefix('"')?.strip_suffix('"'))
                    .map(|escaped| Stats::escaped(Cow::Borrowed(escaped))),
                partition_values: Cow::Owned(action.partition_values),
                deletion_vector: action.deletion_vector.map(|dv| {
                    Cow::Owned(DeletionVector {
                        storage_type: dv.storage_type,
                        path_or_inline_dv: dv.path_or_inline_dv,
                        offset: dv.offset,
                        size_in_bytes: dv.size_in_bytes,
                        cardinality: dv.cardinality,
                    })
                }),
                md5_memo: Default::default(),
            }
        });
        Some(FileChange { file, data_change })
    }
}

impl Protocol {
    /// The protocol of a raw `protocol` action of a commit.
    pub fn from_action(action: &serde_json::Value) -> Option<Protocol> {
        let features = |v: &serde_json::Value| {
            v.as_array().map(|list| {
                list.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
        };
        Some(Protocol {
            min_reader_version: i32::try_from(action["minReaderVersion"].as_i64()?).ok()?,
            min_writer_version: i32::try_from(action["minWriterVersion"].as_i64()?).ok()?,
            reader_features: features(&action["readerFeatures"]),
            writer_features: features(&action["writerFeatures"]),
        })
    }
}

impl Metadata {
    /// The metadata of a raw `metaData` action of a commit.
    pub fn from_action(action: &serde_json::Value) -> Option<Metadata> {
        let map = |v: &serde_json::Value| -> BTreeMap<String, String> {
            v.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        };
        Some(Metadata {
            id: action["id"].as_str()?.to_string(),
            name: action["name"].as_str().map(str::to_string),
            description: action["description"].as_str().map(str::to_string),
            format_provider: action["format"]["provider"]
                .as_str()
                .unwrap_or("parquet")
                .to_string(),
            format_options: map(&action["format"]["options"]),
            schema_string: action["schemaString"].as_str()?.to_string(),
            partition_columns: action["partitionColumns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect(),
            configuration: map(&action["configuration"]),
            created_time: action["createdTime"].as_i64(),
        })
    }
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

    #[test]
    fn stats_are_kept_escaped_and_read_unescaped() {
        let text = r#"{"numRecords":2,"minValues":{"name":"a\"b"}}"#;
        let stats = Stats::of_text(text);
        assert_eq!(
            stats.as_escaped(),
            serde_json::to_string(text).unwrap().trim_matches('"')
        );
        assert_eq!(stats.text(), text);
        let change =
            FileChange::of(r#"{"path":"p","size":1,"stats":"{\"numRecords\":2}"}"#).unwrap();
        let borrowed = change.file.unwrap().stats.unwrap();
        assert_eq!(borrowed.as_escaped(), r#"{\"numRecords\":2}"#);
        assert_eq!(borrowed.text(), r#"{"numRecords":2}"#);
        let change = FileChange::of(r#"{"path":"p","size":1,"stats":null}"#).unwrap();
        assert!(change.file.unwrap().stats.is_none());
        let shape = FileChange::of(r#"{"path":"p","size":"1"}"#).unwrap();
        assert!(shape.file.is_none(), "JSON of another shape is no file");
        assert!(
            FileChange::of(r#"{"path":"p","size":1,}"#).is_none(),
            "not JSON"
        );
    }

    #[test]
    fn files_keep_the_log_spelling_of_their_path_only_when_it_differs() {
        let split = |raw: &'static str| split_log_path(Cow::Borrowed(raw));
        assert_eq!(
            split("a=1/part-0.parquet"),
            ("a=1/part-0.parquet".into(), None)
        );
        assert_eq!(
            split("country_code=F%20R/part-0.parquet"),
            (
                "country_code=F R/part-0.parquet".into(),
                Some("country_code=F%20R/part-0.parquet".into())
            )
        );
        assert_eq!(split("s3://b/a%20b"), ("s3://b/a%20b".into(), None));
    }
}
