//! Table data endpoints as plain functions: version, metadata and query.
//!
//! Each request is checked (grant, parameters, snapshot, format) before the first byte is sent;
//! only then are file lines produced, batch by batch, so that a response of 100,000 files
//! starts at once and never sits in memory whole. What only the file list can reveal (a file
//! that cannot be served) cuts the response short, which clients see as a failed read.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::capabilities::{Capabilities, ResponseFormat};
use super::file_pages::{FilePaging, Listing};
use super::ndjson;
use super::predicate::{FileFacts, Predicate};
use super::table::{
    TablePath, UrlGrant, check_start_version, history_required, partition_view, table_location,
};
use super::{Context, params, served};
use crate::audit::receipt::{Delivered, FileDigest};
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::catalog::partition_filter::FileFilter;
use crate::clock::now_ms;
use crate::delta::{DataFile, Snapshot, VersionSpec};
use crate::storage::Location;
use crate::{Error, Result};

/// Bytes collected before a chunk is handed to the response body.
const CHUNK_SIZE: usize = 256 * 1024;

/// A buffer that holds a chunk and the line that completes it without reallocating.
fn chunk_buffer() -> Vec<u8> {
    Vec::with_capacity(CHUNK_SIZE + 16 * 1024)
}

/// Body of `POST …/query`. Unknown fields are ignored: clients send newer ones.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryBody {
    /// SQL hints are optional for servers and ignored, but must be an array of strings.
    pub predicate_hints: Option<Vec<String>>,
    /// Hints are best effort: a value of an unexpected type is ignored, not refused.
    pub json_predicate_hints: Option<serde_json::Value>,
    pub limit_hint: Option<i64>,
    pub version: Option<i64>,
    pub timestamp: Option<String>,
    pub starting_version: Option<i64>,
    pub ending_version: Option<i64>,
    pub include_historical_protocol: Option<bool>,
    pub max_files: Option<i64>,
    pub page_token: Option<String>,
    pub include_refresh_token: Option<bool>,
    pub refresh_token: Option<String>,
}

impl QueryBody {
    /// What the audit ledger keeps of the body: every field that shapes the answer; of the
    /// page and refresh tokens only that one was sent.
    pub fn audit_params(&self) -> serde_json::Value {
        let mut params = serde_json::json!({
            "predicateHints": self.predicate_hints,
            "jsonPredicateHints": self.json_predicate_hints,
            "limitHint": self.limit_hint,
            "version": self.version,
            "timestamp": self.timestamp,
            "startingVersion": self.starting_version,
            "endingVersion": self.ending_version,
            "includeHistoricalProtocol": self.include_historical_protocol,
            "maxFiles": self.max_files,
            "pageToken": self.page_token.is_some(),
            "includeRefreshToken": self.include_refresh_token,
            "refreshToken": self.refresh_token.is_some(),
        });
        if let Some(fields) = params.as_object_mut() {
            fields.retain(|_, v| !v.is_null() && *v != false);
        }
        params
    }

    /// Parses the body; an empty body means `{}`. A field of the wrong type or out of its
    /// range is refused naming it, as the reference server does.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        match bytes.trim_ascii_start().first() {
            None => return Ok(QueryBody::default()),
            // serde would read a JSON array as the struct's fields in order.
            Some(b'{') => {}
            Some(_) => return Err(Error::malformed("the request body must be a JSON object")),
        }
        let malformed = |e: serde_json::Error| {
            Error::malformed(format!("the request body is not a valid query: {e}"))
        };
        let body: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
        for (field, max) in INTEGER_FIELDS {
            match &body[field] {
                serde_json::Value::Null => {}
                value if value.as_i64().is_some_and(|n| n <= max) => {}
                _ => {
                    return Err(Error::invalid(format!(
                        "{field} must be an integer of at most {max}"
                    )));
                }
            }
        }
        let hints = &body["predicateHints"];
        if !hints.is_null()
            && !hints
                .as_array()
                .is_some_and(|h| h.iter().all(|h| h.is_string()))
        {
            return Err(Error::invalid("predicateHints must be an array of strings"));
        }
        serde_json::from_value(body).map_err(malformed)
    }
}

