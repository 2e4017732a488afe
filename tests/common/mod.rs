//! Test harness: the shared reference data, a Python venv with the real Delta Sharing
//! connector, and `fireshare serve` processes on free loopback ports.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Python packages of the client suite (pins follow the connector's own constraints).
const PYTHON_PACKAGES: &[&str] = &[
    "delta-sharing==1.4.2",
    "deltalake==1.6.6",
    "pandas<3",
    "pyarrow<=23.0.1",
    // Only to create the Azure emulator's container and upload fixtures into it.
    "azure-storage-blob==12.31.1",
    // The console suite drives Debian's Chromium through its chromedriver.
    "selenium==4.51.0",
];

/// `../shared` (or `$FIRESHARE_SHARED_DIR`), which must hold every folder of `needs`
/// (`delta-tables`, `fire/schemas`). When one is missing the calling test fails, saying what
/// is missing and how to provide it, unless the user opted out with `FIRESHARE_SKIP_SHARED=1`:
/// then the test is skipped (`None`), said at once on the terminal and again in the one line
/// `tests/zz_skipped.rs` prints at the end of the run. `FIRESHARE_REQUIRE_SHARED=1` (set by
/// `.ci/run`) makes opting out a failure too.
pub fn shared_dir(needs: &[&str]) -> Option<PathBuf> {
    let dir = std::env::var_os("FIRESHARE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let present = |need: &&str| match *need {
        "delta-tables" => dir.join("delta-tables/expected.json").is_file(),
        folder => std::fs::read_dir(dir.join(folder)).is_ok_and(|mut d| d.next().is_some()),
    };
    let missing: Vec<&str> = needs.iter().filter(|n| !present(n)).copied().collect();
    if missing.is_empty() {
        return Some(dir);
    }
    let test = format!(
        "{}::{}",
        env!("CARGO_CRATE_NAME"),
        std::thread::current().name().unwrap_or("?")
    );
    let why = format!(
        "{test}: the shared reference data is missing: {} under {} (set FIRESHARE_SHARED_DIR to its \
         folder, or FIRESHARE_SKIP_SHARED=1 to skip the tests that read it)",
        missing.join(" and "),
        dir.display()
    );
    let skip = std::env::var("FIRESHARE_SKIP_SHARED").as_deref() == Ok("1");
    if !skip || std::env::var("FIRESHARE_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{why}");
    }
    note_skipped(&test, &why);
    None
}

/// Where this run's skipped tests are noted: one file per `cargo test` run (the test
/// binaries' common parent process).
pub fn skipped_notes() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("skipped-shared")
        .join(std::os::unix::process::parent_id().to_string())
}

fn note_skipped(test: &str, why: &str) {
    use std::io::Write;
    // Straight to the terminal: the harness hides what passing tests print.
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {why}");
    let notes = skipped_notes();
    std::fs::create_dir_all(notes.parent().unwrap()).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(notes)
        .unwrap();
    writeln!(file, "{test}").unwrap();
}

/// A Python interpreter with the client suite's packages installed (see [`venv`]).
pub fn python() -> PathBuf {
    venv("python-venv", PYTHON_PACKAGES)
}

/// The interpreter of a venv under `target/` named `name` with `packages` installed. Created once
/// (again when the package list changes); fails with instructions when Python or pip is
/// missing.
pub fn venv(name: &str, packages: &[&str]) -> PathBuf {
    // The tests of one binary run in parallel: one of them builds the venv, the others wait.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let marker = venv.join(".installed");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output();
    match created {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "cannot create a Python venv ({}): install Python 3 with the venv module \
             (Debian/Ubuntu: apt-get install python3-venv)",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("python3 not found ({e}): install Python 3.9+ with venv and pip"),
    }
    eprintln!(
        "installing {} into {} (once)",
        packages.join(" "),
        venv.display()
    );
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages)
        .output()
        .expect("run pip");
    assert!(
        pip.status.success(),
        "pip could not install the test packages (network to PyPI needed once):\n{}",
        String::from_utf8_lossy(&pip.stderr)
    );
    std::fs::write(&marker, wanted).unwrap();
    python
}

/// Runs a Python script of `tests/python/` and returns its stdout; panics with its output on failure.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let out = Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} {args:?} failed:\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The cases of the connector suite (`tests/python/checks.py`).
pub const CONNECTOR_CASES: &[&str] = &[
    "list_tables",
    "latest",
    "version",
    "timestamp",
    "limit",
    "predicate",
    "delta_format",
    "changes",
    "streaming",
    "table_version",
    "paging",
    "not_granted",
    "wrong_token",
    "file_urls",
];

