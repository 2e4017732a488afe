//! Checking a ledger, or an export of one, with nothing but the public key: every event's hash
//! is recomputed from its content and the hash before it, every seal's signature is checked
//! against the chain at its position, and the chain must reach the head the ledger recorded.
//! The first problem is reported with its sequence number.

use std::io::BufRead;

use super::ledger::LedgerDb;
use crate::catalog::db::Conn;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{canonical_json, chain_hash};
use crate::signing_key::VerifyingKey;
use crate::{Error, Result};

/// One event as stored: what the chain links.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub event: Value,
}

/// A signed chain head.
#[derive(Debug, Serialize, Deserialize)]
pub struct Seal {
    pub seal: Value,
    pub signature: String,
}

/// The first line of an export file: where its chain starts and ends.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportHeader {
    /// Always `1`: names the format.
    pub fireshare_audit_export: u32,
    pub base_seq: u64,
    pub base_hash: String,
    pub head_seq: u64,
    pub head_hash: String,
}

/// What a successful check saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verified {
    pub events: u64,
    pub first_seq: Option<u64>,
    pub last_seq: u64,
    pub last_hash: String,
    pub seals: u64,
    /// Events after the last seal: chained, not signed yet.
    pub unsealed: u64,
}

/// The first thing found wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}: {}", self.seq, self.message)
    }
}

/// Walks a chain from its base, link by link.
struct Verifier<'k> {
    key: &'k VerifyingKey,
    next_seq: u64,
    prev_hash: String,
    done: Verified,
}

impl<'k> Verifier<'k> {
    fn new(key: &'k VerifyingKey, base_seq: u64, base_hash: &str) -> Self {
        Verifier {
            key,
            next_seq: base_seq + 1,
            prev_hash: base_hash.to_string(),
            done: Verified {
                last_seq: base_seq,
                last_hash: base_hash.to_string(),
                ..Verified::default()
            },
        }
    }

    fn link(&mut self, link: &Link) -> Result<(), Problem> {
        let expected = self.next_seq;
        let problem = |seq, message: String| Err(Problem { seq, message });
        if link.seq > expected {
            return problem(
                expected,
                format!(
                    "missing: the ledger goes on at event {} (deleted?)",
                    link.seq
                ),
            );
        }
        if link.seq < expected {
            return problem(
                link.seq,
                format!("found again after event {} (reordered?)", expected - 1),
            );
        }
        if link.event.get("seq").and_then(Value::as_u64) != Some(link.seq) {
            return problem(
                link.seq,
                format!(
                    "holds the content of event {} (moved or reordered)",
                    link.event.get("seq").unwrap_or(&Value::Null)
                ),
            );
        }
        if link.prev_hash != self.prev_hash {
            return problem(
                link.seq,
                "does not follow the event before it (an event before it was removed, altered or reordered)".into(),
            );
        }
        let hash = chain_hash(&self.prev_hash, &canonical_json(&link.event));
        if hash != link.hash {
            return problem(
                link.seq,
                "altered: its content does not match its hash".into(),
            );
        }
        self.next_seq += 1;
        self.prev_hash = hash;
        self.done.events += 1;
        self.done.first_seq.get_or_insert(link.seq);
        self.done.last_seq = link.seq;
        self.done.last_hash.clone_from(&self.prev_hash);
        self.done.unsealed += 1;
        Ok(())
    }

    fn seal(&mut self, seal: &Seal) -> Result<(), Problem> {
        let seq = seal.seal.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let problem = |message: String| Err(Problem { seq, message });
        let signature = URL_SAFE_NO_PAD.decode(&seal.signature).unwrap_or_default();
        if !self
            .key
            .verify(canonical_json(&seal.seal).as_bytes(), &signature)
        {
            return problem(format!(
                "the seal over this event is not signed by key {}",
                self.key.kid
            ));
        }
        if seq > self.done.last_seq {
            return Err(Problem {
                seq: self.done.last_seq + 1,
                message: format!(
                    "missing: sealed up to event {seq}, but the chain ends at event {} (the tail was cut)",
                    self.done.last_seq
                ),
            });
        }
        if seq < self.done.last_seq
            || seal.seal.get("hash").and_then(Value::as_str) != Some(&self.done.last_hash)
        {
            return problem(
                "the chain here does not match the signed seal (events up to here were altered, removed or reordered)".into(),
            );
        }
        self.done.seals += 1;
        self.done.unsealed = 0;
        Ok(())
    }

