//! Token checks without a database lookup on the hot path: the owners of the tokens seen are
//! kept in memory and dropped as soon as the catalog changes — by this process or another one
//! (see `catalog::Memo`) — so a revocation is seen by the next request. Last-used times are
//! gathered here too and written in batches, not on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::Result;
use crate::catalog::{AdminTokenOwner, Catalog, ChangeStamp, Memo, TokenOwner};

/// Who holds a credential, by its hash. Shared, so that a hit costs no copy.
#[derive(Debug, Clone)]
pub enum Holder {
    Recipient(Arc<TokenOwner>),
    Admin(Arc<AdminTokenOwner>),
    /// An OAuth access token whose signature, issuer and audience checked out.
    Access(Arc<AccessGrant>),
    Unknown,
}

/// What a verified access token grants, until `expires_at` (seconds since the epoch).
#[derive(Debug)]
pub struct AccessGrant {
    pub who: super::Recipient,
    pub expires_at: i64,
    pub ip_access_list: Option<Vec<String>>,
}

#[derive(Default)]
pub struct TokenCache {
    holders: Memo<String, Holder>,
    /// Token id -> last time it was used (ms), not yet written.
    last_used: Mutex<HashMap<String, i64>>,
}

impl TokenCache {
    /// The holder of the bearer token with `hash`, from memory while the catalog is unchanged,
    /// and the catalog's stamp it holds at.
    pub fn holder(&self, catalog: &Catalog, hash: &str) -> Result<(Holder, ChangeStamp)> {
        self.remembered(catalog, hash, |catalog| {
            catalog.read(|conn| {
                Ok(match conn.token_owner(hash)? {
                    Some(owner) => Holder::Recipient(Arc::new(owner)),
                    None => conn
                        .admin_token_owner(hash)?
                        .map_or(Holder::Unknown, |a| Holder::Admin(Arc::new(a))),
                })
            })
        })
    }

    /// The holder under `key`, from memory while the catalog is unchanged, else `load`ed (and
    /// kept unless unknown: guessing must not fill the memory); with the catalog's stamp.
    pub fn remembered(
        &self,
        catalog: &Catalog,
        key: &str,
        load: impl FnOnce(&Catalog) -> Result<Holder>,
    ) -> Result<(Holder, ChangeStamp)> {
        let stamp = catalog.change_stamp();
        let (holder, kept) = self.holders.get(
            &stamp,
            key,
            || load(catalog),
            |holder| !matches!(holder, Holder::Unknown),
        )?;
        let metrics = crate::metrics::metrics();
        match kept {
            true => metrics.token_cache_hits.inc(),
            false => metrics.token_cache_misses.inc(),
        }
        Ok((holder, stamp))
    }

    /// Notes that a recipient token was used at `at` (ms).
    pub fn touch(&self, token_id: &str, at: i64) {
        let mut last_used = lock(&self.last_used);
        match last_used.get_mut(token_id) {
            Some(known) => *known = at,
            None => {
                last_used.insert(token_id.to_string(), at);
            }
        }
    }

    /// Writes the gathered last-used times in one transaction; returns how many.
    pub fn flush_last_used(&self, catalog: &Catalog) -> Result<usize> {
        let pending = std::mem::take(&mut *lock(&self.last_used));
        if pending.is_empty() {
            return Ok(0);
        }
        catalog.store(|tx| tx.record_last_used(&pending))?;
        Ok(pending.len())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each change is a single call: a panic elsewhere leaves the maps consistent.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{authenticate, issue_token, token_hash};
    use crate::catalog::Location;

    #[test]
    fn changes_by_another_process_are_seen_on_the_next_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let server = Catalog::open(&Location::Sqlite(path.clone())).unwrap();
        let other = Catalog::open(&Location::Sqlite(path.clone())).unwrap();
        other
            .write(|tx| {
                let new = crate::catalog::NewRecipient {
                    name: "r",
                    ..Default::default()
                };
                tx.create_recipient(&new, false)
            })
            .unwrap();
        let cache = TokenCache::default();
        let token = issue_token(&server, "r", None).unwrap();
        let header = format!("Bearer {}", token.token);
        for _ in 0..3 {
            assert!(authenticate(&server, &cache, Some(&header), None).is_ok());
        }
        assert!(matches!(
            cache.holder(&server, &token_hash(&token.token)).unwrap().0,
            Holder::Recipient(_)
        ));
        let recipient = other.read(|c| c.require_recipient("r")).unwrap();
        other
            .write(|tx| tx.revoke_credentials(&recipient.id))
            .unwrap();
        let e = authenticate(&server, &cache, Some(&header), None).unwrap_err();
        assert!(e.message().contains("revoked"), "{e}");

        // Last-used times are written in one batch.
        assert_eq!(cache.flush_last_used(&server).unwrap(), 1);
        assert_eq!(cache.flush_last_used(&server).unwrap(), 0);
        let tokens = server.read(|c| c.recipient_tokens(&recipient.id)).unwrap();
        assert!(tokens[0].last_used_at.is_some());
    }
}
