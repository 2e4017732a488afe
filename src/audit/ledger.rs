//! The ledger's tables (events chained by hash, seals signing the chain head) and the writer
//! that appends to them. They live in the catalog's database (SQLite's `catalog.db` or the
//! PostgreSQL database), so that a catalog change and the event recording it commit in one
//! transaction ([`append_in_transaction`]), or neither does.
//!
//! Appends run in transactions that hold the chain ([`Lock::Ledger`]) and read its head from
//! the database, so that a server, `fireshare sql` in another process, every replica sharing a
//! PostgreSQL database and the catalog's own transactions extend one chain; seals are written
//! under the same lock, once. A committed event survives a crash of the process or the
//! machine. A server records requests through [`Ledger`], one writer thread that commits every
//! event waiting at that moment in one transaction (group commit).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::event::{Event, GENESIS_HASH, canonical_json, chain_hash, format_time_us, now_us};
use crate::catalog::Catalog;
use crate::catalog::db::{Conn, Db, Lock, params};
use crate::signing_key::SigningKey;
use crate::{Error, ErrorCode, Result};

/// When the writer seals the chain head: after `every` events or `interval`, whichever first.
#[derive(Debug, Clone, Copy)]
pub struct Sealing {
    pub every: u64,
    pub interval: Duration,
}

impl Default for Sealing {
    fn default() -> Self {
        Sealing {
            every: 1000,
            interval: Duration::from_secs(60),
        }
    }
}

/// The ledger's tables in the catalog's database: the one handle through which events are
/// appended, read, verified, exported and archived (the methods of `search`, `verify`,
/// `export`, `access` and `activity` too).
pub struct LedgerDb {
    db: Db,
}

impl LedgerDb {
    /// The ledger of `catalog`, to append to (a database handle of its own), started if it was
    /// not. Returns whether it was just started.
    pub fn open(catalog: &Catalog) -> Result<(LedgerDb, bool)> {
        let ledger = LedgerDb {
            db: catalog.db().sibling()?,
        };
        let created = ledger.write(|conn| {
            Ok(conn.execute(
                "INSERT INTO chain VALUES (1, 0, ?1, 0, ?1, 0, ?2) ON CONFLICT DO NOTHING",
                params![GENESIS_HASH, now_us()],
            )? == 1)
        })?;
        Ok((ledger, created))
    }

    /// The ledger of `catalog`, to read it; an error when none was started.
    pub fn of(catalog: &Catalog) -> Result<LedgerDb> {
        let ledger = LedgerDb {
            db: catalog.db().sibling()?,
        };
        let started: bool = ledger
            .read(|conn| conn.query_one("SELECT count(*) > 0 FROM chain", &[], |r| r.get(0)))?;
        if !started {
            return Err(Error::not_found(
                "no audit ledger yet: no server or command has recorded anything in this catalog",
            ));
        }
        Ok(ledger)
    }

