//! `cargo bench`: end-to-end `POST /query`, `GET /changes` and `GET /metadata` over loopback
//! against a release `fireshare serve`, on synthetic tables of 10,000, 100,000 and 1,000,000
//! files, each written twice: in many commits with a checkpoint at the last version (its change
//! feed on), and as one JSON commit. "Cold" is a server's first query of a snapshot (log
//! replay); later ones walk the file list the server keeps. Baselines measured in the same
//! run: the floor, streaming as many bytes as the warm response from the same server as one
//! static file (a signed `/files` URL); replaying the same log (or reading the same commits)
//! in process, without HTTP, signing or encoding. The checkpointed tables of 10k and 100k files
//! are also shared with a partition filter every file passes (the filter's own cost) and one
//! that keeps one day in 28 (`CURRENT_RECIPIENT('day')`). Prints figures; asserts nothing
//! about time.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{Server, prepare_catalog, synthetic_adds, synthetic_table};

use fireshare::delta::writer::{AddFile, TableWriter};
use fireshare::delta::{Commits, DeltaLog, VersionSpec};
use serde_json::json;

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let n = f();
    (start.elapsed(), n)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A response read to its end without keeping it: its bytes, its lines and its last line.
struct Drained {
    bytes: u64,
    lines: usize,
    last: Vec<u8>,
}

fn read_through(mut body: impl Read) -> Drained {
    let (mut buffer, mut line) = (vec![0u8; 256 * 1024], Vec::new());
    let mut read = Drained {
        bytes: 0,
        lines: 0,
        last: Vec::new(),
    };
    loop {
        let n = body.read(&mut buffer).unwrap();
        if n == 0 {
            return read;
        }
        read.bytes += n as u64;
        for piece in buffer[..n].split_inclusive(|b| *b == b'\n') {
            // Only the last line is kept: a line is short, the response may be 700 MB.
            if line.last() == Some(&b'\n') {
                line.clear();
            }
            line.extend_from_slice(piece);
            if piece.last() == Some(&b'\n') {
                read.lines += 1;
                std::mem::swap(&mut line, &mut read.last);
                line.clear();
            }
        }
    }
}

/// How a synthetic table is laid out.
struct Shape {
    label: &'static str,
    commits: usize,
    per_commit: usize,
    /// A checkpoint at the last version, and the figures beyond the plain query (paging,
    /// partition filters, changes, metadata).
    checkpoint: bool,
    full: bool,
}

