//! The only file that calls delta_kernel's own API (snapshots, log replay, its unstable
//! `internal-api`); elsewhere only its re-exports of arrow, parquet and object_store are used.
//!
//! The kernel is synchronous: call these functions from a blocking thread (`web::block`,
//! `spawn_blocking`), never from an async worker. Its default engine runs its own I/O runtime.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use delta_kernel::Engine as _;
use delta_kernel::actions::deletion_vector::DeletionVectorDescriptor;
use delta_kernel::arrow::array::{Array, AsArray, RecordBatch, StructArray};
use delta_kernel::arrow::datatypes::Schema as ArrowSchema;
use delta_kernel::arrow::datatypes::{Int32Type, Int64Type};
use delta_kernel::engine::arrow_conversion::TryIntoArrow;
use delta_kernel::engine::arrow_data::ArrowEngineData;
use delta_kernel::error::KernelError;
use delta_kernel::history_manager::error::LogHistoryError;
use delta_kernel::history_manager::{self, HistoryCommitType};
use delta_kernel::snapshot::SnapshotRef;
use delta_kernel_default_engine::executor::tokio::{
    TokioBackgroundExecutor, TokioMultiThreadExecutor,
};
use delta_kernel_default_engine::{DefaultEngine, DefaultEngineBuilder};
use url::Url;

use super::file_cache::{Batch, DEFAULT_FILE_CACHE_BYTES, FileBatch, FileCache, FileList};
use super::{
    Commit, Commits, DataFile, DeletionVector, Metadata, Protocol, Stats, VersionSpec,
    split_log_path,
};
use crate::storage::Location;
use crate::{Error, Result};

type Engine = DefaultEngine<TokioBackgroundExecutor>;

/// Reads Delta logs, keeping the latest snapshot of each table so that the next request for
/// the latest version reads only the commits made since.
pub struct DeltaLog {
    /// One engine per object store (see `storage::TableStore::key`).
    engines: Mutex<HashMap<String, Arc<Engine>>>,
    /// By store and table root: the same root read with another credential is another table
    /// as far as access goes.
    latest: Mutex<HashMap<(String, Url), SnapshotRef>>,
    files: Arc<FileCache>,
}

/// A table at one version: its protocol, metadata and (lazily listed) files.
pub struct Snapshot {
    inner: SnapshotRef,
    engine: Arc<Engine>,
    location: Location,
    protocol: Protocol,
    metadata: Metadata,
}

impl Snapshot {
    pub fn version(&self) -> u64 {
        self.inner.version()
    }
    pub fn protocol(&self) -> &Protocol {
        &self.protocol
    }
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
    /// The table's columns as an Arrow schema.
    pub fn arrow_schema(&self) -> Result<ArrowSchema> {
        self.inner.schema().as_ref().try_into_arrow().map_err(
            |e: delta_kernel::arrow::error::ArrowError| {
                Error::malformed(format!("the table's schema has no Arrow form: {e}"))
            },
        )
    }
}

impl Default for DeltaLog {
    fn default() -> Self {
        Self::new()
    }
}

impl DeltaLog {
    /// A reader keeping file lists up to the default bound.
    pub fn new() -> Self {
        Self::with_file_cache(DEFAULT_FILE_CACHE_BYTES)
    }

    /// A reader keeping at most `bytes` of file lists (see `file_cache`).
    pub fn with_file_cache(bytes: usize) -> Self {
        DeltaLog {
            engines: Mutex::default(),
            latest: Mutex::new(HashMap::new()),
            files: Arc::new(FileCache::new(bytes)),
        }
    }

    /// The engine reading through the table's store.
    fn engine(&self, location: &Location) -> Arc<Engine> {
        let mut engines = self.engines.lock().unwrap_or_else(|p| p.into_inner());
        engines
            .entry(location.store.key.clone())
            .or_insert_with(|| {
                Arc::new(DefaultEngineBuilder::new(location.store.objects.clone()).build())
            })
            .clone()
    }

