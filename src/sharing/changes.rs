//! Per-commit listings of a table shared `WITH HISTORY` (protocol.md §3):
//! - `GET …/changes`, the change data feed: for every commit of the range its `cdc` files when
//!   it wrote any; nothing for a MERGE that changed no row; otherwise its data-changing `add`
//!   and `remove` files (readers label them insert and delete);
//! - `POST …/query` with `startingVersion` (streaming readers): every data-changing `add` and
//!   `remove`, and each later `metaData`.
//!
//! Every line carries the commit's version and timestamp. With `maxFiles` the listing comes in
//! pages; a page token pins the range and the head lines and says where the next page resumes
//! (a commit and a file within it), so a page reads only the commits it lists.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::capabilities::{Capabilities, ResponseFormat};
use super::file_pages::{FilePaging, Listing};
use super::ndjson::{self, FileIdHash};
use super::query::QueryBody;
use super::table::{
    TablePath, UrlGrant, check_start_version, history_required, partition_view, table_location,
};
use super::{Context, params, served};
use crate::audit::receipt::{Delivered, FileDigest};
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::catalog::partition_filter::FileFilter;
use crate::clock::now_ms;
use crate::delta::{
    Action, Commit, Commits, DataFile, FileChange, Kind, Metadata, Protocol, Snapshot, VersionSpec,
};
use crate::storage::Location;
use crate::{Error, Result};

/// Query parameters of `/changes`, as sent (numbers and booleans are checked here: Python
/// sends booleans as `True`/`False`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesParams {
    pub starting_version: Option<String>,
    pub starting_timestamp: Option<String>,
    pub ending_version: Option<String>,
    pub ending_timestamp: Option<String>,
    pub include_historical_metadata: Option<String>,
    pub include_historical_protocol: Option<String>,
    pub max_files: Option<String>,
    #[serde(skip_serializing)]
    pub page_token: Option<String>,
}

/// A change listing, checked and resolved.
pub struct PreparedChanges {
    /// Who asked: file URLs are issued to them.
    recipient_id: String,
    shared: SharedTable,
    location: Location,
    /// The snapshot of the first two lines: at the start with historical metadata, else latest.
    head: Snapshot,
    format: ResponseFormat,
    start: u64,
    end: u64,
    /// `metaData` lines of the commits after the start.
    include_metadata: bool,
    /// `protocol` lines (with `version`) of the commits after the start: delta format only.
    include_protocol: bool,
    /// A `startingVersion` query: no `cdc` files, every data change.
    streaming: bool,
    /// The commits of this page, read one at a time while writing.
    commits: Commits,
    /// The share's partition filter as this recipient reads through it (bound to the head
    /// snapshot's partitioning).
    partitions: Option<FileFilter>,
    /// The validation of the head version, for a FIRE-bound table.
    evidence: Option<served::Evidence>,
    paging: FilePaging,
    /// Where this page starts: the first commit's version and the files of it already sent.
    resume: (u64, usize),
    /// The walks check that each commit kept the change feed on: a first and only page reads
    /// every commit of the range anyway, before its first byte (the receipt), so a pass of
    /// its own would read them all once more.
    feed_checked_by_walks: bool,
    /// The MD5 of each file's path (parquet file ids), in the order the receipt's walk met
    /// them: the response's walk meets the same files in the same order, and takes them
    /// rather than hashing every path a second time.
    ids: Vec<[u8; 16]>,
}

/// What a listing includes besides its files.
struct Options {
    include_metadata: bool,
    include_protocol: bool,
    streaming: bool,
}

/// What a page token pins: the resolved range, the head snapshot and where to resume.
#[derive(Serialize, Deserialize)]
struct Position {
    start: u64,
    end: u64,
    head: u64,
    version: u64,
    index: usize,
}

const PAGE_TOKEN: &str = "changes-page-token";

