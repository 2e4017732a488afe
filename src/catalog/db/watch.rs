//! How replicas sharing a PostgreSQL database learn that the catalog changed without asking
//! the database on every request, and still refuse a revoked token on the very next request.
//!
//! Each server runs a watcher: a thread with a connection of its own that LISTENs for the
//! notification every catalog change sends, reads the change counter when one comes (and
//! every [`HEARTBEAT`] anyway, in case one was lost), keeps it in memory for requests, and
//! then confirms it in the `replicas` table. A change, once committed, waits until every
//! replica that confirmed within [`LEASE`] has confirmed the new counter: when its author is
//! told it is done, every live replica answers its next request from the changed catalog. A
//! replica whose watcher has not confirmed for [`FRESH`] (a lost connection, a stalled thread)
//! asks the database on every request again, and is no longer waited for once [`LEASE`] has
//! passed; `FRESH` is well below `LEASE`, so no replica serves from an old counter while a
//! change believes it knows better.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::Client;

use crate::Result;

/// How often a watcher confirms, notified or not.
const HEARTBEAT: Duration = Duration::from_millis(500);
/// A watcher that confirmed within this serves requests from memory.
const FRESH: Duration = Duration::from_millis(1500);
/// A change waits for the replicas that confirmed within this, and at most this long (see
/// `Pool::change`).
pub(super) const LEASE: Duration = Duration::from_secs(3);

/// The channel catalog changes notify.
pub(super) const CHANNEL: &str = "fireshare_catalog";

pub(super) struct Watcher {
    /// This process's row in `replicas`.
    pub(super) id: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    /// The change counter last read.
    known: AtomicI64,
    /// When it was last confirmed, in ms since `started` (0: never).
    confirmed_ms: AtomicU64,
    started: Instant,
    stop: AtomicBool,
}

impl Watcher {
    /// Starts watching through connections `connect` opens.
    pub(super) fn start(connect: impl Fn() -> Result<Client> + Send + 'static) -> Watcher {
        let shared = Arc::new(Shared {
            known: AtomicI64::new(-1),
            confirmed_ms: AtomicU64::new(0),
            started: Instant::now(),
            stop: AtomicBool::new(false),
        });
        let id = crate::catalog::new_id();
        let (watching, me) = (shared.clone(), id.clone());
        let thread = std::thread::Builder::new()
            .name("catalog-watcher".into())
            .spawn(move || {
                while !watching.stop.load(Ordering::Acquire) {
                    if let Err(e) = watch(&connect, &watching, &me) {
                        tracing::warn!(error = %e.explained(), "the catalog watcher lost the database: requests ask it until it is back");
                        std::thread::sleep(HEARTBEAT);
                    }
                }
            })
            .expect("cannot start the catalog watcher thread");
        Watcher {
            id,
            shared,
            thread: Some(thread),
        }
    }

    /// The change counter, if it was confirmed lately enough to stand for the database's.
    pub(super) fn known(&self) -> Option<i64> {
        let confirmed = self.shared.confirmed_ms.load(Ordering::Acquire);
        let now = self.shared.started.elapsed().as_millis() as u64;
        (confirmed > 0 && now.saturating_sub(confirmed) < FRESH.as_millis() as u64)
            .then(|| self.shared.known.load(Ordering::Acquire))
    }
}

impl Drop for Watcher {
    /// A replica that stops says so: changes no longer wait for it.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One connection's life of the watcher: listen, then read and confirm the counter on every
/// notification or heartbeat, until stopped (when it leaves `replicas`) or the connection fails.
fn watch(connect: &dyn Fn() -> Result<Client>, shared: &Shared, me: &str) -> Result<()> {
    let mut client = connect()?;
    // A confirmation is seen by others at commit; losing one in a crash loses nothing.
    client.batch_execute(&format!(
        "SET synchronous_commit = off; SET application_name = 'fireshare watcher'; LISTEN {CHANNEL};
         DELETE FROM replicas WHERE heartbeat_at < now() - interval '1 hour'"
    ))?;
    let read = client.prepare("SELECT n FROM catalog_changes")?;
    let confirm = client.prepare(
        "INSERT INTO replicas (id, seen, heartbeat_at) VALUES ($1, $2, now())
         ON CONFLICT (id) DO UPDATE SET seen = excluded.seen, heartbeat_at = excluded.heartbeat_at",
    )?;
    while !shared.stop.load(Ordering::Acquire) {
        // Fresh counts from before the read: a confirmation that took long to come back
        // leaves less time to trust it, never more than a waiting change grants it.
        let asked = shared.started.elapsed().as_millis().max(1) as u64;
        let n: i64 = client.query_one(&read, &[])?.get(0);
        shared.known.store(n, Ordering::Release);
        client.execute(&confirm, &[&me, &n])?;
        shared.confirmed_ms.store(asked, Ordering::Release);
        // Until a change is notified or the heartbeat is due; notifications that came
        // meanwhile are one change to read.
        use postgres::fallible_iterator::FallibleIterator;
        let mut notifications = client.notifications();
        let _ = notifications.timeout_iter(HEARTBEAT).next()?;
        while notifications.iter().next()?.is_some() {}
    }
    client.execute("DELETE FROM replicas WHERE id = $1", &[&me])?;
    Ok(())
}
