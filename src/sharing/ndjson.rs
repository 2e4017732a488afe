//! The newline-delimited JSON lines of table responses, in the parquet and delta formats.
//!
//! Serialization is deterministic: struct fields in a fixed order and maps sorted by key, so
//! the same snapshot always produces the same `protocol` and `metaData` lines. File lines, a
//! response's bulk, are written field by field by [`Object`]: serde_json looks up every byte
//! of every string in its escape table, which cost a fifth of a 100,000-file query, while
//! URLs and ids need no escape and stats are kept escaped (see `delta::Stats`).

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::delta::{DataFile, Metadata, Protocol, Stats};
use crate::storage::SignedUrl;

pub const CONTENT_TYPE: &str = "application/x-ndjson; charset=utf-8";

#[derive(Serialize)]
struct ProtocolLine {
    protocol: ParquetProtocol,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParquetProtocol {
    min_reader_version: i32,
}

#[derive(Serialize)]
struct MetadataLine<'a> {
    #[serde(rename = "metaData")]
    meta_data: ParquetMetadata<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParquetMetadata<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    format: Format,
    schema_string: String,
    partition_columns: &'a [String],
    configuration: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
}

#[derive(Serialize)]
struct Format {
    provider: &'static str,
}

fn write_line(out: &mut Vec<u8>, value: &impl Serialize) {
    serde_json::to_writer(&mut *out, value).expect("response lines serialize");
    out.push(b'\n');
}

/// `{"protocol":{"minReaderVersion":1}}`: the parquet format always presents reader version 1.
pub fn write_protocol(out: &mut Vec<u8>) {
    write_line(
        out,
        &ProtocolLine {
            protocol: ParquetProtocol {
                min_reader_version: 1,
            },
        },
    );
}

/// The `metaData` line. `version` is set for version and timestamp queries.
/// `cdf_visible` says whether recipients may learn that the change data feed is on.
pub fn write_metadata(
    out: &mut Vec<u8>,
    metadata: &Metadata,
    version: Option<u64>,
    cdf_visible: bool,
    evidence: Option<&BTreeMap<String, String>>,
) {
    let mut configuration = BTreeMap::new();
    if cdf_visible
        && metadata
            .configuration
            .get("delta.enableChangeDataFeed")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        configuration.insert("enableChangeDataFeed", "true");
    }
    configuration.extend(
        evidence
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    write_line(
        out,
        &MetadataLine {
            meta_data: ParquetMetadata {
                id: &metadata.id,
                name: metadata.name.as_deref(),
                description: metadata.description.as_deref(),
                format: Format {
                    provider: "parquet",
                },
                schema_string: parquet_schema_string(&metadata.schema_string),
                partition_columns: &metadata.partition_columns,
                configuration,
                version,
            },
        },
    );
}

/// Where the validation evidence of a FIRE-bound table's version lies in a `metaData`'s
/// `configuration` (see `served::evidence`). Only this server speaks there: a table's own
/// properties under it are never passed on.
pub const EVIDENCE_PREFIX: &str = "fireshare.";

/// One `file` line for a data file and its signed URL.
pub fn write_file(
    out: &mut Vec<u8>,
    file: &DataFile,
    id: &str,
    url: &SignedUrl,
    version: Option<u64>,
) {
    let stats = file.stats.as_ref();
    write_parquet_file(out, "file", file, (id, url), stats, (version, None));
}

/// `{"<key>":{url, id, partitionValues, size, stats, expirationTimestamp, version, timestamp}}`:
/// a parquet-format file line or change line.
fn write_parquet_file(
    out: &mut Vec<u8>,
    key: &str,
    file: &DataFile,
    (id, url): (&str, &SignedUrl),
    stats: Option<&Stats>,
    (version, timestamp): (Option<u64>, Option<i64>),
) {
    let mut line = Object::open(out);
    let mut fields = line.object(key);
    fields.string("url", &url.url);
    fields.string("id", id);
    fields.partition_values(&file.partition_values);
    fields.int("size", file.size);
    if let Some(stats) = stats {
        fields.escaped("stats", stats.as_escaped());
    }
    fields.int("expirationTimestamp", url.expires_at);
    if let Some(version) = version {
        fields.int("version", version as i64);
    }
    if let Some(timestamp) = timestamp {
        fields.int("timestamp", timestamp);
    }
    fields.close();
    line.close();
    out.push(b'\n');
}