impl Listing for PreparedChanges {
    /// The starting version.
    fn version(&self) -> u64 {
        self.start
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
    fn versions(&self) -> Value {
        serde_json::json!({"start": self.start, "end": self.end})
    }
    fn rules_digest(&self) -> Option<&str> {
        self.evidence.as_ref()?.rules_digest.as_deref()
    }
}

fn change_feed_on(metadata: &Metadata) -> bool {
    metadata
        .configuration
        .get("delta.enableChangeDataFeed")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The change feed must be on at the start and stay on through every commit of the range.
/// Whether the change feed was on from `start` to `end`: at the start, and in each commit's
/// `metaData` of `commits` (`None`: the walks check them as they read the commits, see
/// [`check_commit_feed`]).
fn check_change_feed(
    cx: &Context<'_>,
    shared: &SharedTable,
    (start, end): (u64, u64),
    commits: Option<&Commits>,
) -> Result<()> {
    let at_start = cx
        .delta
        .snapshot(&table_location(cx, shared)?, VersionSpec::Version(start))?;
    if !change_feed_on(at_start.metadata()) {
        return Err(not_recorded((start, end), start));
    }
    for change in commits.into_iter().flat_map(Commits::metadata_changes) {
        let (version, metadata) = change?;
        if !change_feed_on(&metadata) {
            return Err(not_recorded((start, end), version));
        }
    }
    Ok(())
}

/// Whether the change feed stayed on in `commit` (see [`check_change_feed`]).
fn check_commit_feed(changes: &PreparedChanges, commit: &Commit) -> Result<()> {
    let turned_off = commit
        .actions
        .iter()
        .filter(|a| a.kind == Kind::MetaData)
        .filter_map(|a| Metadata::from_action(&a.value()))
        .any(|m| !change_feed_on(&m));
    if turned_off {
        return Err(not_recorded((changes.start, changes.end), commit.version));
    }
    Ok(())
}

fn not_recorded((start, end): (u64, u64), version: u64) -> Error {
    Error::invalid(format!(
        "Error getting change data for range [{start}, {end}] as change data was not recorded for version [{version}]"
    ))
}

fn start_past_latest(start: u64, latest: u64) -> Error {
    Error::invalid(format!(
        "Provided Start version({start}) for reading change data is invalid. Start version cannot be greater than the latest version of the table({latest})."
    ))
}

/// The range `[start, end]` a first `/changes` request asks for.
fn resolve_range(
    cx: &Context<'_>,
    shared: &SharedTable,
    params: &ChangesParams,
) -> Result<(u64, u64)> {
    let starting_version = params::version("startingVersion", params.starting_version.as_deref())?;
    let ending_version = params::version("endingVersion", params.ending_version.as_deref())?;
    let root = table_location(cx, shared)?;
    let latest = cx.delta.snapshot(&root, VersionSpec::Latest)?.version();
    let start = match (starting_version, &params.starting_timestamp) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "Multiple starting arguments provided for CDF read. Please provide one of either startingTimestamp or startingVersion.",
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                "No startingVersion or startingTimestamp provided for CDF read.",
            ));
        }
        (Some(v), None) => v,
        (None, Some(ts)) => cx
            .delta
            .version_at_or_after(&root, params::timestamp(ts)?)?,
    };
    let end = match (ending_version, &params.ending_timestamp) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "Multiple ending arguments provided for CDF read. Please provide one of either endingTimestamp or endingVersion.",
            ));
        }
        // The latest version recipients see (older than the table's for FIRE-bound tables).
        (None, None) => served::latest(cx, shared)?,
        // Like the reference server: an ending version past the latest is clamped.
        (Some(v), None) => v.min(latest),
        (None, Some(ts)) => cx
            .delta
            .snapshot(&root, VersionSpec::Timestamp(params::timestamp(ts)?))?
            .version(),
    };
    if start > latest {
        return Err(start_past_latest(start, latest));
    }
    if end < start {
        return Err(Error::invalid(format!(
            "CDF range from start {start} to end {end} was invalid. End cannot be before start."
        )));
    }
    Ok((start, end))
}