/// Registers the connector suite's fixture tables (`location` gives each one's `LOCATION …`
/// clause after `preamble`) and shares them: `regulatory` with `regulator`, `hidden` (one
/// table) with `outsider`.
pub fn share_fixtures(data: &Path, preamble: &str, location: impl Fn(&str) -> String) {
    let tables: String = [
        "sales", "regions", "many", "cm", "ntz", "dv", "cdf", "secret",
    ]
    .iter()
    .map(|name| {
        format!(
            "CREATE TABLE default.{name} USING DELTA LOCATION {};\n",
            location(name)
        )
    })
    .collect();
    sql(
        data,
        &format!(
            "{preamble}
             {tables}
             CREATE SHARE regulatory COMMENT 'what the regulator may read';
             ALTER SHARE regulatory ADD TABLE default.cdf WITH HISTORY;
             ALTER SHARE regulatory ADD TABLE default.sales WITH HISTORY;
             ALTER SHARE regulatory ADD TABLE default.regions;
             ALTER SHARE regulatory ADD TABLE default.many;
             ALTER SHARE regulatory ADD TABLE default.cm;
             ALTER SHARE regulatory ADD TABLE default.ntz;
             ALTER SHARE regulatory ADD TABLE default.dv;
             CREATE SHARE hidden;
             ALTER SHARE hidden ADD TABLE default.secret;
             CREATE RECIPIENT regulator;
             CREATE RECIPIENT outsider;
             GRANT SELECT ON SHARE regulatory TO RECIPIENT regulator;
             GRANT SELECT ON SHARE hidden TO RECIPIENT outsider;"
        ),
    );
}

/// Runs the connector suite's `cases` with the two recipients' profiles; returns those that
/// failed (each case's output is printed).
pub fn connector_cases<'a>(
    regulator: &Path,
    outsider: &Path,
    fixtures: &Path,
    cases: &[&'a str],
) -> Vec<&'a str> {
    let mut failures = Vec::new();
    for case in cases {
        let args = [
            *case,
            regulator.to_str().unwrap(),
            outsider.to_str().unwrap(),
            fixtures.to_str().unwrap(),
        ];
        match std::panic::catch_unwind(|| run_python("checks.py", &args)) {
            Ok(out) => eprint!("{out}"),
            Err(_) => failures.push(*case),
        }
    }
    failures
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines `expected` each found whole among the lines of `text`.
pub fn assert_lines(text: &str, expected: &[&str]) {
    for line in expected {
        assert!(text.lines().any(|l| l == *line), "{line:?} not in:\n{text}");
    }
}

thread_local! {
    /// The PostgreSQL database of this test's commands and servers (see [`on_database`]).
    static DATABASE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// From now on, the `fireshare` commands and servers this test (its thread) starts keep the
/// catalog and the ledger in the PostgreSQL database at `url`; keys stay in the data directory.
pub fn on_database(url: &str) {
    DATABASE.with(|d| *d.borrow_mut() = Some(url.to_string()));
}

/// Where this test's catalog is: its database (see [`on_database`]), else `data`'s SQLite file.
pub fn catalog_location(data: &Path) -> fireshare::catalog::Location {
    use fireshare::catalog::{Location, PgSettings};
    match DATABASE.with(|d| d.borrow().clone()) {
        Some(url) => Location::Postgres(Box::new(PgSettings::parse(&url).unwrap())),
        None => Location::Sqlite(data.join("catalog.db")),
    }
}

/// A new PostgreSQL cluster with one database, `name`, which this test's commands and servers
/// use from now on (see [`on_database`]); the cluster lives as long as the value.
pub fn on_new_postgres(name: &str) -> Postgres {
    let postgres = Postgres::start();
    on_database(&postgres.database(name));
    postgres
}

/// From now on, this test's commands and servers use the data directory's SQLite file again.
pub fn on_sqlite() {
    DATABASE.with(|d| *d.borrow_mut() = None);
}

/// The `fireshare` binary built for this test run (on this test's database, if it has one).
pub fn fireshare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fireshare"));
    if let Some(url) = DATABASE.with(|d| d.borrow().clone()) {
        command.env("FIRESHARE_DATABASE_URL", url);
    }
    command
}