    fn finish(self, head_seq: u64, head_hash: &str) -> Result<Verified, Problem> {
        if head_seq > self.done.last_seq {
            return Err(Problem {
                seq: self.done.last_seq + 1,
                message: format!(
                    "missing: the ledger recorded events up to {head_seq} (the tail was cut)"
                ),
            });
        }
        if head_seq < self.done.last_seq || head_hash != self.done.last_hash {
            return Err(Problem {
                seq: head_seq,
                message: "the recorded chain head does not match the events".into(),
            });
        }
        Ok(self.done)
    }
}

impl LedgerDb {
    /// Checks the ledger as it is now (events appended meanwhile are left for the next check).
    pub fn verify_ledger(
        &self,
        key: &VerifyingKey,
    ) -> Result<std::result::Result<Verified, Problem>> {
        self.snapshot(|conn| verify_in(conn, key))
    }
}

fn verify_in(
    conn: &Conn<'_>,
    key: &VerifyingKey,
) -> Result<std::result::Result<Verified, Problem>> {
    let (base_seq, base_hash, head_seq, head_hash): (u64, String, u64, String) = conn.query_one(
        "SELECT base_seq, base_hash, head_seq, head_hash FROM chain WHERE id = 1",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut seals = conn
        .query_all(
            "SELECT seq, seal, signature FROM seals ORDER BY seq",
            &[],
            |r| {
                let seal = serde_json::from_str(&r.get::<String>(1)?).unwrap_or(Value::Null);
                Ok((
                    r.get::<u64>(0)?,
                    Seal {
                        seal,
                        signature: r.get(2)?,
                    },
                ))
            },
        )?
        .into_iter()
        .peekable();
    let mut verifier = Verifier::new(key, base_seq, &base_hash);
    // The first problem found; the events after it are not looked at.
    let mut problem = None;
    conn.query_each(
        "SELECT seq, event, prev_hash, hash, time FROM events ORDER BY seq",
        &[],
        |row| {
            if problem.is_some() {
                return Ok(());
            }
            let seq: u64 = row.get(0)?;
            while let Some((_, seal)) = seals.next_if(|(s, _)| *s < seq) {
                if let Err(found) = verifier.seal(&seal) {
                    problem = Some(found);
                    return Ok(());
                }
            }
            let text: String = row.get(1)?;
            let link = Link {
                seq,
                event: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                prev_hash: row.get(2)?,
                hash: row.get(3)?,
            };
            if let Err(found) = verifier.link(&link) {
                problem = Some(found);
                return Ok(());
            }
            // Time filters read the column: it must say what the event says.
            if link.event.get("time").and_then(Value::as_str) != Some(&row.get::<String>(4)?) {
                problem = Some(Problem {
                    seq,
                    message: "altered: its time column does not match its content".into(),
                });
            }
            Ok(())
        },
    )?;
    if let Some(problem) = problem {
        return Ok(Err(problem));
    }
    for (_, seal) in seals {
        if let Err(problem) = verifier.seal(&seal) {
            return Ok(Err(problem));
        }
    }
    Ok(verifier.finish(head_seq, &head_hash))
}

/// Checks an export file (see [`super::export`]).
pub fn verify_export(
    file: impl BufRead,
    key: &VerifyingKey,
) -> Result<std::result::Result<Verified, Problem>> {
    let mut lines = file.lines();
    let header: ExportHeader = match lines.next() {
        Some(line) => serde_json::from_str(&line?)
            .map_err(|e| Error::invalid(format!("not a fireshare audit export: {e}")))?,
        None => return Err(Error::invalid("the export file is empty")),
    };
    let mut verifier = Verifier::new(key, header.base_seq, &header.base_hash);
    let mut last_seal = None;
    for (number, line) in lines.enumerate() {
        let line = line?;
        let record: Value = serde_json::from_str(&line).map_err(|e| {
            Error::invalid(format!(
                "line {} of the export is not JSON: {e}",
                number + 2
            ))
        })?;
        let checked = if record.get("seal").is_some() {
            let seal: Seal = serde_json::from_value(record)?;
            let checked = verifier.seal(&seal);
            last_seal = Some(seal.seal);
            checked
        } else {
            last_seal = None;
            verifier.link(&serde_json::from_value(record)?)
        };
        if let Err(problem) = checked {
            return Ok(Err(problem));
        }
    }
    // The export ends with its own signed seal, which also names where the file starts.
    let whole = last_seal.is_some_and(|seal| {
        seal.get("export") == Some(&Value::Bool(true))
            && seal.get("baseSeq").and_then(Value::as_u64) == Some(header.base_seq)
            && seal.get("baseHash").and_then(Value::as_str) == Some(header.base_hash.as_str())
    });
    if !whole {
        return Ok(Err(Problem {
            seq: verifier.done.last_seq + 1,
            message: "missing: the export does not end with its signed seal naming its start (cut or edited)".into(),
        }));
    }
    Ok(verifier.finish(header.head_seq, &header.head_hash))
}