/// Checks a `GET …/changes` and resolves its range.
pub fn prepare_changes(
    cx: &Context<'_>,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    params: &ChangesParams,
) -> Result<PreparedChanges> {
    let shared = path.resolve(cx, who)?;
    if !shared.history {
        return Err(Error::invalid(format!(
            "cdf is not enabled on table {}.{}.{}: it is not shared WITH HISTORY",
            shared.share, shared.schema, shared.name
        )));
    }
    let max_files = params::max_files(params.max_files.as_deref())?;
    let (paging, position) = FilePaging::open::<Position>(
        cx,
        (PAGE_TOKEN, who, &shared),
        caps,
        max_files,
        params,
        params.page_token.as_deref(),
    )?;
    let include_metadata = params::flag(
        "includeHistoricalMetadata",
        params.include_historical_metadata.as_deref(),
    )?;
    let include_protocol = params::flag(
        "includeHistoricalProtocol",
        params.include_historical_protocol.as_deref(),
    )?;
    let (start, end, head) = match &position {
        Some(c) => (c.start, c.end, c.head),
        None => {
            let (start, end) = resolve_range(cx, &shared, params)?;
            let head = if include_metadata {
                start
            } else {
                served::latest(cx, &shared)?
            };
            (start, end, head)
        }
    };
    let options = Options {
        include_metadata,
        include_protocol,
        streaming: false,
    };
    prepare(
        cx,
        who,
        shared,
        caps,
        (start, end, head),
        options,
        paging,
        position,
    )
}

/// Checks a `POST …/query` with `startingVersion` (and optionally `endingVersion`).
pub fn prepare_streaming(
    cx: &Context<'_>,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    body: &QueryBody,
) -> Result<PreparedChanges> {
    let shared = path.resolve(cx, who)?;
    if !shared.history {
        return Err(history_required(&shared));
    }
    let starting_version = body.starting_version.unwrap_or_default();
    let params = (
        starting_version,
        body.ending_version,
        body.include_historical_protocol,
        body.max_files,
    );
    let (paging, position) = FilePaging::open::<Position>(
        cx,
        (PAGE_TOKEN, who, &shared),
        caps,
        params::positive_max_files(body.max_files)?,
        &params,
        body.page_token.as_deref(),
    )?;
    let range = match &position {
        Some(c) => (c.start, c.end, c.head),
        None => {
            let start = u64::try_from(starting_version)
                .map_err(|_| Error::invalid("startingVersion cannot be negative."))?;
            let root = table_location(cx, &shared)?;
            let latest = cx.delta.snapshot(&root, VersionSpec::Latest)?.version();
            if start > latest {
                return Err(start_past_latest(start, latest));
            }
            let end = match body.ending_version {
                None => served::latest(cx, &shared)?,
                Some(end) if end < starting_version => {
                    return Err(Error::invalid(format!(
                        "startingVersion({start}) must be smaller than or equal to endingVersion({end})."
                    )));
                }
                Some(end) if end as u64 > latest => {
                    return Err(Error::invalid(format!(
                        "Provided end version({end}) is invalid. End version cannot be greater than the latest version of the table({latest})."
                    )));
                }
                Some(end) => end as u64,
            };
            (start, end, start)
        }
    };
    let options = Options {
        include_metadata: true,
        include_protocol: body.include_historical_protocol == Some(true),
        streaming: true,
    };
    prepare(cx, who, shared, caps, range, options, paging, position)
}

/// Reads the commits a page lists and chooses the response format.
#[allow(clippy::too_many_arguments)]
fn prepare(
    cx: &Context<'_>,
    who: &Recipient,
    shared: SharedTable,
    caps: &Capabilities,
    (start, end, head): (u64, u64, u64),
    options: Options,
    paging: FilePaging,
    position: Option<Position>,
) -> Result<PreparedChanges> {
    check_start_version(&shared, start)?;
    // The start too, when the versions recipients see end before it.
    served::check(cx, &shared, start..=end.max(start))?;
    let root = table_location(cx, &shared)?;
    let head = cx.delta.snapshot(&root, VersionSpec::Version(head))?;
    let format = caps.choose_format(head.protocol(), &head.metadata().configuration)?;
    let resume = position.map_or((start, 0), |p| (p.version, p.index));
    let commits = Commits::open(&root, resume.0, end)?;
    // Checked by the first page; the log's past does not change between pages.
    let first_page = !options.streaming && resume == (start, 0);
    let feed_checked_by_walks = first_page && paging.max_files.is_none();
    if first_page {
        let commits = (!feed_checked_by_walks).then_some(&commits);
        check_change_feed(cx, &shared, (start, end), commits)?;
    }
    let partitions = partition_view(cx, who, &shared, head.metadata())?;
    let mut paging = paging;
    paging.bind_partitions(partitions.as_ref())?;
    let evidence = served::evidence(cx, &shared, head.version())?;
    Ok(PreparedChanges {
        recipient_id: who.id.clone(),
        shared,
        location: root,
        head,
        format,
        start,
        end,
        include_metadata: options.include_metadata,
        include_protocol: options.include_protocol && format == ResponseFormat::Delta,
        streaming: options.streaming,
        commits,
        partitions,
        evidence,
        paging,
        resume,
        feed_checked_by_walks,
        ids: Vec::new(),
    })
}

