//! One-time activation links: the first download of `/activate/{code}` hands the recipient a
//! new token in a profile file. Only the code's SHA-256 is stored; a recipient has at most one
//! usable link (a newer one withdraws the older).

use super::db::params;

use super::Tx;
use super::new_id;
use crate::Result;
use crate::clock::now_ms;

/// What became of a link when it was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// Consumed now: hand out a token for this recipient.
    Granted {
        recipient: String,
    },
    UsedAt(i64),
    ExpiredAt(i64),
    /// Replaced by a newer link, or withdrawn with `REVOKE TOKENS` / `DROP RECIPIENT`.
    Withdrawn,
    Unknown,
}

/// An activation link as `DESCRIBE RECIPIENT` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
}

impl Tx<'_> {
    /// Stores a new link for the recipient, withdrawing any unused one.
    pub fn insert_activation_link(
        &self,
        recipient_id: &str,
        code_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.withdraw_activation_links(recipient_id)?;
        self.conn.execute(
            "INSERT INTO activation_links (id, recipient_id, code_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![new_id(), recipient_id, code_hash, now_ms(), expires_at],
        )?;
        Ok(())
    }

    /// Withdraws the recipient's unused links.
    pub fn withdraw_activation_links(&self, recipient_id: &str) -> Result<usize> {
        self.conn.execute(
            "UPDATE activation_links SET withdrawn_at = ?2
             WHERE recipient_id = ?1 AND used_at IS NULL AND withdrawn_at IS NULL",
            params![recipient_id, now_ms()],
        )
    }

    /// Presents a link: consumes it when it is still usable (in the caller's transaction, with
    /// the token it hands out).
    pub fn consume_activation_link(&self, code_hash: &str) -> Result<Activation> {
        let found = self.conn.query_opt(
            "SELECT l.id, r.name, l.expires_at, l.used_at, l.withdrawn_at
                 FROM activation_links l JOIN recipients r ON r.id = l.recipient_id
                 WHERE l.code_hash = ?1",
            params![code_hash],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<Option<i64>>(3)?,
                    r.get::<Option<i64>>(4)?,
                ))
            },
        )?;
        let Some((id, recipient, expires_at, used_at, withdrawn_at)) = found else {
            return Ok(Activation::Unknown);
        };
        let now = now_ms();
        Ok(match (used_at, withdrawn_at) {
            (Some(at), _) => Activation::UsedAt(at),
            (None, Some(_)) => Activation::Withdrawn,
            (None, None) if expires_at <= now => Activation::ExpiredAt(expires_at),
            (None, None) => {
                self.conn.execute(
                    "UPDATE activation_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL",
                    params![id, now],
                )?;
                Activation::Granted { recipient }
            }
        })
    }

    /// The recipient's links, newest first.
    pub fn activation_links(&self, recipient_id: &str) -> Result<Vec<LinkInfo>> {
        self.conn.query_all(
            "SELECT created_at, expires_at, used_at, withdrawn_at FROM activation_links
             WHERE recipient_id = ?1 ORDER BY created_at DESC, rowid DESC",
            params![recipient_id],
            |r| {
                Ok(LinkInfo {
                    created_at: r.get(0)?,
                    expires_at: r.get(1)?,
                    used_at: r.get(2)?,
                    withdrawn_at: r.get(3)?,
                })
            },
        )
    }
}