    /// The snapshot of the table at `location` for `at`.
    pub fn snapshot(&self, location: &Location, at: VersionSpec) -> Result<Snapshot> {
        let metrics = crate::metrics::metrics();
        let timer = metrics.snapshot_seconds.start_timer();
        let snapshot = self.read_snapshot(location, at);
        timer.observe_duration();
        metrics.snapshot_loads.inc();
        snapshot.map_err(|e| location.name_in(e))
    }

    fn read_snapshot(&self, location: &Location, at: VersionSpec) -> Result<Snapshot> {
        let root = &location.url;
        let engine = self.engine(location);
        // A version already cached needs no look at the log (later pages of a paged query).
        if let VersionSpec::Version(v) = at {
            let cached = self.lock_cache().get(&cache_key(location)).cloned();
            if let Some(cached) = cached.filter(|s| s.version() == v) {
                return Snapshot::new(cached, engine, location);
            }
        }
        let latest = self.latest(location)?;
        let inner = match at {
            VersionSpec::Latest => latest,
            VersionSpec::Version(v) if v == latest.version() => latest,
            VersionSpec::Version(v) if v > latest.version() => {
                return Err(Error::invalid(format!(
                    "Cannot load table version {v}: the latest version is {}",
                    latest.version()
                )));
            }
            VersionSpec::Version(v) => build_at(&engine, root, v)?,
            VersionSpec::Timestamp(ts) => {
                let commit = history_manager::latest_version_as_of(
                    &latest,
                    engine.as_ref(),
                    ts,
                    HistoryCommitType::Published,
                )
                .map_err(|e| timestamp_error(root, ts, e))?;
                // As Delta time travel does: a time after the last commit names no version
                // yet (the table may still change before it).
                if commit.version == latest.version() && ts > commit.timestamp {
                    let last = crate::clock::format_ms(commit.timestamp);
                    return Err(Error::invalid(format!(
                        "The provided timestamp ({}) is after the latest version available to this table (version {}, committed {last}). Please use a timestamp before or at {last}.",
                        crate::clock::format_ms(ts),
                        commit.version,
                    )));
                }
                if commit.version == latest.version() {
                    latest
                } else {
                    build_at(&engine, root, commit.version)?
                }
            }
        };
        Snapshot::new(inner, engine, location)
    }

    /// The earliest version committed at or after `ts` (ms); the first version when `ts`
    /// precedes every commit.
    pub fn version_at_or_after(&self, location: &Location, ts: i64) -> Result<u64> {
        let root = &location.url;
        let engine = self.engine(location);
        let latest = self.latest(location).map_err(|e| location.name_in(e))?;
        history_manager::first_version_after(
            &latest,
            engine.as_ref(),
            ts,
            HistoryCommitType::Published,
        )
        .map(|commit| commit.version)
        .map_err(|e| timestamp_error(root, ts, e))
    }

    /// The rows of a data file that its deletion vector removes (sorted row indexes).
    pub fn deleted_rows(&self, location: &Location, dv: &DeletionVector) -> Result<Vec<u64>> {
        let root = &location.url;
        let unreadable =
            |e: KernelError| Error::malformed(format!("unreadable deletion vector in {root}: {e}"));
        let descriptor = DeletionVectorDescriptor {
            storage_type: dv.storage_type.parse().map_err(unreadable)?,
            path_or_inline_dv: dv.path_or_inline_dv.clone(),
            offset: dv.offset,
            size_in_bytes: dv.size_in_bytes,
            cardinality: dv.cardinality,
        };
        descriptor
            .row_indexes(self.engine(location).storage_handler(), root)
            .map_err(unreadable)
    }

