//! The live files of recently listed snapshots, kept in memory, packed.
//!
//! A snapshot's files never change, and the same snapshots are listed again and again (every
//! recipient reading the latest version, every page of a paged query, every refresh). Replaying
//! a 100,000-file log costs ~170 ms; walking a kept list costs a few. A list is kept as the
//! batches log replay produced, each packed: the text of its files (paths and stats) back to
//! back in one string (a path less the start it shares with the one before), their numbers in
//! columns, their partition values once per distinct set. A file so costs its text plus 40 to
//! 50 bytes (a `DataFile` of its own costs ~1 KiB), and walking a batch lends out views into
//! it, copying only each path (into one buffer). Lists are bounded in total bytes (least
//! recently used dropped first); a snapshot bigger than the bound is never kept: it is replayed
//! each time, with flat memory, as without the cache. When a table moves on by a few commits,
//! the list of its new version is the kept one carried over those commits ([`FileList::extended`])
//! rather than a replay of the whole log.

use std::any::Any;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use url::Url;

use super::{Commit, DataFile, DeletionVector, FileChange, Kind, PartitionValues, Stats};

/// The default bound of the kept lists: about two million files of a typical table.
pub const DEFAULT_FILE_CACHE_BYTES: usize = 512 << 20;
/// A list unused this long is dropped.
const IDLE: Duration = Duration::from_secs(15 * 60);
/// The stats length of a file without stats.
const NO_STATS: u32 = u32::MAX;

/// The files of one batch of log replay, packed.
#[derive(Default)]
pub struct FileBatch {
    /// Per file: its path less the start it shares with the previous file's path (files of a
    /// batch come in log order: a directory, a common name prefix), its log spelling when that
    /// differs, its stats (escaped).
    text: String,
    /// Per file: the length of its path's start shared with the previous path (at most 255).
    shared: Vec<u8>,
    /// Per file: the lengths of the rest of its path, of its log spelling (0: the same as the
    /// path) and of its stats ([`NO_STATS`]: none).
    lengths: Vec<[u32; 3]>,
    sizes: Numbers,
    modification_times: Numbers,
    /// The MD5 of each log path (the parquet format's file id), computed while packing: every
    /// walk of a kept list would need it again.
    md5s: Vec<[u8; 16]>,
    /// Per file, its index in `partition_sets`.
    partitions: Vec<u32>,
    partition_sets: Vec<PartitionValues>,
    /// Where a partition set is in `partition_sets`, by [`partition_key`].
    partition_index: HashMap<String, u32>,
    /// The deletion vectors of the files that have one, by file index, in order.
    deletion_vectors: Vec<(u32, DeletionVector)>,
    /// The path of the last file packed.
    last_path: String,
}

/// Numbers of a batch (file sizes, times), kept as 32-bit differences from the first while
/// they fit (sizes within 2 GiB of the first, times within 24 days: the files of a batch
/// are mostly written together), as they are once one does not.
#[derive(Default)]
struct Numbers {
    first: i64,
    differences: Vec<i32>,
    /// Every number, once one did not fit in a difference.
    wide: Vec<i64>,
}

impl Numbers {
    fn push(&mut self, n: i64) {
        if !self.wide.is_empty() {
            return self.wide.push(n);
        }
        if self.differences.is_empty() {
            self.first = n;
        }
        match n
            .checked_sub(self.first)
            .and_then(|d| i32::try_from(d).ok())
        {
            Some(difference) => self.differences.push(difference),
            None => {
                self.wide = (0..self.differences.len()).map(|i| self.get(i)).collect();
                self.wide.push(n);
                self.differences = Vec::new();
            }
        }
    }

    fn get(&self, index: usize) -> i64 {
        match self.wide.is_empty() {
            true => self.first + i64::from(self.differences[index]),
            false => self.wide[index],
        }
    }

    fn with_capacity(numbers: usize) -> Self {
        Numbers {
            differences: Vec::with_capacity(numbers),
            ..Numbers::default()
        }
    }

    fn shrink_to_fit(&mut self) {
        self.differences.shrink_to_fit();
        self.wide.shrink_to_fit();
    }

    fn bytes(&self) -> usize {
        self.differences.capacity() * size_of::<i32>() + self.wide.capacity() * size_of::<i64>()
    }
}

