//! The server's Prometheus series, all in one place (the README's table lists them): each
//! module counts what it alone sees through [`metrics()`], and `/metrics` renders them with
//! the process's own figures read from `/proc` at scrape time.

use std::sync::LazyLock;

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// By route pattern, method and status.
    pub requests: IntCounterVec,
    /// By route pattern.
    pub request_seconds: HistogramVec,
    /// By route pattern, as the bytes leave (streamed listings included).
    pub response_bytes: IntCounterVec,
    /// Files listed per `/query` or `/changes` response.
    pub files_listed: Histogram,
    pub file_cache_hits: IntCounter,
    pub file_cache_misses: IntCounter,
    /// Files held by the file-list cache.
    pub file_cache_files: IntGauge,
    /// Bytes held by the file-list cache (its bound is `--file-cache`).
    pub file_cache_bytes: IntGauge,
    /// File lists made by carrying a kept one over later commits instead of a replay.
    pub file_cache_extensions: IntCounter,
    pub snapshot_loads: IntCounter,
    pub snapshot_seconds: Histogram,
    pub ledger_commits: IntCounter,
    pub ledger_group_events: Histogram,
    pub ledger_commit_seconds: Histogram,
    pub ledger_failures: IntCounter,
    /// Events chained but not yet covered by a seal.
    pub ledger_unsealed: IntGauge,
    pub token_cache_hits: IntCounter,
    pub token_cache_misses: IntCounter,
    /// By outcome: `issued`, `refused`.
    pub activations: IntCounterVec,
    pub oauth_tokens: IntCounter,
    /// By table and outcome: `validated` (a report stored, passing or not), `failed` (unreadable).
    pub fire_validations: IntCounterVec,
    pub fire_rows: IntCounter,
    pub fire_seconds: Histogram,
    /// Versions of FIRE-bound tables that could not be validated in the last round.
    pub fire_backlog: IntGauge,
    /// Object-store requests and failed ones, by store (kind and bucket).
    pub store_requests: IntCounterVec,
    pub store_errors: IntCounterVec,
}

/// The last validated version of a FIRE-bound table, as the catalog keeps it (read at scrape
/// time: it outlives restarts and holds validations made by `fireshare fire validate`).
pub struct LastValidated {
    pub table: String,
    pub version: u64,
    pub pass_rate: f64,
}

