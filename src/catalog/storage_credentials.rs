//! Storage credentials: named keys of cloud object stores, their secrets sealed (see
//! `storage::Vault`; the catalog only ever holds the sealed bytes).

use std::collections::BTreeMap;

use super::db::{Row, params};

use super::Tx;
use super::objects::{deleted_or_error, exists_or_error};
use crate::clock::now_ms;
use crate::{Error, Result};

/// A credential as `SHOW`/`DESCRIBE STORAGE CREDENTIAL` show it: no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub key_id: String,
    pub public: BTreeMap<String, String>,
    pub comment: Option<String>,
    pub created_at: i64,
}

/// A credential as the catalog keeps it: its secrets still sealed.
pub struct SealedCredential {
    pub id: String,
    pub kind: String,
    pub public: BTreeMap<String, String>,
    pub sealed: Vec<u8>,
}

/// What a new credential stores.
pub struct NewCredential<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub key_id: &'a str,
    pub public: &'a BTreeMap<String, String>,
    pub sealed: &'a [u8],
    pub comment: Option<&'a str>,
}

const COLUMNS: &str = "id, name, kind, key_id, public_options, comment, created_at";

fn info(row: &Row<'_>) -> Result<CredentialInfo> {
    Ok(CredentialInfo {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: row.get(2)?,
        key_id: row.get(3)?,
        public: serde_json::from_str(&row.get::<String>(4)?).unwrap_or_default(),
        comment: row.get(5)?,
        created_at: row.get(6)?,
    })
}

impl Tx<'_> {
    /// Stores a credential. Returns false when it existed and `if_not_exists` was given.
    pub fn create_credential(&self, new: &NewCredential<'_>, if_not_exists: bool) -> Result<bool> {
        if self.find_credential(new.name)?.is_some() {
            return exists_or_error(
                if_not_exists,
                format!("storage credential {} already exists", new.name),
            );
        }
        self.conn.execute(
            "INSERT INTO storage_credentials
                 (id, name, kind, key_id, public_options, secret_sealed, comment, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new.id,
                new.name,
                new.kind,
                new.key_id,
                serde_json::to_string(new.public)?,
                new.sealed,
                new.comment,
                now_ms()
            ],
        )?;
        Ok(true)
    }

    pub fn find_credential(&self, name: &str) -> Result<Option<CredentialInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM storage_credentials WHERE name = ?1");
        self.conn.query_opt(&sql, params![name], info)
    }

    pub fn require_credential(&self, name: &str) -> Result<CredentialInfo> {
        self.find_credential(name)?
            .ok_or_else(|| Error::not_found(format!("storage credential {name} does not exist")))
    }

    pub fn credentials(&self) -> Result<Vec<CredentialInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM storage_credentials ORDER BY name");
        self.conn.query_all(&sql, params![], info)
    }

    /// The credential with its secrets still sealed, for opening a table's store.
    pub fn sealed_credential(&self, id: &str) -> Result<SealedCredential> {
        self.conn.query_opt(
"SELECT id, kind, public_options, secret_sealed FROM storage_credentials WHERE id = ?1",
params![id],
|row| {
                Ok(SealedCredential {
                    id: row.get(0)?,
                    kind: row.get(1)?,
                    public: serde_json::from_str(&row.get::<String>(2)?).unwrap_or_default(),
                    sealed: row.get(3)?,
                })
            },
)?
        .ok_or_else(|| Error::internal("a table's storage credential is missing from the catalog"))
    }

    /// The tables read with a credential, as `schema.name`.
    pub fn tables_using_credential(&self, id: &str) -> Result<Vec<String>> {
        self.conn.query_all(
            "SELECT schema_name || '.' || name FROM tables WHERE credential_id = ?1 ORDER BY 1",
            params![id],
            |r| r.get(0),
        )
    }

    /// Drops a credential no table uses.
    pub fn drop_credential(&self, name: &str, if_exists: bool) -> Result<bool> {
        if let Some(found) = self.find_credential(name)? {
            let users = self.tables_using_credential(&found.id)?;
            if !users.is_empty() {
                return Err(Error::invalid(format!(
                    "storage credential {name} is used by table{} {}: drop {} first",
                    if users.len() == 1 { "" } else { "s" },
                    users.join(", "),
                    if users.len() == 1 { "it" } else { "them" }
                )));
            }
        }
        let n = self.conn.execute(
            "DELETE FROM storage_credentials WHERE name = ?1",
            params![name],
        )?;
        deleted_or_error(n, if_exists, || {
            format!("storage credential {name} does not exist")
        })
    }
}