impl FileBatch {
    pub fn with_capacity(files: usize, text: usize) -> Self {
        FileBatch {
            text: String::with_capacity(text),
            shared: Vec::with_capacity(files),
            lengths: Vec::with_capacity(files),
            sizes: Numbers::with_capacity(files),
            modification_times: Numbers::with_capacity(files),
            md5s: Vec::with_capacity(files),
            partitions: Vec::with_capacity(files),
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Gives back what packing reserved and did not use (escaped stats outgrow the estimate,
    /// shared path starts leave it short), and the last path: a file packed later shares no
    /// start.
    pub fn shrink_to_fit(&mut self) {
        self.last_path = String::new();
        self.text.shrink_to_fit();
        self.shared.shrink_to_fit();
        self.lengths.shrink_to_fit();
        self.sizes.shrink_to_fit();
        self.modification_times.shrink_to_fit();
        self.md5s.shrink_to_fit();
        self.partitions.shrink_to_fit();
    }

    /// Packs one more file; its partition values are `(column, value)` pairs.
    pub fn push<'p>(
        &mut self,
        file: &DataFile<'_>,
        partition_values: impl Iterator<Item = (&'p str, Option<&'p str>)> + Clone,
    ) {
        let length = |text: &str| u32::try_from(text.len()).expect("a path or stats under 4 GiB");
        let log_path = file.encoded_path.as_deref().unwrap_or_default();
        let stats = file.stats.as_ref().map(Stats::as_escaped);
        let mut shared = (self.last_path.bytes().zip(file.path.bytes()))
            .take(u8::MAX.into())
            .take_while(|(a, b)| a == b)
            .count();
        while !file.path.is_char_boundary(shared) {
            shared -= 1;
        }
        let rest = &file.path[shared..];
        self.text.push_str(rest);
        self.text.push_str(log_path);
        self.text.push_str(stats.unwrap_or_default());
        self.shared.push(shared as u8);
        self.lengths.push([
            length(rest),
            length(log_path),
            stats.map_or(NO_STATS, length),
        ]);
        self.last_path.replace_range(.., &file.path);
        self.sizes.push(file.size);
        self.modification_times.push(file.modification_time);
        self.md5s.push(file.log_path_md5());
        let partition = self.partition(partition_values);
        self.partitions.push(partition);
        if let Some(dv) = &file.deletion_vector {
            let index = u32::try_from(self.len() - 1).expect("a batch under 4 billion files");
            self.deletion_vectors.push((index, dv.as_ref().clone()));
        }
    }

    /// The index of a partition set, added when new.
    fn partition<'p>(
        &mut self,
        values: impl Iterator<Item = (&'p str, Option<&'p str>)> + Clone,
    ) -> u32 {
        let key = partition_key(values.clone());
        if let Some(index) = self.partition_index.get(&key) {
            return *index;
        }
        let index = u32::try_from(self.partition_sets.len()).expect("under 4 billion sets");
        self.partition_sets.push(
            values
                .map(|(column, value)| (column.to_string(), value.map(str::to_string)))
                .collect(),
        );
        self.partition_index.insert(key, index);
        index
    }

    /// Hands `visit` a view of each file, in order, until it answers `Break`.
    pub fn for_each(
        &self,
        mut visit: impl FnMut(&DataFile<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut at = 0;
        let mut text = |length: u32| {
            let piece = &self.text[at..at + length as usize];
            at += length as usize;
            piece
        };
        let mut vectors = self.deletion_vectors.iter().peekable();
        let mut path = String::new();
        for (index, [rest, log_path, stats]) in self.lengths.iter().enumerate() {
            path.truncate(self.shared[index].into());
            path.push_str(text(*rest));
            let file = DataFile {
                path: Cow::Borrowed(&path),
                encoded_path: (*log_path > 0).then(|| Cow::Borrowed(text(*log_path))),
                stats: (*stats != NO_STATS).then(|| Stats::escaped(Cow::Borrowed(text(*stats)))),
                size: self.sizes.get(index),
                modification_time: self.modification_times.get(index),
                partition_values: Cow::Borrowed(
                    &self.partition_sets[self.partitions[index] as usize],
                ),
                deletion_vector: vectors
                    .next_if(|(at, _)| *at as usize == index)
                    .map(|(_, dv)| Cow::Borrowed(dv)),
                md5_memo: OnceLock::from(self.md5s[index]),
            };
            visit(&file)?;
        }
        ControlFlow::Continue(())
    }

    /// The memory the batch holds.
    pub fn bytes(&self) -> usize {
        let sets: usize = self
            .partition_sets
            .iter()
            .flatten()
            .map(|(column, value)| column.len() + value.as_ref().map_or(0, String::len) + 64)
            .sum();
        let index: usize = self.partition_index.keys().map(|k| k.len() + 40).sum();
        let vectors: usize = self
            .deletion_vectors
            .iter()
            .map(|(_, dv)| size_of::<(u32, DeletionVector)>() + dv.path_or_inline_dv.len() + 8)
            .sum();
        size_of::<Self>()
            + self.text.capacity()
            + self.last_path.capacity()
            + self.shared.capacity()
            + self.lengths.capacity() * size_of::<[u32; 3]>()
            + self.sizes.bytes()
            + self.modification_times.bytes()
            + self.md5s.capacity() * 16
            + self.partitions.capacity() * size_of::<u32>()
            + sets
            + index
            + vectors
    }
}

/// One string naming a partition set, to find it again without building it.
fn partition_key<'p>(values: impl Iterator<Item = (&'p str, Option<&'p str>)>) -> String {
    let mut key = String::new();
    for (column, value) in values {
        key.push_str(column);
        match value {
            Some(value) => {
                key.push('\u{1}');
                key.push_str(value);
            }
            None => key.push('\u{2}'),
        }
        key.push('\u{0}');
    }
    key
}

/// A batch shared by the replay thread, its listener and the cache, without copies.
pub type Batch = Arc<FileBatch>;

/// Every live file of one snapshot, and what was derived from all of them.
#[derive(Default)]
pub struct FileList {
    pub batches: Vec<Batch>,
    pub files: usize,
    pub bytes: usize,
    /// Whether later commits may extend the list (see [`FileList::extended`]): not when the
    /// replay read log compactions, whose order a walk over commits does not repeat.
    pub extendable: bool,
    /// The checkpoint the list's replay started from (`None`: the first commit).
    pub checkpoint: Option<u64>,
    derived: Mutex<HashMap<&'static str, Arc<dyn Any + Send + Sync>>>,
}

/// A file's partition values as [`FileBatch::push`] takes them.
fn pairs(values: &PartitionValues) -> impl Iterator<Item = (&str, Option<&str>)> + Clone {
    values.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
}

impl FileList {
    /// An empty list for a replay that starts from checkpoint `base` (inner `None`: the first
    /// commit), or from a log later commits cannot extend (`None`).
    pub fn replaying(base: Option<Option<u64>>) -> Self {
        FileList {
            extendable: base.is_some(),
            checkpoint: base.flatten(),
            ..FileList::default()
        }
    }

