//! The live files of recently listed snapshots, kept in memory.
//!
//! A snapshot's files never change, and the same snapshots are listed again and again (every
//! recipient reading the latest version, every page of a paged query, every refresh). Replaying
//! a 100,000-file log costs ~170 ms; walking a kept list costs a few. Lists are bounded in total
//! (least recently used dropped first) and a snapshot with more files than the bound is never
//! kept: it is replayed each time, with flat memory, as without the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use url::Url;

use super::DataFile;

/// Files kept across all lists. A file costs about 1 KiB (path, stats, partition values), so
/// this bounds the cache to ~300 MiB.
pub const MAX_FILES: usize = 300_000;
/// A list unused this long is dropped.
const IDLE: Duration = Duration::from_secs(15 * 60);

/// Files as log replay produces them, batch by batch (shared with the visitor without copies).
pub type Batch = Arc<Vec<DataFile>>;

/// Every live file of one snapshot.
pub struct FileList {
    pub batches: Vec<Batch>,
    pub files: usize,
}

/// Table location, table id (a table recreated at the same place has a new one), version.
type Key = (Url, String, u64);

#[derive(Default)]
pub struct FileCache {
    lists: Mutex<HashMap<Key, (Arc<FileList>, Instant)>>,
}

impl FileCache {
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

    /// Keeps the complete file list of a snapshot.
    pub fn insert(&self, root: &Url, id: &str, version: u64, list: FileList) {
        if list.files > MAX_FILES {
            return;
        }
        let now = Instant::now();
        let mut lists = self.lock();
        lists.insert(
            (root.clone(), id.to_string(), version),
            (Arc::new(list), now),
        );
        lists.retain(|_, (_, used)| now.duration_since(*used) < IDLE);
        let mut total: usize = lists.values().map(|(list, _)| list.files).sum();
        while total > MAX_FILES {
            let oldest = lists
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
                .expect("a list is kept");
            total -= lists.remove(&oldest).map_or(0, |(list, _)| list.files);
        }
        crate::metrics::metrics().file_cache_files.set(total as i64);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, (Arc<FileList>, Instant)>> {
        // Every change is a single call: a panic elsewhere leaves the map consistent.
        self.lists.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(files: usize) -> FileList {
        let file = DataFile {
            path: "f".into(),
            encoded_path: None,
            size: 1,
            modification_time: 0,
            stats: None,
            partition_values: Default::default(),
            deletion_vector: None,
            md5_memo: Default::default(),
        };
        FileList {
            batches: vec![Arc::new(vec![file; files.min(3)])],
            files,
        }
    }

    #[test]
    fn keeps_the_newest_lists_within_the_bound() {
        let cache = FileCache::default();
        let root = Url::parse("file:///t/").unwrap();
        assert!(cache.get(&root, "t", 1).is_none());
        cache.insert(&root, "t", 1, list(MAX_FILES / 2 + 1));
        assert_eq!(cache.get(&root, "t", 1).unwrap().files, MAX_FILES / 2 + 1);
        cache.insert(&root, "t", 2, list(MAX_FILES / 2 + 1));
        assert!(
            cache.get(&root, "t", 1).is_none(),
            "the older list made room"
        );
        assert!(cache.get(&root, "t", 2).is_some());
        cache.insert(&root, "t", 3, list(MAX_FILES + 1));
        assert!(cache.get(&root, "t", 3).is_none(), "too big to keep");
        assert!(cache.get(&root, "t", 2).is_some());
    }
}
