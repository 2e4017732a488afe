//! The object stores tables are read through, and the signers of their files' URLs.
//!
//! Every table has a [`Location`]: its root URL and the store that reaches it. Local tables
//! share one local store; a table on S3, GCS or Azure gets a store its kind's module builds
//! (see `backend`) from its storage credential (or from the environment's), kept per
//! credential and bucket so that its HTTP connections and signing keys are reused.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use delta_kernel::object_store::DynObjectStore;
use delta_kernel::object_store::local::LocalFileSystem;
use delta_kernel::object_store::path::Path as ObjectPath;
use delta_kernel::object_store::signer::{Method, Signer};
use url::Url;

use super::credential::{CredentialKind, StorageCredential};
use super::runtime::block_on;
use super::signed_url::SignedUrl;
use super::vault::Vault;
use crate::catalog::{self, SealedCredential, Table};
use crate::data_dir::DataDir;
use crate::{Error, Result};

/// The longest a file URL may live: what S3 (SigV4) and GCS (V4) accept, and a sane bound for
/// Azure SAS and this server's own URLs.
pub const MAX_URL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A table's root and the store that reaches it.
#[derive(Clone)]
pub struct Location {
    /// How the table is named to whoever asked (`share.schema.table` for a recipient): errors
    /// about reading it say which table, never where it is stored.
    pub name: String,
    pub url: Url,
    pub store: Arc<TableStore>,
}

/// One object store, and how to presign its files when it is in the cloud.
pub struct TableStore {
    /// Names the store (credential and bucket): readers keep one engine per store.
    pub key: String,
    pub objects: Arc<DynObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    /// Signed with long-term keys, so a URL lives what it says and may be handed out again:
    /// temporary credentials (a session token, the environment's) can expire before it.
    reuse_urls: bool,
    /// URLs signed lately, reused while most of their life is left (see `Location::presign`).
    signed: Mutex<HashMap<(ObjectPath, Duration), SignedUrl>>,
}

/// Presigned URLs kept per store: about 500 bytes each, so at most ~150 MiB.
const MAX_SIGNED: usize = 300_000;

static LOCAL: LazyLock<Arc<TableStore>> = LazyLock::new(|| {
    Arc::new(TableStore {
        key: "file".into(),
        objects: super::counted::counted("file", Arc::new(LocalFileSystem::new())),
        signer: None,
        reuse_urls: false,
        signed: Mutex::default(),
    })
});

impl Location {
    /// A table on the local filesystem (`file://` root).
    pub fn local(url: Url) -> Location {
        Location {
            name: String::new(),
            url,
            store: LOCAL.clone(),
        }
    }

    /// Says which table an error of reading it is about.
    pub fn name_in(&self, e: Error) -> Error {
        match e {
            Error::Malformed(_) | Error::Unsupported(_) if !self.name.is_empty() => {
                e.map_message(|m| format!("table {}: {m}", self.name))
            }
            e => e,
        }
    }

    /// True when the files are served by this server (`/files/`) rather than presigned.
    pub fn is_local(&self) -> bool {
        self.store.signer.is_none()
    }

    /// The store path of `relative` (decoded, relative to the table root).
    pub fn object_path(&self, relative: &str) -> Result<ObjectPath> {
        let outside = || Error::permission_denied("the file is not part of the table");
        if relative.is_empty() || relative.contains("://") || relative.starts_with('/') {
            return Err(outside());
        }
        let root = ObjectPath::from_url_path(self.url.path())
            .map_err(|e| Error::internal(format!("invalid table root: {e}")))?;
        let joined = if root.as_ref().is_empty() {
            relative.to_string()
        } else {
            format!("{root}/{relative}")
        };
        ObjectPath::parse(joined).map_err(|_| outside())
    }

