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
    /// The catalog and the audit ledger.
    pub fn catalog_db(&self) -> PathBuf {
        self.0.join("catalog.db")
    }
    pub fn secret_key(&self) -> PathBuf {
        self.0.join("server.key")
    }
    pub fn signing_key(&self) -> PathBuf {
        self.0.join("server.ed25519")
    }
    /// Where earlier versions kept the audit ledger; it now shares the catalog's database, so
    /// that a change and the event recording it commit together. Merged on first open.
    pub fn legacy_audit_db(&self) -> PathBuf {
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
    /// Creates the directory owner-only (0700) if it does not exist yet; makes an existing one
    /// and every file directly in it owner-only too (0700, 0600), saying so when it was not:
    /// the catalog holds token hashes and IP lists, the ledger the whole access history.
    pub fn ensure(&self) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        if !self.0.is_dir() {
            std::fs::create_dir_all(&self.0)?;
            return std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700));
        }
        let mode = std::fs::metadata(&self.0)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %self.0.display(),
                mode = format!("{mode:o}"),
                "the data directory was open to other users: made it 0700"
            );
            std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700))?;
        }
        for entry in std::fs::read_dir(&self.0)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %entry.path().display(), "made a file of the data directory 0600");
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    }
}
