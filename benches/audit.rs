//! `cargo bench --bench audit`: what the audit ledger costs. wrk (loopback, 10 s, 2 threads,
//! 16 and 64 connections, three interleaved rounds) on `POST …/query` of a small table (two
//! files) on a release `fireshare serve`, with the ledger on, and on the same server run by
//! this binary in a process of its own with a recorder (the state's `Recorder` seam) that
//! keeps nothing, or that only hands each event to a thread and back as the ledger's writer
//! does (what the hop costs, apart from writing). Prints requests/s, p99 latency and events/s
//! written; asserts nothing about time.

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
}