/// A JSON object written field by field straight into a response buffer.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.empty) {
            self.out.push(b',');
        }
        push_string(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn string(&mut self, key: &str, value: &str) {
        push_string(self.key(key), value);
    }

    /// A string whose contents are escaped already.
    fn escaped(&mut self, key: &str, escaped: &str) {
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(escaped.as_bytes());
        out.push(b'"');
    }

    fn int(&mut self, key: &str, value: i64) {
        push_int(self.key(key), value);
    }

    fn bool(&mut self, key: &str, value: bool) {
        let value: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(value);
    }

    /// A nested object under `key`; closed by its [`Object::close`].
    fn object(&mut self, key: &str) -> Object<'_> {
        Object::open(self.key(key))
    }

    fn partition_values(&mut self, values: &BTreeMap<String, Option<String>>) {
        let mut map = self.object("partitionValues");
        for (column, value) in values {
            match value {
                Some(value) => map.string(column, value),
                None => map.key(column).extend_from_slice(b"null"),
            }
        }
        map.close();
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// Appends `text` as a JSON string: copied whole between quotes when nothing in it needs an
/// escape (URLs, ids, most names), else through serde_json, which escapes what JSON asks.
fn push_string(out: &mut Vec<u8>, text: &str) {
    // Without an early exit inside a chunk, the check compiles to vector instructions.
    let needs_escape = text.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |any, b| {
            any | (*b < 0x20) | (*b == b'"') | (*b == b'\\')
        })
    });
    if needs_escape {
        serde_json::to_writer(&mut *out, text).expect("a string serializes");
        return;
    }
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

/// Appends an integer in decimal (serde_json writes it without the formatting machinery).
fn push_int(out: &mut Vec<u8>, value: i64) {
    serde_json::to_writer(out, &value).expect("an integer serializes");
}

#[derive(Serialize)]
struct EndStreamLine<'a> {
    #[serde(rename = "endStreamAction")]
    end_stream_action: EndStream<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EndStream<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_url_expiration_timestamp: Option<i64>,
}

/// The last line of a query response, sent only to clients that asked for it.
pub fn write_end_stream(
    out: &mut Vec<u8>,
    next_page_token: Option<&str>,
    refresh_token: Option<&str>,
    min_url_expiration_timestamp: Option<i64>,
) {
    write_line(
        out,
        &EndStreamLine {
            end_stream_action: EndStream {
                refresh_token,
                next_page_token,
                min_url_expiration_timestamp,
            },
        },
    );
}

// ---- change data feed lines --------------------------------------------------------------

/// A parquet-format change line: `kind` is `add`, `remove` or `cdf`; stats only on `add`.
pub fn write_parquet_change(
    out: &mut Vec<u8>,
    kind: &str,
    file: &DataFile,
    id: &str,
    url: &SignedUrl,
    version: u64,
    timestamp: i64,
) {
    let stats = file.stats.as_ref().filter(|_| kind == "add");
    let at = (Some(version), Some(timestamp));
    write_parquet_file(out, kind, file, (id, url), stats, at);
}

/// `{key: value}`, serialized straight into the response (no JSON tree in between).
struct Keyed<'a, T>(&'a str, T);

impl<T: Serialize> Serialize for Keyed<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &self.1)?;
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaChange<'a> {
    id: &'a str,
    version: u64,
    timestamp: i64,
    expiration_timestamp: i64,
    delta_single_action: &'a serde_json::Value,
}

/// A delta-format change line wrapping `action` (`{"add"|"remove"|"cdc": {...}}`, with its
/// paths already replaced by signed URLs).
pub fn write_delta_change(
    out: &mut Vec<u8>,
    action: &serde_json::Value,
    id: &str,
    version: u64,
    timestamp: i64,
    expiration_timestamp: i64,
) {
    let change = DeltaChange {
        id,
        version,
        timestamp,
        expiration_timestamp,
        delta_single_action: action,
    };
    write_line(out, &Keyed("file", change));
}

