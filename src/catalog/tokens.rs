//! Bearer tokens of recipients (sharing endpoints) and of admins and auditors (admin API),
//! stored as SHA-256 hashes with a short display prefix.

use rusqlite::{Connection, OptionalExtension, params};

use super::new_id;
use crate::clock::now_ms;
use crate::{Error, Result};

/// The owner of a token, as found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub token_id: String,
    pub prefix: String,
    pub recipient_id: String,
    pub recipient: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Stores a new token hash for the named recipient; returns the token id.
pub fn insert_token(
    conn: &Connection,
    recipient: &str,
    token_hash: &str,
    prefix: &str,
    expires_at: Option<i64>,
) -> Result<String> {
    let recipient_id: String = conn
        .query_row(
            "SELECT id FROM recipients WHERE name = ?1",
            [recipient],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("recipient {recipient} does not exist")))?;
    let id = new_id();
    conn.execute(
        "INSERT INTO recipient_tokens (id, recipient_id, token_hash, prefix, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, recipient_id, token_hash, prefix, now_ms(), expires_at],
    )?;
    Ok(id)
}

pub fn token_owner(conn: &Connection, token_hash: &str) -> Result<Option<TokenOwner>> {
    Ok(conn
        .prepare_cached(
            "SELECT t.id, t.prefix, r.id, r.name, t.expires_at, t.revoked_at
             FROM recipient_tokens t JOIN recipients r ON r.id = t.recipient_id
             WHERE t.token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok(TokenOwner {
                token_id: r.get(0)?,
                prefix: r.get(1)?,
                recipient_id: r.get(2)?,
                recipient: r.get(3)?,
                expires_at: r.get(4)?,
                revoked_at: r.get(5)?,
            })
        })
        .optional()?)
}

/// The holder of an admin-API token, as found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenOwner {
    pub token_id: String,
    pub name: String,
    /// `admin` or `auditor`.
    pub role: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Stores a new admin-API token hash; returns the token id.
pub fn insert_admin_token(
    conn: &Connection,
    name: &str,
    role: &str,
    token_hash: &str,
    prefix: &str,
    expires_at: Option<i64>,
) -> Result<String> {
    let id = new_id();
    conn.execute(
        "INSERT INTO admin_tokens (id, name, role, token_hash, prefix, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, name, role, token_hash, prefix, now_ms(), expires_at],
    )?;
    Ok(id)
}

pub fn admin_token_owner(conn: &Connection, token_hash: &str) -> Result<Option<AdminTokenOwner>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, role, expires_at, revoked_at FROM admin_tokens WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok(AdminTokenOwner {
                token_id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
                expires_at: r.get(3)?,
                revoked_at: r.get(4)?,
            })
        })
        .optional()?)
}
