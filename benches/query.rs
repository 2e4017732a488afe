//! `cargo bench`: end-to-end `POST /query`, `GET /changes` and `GET /metadata` over loopback
//! against a release `fireshare serve`, on synthetic tables of 10,000 files (100 commits) and
//! 100,000 files (1,000 commits), each with a checkpoint at its last version and its change
//! feed on. "Cold" is a server's first query of a snapshot (log replay); later ones walk the
//! file list the server keeps. Baselines: replaying the same log (or reading the same commits)
//! in process, without HTTP, signing or encoding. The same table is also shared with a
//! partition filter every file passes (the filter's own cost) and one that keeps one day in 28
//! (`CURRENT_RECIPIENT('day')`). Prints figures; asserts nothing about time.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{Server, prepare_catalog, synthetic_table};

use fireshare::delta::{Commits, DeltaLog, VersionSpec};
use serde_json::json;

fn timed(f: impl FnOnce() -> usize) -> (Duration, usize) {
    let start = Instant::now();
    let n = f();
    (start.elapsed(), n)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn run(label: &str, commits: usize, per_commit: usize) {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table");
    let data = dir.path().join("data");
    let started = Instant::now();
    synthetic_table(&table, commits, per_commit);
    let files = commits * per_commit;
    eprintln!(
        "{label}: wrote {files} files in {commits} commits + checkpoint in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (_, token) = prepare_catalog(
        &data,
        &format!(
            "CREATE TABLE b.t USING DELTA LOCATION '{}'; CREATE SHARE s; ALTER SHARE s ADD TABLE b.t WITH HISTORY;
             CREATE SHARE every_day; ALTER SHARE every_day ADD TABLE b.t PARTITION (day <> '2099-01-01');
             CREATE SHARE one_day; ALTER SHARE one_day ADD TABLE b.t PARTITION (day = CURRENT_RECIPIENT('day'));
             CREATE RECIPIENT r PROPERTIES ('day' = '2024-01-01');
             GRANT SELECT ON SHARE s TO RECIPIENT r; GRANT SELECT ON SHARE every_day TO RECIPIENT r;
             GRANT SELECT ON SHARE one_day TO RECIPIENT r;",
            table.display()
        ),
    );

    // Baseline: log replay by the Delta reader alone, in process (a fresh reader each time:
    // a reader keeps the files it listed, which is what the server's warm queries use).
    let root = fireshare::storage::Location::local(url::Url::from_directory_path(&table).unwrap());
    let mut listing = Vec::new();
    for _ in 0..5 {
        let log = DeltaLog::new();
        let snapshot = log.snapshot(&root, VersionSpec::Latest).unwrap();
        let (t, n) = timed(|| {
            let mut n = 0;
            log.for_each_file(&snapshot, |_| {
                n += 1;
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
            n
        });
        assert_eq!(n, files);
        listing.push(t);
    }
    let baseline = median(listing);
    let commits_baseline = median(
        (0..3)
            .map(|_| {
                timed(|| {
                    let range = Commits::open(&root, 1, commits as u64).unwrap();
                    range.iter().map(|c| c.unwrap().actions.len()).sum()
                })
                .0
            })
            .collect(),
    );

    let server = Server::start(&data, &[]);
    let http = reqwest::blocking::Client::new();
    // Sends one query to a share; returns (file lines, endStreamAction line if any).
    let post_to = |share: &str, body: &serde_json::Value, capabilities: &str| {
        let mut response = http
            .post(format!(
                "{}/delta-sharing/shares/{share}/schemas/b/tables/t/query",
                server.base
            ))
            .bearer_auth(&token)
            .header("delta-sharing-capabilities", capabilities)
            .json(body)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut text = Vec::new();
        response.read_to_end(&mut text).unwrap();
        let lines = text.iter().filter(|b| **b == b'\n').count() - 2;
        let last = text.rsplit(|b| *b == b'\n').nth(1).unwrap_or_default();
        let end: Option<serde_json::Value> = serde_json::from_slice::<serde_json::Value>(last)
            .ok()
            .and_then(|l| l.get("endStreamAction").cloned());
        (lines - usize::from(end.is_some()), end)
    };
    let post = |body: &serde_json::Value, capabilities: &str| post_to("s", body, capabilities);
    let query = || post(&json!({}), "responseformat=parquet").0;
    let delta_query = || post(&json!({}), "responseformat=delta").0;
    // maxFiles=10000: every page, following nextPageToken to the end.
    let paged_read = || {
        let (mut total, mut body) = (0, json!({"maxFiles": 10_000}));
        loop {
            let (n, end) = post(&body, "responseformat=parquet");
            total += n;
            match end.and_then(|e| e.get("nextPageToken").cloned()) {
                Some(next) => body["pageToken"] = next,
                None => return total,
            }
        }
    };
    // The change feed of every data commit (versions 1..=commits), whole.
    let changes = || {
        let mut response = http
            .get(format!(
                "{}/delta-sharing/shares/s/schemas/b/tables/t/changes?startingVersion=1",
                server.base
            ))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut text = Vec::new();
        response.read_to_end(&mut text).unwrap();
        text.iter().filter(|b| **b == b'\n').count() - 2
    };
    let (cold, n) = timed(query);
    assert_eq!(n, files);
    // Unpaged and paged reads interleaved, so that machine noise hits both alike.
    assert_eq!(paged_read(), files);
    let (mut unpaged_samples, mut paged_samples) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        unpaged_samples.push(timed(query).0);
        paged_samples.push(timed(paged_read).0);
    }
    let (warm, paged) = (median(unpaged_samples), median(paged_samples));
    let delta_warm = median((0..5).map(|_| timed(delta_query).0).collect());
    // Partition filters, interleaved with unfiltered queries.
    let filtered = |share: &str| post_to(share, &json!({}), "responseformat=parquet").0;
    assert_eq!(filtered("every_day"), files);
    let one_day = filtered("one_day");
    let (mut plain, mut every, mut one) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        plain.push(timed(query).0);
        every.push(timed(|| filtered("every_day")).0);
        one.push(timed(|| filtered("one_day")).0);
    }
    let (plain, every, one) = (median(plain), median(every), median(one));

    let changes_time = median((0..3).map(|_| timed(changes).0).collect());
    assert_eq!(changes(), files);
    let metadata = median(
        (0..20)
            .map(|_| {
                timed(|| {
                    let r = http
                        .get(format!(
                            "{}/delta-sharing/shares/s/schemas/b/tables/t/metadata",
                            server.base
                        ))
                        .bearer_auth(&token)
                        .send()
                        .unwrap();
                    r.bytes().unwrap().len()
                })
                .0
            })
            .collect(),
    );
    println!(
        "{label}: {files} files | query cold {} | query warm {} ({:.0} files/ms) | delta format warm {} | \
         paged read (maxFiles=10000) {} ({:.2}x unpaged) | changes over {commits} versions {} \
         ({:.2}x reading the commits in process: {}) | metadata {} | in-process log replay baseline {} (query warm = {:.2}x baseline) | \
         partition filter every file passes {} ({:.2}x unfiltered {}) | filter keeping {one_day} files {} ({:.2}x) | server peak RSS {:.1} MiB",
        ms(cold),
        ms(warm),
        files as f64 / (warm.as_secs_f64() * 1000.0),
        ms(delta_warm),
        ms(paged),
        paged.as_secs_f64() / warm.as_secs_f64(),
        ms(changes_time),
        changes_time.as_secs_f64() / commits_baseline.as_secs_f64(),
        ms(commits_baseline),
        ms(metadata),
        ms(baseline),
        warm.as_secs_f64() / baseline.as_secs_f64(),
        ms(every),
        every.as_secs_f64() / plain.as_secs_f64(),
        ms(plain),
        ms(one),
        one.as_secs_f64() / plain.as_secs_f64(),
        server.peak_rss_mib()
    );
}

fn main() {
    // `cargo test` runs bench targets with --bench absent: only build them then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    run("10k", 100, 100);
    run("100k", 1000, 100);
}
