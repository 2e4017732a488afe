//! Sessions of the web console: an admin or auditor token exchanged for a cookie. Only the
//! cookie's SHA-256 is stored; a session is found together with its token, so that a revoked
//! or expired token ends every session opened with it.

use super::Tx;
use super::db::params;
use super::tokens::AdminTokenOwner;
use crate::Result;
use crate::clock::now_ms;

/// A session found by its hash, with the token it was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub owner: AdminTokenOwner,
}

impl Tx<'_> {
    /// Stores a new session that lasts until `until`, or until its token expires if sooner;
    /// returns when it expires. Sessions that ended or expired are forgotten on the way.
    pub fn insert_console_session(&self, id_hash: &str, token_id: &str, until: i64) -> Result<i64> {
        let now = now_ms();
        self.conn.execute(
            "DELETE FROM console_sessions WHERE expires_at <= ?1 OR ended_at IS NOT NULL",
            params![now],
        )?;
        self.conn.query_one(
            "INSERT INTO console_sessions (id_hash, token_id, created_at, expires_at)
             SELECT ?1, id, CAST(?3 AS BIGINT), CASE WHEN expires_at < ?4 THEN expires_at ELSE ?4 END
             FROM admin_tokens WHERE id = ?2
             RETURNING expires_at",
            params![id_hash, token_id, now, until],
            |r| r.get(0),
        )
    }

    pub fn console_session(&self, id_hash: &str) -> Result<Option<ConsoleSession>> {
        self.conn.query_opt(
            "SELECT s.expires_at, s.ended_at, t.id, t.name, t.role, t.expires_at, t.revoked_at
                 FROM console_sessions s JOIN admin_tokens t ON t.id = s.token_id
                 WHERE s.id_hash = ?1",
            params![id_hash],
            |r| {
                Ok(ConsoleSession {
                    expires_at: r.get(0)?,
                    ended_at: r.get(1)?,
                    owner: AdminTokenOwner {
                        token_id: r.get(2)?,
                        name: r.get(3)?,
                        role: r.get(4)?,
                        expires_at: r.get(5)?,
                        revoked_at: r.get(6)?,
                    },
                })
            },
        )
    }

    /// Signs a session out; `false` when there was no live one.
    pub fn end_console_session(&self, id_hash: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE console_sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
            params![id_hash, now_ms()],
        )? == 1)
    }
}