/// The integer fields of a query body and the largest value each takes (`maxFiles` is an
/// Int32 for the reference server, the others Int64).
const INTEGER_FIELDS: [(&str, i64); 5] = [
    ("limitHint", i64::MAX),
    ("maxFiles", i32::MAX as i64),
    ("version", i64::MAX),
    ("startingVersion", i64::MAX),
    ("endingVersion", i64::MAX),
];

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
        (None, Some(ts)) => VersionSpec::Timestamp(params::timestamp(ts)?),
    };
    if !shared.history {
        return Err(history_required(shared));
    }
    Ok(spec)
}

/// The table's latest version, or with `startingTimestamp` the earliest version committed at
/// or after it (`GET …/version`, `HEAD …/{table}`).
pub fn table_version(
    cx: &Context<'_>,
    who: &Recipient,
    path: &TablePath,
    starting_timestamp: Option<&str>,
) -> Result<u64> {
    let shared = path.resolve(cx, who)?;
    let root = table_location(cx, &shared)?;
    match starting_timestamp {
        None => served::latest(cx, &shared),
        Some(_) if !shared.history => Err(history_required(&shared)),
        Some(ts) => {
            let version = cx
                .delta
                .version_at_or_after(&root, params::timestamp(ts)?)?;
            check_start_version(&shared, version)?;
            served::check(cx, &shared, version..=version)?;
            Ok(version)
        }
    }
}

/// A table response ready to be streamed: checked, with its snapshot resolved.
pub struct PreparedTable {
    /// Who asked: file URLs are issued to them.
    recipient_id: String,
    shared: SharedTable,
    location: Location,
    snapshot: Snapshot,
    format: ResponseFormat,
    /// `version` on the metaData and file lines (set for version and timestamp queries).
    line_version: Option<u64>,
    predicate: Option<Predicate>,
    /// The share's partition filter as this recipient reads through it.
    partitions: Option<FileFilter>,
    /// The validation of the version, for a FIRE-bound table.
    evidence: Option<served::Evidence>,
    limit: Option<i64>,
    paging: FilePaging,
    /// Files (after filtering) sent by earlier pages.
    skip: u64,
    /// Put a `refreshToken` in the `endStreamAction`.
    refresh: bool,
}

/// Where a paged or refreshed query resumes: the snapshot it pinned and what was sent.
#[derive(Serialize, Deserialize)]
struct Position {
    version: u64,
    /// The first page asked for a version or timestamp (its lines carry `version`).
    versioned: bool,
    /// Files (after filtering) already sent.
    offset: u64,
}

const PAGE_TOKEN: &str = "query-page-token";
const REFRESH_TOKEN: &str = "query-refresh-token";
const REFRESH_TOKEN_TTL_MS: i64 = 3600 * 1000;

impl Listing for PreparedTable {
    fn version(&self) -> u64 {
        self.snapshot.version()
    }
    fn format(&self) -> ResponseFormat {
        self.format
    }
    fn paging(&self) -> &FilePaging {
        &self.paging
    }
    fn partitions(&self) -> Option<&FileFilter> {
        self.partitions.as_ref()
    }
    fn versions(&self) -> serde_json::Value {
        self.snapshot.version().into()
    }
    fn rules_digest(&self) -> Option<&str> {
        self.evidence.as_ref()?.rules_digest.as_deref()
    }
}

impl PreparedTable {
    fn write_head(&self, out: &mut Vec<u8>) {
        let metadata = self.snapshot.metadata();
        let evidence = self.evidence.as_ref().map(|e| &e.configuration);
        match self.format {
            ResponseFormat::Parquet => {
                ndjson::write_protocol(out);
                let cdf = self.shared.history;
                ndjson::write_metadata(out, metadata, self.line_version, cdf, evidence);
            }
            ResponseFormat::Delta => {
                ndjson::write_delta_protocol(out, self.snapshot.protocol(), None);
                ndjson::write_delta_metadata(out, metadata, self.line_version, evidence);
            }
        }
    }

