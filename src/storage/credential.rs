//! Storage credentials: the named keys that tables on cloud stores are read and signed with,
//! their options split into what may be shown and what is sealed in the catalog (see `vault`)
//! and never shown again. Which options each kind takes, and how they are checked, is the
//! kind's own (`kinds`).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    S3,
    Gcs,
    Azure,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::S3 => "S3",
            CredentialKind::Gcs => "GCS",
            CredentialKind::Azure => "AZURE",
        }
    }
}

/// A credential's options, split into what may be shown and what is sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageCredential {
    pub kind: CredentialKind,
    pub public: BTreeMap<String, String>,
    pub secret: BTreeMap<String, String>,
}

impl std::fmt::Debug for StorageCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageCredential")
            .field("kind", &self.kind)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl StorageCredential {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.public
            .get(name)
            .or_else(|| self.secret.get(name))
            .map(String::as_str)
    }
}
