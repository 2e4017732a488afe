//! Table data endpoints as plain functions: version, metadata and query.
//!
//! Each request is checked (grant, parameters, snapshot, format) before the first byte is sent;
//! only then are file lines produced, batch by batch, so that a response of 100,000 files
//! starts at once and never sits in memory whole. What only the file list can reveal (a file
//! that cannot be served) cuts the response short, which clients see as a failed read.

use std::ops::ControlFlow;

use serde::Deserialize;
use url::Url;

use super::capabilities::{Capabilities, ResponseFormat};
use super::listing::granted_table;
use super::ndjson;
use super::predicate::{FileFacts, Predicate};
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::clock::{now_ms, parse_timestamp_ms};
use crate::delta::{DataFile, Snapshot, VersionSpec};
use crate::state::AppState;
use crate::{Error, Result};

/// Bytes collected before a chunk is handed to the response body.
const CHUNK_SIZE: usize = 256 * 1024;

/// A buffer that holds a chunk and the line that completes it without reallocating.
fn chunk_buffer() -> Vec<u8> {
    Vec::with_capacity(CHUNK_SIZE + 16 * 1024)
}

/// `{share}/{schema}/{table}` as addressed in the URL.
#[derive(Debug, Clone, Deserialize)]
pub struct TablePath {
    pub share: String,
    pub schema: String,
    pub table: String,
}

impl TablePath {
    fn resolve(&self, state: &AppState, who: &Recipient) -> Result<SharedTable> {
        granted_table(state, who, &self.share, &self.schema, &self.table)
    }
}

/// Body of `POST …/query`. Unknown fields are ignored: clients send newer ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryBody {
    /// Hints are best effort: a value of an unexpected type is ignored, not refused.
    pub predicate_hints: Option<serde_json::Value>,
    pub json_predicate_hints: Option<serde_json::Value>,
    pub limit_hint: Option<i64>,
    pub version: Option<i64>,
    pub timestamp: Option<String>,
    pub starting_version: Option<i64>,
    pub ending_version: Option<i64>,
    pub max_files: Option<i64>,
    pub page_token: Option<String>,
    pub include_refresh_token: Option<bool>,
    pub refresh_token: Option<String>,
}

impl QueryBody {
    /// Parses the body; an empty body means `{}`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(QueryBody::default());
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed(format!("the request body is not a valid query: {e}")))
    }
}

fn table_root(shared: &SharedTable) -> Result<Url> {
    Url::parse(&shared.table.location)
        .map_err(|e| Error::internal(format!("catalog holds an invalid location: {e}")))
}

fn history_required(shared: &SharedTable) -> Error {
    Error::invalid(format!(
        "Reading table by version or timestamp is not supported because history sharing is not enabled on table: {}.{}.{}",
        shared.share, shared.schema, shared.name
    ))
}

/// Turns `version` / `timestamp` parameters into a snapshot choice.
fn version_spec(
    shared: &SharedTable,
    version: Option<i64>,
    timestamp: Option<&str>,
) -> Result<VersionSpec> {
    let spec = match (version, timestamp) {
        (None, None) => return Ok(VersionSpec::Latest),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "Please only provide one of: version,timestamp",
            ));
        }
        (Some(v), None) if v < 0 => {
            return Err(Error::invalid("table version cannot be negative."));
        }
        (Some(v), None) => VersionSpec::Version(v as u64),
        (None, Some(ts)) => VersionSpec::Timestamp(parse_timestamp(ts)?),
    };
    if !shared.history {
        return Err(history_required(shared));
    }
    Ok(spec)
}

fn parse_timestamp(text: &str) -> Result<i64> {
    parse_timestamp_ms(text).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid timestamp '{text}': use ISO 8601 with a time zone, e.g. 2024-01-31T00:00:00Z"
        ))
    })
}

fn parse_version_param(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        t.trim()
            .parse::<i64>()
            .map_err(|_| Error::invalid(format!("version '{t}' is not a valid number")))
    })
    .transpose()
}

