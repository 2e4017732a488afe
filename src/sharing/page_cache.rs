//! The file lists of paged queries, kept between pages.
//!
//! A page token pins a snapshot, so the files it pages through never change; replaying the log
//! for every page would cost a full replay per page (a 100,000-file table read in pages of
//! 10,000 would replay it ten times). The first page lists every selected file once (sending
//! its own files as they come) and keeps the list here; later pages slice it. The cache is only an accelerator: a list that was
//! evicted (or lost with a restart) is listed again, with the same result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::delta::DataFile;

/// Files kept across all lists, beyond which the least recently used lists are dropped. A
/// file costs about 1 KiB (path, stats, partition values): 100,000 files add ~120 MiB to the
/// server's peak RSS (measured by the bench).
const MAX_FILES: usize = 300_000;
/// A list unused this long is dropped: its client has stopped paging.
const IDLE: Duration = Duration::from_secs(15 * 60);

pub type FileList = Arc<Vec<DataFile>>;

#[derive(Default)]
pub struct PageCache {
    lists: Mutex<HashMap<String, (FileList, Instant)>>,
}

impl PageCache {
    /// The list kept under `key`, if it still is.
    pub fn get(&self, key: &str) -> Option<FileList> {
        let mut lists = self.lock();
        let (files, used) = lists.get_mut(key)?;
        *used = Instant::now();
        Some(files.clone())
    }

    /// Keeps `files` under `key` for the next pages.
    pub fn insert(&self, key: &str, files: Vec<DataFile>) {
        let now = Instant::now();
        let mut lists = self.lock();
        lists.insert(key.to_string(), (Arc::new(files), now));
        Self::evict(&mut lists, now);
    }

    /// Drops a list once its last page was served.
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    fn evict(lists: &mut HashMap<String, (FileList, Instant)>, now: Instant) {
        lists.retain(|_, (_, used)| now.duration_since(*used) < IDLE);
        let mut total: usize = lists.values().map(|(files, _)| files.len()).sum();
        while total > MAX_FILES && lists.len() > 1 {
            let oldest = lists
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| key.clone())
                .expect("more than one list");
            total -= lists.remove(&oldest).map_or(0, |(files, _)| files.len());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (FileList, Instant)>> {
        // A panic while holding the lock leaves the map consistent (every change is one call).
        self.lists.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> DataFile {
        DataFile {
            path: path.into(),
            size: 1,
            modification_time: 0,
            stats: None,
            partition_values: Default::default(),
            deletion_vector: None,
        }
    }

    #[test]
    fn keeps_lists_until_forgotten() {
        let cache = PageCache::default();
        assert!(cache.get("k").is_none());
        cache.insert("k", vec![file("a")]);
        assert_eq!(cache.get("k").unwrap()[0].path, "a");
        cache.forget("k");
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn keeps_the_newest_lists_within_the_bound() {
        let cache = PageCache::default();
        cache.insert("old", vec![file("x"); MAX_FILES / 2 + 1]);
        cache.insert("new", vec![file("x"); MAX_FILES / 2 + 1]);
        let lists = cache.lock();
        assert!(lists.contains_key("new") && !lists.contains_key("old"));
    }
}