    pub(super) fn read<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        self.db.read(work)
    }

    /// Runs read-only `work` on one consistent state of the ledger, which may grow meanwhile.
    pub(super) fn snapshot<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        self.db.snapshot(work)
    }

    /// Runs `work` in one transaction holding the chain (another writer, of this process or
    /// another, waits): committed if it returns `Ok`, else rolled back.
    pub(super) fn write<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        self.db.write(Lock::Ledger, work)
    }

    /// Takes over a ledger kept in a SQLite database of its own (`legacy`, as earlier versions
    /// did): its events, seals and chain, in one transaction, into this fresh one.
    pub fn merge(&self, legacy: &Path) -> Result<()> {
        // Attached outside the transaction, on the handle's one connection.
        self.read(|conn| {
            conn.execute(
                "ATTACH DATABASE ?1 AS legacy",
                params![legacy.to_string_lossy().as_ref()],
            )
        })?;
        let merged = self.write(|conn| {
            conn.batch(
                "DELETE FROM chain;
                 INSERT INTO events (seq, event, prev_hash, hash, time)
                     SELECT seq, event, prev_hash, hash, time FROM legacy.events;
                 INSERT INTO seals SELECT * FROM legacy.seals;
                 INSERT INTO chain SELECT * FROM legacy.chain;",
            )
        });
        self.read(|conn| conn.batch("DETACH DATABASE legacy"))?;
        merged
    }

    /// Appends `events` in one transaction, numbering and chaining them, and seals the head
    /// when due. On return (`Ok`) every event is on disk and carries its `seq`.
    pub fn append(&self, events: &mut [Event], key: &SigningKey, sealing: Sealing) -> Result<()> {
        self.write(|conn| append_in(conn, events, key, sealing))
    }

    /// Seals the head now if events are unsealed (or only when due, without `force`).
    pub fn seal(&self, key: &SigningKey, sealing: Sealing, force: bool) -> Result<()> {
        self.write(|conn| seal_if_due(conn, &head(conn)?, key, sealing, force))
    }
}

fn head(conn: &Conn<'_>) -> Result<Head> {
    conn.query_one(
        "SELECT head_seq, head_hash, sealed_seq, sealed_at_us FROM chain WHERE id = 1",
        &[],
        |r| {
            Ok(Head {
                seq: r.get(0)?,
                hash: r.get(1)?,
                sealed_seq: r.get(2)?,
                sealed_at_us: r.get(3)?,
            })
        },
    )
}

/// [`LedgerDb::append`] inside a write transaction holding the chain.
pub(super) fn append_in(
    conn: &Conn<'_>,
    events: &mut [Event],
    key: &SigningKey,
    sealing: Sealing,
) -> Result<()> {
    let mut at = head(conn)?;
    // Rows of up to ROWS_PER_INSERT events per statement: one round trip to PostgreSQL for a
    // whole group, and a few statement texts to keep prepared.
    for chunk in events.chunks_mut(ROWS_PER_INSERT) {
        let mut rows: Vec<(u64, String, String, String)> = Vec::with_capacity(chunk.len());
        for event in chunk.iter_mut() {
            event.seq = at.seq + 1;
            let canonical = event.canonical()?;
            let hash = chain_hash(&at.hash, &canonical);
            let prev = std::mem::replace(&mut at.hash, hash.clone());
            rows.push((event.seq, canonical, prev, hash));
            at.seq = event.seq;
        }
        let values: Vec<&dyn crate::catalog::db::Param> = rows
            .iter()
            .zip(chunk.iter())
            .flat_map(|((seq, canonical, prev, hash), event)| {
                [
                    seq as _,
                    canonical as _,
                    prev as _,
                    hash as _,
                    &event.time as _,
                ]
            })
            .collect();
        conn.execute(&insert_events(chunk.len()), &values)?;
    }
    conn.execute(
        "UPDATE chain SET head_seq = ?1, head_hash = ?2 WHERE id = 1",
        params![at.seq, at.hash],
    )?;
    seal_if_due(conn, &at, key, sealing, false)
}

/// Events inserted by one statement at most.
const ROWS_PER_INSERT: usize = 64;

/// `INSERT INTO events …` of `rows` rows.
fn insert_events(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let n = row * 5;
            format!(
                "(?{}, ?{}, ?{}, ?{}, ?{})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            )
        })
        .collect();
    format!(
        "INSERT INTO events (seq, event, prev_hash, hash, time) VALUES {}",
        values.join(", ")
    )
}

