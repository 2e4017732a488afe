//! Sealing the secrets of storage credentials for the catalog: AES-256-GCM under a key kept in
//! the data directory (`storage.key`, 0600), so that a copy of the catalog alone reveals no
//! cloud key.

use std::collections::BTreeMap;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};

use super::{CredentialKind, StorageCredential};
use crate::catalog::SealedCredential;
use crate::{Error, Result};

pub struct Vault {
    key: RandomizedNonceKey,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// Opens the key at `path`, creating it on first use.
    pub fn load_or_create(path: &Path) -> Result<Vault> {
        Vault::from_key(&crate::secret::load_or_create_key(path)?)
    }

    fn from_key(key: &[u8]) -> Result<Vault> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, key)
            .map_err(|_| Error::internal("the storage key is not a valid AES-256 key"))?;
        Ok(Vault { key })
    }

    #[cfg(test)]
    pub fn for_tests() -> Vault {
        Vault::from_key(&[9; 32]).expect("32 bytes")
    }

    /// Seals the secrets of credential `id` (bound to it: a sealed blob moved to another
    /// credential does not open). Output: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, id: &str, secrets: &BTreeMap<String, String>) -> Result<Vec<u8>> {
        let mut data = serde_json::to_vec(secrets)?;
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(id.as_bytes()), &mut data)
            .map_err(|_| Error::internal("cannot encrypt the credential's secrets"))?;
        let mut sealed = nonce.as_ref().to_vec();
        sealed.append(&mut data);
        Ok(sealed)
    }

    /// The credential with its secrets opened.
    pub fn unseal(&self, sealed: SealedCredential) -> Result<StorageCredential> {
        Ok(StorageCredential {
            kind: CredentialKind::parse(&sealed.kind)?,
            public: sealed.public,
            secret: self.open(&sealed.id, &sealed.sealed)?,
        })
    }

    /// Opens what [`Vault::seal`] sealed for credential `id`.
    pub fn open(&self, id: &str, sealed: &[u8]) -> Result<BTreeMap<String, String>> {
        let broken = || {
            Error::internal(
                "a storage credential's secrets cannot be decrypted: the data directory's storage.key is not the one they were sealed with",
            )
        };
        if sealed.len() < NONCE_LEN {
            return Err(broken());
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| broken())?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(id.as_bytes()), &mut data)
            .map_err(|_| broken())?;
        Ok(serde_json::from_slice(plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_credential_and_key() {
        let vault = Vault::for_tests();
        let secrets = BTreeMap::from([("secret_access_key".to_string(), "s3cr3t".to_string())]);
        let sealed = vault.seal("c1", &secrets).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cr3t"), "encrypted");
        assert_eq!(vault.open("c1", &sealed).unwrap(), secrets);
        assert_ne!(sealed, vault.seal("c1", &secrets).unwrap(), "fresh nonce");
        assert!(
            vault.open("c2", &sealed).is_err(),
            "bound to its credential"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(vault.open("c1", &tampered).is_err());
        let other = Vault::from_key(&[1; 32]).unwrap();
        assert!(other.open("c1", &sealed).is_err(), "another key");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("storage.key");
        let created = Vault::load_or_create(&path).unwrap();
        let sealed = created.seal("c1", &secrets).unwrap();
        assert_eq!(
            Vault::load_or_create(&path)
                .unwrap()
                .open("c1", &sealed)
                .unwrap(),
            secrets
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
