//! The object stores tables are read through, and the signers of their files' URLs.
//!
//! Every table has a [`Location`]: its root URL and the store that reaches it. Local tables
//! share one local store; a table on S3, GCS or Azure gets a store built from its storage
//! credential (or from the environment's), kept per credential and bucket so that its HTTP
//! connections and signing keys are reused.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use delta_kernel::object_store::aws::AmazonS3Builder;
use delta_kernel::object_store::azure::MicrosoftAzureBuilder;
use delta_kernel::object_store::gcp::GoogleCloudStorageBuilder;
use delta_kernel::object_store::local::LocalFileSystem;
use delta_kernel::object_store::path::Path as ObjectPath;
use delta_kernel::object_store::signer::{Method, Signer};
use delta_kernel::object_store::{ClientOptions, DynObjectStore, RetryConfig};
use url::Url;

use super::credential::{CredentialKind, StorageCredential};
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
        objects: Arc::new(LocalFileSystem::new()),
        signer: None,
        reuse_urls: false,
        signed: Mutex::default(),
    })
});

/// Runs storage I/O from synchronous code: handlers' blocking threads, the CLI, and the
/// demo's start-up (which runs inside an async runtime, where tokio's own `block_on` would
/// panic). The future is polled on the calling thread inside the storage runtime's context,
/// whose workers drive the cloud clients' connections; a future that is ready at once (a
/// presigned URL) costs no thread switch.
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fireshare-storage")
            .enable_all()
            .build()
            .expect("the storage runtime starts")
    });
    /// Wakes the thread; the flag keeps the wake even if code polled in between parks the
    /// thread itself and takes the unpark.
    struct Unpark {
        thread: std::thread::Thread,
        woken: std::sync::atomic::AtomicBool,
    }
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.woken.store(true, std::sync::atomic::Ordering::Release);
            self.thread.unpark();
        }
    }
    let _entered = RUNTIME.enter();
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        woken: std::sync::atomic::AtomicBool::new(false),
    });
    let waker = std::task::Waker::from(unpark.clone());
    let mut context = std::task::Context::from_waker(&waker);
    // Out of tokio's cooperative budget: inside another runtime's task (the demo), an
    // exhausted budget would answer Pending forever, since this thread never yields to it.
    let mut future = std::pin::pin!(tokio::task::unconstrained(future));
    loop {
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => return output,
            std::task::Poll::Pending => {
                while !unpark
                    .woken
                    .swap(false, std::sync::atomic::Ordering::Acquire)
                {
                    std::thread::park();
                }
            }
        }
    }
}

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