/// Runs `fireshare ARGS --data-dir DATA` (on this test's database): its stdout, or, when it
/// fails, what it printed on both.
pub fn run_fireshare(args: &[&str], data: &Path) -> Result<String, String> {
    let out = fireshare()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.success() {
        true => Ok(stdout),
        false => Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr))),
    }
}

/// Runs `fireshare sql` against a data directory and returns its output.
pub fn sql(data_dir: &Path, statements: &str) -> String {
    run_fireshare(&["sql", statements], data_dir)
        .unwrap_or_else(|said| panic!("fireshare sql failed: {said}"))
}

/// `fireshare admin token create`: an admin-API token with `role`, printed alone on stdout.
pub fn admin_token(data_dir: &Path, role: &str, name: &str) -> String {
    let args = ["admin", "token", "create", "--role", role, "--name", name];
    run_fireshare(&args, data_dir)
        .unwrap_or_else(|said| panic!("admin token create: {said}"))
        .trim()
        .to_string()
}

/// Issues a token and writes the profile file; returns its path.
pub fn profile(data_dir: &Path, server: &Server, recipient: &str, extra: &[&str]) -> PathBuf {
    let out = fireshare()
        .args([
            "token",
            "create",
            "--recipient",
            recipient,
            "--endpoint",
            &server.endpoint(),
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = data_dir.join(format!("{recipient}.share"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Bounds the address space of the process `command` starts (`ulimit -v`).
pub fn bound_memory(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit(2) alone, between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
}

/// A running `fireshare serve` on a free loopback port (its address space bounded to 8 GiB);
/// killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
        Server::run("serve", data_dir)
    }

    /// Runs `fireshare {command}` (`serve` or `demo`) until it answers `/healthz`.
    pub fn run(command: &str, data_dir: &Path) -> Server {
        Server::run_with(command, data_dir, &[])
    }

    /// `run` with more options for the command.
    pub fn run_with(command: &str, data_dir: &Path, options: &[&str]) -> Server {
        Server::run_env(command, data_dir, options, &[])
    }

    /// `run_with` with environment variables for the server (`RUST_LOG`, say).
    pub fn run_env(
        command: &str,
        data_dir: &Path,
        options: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        Server::spawn(command, data_dir, "server", options, env)
    }

    /// One of several servers on the same data directory (and database), logging to
    /// `{name}.log` there.
    pub fn replica(data_dir: &Path, name: &str, options: &[&str]) -> Server {
        Server::spawn("serve", data_dir, name, options, &[])
    }

    fn spawn(
        command: &str,
        data_dir: &Path,
        name: &str,
        options: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        std::fs::create_dir_all(data_dir).unwrap();
        let log = data_dir.join(format!("{name}.log"));
        let mut child = fireshare();
        // A runaway allocation fails the test, not the machine.
        bound_memory(&mut child, 8 << 30);
        let child = child
            .arg(command)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(options)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        // This client speaks plain HTTP: an HTTPS server is ready once it says it serves.
        let tls = options.contains(&"--tls-cert");
        loop {
            let ready = if tls {
                server.log_text().contains("fireshare is serving")
            } else {
                reqwest::blocking::get(server.url("/healthz")).is_ok_and(|r| r.status() == 200)
            };
            if ready {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("server exited with {status}:\n{}", server.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "server did not become ready:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn endpoint(&self) -> String {
        self.url("/delta-sharing")
    }

    /// The server process's peak resident set size, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Server {
    /// Sends the server `signal` (libc's number, e.g. `libc::SIGTERM`).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// Waits up to `within` for the server to exit; its exit status, if it did.
    pub fn exited_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The audit ledger's events of one action, read with `fireshare audit query`.
pub fn audit_events(data_dir: &Path, action: &str) -> Vec<serde_json::Value> {
    let out = fireshare()
        .args(["audit", "query", "--action", action, "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `statement` through `POST /admin/v1/sql` with an admin-API token.
pub fn admin_sql(server: &Server, token: &str, statement: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(server.url("/admin/v1/sql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "statement": statement }))
        .send()
        .unwrap()
}

/// Reads the bearer token out of a profile file.
pub fn bearer(profile: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(profile).unwrap()).unwrap();
    json["bearerToken"].as_str().unwrap().to_string()
}

/// A tool the cloud tests run, installed once into a cache under `target/` by `install`
/// (given the cache directory); returns the path of its `binary` there.
fn cached_tool(name: &str, binary: &str, install: impl FnOnce(&Path) -> Command) -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let path = root.join(binary);
    if path.is_file() {
        return path;
    }
    eprintln!("installing {name} into {} (once)", root.display());
    std::fs::create_dir_all(&root).unwrap();
    let out = install(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the installer of {name}: {e}"));
    assert!(
        out.status.success() && path.is_file(),
        "cannot install {name}, a server of the cloud tests (its registry is needed once):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A server the cloud tests talk to, on a free loopback port, keeping its data under `root`;
/// killed when dropped.
pub struct Service {
    child: Child,
    pub port: u16,
    pub root: PathBuf,
}

impl Service {
    fn start(root: &Path, command: impl FnOnce(u16) -> Command) -> Service {
        let port = free_port();
        std::fs::create_dir_all(root).unwrap();
        let child = command(port)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let service = Service {
            child,
            port,
            root: root.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "a test server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const S3_ACCESS_KEY: &str = "fireshare-test";
pub const S3_SECRET_KEY: &str = "fireshare-test-secret";

/// s3s-fs serving the directories of `root` as buckets. It checks SigV4 signatures (header
/// and presigned), expiry and ranges, so a URL it accepts is a valid signature. Built once
/// (a few minutes on two cores).
pub fn s3s_fs(root: &Path) -> Service {
    let binary = cached_tool("s3s-fs", "bin/s3s-fs", |dir| {
        let mut install = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        install
            .args([
                "install",
                "s3s-fs@0.14.1",
                "--features",
                "binary",
                "--locked",
                "--root",
            ])
            .arg(dir);
        install
    });
    Service::start(root, |port| {
        let mut command = Command::new(binary);
        command
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(root);
        command
    })
}

/// `CREATE STORAGE CREDENTIAL name …` for an s3s-fs service, with `secret` as the secret key.
pub fn s3_credential_sql(s3: &Service, name: &str, secret: &str) -> String {
    format!(
        "CREATE STORAGE CREDENTIAL {name} TYPE S3 WITH (access_key_id '{S3_ACCESS_KEY}', secret_access_key '{secret}', \
         region 'us-east-1', endpoint '{}', path_style 'true');",
        s3.endpoint()
    )
}

/// Azurite's well-known development account (public, in Microsoft's documentation).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite, Microsoft's Azure Storage emulator (blob service), keeping its data under `root`.
/// It checks shared-key and SAS signatures. Installed once from npm (needs Node.js).
pub fn azurite(root: &Path) -> Service {
    let binary = cached_tool("azurite", "node_modules/.bin/azurite-blob", |dir| {
        let mut install = Command::new("npm");
        install
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "azurite@3.37.0",
                "--prefix",
            ])
            .arg(dir);
        install
    });
    Service::start(root, |port| {
        let mut command = Command::new(binary);
        command
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--silent", "--skipApiVersionCheck", "--loose", "--location"])
            .arg(root);
        command
    })
}

/// Runs openssl with `args` in `dir`.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed to make test certificates (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate for 127.0.0.1 signed by the CA in `dir` (made on first use), as `name`.pem and
/// `name`.key; returns the SHA-256 of its DER form.
pub fn server_certificate(dir: &std::path::Path, name: &str) -> String {
    if !dir.join("ca.pem").exists() {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=fireshare test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        std::fs::write(
            dir.join("leaf.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
             extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid,issuer\n",
        )
        .unwrap();
    }
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    let der = dir.join(format!("{name}.der"));
    openssl(
        dir,
        &[
            "x509",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-out",
            der.to_str().unwrap(),
        ],
    );
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(der).unwrap()))
}

/// A throwaway PostgreSQL cluster under `target/` (initdb, then a server on a free loopback
/// port with no Unix socket), run as the unprivileged user `fireshare-pg` when the tests run
/// as root (PostgreSQL refuses root); stopped and removed when dropped. Debian's `postgresql`
/// package is installed first when it is missing (as `.ci/run` does).
pub struct Postgres {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    /// Commits wait for the disk (benchmarks); tests skip it.
    durable: bool,
}

/// The user the clusters run as, when the tests run as root.
const POSTGRES_USER: &str = "fireshare-pg";

impl Postgres {
    /// A cluster for tests: commits do not wait for the disk.
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// A cluster whose commits wait for the disk, as a production one's do (benchmarks).
    pub fn durable() -> Postgres {
        Postgres::start_with(true)
    }

    fn start_with(durable: bool) -> Postgres {
        let bin = postgres_binaries();
        let root = cluster_root();
        std::fs::create_dir_all(&root).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("cluster-")
            .tempdir_in(&root)
            .unwrap()
            .keep();
        let as_root = unsafe { libc::geteuid() } == 0;
        if as_root {
            // A system user without a home or a shell (once: tests start clusters at once).
            static USER: std::sync::Once = std::sync::Once::new();
            USER.call_once(|| {
                let _ = Command::new("useradd")
                    .args([
                        "--system",
                        "--no-create-home",
                        "--shell",
                        "/usr/sbin/nologin",
                    ])
                    .arg(POSTGRES_USER)
                    .output();
            });
            let chown = Command::new("chown")
                .arg("-R")
                .arg(POSTGRES_USER)
                .arg(&dir)
                .status()
                .unwrap();
            assert!(
                chown.success(),
                "cannot give {} to {POSTGRES_USER}",
                dir.display()
            );
        }
        let cluster = Postgres {
            dir,
            port: free_port(),
            bin,
            durable,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "fireshare",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        cluster.resume();
        cluster.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.port.to_string(),
                "-U",
                "fireshare",
                "fireshare",
            ],
        );
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// One of PostgreSQL's programs, to run as the cluster's user.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        if unsafe { libc::geteuid() } != 0 {
            let mut command = Command::new(&path);
            command.args(args);
            return command;
        }
        let quoted: Vec<String> = std::iter::once(path.display().to_string())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let mut command = Command::new("su");
        command.args([POSTGRES_USER, "-s", "/bin/sh", "-c", &quoted.join(" ")]);
        command
    }

    /// Runs one of PostgreSQL's programs as the cluster's user; panics with its output when
    /// it fails.
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let out = self
            .command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed:\n{}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
        out
    }

    /// Starts the server (again, after [`Postgres::stop`]).
    pub fn resume(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.dir.join("log").display().to_string(),
                "-o",
                &format!(
                    "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync={} -c max_connections=200",
                    self.port,
                    if self.durable { "on" } else { "off" }
                ),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash would (`immediate`: no checkpoint).
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Serves TLS with this certificate and key (PEM) and refuses connections without it.
    pub fn require_tls(&self, cert: &Path, key: &Path) {
        for (from, to) in [(cert, "server.crt"), (key, "server.key")] {
            let copy = self.data().join(to);
            std::fs::copy(from, &copy).unwrap();
            std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            if unsafe { libc::geteuid() } == 0 {
                let chown = Command::new("chown").arg(POSTGRES_USER).arg(&copy).status();
                assert!(chown.unwrap().success());
            }
        }
        let hba = self.data().join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(&hba, format!("hostnossl all all all reject\n{rules}")).unwrap();
        self.psql("postgres", "ALTER SYSTEM SET ssl = on");
        self.psql("postgres", "SELECT pg_reload_conf()");
    }

    /// The URL of a new, empty database of this cluster.
    pub fn database(&self, name: &str) -> String {
        self.psql("fireshare", &format!("CREATE DATABASE {name}"));
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://fireshare@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs SQL in `database` with psql; returns what it printed (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "fireshare",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-A",
                "-t",
                "-c",
                sql,
            ],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where clusters live: under `target/`, unless the cluster's user (when the tests run as root)
/// could not reach it there — a checkout in a private home — then under the system's temporary
/// directory.
fn cluster_root() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let under_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres");
    let reachable = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .ancestors()
        .all(|dir| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if unsafe { libc::geteuid() } != 0 || reachable {
        return under_target;
    }
    eprintln!(
        "{} is not reachable by other users: PostgreSQL clusters go under the temporary directory",
        under_target.display()
    );
    std::env::temp_dir().join("fireshare-postgres")
}

/// The directory of PostgreSQL's programs (the newest installed), installing Debian's
/// `postgresql` package once when there is none.
fn postgres_binaries() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let newest = || {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    };
    if let Some(bin) = newest() {
        return bin;
    }
    assert!(
        unsafe { libc::geteuid() } == 0,
        "PostgreSQL is not installed and these tests are not root: install Debian's `postgresql` package"
    );
    eprintln!("installing PostgreSQL (Debian's postgresql package, once)");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "postgresql"][..],
    ] {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .expect("apt-get");
        assert!(
            out.status.success(),
            "cannot install PostgreSQL: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    newest().expect("the postgresql package installed no initdb")
}