    /// Calls `visit` with every live data file of the snapshot, in log-replay order, until it
    /// answers `Break`. A kept list (see `file_cache`) is walked, or one kept for a version
    /// a few commits earlier is carried over them; otherwise the log is replayed
    /// on its own thread, one batch ahead of `visit`, so that reading the log and using its
    /// files overlap. That thread finishes the listing for the cache even when `visit` stops
    /// early (a limit, the first page of a paged query), unless the snapshot is too big to
    /// keep, in which case memory stays flat whatever the file count.
    pub fn for_each_file(
        &self,
        snapshot: &Snapshot,
        mut visit: impl FnMut(&DataFile<'_>) -> ControlFlow<()>,
    ) -> Result<()> {
        let root = snapshot.inner.table_root().clone();
        let (id, version) = (snapshot.metadata.id.clone(), snapshot.version());
        if let Some(list) = self.files.get(&root, &id, version) {
            list.for_each(visit);
            return Ok(());
        }
        let base = extension_base(&snapshot.inner);
        if let Some(list) = self.extended(snapshot, base) {
            crate::metrics::metrics().file_cache_extensions.inc();
            list.for_each(visit);
            self.files.insert(&root, &id, version, list);
            return Ok(());
        }
        // Ok(Some(batch)) for each batch, then Ok(None) at the end, or an Err.
        let (batches, received) = std::sync::mpsc::sync_channel::<Result<Option<Batch>>>(1);
        let (engine, inner, cache) = (
            snapshot.engine.clone(),
            snapshot.inner.clone(),
            self.files.clone(),
        );
        std::thread::spawn(move || {
            let mut list = Some(FileList::replaying(base));
            let mut listening = true;
            let replayed = replay_files(&engine, &inner, |batch| {
                let batch = Arc::new(batch);
                listening = listening && batches.send(Ok(Some(batch.clone()))).is_ok();
                if let Some(kept) = &mut list {
                    kept.push(batch);
                    if !cache.fits(kept.bytes) {
                        list = None;
                    }
                }
                listening || list.is_some()
            });
            match replayed {
                Ok(true) => {
                    // Kept before the end is announced: the listener may look for the list
                    // (see `derived`) as soon as it has seen the last file.
                    if let Some(list) = list {
                        cache.insert(&root, &id, version, list);
                    }
                    let _ = batches.send(Ok(None));
                }
                Ok(false) => {}
                Err(e) => {
                    let _ = batches.send(Err(e));
                }
            }
        });
        for message in received.iter() {
            let Some(batch) = message? else {
                return Ok(());
            };
            if batch.for_each(&mut visit).is_break() {
                return Ok(());
            }
        }
        Err(Error::internal("Delta log replay stopped unexpectedly"))
    }

    /// The snapshot's file list carried over from a kept list of an earlier version of the
    /// table, when one is close enough and started from the same checkpoint (`base`, see
    /// [`extension_base`]). Any trouble reading the commits leaves it to a replay, which reports
    /// a broken log as a cold server does.
    fn extended(&self, snapshot: &Snapshot, base: Option<Option<u64>>) -> Option<FileList> {
        let (root, version) = (snapshot.inner.table_root(), snapshot.version());
        let (from, kept) =
            self.files
                .before(root, &snapshot.metadata.id, version, MAX_EXTENSION)?;
        if !kept.extendable || base != Some(kept.checkpoint) {
            return None;
        }
        let commits = Commits::open(&snapshot.location, from + 1, version).ok()?;
        let commits: Vec<Commit> = commits.iter().collect::<Result<_>>().ok()?;
        kept.extended(&commits)
    }

    /// A value derived from every file of the snapshot (under `key`), computed by `compute`
    /// unless it was kept with the snapshot's file list; kept with it when there is one.
    pub fn derived<T: Clone + Send + Sync + 'static>(
        &self,
        snapshot: &Snapshot,
        key: &'static str,
        compute: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let root = snapshot.inner.table_root();
        let list = || {
            self.files
                .get(root, &snapshot.metadata.id, snapshot.version())
        };
        if let Some(value) = list().and_then(|list| list.derived(key)) {
            return Ok(value);
        }
        let value = compute()?;
        if let Some(list) = list() {
            list.keep_derived(key, value.clone());
        }
        Ok(value)
    }