/// The series of this process.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Every series, in Prometheus's text exposition format, with the FIRE tables' last results.
pub fn render(fire: &[LastValidated]) -> String {
    let mut families = metrics().registry.gather();
    families.extend(fire_results(fire));
    families.extend(process_figures());
    let mut text = Vec::new();
    // Writing to a Vec fails only on a malformed family, which the registry never makes.
    let _ = TextEncoder::new().encode(&families, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

/// Latency buckets, 1 ms to 60 s.
const SECONDS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0, 60.0,
];

/// `series`, registered in `registry` (each once: the names are this file's).
fn kept<S: prometheus::core::Collector + Clone + 'static>(registry: &Registry, series: S) -> S {
    registry
        .register(Box::new(series.clone()))
        .expect("each series is registered once");
    series
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            kept(
                &registry,
                IntCounter::new(name, help).expect("a valid series"),
            )
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid series");
            kept(&registry, c)
        };
        let gauge = |name: &str, help: &str| {
            kept(
                &registry,
                IntGauge::new(name, help).expect("a valid series"),
            )
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let opts = HistogramOpts::new(name, help).buckets(buckets);
            kept(
                &registry,
                Histogram::with_opts(opts).expect("a valid series"),
            )
        };
        let request_seconds = HistogramOpts::new(
            "fireshare_http_request_duration_seconds",
            "Time from a request's arrival to its response's head, by route.",
        )
        .buckets(SECONDS.to_vec());
        let request_seconds = kept(
            &registry,
            HistogramVec::new(request_seconds, &["route"]).expect("a valid series"),
        );
        Metrics {
            requests: counters(
                "fireshare_http_requests_total",
                "Requests answered, by route pattern, method and status.",
                &["route", "method", "status"],
            ),
            request_seconds,
            response_bytes: counters(
                "fireshare_http_response_bytes_total",
                "Bytes of response bodies sent, by route.",
                &["route"],
            ),
            files_listed: histogram(
                "fireshare_query_files_listed",
                "Files listed per /query or /changes response.",
                vec![0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6],
            ),
            file_cache_hits: counter(
                "fireshare_file_cache_hits_total",
                "Snapshot file lists answered from the file-list cache.",
            ),
            file_cache_misses: counter(
                "fireshare_file_cache_misses_total",
                "Snapshot file lists replayed from the Delta log.",
            ),
            file_cache_files: gauge(
                "fireshare_file_cache_files",
                "Files held by the file-list cache.",
            ),
            file_cache_bytes: gauge(
                "fireshare_file_cache_bytes",
                "Bytes held by the file-list cache.",
            ),
            file_cache_extensions: counter(
                "fireshare_file_cache_extensions_total",
                "File lists carried over later commits from a kept one instead of replayed.",
            ),
            snapshot_loads: counter(
                "fireshare_snapshot_loads_total",
                "Delta snapshots resolved (latest, version or timestamp).",
            ),
            snapshot_seconds: histogram(
                "fireshare_snapshot_load_seconds",
                "Time to resolve a Delta snapshot.",
                SECONDS.to_vec(),
            ),
            ledger_commits: counter(
                "fireshare_ledger_commits_total",
                "Transactions of the audit ledger's writer.",
            ),
            ledger_group_events: histogram(
                "fireshare_ledger_commit_events",
                "Events per ledger commit (group commit).",
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0],
            ),
            ledger_commit_seconds: histogram(
                "fireshare_ledger_commit_seconds",
                "Time of a ledger commit, fsync included.",
                SECONDS.to_vec(),
            ),
            ledger_failures: counter(
                "fireshare_ledger_failures_total",
                "Ledger commits that failed (their requests answered 503).",
            ),
            ledger_unsealed: gauge(
                "fireshare_ledger_unsealed_events",
                "Events chained but not yet covered by a seal.",
            ),
            token_cache_hits: counter(
                "fireshare_token_cache_hits_total",
                "Bearer tokens checked from the token cache.",
            ),
            token_cache_misses: counter(
                "fireshare_token_cache_misses_total",
                "Bearer tokens looked up in the catalog.",
            ),
            activations: counters(
                "fireshare_activations_total",
                "Activation links presented, by outcome (issued, refused).",
                &["outcome"],
            ),
            oauth_tokens: counter(
                "fireshare_oauth_tokens_issued_total",
                "OAuth access tokens issued.",
            ),
            fire_validations: counters(
                "fireshare_fire_validations_total",
                "Versions of FIRE-bound tables validated, by table and outcome.",
                &["table", "outcome"],
            ),
            fire_rows: counter(
                "fireshare_fire_rows_validated_total",
                "Rows checked against FIRE rules.",
            ),
            fire_seconds: histogram(
                "fireshare_fire_validation_seconds",
                "Time to validate one version.",
                SECONDS.to_vec(),
            ),
            fire_backlog: gauge(
                "fireshare_fire_backlog_versions",
                "Versions of FIRE-bound tables that could not be validated in the last round.",
            ),
            store_requests: counters(
                "fireshare_object_store_requests_total",
                "Requests to object stores, by store (kind and bucket; file for local tables).",
                &["store"],
            ),
            store_errors: counters(
                "fireshare_object_store_errors_total",
                "Object-store requests that failed, by store.",
                &["store"],
            ),
            registry,
        }
    }
}

fn fire_results(fire: &[LastValidated]) -> Vec<prometheus::proto::MetricFamily> {
    let registry = Registry::new();
    let gauges = |name: &str, help: &str| {
        let g = GaugeVec::new(Opts::new(name, help), &["table"]).expect("a valid series");
        let _ = registry.register(Box::new(g.clone()));
        g
    };
    let rate = gauges(
        "fireshare_fire_last_pass_rate",
        "Pass rate (0 to 1) of the last validated version of each FIRE-bound table.",
    );
    let version = gauges(
        "fireshare_fire_last_validated_version",
        "The last validated version of each FIRE-bound table.",
    );
    for last in fire {
        rate.with_label_values(&[&last.table]).set(last.pass_rate);
        version
            .with_label_values(&[&last.table])
            .set(last.version as f64);
    }
    registry.gather()
}

/// The process's resident memory, CPU time and open files, under the names every Prometheus
/// dashboard knows (`process_…`); none where `/proc` cannot be read.
fn process_figures() -> Vec<prometheus::proto::MetricFamily> {
    let registry = Registry::new();
    let add = |name: &str, help: &str, value: f64| {
        let g = prometheus::Gauge::new(name, help).expect("a valid series");
        g.set(value);
        let _ = registry.register(Box::new(g));
    };
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = |field: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        };
        if let Some(rss) = kib("VmRSS:") {
            add(
                "process_resident_memory_bytes",
                "Resident memory.",
                rss * 1024.0,
            );
        }
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name (which may hold spaces): utime and stime are the 12th
        // and 13th, in clock ticks (100 per second on Linux).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
            let cpu =
                prometheus::Counter::new("process_cpu_seconds_total", "User and system CPU time.")
                    .expect("a valid series");
            cpu.inc_by((user + system) / 100.0);
            let _ = registry.register(Box::new(cpu));
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        add(
            "process_open_fds",
            "Open file descriptors.",
            fds.count() as f64,
        );
    }
    registry.gather()
}
