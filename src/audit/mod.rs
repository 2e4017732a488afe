//! The audit ledger: a record of every request, committed before the response is sent,
//! chained by hash and sealed with the server's audit key, so that an auditor holding only the
//! public key can show that no record was altered, removed or reordered.
//!
//! A server records every request by construction (its recording middleware, in `web`, writes
//! the event of every request whatever its endpoint, through a [`Recorder`]); the command line
//! records each command ([`record_command`]). Handlers only add to a request's [`Trail`] what
//! they alone know (who the caller turned out to be, the version served, the files).

pub mod access;
pub mod event;
pub mod export;
pub mod ledger;
pub mod receipt;
pub mod search;
pub mod verify;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

pub use event::{Actor, Event};
pub use ledger::{Ledger, LedgerDb, Sealing};

use crate::Result;
use crate::catalog::Catalog;
use crate::catalog::history;
use crate::data_dir::DataDir;
use crate::signing_key::{SigningKey, VerifyingKey};

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
    let (ledger, created) = LedgerDb::open(&dir.catalog_db())?;
    let legacy = dir.legacy_audit_db();
    if created && legacy.is_file() {
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
/// of the command-line user, also when it fails. The ledger is opened first: when it cannot be
/// written, nothing runs.
pub fn record_command<T>(
    dir: &DataDir,
    catalog: &Catalog,
    action: &str,
    work: impl FnOnce(&Trail) -> Result<T>,
) -> Result<T> {
    let key = SigningKey::load_or_create(&dir.audit_key())?;
    let ledger = open_ledger(dir, catalog, &key, Sealing::default())?;
    let trail = Trail::new();
    let outcome = work(&trail);
    let mut details = trail.take();
    details.action.get_or_insert_with(|| action.into());
    let failure = outcome.as_ref().err();
    let mut event = Event {
        actor: command_line_actor(),
        status: failure.map_or(0, |e| e.code().http_status()),
        error_code: failure.map(|e| e.code().as_str().into()),
        ..details.into_event()
    };
    ledger.append(std::slice::from_mut(&mut event), &key, Sealing::default())?;
    outcome
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

/// Runs `change` (one catalog write) and notes in `trail` what it changed, as a statement
/// named `text`. Rows are compared before and after, outside `change`'s transaction: for the
/// command line, whose writes are rare.
pub fn note_change<T>(
    trail: &Trail,
    catalog: &Catalog,
    (text, action): (&str, &str),
    change: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let before = catalog.read(|c| c.governed_rows())?;
    let done = change()?;
    let after = catalog.read(|c| c.governed_rows())?;
    trail.update(|d| {
        d.statements.push(serde_json::json!({
            "statement": text,
            "action": action,
            "changes": history::diff(&before, &after),
        }))
    });
    Ok(done)
}

/// The data directory's audit key; an error when there is none (no ledger was ever written).
pub fn own_signing_key(dir: &DataDir) -> Result<SigningKey> {
    let path = dir.audit_key();
    if !path.is_file() {
        return Err(crate::Error::not_found(format!(
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
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::Error::invalid(format!("cannot read key set {}: {e}", path.display()))
    })?;
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

/// What a handler adds to its request's event. Shared between the middleware and the
/// handler's blocking work.
#[derive(Clone, Default)]
pub struct Trail(Arc<Mutex<Details>>);

pub struct Details {
    pub request_id: String,
    /// When the request came in.
    pub time: String,
    pub started: Instant,
    pub actor: Option<Actor>,
    /// Replaces the action the route names (admin statements name themselves).
    pub action: Option<String>,
    /// The table, where the URL does not name it (file downloads: its catalog name).
    pub schema: Option<String>,
    pub table: Option<String>,
    pub versions: Option<Value>,
    pub params: Option<Value>,
    pub files: Option<u64>,
    pub statements: Vec<Value>,
    pub receipt: Option<String>,
}

impl Default for Details {
    fn default() -> Self {
        let now = event::now_us();
        Details {
            request_id: request_id_at(now),
            time: event::format_time_us(now),
            started: Instant::now(),
            actor: None,
            action: None,
            schema: None,
            table: None,
            versions: None,
            params: None,
            files: None,
            statements: Vec::new(),
            receipt: None,
        }
    }
}

impl Details {
    /// An event of these details, as an anonymous actor's; the rest is for the caller to fill.
    pub(crate) fn into_event(self) -> Event {
        Event {
            seq: 0,
            time: self.time,
            request_id: self.request_id,
            actor: self.actor.unwrap_or_else(Actor::anonymous),
            action: self.action.unwrap_or_default(),
            schema: self.schema,
            table: self.table,
            versions: self.versions,
            params: self.params,
            files: self.files,
            duration_us: self.started.elapsed().as_micros() as u64,
            statements: self.statements,
            receipt: self.receipt,
            ..Event::default()
        }
    }
}

impl Trail {
    /// The trail of a request arriving now.
    pub fn new() -> Self {
        Trail::default()
    }

    pub fn update(&self, f: impl FnOnce(&mut Details)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn request_id(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .request_id
            .clone()
    }

    pub(crate) fn take(&self) -> Details {
        std::mem::take(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A request id, as returned in `X-Request-Id`: the request's time (µs, 16 hex digits) and 64
/// random bits. The ledger finds an event by its id through its time.
pub fn request_id_at(time_us: i64) -> String {
    format!("{time_us:016x}{:016x}", rand::random::<u64>())
}

/// The time a request id was given at (see [`request_id_at`]).
pub fn request_id_time(request_id: &str) -> Option<i64> {
    let hex = request_id.get(..16).filter(|_| request_id.len() == 32)?;
    i64::from_str_radix(hex, 16).ok()
}