    /// The list carried over `commits`, the commits right after its version in order, as a
    /// replay from the same checkpoint lists them (page tokens count on that order): their
    /// live files, newest commit first and each in its own order, then this list's files
    /// less those the commits removed or added again, a file being its path as the log writes
    /// it. `None` when a commit holds what only a replay reads right (a deletion vector, whose
    /// identity replay derives its own way; a file action without a size). The batches no
    /// commit touched are shared with this list, and counted in both lists' bytes: the bound
    /// errs on the safe side.
    pub fn extended(&self, commits: &[Commit]) -> Option<FileList> {
        let mut seen = HashSet::new();
        let mut list = FileList::replaying(Some(self.checkpoint));
        for commit in commits.iter().rev() {
            let mut batch = FileBatch::default();
            for action in &commit.actions {
                if !matches!(action.kind, Kind::Add | Kind::Remove) {
                    continue;
                }
                let file = FileChange::of(&action.body)?.file?;
                if file.deletion_vector.is_some() {
                    return None;
                }
                if seen.insert(file.log_path().to_string()) && action.kind == Kind::Add {
                    batch.push(&file, pairs(&file.partition_values));
                }
            }
            list.push_packed(batch);
        }
        // A file with a deletion vector is another file to replay than its path alone.
        let gone = |f: &DataFile<'_>| f.deletion_vector.is_none() && seen.contains(f.log_path());
        for batch in &self.batches {
            let touched = batch
                .for_each(|f| {
                    if gone(f) {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .is_break();
            if !touched {
                list.push(batch.clone());
                continue;
            }
            let mut kept = FileBatch::default();
            let _ = batch.for_each(|f| {
                if !gone(f) {
                    kept.push(f, pairs(&f.partition_values));
                }
                ControlFlow::Continue(())
            });
            list.push_packed(kept);
        }
        Some(list)
    }

    /// Adds a batch just packed, unless it is empty.
    fn push_packed(&mut self, mut batch: FileBatch) {
        if batch.len() > 0 {
            batch.shrink_to_fit();
            self.push(Arc::new(batch));
        }
    }

    pub fn push(&mut self, batch: Batch) {
        self.files += batch.len();
        self.bytes += batch.bytes();
        self.batches.push(batch);
    }

    /// Hands `visit` every file, in order, until it answers `Break`.
    pub fn for_each(&self, mut visit: impl FnMut(&DataFile<'_>) -> ControlFlow<()>) {
        for batch in &self.batches {
            if batch.for_each(&mut visit).is_break() {
                return;
            }
        }
    }

    /// The value derived from every file under `key`, if one was kept.
    pub fn derived<T: Clone + Send + Sync + 'static>(&self, key: &'static str) -> Option<T> {
        let derived = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        derived.get(key)?.downcast_ref::<T>().cloned()
    }

    /// Keeps a value derived from every file.
    pub fn keep_derived<T: Send + Sync + 'static>(&self, key: &'static str, value: T) {
        let mut derived = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        derived.insert(key, Arc::new(value));
    }
}

/// Table location, table id (a table recreated at the same place has a new one), version.
type Key = (Url, String, u64);

pub struct FileCache {
    max_bytes: usize,
    lists: Mutex<HashMap<Key, (Arc<FileList>, Instant)>>,
}

impl FileCache {
    /// A cache keeping at most `max_bytes` of file lists (0 keeps none).
    pub fn new(max_bytes: usize) -> Self {
        FileCache {
            max_bytes,
            lists: Mutex::default(),
        }
    }

    /// Whether a list of this size may be kept.
    pub fn fits(&self, bytes: usize) -> bool {
        bytes <= self.max_bytes
    }

    /// The files of the snapshot of table `id` at `root` at `version`, if kept.
    pub fn get(&self, root: &Url, id: &str, version: u64) -> Option<Arc<FileList>> {
        let mut lists = self.lock();
        let found = lists.get_mut(&(root.clone(), id.to_string(), version));
        let metrics = crate::metrics::metrics();
        let Some((list, used)) = found else {
            metrics.file_cache_misses.inc();
            return None;
        };
        metrics.file_cache_hits.inc();
        *used = Instant::now();
        Some(list.clone())
    }

    /// The newest list kept of table `id` at `root` before `version`, no more than `steps`
    /// versions before it, with its version.
    pub fn before(
        &self,
        root: &Url,
        id: &str,
        version: u64,
        steps: u64,
    ) -> Option<(u64, Arc<FileList>)> {
        let lists = self.lock();
        lists
            .iter()
            .filter(|((r, i, v), _)| r == root && i == id && *v < version && version - v <= steps)
            .max_by_key(|((_, _, v), _)| *v)
            .map(|((_, _, v), (list, _))| (*v, list.clone()))
    }

    /// Keeps the complete file list of a snapshot.
    pub fn insert(&self, root: &Url, id: &str, version: u64, list: FileList) {
        if !self.fits(list.bytes) {
            return;
        }
        let now = Instant::now();
        let mut lists = self.lock();
        lists.insert(
            (root.clone(), id.to_string(), version),
            (Arc::new(list), now),
        );
        lists.retain(|_, (_, used)| now.duration_since(*used) < IDLE);
        let total = |lists: &HashMap<Key, (Arc<FileList>, Instant)>| {
            let files = lists.values().map(|(list, _)| list.files).sum::<usize>();
            let bytes = lists.values().map(|(list, _)| list.bytes).sum::<usize>();
            (files, bytes)
        };
        while total(&lists).1 > self.max_bytes {
            let oldest = lists
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
                .expect("a list is kept");
            lists.remove(&oldest);
        }
        let (files, bytes) = total(&lists);
        let metrics = crate::metrics::metrics();
        metrics.file_cache_files.set(files as i64);
        metrics.file_cache_bytes.set(bytes as i64);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, (Arc<FileList>, Instant)>> {
        // Every change is a single call: a panic elsewhere leaves the map consistent.
        self.lists.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, stats: Option<&str>) -> DataFile<'static> {
        DataFile {
            path: Cow::Owned(path.into()),
            encoded_path: None,
            size: 1,
            modification_time: 0,
            stats: stats.map(Stats::of_text),
            partition_values: Default::default(),
            deletion_vector: None,
            md5_memo: Default::default(),
        }
    }

    fn list(files: usize) -> FileList {
        let mut batch = FileBatch::default();
        for n in 0..files {
            batch.push(
                &file(&format!("part-{n}.parquet"), None),
                std::iter::empty(),
            );
        }
        let mut list = FileList::default();
        list.push(Arc::new(batch));
        list
    }

    #[test]
    fn a_packed_batch_lends_out_its_files_as_they_were() {
        let mut plain = file("day=1/a.parquet", Some(r#"{"numRecords":3}"#));
        plain.partition_values = Cow::Owned([("day".into(), Some("1".into()))].into());
        let mut encoded = file("country=F R/b.parquet", None);
        encoded.encoded_path = Some("country=F%20R/b.parquet".into());
        encoded.partition_values = Cow::Owned([("country".into(), None)].into());
        encoded.deletion_vector = Some(Cow::Owned(DeletionVector {
            storage_type: "u".into(),
            path_or_inline_dv: "ab^-aqEH.-t@S}K{vb[*k^".into(),
            offset: Some(1),
            size_in_bytes: 36,
            cardinality: 2,
        }));
        let mut again = file("day=1/c.parquet", Some(""));
        again.partition_values = plain.partition_values.clone();
        // A path sharing the first byte of a character with the one before it.
        let (mut accent, mut grave) =
            (file("day=1/é.parquet", None), file("day=1/è.parquet", None));
        (accent.size, grave.size) = (1 << 40, 7);
        (accent.modification_time, grave.modification_time) = (1_700_000_000_000, -1);
        let files = [plain, encoded, again, accent, grave];
        let mut batch = FileBatch::default();
        for f in &files {
            let values = f
                .partition_values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()));
            batch.push(f, values);
        }
        assert_eq!(batch.partition_sets.len(), 3, "a set is kept once");
        let mut seen = Vec::new();
        let _ = batch.for_each(|f| {
            seen.push(f.clone().into_owned());
            ControlFlow::Continue(())
        });
        assert_eq!(seen, files);
        assert_eq!(seen[1].log_path_md5(), files[1].log_path_md5());
        let mut first = 0;
        let _ = batch.for_each(|_| {
            first += 1;
            ControlFlow::Break(())
        });
        assert_eq!(first, 1);
    }

    #[test]
    fn numbers_are_kept_as_differences_while_they_fit() {
        let mut numbers = Numbers::default();
        for n in [100, 90, 100 + i64::from(i32::MAX)] {
            numbers.push(n);
        }
        assert!(numbers.wide.is_empty());
        numbers.push(i64::MIN);
        numbers.push(5);
        assert!(numbers.differences.is_empty());
        let kept: Vec<i64> = (0..5).map(|i| numbers.get(i)).collect();
        assert_eq!(kept, [100, 90, 100 + i64::from(i32::MAX), i64::MIN, 5]);
    }

    #[test]
    fn keeps_the_newest_lists_within_the_bound() {
        let bytes = list(1000).bytes;
        let cache = FileCache::new(bytes * 2 - 1);
        let root = Url::parse("file:///t/").unwrap();
        assert!(cache.get(&root, "t", 1).is_none());
        cache.insert(&root, "t", 1, list(1000));
        assert_eq!(cache.get(&root, "t", 1).unwrap().files, 1000);
        cache.insert(&root, "t", 2, list(1000));
        assert!(
            cache.get(&root, "t", 1).is_none(),
            "the older list made room"
        );
        assert!(cache.get(&root, "t", 2).is_some());
        cache.insert(&root, "t", 3, list(3000));
        assert!(cache.get(&root, "t", 3).is_none(), "too big to keep");
        assert!(cache.get(&root, "t", 2).is_some());
        let kept = cache.get(&root, "t", 2).unwrap();
        assert_eq!(kept.derived::<u64>("n"), None);
        kept.keep_derived("n", 7_u64);
        assert_eq!(
            cache.get(&root, "t", 2).unwrap().derived::<u64>("n"),
            Some(7)
        );
    }
}
