//! Bearer tokens of recipients (sharing endpoints) and of admins and auditors (admin API),
//! stored as SHA-256 hashes with a short display prefix.

use super::Tx;
use super::db::params;
use super::new_id;
use crate::Result;
use crate::clock::now_ms;

/// The owner of a token, as found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOwner {
    pub token_id: String,
    pub prefix: String,
    pub recipient_id: String,
    pub recipient: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The recipient's IP access list (`None` = any address).
    pub ip_access_list: Option<Vec<String>>,
}

impl Tx<'_> {
    /// Stores a new token hash for the named recipient, expiring after `lifetime_ms` or, when
    /// that is `None`, after the recipient's `TOKEN LIFETIME` (if any). Returns the token id and
    /// its expiry.
    pub fn insert_token(
        &self,
        recipient: &str,
        token_hash: &str,
        prefix: &str,
        lifetime_ms: Option<i64>,
    ) -> Result<(String, Option<i64>)> {
        let recipient = self.require_recipient(recipient)?;
        if recipient.oauth {
            return Err(crate::Error::invalid(format!(
                "recipient {} uses OAuth client credentials: it gets no bearer tokens",
                recipient.name
            )));
        }
        let now = now_ms();
        let expires_at = lifetime_ms
            .or(recipient.token_lifetime_ms)
            .map(|ms| now.saturating_add(ms));
        let id = new_id();
        self.conn.execute(
            "INSERT INTO recipient_tokens (id, recipient_id, token_hash, prefix, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, recipient.id, token_hash, prefix, now, expires_at],
        )?;
        Ok((id, expires_at))
    }

    pub fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        self.conn.query_opt(
            "SELECT t.id, t.prefix, r.id, r.name, t.expires_at, t.revoked_at, r.ip_access_list
                 FROM recipient_tokens t JOIN recipients r ON r.id = t.recipient_id
                 WHERE t.token_hash = ?1",
            params![token_hash],
            |r| {
                Ok(TokenOwner {
                    token_id: r.get(0)?,
                    prefix: r.get(1)?,
                    recipient_id: r.get(2)?,
                    recipient: r.get(3)?,
                    expires_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                    ip_access_list: super::objects::json_column(r, 6)?,
                })
            },
        )
    }
}

/// A recipient token as `DESCRIBE RECIPIENT` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub prefix: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl Tx<'_> {
    /// Records last-used times (token id -> ms); a time never moves back.
    pub fn record_last_used(&self, used: &std::collections::HashMap<String, i64>) -> Result<()> {
        for (id, at) in used {
            self.conn.execute(
                "UPDATE recipient_tokens SET last_used_at = ?2
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
                params![id, at],
            )?;
        }
        Ok(())
    }

    /// The recipient's tokens, newest first.
    pub fn recipient_tokens(&self, recipient_id: &str) -> Result<Vec<TokenInfo>> {
        self.conn.query_all(
            "SELECT prefix, created_at, expires_at, revoked_at, last_used_at FROM recipient_tokens
             WHERE recipient_id = ?1 ORDER BY created_at DESC, rowid DESC",
            params![recipient_id],
            |r| {
                Ok(TokenInfo {
                    prefix: r.get(0)?,
                    created_at: r.get(1)?,
                    expires_at: r.get(2)?,
                    revoked_at: r.get(3)?,
                    last_used_at: r.get(4)?,
                })
            },
        )
    }
}

/// A live recipient token, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveToken {
    pub recipient: String,
    pub prefix: String,
    pub expires_at: Option<i64>,
}

impl Tx<'_> {
    /// Every recipient token neither revoked nor expired at `now`, soonest to expire first.
    pub fn live_tokens(&self, now: i64) -> Result<Vec<LiveToken>> {
        self.conn.query_all(
            "SELECT r.name, t.prefix, t.expires_at FROM recipient_tokens t
             JOIN recipients r ON r.id = t.recipient_id
             WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?1)
             ORDER BY t.expires_at IS NULL, t.expires_at, r.name",
            params![now],
            |r| {
                Ok(LiveToken {
                    recipient: r.get(0)?,
                    prefix: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            },
        )
    }
}

/// The tables holding a recipient's credentials (bearer tokens, OAuth clients) and their key.
const CREDENTIALS: [(&str, &str); 2] = [("recipient_tokens", "id"), ("oauth_clients", "client_id")];