/// The table's latest version, or with `startingTimestamp` the earliest version committed at
/// or after it (`GET …/version`, `HEAD …/{table}`).
pub fn table_version(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    starting_timestamp: Option<&str>,
) -> Result<u64> {
    let shared = path.resolve(state, who)?;
    let root = table_root(&shared)?;
    match starting_timestamp {
        None => Ok(state.delta.snapshot(&root, VersionSpec::Latest)?.version()),
        Some(_) if !shared.history => Err(history_required(&shared)),
        Some(ts) => state.delta.version_at_or_after(&root, parse_timestamp(ts)?),
    }
}

/// A table response ready to be streamed: checked, with its snapshot resolved.
pub struct PreparedTable {
    shared: SharedTable,
    snapshot: Snapshot,
    format: ResponseFormat,
    /// `version` on the metaData and file lines (set for version and timestamp queries).
    line_version: Option<u64>,
    predicate: Option<Predicate>,
    limit: Option<i64>,
}

impl PreparedTable {
    /// The `Delta-Table-Version` header.
    pub fn version(&self) -> u64 {
        self.snapshot.version()
    }
    pub fn format(&self) -> ResponseFormat {
        self.format
    }

    fn write_head(&self, out: &mut Vec<u8>) {
        let metadata = self.snapshot.metadata();
        match self.format {
            ResponseFormat::Parquet => {
                ndjson::write_protocol(out);
                ndjson::write_metadata(out, metadata, self.line_version, self.shared.history);
            }
            ResponseFormat::Delta => {
                ndjson::write_delta_protocol(out, self.snapshot.protocol());
                ndjson::write_delta_metadata(out, metadata, self.line_version);
            }
        }
    }

    /// Signs the file (and its deletion vector file) and writes its line.
    fn write_file(
        &self,
        state: &AppState,
        out: &mut Vec<u8>,
        file: &DataFile,
        now: i64,
    ) -> Result<()> {
        let table_id = &self.shared.table.id;
        let url = state.signer.sign(table_id, &file.path, now);
        match self.format {
            ResponseFormat::Parquet => ndjson::write_file(out, file, &url, self.line_version),
            ResponseFormat::Delta => {
                let dv_url = match file.deletion_vector.as_ref().and_then(|dv| dv.file_path()) {
                    None => None,
                    Some(Ok(path)) if !path.contains("://") && !path.starts_with('/') => {
                        Some(state.signer.sign(table_id, &path, now))
                    }
                    Some(Ok(_)) => {
                        return Err(Error::unsupported(
                            "a deletion vector of the table lies outside the table directory, which cannot be shared",
                        ));
                    }
                    Some(Err(e)) => {
                        return Err(Error::unsupported(format!(
                            "unreadable deletion vector: {e}"
                        )));
                    }
                };
                ndjson::write_delta_file(out, file, &url, dv_url.as_ref(), self.line_version);
            }
        }
        Ok(())
    }
}

fn prepare(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    version: Option<i64>,
    timestamp: Option<&str>,
) -> Result<PreparedTable> {
    let shared = path.resolve(state, who)?;
    let spec = version_spec(&shared, version, timestamp)?;
    let snapshot = state.delta.snapshot(&table_root(&shared)?, spec)?;
    let format = caps.choose_format(snapshot.protocol(), &snapshot.metadata().configuration)?;
    let line_version = (spec != VersionSpec::Latest).then(|| snapshot.version());
    Ok(PreparedTable {
        shared,
        snapshot,
        format,
        line_version,
        predicate: None,
        limit: None,
    })
}

/// `GET …/metadata`: the protocol and metaData lines.
pub fn table_metadata(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    version: Option<&str>,
    timestamp: Option<&str>,
) -> Result<(PreparedTable, Vec<u8>)> {
    let prepared = prepare(
        state,
        who,
        path,
        caps,
        parse_version_param(version)?,
        timestamp,
    )?;
    let mut body = Vec::with_capacity(1024);
    prepared.write_head(&mut body);
    Ok((prepared, body))
}

