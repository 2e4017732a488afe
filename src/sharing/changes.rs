//! Per-commit listings of a table shared `WITH HISTORY` (protocol.md §3):
//! - `GET …/changes`, the change data feed: for every commit of the range its `cdc` files when
//!   it wrote any; nothing for a MERGE that changed no row; otherwise its data-changing `add`
//!   and `remove` files (readers label them insert and delete);
//! - `POST …/query` with `startingVersion` (streaming readers): every data-changing `add` and
//!   `remove`, and each later `metaData`.
//!
//! Every line carries the commit's version and timestamp.

use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::Value;

use super::capabilities::{Capabilities, ResponseFormat};
use super::ndjson::{self, FileIdHash};
use super::query::{TablePath, check_start_version, history_required, parse_timestamp, table_root};
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::clock::now_ms;
use crate::delta::{Commit, DataFile, Metadata, Snapshot, VersionSpec};
use crate::state::AppState;
use crate::{Error, Result};

/// Query parameters of `/changes`, as sent (numbers and booleans are checked here: Python
/// sends booleans as `True`/`False`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangesParams {
    pub starting_version: Option<String>,
    pub starting_timestamp: Option<String>,
    pub ending_version: Option<String>,
    pub ending_timestamp: Option<String>,
    pub include_historical_metadata: Option<String>,
}

/// A change feed request, checked and resolved.
pub struct PreparedChanges {
    shared: SharedTable,
    /// The snapshot of the first two lines: at the start with historical metadata, else latest.
    head: Snapshot,
    format: ResponseFormat,
    start: u64,
    include_history: bool,
    /// A `startingVersion` query: no `cdc` files, every data change.
    streaming: bool,
    commits: Vec<Commit>,
}

impl PreparedChanges {
    /// The `Delta-Table-Version` header: the starting version.
    pub fn version(&self) -> u64 {
        self.start
    }
    pub fn capabilities_header(&self) -> String {
        format!("responseformat={}", self.format.as_str())
    }
}

fn version_param(name: &str, text: Option<&str>) -> Result<Option<u64>> {
    text.map(|t| {
        let v: i64 = t
            .trim()
            .parse()
            .map_err(|_| Error::invalid(format!("{name} is not a valid number.")))?;
        u64::try_from(v).map_err(|_| Error::invalid(format!("{name} cannot be negative.")))
    })
    .transpose()
}

fn change_feed_on(metadata: &Metadata) -> bool {
    metadata
        .configuration
        .get("delta.enableChangeDataFeed")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

pub fn prepare_changes(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    params: &ChangesParams,
) -> Result<PreparedChanges> {
    let shared = path.resolve(state, who)?;
    if !shared.history {
        return Err(Error::invalid(format!(
            "cdf is not enabled on table {}.{}.{}: it is not shared WITH HISTORY",
            shared.share, shared.schema, shared.name
        )));
    }
    let starting_version = version_param("startingVersion", params.starting_version.as_deref())?;
    let ending_version = version_param("endingVersion", params.ending_version.as_deref())?;
    let root = table_root(&shared)?;
    let latest = state.delta.snapshot(&root, VersionSpec::Latest)?.version();
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
        (None, Some(ts)) => state
            .delta
            .version_at_or_after(&root, parse_timestamp(ts)?)?,
    };
    let end = match (ending_version, &params.ending_timestamp) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "Multiple ending arguments provided for CDF read. Please provide one of either endingTimestamp or endingVersion.",
            ));
        }
        (None, None) => latest,
        // Like the reference server: an ending version past the latest is clamped.
        (Some(v), None) => v.min(latest),
        (None, Some(ts)) => state
            .delta
            .snapshot(&root, VersionSpec::Timestamp(parse_timestamp(ts)?))?
            .version(),
    };
    if start > latest {
        return Err(Error::invalid(format!(
            "Provided Start version({start}) for reading change data is invalid. Start version cannot be greater than the latest version of the table({latest})."
        )));
    }
    if end < start {
        return Err(Error::invalid(format!(
            "CDF range from start {start} to end {end} was invalid. End cannot be before start."
        )));
    }
    check_start_version(&shared, start)?;
    let not_recorded = |version: u64| {
        Error::invalid(format!(
            "Error getting change data for range [{start}, {end}] as change data was not recorded for version [{version}]"
        ))
    };
    let at_start = state.delta.snapshot(&root, VersionSpec::Version(start))?;
    if !change_feed_on(at_start.metadata()) {
        return Err(not_recorded(start));
    }
    let commits = state.delta.commits(&root, start, end)?;
    for commit in &commits {
        for action in &commit.actions {
            if let Some(metadata) = Metadata::from_action(&action["metaData"])
                && !change_feed_on(&metadata)
            {
                return Err(not_recorded(commit.version));
            }
        }
    }
    let include_history = params
        .include_historical_metadata
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let head = if include_history {
        at_start
    } else {
        state.delta.snapshot(&root, VersionSpec::Latest)?
    };
    let format = caps.choose_format(head.protocol(), &head.metadata().configuration)?;
    Ok(PreparedChanges {
        shared,
        head,
        format,
        start,
        include_history,
        streaming: false,
        commits,
    })
}

