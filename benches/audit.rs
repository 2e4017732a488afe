//! `cargo bench --bench audit`: what the audit ledger costs. wrk (loopback, 10 s, 2 threads,
//! 16 and 64 connections, three interleaved rounds) on `POST …/query` of a small table (two
//! files) on a release `fireshare serve`, with the ledger on, and on the same server run by
//! this binary in a process of its own with a recorder (the state's `Recorder` seam) that
//! keeps nothing, or that only hands each event to a thread and back as the ledger's writer
//! does (what the hop costs, apart from writing). Prints requests/s, p99 latency and events/s
//! written, then the bytes an event takes on disk, as written and as it would be with its
//! whole receipt in it (earlier versions' format); asserts nothing about time.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, mpsc};

use fireshare::audit::{Event, Recorder};
use fireshare::data_dir::DataDir;

/// Records nothing.
struct Nowhere;

impl Recorder for Nowhere {
    fn record(
        &self,
        _: Event,
    ) -> Pin<Box<dyn Future<Output = fireshare::Result<u64>> + Send + '_>> {
        Box::pin(async { Ok(0) })
    }
}

/// Hands each event to a thread that answers at once, in the groups it finds waiting: the
/// ledger's writer without the database.
struct Handoff(Mutex<mpsc::Sender<tokio::sync::oneshot::Sender<fireshare::Result<u64>>>>);

impl Handoff {
    fn start() -> Self {
        let (queue, incoming) = mpsc::channel::<tokio::sync::oneshot::Sender<_>>();
        std::thread::spawn(move || {
            while let Ok(first) = incoming.recv() {
                for waiting in std::iter::once(first).chain(incoming.try_iter()) {
                    let _ = waiting.send(Ok(0));
                }
            }
        });
        Handoff(Mutex::new(queue))
    }
}

impl Recorder for Handoff {
    fn record(
        &self,
        _: Event,
    ) -> Pin<Box<dyn Future<Output = fireshare::Result<u64>> + Send + '_>> {
        let (done, answered) = tokio::sync::oneshot::channel();
        let sent = self.0.lock().unwrap().send(done).is_ok();
        Box::pin(async move {
            assert!(sent, "the handoff thread runs");
            answered.await.expect("the handoff thread answers")
        })
    }
}

const ROUNDS: usize = 3;

fn main() {
    if common::serve_seam(|seam, mut state| {
        state.audit.recorder = match seam {
            "handoff" => Box::new(Handoff::start()),
            _ => Box::new(Nowhere),
        };
        state
    }) || !std::env::args().any(|a| a == "--bench")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("loans");
    common::small_table(&root);
    let data = dir.path().join("data");
    let (_, token) = common::prepare_catalog(
        &data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans; CREATE RECIPIENT r;
             GRANT SELECT ON SHARE s TO RECIPIENT r;",
            root.display()
        ),
    );

    // A server for each run, as the ledger alone records it: `seam` names the one without.
    let run = |seam: Option<&str>, label: &str, connections: u32| {
        let server = match seam {
            None => common::Server::start(&data, &[]),
            Some(seam) => common::start_seam(&data, seam),
        };
        let url = format!(
            "{}/delta-sharing/shares/s/schemas/fire/tables/loans/query",
            server.base
        );
        let ledger = fireshare::catalog::Location::Sqlite(DataDir::new(&data).catalog_db());
        let before = common::head_seq(&ledger);
        let (rps, p99) = common::wrk(&url, &format!("Bearer {token}"), Some("{}"), connections);
        let events = common::head_seq(&ledger) - before;
        println!(
            "{connections} connections, {label}: {rps:.0} req/s, p99 {p99}, {:.0} events/s recorded",
            events as f64 / 10.0
        );
        rps
    };
    // Each response waits for its event's commit: with few connections the run is bound by
    // that latency, with more the commits group more events each.
    for connections in [16, 64] {
        let (mut on, mut off, mut handoff) = (0.0, 0.0, 0.0);
        for _ in 0..ROUNDS {
            off += run(Some("no-ledger"), "ledger off", connections) / ROUNDS as f64;
            handoff += run(
                Some("handoff"),
                "events handed to a thread and back",
                connections,
            ) / ROUNDS as f64;
            on += run(None, "ledger on", connections) / ROUNDS as f64;
        }
        println!(
            "means at {connections} connections: ledger off {off:.0} req/s, on {on:.0} req/s; the ledger costs {:.1}% of throughput, of which {:.1} points the hop to its writer's thread and back ({handoff:.0} req/s)",
            (1.0 - on / off) * 100.0,
            (1.0 - handoff / off) * 100.0
        );
    }
    on_disk(&DataDir::new(&data).catalog_db());
}

/// Copies the events the runs recorded into two fresh databases of the ledger's table and
/// index, as written and with whole receipts, and prints the bytes an event takes in each.
fn on_disk(catalog: &std::path::Path) {
    let from = rusqlite::Connection::open(catalog).unwrap();
    let schema: Vec<String> = from
        .prepare(
            "SELECT sql FROM sqlite_master WHERE name IN ('events', 'events_time') ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let copy = |whole: bool| {
        let dir = tempfile::tempdir().unwrap();
        let to = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
        for sql in &schema {
            to.execute_batch(sql).unwrap();
        }
        to.execute_batch("BEGIN").unwrap();
        let mut rows = from
            .prepare("SELECT seq, event, prev_hash, hash, time FROM events")
            .unwrap();
        let mut rows = rows.query([]).unwrap();
        let (mut events, mut text) = (0u64, 0u64);
        while let Some(row) = rows.next().unwrap() {
            let mut event: String = row.get(1).unwrap();
            if whole {
                let mut parsed: Event = serde_json::from_str(&event).unwrap();
                parsed.receipt = fireshare::audit::receipt::of_event(&parsed).unwrap();
                (parsed.files_sha256, parsed.rules_digest) = (None, None);
                event = parsed.canonical().unwrap();
            }
            (events, text) = (events + 1, text + event.len() as u64);
            to.execute(
                "INSERT INTO events (seq, event, prev_hash, hash, time) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    row.get::<_, i64>(0).unwrap(),
                    event,
                    row.get::<_, String>(2).unwrap(),
                    row.get::<_, String>(3).unwrap(),
                    row.get::<_, String>(4).unwrap()
                ],
            )
            .unwrap();
        }
        to.execute_batch("COMMIT").unwrap();
        let pages: u64 = to.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let page_size: u64 = to.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let events = events.max(1);
        (text / events, pages * page_size / events)
    };
    let ((text, disk), (whole_text, whole_disk)) = (copy(false), copy(true));
    println!(
        "the ledger on disk: {disk} bytes an event ({text} of JSON), with whole receipts {whole_disk} ({whole_text}): {:.2}x",
        disk as f64 / whole_disk as f64
    );
}
