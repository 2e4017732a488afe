//! What an operator sees: the demo's short story, logs a collector can parse, health probes.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Server, fireshare, sql};
use serde_json::Value;

#[test]
fn the_demo_tells_a_short_story() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let output = dir.path().join("demo.out");
    let file = std::fs::File::create(&output).unwrap();
    let mut demo = fireshare()
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let text = std::fs::read_to_string(&output).unwrap();
        if text.contains("Ctrl-C") {
            break text;
        }
        assert!(Instant::now() < deadline, "the demo did not start:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = demo.kill();
    demo.wait().unwrap();
    let lines = text.lines().count();
    assert!(lines <= 40, "{lines} lines:\n{text}");
    for told in [
        "created share regulatory_reports",
        "granted SELECT on share regulatory_reports to recipient regulatory_body",
        "below the threshold (93.8%)",
        "import delta_sharing",
        "regulator.share",
        "/console (sign in with the admin token in",
    ] {
        assert!(text.contains(told), "{told:?} missing from:\n{text}");
    }
    // The console's token is in a private file, never on the terminal.
    let token = std::fs::read_to_string(dir.path().join("data/console-admin.token")).unwrap();
    assert!(
        token.starts_with("fsa_") && !text.contains(token.trim()),
        "{text}"
    );
    assert!(
        !text.contains("delta_kernel") && !text.contains("snap.build"),
        "dependencies' INFO lines:\n{text}"
    );
}

#[test]
fn json_logs_parse_line_by_line_and_name_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sql(&data, "CREATE SHARE s");
    let admin = common::admin_token(&data, "admin", "ops");
    let server = Server::run_env(
        "serve",
        &data,
        &["--log-format", "json"],
        &[("RUST_LOG", "")],
    );
    let http = reqwest::blocking::Client::new();
    let shares = http
        .get(server.url("/admin/v1/shares"))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(shares.status(), 200);
    let request_id = shares.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        http.get(server.url("/activate/fsl_not_a_code"))
            .send()
            .unwrap()
            .status(),
        404
    );
    drop(server);
    let log = std::fs::File::open(data.join("server.log")).unwrap();
    let lines: Vec<Value> = BufReader::new(log)
        .lines()
        .map(|line| {
            let line = line.unwrap();
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        })
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let listed = requests
        .iter()
        .find(|l| l["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for {request_id}: {requests:?}"));
    assert_eq!(listed["method"], "GET");
    assert_eq!(listed["route"], "/admin/v1/shares");
    assert_eq!(listed["status"], 200);
    assert_eq!(listed["actor"], "admin");
    assert_eq!(listed["name"], "ops");
    assert!(
        listed["ms"].is_u64() && listed["level"] == "INFO",
        "{listed}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l["route"] == "/activate/{code}" && l["status"] == 404),
        "{requests:?}"
    );
    let text = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        !text.contains(&admin) && !text.contains("fsl_not_a_code"),
        "{text}"
    );
}

#[test]
fn readiness_says_whether_the_ledger_takes_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let probe = |path: &str| {
        let response = reqwest::blocking::get(server.url(path)).unwrap();
        let status = response.status().as_u16();
        (status, response.text().unwrap())
    };
    let (status, body) = probe("/readyz");
    assert_eq!(status, 200, "{body}");
    let checks: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        checks,
        serde_json::json!({"catalog": "ok", "ledger": "ok", "keys": "ok"})
    );
    let db = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER ledger_full BEFORE UPDATE ON chain BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .unwrap();
    let (status, body) = probe("/readyz");
    assert_eq!(status, 503, "{body}");
    let checks: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(checks["catalog"], "ok");
    assert_ne!(checks["ledger"], "ok", "{checks}");
    assert_eq!(probe("/healthz").0, 200, "alive all the same");
    db.execute_batch("DROP TRIGGER ledger_full").unwrap();
    assert_eq!(probe("/readyz").0, 200, "ready again");
}