// ---- delta response format: the log's own actions, with signed URLs for paths --------------

#[derive(Serialize)]
struct DeltaProtocolLine<'a> {
    protocol: DeltaProtocolWrapper<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaProtocolWrapper<'a> {
    delta_protocol: DeltaProtocol<'a>,
    /// Only on change and streaming responses with `includeHistoricalProtocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaProtocol<'a> {
    min_reader_version: i32,
    min_writer_version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    reader_features: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    writer_features: Option<&'a [String]>,
}

#[derive(Serialize)]
struct DeltaMetadataLine<'a> {
    #[serde(rename = "metaData")]
    meta_data: DeltaMetadataWrapper<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaMetadataWrapper<'a> {
    delta_metadata: DeltaMetadata<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaMetadata<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    format: DeltaFormat<'a>,
    schema_string: &'a str,
    partition_columns: &'a [String],
    configuration: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_time: Option<i64>,
}

#[derive(Serialize)]
struct DeltaFormat<'a> {
    provider: &'a str,
    options: &'a BTreeMap<String, String>,
}

/// `{"protocol":{"deltaProtocol":{...}}}`: the table's protocol as it is.
pub fn write_delta_protocol(out: &mut Vec<u8>, protocol: &Protocol, version: Option<u64>) {
    write_line(
        out,
        &DeltaProtocolLine {
            protocol: DeltaProtocolWrapper {
                version,
                delta_protocol: DeltaProtocol {
                    min_reader_version: protocol.min_reader_version,
                    min_writer_version: protocol.min_writer_version,
                    reader_features: protocol.reader_features.as_deref(),
                    writer_features: protocol.writer_features.as_deref(),
                },
            },
        },
    );
}

/// `{"metaData":{"deltaMetadata":{...}}}`: the table's metadata action as it is (column
/// mapping ids and physical names included: the client's Delta reader needs them).
pub fn write_delta_metadata(
    out: &mut Vec<u8>,
    metadata: &Metadata,
    version: Option<u64>,
    evidence: Option<&BTreeMap<String, String>>,
) {
    let configuration: BTreeMap<&str, &str> = metadata
        .configuration
        .iter()
        .filter(|(k, _)| !k.starts_with(EVIDENCE_PREFIX))
        .chain(evidence.into_iter().flatten())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    write_line(
        out,
        &DeltaMetadataLine {
            meta_data: DeltaMetadataWrapper {
                delta_metadata: DeltaMetadata {
                    id: &metadata.id,
                    name: metadata.name.as_deref(),
                    description: metadata.description.as_deref(),
                    format: DeltaFormat {
                        provider: &metadata.format_provider,
                        options: &metadata.format_options,
                    },
                    schema_string: &metadata.schema_string,
                    partition_columns: &metadata.partition_columns,
                    configuration,
                    created_time: metadata.created_time,
                },
                version,
            },
        },
    );
}

/// A `file` line wrapping the file's `add` action, its path replaced by the signed URL and a
/// file-based deletion vector by a `p` descriptor whose path is `dv_url`.
pub fn write_delta_file(
    out: &mut Vec<u8>,
    file: &DataFile,
    id: &str,
    url: &SignedUrl,
    dv_url: Option<&SignedUrl>,
    version: Option<u64>,
) {
    let expiration_timestamp = dv_url.map_or(url.expires_at, |d| d.expires_at.min(url.expires_at));
    let mut line = Object::open(out);
    let mut fields = line.object("file");
    fields.string("id", id);
    if let Some(version) = version {
        fields.int("version", version as i64);
    }
    fields.int("expirationTimestamp", expiration_timestamp);
    let mut single = fields.object("deltaSingleAction");
    let mut add = single.object("add");
    add.string("path", &url.url);
    add.partition_values(&file.partition_values);
    add.int("size", file.size);
    add.int("modificationTime", file.modification_time);
    add.bool("dataChange", true);
    if let Some(stats) = &file.stats {
        add.escaped("stats", stats.as_escaped());
    }
    if let Some(dv) = file.deletion_vector.as_deref() {
        let mut vector = add.object("deletionVector");
        match dv_url {
            Some(dv_url) => {
                vector.string("storageType", "p");
                vector.string("pathOrInlineDv", &dv_url.url);
            }
            None => {
                vector.string("storageType", &dv.storage_type);
                vector.string("pathOrInlineDv", &dv.path_or_inline_dv);
            }
        }
        if let Some(offset) = dv.offset {
            vector.int("offset", offset.into());
        }
        vector.int("sizeInBytes", dv.size_in_bytes.into());
        vector.int("cardinality", dv.cardinality);
        vector.close();
    }
    add.close();
    single.close();
    fields.close();
    line.close();
    out.push(b'\n');
}

