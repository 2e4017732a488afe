//! The keys the catalog was written with. Replicas sharing a database check what one another
//! made — file URLs, page tokens, OAuth access tokens, ledger seals and receipts, sealed
//! storage credentials — so each must hold the same key files. The first process records a
//! fingerprint of each key (an HMAC under the key, or a public key's id: nothing that reveals
//! it); every later one compares its own and refuses to start on a difference, rather than
//! serving URLs the other replicas refuse or sealing the ledger with a key auditors do not know.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::db::params;
use super::{Catalog, Tx};
use crate::data_dir::DataDir;
use crate::signing_key::SigningKey;
use crate::{Error, Result};

/// Each key file of `dir` (created if missing, as a server would) and its fingerprint.
pub fn fingerprints(dir: &DataDir) -> Result<BTreeMap<String, String>> {
    let secret = |path: &std::path::Path| -> Result<String> {
        let key = crate::secret::load_or_create_key(path)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
        mac.update(b"fireshare key fingerprint");
        Ok(hex::encode(&mac.finalize().into_bytes()[..8]))
    };
    let signing = |path: &std::path::Path| -> Result<String> {
        Ok(SigningKey::load_or_create(path)?.kid().to_string())
    };
    let mut found = BTreeMap::new();
    for (path, fingerprint) in [
        (dir.secret_key(), secret(&dir.secret_key())?),
        (dir.signing_key(), signing(&dir.signing_key())?),
        (dir.audit_key(), signing(&dir.audit_key())?),
        (dir.storage_key(), secret(&dir.storage_key())?),
    ] {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        found.insert(name.unwrap_or_default(), fingerprint);
    }
    Ok(found)
}

impl Catalog {
    /// Checks that `dir` holds the keys this catalog was written with, recording them when
    /// none were (its first process), or — `adopt` — after a deliberate rotation.
    pub fn check_keys(&self, dir: &DataDir, adopt: bool) -> Result<()> {
        let held = fingerprints(dir)?;
        self.store(|tx| {
            let recorded = tx.key_fingerprints()?;
            if recorded.is_empty() || adopt {
                return tx.record_key_fingerprints(&held);
            }
            let differ: Vec<&str> = held
                .iter()
                .filter(|(name, fingerprint)| recorded.get(*name) != Some(*fingerprint))
                .map(|(name, _)| name.as_str())
                .collect();
            if differ.is_empty() {
                return Ok(());
            }
            Err(Error::invalid(format!(
                "{} in {} differ from the keys this catalog was written with: every replica \
                 needs the same key files (copy them from the first one's data directory); after \
                 a deliberate rotation, record the new ones with `fireshare keys --adopt`",
                differ.join(", "),
                dir.path().display()
            )))
        })
    }
}

impl Tx<'_> {
    /// The recorded fingerprint of each key file, by file name.
    pub fn key_fingerprints(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .conn
            .query_all("SELECT name, fingerprint FROM key_fingerprints", &[], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .into_iter()
            .collect())
    }

    fn record_key_fingerprints(&self, keys: &BTreeMap<String, String>) -> Result<()> {
        self.conn.execute("DELETE FROM key_fingerprints", &[])?;
        for (name, fingerprint) in keys {
            self.conn.execute(
                "INSERT INTO key_fingerprints (name, fingerprint, recorded_at) VALUES (?1, ?2, ?3)",
                params![name, fingerprint, crate::clock::now_ms()],
            )?;
        }
        Ok(())
    }
}