    /// A presigned GET URL of `relative` signed at `now` (ms) for `lifetime` (at most
    /// [`MAX_URL_LIFETIME`]), or, for long-term keys, one signed lately for the same
    /// lifetime that still has three quarters of it left: signing is local, but at several
    /// microseconds per URL (an RSA signature per URL on GCS) it would dominate repeated
    /// queries of large tables.
    pub fn presign(&self, relative: &str, lifetime: Duration, now: i64) -> Result<SignedUrl> {
        let signer = self
            .store
            .signer
            .as_ref()
            .ok_or_else(|| Error::internal("a local table's files are not presigned"))?;
        let key = (self.object_path(relative)?, lifetime);
        let life_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        let fresh = |url: &SignedUrl| url.expires_at.saturating_sub(now) >= life_ms / 4 * 3;
        if self.store.reuse_urls
            && let Some(kept) = self.store.lock_signed().get(&key).filter(|url| fresh(url))
        {
            return Ok(kept.clone());
        }
        let url = block_on(signer.signed_url(Method::GET, &key.0, lifetime)).map_err(|e| {
            tracing::warn!(table = %self.url, error = %e, "cannot presign a file URL");
            Error::internal("a file URL of the table cannot be signed; see the server log")
        })?;
        let signed = SignedUrl {
            url: url.into(),
            // Stores date their signatures in whole seconds.
            expires_at: (now / 1000 * 1000).saturating_add(life_ms),
        };
        if !self.store.reuse_urls {
            return Ok(signed);
        }
        let mut kept = self.store.lock_signed();
        if kept.len() >= MAX_SIGNED {
            kept.retain(|_, url| fresh(url));
            if kept.len() >= MAX_SIGNED {
                kept.clear();
            }
        }
        kept.insert(key, signed.clone());
        Ok(signed)
    }

    /// When a URL handed out at `now` for `lifetime` expires at the earliest: exactly then for
    /// this server's own URLs; a presigned one is dated in whole seconds and, if reused, may
    /// have lived a quarter of its life already.
    pub fn earliest_expiry(&self, lifetime: Duration, now: i64) -> i64 {
        let life_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        match (self.is_local(), self.store.reuse_urls) {
            (true, _) => now.saturating_add(life_ms),
            (false, false) => (now / 1000 * 1000).saturating_add(life_ms),
            (false, true) => (now / 1000 * 1000).saturating_add(life_ms / 4 * 3),
        }
    }
}

impl TableStore {
    fn lock_signed(&self) -> std::sync::MutexGuard<'_, HashMap<(ObjectPath, Duration), SignedUrl>> {
        // Every change is a single call: a panic elsewhere leaves the map consistent.
        self.signed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The stores of every table, opened on first use.
pub struct Stores {
    vault: Vault,
    opened: Mutex<HashMap<String, Arc<TableStore>>>,
}

impl Stores {
    pub fn open(data_dir: &DataDir) -> Result<Stores> {
        Ok(Stores {
            vault: Vault::load_or_create(&data_dir.storage_key())?,
            opened: Mutex::default(),
        })
    }

    /// Stores whose credentials are sealed under a fixed test key.
    #[cfg(test)]
    pub fn for_tests() -> Stores {
        Stores {
            vault: Vault::for_tests(),
            opened: Mutex::default(),
        }
    }

    /// Seals and opens the secrets of storage credentials.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The location of a table registered at `location` (a URL as the catalog holds it),
    /// read with storage credential `credential` (its id), or with the environment's
    /// credentials when `None`. `load` fetches the credential from the catalog; it is only
    /// called the first time the store is needed.
    pub fn locate(
        &self,
        name: &str,
        location: &str,
        credential: Option<&str>,
        load: impl FnOnce(&str) -> Result<SealedCredential>,
    ) -> Result<Location> {
        let url = Url::parse(location)
            .map_err(|e| Error::internal(format!("catalog holds an invalid location: {e}")))?;
        let name = name.to_string();
        if url.scheme() == "file" {
            return Ok(Location {
                name,
                ..Location::local(url)
            });
        }
        let key = format!(
            "{}:{}://{}",
            credential.unwrap_or("environment"),
            url.scheme(),
            url.authority()
        );
        if let Some(store) = self.lock().get(&key) {
            return Ok(Location {
                name,
                url,
                store: store.clone(),
            });
        }
        let credential = match credential {
            Some(id) => Some(self.vault.unseal(load(id)?)?),
            None => None,
        };
        // The details name the bucket: they go to the log, not to recipients.
        let built = build(key.clone(), &url, credential.as_ref()).map_err(|e| {
            tracing::warn!(table = name, error = %e, "cannot open the table's store");
            Error::malformed(format!(
                "table {name}: the table's storage is not configured correctly; see the server log"
            ))
        })?;
        let store = Arc::new(built);
        self.lock().insert(key, store.clone());
        Ok(Location { name, url, store })
    }