/// Sends `body` to `POST …/query` of `table` in `share`; the response read through.
fn post(
    http: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    (share, table): (&str, &str),
    body: &serde_json::Value,
    capabilities: &str,
) -> Drained {
    let response = http
        .post(format!(
            "{base}/delta-sharing/shares/{share}/schemas/b/tables/{table}/query"
        ))
        .bearer_auth(token)
        .header("delta-sharing-capabilities", capabilities)
        .json(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    read_through(response)
}

/// File lines of a query response read through, and its `endStreamAction` if any.
fn file_lines(read: &Drained) -> (usize, Option<serde_json::Value>) {
    let end = serde_json::from_slice::<serde_json::Value>(&read.last)
        .ok()
        .and_then(|l| l.get("endStreamAction").cloned());
    (read.lines - 2 - usize::from(end.is_some()), end)
}

/// The server's resident memory now, in MiB.
fn rss_mib(server: &Server) -> f64 {
    server.memory_mib("VmRSS:")
}

fn run(shape: &Shape) {
    let Shape {
        label,
        commits,
        per_commit,
        checkpoint,
        full,
    } = *shape;
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("table");
    let floor_table = dir.path().join("floor");
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut writer_of_table = synthetic_table(&table, commits, per_commit, checkpoint);
    let files = commits * per_commit;
    eprintln!(
        "{label}: wrote {files} files in {commits} commits{} in {:.1} s",
        if checkpoint { " + checkpoint" } else { "" },
        started.elapsed().as_secs_f64()
    );
    // The floor's table: one file, written once the size of a warm response is known.
    let schema = delta_kernel::arrow::datatypes::Schema::new(vec![
        delta_kernel::arrow::datatypes::Field::new(
            "id",
            delta_kernel::arrow::datatypes::DataType::Int64,
            false,
        ),
    ]);
    let mut writer =
        TableWriter::create(&floor_table, "floor", "floor", &schema, &[], &[]).unwrap();
    let floor_file = AddFile {
        path: "floor.bin".into(),
        size: 1,
        partition_values: Default::default(),
        stats: json!({"numRecords": 1}),
    };
    writer.commit("WRITE", &[floor_file], &[]).unwrap();

    let (_, token) = prepare_catalog(
        &data,
        &format!(
            "CREATE TABLE b.t USING DELTA LOCATION '{}'; CREATE TABLE b.floor USING DELTA LOCATION '{}';
             CREATE SHARE s; ALTER SHARE s ADD TABLE b.t WITH HISTORY; ALTER SHARE s ADD TABLE b.floor;
             CREATE SHARE every_day; ALTER SHARE every_day ADD TABLE b.t PARTITION (day <> '2099-01-01');
             CREATE SHARE one_day; ALTER SHARE one_day ADD TABLE b.t PARTITION (day = CURRENT_RECIPIENT('day'));
             CREATE RECIPIENT r PROPERTIES ('day' = '2024-01-01');
             GRANT SELECT ON SHARE s TO RECIPIENT r; GRANT SELECT ON SHARE every_day TO RECIPIENT r;
             GRANT SELECT ON SHARE one_day TO RECIPIENT r;",
            table.display(),
            floor_table.display()
        ),
    );

    // Baseline: log replay by the Delta reader alone, in process (a reader without room for
    // file lists: one that kept them would walk its list, which is what warm queries do).
    let root = fireshare::storage::Location::local(url::Url::from_directory_path(&table).unwrap());
    let mut listing = Vec::new();
    for _ in 0..3 {
        let log = DeltaLog::with_file_cache(0);
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
    // What the server's cache holds per file: one listing by a reader with room for it.
    let log = DeltaLog::new();
    let snapshot = log.snapshot(&root, VersionSpec::Latest).unwrap();
    log.for_each_file(&snapshot, |_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    let cached_per_file =
        fireshare::metrics::metrics().file_cache_bytes.get() as f64 / files as f64;
    drop(log);

    let server = Server::start(&data, &[]);
    // A slow server must show in the figures, not fail them (reqwest's default is 30 s).
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let post_to = |share: &str, body: &serde_json::Value, capabilities: &str| {
        post(
            &http,
            &server.base,
            &token,
            (share, "t"),
            body,
            capabilities,
        )
    };
    let query = || post_to("s", &json!({}), "responseformat=parquet");
    let (cold, first) = timed(query);
    assert_eq!(file_lines(&first).0, files);
    let rss_cold = rss_mib(&server);
    let mut rss = Vec::new();
    let mut warm_samples = Vec::new();
    for _ in 0..5 {
        warm_samples.push(timed(query).0);
        rss.push(rss_mib(&server));
    }
    let warm = median(warm_samples);

    // The floor: the same bytes as one file, through a signed URL of the same server.
    std::fs::write(
        floor_table.join("floor.bin"),
        vec![b'x'; first.bytes as usize],
    )
    .unwrap();
    let floor_line = {
        let response = http
            .post(format!(
                "{}/delta-sharing/shares/s/schemas/b/tables/floor/query",
                server.base
            ))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let file: serde_json::Value =
            serde_json::from_str(response.lines().nth(2).expect("a file line")).unwrap();
        file["file"]["url"].as_str().unwrap().to_string()
    };
    let stream_floor = || {
        let read = read_through(http.get(&floor_line).send().unwrap());
        assert_eq!(read.bytes, first.bytes);
    };
    stream_floor();
    let (mut floor_samples, mut paired) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        floor_samples.push(timed(stream_floor).0);
        paired.push(timed(query).0);
    }
    let (floor, warm_paired) = (median(floor_samples), median(paired));

    // Eight warm queries at once against eight one after the other, over the cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // CPU of the server and of this process, the clients: both share the cores.
    let cpu = || {
        (
            server.cpu_seconds(),
            common::cpu_seconds(std::process::id()),
        )
    };
    let since = |(server, clients): (f64, f64)| {
        let (s, c) = cpu();
        (s - server, c - clients)
    };
    let start = cpu();
    let (sequential, _) = timed(|| (0..8).for_each(|_| drop(query())));
    let (cpu_sequential, start) = (since(start), cpu());
    let (concurrent, _) = timed(|| {
        std::thread::scope(|scope| {
            let runs: Vec<_> = (0..8).map(|_| scope.spawn(query)).collect();
            for run in runs {
                assert_eq!(file_lines(&run.join().unwrap()).0, files);
            }
        })
    });
    let cpu_concurrent = since(start);
    let concurrency = concurrent.as_secs_f64() / (sequential.as_secs_f64() / cores as f64);
    // How much of the cores the runs kept busy: 8 sequential queries already use more than
    // one, the server and the clients running side by side.
    let busy = |(server, clients): (f64, f64), wall: Duration| {
        (server + clients) / (wall.as_secs_f64() * cores as f64)
    };
    let peak = server.memory_mib("VmHWM:");
    println!(
        "{label}: {files} files, {:.1} MB | query cold {} | warm {} ({:.0} files/ms) | floor (the same bytes as one file) {} | \
         warm/floor {:.2} (paired medians {} / {}) | in-process log replay {} (cold = {:.2}x) | \
         8 concurrent warm queries {} vs 8 sequential {} on {cores} cores: {:.2}x the sequential time per core, \
         server CPU {:.2} s vs {:.2} s ({:.2}x), clients' CPU {:.2} s vs {:.2} s, cores busy {:.0}% vs {:.0}% | cache {cached_per_file:.0} bytes per file | \
         server RSS after the cold query {:.0} MiB, after each of 5 warm queries {} MiB, peak {:.0} MiB",
        first.bytes as f64 / 1e6,
        ms(cold),
        ms(warm),
        files as f64 / (warm.as_secs_f64() * 1000.0),
        ms(floor),
        ratio(warm_paired, floor),
        ms(warm_paired),
        ms(floor),
        ms(baseline),
        ratio(cold, baseline),
        ms(concurrent),
        ms(sequential),
        concurrency,
        cpu_concurrent.0,
        cpu_sequential.0,
        cpu_concurrent.0 / cpu_sequential.0,
        cpu_concurrent.1,
        cpu_sequential.1,
        100.0 * busy(cpu_concurrent, concurrent),
        100.0 * busy(cpu_sequential, sequential),
        rss_cold,
        rss.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join("/"),
        peak,
    );
    if full {
        more_figures(&http, &server, &token, shape, (&root, warm));
    }
    // One more commit of 100 files: the first query of the new version carries the kept list
    // over it rather than replaying the log.
    writer_of_table
        .commit("WRITE", &synthetic_adds(commits, 100), &[])
        .unwrap();
    let (moved_on, read) = timed(query);
    assert_eq!(file_lines(&read).0, files + 100);
    println!(
        "{label}: after one more commit of 100 files, first query {} ({:.2}x the first query of the table, {:.2}x a warm one)",
        ms(moved_on),
        ratio(moved_on, cold),
        ratio(moved_on, warm),
    );
}

/// Paging, delta format, partition filters, changes and metadata of a checkpointed table.
fn more_figures(
    http: &reqwest::blocking::Client,
    server: &Server,
    token: &str,
    shape: &Shape,
    (table, warm): (&fireshare::storage::Location, Duration),
) {
    let (files, commits) = (shape.commits * shape.per_commit, shape.commits);
    let post_to = |share: &str, body: &serde_json::Value, capabilities: &str| {
        file_lines(&post(
            http,
            &server.base,
            token,
            (share, "t"),
            body,
            capabilities,
        ))
    };
    let query = || post_to("s", &json!({}), "responseformat=parquet").0;
    let delta_query = || post_to("s", &json!({}), "responseformat=delta").0;
    // maxFiles=10000: every page, following nextPageToken to the end.
    let paged_read = || {
        let (mut total, mut body) = (0, json!({"maxFiles": 10_000}));
        loop {
            let (n, end) = post_to("s", &body, "responseformat=parquet");
            total += n;
            match end.and_then(|e| e.get("nextPageToken").cloned()) {
                Some(next) => body["pageToken"] = next,
                None => return total,
            }
        }
    };
    // The change feed of every data commit (versions 1..=commits), whole.
    let changes = || {
        let response = http
            .get(format!(
                "{}/delta-sharing/shares/s/schemas/b/tables/t/changes?startingVersion=1",
                server.base
            ))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        read_through(response).lines - 2
    };
    let commits_baseline = median(
        (0..3)
            .map(|_| {
                timed(|| {
                    let range = Commits::open(table, 1, commits as u64).unwrap();
                    range
                        .iter()
                        .map(|c| c.unwrap().actions.len())
                        .sum::<usize>()
                })
                .0
            })
            .collect(),
    );
    // Unpaged and paged reads interleaved, so that machine noise hits both alike.
    assert_eq!(paged_read(), files);
    let (mut unpaged_samples, mut paged_samples) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        unpaged_samples.push(timed(query).0);
        paged_samples.push(timed(paged_read).0);
    }
    let (unpaged, paged) = (median(unpaged_samples), median(paged_samples));
    let delta_warm = median((0..5).map(|_| timed(delta_query).0).collect());
    // Partition filters, interleaved with unfiltered queries.
    let filtered = |share: &str| post_to(share, &json!({}), "responseformat=parquet").0;
    assert_eq!(filtered("every_day"), files);
    let one_day = filtered("one_day");
    let (mut plain, mut every, mut one) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
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
                        .bearer_auth(token)
                        .send()
                        .unwrap();
                    r.bytes().unwrap().len()
                })
                .0
            })
            .collect(),
    );
    println!(
        "{}: delta format warm {} ({:.2}x parquet) | paged read (maxFiles=10000) {} ({:.2}x unpaged {}) | \
         changes over {commits} versions {} ({:.2}x reading the commits in process: {}) | metadata {} | \
         partition filter every file passes {} ({:.2}x unfiltered {}) | filter keeping {one_day} files {} ({:.2}x)",
        shape.label,
        ms(delta_warm),
        ratio(delta_warm, warm),
        ms(paged),
        ratio(paged, unpaged),
        ms(unpaged),
        ms(changes_time),
        ratio(changes_time, commits_baseline),
        ms(commits_baseline),
        ms(metadata),
        ms(every),
        ratio(every, plain),
        ms(plain),
        ms(one),
        ratio(one, plain),
    );
}