/// How file ids are derived from the path as the log writes it (the `fileidhash` request
/// header: `parquet` = MD5, `delta` = SHA-256, as the reference server does; without the
/// header, the response format's namesake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileIdHash {
    Md5,
    Sha256,
}

impl FileIdHash {
    /// Reads the `fileidhash` header value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "parquet" => Some(FileIdHash::Md5),
            "delta" => Some(FileIdHash::Sha256),
            _ => None,
        }
    }

    /// The header value this scheme answers with.
    pub fn header_value(self) -> &'static str {
        match self {
            FileIdHash::Md5 => "parquet",
            FileIdHash::Sha256 => "delta",
        }
    }
}

/// A stable id for a data file: the same file gets the same id in every response, whatever
/// its URL (clients cache URLs by id). Hex digest of its log path, written into `buffer`.
pub fn file_id<'a>(file: &DataFile, hash: FileIdHash, buffer: &'a mut [u8; 64]) -> &'a str {
    let len = match hash {
        FileIdHash::Md5 => {
            hex::encode_to_slice(file.log_path_md5(), &mut buffer[..32])
                .expect("16 bytes fill 32 hex digits");
            32
        }
        FileIdHash::Sha256 => {
            hex::encode_to_slice(Sha256::digest(file.log_path().as_bytes()), buffer)
                .expect("32 bytes fill 64 hex digits");
            64
        }
    };
    std::str::from_utf8(&buffer[..len]).expect("hex digits are ASCII")
}