    /// Writes a checkpoint at the latest version of the table (used by the demo and benches).
    pub fn checkpoint(&self, location: &Location) -> Result<()> {
        let root = &location.url;
        // Writing needs the kernel's multi-threaded executor: with the background executor
        // the parquet write never completes.
        let executor = TokioMultiThreadExecutor::new_owned_runtime(Some(1), None)
            .map_err(|e| table_error(root, e))?;
        let engine = DefaultEngineBuilder::new(location.store.objects.clone())
            .with_task_executor(Arc::new(executor))
            .build();
        let latest = self.latest(location)?;
        latest
            .checkpoint(&engine, None)
            .map_err(|e| table_error(root, e))?;
        Ok(())
    }

    fn latest(&self, location: &Location) -> Result<SnapshotRef> {
        let (key, root) = (cache_key(location), &location.url);
        let engine = self.engine(location);
        let cold = || {
            delta_kernel::Snapshot::builder_for(root.as_str())
                .build(engine.as_ref())
                .map_err(|e| table_error(root, e))
        };
        let cached = self.lock_cache().get(&key).cloned();
        let snapshot = match cached {
            None => cold()?,
            Some(existing) => {
                let refreshed = delta_kernel::Snapshot::builder_from(existing.clone())
                    .build(engine.as_ref())
                    .map_err(|e| table_error(root, e))?;
                // No new commit: the answer must not depend on the cache, so the log file the
                // cached snapshot ends with must still be there, whole; else read the log as
                // a cold server would (and fail as it would).
                if refreshed.version() == existing.version() && !still_in_log(location, &existing) {
                    cold()?
                } else {
                    refreshed
                }
            }
        };
        self.lock_cache().insert(key, snapshot.clone());
        Ok(snapshot)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Url), SnapshotRef>> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Versions a kept file list is carried over at most, rather than replaying the whole log.
const MAX_EXTENSION: u64 = 100;

/// The checkpoint a replay of `snapshot` starts from (inner `None`: the first commit), when
/// its file list can be extended by later commits: replay reads the commits newest first,
/// then the checkpoint, so with the same checkpoint a later version lists its new commits'
/// files before the earlier version's. `None` when the log segment holds log compactions.
fn extension_base(snapshot: &SnapshotRef) -> Option<Option<u64>> {
    let segment = snapshot.log_segment();
    (segment.listed.ascending_compaction_files.is_empty()).then_some(segment.checkpoint_version)
}

/// Whether the last log file `snapshot` was built from (its latest commit, else its
/// checkpoint) is still in the table's log with the size it had.
fn still_in_log(location: &Location, snapshot: &SnapshotRef) -> bool {
    let listed = &snapshot.log_segment().listed;
    let Some(file) = listed
        .latest_commit_file
        .as_ref()
        .or(listed.checkpoint_parts.last())
        .map(|f| &f.location)
    else {
        return false;
    };
    let Ok(path) = delta_kernel::object_store::path::Path::from_url_path(file.location.path())
    else {
        return false;
    };
    use delta_kernel::object_store::ObjectStoreExt as _;
    crate::storage::block_on(location.store.objects.head(&path))
        .is_ok_and(|meta| meta.size == file.size)
}

fn cache_key(location: &Location) -> (String, Url) {
    (location.store.key.clone(), location.url.clone())
}

fn build_at(engine: &Engine, root: &Url, version: u64) -> Result<SnapshotRef> {
    delta_kernel::Snapshot::builder_for(root.as_str())
        .at_version(version)
        .build(engine)
        .map_err(|e| table_error(root, e))
}

impl Snapshot {
    fn new(inner: SnapshotRef, engine: Arc<Engine>, location: &Location) -> Result<Self> {
        let root = &location.url;
        let config = inner.table_configuration();
        let p = config.protocol();
        let features = |list: Option<&[delta_kernel::table_features::TableFeature]>| {
            list.map(|l| l.iter().map(|f| f.to_string()).collect::<Vec<_>>())
        };
        let protocol = Protocol {
            min_reader_version: p.min_reader_version(),
            min_writer_version: p.min_writer_version(),
            reader_features: features(p.reader_features()),
            writer_features: features(p.writer_features()),
        };
        let m = config.metadata();
        let sorted = |map: &HashMap<String, String>| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        let metadata = Metadata {
            id: m.id().to_string(),
            name: m.name().map(str::to_string),
            description: m.description().map(str::to_string),
            format_provider: m.format_provider().to_string(),
            format_options: sorted(m.format_options()),
            schema_string: m.schema_string().clone(),
            partition_columns: m.partition_columns().to_vec(),
            configuration: sorted(m.configuration()),
            created_time: m.created_time(),
        };
        tracing::debug!(table = %root, version = inner.version(), "loaded snapshot");
        Ok(Snapshot {
            inner,
            engine,
            location: location.clone(),
            protocol,
            metadata,
        })
    }
}

/// Replays the log of `snapshot`, handing each batch of live files to `send` until it answers
/// false; true when every batch was handed over.
fn replay_files(
    engine: &Engine,
    snapshot: &SnapshotRef,
    mut send: impl FnMut(FileBatch) -> bool,
) -> Result<bool> {
    let root = snapshot.table_root().clone();
    let scan = snapshot
        .clone()
        .scan_builder()
        .build()
        .map_err(|e| table_error(&root, e))?;
    for metadata in scan
        .scan_metadata(engine)
        .map_err(|e| table_error(&root, e))?
    {
        let (data, selection) = metadata
            .map_err(|e| table_error(&root, e))?
            .scan_files
            .into_parts();
        let data =
            ArrowEngineData::try_from_engine_data(data).map_err(|e| table_error(&root, e))?;
        // A selection vector shorter than the batch selects the rows past its end.
        let selected = |row: usize| selection.get(row).copied().unwrap_or(true);
        let files = scan_files(data.record_batch(), selected)?;
        if !send(files) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Packs the selected files of one batch of the kernel's scan rows (see
/// `delta_kernel::scan::scan_row_schema`), reading each value where the batch holds it.
fn scan_files(batch: &RecordBatch, selected: impl Fn(usize) -> bool) -> Result<FileBatch> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| Error::internal(format!("scan row without column {name}")))
    };
    let paths = column("path")?.as_string::<i32>();
    let sizes = column("size")?.as_primitive::<Int64Type>();
    let mtimes = column("modificationTime")?.as_primitive::<Int64Type>();
    let stats = column("stats")?.as_string::<i32>();
    let dvs = column("deletionVector")?.as_struct();
    let constants = column("fileConstantValues")?.as_struct();
    let partitions = constants
        .column_by_name("partitionValues")
        .ok_or_else(|| Error::internal("scan row without partitionValues"))?
        .as_map();
    let text = paths.value_data().len() + stats.value_data().len();
    let mut files = FileBatch::with_capacity(batch.num_rows(), text);
    for row in 0..batch.num_rows() {
        if paths.is_null(row) || !selected(row) {
            continue;
        }
        let (path, encoded_path) = split_log_path(Cow::Borrowed(paths.value(row)));
        let file = DataFile {
            path,
            encoded_path,
            size: sizes.value(row),
            modification_time: mtimes.value(row),
            stats: stats
                .is_valid(row)
                .then(|| Stats::of_text(stats.value(row))),
            partition_values: Cow::Owned(BTreeMap::new()),
            deletion_vector: deletion_vector(dvs, row).map(Cow::Owned),
            md5_memo: Default::default(),
        };
        let entries = partitions.is_valid(row).then(|| partitions.value(row));
        let pairs = entries.iter().flat_map(|entries| {
            let keys = entries.column(0).as_string::<i32>();
            let values = entries.column(1).as_string::<i32>();
            (0..entries.len())
                .map(move |i| (keys.value(i), values.is_valid(i).then(|| values.value(i))))
        });
        files.push(&file, pairs);
    }
    files.shrink_to_fit();
    Ok(files)
}

