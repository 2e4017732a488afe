//! The server's secret key: signs file URLs and page tokens (HMAC-SHA256).
//!
//! Generated on first start and kept in the data directory with mode 0600. Each use passes a
//! distinct domain string so that a signature made for one purpose never verifies for another.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Error, Result};

const KEY_LEN: usize = 32;

#[derive(Clone)]
pub struct ServerSecret {
    /// The HMAC state after absorbing the key: cloned per signature instead of re-keying,
    /// which halves the cost of signing 100,000 file URLs.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Reads the key at `path`, creating it (0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        load_or_create_key(path).map(ServerSecret::from_key)
    }

    fn from_key(key: [u8; KEY_LEN]) -> Self {
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
        ServerSecret { keyed }
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        Self::from_key([7; KEY_LEN])
    }

    /// HMAC-SHA256 over the domain and the parts, each length-prefixed so that no two
    /// different part lists produce the same input.
    pub fn sign(&self, domain: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        for part in std::iter::once(domain.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a signature made by [`ServerSecret::sign`].
    pub fn verify(&self, domain: &str, parts: &[&[u8]], signature: &[u8]) -> bool {
        let expected = self.sign(domain, parts);
        signature.len() == expected.len() && bool::from(expected.ct_eq(signature))
    }
}

/// Reads the 32-byte random key at `path`, creating it (0600) when it does not exist yet.
pub fn load_or_create_key(path: &Path) -> Result<[u8; KEY_LEN]> {
    match std::fs::read(path) {
        Ok(bytes) => bytes.as_slice().try_into().map_err(|_| {
            Error::internal(format!(
                "secret key {} is corrupt: expected {KEY_LEN} bytes, found {}",
                path.display(),
                bytes.len()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            rand::rng().fill_bytes(&mut key);
            write_private(path, &key)?;
            Ok(key)
        }
        Err(e) => Err(Error::internal(format!(
            "cannot read secret key {}: {e}",
            path.display()
        ))),
    }
}

/// Writes a new file readable by the owner only; fails if it already exists.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_domain_and_part_boundaries() {
        let s = ServerSecret::for_tests();
        let a = s.sign("url", &[b"ab", b"c"]);
        assert_ne!(a, s.sign("url", &[b"a", b"bc"]));
        assert_ne!(a, s.sign("page", &[b"ab", b"c"]));
        assert!(s.verify("url", &[b"ab", b"c"], &a));
        assert!(!s.verify("url", &[b"ab", b"c"], &a[..31]));
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = ServerSecret::load_or_create(&path).unwrap();
        let again = ServerSecret::load_or_create(&path).unwrap();
        assert_eq!(first.sign("d", &[]), again.sign("d", &[]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
