//! The kinds of object store tables live on, one module each (`s3`, `gcs`, `azure`): what its
//! credentials hold, how a table's store is opened from its location and credential, and
//! whether the URLs it presigns may be handed out again. Local tables share one store
//! (`local`) and are served by this server itself.
//!
//! To add a kind: a module implementing [`Backend`], a [`CredentialKind`] variant, and its
//! entry in `kinds::BACKENDS`.

use std::sync::Arc;
use std::time::Duration;

use delta_kernel::object_store::signer::Signer;
use delta_kernel::object_store::{ClientOptions, DynObjectStore, RetryConfig};
use url::Url;

use super::credential::{CredentialKind, StorageCredential};
use crate::{Error, Result};

/// One option a kind's credentials take.
pub struct OptionSpec {
    pub name: &'static str,
    pub required: bool,
    /// Sealed in the catalog and never shown again.
    pub secret: bool,
}

/// A store opened for a bucket: how to read it, how to presign its files' URLs, and whether a
/// presigned URL lives what it says (long-term keys) and may so be reused.
pub struct Opened {
    pub objects: Arc<DynObjectStore>,
    pub signer: Arc<dyn Signer>,
    pub reuse_urls: bool,
}

pub trait Backend: Sync {
    fn kind(&self) -> CredentialKind;
    /// The URL schemes of its table locations.
    fn schemes(&self) -> &'static [&'static str];
    /// The options its credentials take.
    fn options(&self) -> &'static [OptionSpec];
    /// Checks of a credential's values beyond the options' presence.
    fn check(&self, _credential: &StorageCredential) -> Result<()> {
        Ok(())
    }
    /// What names the key for people without revealing it.
    fn key_id(&self, credential: &StorageCredential) -> String;
    /// The store of the bucket or container of `url`, read with `credential` (`None`: the
    /// environment's credentials). Makes no network call.
    fn open(&self, url: &Url, credential: Option<&StorageCredential>) -> Result<Opened>;
}

/// Requests to a store fail within seconds rather than retrying for minutes: a recipient
/// waiting on an unreachable bucket should get an error, not a hang.
pub fn client_options() -> (ClientOptions, RetryConfig) {
    let options = ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(30));
    let retry = RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(15),
        ..RetryConfig::default()
    };
    (options, retry)
}

/// A store that cannot be configured for `url`.
pub fn configure_error(url: &Url, e: delta_kernel::object_store::Error) -> Error {
    Error::invalid(format!("cannot configure the store of {url}: {e}"))
}

#[cfg(test)]
pub mod testing {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    use url::Url;

    use super::super::credential::{CredentialKind, StorageCredential};
    use super::super::store::{Location, build};

    pub const HOUR: Duration = Duration::from_secs(3600);

    /// A location of a table at `url` read with a credential of `kind` with `options`.
    pub fn location(url: &str, kind: CredentialKind, options: &[(&str, &str)]) -> Location {
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let credential = StorageCredential::new(kind, &options).unwrap();
        let url = Url::parse(url).unwrap();
        let store = build("test".into(), &url, Some(&credential)).unwrap();
        Location {
            name: "s.t".into(),
            url,
            store: Arc::new(store),
        }
    }

    /// The query parameters of a URL.
    pub fn query(url: &str) -> BTreeMap<String, String> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }
}