/// Checks a `POST …/query` and resolves its snapshot.
pub fn prepare_query(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    body: &QueryBody,
) -> Result<PreparedTable> {
    if body.version.is_some() as u8
        + body.timestamp.is_some() as u8
        + body.starting_version.is_some() as u8
        > 1
    {
        return Err(Error::invalid(
            "Please only provide one of: version,timestamp,startingVersion",
        ));
    }
    if body.starting_version.is_some() || body.ending_version.is_some() {
        return Err(Error::unsupported(
            "startingVersion/endingVersion queries are not supported yet",
        ));
    }
    if body.max_files.is_some() || body.page_token.is_some() || body.refresh_token.is_some() {
        return Err(Error::unsupported(
            "paging of query results (maxFiles, pageToken) and refresh tokens are not supported yet",
        ));
    }
    if body.limit_hint.is_some_and(|l| l < 0) {
        return Err(Error::invalid("limitHint cannot be negative."));
    }
    let mut prepared = prepare(
        state,
        who,
        path,
        caps,
        body.version,
        body.timestamp.as_deref(),
    )?;
    // SQL `predicateHints` are optional for servers and ignored; JSON hints are applied.
    prepared.predicate = body
        .json_predicate_hints
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(Predicate::parse);
    if let Some(predicate) = &mut prepared.predicate {
        predicate.bind_schema(&prepared.snapshot.metadata().schema_string);
    }
    // With hints, a kept file may hold no matching row, so its record count says nothing about
    // how many rows the reader will keep: the limit is then left to the client.
    let hinted = body.json_predicate_hints.is_some()
        || body
            .predicate_hints
            .as_ref()
            .and_then(|h| h.as_array())
            .is_some_and(|h| !h.is_empty());
    prepared.limit = body.limit_hint.filter(|_| !hinted);
    Ok(prepared)
}

/// Why a file cannot be listed in `format`, if it cannot.
fn unservable(file: &DataFile, format: ResponseFormat) -> Option<&'static str> {
    if file.is_absolute() {
        Some("the table's log holds absolute file paths (a shallow clone?), which cannot be shared")
    } else if file.deletion_vector.is_some() && format == ResponseFormat::Parquet {
        Some("a file of the table carries a deletion vector, which needs the delta response format")
    } else {
        None
    }
}

/// Produces the whole query response, handing it to `emit` in chunks; stops early when
/// `emit` answers `Break` (the client went away).
pub fn write_query(
    state: &AppState,
    query: &PreparedTable,
    mut emit: impl FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<()> {
    let mut out = chunk_buffer();
    query.write_head(&mut out);
    let partition_columns = &query.snapshot.metadata().partition_columns;
    let needs_stats = query.limit.is_some()
        || query
            .predicate
            .as_ref()
            .is_some_and(|p| p.needs_stats(partition_columns));
    let now = now_ms();
    let mut rows_so_far: i64 = 0;
    let mut failure = None;
    let mut stopped = false;
    state.delta.for_each_file(&query.snapshot, |file| {
        if let Some(problem) = unservable(&file, query.format) {
            failure = Some(Error::unsupported(problem));
            return ControlFlow::Break(());
        }
        let stats = needs_stats
            .then(|| {
                file.stats
                    .as_deref()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            })
            .flatten();
        if let Some(predicate) = &query.predicate {
            let facts = FileFacts {
                partition_values: &file.partition_values,
                stats: stats.as_ref(),
            };
            if !predicate.may_match(&facts) {
                return ControlFlow::Continue(());
            }
        }
        if let Err(e) = query.write_file(state, &mut out, &file, now) {
            failure = Some(e);
            return ControlFlow::Break(());
        }
        if out.len() >= CHUNK_SIZE && emit(std::mem::replace(&mut out, chunk_buffer())).is_break() {
            stopped = true;
            return ControlFlow::Break(());
        }
        // limitHint: enough files once their record counts cover the limit. Files without
        // counts say nothing, so they never end the listing.
        if let Some(limit) = query.limit {
            // Rows deleted by the file's deletion vector are not there to read.
            let deleted = file.deletion_vector.as_ref().map_or(0, |dv| dv.cardinality);
            rows_so_far += stats
                .as_ref()
                .and_then(|s| s.get("numRecords")?.as_i64())
                .map_or(0, |n| n - deleted);
            if rows_so_far >= limit {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !stopped && !out.is_empty() {
        let _ = emit(out);
    }
    Ok(())
}
