//! What was read from the catalog, kept while the catalog stays as it was: a lookup made at the
//! same [`ChangeStamp`] as an earlier one answers what that one found, and the first lookup at
//! a new stamp starts afresh. The hot paths (a token's holder, a shared table) then read the
//! database once per change of the catalog rather than once per request, and still see a
//! change — made by any process or replica — from the next request on.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use super::ChangeStamp;
use crate::Result;

/// Entries kept at most; past it the memo starts afresh (real keys are far fewer).
const MAX_ENTRIES: usize = 100_000;

pub struct Memo<K, V> {
    kept: Mutex<(Option<ChangeStamp>, HashMap<K, V>)>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            kept: Mutex::new((None, HashMap::new())),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// The value under `key` as of `stamp`: kept, or `load`ed and kept when `keep` says so
    /// (what guessing finds — an unknown token — must not fill the memory). Says whether it
    /// was kept.
    pub fn get<Q>(
        &self,
        stamp: &ChangeStamp,
        key: &Q,
        load: impl FnOnce() -> Result<V>,
        keep: impl FnOnce(&V) -> bool,
    ) -> Result<(V, bool)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        {
            let mut kept = self.lock();
            if kept.0.as_ref() == Some(stamp) {
                if let Some(value) = kept.1.get(key) {
                    return Ok((value.clone(), true));
                }
            } else {
                *kept = (Some(stamp.clone()), HashMap::new());
            }
        }
        let value = load()?;
        let mut kept = self.lock();
        if keep(&value) && kept.0.as_ref() == Some(stamp) {
            if kept.1.len() >= MAX_ENTRIES {
                kept.1.clear();
            }
            kept.1.insert(key.to_owned(), value.clone());
        }
        Ok((value, false))
    }

    fn lock(&self) -> MutexGuard<'_, (Option<ChangeStamp>, HashMap<K, V>)> {
        // Each change is a single call: a panic elsewhere leaves the map consistent.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}