    /// The location of a registered table, named `schema.table`.
    pub fn table(&self, conn: &catalog::Tx<'_>, table: &Table) -> Result<Location> {
        self.locate(
            &format!("{}.{}", table.schema, table.name),
            &table.location,
            table.credential.as_deref(),
            |id| conn.sealed_credential(id),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<TableStore>>> {
        self.opened.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A failed request to a table's store, as recipients may see it: what went wrong, not where
/// (callers log the full error).
pub fn storage_error(e: &delta_kernel::object_store::Error) -> Error {
    use delta_kernel::object_store::Error as StoreError;
    // Listing errors arrive as generic ones that only carry the store's answer as text.
    const REFUSALS: [&str; 6] = [
        "403 Forbidden",
        "401 Unauthorized",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AccessDenied",
        "AuthenticationFailed",
    ];
    const MISSING: [&str; 4] = [
        "404 Not Found",
        "NoSuchBucket",
        "ContainerNotFound",
        "NoSuchKey",
    ];
    let text = e.to_string();
    let missing = || {
        Error::malformed(
            "the table's Delta log is missing or incomplete at the table location (or its bucket does not exist)",
        )
    };
    match e {
        StoreError::NotFound { .. } => missing(),
        StoreError::PermissionDenied { .. } | StoreError::Unauthenticated { .. } => refused(),
        _ if REFUSALS.iter().any(|r| text.contains(r)) => refused(),
        _ if MISSING.iter().any(|m| text.contains(m)) => missing(),
        _ => Error::malformed("the table's storage cannot be read right now; see the server log"),
    }
}

fn refused() -> Error {
    Error::malformed(
        "the table's storage refused the server's credential; an administrator must check the table's storage credential",
    )
}

/// Checks that a table at `url` can be read with `credential` (`None`: the environment's):
/// the kind fits the scheme and the store can be configured. Makes no network call.
pub fn check_location(url: &Url, credential: Option<&StorageCredential>) -> Result<()> {
    build(String::new(), url, credential).map(drop)
}

/// The store of a table at `url`, read with `credential` (`None`: the environment's), under
/// `key`.
pub(super) fn build(
    key: String,
    url: &Url,
    credential: Option<&StorageCredential>,
) -> Result<TableStore> {
    let scheme = url.scheme();
    let kind = CredentialKind::of_scheme(scheme).ok_or_else(|| {
        Error::unsupported(format!(
            "table location scheme '{scheme}://' is not supported: use s3://, gs://, az://, abfss://, file:// or a local path"
        ))
    })?;
    if let Some(c) = credential
        && c.kind != kind
    {
        return Err(Error::invalid(format!(
            "a {} credential cannot read a {scheme}:// location",
            c.kind.as_str()
        )));
    }
    let opened = kind.backend().open(url, credential)?;
    Ok(TableStore {
        objects: super::counted::counted(&key, opened.objects),
        key,
        signer: Some(opened.signer),
        reuse_urls: opened.reuse_urls,
        signed: Mutex::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_must_fit_the_location() {
        let s3 = StorageCredential::new(
            CredentialKind::S3,
            &[
                ("access_key_id".into(), "a".into()),
                ("secret_access_key".into(), "s".into()),
            ],
        )
        .unwrap();
        let gs = Url::parse("gs://b/t/").unwrap();
        let e = check_location(&gs, Some(&s3)).unwrap_err();
        assert!(e.message().contains("cannot read a gs://"), "{e}");
        let e = check_location(&gs, None).unwrap_err();
        assert!(e.message().contains("signBlob"), "{e}");
        assert!(check_location(&Url::parse("s3://b/t/").unwrap(), Some(&s3)).is_ok());
    }
}
