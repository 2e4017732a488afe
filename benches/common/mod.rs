//! What the bench binaries share: a release `fireshare serve` on a loopback port, or the
//! same server with a seam replaced, run by the bench binary itself in a process of its own.
#![allow(dead_code)] // each bench uses a different part

use std::path::Path;

use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::delta::DeltaLog;
use fireshare::delta::writer::{AddFile, TableWriter};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The state of a server on `data` listening on `listen`.
pub fn open_state(data: &Path, listen: &str) -> fireshare::web::AppState {
    let config =
        fireshare::web::ServerConfig::new(fireshare::data_dir::DataDir::new(data), listen, None);
    fireshare::web::AppState::open(config).unwrap()
}

/// Runs `sql` as an admin against a new data directory `data`; returns the statements'
/// results and a bearer token of recipient `r` (which `sql` creates).
pub fn prepare_catalog(data: &Path, sql: &str) -> (Vec<fireshare::admin::StatementResult>, String) {
    let state = open_state(data, "127.0.0.1:0");
    let context = state.admin_context(fireshare::auth::Role::Admin, data);
    let results = fireshare::admin::execute_script(&state.catalog, sql, &context).unwrap();
    let token = fireshare::auth::issue_token(&state.catalog, "r", None)
        .unwrap()
        .token;
    (results, token)
}

/// A small table of two files (ids 0 to 4) at `root`: what a small query reads.
pub fn small_table(root: &Path) {
    use delta_kernel::arrow::array::{Int64Array, RecordBatch};
    let schema = std::sync::Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut table = TableWriter::create(root, "loans", "", &schema, &[], &[]).unwrap();
    for ids in [0..3, 3..5] {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(Int64Array::from_iter_values(ids))],
        )
        .unwrap();
        let file = table.write_file(&batch, &[]).unwrap();
        table.commit("WRITE", &[file], &[]).unwrap();
    }
}

/// The last sequence number of the ledger of the catalog at `location`.
pub fn head_seq(location: &fireshare::catalog::Location) -> u64 {
    let catalog = fireshare::catalog::Catalog::open(location).unwrap();
    let ledger = fireshare::audit::LedgerDb::of(&catalog).unwrap();
    ledger.chain_state().unwrap().head_seq
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the server at `base` answers its health probe.
fn wait_ready(base: &str) {
    for _ in 0..200 {
        if reqwest::blocking::get(format!("{base}/healthz")).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("server did not start");
}

/// The argument that makes a bench binary serve (see [`serve_seam`]).
const SERVE_SEAM: &str = "--serve-seam";

/// A server with a seam replaced, in a process of its own like `fireshare serve`: the bench
/// binary started again with `--serve-seam seam data listen`, where [`serve_seam`] builds it.
pub fn start_seam(data: &Path, seam: &str) -> Server {
    let listen = format!("127.0.0.1:{}", free_port());
    let child = Command::new(std::env::current_exe().unwrap())
        .arg(SERVE_SEAM)
        .arg(seam)
        .arg(data)
        .arg(&listen)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://{listen}"),
    };
    wait_ready(&server.base);
    server
}

/// When this process was started by [`start_seam`], serves (until killed) the state `build`
/// makes of its seam's name and a state opened on its data directory, and returns true.
pub fn serve_seam(
    build: impl FnOnce(&str, fireshare::web::AppState) -> fireshare::web::AppState,
) -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == SERVE_SEAM) else {
        return false;
    };
    let (seam, data, listen) = (&args[at + 1], Path::new(&args[at + 2]), &args[at + 3]);
    let state = build(seam, open_state(data, listen));
    actix_web::rt::System::new()
        .block_on(fireshare::web::serve(state, |_| {}))
        .unwrap();
    true
}

pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `fireshare serve` on a free loopback port, with `env` set.
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_fireshare"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_ready(&server.base);
        server
    }

    /// Peak resident set size of the server process, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.memory_mib("VmHWM:")
    }

    /// CPU time the server process has used so far (user and system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.child.id())
    }

    /// A memory figure of the server process (a field of `/proc/<pid>/status`), in MiB.
    pub fn memory_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }
}

/// wrk's requests/s and p99 latency (loopback, 10 s, 2 threads, `connections`) for `url`
/// with `authorization`; with `post_body`, every request is a POST of it.
pub fn wrk(
    url: &str,
    authorization: &str,
    post_body: Option<&str>,
    connections: u32,
) -> (f64, String) {
    let script = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        "-d10s",
        "--latency",
        "-H",
    ]);
    command.arg(format!("Authorization: {authorization}"));
    if let Some(body) = post_body {
        let lua = format!(
            "wrk.method = \"POST\"\nwrk.body = {}\n",
            serde_json::Value::from(body)
        );
        std::fs::write(script.path(), lua).unwrap();
        command.arg("-s").arg(script.path());
    }
    let out = command
        .arg(url)
        .output()
        .expect("wrk (Debian: apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("Non-2xx"),
        "refused requests: the run measures errors\n{text}"
    );
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in\n{text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    (rps, p99)
}

/// Writes a table of `commits` commits of `per_commit` files each (log only: the query lists
/// files without opening them), then a checkpoint when asked. Returns the writer, for more.
pub fn synthetic_table(
    root: &Path,
    commits: usize,
    per_commit: usize,
    checkpoint: bool,
) -> TableWriter {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
        Field::new("day", DataType::Utf8, false),
    ]);
    let mut table = TableWriter::create(
        root,
        "bench",
        "synthetic",
        &schema,
        &["day"],
        &[("delta.enableChangeDataFeed", "true")],
    )
    .unwrap();
    for c in 0..commits {
        table
            .commit("WRITE", &synthetic_adds(c, per_commit), &[])
            .unwrap();
    }
    if checkpoint {
        DeltaLog::new()
            .checkpoint(&fireshare::storage::Location::local(
                url::Url::from_directory_path(root).unwrap(),
            ))
            .unwrap();
    }
    table
}

/// The files of commit `c` of a synthetic table (numbered on from `c * per_commit`).
pub fn synthetic_adds(c: usize, per_commit: usize) -> Vec<AddFile> {
    (0..per_commit)
        .map(|f| {
            let n = (c * per_commit + f) as i64;
            AddFile {
                path: format!("day=2024-01-{:02}/part-{n:08}-{}.snappy.parquet", c % 28 + 1, uuid_like(n)),
                size: 100_000 + n,
                partition_values: [("day".to_string(), format!("2024-01-{:02}", c % 28 + 1))].into(),
                stats: json!({"numRecords": 1000, "minValues": {"id": n * 1000, "value": 0.5},
                              "maxValues": {"id": n * 1000 + 999, "value": 99.5}, "nullCount": {"id": 0, "value": 3}}),
            }
        })
        .collect()
}

fn uuid_like(n: i64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", n, n * 7919)
}

/// The CPU time process `pid` has used so far, user and system, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces): utime and stime are the
    // 12th and 13th, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    ticks(11)
        .zip(ticks(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}
