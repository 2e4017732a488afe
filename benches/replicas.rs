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

use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::catalog::{Catalog, Location, PgSettings};
use fireshare::delta::writer::TableWriter;
use harness::{Postgres, Server};

const ROUNDS: usize = 3;

/// The ledger's last sequence number, as `audit verify` would read it.
fn head_seq(data: &Path) -> u64 {
    let out = harness::fireshare()
        .args(["audit", "query", "--format", "ndjson", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|e| e["seq"].as_u64())
        .unwrap_or(0)
}

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
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut writer = TableWriter::create(&table, "loans", "", &schema, &[], &[]).unwrap();
    for ids in [0..3, 3..5] {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(ids))],
        )
        .unwrap();
        let file = writer.write_file(&batch, &[]).unwrap();
        writer.commit("WRITE", &[file], &[]).unwrap();
    }
    let sqlite = dir.path().join("sqlite");
    let sqlite_token = prepare(&sqlite, &table);
    let postgres = Postgres::start();
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
                let before = head_seq(data);
                let (rps, p99) = load(&servers, token, connections);
                let events = (head_seq(data) - before) as f64 / 10.0;
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

    // The coherence check every authenticated request makes: one read of the change counter.
    harness::on_sqlite();
    let catalogs = [
        (
            "SQLite",
            Catalog::open(&Location::Sqlite(sqlite.join("catalog.db"))).unwrap(),
        ),
        (
            "PostgreSQL",
            Catalog::open(&Location::Postgres(Box::new(
                PgSettings::parse(&url).unwrap(),
            )))
            .unwrap(),
        ),
    ];
    for (name, catalog) in &catalogs {
        let mut times: Vec<f64> = (0..20_000)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(catalog.change_stamp());
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "coherence check on {name}: median {:.1} µs, p99 {:.1} µs over {} checks",
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            times.len()
        );
    }
}