fn deletion_vector(dvs: &StructArray, row: usize) -> Option<DeletionVector> {
    if dvs.is_null(row) {
        return None;
    }
    let string = |name: &str| {
        dvs.column_by_name(name)
            .map(|c| c.as_string::<i32>())
            .filter(|c| c.is_valid(row))
            .map(|c| c.value(row).to_string())
    };
    let int = |name: &str| {
        dvs.column_by_name(name)
            .map(|c| c.as_primitive::<Int32Type>())
            .filter(|c| c.is_valid(row))
            .map(|c| c.value(row))
    };
    Some(DeletionVector {
        storage_type: string("storageType")?,
        path_or_inline_dv: string("pathOrInlineDv")?,
        offset: int("offset"),
        size_in_bytes: int("sizeInBytes")?,
        cardinality: dvs
            .column_by_name("cardinality")
            .map(|c| c.as_primitive::<Int64Type>())
            .filter(|c| c.is_valid(row))
            .map(|c| c.value(row))?,
    })
}

/// The error itself, without backtrace wrappers.
fn kernel_error(mut k: &KernelError) -> &KernelError {
    while let KernelError::Backtraced { source, .. } = k {
        k = source;
    }
    k
}

/// Turns a kernel failure into a protocol error. The full error (with storage paths) goes to
/// the server log only: recipients must not learn where the provider keeps its files.
fn table_error(root: &Url, e: KernelError) -> Error {
    let k = kernel_error(&e);
    tracing::warn!(table = %root, error = %e, "cannot read Delta table");
    match k {
        KernelError::Unsupported(m) => Error::unsupported(format!(
            "the table uses Delta features this server cannot read: {m}"
        )),
        KernelError::InvalidProtocol(m) => {
            Error::unsupported(format!("the table's Delta protocol is not supported: {m}"))
        }
        KernelError::FileNotFound(_) | KernelError::EmptyLog | KernelError::MissingVersion(_) => {
            Error::malformed("the table's Delta log is missing or incomplete at the table location")
        }
        KernelError::MissingMetadata
        | KernelError::MissingProtocol
        | KernelError::MissingMetadataAndProtocol => {
            Error::malformed("the table's Delta log has no protocol or metadata action")
        }
        KernelError::InvalidLogSegment(_) | KernelError::InvalidCheckpoint(_) => Error::malformed(
            "the table's Delta log is inconsistent (missing commits or a damaged checkpoint)",
        ),
        KernelError::ObjectStore(e) => crate::storage::storage_error(e),
        _ => Error::malformed("the table's Delta log cannot be read; see the server log"),
    }
}

