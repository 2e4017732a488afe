//! The data directory: the files a server and the command line share, and where each lives.

use std::path::{Path, PathBuf};

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