fn main() {
    // `cargo test` runs bench targets with --bench absent: only build them then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // FIRESHARE_BENCH_SIZES=10k,100k runs only those sizes.
    let sizes = std::env::var("FIRESHARE_BENCH_SIZES").unwrap_or_else(|_| "10k,100k,1M".into());
    let shapes = [
        Shape {
            label: "10k",
            commits: 100,
            per_commit: 100,
            checkpoint: true,
            full: true,
        },
        Shape {
            label: "10k one commit",
            commits: 1,
            per_commit: 10_000,
            checkpoint: false,
            full: false,
        },
        Shape {
            label: "100k",
            commits: 1000,
            per_commit: 100,
            checkpoint: true,
            full: true,
        },
        Shape {
            label: "100k one commit",
            commits: 1,
            per_commit: 100_000,
            checkpoint: false,
            full: false,
        },
        Shape {
            label: "1M",
            commits: 1000,
            per_commit: 1000,
            checkpoint: true,
            full: false,
        },
        Shape {
            label: "1M one commit",
            commits: 1,
            per_commit: 1_000_000,
            checkpoint: false,
            full: false,
        },
    ];
    for shape in &shapes {
        let size = shape.label.split(' ').next().unwrap();
        if sizes.split(',').any(|s| s == size) {
            run(shape);
        }
    }
}
