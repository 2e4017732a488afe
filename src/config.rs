//! Where a server keeps its state and how it is reached.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The data directory: the catalog database and the server's secret key live here.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DataDir(path.into())
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn catalog_db(&self) -> PathBuf {
        self.0.join("catalog.db")
    }
    pub fn secret_key(&self) -> PathBuf {
        self.0.join("server.key")
    }
    pub fn signing_key(&self) -> PathBuf {
        self.0.join("server.ed25519")
    }
    /// The audit ledger: its own database, so that catalog writes never wait on it.
    pub fn audit_db(&self) -> PathBuf {
        self.0.join("audit.db")
    }
    /// Signs the ledger's seals and the delivery receipts.
    pub fn audit_key(&self) -> PathBuf {
        self.0.join("audit.ed25519")
    }
    /// Encrypts the secrets of storage credentials kept in the catalog.
    pub fn storage_key(&self) -> PathBuf {
        self.0.join("storage.key")
    }
    /// Creates the directory (owner-only) if it does not exist yet.
    pub fn ensure(&self) -> std::io::Result<()> {
        if self.0.is_dir() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.0)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
}

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: DataDir,
    /// Address to bind, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Base URL under which clients reach this server (used in file URLs); defaults to
    /// `http://{listen}`.
    pub public_url: String,
    /// Lifetime of signed file URLs.
    pub url_ttl: Duration,
    /// How long a recipient's activation link stays usable.
    pub activation_ttl: Duration,
    /// Proxies whose `X-Forwarded-For` names the client (IP access lists check that address).
    pub trusted_proxies: Vec<crate::auth::ip::IpNet>,
    /// When the audit ledger's head is signed.
    pub sealing: crate::audit::Sealing,
    /// How often new versions of FIRE-bound tables are looked for and validated.
    pub fire_poll: Duration,
}

/// Default lifetime of activation links.
pub const ACTIVATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl ServerConfig {
    pub fn new(data_dir: DataDir, listen: &str, public_url: Option<&str>) -> Self {
        let public_url = public_url
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{listen}"));
        ServerConfig {
            data_dir,
            listen: listen.to_string(),
            public_url,
            url_ttl: Duration::from_secs(3600),
            activation_ttl: ACTIVATION_TTL,
            trusted_proxies: Vec::new(),
            sealing: crate::audit::Sealing::default(),
            fire_poll: Duration::from_secs(30),
        }
    }

    /// The profile `endpoint` of this server.
    pub fn sharing_endpoint(&self) -> String {
        format!("{}{}", self.public_url, crate::sharing::PREFIX)
    }
}