/// Seals the head if it is due (or `force`d) and not sealed yet.
fn seal_if_due(
    conn: &Conn<'_>,
    at: &Head,
    key: &SigningKey,
    sealing: Sealing,
    force: bool,
) -> Result<()> {
    let now = now_us();
    let unsealed = at.seq - at.sealed_seq;
    let due = unsealed >= sealing.every
        || now - at.sealed_at_us >= sealing.interval.as_micros() as i64
        || force;
    let unsealed_gauge = &crate::metrics::metrics().ledger_unsealed;
    if unsealed == 0 || !due {
        unsealed_gauge.set(unsealed as i64);
        return Ok(());
    }
    unsealed_gauge.set(0);
    let seal = canonical_json(&serde_json::json!({
        "seq": at.seq,
        "hash": at.hash,
        "time": format_time_us(now),
        "kid": key.kid(),
    }));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(seal.as_bytes()));
    conn.execute(
        "INSERT INTO seals (seq, seal, signature) VALUES (?1, ?2, ?3)",
        params![at.seq, seal, signature],
    )?;
    conn.execute(
        "UPDATE chain SET sealed_seq = ?1, sealed_at_us = ?2 WHERE id = 1",
        params![at.seq, now],
    )?;
    Ok(())
}

/// Appends `events` to the ledger inside the catalog transaction `tx`: they commit with the
/// change they record, or neither does (the ledger's tables share the catalog's database).
pub fn append_in_transaction(
    tx: &crate::catalog::Tx<'_>,
    events: &mut [Event],
    key: &SigningKey,
    sealing: Sealing,
) -> Result<()> {
    let conn = tx.connection();
    conn.exclusive(Lock::Ledger)?;
    append_in(conn, events, key, sealing)
}

#[derive(Debug)]
struct Head {
    seq: u64,
    hash: String,
    sealed_seq: u64,
    sealed_at_us: i64,
}

/// Appends `events` in one transaction. When the database refuses it for something one event
/// holds (rather than being lost), each event is appended alone, so that one refusal fails
/// one request and not the others grouped with it. Returns whether the ledger took writes
/// (what a readiness probe is told) and each event's sequence number, or why it was not
/// recorded.
fn append_group(
    ledger: &LedgerDb,
    events: &mut [Event],
    key: &SigningKey,
    sealing: Sealing,
) -> (Result<u64>, Vec<Result<u64>>) {
    match ledger.append(events, key, sealing) {
        Ok(()) => (Ok(0), events.iter().map(|e| Ok(e.seq)).collect()),
        Err(e) if events.len() > 1 && e.code() != ErrorCode::Unavailable => {
            tracing::warn!(error = %e, events = events.len(), "the ledger refused a group: writing its events one by one");
            let alone: Vec<Result<u64>> = events
                .iter_mut()
                .map(|event| {
                    ledger
                        .append(std::slice::from_mut(event), key, sealing)
                        .map(|()| event.seq)
                })
                .collect();
            // Writable if any event was written; else the group's error says why not.
            let probed = match alone.iter().any(Result::is_ok) {
                true => Ok(0),
                false => Err(e),
            };
            (probed, alone)
        }
        Err(e) => (
            Err(e.clone()),
            events.iter().map(|_| Err(e.clone())).collect(),
        ),
    }
}

/// An event waiting for the writer (none: a readiness probe, answered once a write
/// transaction commits), and who waits for it.
struct Pending {
    event: Option<Event>,
    done: tokio::sync::oneshot::Sender<Result<u64>>,
}