/// The value of the first series line of `text` starting with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[test]
fn metrics_count_a_connector_session() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::run("demo", &data);
    let auditor = common::admin_token(&data, "auditor", "prometheus");
    let table = format!(
        "{}#regulatory_reports.fire.collateral_gold",
        data.join("regulator.share").display()
    );
    // Version 6 is held back by its quality: the connector reads version 5.
    assert_eq!(common::run_python("count_rows.py", &[&table]).trim(), "142");
    let http = reqwest::blocking::Client::new();
    let scrape = |token: Option<&str>| {
        let mut request = http.get(server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    assert_eq!(scrape(None).0, 401);
    let recipient = common::bearer(&data.join("regulator.share"));
    assert_eq!(scrape(Some(&recipient)).0, 403);
    let (status, text) = scrape(Some(&auditor));
    assert_eq!(status, 200, "{text}");
    let queries = text
        .lines()
        .filter(|l| {
            l.starts_with("fireshare_http_requests_total{")
                && l.contains("/query\"")
                && l.contains("status=\"200\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum::<f64>();
    assert!(queries >= 1.0, "{text}");
    let streamed = text
        .lines()
        .filter(|l| l.starts_with("fireshare_http_response_bytes_total{") && l.contains("/query\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum::<f64>();
    assert!(
        streamed > 1000.0,
        "the streamed listing's bytes: {streamed}"
    );
    assert!(sample(&text, "fireshare_query_files_listed_count") >= 1.0);
    assert!(
        sample(&text, "fireshare_ledger_commits_total") >= 3.0,
        "one per request"
    );
    assert!(sample(&text, "fireshare_ledger_commit_events_count") >= 3.0);
    assert_eq!(sample(&text, "fireshare_ledger_failures_total"), 0.0);
    let cache = sample(&text, "fireshare_file_cache_hits_total")
        + sample(&text, "fireshare_file_cache_misses_total");
    assert!(cache >= 1.0, "{text}");
    assert!(sample(&text, "fireshare_snapshot_loads_total") >= 1.0);
    assert!(sample(&text, "fireshare_token_cache_misses_total") >= 1.0);
    let store = "{store=\"file\"}";
    assert!(
        sample(
            &text,
            &format!("fireshare_object_store_requests_total{store}")
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &text,
            &format!("fireshare_object_store_errors_total{store}")
        ),
        0.0
    );
    let fire = "{table=\"fire.collateral_gold\"}";
    assert_eq!(
        sample(
            &text,
            &format!("fireshare_fire_last_validated_version{fire}")
        ),
        6.0
    );
    let rate = sample(&text, &format!("fireshare_fire_last_pass_rate{fire}"));
    assert!((rate - 152.0 / 162.0).abs() < 1e-9, "{rate}");
    let rss = sample(&text, "process_resident_memory_bytes");
    assert!(rss > 1e6 && rss < 4e9, "{rss}");
    assert!(sample(&text, "process_open_fds") >= 3.0);
    drop(server);

    // A scraper on a private network: its own address, no credentials.
    let port = common::free_port();
    let address = format!("127.0.0.1:{port}");
    let _server = Server::run_with("serve", &data, &["--metrics-listen", &address]);
    let open = reqwest::blocking::get(format!("http://{address}/metrics")).unwrap();
    assert_eq!(open.status(), 200);
    let text = open.text().unwrap();
    assert_eq!(
        sample(
            &text,
            &format!("fireshare_fire_last_validated_version{fire}")
        ),
        6.0,
        "from the catalog, across restarts"
    );
}

/// A one-commit table of `files` files at `root` (the log only: listing opens no file).
fn many_files(root: &std::path::Path, files: usize) {
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
    use fireshare::delta::writer::{AddFile, TableWriter};
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false)]);
    let mut table = TableWriter::create(root, "big", "", &schema, &[], &[]).unwrap();
    let adds: Vec<AddFile> = (0..files)
        .map(|n| AddFile {
            path: format!("part-{n:08}.parquet"),
            size: 1000 + n as i64,
            partition_values: Default::default(),
            stats: serde_json::json!({"numRecords": 10}),
        })
        .collect();
    table.commit("WRITE", &adds, &[]).unwrap();
}

#[test]
fn sigterm_lets_a_running_query_finish_and_records_it() {
    use std::io::Read;
    const FILES: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = dir.path().join("big");
    many_files(&root, FILES);
    sql(
        &data,
        &format!(
            "CREATE TABLE fire.big USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.big; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r",
            root.display()
        ),
    );
    let mut server = Server::start(&data);
    let profile = common::profile(&data, &server, "r", &[]);
    let mut response = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
        .post(format!(
            "{}/shares/s/schemas/fire/tables/big/query",
            server.endpoint()
        ))
        .bearer_auth(common::bearer(&profile))
        .json(&serde_json::json!({}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    // The head is here, the files are still coming: now the server is asked to stop.
    let mut first = [0u8; 1024];
    let got = response.read(&mut first).unwrap();
    let mut body = first[..got].to_vec();
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", server.port)).is_err()
            || reqwest::blocking::get(server.url("/healthz")).is_err(),
        "a stopping server takes no new request"
    );
    response.read_to_end(&mut body).unwrap();
    let lines = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(lines, 2 + FILES, "protocol, metadata and every file");
    let status = server
        .exited_within(Duration::from_secs(40))
        .expect("the server stops once the response is done");
    assert!(status.success(), "{status}");
    let log = server.log_text();
    assert!(
        log.contains("stopping: running responses may finish"),
        "{log}"
    );
    // The ledger holds the query, sealed at shutdown.
    let out = fireshare()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let verified = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && !verified.contains("not sealed yet"),
        "{verified}"
    );
    let catalog = fireshare::catalog::Catalog::open(&fireshare::catalog::Location::Sqlite(
        data.join("catalog.db"),
    ))
    .unwrap();
    let ledger = fireshare::audit::LedgerDb::of(&catalog).unwrap();
    let filter = fireshare::audit::search::from_query_string(&format!("requestId={request_id}"))
        .unwrap()
        .0;
    let events = ledger.query(&filter).unwrap().events;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["files"], FILES as u64, "{}", events[0]);
    assert_eq!(events[0]["status"], 200);
}

#[test]
fn tls_serves_the_connector_and_reloads_its_certificate_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let (data, certs) = (dir.path().join("data"), dir.path().join("certs"));
    std::fs::create_dir_all(&certs).unwrap();
    let first = common::server_certificate(&certs, "first");
    std::fs::copy(certs.join("first.pem"), certs.join("server.pem")).unwrap();
    std::fs::copy(certs.join("first.key"), certs.join("server.key")).unwrap();
    let loans = dir.path().join("loans");
    many_files(&loans, 3);
    sql(
        &data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r",
            loans.display()
        ),
    );
    let (cert, key) = (certs.join("server.pem"), certs.join("server.key"));
    let server = Server::run_with(
        "serve",
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let ca = certs.join("ca.pem");
    let presented = || {
        common::run_python(
            "tls_check.py",
            &[
                "cert",
                "127.0.0.1",
                &server.port.to_string(),
                ca.to_str().unwrap(),
            ],
        )
    };
    let said = presented();
    assert!(said.starts_with(&first), "{said} (expected {first})");
    assert!(said.contains("TLSv1.3"), "{said}");
    // The real connector over HTTPS, trusting the CA (the profile's endpoint is https).
    let issued = fireshare()
        .args(["token", "create", "--recipient", "r", "--data-dir"])
        .arg(&data)
        .args([
            "--endpoint",
            &format!("https://127.0.0.1:{}/delta-sharing", server.port),
        ])
        .output()
        .unwrap();
    assert!(issued.status.success());
    let profile = dir.path().join("r.share");
    std::fs::write(&profile, &issued.stdout).unwrap();
    let written: Value = serde_json::from_slice(&issued.stdout).unwrap();
    assert!(
        written["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let out = std::process::Command::new(common::python())
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/tls_list.py"))
        .arg(&profile)
        .env("REQUESTS_CA_BUNDLE", &ca)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "s.fire.loans");

    // A new certificate in place, then SIGHUP: new connections get it.
    let second = common::server_certificate(&certs, "second");
    std::fs::copy(certs.join("second.pem"), &cert).unwrap();
    std::fs::copy(certs.join("second.key"), &key).unwrap();
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log_text().contains("reloaded the TLS certificate") {
        assert!(Instant::now() < deadline, "{}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(presented().starts_with(&second));
    // A broken file keeps the certificate in use.
    std::fs::write(&key, "not a key").unwrap();
    server.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .log_text()
        .contains("kept the TLS certificate in use")
    {
        assert!(Instant::now() < deadline, "{}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(presented().starts_with(&second));
}

#[test]
fn a_config_file_sets_what_flags_and_the_environment_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = common::free_port();
    let config = dir.path().join("fireshare.toml");
    std::fs::write(
        &config,
        format!(
            "listen = '127.0.0.1:{port}'\nurl-ttl = '15m'\ntrusted_proxy = ['10.0.0.0/8', '192.168.0.0/16']\nkeep-alive = '20s'\n"
        ),
    )
    .unwrap();
    let check = fireshare()
        .args(["config", "check", "--config"])
        .arg(&config)
        .env("FIRESHARE_METRICS_LISTEN", "127.0.0.1:9100")
        .env("FIRESHARE_TLS_CERT", "/etc/cert.pem")
        .env("FIRESHARE_TLS_KEY", "/etc/key.pem")
        .env_remove("FIRESHARE_DATA_DIR")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let listen = format!("listen = 127.0.0.1:{port}  (config file)");
    common::assert_lines(
        &said,
        &[
            &listen,
            "url-ttl = 15m  (config file)",
            "trusted-proxy = 10.0.0.0/8, 192.168.0.0/16  (config file)",
            "metrics-listen = 127.0.0.1:9100  (environment)",
            "activation-ttl = 7d  (default)",
        ],
    );
    // A bad value is refused as serve refuses it; a misspelt setting is named.
    std::fs::write(&config, "url-ttl = 'forever'\n").unwrap();
    let bad = fireshare()
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr).into_owned();
    assert!(
        said.contains("invalid value 'forever' for '--url-ttl"),
        "{said}"
    );
    std::fs::write(&config, "lisen = '127.0.0.1:1'\n").unwrap();
    let typo = fireshare()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("no command has a setting 'lisen'"));

    // serve starts where the file says.
    std::fs::write(
        &config,
        format!(
            "listen = '127.0.0.1:{port}'\ndata-dir = '{}'\n",
            data.display()
        ),
    )
    .unwrap();
    let mut child = fireshare()
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("FIRESHARE_DATA_DIR")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let answered = loop {
        if let Ok(r) = reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthz")) {
            break r.status().as_u16();
        }
        assert!(
            Instant::now() < deadline,
            "serve did not listen where the file says"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    child.wait().unwrap();
    assert_eq!(answered, 200);
    assert!(
        data.join("catalog.db").is_file(),
        "the data directory of the file"
    );
}

#[test]
fn completions_and_the_manual_come_from_the_same_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fireshare.bash");
    let out = fireshare().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).unwrap();
    // What bash offers after `fireshare serve --tls`, as when Tab is pressed.
    let offered = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(fireshare serve --tls); COMP_CWORD=2; _fireshare fireshare --tls serve; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&offered.stdout).trim(),
        "--tls-cert --tls-key"
    );
    for shell in ["zsh", "fish"] {
        let out = fireshare().args(["completions", shell]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("shutdown-grace"),
            "{shell}"
        );
    }
    let man = fireshare().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.status.success() && page.contains(".TH fireshare 1"),
        "{page}"
    );
    assert!(page.contains("serve") && page.contains("config"), "{page}");
}