/// The files a commit contributes, each read once, with their action kind: for streaming
/// every data change, for the change feed the rules of the module comment.
fn changed_files<'a>(commit: &'a Commit, streaming: bool) -> Result<Vec<Changed<'a>>> {
    let read = |kind: &'static str, action: &'a Action| -> Result<Changed<'a>> {
        Ok((kind, action, commit.file_change(action)?))
    };
    if !streaming {
        let cdc: Vec<Changed<'a>> = (commit.actions.iter())
            .filter(|a| a.kind == Kind::Cdc)
            .map(|a| read("cdc", a))
            .collect::<Result<_>>()?;
        if !cdc.is_empty() {
            return Ok(cdc);
        }
        if merge_without_changes(commit) {
            return Ok(Vec::new());
        }
    }
    // Every data change, adds and removes in log order.
    let mut changes = Vec::new();
    for action in &commit.actions {
        let change = match action.kind {
            Kind::Add => read("add", action)?,
            Kind::Remove => read("remove", action)?,
            _ => continue,
        };
        if change.2.data_change {
            changes.push(change);
        }
    }
    Ok(changes)
}

/// A file of a commit: `add`, `remove` or `cdc`, its action, and what it says.
type Changed<'a> = (&'static str, &'a Action, FileChange<'a>);

/// A MERGE that inserted, updated and deleted nothing rewrote files without changing rows.
fn merge_without_changes(commit: &Commit) -> bool {
    let Some(info) = commit.info() else {
        return false;
    };
    let metric = |name: &str| info["operationMetrics"][name].as_str().unwrap_or("0") == "0";
    info["operation"] == "MERGE"
        && metric("numTargetRowsInserted")
        && metric("numTargetRowsUpdated")
        && metric("numTargetRowsDeleted")
}

