//! Settings remembered in the catalog, shared by a server and the command line.

use super::Tx;
use super::db::params;
use crate::Result;

/// The directory of the FIRE entity schemas (`--fire-schemas`).
pub const FIRE_SCHEMAS: &str = "fire.schemas";

impl Tx<'_> {
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_opt(
            "SELECT value FROM settings WHERE key = ?1",
            params![key],
            |r| r.get(0),
        )
    }

    pub fn unset_setting(&self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM settings WHERE key = ?1", params![key])?;
        Ok(())
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
