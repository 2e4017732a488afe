//! Exports of the ledger (ndjson: a header line, then the events with their chain links and
//! the seals among them), and archiving: moving old events into such a file, the chain going
//! on from the cut.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use super::event::{Actor, Event, canonical_json, format_time_us, now_us};
use super::ledger::LedgerDb;
use super::verify::{ExportHeader, Link, Seal};
use super::{Details, Sealing, access};
use crate::catalog::history;
use crate::signing_key::SigningKey;
use crate::{Error, Result};

/// What an export holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Exported {
    pub first_seq: u64,
    pub last_seq: u64,
}

impl LedgerDb {
    /// The contiguous run of events from the first at or after `from` to the last before `to`
    /// (times as in events; either end open). Events are numbered in the order they were
    /// committed, which can differ from their request times by a few milliseconds: a chain is cut
    /// by number, never by time.
    pub fn seq_range(&self, from: Option<&str>, to: Option<&str>) -> Result<Option<(u64, u64)>> {
        let first: Option<u64> = self.conn.query_row(
            "SELECT min(seq) FROM events WHERE ?1 IS NULL OR time >= ?1",
            [from],
            |r| r.get(0),
        )?;
        let last: Option<u64> = self.conn.query_row(
            "SELECT max(seq) FROM events WHERE ?1 IS NULL OR time < ?1",
            [to],
            |r| r.get(0),
        )?;
        Ok(match (first, last) {
            (Some(first), Some(last)) if first <= last => Some((first, last)),
            _ => None,
        })
    }

    /// Writes events `first..=last` to `out`, sealed at the end with `key` (the ledger's own seals
    /// inside the range come along).
    pub fn export(
        &self,
        key: &SigningKey,
        (first, last): (u64, u64),
        out: &mut impl Write,
    ) -> Result<Exported> {
        let link_at = |seq: u64| -> Result<Link> {
            self.conn
                .query_row(
                    "SELECT event, prev_hash, hash FROM events WHERE seq = ?1",
                    [seq],
                    |r| {
                        Ok(Link {
                            seq,
                            event: serde_json::from_str(&r.get::<_, String>(0)?)
                                .unwrap_or(Value::Null),
                            prev_hash: r.get(1)?,
                            hash: r.get(2)?,
                        })
                    },
                )
                .optional()?
                .ok_or_else(|| Error::internal(format!("event {seq} is missing from the ledger")))
        };
        let (base, head) = (link_at(first)?, link_at(last)?);
        let header = ExportHeader {
            fireshare_audit_export: 1,
            base_seq: first - 1,
            base_hash: base.prev_hash.clone(),
            head_seq: last,
            head_hash: head.hash.clone(),
        };
        writeln!(out, "{}", serde_json::to_string(&header)?)?;
        let mut seals = self.conn.prepare(
            "SELECT seq, seal, signature FROM seals WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let mut seals = seals
            .query_map([first, last], |r| {
                Ok((
                    r.get::<_, u64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .peekable();
        let mut events = self.conn.prepare(
            "SELECT seq, event, prev_hash, hash FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        )?;
        let mut rows = events.query([first, last])?;
        while let Some(row) = rows.next()? {
            let link = Link {
                seq: row.get(0)?,
                event: serde_json::from_str(&row.get::<_, String>(1)?)?,
                prev_hash: row.get(2)?,
                hash: row.get(3)?,
            };
            writeln!(out, "{}", serde_json::to_string(&link)?)?;
            while let Some((_, seal, signature)) = seals.next_if(|(s, _, _)| *s == link.seq) {
                let seal = Seal {
                    seal: serde_json::from_str(&seal)?,
                    signature,
                };
                writeln!(out, "{}", serde_json::to_string(&seal)?)?;
            }
        }
        // The export's own seal signs where it starts as well as where it ends: a file cut at
        // either end does not verify.
        let seal = serde_json::json!({
            "seq": last,
            "hash": head.hash,
            "baseSeq": header.base_seq,
            "baseHash": header.base_hash,
            "time": format_time_us(now_us()),
            "kid": key.kid(),
            "export": true,
        });
        let signature = URL_SAFE_NO_PAD.encode(key.sign(canonical_json(&seal).as_bytes()));
        writeln!(out, "{}", serde_json::to_string(&Seal { seal, signature })?)?;
        Ok(Exported {
            first_seq: first,
            last_seq: last,
        })
    }

    /// Exports a range into a new file at `path` (never over an existing one), synced to disk.
    pub fn export_to_file(
        &self,
        key: &SigningKey,
        range: (u64, u64),
        path: &Path,
    ) -> Result<Exported> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::invalid(format!("cannot create {}: {e}", path.display())))?;
        let mut out = std::io::BufWriter::new(file);
        let exported = self.export(key, range, &mut out)?;
        out.into_inner()
            .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?
            .sync_all()?;
        Ok(exported)
    }

    /// Moves the events before `before` into a new export file at `path`, then removes them from
    /// the ledger, whose chain goes on from the last archived event. Nothing is removed unless
    /// the file was written and synced whole.
    ///
    /// The ledger keeps one new event (by `actor`) recording the cut and the catalog as of it, so
    /// that `SHOW ACCESS … AS OF` still answers for any time after the cut.
    pub fn archive(
        &self,
        key: &SigningKey,
        before: &str,
        path: &Path,
        actor: Actor,
    ) -> Result<Option<Exported>> {
        // Hold the write lock throughout: no event may land between the export and the cut.
        self.immediate(|| {
            let base: u64 =
                self.conn
                    .query_row("SELECT base_seq FROM chain WHERE id = 1", [], |r| r.get(0))?;
            let Some((_, last)) = self.seq_range(None, Some(before))? else {
                return Ok(None);
            };
            let exported = self.export_to_file(key, (base + 1, last), path)?;
            let (cut_hash, cut_time): (String, String) = self.conn.query_row(
                "SELECT hash, time FROM events WHERE seq = ?1",
                [last],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let state = self.catalog_through(last)?;
            let mut cut = Event {
                actor,
                action: access::ARCHIVE_ACTION.into(),
                params: Some(serde_json::json!({
                    "before": before,
                    "throughSeq": last,
                    "throughTime": cut_time,
                    "throughHash": cut_hash,
                    "file": path.display().to_string(),
                })),
                statements: vec![serde_json::json!({
                    "action": access::ARCHIVE_ACTION,
                    "changes": history::diff(&Default::default(), &state),
                })],
                ..Details::default().into_event()
            };
            super::ledger::append_in(
                &self.conn,
                std::slice::from_mut(&mut cut),
                key,
                Sealing::default(),
            )?;
            self.conn
                .execute("DELETE FROM events WHERE seq <= ?1", [last])?;
            self.conn
                .execute("DELETE FROM seals WHERE seq <= ?1", [last])?;
            self.conn.execute(
                "UPDATE chain SET base_seq = ?1, base_hash = ?2 WHERE id = 1",
                params![last, cut_hash],
            )?;
            Ok(Some(exported))
        })
    }
}
