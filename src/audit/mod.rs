//! The audit ledger: a record of every request, committed before the response is sent,
//! chained by hash and sealed with the server's audit key, so that an auditor holding only the
//! public key can show that no record was altered, removed or reordered.
//!
//! A server records every request by construction (its recording middleware, in `web`, writes
//! the event of every request whatever its endpoint, through a [`Recorder`]); the command line
//! records each command ([`record_command`]). Handlers only add to a request's [`Trail`] what
//! they alone know (who the caller turned out to be, the version served, the files). A catalog
//! change is recorded in its own transaction ([`Trail::write`]): the ledger shares the catalog's
//! database, so a change and its event commit together or not at all.

pub mod access;
pub mod activity;
pub mod event;
pub mod export;
pub mod ledger;
pub mod receipt;
pub mod search;
mod trail;
pub mod verify;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use event::{Actor, Event};
pub use ledger::{Ledger, LedgerDb, Sealing};
pub use trail::{Details, InTransaction, Trail, request_id_at, request_id_time};

use crate::catalog::history;
use crate::catalog::{Catalog, Tx};
use crate::data_dir::DataDir;
use crate::signing_key::{SigningKey, VerifyingKey};
use crate::{Error, Result};

/// The audit side of a server: where its events are recorded and the key that signs seals
/// and receipts.
pub struct Audit {
    pub recorder: Box<dyn Recorder>,
    pub key: Arc<SigningKey>,
}

impl Audit {
    /// Opens (creating on first use) the data directory's ledger and starts its writer.
    pub fn open(dir: &DataDir, catalog: &Catalog, sealing: Sealing) -> Result<Self> {
        let key = Arc::new(SigningKey::load_or_create(&dir.audit_key())?);
        let ledger = open_ledger(dir, catalog, &key, sealing)?;
        Ok(Audit {
            recorder: Box::new(Ledger::start(ledger, key.clone(), sealing)),
            key,
        })
    }
}

/// Where a server's events go: the ledger's writer. The seam through which tests and benches
/// record elsewhere (in memory, or nowhere to measure what recording costs).
pub trait Recorder: Send + Sync {
    /// Records `event`; resolves once it is committed, with its sequence number.
    fn record(&self, event: Event) -> Pin<Box<dyn Future<Output = Result<u64>> + Send + '_>>;
    /// Resolves once a write transaction of the ledger commits (a readiness probe): an error
    /// when events could not be recorded now.
    fn writable(&self) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async { Ok(()) })
    }
    /// Writes what is queued and stops taking events (when the server stops).
    fn close(&self) {}
}

/// Opens the ledger; a new one starts with the catalog as it is (every governed row, as if
/// added), so that access at any later time can be rebuilt from the ledger alone.
pub fn open_ledger(
    dir: &DataDir,
    catalog: &Catalog,
    key: &SigningKey,
    sealing: Sealing,
) -> Result<LedgerDb> {
    let (ledger, created) = LedgerDb::open(catalog)?;
    let legacy = dir.legacy_audit_db();
    if created && legacy.is_file() && catalog.db().sqlite_path().is_some() {
        ledger.merge(&legacy)?;
        let merged = legacy.with_extension("db.merged-into-catalog");
        std::fs::rename(&legacy, &merged)?;
        tracing::info!(from = %legacy.display(), "merged the audit ledger into the catalog's database");
    } else if created {
        let rows = catalog.read(|c| c.governed_rows())?;
        let mut start = Event {
            action: "startLedger".into(),
            actor: Actor {
                kind: "system".into(),
                ..Actor::default()
            },
            statements: vec![serde_json::json!({
                "action": "startLedger",
                "changes": history::diff(&Default::default(), &rows),
            })],
            ..Details::default().into_event()
        };
        ledger.append(std::slice::from_mut(&mut start), key, sealing)?;
    }
    Ok(ledger)
}

