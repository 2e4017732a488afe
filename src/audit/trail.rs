//! What a request or a command adds to its event while it runs (a [`Trail`]), and how the event
//! of a catalog change commits in the change's own transaction ([`Trail::write`]): the change
//! and its record are on disk together or not at all.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::Value;

use super::event::{self, Actor, Event};
use super::ledger::{Sealing, append_in_transaction};
use crate::catalog::{Catalog, Tx};
use crate::signing_key::SigningKey;
use crate::{Error, Result};

/// What a handler adds to its request's event. Shared between the middleware and the
/// handler's blocking work.
#[derive(Clone, Default)]
pub struct Trail {
    details: Arc<Mutex<Details>>,
    in_transaction: Arc<OnceLock<InTransaction>>,
}

#[derive(Clone)]
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
    pub files_sha256: Option<String>,
    pub rules_digest: Option<String>,
    pub statements: Vec<Value>,
    /// The response's receipt, detached (see [`Event::receipt`]).
    pub receipt: Option<String>,
    /// The sequence number of the event already appended with the change it records
    /// ([`Trail::write`]): nothing is left to record afterwards.
    pub recorded: Option<u64>,
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
            files_sha256: None,
            rules_digest: None,
            statements: Vec::new(),
            receipt: None,
            recorded: None,
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
            files_sha256: self.files_sha256,
            rules_digest: self.rules_digest,
            duration_us: self.started.elapsed().as_micros() as u64,
            statements: self.statements,
            receipt: self.receipt,
            ..Event::default()
        }
    }
}

/// How a trail's event is appended inside the transaction of the change it records: the
/// ledger's key and sealing, and the event as it would be recorded on success (the request's
/// facts and status, or the command's) made of the details so far.
pub struct InTransaction {
    pub key: Arc<SigningKey>,
    pub sealing: Sealing,
    pub event: Box<dyn Fn(Details) -> Event + Send + Sync>,
}

impl Trail {
    /// The trail of a request arriving now.
    pub fn new() -> Self {
        Trail::default()
    }

    pub fn update(&self, f: impl FnOnce(&mut Details)) {
        f(&mut self.details.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn request_id(&self) -> String {
        self.details
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .request_id
            .clone()
    }

    /// When the request came in, in the events' format.
    pub fn time(&self) -> String {
        self.details
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .time
            .clone()
    }

    pub(crate) fn take(&self) -> Details {
        std::mem::take(&mut self.details.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// From now on, catalog changes made through [`Trail::write`] append this trail's event
    /// in their own transaction. Set once; later calls change nothing.
    pub fn record_changes(&self, how: InTransaction) {
        let _ = self.in_transaction.set(how);
    }

    /// Runs `change` in one catalog write transaction. `change` calls [`Trail::commit_in`]
    /// once it knows it changed something; the event then commits with the change. When the
    /// transaction fails, the event and the statements noted in it are forgotten (they rolled
    /// back with it), so that the failure is recorded instead.
    pub fn write<T>(
        &self,
        catalog: &Catalog,
        change: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let before = {
            let d = self.details.lock().unwrap_or_else(|p| p.into_inner());
            (d.statements.len(), d.action.clone(), d.recorded)
        };
        let written = catalog.write(change);
        if written.is_err() {
            self.update(|d| {
                d.statements.truncate(before.0);
                (d.action, d.recorded) = (before.1, before.2);
            });
        }
        written
    }

    /// Appends the event of what the trail holds now inside `tx` (see [`Trail::write`]);
    /// nothing where the trail does not record changes so (the event is then recorded after
    /// the work, as every request's is).
    pub fn commit_in(&self, tx: &Tx<'_>) -> Result<()> {
        let Some(how) = self.in_transaction.get() else {
            return Ok(());
        };
        let details = self
            .details
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut event = (how.event)(details);
        append_in_transaction(tx, std::slice::from_mut(&mut event), &how.key, how.sealing)
            .map_err(|e| match e {
                busy @ Error::Unavailable { .. } => busy,
                e => Error::Unavailable {
                    message: "the audit ledger cannot be written, so nothing was changed; try again later".into(),
                    source: Some(Arc::new(e)),
                },
            })?;
        self.update(|d| d.recorded = Some(event.seq));
        Ok(())
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