fn timestamp_error(root: &Url, ts: i64, e: KernelError) -> Error {
    let when = crate::clock::format_ms(ts);
    if let KernelError::LogHistory(h) = kernel_error(&e)
        && let LogHistoryError::TimestampOutOfRange { reason, .. } = h.as_ref()
    {
        return Error::invalid(format!(
            "The provided timestamp ({when}) is out of range: {reason}"
        ));
    }
    table_error(root, e)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use delta_kernel::arrow::array::{Int64Array, RecordBatch};
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::ErrorCode;
    use crate::delta::writer::{AddFile, TableWriter};

    fn ids(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    /// v0 create, v1 adds `a` (eu) and `b` (us), v2 adds `c` (eu, odd file name), v3 removes `a`.
    fn sample(root: &Path) -> (TableWriter, Vec<AddFile>) {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("region", DataType::Utf8, true),
        ]);
        let mut table = TableWriter::create(root, "t", "d", &schema, &["region"], &[]).unwrap();
        let a = table
            .write_file(&ids(&[1, 2]), &[("region", "eu")])
            .unwrap();
        let b = table.write_file(&ids(&[3]), &[("region", "us")]).unwrap();
        table.commit("WRITE", &[a.clone(), b.clone()], &[]).unwrap();
        let c = table
            .write_file(&ids(&[4]), &[("region", "eu west")])
            .unwrap();
        table
            .commit("WRITE", std::slice::from_ref(&c), &[])
            .unwrap();
        table
            .commit("DELETE", &[], std::slice::from_ref(&a))
            .unwrap();
        (table, vec![a, b, c])
    }

    #[test]
    fn a_kept_list_carried_over_later_commits_lists_what_a_replay_lists() {
        let dir = tempfile::tempdir().unwrap();
        let (mut table, files) = sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        // In order, as page tokens count them.
        let listed = |log: &DeltaLog| {
            let snapshot = log.snapshot(&root, VersionSpec::Latest).unwrap();
            let mut found = Vec::new();
            log.for_each_file(&snapshot, |f| {
                found.push((
                    f.log_path().to_string(),
                    f.size,
                    f.partition_values.as_ref().clone(),
                ));
                ControlFlow::Continue(())
            })
            .unwrap();
            found
        };
        let log = DeltaLog::new();
        assert_eq!(listed(&log).len(), 2, "the list of version 3 is kept");
        // Version 4 removes b and adds two files; version 5 writes c again (replay lists the
        // newer add only) and a file of a partition whose name the log encodes.
        let d = table.write_file(&ids(&[5]), &[("region", "us")]).unwrap();
        let e = table.write_file(&ids(&[6]), &[("region", "eu")]).unwrap();
        table
            .commit("WRITE", &[d, e], std::slice::from_ref(&files[1]))
            .unwrap();
        let f = table
            .write_file(&ids(&[7]), &[("region", "eu west")])
            .unwrap();
        table.commit("WRITE", &[files[2].clone(), f], &[]).unwrap();
        let extended = || crate::metrics::metrics().file_cache_extensions.get();
        let before = extended();
        let carried = listed(&log);
        assert!(extended() > before, "carried over, not replayed");
        assert_eq!(carried, listed(&DeltaLog::with_file_cache(0)));
        assert_eq!(carried.len(), 4);
        // A checkpoint since: replay starts from it, and lists in another order.
        log.checkpoint(&root).unwrap();
        let g = table.write_file(&ids(&[8]), &[("region", "us")]).unwrap();
        table.commit("WRITE", &[g], &[]).unwrap();
        let before = extended();
        let replayed = listed(&log);
        assert_eq!(extended(), before, "replayed from the checkpoint");
        assert_eq!(replayed, listed(&DeltaLog::with_file_cache(0)));
    }

    fn paths(log: &DeltaLog, snapshot: &Snapshot) -> Vec<String> {
        let mut found = Vec::new();
        log.for_each_file(snapshot, |f| {
            found.push(f.path.to_string());
            ControlFlow::Continue(())
        })
        .unwrap();
        found.sort();
        found
    }

    fn sorted(files: &[&AddFile]) -> Vec<String> {
        let mut p: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        p.sort();
        p
    }

    #[test]
    fn snapshots_at_latest_and_at_versions() {
        let dir = tempfile::tempdir().unwrap();
        let (_, files) = sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        let log = DeltaLog::new();
        let latest = log.snapshot(&root, VersionSpec::Latest).unwrap();
        assert_eq!(latest.version(), 3);
        assert_eq!(latest.protocol().min_reader_version, 1);
        assert_eq!(latest.metadata().partition_columns, ["region"]);
        assert_eq!(latest.metadata().name.as_deref(), Some("t"));
        assert_eq!(paths(&log, &latest), sorted(&[&files[1], &files[2]]));
        let v1 = log.snapshot(&root, VersionSpec::Version(1)).unwrap();
        assert_eq!(paths(&log, &v1), sorted(&[&files[0], &files[1]]));
        let e = log.snapshot(&root, VersionSpec::Version(9)).err().unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidParameterValue);
    }

    #[test]
    fn files_carry_decoded_paths_partition_values_and_raw_stats() {
        let dir = tempfile::tempdir().unwrap();
        let (_, files) = sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        let log = DeltaLog::new();
        let snapshot = log.snapshot(&root, VersionSpec::Latest).unwrap();
        let mut found = Vec::new();
        log.for_each_file(&snapshot, |f| {
            found.push(f.clone().into_owned());
            ControlFlow::Continue(())
        })
        .unwrap();
        let c = found
            .iter()
            .find(|f| f.path == files[2].path)
            .expect("file c listed");
        assert!(c.path.starts_with("region=eu west/"), "decoded: {}", c.path);
        assert!(dir.path().join(&*c.path).is_file());
        assert_eq!(c.partition_values["region"].as_deref(), Some("eu west"));
        assert_eq!(c.size, files[2].size);
        let stats: serde_json::Value =
            serde_json::from_str(&c.stats.as_ref().unwrap().text()).unwrap();
        assert_eq!(stats["numRecords"], 1);
        assert!(c.deletion_vector.is_none());
        // Break stops the listing.
        let mut seen = 0;
        log.for_each_file(&snapshot, |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(seen, 1);
    }

    #[test]
    fn the_cached_latest_snapshot_sees_new_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (mut table, _) = sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        let log = DeltaLog::new();
        assert_eq!(
            log.snapshot(&root, VersionSpec::Latest).unwrap().version(),
            3
        );
        let d = table.write_file(&ids(&[5]), &[("region", "us")]).unwrap();
        table.commit("WRITE", &[d], &[]).unwrap();
        let latest = log.snapshot(&root, VersionSpec::Latest).unwrap();
        assert_eq!(latest.version(), 4);
        assert_eq!(paths(&log, &latest).len(), 3);
        log.checkpoint(&root).unwrap();
        assert!(
            dir.path()
                .join("_delta_log/00000000000000000004.checkpoint.parquet")
                .is_file()
        );
        assert_eq!(
            paths(&log, &log.snapshot(&root, VersionSpec::Latest).unwrap()).len(),
            3
        );
    }

    #[test]
    fn timestamps_resolve_to_versions() {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        let log = DeltaLog::new();
        assert_eq!(log.version_at_or_after(&root, 0).unwrap(), 0);
        let far_future = crate::clock::now_ms() + 3_600_000;
        let e = log
            .snapshot(&root, VersionSpec::Timestamp(far_future))
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidParameterValue, "{e}");
        assert!(
            e.message()
                .contains("is after the latest version available"),
            "{e}"
        );
        let e = log
            .snapshot(&root, VersionSpec::Timestamp(0))
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidParameterValue, "{e}");
        let e = log.version_at_or_after(&root, far_future).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidParameterValue, "{e}");
    }

    #[test]
    fn listed_files_are_kept_even_when_the_visitor_stops_early() {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path());
        let root = Location::local(Url::from_directory_path(dir.path()).unwrap());
        let log = DeltaLog::new();
        let snapshot = log.snapshot(&root, VersionSpec::Latest).unwrap();
        log.for_each_file(&snapshot, |_| ControlFlow::Break(()))
            .unwrap();
        // The replay thread finishes the list after the visitor stopped.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let id = snapshot.metadata().id.clone();
        while log.files.get(&root.url, &id, 3).is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the list was not kept"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(log.files.get(&root.url, &id, 3).unwrap().files, 2);
        // A kept list gives the same files as the replay.
        let fresh = DeltaLog::new();
        let replayed = paths(&fresh, &fresh.snapshot(&root, VersionSpec::Latest).unwrap());
        assert_eq!(paths(&log, &snapshot), replayed);
    }

    #[test]
    fn missing_tables_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::local(Url::from_directory_path(dir.path().join("nothing")).unwrap());
        let e = DeltaLog::new()
            .snapshot(&root, VersionSpec::Latest)
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::MalformedRequest);
        assert!(
            !e.message().contains(dir.path().to_str().unwrap()),
            "no paths leak: {e}"
        );
    }
}
