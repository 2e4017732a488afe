//! Settings remembered in the catalog, shared by a server and the command line.

use rusqlite::{Connection, OptionalExtension};

use crate::Result;

/// The directory of the FIRE entity schemas (`--fire-schemas`).
pub const FIRE_SCHEMAS: &str = "fire.schemas";

pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