/// The server's ledger: one writer thread commits events in groups; every caller waits until
/// its own event is on disk.
pub struct Ledger {
    queue: Mutex<Option<mpsc::Sender<Pending>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// Events committed in one transaction at most.
const MAX_GROUP: usize = 1024;

impl Ledger {
    /// Starts the writer on an open ledger connection.
    pub fn start(ledger: LedgerDb, key: Arc<SigningKey>, sealing: Sealing) -> Self {
        let (queue, incoming) = mpsc::channel::<Pending>();
        let writer = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let mut last_seal_check = Instant::now();
                loop {
                    let wait = sealing.interval.saturating_sub(last_seal_check.elapsed());
                    let first = match incoming.recv_timeout(wait) {
                        Ok(first) => first,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            last_seal_check = Instant::now();
                            if let Err(e) = ledger.seal(&key, sealing, false) {
                                tracing::error!(error = %e, "cannot seal the audit ledger");
                            }
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    };
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match incoming.try_recv() {
                            Ok(next) => group.push(next),
                            Err(_) => break,
                        }
                    }
                    // Probes ride along; a group of probes alone commits an empty append.
                    let probes: Vec<bool> = group.iter().map(|p| p.event.is_none()).collect();
                    let mut events: Vec<Event> =
                        group.iter_mut().filter_map(|p| p.event.take()).collect();
                    let metrics = crate::metrics::metrics();
                    let timer = metrics.ledger_commit_seconds.start_timer();
                    let (probed, outcomes) = append_group(&ledger, &mut events, &key, sealing);
                    timer.observe_duration();
                    metrics.ledger_commits.inc();
                    metrics.ledger_group_events.observe(events.len() as f64);
                    if let Err(e) = &probed {
                        metrics.ledger_failures.inc();
                        tracing::error!(error = %e, events = events.len(), "cannot write the audit ledger");
                    }
                    let mut outcomes = outcomes.into_iter();
                    for (pending, probe) in group.into_iter().zip(probes) {
                        let outcome = match probe {
                            true => probed.clone(),
                            false => outcomes.next().unwrap_or(Ok(0)),
                        };
                        let _ = pending.done.send(outcome);
                    }
                }
                // Shutting down: seal what is left, so the tail is covered too.
                if let Err(e) = ledger.seal(&key, sealing, true) {
                    tracing::error!(error = %e, "cannot seal the audit ledger at shutdown");
                }
            })
            .expect("cannot start the audit writer thread");
        Ledger {
            queue: Mutex::new(Some(queue)),
            writer: Mutex::new(Some(writer)),
        }
    }

    async fn record_one(&self, event: Option<Event>) -> Result<u64> {
        let (done, committed) = tokio::sync::oneshot::channel();
        let sent = match &*self.queue.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(queue) => queue.send(Pending { event, done }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(Error::internal("the audit ledger is closed"));
        }
        committed
            .await
            .map_err(|_| Error::internal("the audit writer stopped"))?
    }

    /// Stops taking events, writes the ones queued, seals the head and waits for the writer.
    fn stop(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = writer.join();
        }
    }
}

impl super::Recorder for Ledger {
    fn record(&self, event: Event) -> Pin<Box<dyn Future<Output = Result<u64>> + Send + '_>> {
        Box::pin(self.record_one(Some(event)))
    }

    fn writable(&self) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async { self.record_one(None).await.map(|_| ()) })
    }

    fn close(&self) {
        self.stop();
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;

    #[test]
    fn an_event_the_database_refuses_fails_alone() {
        let catalog = Catalog::open_in_memory().unwrap();
        let (ledger, _) = LedgerDb::open(&catalog).unwrap();
        ledger
            .write(|c| {
                c.batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event LIKE '%poison%'
                     BEGIN SELECT RAISE(ABORT, 'refused'); END",
                )
            })
            .unwrap();
        let event = |action: &str| Event {
            action: action.into(),
            actor: Actor::anonymous(),
            ..Event::default()
        };
        let mut events = vec![event("a"), event("poison"), event("b")];
        let key = SigningKey::for_tests();
        let (probed, outcomes) = append_group(&ledger, &mut events, &key, Sealing::default());
        assert!(probed.is_ok());
        assert_eq!(outcomes[0].as_ref().ok(), Some(&1));
        assert!(outcomes[1].is_err());
        assert_eq!(outcomes[2].as_ref().ok(), Some(&2));
        // Nothing written: a readiness probe riding along hears why.
        let mut events = vec![event("poison"), event("poison too")];
        let (probed, outcomes) = append_group(&ledger, &mut events, &key, Sealing::default());
        assert!(probed.is_err() && outcomes.iter().all(Result::is_err));
    }
}
