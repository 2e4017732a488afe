//! `cargo bench --bench replicas`: what PostgreSQL and several replicas cost. On a small table
//! (two files), wrk (loopback, 10 s, 2 threads) sends `POST …/query` at 16 and 64 connections
//! to one server on SQLite, one replica on PostgreSQL and three replicas on the same database
//! (three wrk processes, the connections split among them), in interleaved rounds; it prints
//! requests/s, p99, the events/s the one ledger took and each figure's ratio to SQLite's in the
//! same round. Then the per-request coherence check (the catalog's change stamp) timed in
//! process on each backend. A throwaway PostgreSQL cluster is started under `target/` (the
//! tests' harness); everything runs on this machine. Asserts nothing about time.

mod common;
#[path = "../tests/common/mod.rs"]
mod harness;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use fireshare::catalog::{Catalog, Location, PgSettings};
use harness::{Postgres, Server};

const ROUNDS: usize = 3;

/// The table's share, a recipient and its token, in this thread's catalog at `data`.
fn prepare(data: &Path, table: &Path) -> String {
    harness::sql(
        data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans; CREATE RECIPIENT r;
             GRANT SELECT ON SHARE s TO RECIPIENT r;",
            table.display()
        ),
    );
    let out = harness::fireshare()
        .args(["token", "create", "--recipient", "r", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    profile["bearerToken"].as_str().unwrap().to_string()
}

/// wrk against every server at once, the connections split among them: total requests/s and
/// the worst p99 (ms).
fn load(servers: &[Server], token: &str, connections: u32) -> (f64, f64) {
    let share = connections / servers.len() as u32;
    let runs: Vec<_> = servers
        .iter()
        .map(|server| {
            let url = server.url("/delta-sharing/shares/s/schemas/fire/tables/loans/query");
            let token = token.to_string();
            std::thread::spawn(move || {
                let (rps, p99) = common::wrk(&url, &format!("Bearer {token}"), Some("{}"), share);
                (rps, milliseconds(&p99))
            })
        })
        .collect();
    runs.into_iter()
        .map(|r| r.join().unwrap())
        .fold((0.0, 0.0), |(rps, p99), (r, p)| (rps + r, f64::max(p99, p)))
}

/// wrk's latency text (`850.00us`, `12.34ms`, `1.20s`) in milliseconds.
fn milliseconds(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "us" => 0.001,
        "s" => 1000.0,
        _ => 1.0,
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * scale
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("loans");
    common::small_table(&table);
    let sqlite = dir.path().join("sqlite");
    let sqlite_token = prepare(&sqlite, &table);
    let postgres = Postgres::durable();
    let url = postgres.database("bench");
    let shared = dir.path().join("postgres");
    harness::on_database(&url);
    let pg_token = prepare(&shared, &table);

    for connections in [16, 64] {
        let mut sums = [(0.0, 0.0, 0.0); 3];
        for round in 0..ROUNDS {
            for (setup, sum) in sums.iter_mut().enumerate() {
                let (data, token, replicas) = match setup {
                    0 => (&sqlite, &sqlite_token, 1),
                    1 => (&shared, &pg_token, 1),
                    _ => (&shared, &pg_token, 3),
                };
                let servers: Vec<Server> = (0..replicas)
                    .map(|n| {
                        if setup == 0 {
                            // No database URL: this one is on the data directory's SQLite.
                            harness::on_sqlite();
                        } else {
                            harness::on_database(&url);
                        }
                        Server::replica(data, &format!("r{n}"), &[])
                    })
                    .collect();
                let ledger = harness::catalog_location(data);
                let before = common::head_seq(&ledger);
                let (rps, p99) = load(&servers, token, connections);
                let events = (common::head_seq(&ledger) - before) as f64 / 10.0;
                drop(servers);
                let name = [
                    "SQLite, one server",
                    "PostgreSQL, one replica",
                    "PostgreSQL, three replicas",
                ][setup];
                println!(
                    "round {round}, {connections} connections, {name}: {rps:.0} req/s, p99 {p99:.2} ms, {events:.0} events/s"
                );
                sum.0 += rps / ROUNDS as f64;
                sum.1 += p99 / ROUNDS as f64;
                sum.2 += events / ROUNDS as f64;
            }
        }
        let base = sums[0];
        for (setup, (rps, p99, events)) in sums.iter().enumerate() {
            println!(
                "means at {connections} connections, {}: {rps:.0} req/s ({:.2}x SQLite's time per query), p99 {p99:.2} ms ({:.2}x), {events:.0} events/s",
                ["SQLite", "PostgreSQL x1", "PostgreSQL x3"][setup],
                base.0 / rps,
                p99 / base.1,
            );
        }
    }

    ledger_appends(&sqlite, &url);
    coherence(&sqlite, &shared, &url);
}

/// Events/s the ledger takes when `writers` processes append (each its own database handle and
/// group-committing writer, as replicas are), from 64 concurrent requests in all, for 5 s.
fn appends(catalogs: &[Catalog], key: &Path) -> f64 {
    use fireshare::audit::{Actor, Event, Ledger, LedgerDb, Recorder, Sealing};
    let key = Arc::new(fireshare::signing_key::SigningKey::load_or_create(key).unwrap());
    let writers: Vec<Arc<Ledger>> = catalogs
        .iter()
        .map(|c| {
            let (db, _) = LedgerDb::open(c).unwrap();
            Arc::new(Ledger::start(db, key.clone(), Sealing::default()))
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seconds = 5.0;
    let recorded: u64 = runtime.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let writer = writers[n % writers.len()].clone();
                tokio::spawn(async move {
                    let until = Instant::now() + std::time::Duration::from_secs_f64(seconds);
                    let mut count = 0u64;
                    while Instant::now() < until {
                        let event = Event {
                            action: "bench".into(),
                            actor: Actor::anonymous(),
                            status: 200,
                            ..Event::default()
                        };
                        writer.record(event).await.unwrap();
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    recorded as f64 / seconds
}

fn ledger_appends(sqlite: &Path, url: &str) {
    let key = sqlite.join("audit.ed25519");
    let on_sqlite = appends(
        &[Catalog::open(&Location::Sqlite(sqlite.join("catalog.db"))).unwrap()],
        &key,
    );
    let postgres = |n: usize| -> Vec<Catalog> {
        (0..n)
            .map(|_| {
                let settings = PgSettings::parse(url).unwrap();
                Catalog::open(&Location::Postgres(Box::new(settings))).unwrap()
            })
            .collect()
    };
    let one = appends(&postgres(1), &key);
    let three = appends(&postgres(3), &key);
    println!(
        "ledger appends, 64 concurrent requests: SQLite {on_sqlite:.0} events/s; PostgreSQL, one writer {one:.0} events/s, three writers {three:.0} events/s ({:.2}x one)",
        three / one
    );
}

/// The catalog check every authenticated request makes (a server's, with PostgreSQL its
/// watcher's counter in memory; without a watcher, a read of the database) and what a change
/// costs once three replicas must confirm it.
fn coherence(sqlite: &Path, shared: &Path, url: &str) {
    harness::on_sqlite();
    let pg = || {
        let settings = PgSettings::parse(url).unwrap();
        Catalog::open(&Location::Postgres(Box::new(settings))).unwrap()
    };
    let watched = pg();
    watched.db().watch();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let catalogs = [
        (
            "SQLite",
            Catalog::open(&Location::Sqlite(sqlite.join("catalog.db"))).unwrap(),
        ),
        ("PostgreSQL, a server's (watched)", watched),
        ("PostgreSQL, read from the database", pg()),
    ];
    for (name, catalog) in &catalogs {
        let times = timed(20_000, || {
            std::hint::black_box(catalog.change_stamp());
        });
        println!(
            "change check on {name}: median {:.2} µs, p99 {:.2} µs",
            times.0 * 1e6,
            times.1 * 1e6
        );
    }
    // A change: a setting written and removed, with three replicas watching.
    harness::on_database(url);
    let _replicas: Vec<Server> = (0..3)
        .map(|n| Server::replica(shared, &format!("w{n}"), &[]))
        .collect();
    let writers = [
        ("SQLite", &catalogs[0].1),
        (
            "PostgreSQL, a server with three other replicas confirming",
            &catalogs[1].1,
        ),
    ];
    for (name, catalog) in writers {
        let times = timed(200, || {
            catalog.write(|tx| tx.set_setting("bench", "1")).unwrap();
        });
        println!(
            "a catalog change on {name}: median {:.2} ms, p99 {:.2} ms",
            times.0 * 1e3,
            times.1 * 1e3
        );
    }
}

/// Median and p99 seconds of `runs` calls of `work`.
fn timed(runs: usize, mut work: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[runs / 2], times[runs * 99 / 100])
}