/// Writes the listing (or one page of it), handing it to `emit` in chunks.
pub fn write_changes(
    cx: &Context<'_>,
    changes: &PreparedChanges,
    mut emit: impl FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<()> {
    let mut out = Vec::new();
    let head = &changes.head;
    let protocol_version = changes.include_protocol.then(|| head.version());
    match changes.format {
        ResponseFormat::Parquet => ndjson::write_protocol(&mut out),
        ResponseFormat::Delta => {
            ndjson::write_delta_protocol(&mut out, head.protocol(), protocol_version)
        }
    }
    let evidence = changes.evidence.as_ref().map(|e| &e.configuration);
    write_metadata(
        &mut out,
        changes.format,
        head.metadata(),
        head.version(),
        evidence,
    );
    let grant = UrlGrant::new(
        cx,
        &changes.shared,
        &changes.recipient_id,
        &changes.location,
    );
    let now = now_ms();
    let paging = &changes.paging;
    let scheme = paging.file_id_scheme(changes.format);
    let mut files_met = 0;
    let page = walk_page(changes, &changes.commits, |item| {
        let (commit, kind, action, file) = match item {
            Item::History(commit) => {
                write_history(&mut out, changes, commit);
                return Ok(ControlFlow::Continue(()));
            }
            Item::File {
                commit,
                kind,
                action,
                file,
            } => (commit, kind, action, file),
        };
        if file.is_absolute() {
            return Err(Error::unsupported(
                "the table's log holds absolute file paths, which cannot be shared",
            ));
        }
        let url = grant.sign(cx, &file.path, now)?;
        if let Some(md5) = changes.ids.get(files_met) {
            let _ = file.md5_memo.set(*md5);
        }
        files_met += 1;
        let mut id_buffer = [0; 64];
        let id = ndjson::file_id(&file, scheme, &mut id_buffer);
        match changes.format {
            ResponseFormat::Parquet => {
                if file.deletion_vector.is_some() {
                    return Err(Error::unsupported(
                        "a change of the table carries a deletion vector, which needs the delta response format",
                    ));
                }
                let kind = if kind == "cdc" { "cdf" } else { kind };
                ndjson::write_parquet_change(
                    &mut out,
                    kind,
                    &file,
                    id,
                    &url,
                    commit.version,
                    commit.timestamp,
                );
            }
            ResponseFormat::Delta => {
                let mut signed = action.value();
                signed["path"] = Value::String(url.url.clone());
                let mut expires = url.expires_at;
                if let Some(dv_url) = grant.sign_deletion_vector(cx, &file, now)? {
                    expires = expires.min(dv_url.expires_at);
                    signed["deletionVector"]["storageType"] = Value::from("p");
                    signed["deletionVector"]["pathOrInlineDv"] = Value::String(dv_url.url);
                }
                let mut wrapped = serde_json::Map::new();
                wrapped.insert(kind.to_string(), signed);
                ndjson::write_delta_change(
                    &mut out,
                    &Value::Object(wrapped),
                    id,
                    commit.version,
                    commit.timestamp,
                    expires,
                );
            }
        }
        if out.len() >= 256 * 1024 && emit(std::mem::take(&mut out)).is_break() {
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    if page.stopped {
        return Ok(());
    }
    let sent = page.sent;
    if paging.end_stream {
        let token = page.next.map(|(version, index)| {
            let at = Position {
                start: changes.start,
                end: changes.end,
                head: head.version(),
                version,
                index,
            };
            paging.next_page(cx, at, now)
        });
        let min_expiry = (sent > 0).then(|| grant.earliest_expiry(now));
        ndjson::write_end_stream(&mut out, token.as_deref(), None, min_expiry);
    }
    let _ = emit(out);
    Ok(())
}

/// What a page of changes holds, in order.
// One item lives at a time, on the stack of the walk: boxing the file would only add an
// allocation per change.
#[allow(clippy::large_enum_variant)]
enum Item<'a> {
    /// A commit after the start: its protocol and metadata lines come before its files.
    History(&'a Commit),
    File {
        commit: &'a Commit,
        /// `add`, `remove` or `cdc`.
        kind: &'static str,
        action: &'a Action,
        file: DataFile<'a>,
    },
}

struct Page {
    /// Files visited (or skipped as unreadable).
    sent: u64,
    /// Where the next page starts: a commit version and the index of a file in it.
    next: Option<(u64, usize)>,
    /// The visitor stopped the walk (the client went away).
    stopped: bool,
}

/// Walks this page's `commits` (those of `changes`, or a part of them) and their files, from
/// where the page token resumes to `maxFiles`.
fn walk_page(
    changes: &PreparedChanges,
    commits: &Commits,
    mut visit: impl FnMut(Item<'_>) -> Result<ControlFlow<()>>,
) -> Result<Page> {
    let paging = &changes.paging;
    let mut page = Page {
        sent: 0,
        next: None,
        stopped: false,
    };
    'commits: for commit in commits.iter() {
        let commit = commit?;
        if changes.feed_checked_by_walks {
            check_commit_feed(changes, &commit)?;
        }
        let files = changed_files(&commit, changes.streaming)?;
        let skip = if commit.version == changes.resume.0 {
            changes.resume.1
        } else {
            0
        };
        if paging.max_files == Some(page.sent) && files.len() > skip {
            page.next = Some((commit.version, skip));
            break;
        }
        if skip == 0 && commit.version > changes.start && visit(Item::History(&commit))?.is_break()
        {
            page.stopped = true;
            break;
        }
        for (index, (kind, action, change)) in files.into_iter().enumerate().skip(skip) {
            if paging.max_files == Some(page.sent) {
                page.next = Some((commit.version, index));
                break 'commits;
            }
            let Some(file) = change.file else {
                page.sent += 1;
                tracing::warn!(
                    version = commit.version,
                    "change without path or size skipped"
                );
                continue;
            };
            // Outside the recipient's partitions, a change does not exist for it.
            if let Some(partitions) = &changes.partitions
                && !partitions.matches(&file.partition_values)
            {
                continue;
            }
            page.sent += 1;
            let item = Item::File {
                commit: &commit,
                kind,
                action,
                file,
            };
            if visit(item)?.is_break() {
                page.stopped = true;
                break 'commits;
            }
        }
    }
    Ok(page)
}

/// What the files of a listing add up to, for its receipt (see `query::delivered_files`).
/// Nothing of the response leaves before its receipt, so a whole range is read in parts, one
/// per core; a page (`maxFiles`) ends where its count says, so it is read in order.
pub fn delivered_files(changes: &mut PreparedChanges) -> Result<Delivered> {
    let scheme = changes.paging.file_id_scheme(changes.format);
    let listing = &*changes;
    // The first part that failed: the parts after it stop, their work is answered by its
    // error anyway; the parts before it go on, as one of them may fail earlier in the range.
    let failed = AtomicUsize::new(usize::MAX);
    let digest = |part: usize, commits: &Commits| -> Result<(FileDigest, Vec<[u8; 16]>)> {
        let (mut digest, mut ids) = (FileDigest::default(), Vec::new());
        walk_page(listing, commits, |item| {
            if failed.load(Ordering::Relaxed) < part {
                return Ok(ControlFlow::Break(()));
            }
            if let Item::File { file, .. } = item {
                if scheme == FileIdHash::Md5 {
                    ids.push(file.log_path_md5());
                }
                digest.add(ndjson::file_id(&file, scheme, &mut [0; 64]), file.size);
            }
            Ok(ControlFlow::Continue(()))
        })
        .inspect_err(|_| {
            failed.fetch_min(part, Ordering::Relaxed);
        })?;
        Ok((digest, ids))
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = match changes.paging.max_files {
        None => changes.commits.split(cores, COMMITS_PER_THREAD),
        Some(_) => vec![changes.commits.clone()],
    };
    let digests: Vec<Result<_>> =
        std::thread::scope(|scope| {
            // A part no thread could be started for is read here, after the first.
            let (digest, parts) = (&digest, &parts);
            let others: Vec<_> = (1..parts.len())
                .map(|part| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, move || digest(part, &parts[part]))
                        .map_err(|_| part)
                })
                .collect();
            let first = digest(0, &parts[0]);
            std::iter::once(first)
                .chain(others.into_iter().map(|part| match part {
                    Ok(thread) => thread.join().unwrap_or_else(|_| {
                        Err(Error::internal("a thread reading commits failed"))
                    }),
                    Err(part) => digest(part, &parts[part]),
                }))
                .collect()
        });
    // The first error in the order of the range, as one thread would have met it.
    let mut digests = digests.into_iter();
    let (mut all, mut ids) = digests.next().expect("one part at least")?;
    for digest in digests {
        let (digest, part_ids) = digest?;
        all.append(digest);
        ids.extend(part_ids);
    }
    changes.ids = ids;
    Ok(all.finish())
}

/// A thread reads this many commits at least: fewer are not worth starting one.
const COMMITS_PER_THREAD: u64 = 64;

/// The `protocol` (when asked) and `metaData` actions of a commit after the start.
fn write_history(out: &mut Vec<u8>, changes: &PreparedChanges, commit: &Commit) {
    for action in &commit.actions {
        if changes.include_protocol
            && action.kind == Kind::Protocol
            && let Some(protocol) = Protocol::from_action(&action.value())
        {
            ndjson::write_delta_protocol(out, &protocol, Some(commit.version));
        }
        if changes.include_metadata
            && action.kind == Kind::MetaData
            && let Some(metadata) = Metadata::from_action(&action.value())
        {
            write_metadata(out, changes.format, &metadata, commit.version, None);
        }
    }
}

/// A metaData line carrying `version`.
fn write_metadata(
    out: &mut Vec<u8>,
    format: ResponseFormat,
    metadata: &Metadata,
    version: u64,
    evidence: Option<&BTreeMap<String, String>>,
) {
    let version = Some(version);
    match format {
        ResponseFormat::Parquet => ndjson::write_metadata(out, metadata, version, true, evidence),
        ResponseFormat::Delta => ndjson::write_delta_metadata(out, metadata, version, evidence),
    }
}