/// In the parquet format, top-level fields keep only their `comment` metadata: other keys
/// (column mapping ids, physical names, generation expressions...) are provider internals.
/// The schema string is passed through unchanged when there is nothing to remove.
fn parquet_schema_string(schema: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(schema) else {
        return schema.to_string();
    };
    let mut changed = false;
    if let Some(fields) = value.get_mut("fields").and_then(|f| f.as_array_mut()) {
        for field in fields {
            if let Some(meta) = field.get_mut("metadata").and_then(|m| m.as_object_mut())
                && meta.keys().any(|k| k != "comment")
            {
                meta.retain(|k, _| k == "comment");
                changed = true;
            }
        }
    }
    if changed {
        value.to_string()
    } else {
        schema.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_integers_are_written_as_serde_json_writes_them() {
        let texts = [
            "",
            "plain",
            r#"{"numRecords":3,"minValues":{"a":"x"}}"#,
            r#"""#,
            r#"a\b"#,
            "tab\there\nnewline \u{1} \u{1f}",
            "ünïcødé € 🦀 \u{7f}",
            &"long \"quoted\" ".repeat(40),
        ];
        for text in texts {
            let mut out = Vec::new();
            push_string(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        for n in [0, 7, -1, 1_700_000_000_000, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_int(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    fn metadata(schema: &str, configuration: &[(&str, &str)]) -> Metadata {
        Metadata {
            id: "id-1".into(),
            name: None,
            description: Some("d".into()),
            format_provider: "parquet".into(),
            format_options: BTreeMap::new(),
            schema_string: schema.into(),
            partition_columns: vec!["region".into()],
            configuration: configuration
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_time: Some(1),
        }
    }

    #[test]
    fn lines_have_the_exact_shape_clients_need() {
        let mut out = Vec::new();
        write_protocol(&mut out);
        let schema = r#"{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{"comment":"c","delta.generationExpression":"x"}}]}"#;
        write_metadata(
            &mut out,
            &metadata(
                schema,
                &[("delta.enableChangeDataFeed", "true"), ("secret", "x")],
            ),
            Some(3),
            true,
            None,
        );
        let file = DataFile {
            path: "region=eu/a b.parquet".into(),
            encoded_path: Some("region=eu/a%20b.parquet".into()),
            size: 10,
            modification_time: 0,
            stats: Some(Stats::of_text(r#"{"numRecords":1}"#)),
            partition_values: std::borrow::Cow::Owned(
                [("region".to_string(), Some("eu".to_string()))].into(),
            ),
            deletion_vector: None,
            md5_memo: Default::default(),
        };
        write_file(
            &mut out,
            &file,
            file_id(&file, FileIdHash::Sha256, &mut [0; 64]),
            &SignedUrl {
                url: "http://x/f".into(),
                expires_at: 5,
            },
            None,
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r#"{"protocol":{"minReaderVersion":1}}"#);
        let meta: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(
            meta["metaData"]["configuration"],
            serde_json::json!({"enableChangeDataFeed": "true"})
        );
        assert_eq!(meta["metaData"]["version"], 3);
        assert!(meta["metaData"].get("name").is_none(), "no nulls");
        let kept: serde_json::Value =
            serde_json::from_str(meta["metaData"]["schemaString"].as_str().unwrap()).unwrap();
        assert_eq!(
            kept["fields"][0]["metadata"],
            serde_json::json!({"comment": "c"})
        );
        assert_eq!(
            lines[2],
            format!(
                r#"{{"file":{{"url":"http://x/f","id":"{}","partitionValues":{{"region":"eu"}},"size":10,"stats":"{{\"numRecords\":1}}","expirationTimestamp":5}}}}"#,
                hex::encode(Sha256::digest(b"region=eu/a%20b.parquet"))
            )
        );
        let mut hidden = Vec::new();
        write_metadata(
            &mut hidden,
            &metadata("{}", &[("delta.enableChangeDataFeed", "true")]),
            None,
            false,
            None,
        );
        assert!(
            String::from_utf8(hidden)
                .unwrap()
                .contains(r#""configuration":{}"#)
        );
    }

    #[test]
    fn only_this_server_speaks_under_the_evidence_keys() {
        let table = metadata(
            "{}",
            &[
                ("fireshare.fire.passRate", "1"),
                ("delta.appendOnly", "true"),
            ],
        );
        let evidence = BTreeMap::from([("fireshare.fire.passRate".to_string(), "0.5".to_string())]);
        let configuration = |write: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            write(&mut out);
            let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let meta = &line["metaData"];
            meta.get("deltaMetadata").unwrap_or(meta)["configuration"].clone()
        };
        assert_eq!(
            configuration(&|out| write_metadata(out, &table, None, true, Some(&evidence))),
            serde_json::json!({"fireshare.fire.passRate": "0.5"})
        );
        assert_eq!(
            configuration(&|out| write_delta_metadata(out, &table, None, None)),
            serde_json::json!({"delta.appendOnly": "true"}),
            "a table's own evidence keys are dropped"
        );
        assert_eq!(
            configuration(&|out| write_delta_metadata(out, &table, None, Some(&evidence))),
            serde_json::json!({"delta.appendOnly": "true", "fireshare.fire.passRate": "0.5"})
        );
    }

    #[test]
    fn file_ids_hash_the_path_as_the_log_writes_it() {
        // The reference server's parquet ids: MD5 hex of the `add` action's path string.
        let change = crate::delta::FileChange::of(
            r#"{"path": "country_code=F%20R/part-00000.parquet", "size": 1}"#,
        )
        .unwrap();
        let file = change.file.unwrap();
        assert_eq!(file.path, "country_code=F R/part-00000.parquet");
        let id = file_id(&file, FileIdHash::Md5, &mut [0; 64]).to_string();
        assert_eq!(id, "b6fe72fce798c0abe50507fbf730d610");
        assert_eq!(file_id(&file, FileIdHash::Md5, &mut [0; 64]), id, "kept");
    }
}