impl Tx<'_> {
    /// `ROTATE TOKEN`: the newest live credential keeps working until `grace_until` (if it would
    /// live longer), every older one stops now, so that with the one the rotation hands out no
    /// more than two are live. Returns how many were cut short.
    pub fn expire_for_rotation(&self, recipient_id: &str, grace_until: i64) -> Result<usize> {
        let now = now_ms();
        let mut cut = 0;
        for (table, key) in CREDENTIALS {
            let live: Vec<(String, Option<i64>)> = self.conn.query_all(
&format!(
                    "SELECT {key}, expires_at FROM {table}
                     WHERE recipient_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
                     ORDER BY created_at DESC, rowid DESC"
                ),
params![recipient_id,
now], |r| Ok((r.get(0)?, r.get(1)?)),
)?;
            for (index, (id, expires_at)) in live.iter().enumerate() {
                let until = if index == 0 { grace_until } else { now };
                let until = expires_at.map_or(until, |e| e.min(until));
                self.conn.execute(
                    &format!("UPDATE {table} SET expires_at = ?2 WHERE {key} = ?1"),
                    params![id, until],
                )?;
            }
            cut += live.len();
        }
        Ok(cut)
    }

    /// `REVOKE TOKENS`: every credential of the recipient stops now. Returns how many were live.
    pub fn revoke_credentials(&self, recipient_id: &str) -> Result<usize> {
        let now = now_ms();
        let mut revoked = 0;
        for (table, _) in CREDENTIALS {
            revoked += self.conn.execute(
                &format!(
                    "UPDATE {table} SET revoked_at = ?2
                     WHERE recipient_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)"
                ),
                params![recipient_id, now],
            )?;
        }
        Ok(revoked)
    }
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

/// An admin-API token as `SHOW ADMIN TOKENS` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenInfo {
    pub prefix: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Tx<'_> {
    pub fn admin_tokens(&self) -> Result<Vec<AdminTokenInfo>> {
        self.conn.query_all(
            "SELECT prefix, name, role, created_at, expires_at, revoked_at FROM admin_tokens
             ORDER BY created_at, rowid",
            params![],
            |r| {
                Ok(AdminTokenInfo {
                    prefix: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            },
        )
    }

    /// Revokes the one live admin token with this display prefix.
    pub fn revoke_admin_token(&self, prefix: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE admin_tokens SET revoked_at = ?2 WHERE prefix = ?1 AND revoked_at IS NULL",
            params![prefix, now_ms()],
        )?;
        match n {
            0 => Err(crate::Error::not_found(format!(
                "no live admin token has the prefix '{prefix}' (see SHOW ADMIN TOKENS)"
            ))),
            1 => Ok(()),
            // 8 random characters make a clash unlikely; a clash must not revoke a stranger's token.
            _ => Err(crate::Error::invalid(format!(
                "several admin tokens share the prefix '{prefix}': revoke them by dropping and reissuing"
            ))),
        }
    }

    /// Stores a new admin-API token hash; returns the token id.
    pub fn insert_admin_token(
        &self,
        name: &str,
        role: &str,
        token_hash: &str,
        prefix: &str,
        expires_at: Option<i64>,
    ) -> Result<String> {
        let id = new_id();
        self.conn.execute(
            "INSERT INTO admin_tokens (id, name, role, token_hash, prefix, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, name, role, token_hash, prefix, now_ms(), expires_at],
        )?;
        Ok(id)
    }

    pub fn admin_token_owner(&self, token_hash: &str) -> Result<Option<AdminTokenOwner>> {
        self.conn.query_opt(
            "SELECT id, name, role, expires_at, revoked_at FROM admin_tokens WHERE token_hash = ?1",
            params![token_hash],
            |r| {
                Ok(AdminTokenOwner {
                    token_id: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                    expires_at: r.get(3)?,
                    revoked_at: r.get(4)?,
                })
            },
        )
    }
}

/// An OAuth client, as found by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub secret_hash: String,
    pub recipient_id: String,
    pub recipient: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub ip_access_list: Option<Vec<String>>,
}

impl Tx<'_> {
    pub fn insert_oauth_client(
        &self,
        recipient_id: &str,
        client_id: &str,
        secret_hash: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO oauth_clients (client_id, recipient_id, secret_hash, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![client_id, recipient_id, secret_hash, now_ms()],
        )?;
        Ok(())
    }

    pub fn oauth_client(&self, client_id: &str) -> Result<Option<OAuthClient>> {
        self.conn.query_opt(
                "SELECT c.client_id, c.secret_hash, r.id, r.name, c.expires_at, c.revoked_at, r.ip_access_list
                 FROM oauth_clients c JOIN recipients r ON r.id = c.recipient_id
                 WHERE c.client_id = ?1",
            params![client_id], |r| {
                Ok(OAuthClient {
                    client_id: r.get(0)?,
                    secret_hash: r.get(1)?,
                    recipient_id: r.get(2)?,
                    recipient: r.get(3)?,
                    expires_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                    ip_access_list: super::objects::json_column(r, 6)?,
                })
            })
    }
}
