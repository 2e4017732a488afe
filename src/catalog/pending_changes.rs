//! Four-eyes changes waiting for a second admin, and the setting that says which statements
//! need one.

use super::db::{Row, params};

use super::Tx;
use crate::clock::now_ms;
use crate::{Error, Result};

/// The setting holding the four-eyes policy (JSON), absent when four eyes is off.
pub const FOUR_EYES: &str = "four_eyes";

/// A proposed change, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    pub id: u64,
    /// The statement's text, secrets redacted.
    pub statement: String,
    pub statement_sealed: Vec<u8>,
    /// JSON: the catalog rows it would remove and add, when proposed.
    pub effect: String,
    pub proposed_by: String,
    pub proposed_at: i64,
    pub expires_at: i64,
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub state: String,
}

/// What a proposal records.
pub struct NewChange<'a> {
    pub statement: &'a str,
    pub statement_sealed: &'a [u8],
    pub effect: &'a str,
    pub proposed_by: &'a str,
    pub expires_at: i64,
}

const COLUMNS: &str =
    "id, statement, statement_sealed, effect, proposed_by, proposed_at, expires_at, state";

fn change(row: &Row<'_>) -> Result<PendingChange> {
    Ok(PendingChange {
        id: row.get::<i64>(0)? as u64,
        statement: row.get(1)?,
        statement_sealed: row.get(2)?,
        effect: row.get(3)?,
        proposed_by: row.get(4)?,
        proposed_at: row.get(5)?,
        expires_at: row.get(6)?,
        state: row.get(7)?,
    })
}

impl Tx<'_> {
    /// Records a proposal; returns its number.
    pub fn propose_change(&self, new: &NewChange<'_>) -> Result<u64> {
        self.conn.query_one(
            "INSERT INTO pending_changes (statement, statement_sealed, effect, proposed_by, proposed_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![
                new.statement,
                new.statement_sealed,
                new.effect,
                new.proposed_by,
                now_ms(),
                new.expires_at
            ],
            |r| r.get(0),
        )
    }

    pub fn require_change(&self, id: u64) -> Result<PendingChange> {
        self.conn
            .query_opt(
                &format!("SELECT {COLUMNS} FROM pending_changes WHERE id = ?1"),
                params![id as i64],
                change,
            )?
            .ok_or_else(|| Error::not_found(format!("there is no change {id}")))
    }

    /// The changes still waiting for a decision (expired ones included), oldest first.
    pub fn undecided_changes(&self) -> Result<Vec<PendingChange>> {
        self.conn.query_all(
            &format!("SELECT {COLUMNS} FROM pending_changes WHERE state = 'pending' ORDER BY id"),
            params![],
            change,
        )
    }

    /// Records the decision on a pending change.
    pub fn decide_change(
        &self,
        id: u64,
        state: &str,
        by: &str,
        comment: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE pending_changes SET state = ?2, decided_by = ?3, decided_at = ?4, comment = ?5
             WHERE id = ?1 AND state = 'pending'",
            params![id as i64, state, by, now_ms(), comment],
        )?;
        Ok(())
    }
}
