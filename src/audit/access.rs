//! The catalog as it was at a past time, rebuilt from the ledger: the ledger starts with every
//! governed row, each admin statement records the rows it removed and added, and an archive
//! leaves behind the state at its cut. `SHOW ACCESS … AS OF` folds these.

use super::ledger::LedgerDb;
use serde_json::Value;

use crate::catalog::db::{Conn, params};
use crate::catalog::history::{self, CatalogRows};
use crate::{Error, Result};

/// The action of the event an archive appends, whose one statement holds the catalog as of
/// the last archived event.
pub const ARCHIVE_ACTION: &str = "archiveLedger";

/// Where an archive left the ledger: the state it records covers events up to `through_seq`,
/// the last of which happened at `through_time`.
struct ArchiveBase {
    through_seq: u64,
    through_time: String,
    file: String,
    rows: CatalogRows,
}

impl LedgerDb {
    /// The governed catalog rows as of `time` (in the events' format).
    pub fn catalog_as_of(&self, time: &str) -> Result<CatalogRows> {
        self.snapshot(|conn| match archive_base(conn)? {
            Some(base) if time < base.through_time.as_str() => Err(Error::invalid(format!(
                "the ledger's events before {} were archived to {}: check that archive for earlier times",
                base.through_time, base.file
            ))),
            Some(mut base) => {
                fold(conn, &mut base.rows, base.through_seq, None, Some(time))?;
                Ok(base.rows)
            }
            None => {
                let mut rows = CatalogRows::new();
                fold(conn, &mut rows, 0, None, Some(time))?;
                Ok(rows)
            }
        })
    }
}

/// The governed catalog rows after event `through` (for an archive cut).
pub(super) fn catalog_through(conn: &Conn<'_>, through: u64) -> Result<CatalogRows> {
    let (mut rows, after) = match archive_base(conn)? {
        Some(base) => (base.rows, base.through_seq),
        None => (CatalogRows::new(), 0),
    };
    fold(conn, &mut rows, after, Some(through), None)?;
    Ok(rows)
}

fn archive_base(conn: &Conn<'_>) -> Result<Option<ArchiveBase>> {
    let event: Option<String> = conn.query_opt(
        "SELECT event FROM events WHERE json_extract(event, '$.action') = ?1
         ORDER BY seq DESC LIMIT 1",
        params![ARCHIVE_ACTION],
        |r| r.get(0),
    )?;
    let Some(event) = event else {
        return Ok(None);
    };
    let event: Value = serde_json::from_str(&event)?;
    let params = &event["params"];
    let mut rows = CatalogRows::new();
    history::apply(&mut rows, &event["statements"][0]["changes"]);
    Ok(Some(ArchiveBase {
        through_seq: params["throughSeq"].as_u64().unwrap_or(0),
        through_time: params["throughTime"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        file: params["file"].as_str().unwrap_or_default().to_string(),
        rows,
    }))
}

/// Applies the recorded changes of events after `after`, up to `through` (or the end) and at or
/// before `until` (or any time), in ledger order.
fn fold(
    conn: &Conn<'_>,
    rows: &mut CatalogRows,
    after: u64,
    through: Option<u64>,
    until: Option<&str>,
) -> Result<()> {
    conn.query_each(
        "SELECT event FROM events
         WHERE json_extract(event, '$.statements') IS NOT NULL
           AND seq > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR seq <= ?2) AND (CAST(?3 AS TEXT) IS NULL OR time <= ?3)
           AND json_extract(event, '$.action') != ?4
         ORDER BY seq",
        params![after, through, until, ARCHIVE_ACTION],
        |row| {
            let event: Value = serde_json::from_str(&row.get::<String>(0)?)?;
            for statement in event["statements"].as_array().into_iter().flatten() {
                history::apply(rows, &statement["changes"]);
            }
            Ok(())
        },
    )
}
