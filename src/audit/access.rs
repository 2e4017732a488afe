//! The catalog as it was at a past time, rebuilt from the ledger: the ledger starts with every
//! governed row, each admin statement records the rows it removed and added, and an archive
//! leaves behind the state at its cut. `SHOW ACCESS … AS OF` folds these.

use rusqlite::OptionalExtension;

use super::ledger::LedgerDb;
use serde_json::Value;

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
    fn archive_base(&self) -> Result<Option<ArchiveBase>> {
        let event: Option<String> = self
            .conn
            .query_row(
                "SELECT event FROM events WHERE json_extract(event, '$.action') = ?1
                 ORDER BY seq DESC LIMIT 1",
                [ARCHIVE_ACTION],
                |r| r.get(0),
            )
            .optional()?;
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
        &self,
        rows: &mut CatalogRows,
        after: u64,
        through: Option<u64>,
        until: Option<&str>,
    ) -> Result<()> {
        let mut select = self.conn.prepare(
            "SELECT event FROM events
             WHERE json_extract(event, '$.statements') IS NOT NULL
               AND seq > ?1 AND (?2 IS NULL OR seq <= ?2) AND (?3 IS NULL OR time <= ?3)
               AND json_extract(event, '$.action') != ?4
             ORDER BY seq",
        )?;
        let mut found = select.query(rusqlite::params![after, through, until, ARCHIVE_ACTION])?;
        while let Some(row) = found.next()? {
            let event: Value = serde_json::from_str(&row.get::<_, String>(0)?)?;
            for statement in event["statements"].as_array().into_iter().flatten() {
                history::apply(rows, &statement["changes"]);
            }
        }
        Ok(())
    }

    /// The governed catalog rows as of `time` (in the events' format).
    pub fn catalog_as_of(&self, time: &str) -> Result<CatalogRows> {
        match self.archive_base()? {
            Some(base) if time < base.through_time.as_str() => Err(Error::invalid(format!(
                "the ledger's events before {} were archived to {}: check that archive for earlier times",
                base.through_time, base.file
            ))),
            Some(mut base) => {
                self.fold(&mut base.rows, base.through_seq, None, Some(time))?;
                Ok(base.rows)
            }
            None => {
                let mut rows = CatalogRows::new();
                self.fold(&mut rows, 0, None, Some(time))?;
                Ok(rows)
            }
        }
    }

    /// The governed catalog rows after event `through` (for an archive cut).
    pub fn catalog_through(&self, through: u64) -> Result<CatalogRows> {
        let (mut rows, after) = match self.archive_base()? {
            Some(base) => (base.rows, base.through_seq),
            None => (CatalogRows::new(), 0),
        };
        self.fold(&mut rows, after, Some(through), None)?;
        Ok(rows)
    }
}
