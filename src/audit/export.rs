//! Exports of the ledger (ndjson: a header line, then the events with their chain links and
//! the seals among them), and archiving: moving old events into such a file, the chain going
//! on from the cut.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::event::{Actor, Event, canonical_json, format_time_us, now_us};
use super::ledger::LedgerDb;
use super::verify::{ExportHeader, Link, Seal};
use super::{Details, Sealing, access};
use crate::catalog::db::{Conn, params};
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
        self.read(|conn| seq_range(conn, from, to))
    }

    /// Writes events `first..=last` to `out`, sealed at the end with `key` (the ledger's own seals
    /// inside the range come along).
    pub fn export(
        &self,
        key: &SigningKey,
        range: (u64, u64),
        out: &mut impl Write,
    ) -> Result<Exported> {
        self.snapshot(|conn| export(conn, key, range, out))
    }

    /// Exports a range into a new file at `path` (never over an existing one), synced to disk.
    pub fn export_to_file(
        &self,
        key: &SigningKey,
        range: (u64, u64),
        path: &Path,
    ) -> Result<Exported> {
        self.snapshot(|conn| export_to_file(conn, key, range, path))
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
        // Hold the chain throughout: no event may land between the export and the cut.
        self.write(|conn| {
            let base: u64 =
                conn.query_one("SELECT base_seq FROM chain WHERE id = 1", &[], |r| r.get(0))?;
            let Some((_, last)) = seq_range(conn, None, Some(before))? else {
                return Ok(None);
            };
            let exported = export_to_file(conn, key, (base + 1, last), path)?;
            let (cut_hash, cut_time): (String, String) = conn.query_one(
                "SELECT hash, time FROM events WHERE seq = ?1",
                params![last],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let state = access::catalog_through(conn, last)?;
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
                conn,
                std::slice::from_mut(&mut cut),
                key,
                Sealing::default(),
            )?;
            conn.execute("DELETE FROM events WHERE seq <= ?1", params![last])?;
            conn.execute("DELETE FROM seals WHERE seq <= ?1", params![last])?;
            conn.execute(
                "UPDATE chain SET base_seq = ?1, base_hash = ?2 WHERE id = 1",
                params![last, cut_hash],
            )?;
            Ok(Some(exported))
        })
    }
}

fn seq_range(conn: &Conn<'_>, from: Option<&str>, to: Option<&str>) -> Result<Option<(u64, u64)>> {
    let first: Option<u64> = conn.query_one(
        "SELECT min(seq) FROM events WHERE CAST(?1 AS TEXT) IS NULL OR time >= ?1",
        params![from],
        |r| r.get(0),
    )?;
    let last: Option<u64> = conn.query_one(
        "SELECT max(seq) FROM events WHERE CAST(?1 AS TEXT) IS NULL OR time < ?1",
        params![to],
        |r| r.get(0),
    )?;
    Ok(match (first, last) {
        (Some(first), Some(last)) if first <= last => Some((first, last)),
        _ => None,
    })
}

fn export(
    conn: &Conn<'_>,
    key: &SigningKey,
    (first, last): (u64, u64),
    out: &mut impl Write,
) -> Result<Exported> {
    let link_at = |seq: u64| -> Result<Link> {
        conn.query_opt(
            "SELECT event, prev_hash, hash FROM events WHERE seq = ?1",
            params![seq],
            |r| {
                Ok(Link {
                    seq,
                    event: serde_json::from_str(&r.get::<String>(0)?).unwrap_or(Value::Null),
                    prev_hash: r.get(1)?,
                    hash: r.get(2)?,
                })
            },
        )?
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
    let mut seals = conn
        .query_all(
            "SELECT seq, seal, signature FROM seals WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            params![first, last],
            |r| Ok((r.get::<u64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
        )?
        .into_iter()
        .peekable();
    conn.query_each(
        "SELECT seq, event, prev_hash, hash FROM events WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
        params![first, last],
        |row| {
            let link = Link {
                seq: row.get(0)?,
                event: serde_json::from_str(&row.get::<String>(1)?)?,
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
            Ok(())
        },
    )?;
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

fn export_to_file(
    conn: &Conn<'_>,
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
    let exported = export(conn, key, range, &mut out)?;
    out.into_inner()
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?
        .sync_all()?;
    Ok(exported)
}