/// Checks a `POST …/query` with `startingVersion` (and optionally `endingVersion`).
pub fn prepare_streaming(
    state: &AppState,
    who: &Recipient,
    path: &TablePath,
    caps: &Capabilities,
    (starting_version, ending_version): (i64, Option<i64>),
) -> Result<PreparedChanges> {
    let shared = path.resolve(state, who)?;
    if !shared.history {
        return Err(history_required(&shared));
    }
    let start = u64::try_from(starting_version)
        .map_err(|_| Error::invalid("startingVersion cannot be negative."))?;
    let root = table_root(&shared)?;
    let latest = state.delta.snapshot(&root, VersionSpec::Latest)?.version();
    if start > latest {
        return Err(Error::invalid(format!(
            "Provided Start version({start}) for reading change data is invalid. Start version cannot be greater than the latest version of the table({latest})."
        )));
    }
    let end = match ending_version {
        None => latest,
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
    check_start_version(&shared, start)?;
    let head = state.delta.snapshot(&root, VersionSpec::Version(start))?;
    let format = caps.choose_format(head.protocol(), &head.metadata().configuration)?;
    let commits = state.delta.commits(&root, start, end)?;
    Ok(PreparedChanges {
        shared,
        head,
        format,
        start,
        include_history: true,
        streaming: true,
        commits,
    })
}

/// The files a commit contributes, with their action kind: for streaming every data change,
/// for the change feed the rules of the module comment.
fn changed_files(commit: &Commit, streaming: bool) -> Vec<(&'static str, &Value)> {
    let data_changes = || -> Vec<(&'static str, &Value)> {
        commit
            .actions
            .iter()
            .flat_map(|a| [("add", &a["add"]), ("remove", &a["remove"])])
            .filter(|(_, action)| {
                action.is_object() && action["dataChange"].as_bool() != Some(false)
            })
            .collect()
    };
    if streaming {
        return data_changes();
    }
    let cdc: Vec<(&'static str, &Value)> = commit
        .actions
        .iter()
        .filter(|a| a.get("cdc").is_some())
        .map(|a| ("cdc", &a["cdc"]))
        .collect();
    if !cdc.is_empty() {
        return cdc;
    }
    if merge_without_changes(commit) {
        return Vec::new();
    }
    data_changes()
}

/// A MERGE that inserted, updated and deleted nothing rewrote files without changing rows.
fn merge_without_changes(commit: &Commit) -> bool {
    commit.actions.iter().any(|a| {
        let info = &a["commitInfo"];
        let metric = |name: &str| info["operationMetrics"][name].as_str().unwrap_or("0") == "0";
        info["operation"] == "MERGE"
            && metric("numTargetRowsInserted")
            && metric("numTargetRowsUpdated")
            && metric("numTargetRowsDeleted")
    })
}

/// Writes the whole change feed, handing it to `emit` in chunks.
pub fn write_changes(
    state: &AppState,
    changes: &PreparedChanges,
    mut emit: impl FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<()> {
    let mut out = Vec::new();
    let head = &changes.head;
    write_metadata_lines(&mut out, changes, head.metadata(), head.version(), true);
    let table_id = &changes.shared.table.id;
    let now = now_ms();
    for commit in &changes.commits {
        if changes.include_history && commit.version > changes.start {
            for metadata in commit
                .actions
                .iter()
                .filter_map(|a| Metadata::from_action(&a["metaData"]))
            {
                write_metadata_lines(&mut out, changes, &metadata, commit.version, false);
            }
        }
        for (kind, action) in changed_files(commit, changes.streaming) {
            let Some(file) = DataFile::from_action(action) else {
                tracing::warn!(
                    version = commit.version,
                    "change without path or size skipped"
                );
                continue;
            };
            if file.is_absolute() {
                return Err(Error::unsupported(
                    "the table's log holds absolute file paths, which cannot be shared",
                ));
            }
            let url = state.signer.sign(table_id, &file.path, now);
            let mut id_buffer = [0; 64];
            let id = ndjson::file_id(&file.path, FileIdHash::default(), &mut id_buffer);
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
                    let mut signed = action.clone();
                    signed["path"] = Value::String(url.url.clone());
                    let mut expires = url.expires_at;
                    if let Some(Ok(dv_path)) =
                        file.deletion_vector.as_ref().and_then(|dv| dv.file_path())
                    {
                        let dv_url = state.signer.sign(table_id, &dv_path, now);
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
                return Ok(());
            }
        }
    }
    let _ = emit(out);
    Ok(())
}

/// The protocol line (head only) and a metaData line carrying `version`.
fn write_metadata_lines(
    out: &mut Vec<u8>,
    changes: &PreparedChanges,
    metadata: &Metadata,
    version: u64,
    head: bool,
) {
    match changes.format {
        ResponseFormat::Parquet => {
            if head {
                ndjson::write_protocol(out);
            }
            ndjson::write_metadata(out, metadata, Some(version), true);
        }
        ResponseFormat::Delta => {
            if head {
                ndjson::write_delta_protocol(out, changes.head.protocol());
            }
            ndjson::write_delta_metadata(out, metadata, Some(version));
        }
    }
}