/// Requests to a store fail within seconds rather than retrying for minutes: a recipient
/// waiting on an unreachable bucket should get an error, not a hang.
fn client_options() -> (ClientOptions, RetryConfig) {
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

fn build(key: String, url: &Url, credential: Option<&StorageCredential>) -> Result<TableStore> {
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
    let (options, retry) = client_options();
    let failed = |e: delta_kernel::object_store::Error| {
        Error::invalid(format!("cannot configure the store of {url}: {e}"))
    };
    let (objects, signer, reuse_urls): (Arc<DynObjectStore>, Arc<dyn Signer>, bool) = match kind {
        CredentialKind::S3 => {
            let mut builder = match credential {
                Some(_) => AmazonS3Builder::new(),
                None => AmazonS3Builder::from_env(),
            }
            .with_url(url.as_str())
            .with_client_options(options)
            .with_retry(retry);
            if let Some(c) = credential {
                let get = |name| c.get(name).unwrap_or_default();
                builder = builder
                    .with_access_key_id(get("access_key_id"))
                    .with_secret_access_key(get("secret_access_key"))
                    .with_region(c.get("region").unwrap_or("us-east-1"));
                if let Some(token) = c.get("session_token") {
                    builder = builder.with_token(token);
                }
                if let Some(endpoint) = c.get("endpoint") {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                // S3-compatible servers mostly want path-style requests; AWS itself
                // prefers virtual-hosted ones.
                let path_style = c
                    .get("path_style")
                    .map_or(c.get("endpoint").is_some(), |s| s == "true");
                builder = builder.with_virtual_hosted_style_request(!path_style);
            }
            let s3 = Arc::new(builder.build().map_err(failed)?);
            let long_term = credential.is_some_and(|c| c.get("session_token").is_none());
            (s3.clone(), s3, long_term)
        }
        CredentialKind::Gcs => {
            let c = credential.ok_or_else(|| {
                    Error::invalid(
                        "gs:// tables need a STORAGE CREDENTIAL of TYPE GCS holding a service-account key: \
                         without a private key every file URL would cost a signBlob call to Google",
                    )
                })?;
            let gcs = GoogleCloudStorageBuilder::new()
                .with_url(url.as_str())
                .with_service_account_key(c.get("service_account_key").unwrap_or_default())
                .with_client_options(options)
                .with_retry(retry)
                .build()
                .map_err(failed)?;
            let gcs = Arc::new(gcs);
            (gcs.clone(), gcs, true)
        }
        CredentialKind::Azure => {
            let mut builder = match credential {
                Some(_) => MicrosoftAzureBuilder::new(),
                None => MicrosoftAzureBuilder::from_env(),
            }
            .with_url(url.as_str())
            .with_client_options(options)
            .with_retry(retry);
            if let Some(c) = credential {
                let get = |name| c.get(name).unwrap_or_default();
                builder = builder
                    .with_account(get("account_name"))
                    .with_access_key(get("account_key"));
                if let Some(endpoint) = c.get("endpoint") {
                    builder = builder
                        .with_endpoint(endpoint.to_string())
                        .with_allow_http(endpoint.starts_with("http://"));
                }
            }
            let azure = Arc::new(builder.build().map_err(failed)?);
            (azure.clone(), azure, credential.is_some())
        }
    };
    Ok(TableStore {
        key,
        objects,
        signer: Some(signer),
        reuse_urls,
        signed: Mutex::default(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn location(url: &str, kind: CredentialKind, options: &[(&str, &str)]) -> Location {
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

    fn query(url: &str) -> BTreeMap<String, String> {
        Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    #[test]
    fn s3_urls_are_sigv4_presigned_for_aws_and_custom_endpoints() {
        let s3 = [
            ("access_key_id", "AKIAEXAMPLE"),
            ("secret_access_key", "secret"),
        ];
        let aws = location(
            "s3://bank-lake/fire/loans/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("region", "eu-west-1")],
        );
        let file = "region=eu/part 1.parquet";
        let signed = aws.presign(file, HOUR, 1_500).unwrap();
        assert_eq!(
            signed.expires_at,
            1_000 + 3_600_000,
            "dated in whole seconds"
        );
        // Signed again within the first quarter of its life: the same URL; later, a new one.
        assert_eq!(aws.presign(file, HOUR, 901_000).unwrap(), signed);
        let later = aws.presign(file, HOUR, 901_001).unwrap();
        assert_eq!(later.expires_at, 901_000 + 3_600_000);
        assert_eq!(aws.earliest_expiry(HOUR, 1_500), 1_000 + 2_700_000);
        // With a session token the credential may expire first: no reuse.
        let session = location(
            "s3://bank-lake/fire/loans/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("session_token", "token")],
        );
        let first = session.presign("a.parquet", HOUR, 0).unwrap();
        assert_ne!(session.presign("a.parquet", HOUR, 5_000).unwrap(), first);
        assert_eq!(session.earliest_expiry(HOUR, 1_500), 1_000 + 3_600_000);
        let signed = signed.url;
        assert!(
            signed.starts_with(
                "https://bank-lake.s3.eu-west-1.amazonaws.com/fire/loans/region%3Deu/part%201.parquet?"
            ),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert!(q["X-Amz-Credential"].starts_with("AKIAEXAMPLE/"));
        assert!(q["X-Amz-Credential"].ends_with("/eu-west-1/s3/aws4_request"));
        assert_eq!(q["X-Amz-Expires"], "3600");
        assert_eq!(q["X-Amz-SignedHeaders"], "host");
        assert_eq!(q["X-Amz-Signature"].len(), 64);
        assert!(!signed.contains("secret"));

        let minio = location(
            "s3://lake/t/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("endpoint", "http://minio.internal:9000")],
        );
        let signed = minio.presign("a.parquet", MAX_URL_LIFETIME, 0).unwrap().url;
        assert!(
            signed.starts_with("http://minio.internal:9000/lake/t/a.parquet?"),
            "path style at the endpoint: {signed}"
        );
        // SigV4 URLs live at most 7 days.
        assert_eq!(query(&signed)["X-Amz-Expires"], "604800");
        assert!(minio.presign("../other/a.parquet", HOUR, 0).is_err());
        assert!(minio.presign("s3://elsewhere/a.parquet", HOUR, 0).is_err());
    }

    #[test]
    fn gcs_urls_are_v4_signed_with_the_service_account_key() {
        use aws_lc_rs::encoding::AsDer;
        use base64::Engine as _;
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let account = serde_json::json!({
            "type": "service_account",
            "project_id": "bank",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "sharing@bank.iam.gserviceaccount.com",
        })
        .to_string();
        let gcs = location(
            "gs://bank-lake/fire/",
            CredentialKind::Gcs,
            &[("service_account_key", &account)],
        );
        let signed = gcs.presign("part-0.parquet", HOUR, 0).unwrap().url;
        assert!(
            signed.starts_with("https://storage.googleapis.com/bank-lake/fire/part-0.parquet?"),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["X-Goog-Algorithm"], "GOOG4-RSA-SHA256");
        assert!(q["X-Goog-Credential"].starts_with("sharing@bank.iam.gserviceaccount.com/"));
        assert!(q["X-Goog-Credential"].ends_with("/storage/goog4_request"));
        assert_eq!(q["X-Goog-Expires"], "3600");
        assert_eq!(
            q["X-Goog-Signature"].len(),
            512,
            "a 2048-bit RSA signature in hex"
        );
    }

    #[test]
    fn azure_urls_carry_a_read_only_sas_signed_with_the_account_key() {
        let azure = location(
            "abfss://lake@bankacct.dfs.core.windows.net/fire/",
            CredentialKind::Azure,
            &[
                ("account_name", "bankacct"),
                ("account_key", "c2VjcmV0LWtleS1vZi10aGUtYWNjb3VudA=="),
            ],
        );
        let signed = azure.presign("part-0.parquet", HOUR, 0).unwrap().url;
        assert!(
            signed.starts_with("https://bankacct.blob.core.windows.net/lake/fire/part-0.parquet?"),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["sp"], "r", "read only");
        assert_eq!(q["sr"], "b", "one blob");
        assert!(q.contains_key("se") && q.contains_key("sv"));
        assert!(!q["sig"].is_empty());
    }

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