/// Runs `work` outside any request (the command line, the demo) and records it as one event
/// of the command-line user, also when it fails. A change `work` makes through
/// [`Trail::write`] (see [`note_change`]) commits with its event; anything else is recorded
/// once `work` returns. The ledger is opened first: when it cannot be written, nothing runs.
pub fn record_command<T>(
    dir: &DataDir,
    catalog: &Catalog,
    action: &str,
    work: impl FnOnce(&Trail) -> Result<T>,
) -> Result<T> {
    let key = Arc::new(SigningKey::load_or_create(&dir.audit_key())?);
    let ledger = open_ledger(dir, catalog, &key, Sealing::default())?;
    let trail = Trail::new();
    let named = action.to_string();
    trail.record_changes(InTransaction {
        key: key.clone(),
        sealing: Sealing::default(),
        event: Box::new(move |details| command_event(details, &named, None)),
    });
    let outcome = work(&trail);
    let details = trail.take();
    if details.recorded.is_none() {
        let mut event = command_event(details, action, outcome.as_ref().err());
        ledger.append(std::slice::from_mut(&mut event), &key, Sealing::default())?;
    }
    outcome
}

/// The event of a command that ran `details`, named `action` unless it names itself.
fn command_event(details: Details, action: &str, failure: Option<&Error>) -> Event {
    let action = details.action.clone().unwrap_or_else(|| action.into());
    Event {
        actor: details.actor.clone().unwrap_or_else(command_line_actor),
        status: failure.map_or(0, |e| e.code().http_status()),
        error_code: failure.map(|e| e.code().as_str().into()),
        action,
        ..details.into_event()
    }
}

/// Whoever runs a command on the data directory: an admin, named by their login.
pub fn command_line_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor {
        kind: "admin".into(),
        name: Some(format!("cli:{user}")),
        token_id: None,
    }
}

/// The command-line user acting as the named admin (`fireshare sql --as NAME`).
pub fn command_line_actor_as(name: &str) -> Actor {
    let login = command_line_actor();
    Actor {
        name: Some(format!(
            "{name} ({})",
            login.name.as_deref().unwrap_or("cli")
        )),
        ..login
    }
}

/// Runs `change` in one catalog write transaction, notes in `trail` what it changed, as a
/// statement named `text`, and commits the trail's event with it.
pub fn note_change<T>(
    trail: &Trail,
    catalog: &Catalog,
    named: (&str, &str),
    change: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    trail.write(catalog, |tx| {
        let done = note_in(trail, tx, named, change)?;
        trail.commit_in(tx)?;
        Ok(done)
    })
}

/// Runs `change` in the write transaction `tx` and notes in `trail` what it changed, as a
/// statement named `text` whose action is `action`.
pub fn note_in<T>(
    trail: &Trail,
    tx: &Tx<'_>,
    (text, action): (&str, &str),
    change: impl FnOnce(&Tx<'_>) -> Result<T>,
) -> Result<T> {
    let before = tx.governed_rows()?;
    let done = change(tx)?;
    let changes = history::diff(&before, &tx.governed_rows()?);
    trail.update(|d| {
        d.statements.push(serde_json::json!({
            "statement": text,
            "action": action,
            "changes": changes,
        }))
    });
    Ok(done)
}

/// The data directory's audit key; an error when there is none (no ledger was ever written).
pub fn own_signing_key(dir: &DataDir) -> Result<SigningKey> {
    let path = dir.audit_key();
    if !path.is_file() {
        return Err(Error::not_found(format!(
            "no audit key at {}: no server or command has written a ledger in this data directory",
            path.display()
        )));
    }
    SigningKey::load_or_create(&path)
}

pub fn own_public_key(dir: &DataDir) -> Result<VerifyingKey> {
    Ok(VerifyingKey::of(&own_signing_key(dir)?))
}

/// A key set file, as `fireshare audit public-key` prints it.
pub fn read_public_key(path: &std::path::Path) -> Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(format!("cannot read key set {}: {e}", path.display())))?;
    VerifyingKey::from_jwks(&text)
}

/// One line saying what a successful check covered.
pub fn describe(verified: &verify::Verified) -> String {
    let mut text = match verified.first_seq {
        Some(first) => format!(
            "verified: events {first}..{} ({} events), {} seals",
            verified.last_seq, verified.events, verified.seals
        ),
        None => format!("verified: no events after event {}", verified.last_seq),
    };
    if verified.unsealed > 0 {
        text.push_str(&format!(
            "; the last {} events are chained but not sealed yet (a server seals every 1000 events or 60 s, and when it stops)",
            verified.unsealed
        ));
    }
    text.push_str(&format!("; head hash {}", verified.last_hash));
    text
}