    /// The grant of this response's file URLs.
    fn grant(&self, cx: &Context<'_>) -> UrlGrant<'_> {
        UrlGrant::new(cx, &self.shared, &self.recipient_id, &self.location)
    }

    /// Signs the file (and its deletion vector file) and writes its line.
    fn write_file(
        &self,
        cx: &Context<'_>,
        grant: &UrlGrant<'_>,
        out: &mut Vec<u8>,
        file: &DataFile,
        now: i64,
    ) -> Result<()> {
        let url = grant.sign(cx, &file.path, now)?;
        let mut id_buffer = [0; 64];
        let scheme = self.paging.file_id_scheme(self.format);
        let id = ndjson::file_id(file, scheme, &mut id_buffer);
        match self.format {
            ResponseFormat::Parquet => ndjson::write_file(out, file, id, &url, self.line_version),
            ResponseFormat::Delta => {
                let dv_url = grant.sign_deletion_vector(cx, file, now)?;
                ndjson::write_delta_file(out, file, id, &url, dv_url.as_ref(), self.line_version);
            }
        }
        Ok(())
    }
}

/// Resolves the snapshot and the response format. `pinned` is the snapshot (and whether
/// the first request named a version) carried by a page or refresh token: it holds whether
/// or not the table's history is shared, since the client started from the latest version.
fn prepare(
    cx: &Context<'_>,
    who: &Recipient,
    shared: SharedTable,
    caps: &Capabilities,
    (version, timestamp): (Option<i64>, Option<&str>),
    pinned: Option<(u64, bool)>,
) -> Result<PreparedTable> {
    let spec = match pinned {
        Some((version, _)) => VersionSpec::Version(version),
        None => version_spec(&shared, version, timestamp)?,
    };
    // The latest version recipients see may be older than the table's (FIRE-bound tables).
    let resolved = match spec {
        VersionSpec::Latest => VersionSpec::Version(served::latest(cx, &shared)?),
        other => other,
    };
    let location = table_location(cx, &shared)?;
    let snapshot = cx.delta.snapshot(&location, resolved)?;
    if pinned.is_none() && spec != VersionSpec::Latest {
        check_start_version(&shared, snapshot.version())?;
    }
    // The latest served version needs no second look at the approvals.
    if spec != VersionSpec::Latest {
        served::check(cx, &shared, snapshot.version()..=snapshot.version())?;
    }
    let format = caps.choose_format(snapshot.protocol(), &snapshot.metadata().configuration)?;
    let line_version = match pinned {
        Some((version, versioned)) => versioned.then_some(version),
        None => (spec != VersionSpec::Latest).then(|| snapshot.version()),
    };
    let partitions = partition_view(cx, who, &shared, snapshot.metadata())?;
    let evidence = served::evidence(cx, &shared, snapshot.version())?;
    Ok(PreparedTable {
        recipient_id: who.id.clone(),
        shared,
        location,
        snapshot,
        format,
        line_version,
        predicate: None,
        partitions,
        evidence,
        limit: None,
        paging: FilePaging::default(),
        skip: 0,
        refresh: false,
    })
}

/// `GET …/metadata`: the protocol and metaData lines.
pub fn table_metadata(
    cx: &Context<'_>,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    version: Option<&str>,
    timestamp: Option<&str>,
) -> Result<(PreparedTable, Vec<u8>)> {
    let shared = path.resolve(cx, who)?;
    let prepared = prepare(
        cx,
        who,
        shared,
        caps,
        (params::metadata_version(version)?, timestamp),
        None,
    )?;
    let mut body = Vec::with_capacity(1024);
    prepared.write_head(&mut body);
    Ok((prepared, body))
}

/// The checks every `POST …/query` body passes, snapshot or `startingVersion` alike.
pub fn check_query_body(body: &QueryBody) -> Result<()> {
    if body.version.is_some() as u8
        + body.timestamp.is_some() as u8
        + body.starting_version.is_some() as u8
        > 1
    {
        return Err(Error::invalid(
            "Please only provide one of: version,timestamp,startingVersion",
        ));
    }
    if body.ending_version.is_some() && body.starting_version.is_none() {
        return Err(Error::invalid(
            "endingVersion can only be used with startingVersion.",
        ));
    }
    params::positive_max_files(body.max_files)?;
    let specific =
        body.version.is_some() || body.timestamp.is_some() || body.starting_version.is_some();
    for (asked, name) in [
        (
            body.include_refresh_token == Some(true),
            "includeRefreshToken",
        ),
        (body.refresh_token.is_some(), "refreshToken"),
    ] {
        if asked && specific {
            return Err(Error::invalid(format!(
                "{name} cannot be used when querying a specific version."
            )));
        }
        if asked && body.page_token.is_some() {
            return Err(Error::invalid(format!(
                "{name} must be used in the first page request."
            )));
        }
    }
    if body.limit_hint.is_some_and(|l| l < 0) {
        return Err(Error::invalid("limitHint cannot be negative."));
    }
    Ok(())
}

/// Checks a `POST …/query` for a snapshot and resolves it.
pub fn prepare_query(
    cx: &Context<'_>,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    body: &QueryBody,
) -> Result<PreparedTable> {
    check_query_body(body)?;
    // A bad `fileidhash` is refused before the table is looked up.
    caps.file_id_scheme()?;
    let shared = path.resolve(cx, who)?;
    let params = (
        &body.json_predicate_hints,
        &body.predicate_hints,
        body.limit_hint,
        body.max_files,
    );
    let max_files = params::positive_max_files(body.max_files)?;
    let (mut paging, page) = FilePaging::open::<Position>(
        cx,
        (PAGE_TOKEN, who, &shared),
        caps,
        max_files,
        &params,
        body.page_token.as_deref(),
    )?;
    let position = match (page, &body.refresh_token) {
        (Some(page), _) => Some(page),
        (None, Some(token)) => {
            Some(paging.open_token::<Position>(cx, REFRESH_TOKEN, token, "refresh token")?)
        }
        (None, None) => None,
    };
    let refresh = body.include_refresh_token == Some(true) || body.refresh_token.is_some();
    paging.end_stream |= refresh;
    let pinned = position.as_ref().map(|p| (p.version, p.versioned));
    let mut prepared = prepare(
        cx,
        who,
        shared,
        caps,
        (body.version, body.timestamp.as_deref()),
        pinned,
    )?;
    paging.bind_partitions(prepared.partitions.as_ref())?;
    prepared.paging = paging;
    prepared.skip = position.map_or(0, |p| p.offset);
    prepared.refresh = refresh;
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
        || body.predicate_hints.as_ref().is_some_and(|h| !h.is_empty());
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
    cx: &Context<'_>,
    query: &PreparedTable,
    mut emit: impl FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<()> {
    let mut out = chunk_buffer();
    query.write_head(&mut out);
    let now = now_ms();
    let grant = query.grant(cx);
    let paging = &query.paging;
    let page = for_each_page_file(cx, query, |file| {
        query.write_file(cx, &grant, &mut out, file, now)?;
        if out.len() >= CHUNK_SIZE && emit(std::mem::replace(&mut out, chunk_buffer())).is_break() {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let sent = page.sent;
    let next_offset = match page.end {
        PageEnd::Stopped => return Ok(()),
        PageEnd::More => Some(page.listed - 1),
        PageEnd::Last => None,
    };
    if paging.end_stream {
        let at = |offset| Position {
            version: query.snapshot.version(),
            versioned: query.line_version.is_some(),
            offset,
        };
        let next = next_offset.map(|offset| paging.next_page(cx, at(offset), now));
        let refresh = query
            .refresh
            .then(|| paging.token(cx, REFRESH_TOKEN, at(0), now + REFRESH_TOKEN_TTL_MS));
        let min_expiry = (sent > 0).then(|| grant.earliest_expiry(now));
        ndjson::write_end_stream(&mut out, next.as_deref(), refresh.as_deref(), min_expiry);
    }
    if !out.is_empty() {
        let _ = emit(out);
    }
    Ok(())
}

/// What the files of a response add up to, for its receipt: one walk over the same files,
/// without signing or writing anything. A response of every file of a snapshot (the common
/// read) has the same answer each time: it is kept with the snapshot's file list.
pub fn delivered_files(cx: &Context<'_>, query: &PreparedTable) -> Result<Delivered> {
    let scheme = query.paging.file_id_scheme(query.format);
    let walk = || {
        let mut digest = FileDigest::default();
        for_each_page_file(cx, query, |file| {
            digest.add(ndjson::file_id(file, scheme, &mut [0; 64]), file.size);
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(digest.finish())
    };
    let whole = query.partitions.is_none()
        && query.predicate.is_none()
        && query.limit.is_none()
        && query.paging.max_files.is_none()
        && query.skip == 0;
    if !whole {
        return walk();
    }
    // Which files may be served depends on the format, their ids on the scheme.
    let key = match (query.format, scheme) {
        (ResponseFormat::Parquet, ndjson::FileIdHash::Md5) => "receipt parquet md5",
        (ResponseFormat::Parquet, ndjson::FileIdHash::Sha256) => "receipt parquet sha256",
        (ResponseFormat::Delta, ndjson::FileIdHash::Md5) => "receipt delta md5",
        (ResponseFormat::Delta, ndjson::FileIdHash::Sha256) => "receipt delta sha256",
    };
    cx.delta.derived(&query.snapshot, key, walk)
}

/// How a walk over a page's files ended.
enum PageEnd {
    /// Every selected file was visited.
    Last,
    /// `maxFiles` was reached with files left: a next page follows.
    More,
    /// The visitor stopped it (the client went away).
    Stopped,
}

struct Page {
    /// Files (after filtering) passed, including those sent by earlier pages and, with
    /// `More`, the first one of the next page.
    listed: u64,
    /// Files visited.
    sent: u64,
    end: PageEnd,
}

/// Hands `visit` the files of this page: the selected ones after those earlier pages sent, at
/// most `maxFiles` of them.
fn for_each_page_file(
    cx: &Context<'_>,
    query: &PreparedTable,
    mut visit: impl FnMut(&DataFile<'_>) -> Result<ControlFlow<()>>,
) -> Result<Page> {
    let paging = &query.paging;
    let mut page = Page {
        listed: 0,
        sent: 0,
        end: PageEnd::Last,
    };
    for_each_selected(cx, query, |file| {
        page.listed += 1;
        if page.listed <= query.skip {
            return Ok(ControlFlow::Continue(()));
        }
        if paging.max_files == Some(page.sent) {
            page.end = PageEnd::More;
            return Ok(ControlFlow::Break(()));
        }
        page.sent += 1;
        let flow = visit(file)?;
        if flow.is_break() {
            page.end = PageEnd::Stopped;
        }
        Ok(flow)
    })?;
    Ok(page)
}

/// Hands `visit` the files the query selects, in log order: those of the recipient's
/// partitions the predicate may match, until their record counts cover `limitHint`. Any file
/// that cannot be served fails the whole listing.
fn for_each_selected(
    cx: &Context<'_>,
    query: &PreparedTable,
    mut visit: impl FnMut(&DataFile<'_>) -> Result<ControlFlow<()>>,
) -> Result<()> {
    let partition_columns = &query.snapshot.metadata().partition_columns;
    let needs_stats = query.limit.is_some()
        || query
            .predicate
            .as_ref()
            .is_some_and(|p| p.needs_stats(partition_columns));
    let mut rows_so_far: i64 = 0;
    let mut failure = None;
    cx.delta.for_each_file(&query.snapshot, |file| {
        // Outside the recipient's partitions, a file does not exist for it.
        if let Some(partitions) = &query.partitions
            && !partitions.matches(&file.partition_values)
        {
            return ControlFlow::Continue(());
        }
        if let Some(problem) = unservable(file, query.format) {
            failure = Some(Error::unsupported(problem));
            return ControlFlow::Break(());
        }
        let stats = needs_stats
            .then(|| {
                file.stats
                    .as_ref()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s.text()).ok())
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
        // limitHint: enough files once their record counts cover the limit. Files without
        // counts say nothing, so they never end the listing. Rows deleted by the file's
        // deletion vector are not there to read.
        if query.limit.is_some() {
            let deleted = file.deletion_vector.as_ref().map_or(0, |dv| dv.cardinality);
            rows_so_far += stats
                .as_ref()
                .and_then(|s| s.get("numRecords")?.as_i64())
                .map_or(0, |n| n - deleted);
        }
        match visit(file) {
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
            Ok(ControlFlow::Continue(())) if query.limit.is_some_and(|l| rows_so_far >= l) => {
                ControlFlow::Break(())
            }
            Ok(flow) => flow,
        }
    })?;
    failure.map_or(Ok(()), Err)
}
