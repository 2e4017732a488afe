//! The attacks of the hardening review, each repeated against the binary: what must hold is
//! asserted, bounded in time, count and memory.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use common::{Server, sql};
use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::delta::writer::TableWriter;
use serde_json::{Value, json};

/// A one-commit table at `dir/loans`, shared as s.fire.loans with recipient r (whose
/// `recipient` options are given); returns what `fireshare sql` printed.
fn shared_loans(dir: &Path, data: &Path, recipient: &str) -> String {
    let root = dir.join("loans");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut table = TableWriter::create(&root, "loans", "", &schema, &[], &[]).unwrap();
    let batch =
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(0..3))]).unwrap();
    let file = table.write_file(&batch, &[]).unwrap();
    table.commit("WRITE", &[file], &[]).unwrap();
    sql(
        data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans; CREATE RECIPIENT r {recipient};
             GRANT SELECT ON SHARE s TO RECIPIENT r;",
            root.display()
        ),
    )
}

#[test]
fn access_tokens_come_as_bearer_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = shared_loans(dir.path(), &data, "USING OAUTH");
    let row = created.lines().find(|l| l.contains("fsc_")).unwrap();
    let fields: Vec<&str> = row.split('|').map(str::trim).collect();
    let server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    let granted: Value = http
        .post(server.url("/oauth/token"))
        .basic_auth(fields[1], Some(fields[2]))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let access = granted["access_token"].as_str().unwrap();
    let shares = |authorization: String| {
        http.get(format!("{}/shares", server.endpoint()))
            .header("Authorization", authorization)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(shares(format!("Bearer {access}")), 200);
    assert_eq!(
        shares(format!("bearer {access}")),
        200,
        "the scheme's case does not matter"
    );
    assert_eq!(shares(format!("Basic {access}")), 401);
    assert_eq!(shares(format!("Token {access}")), 401);
}

#[test]
fn the_data_directory_and_its_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A data directory made beforehand, open to everyone, with a file of its own.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(data.join("notes.txt"), "x").unwrap();
    std::fs::set_permissions(
        data.join("notes.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    shared_loans(dir.path(), &data, "");
    let server = Server::start(&data);
    let token = common::bearer(&common::profile(&data, &server, "r", &[]));
    let status = reqwest::blocking::Client::new()
        .post(format!(
            "{}/shares/s/schemas/fire/tables/loans/query",
            server.endpoint()
        ))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    drop(server);
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        // The server's log and the profile are written by this test, not by fireshare.
        if ["server.log", "r.share"].contains(&path.file_name().unwrap().to_str().unwrap()) {
            continue;
        }
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
        seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for file in [
        "catalog.db",
        "catalog.db-wal",
        "audit.ed25519",
        "server.key",
        "notes.txt",
    ] {
        assert!(seen.iter().any(|s| s == file), "{file} in {seen:?}");
    }
}

#[test]
fn activation_codes_reach_no_log_even_when_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = shared_loans(dir.path(), &data, "IP ACCESS LIST ('192.0.2.7')");
    let code = created
        .split_whitespace()
        .find_map(|w| w.split("/activate/").nth(1))
        .unwrap()
        .to_string();
    // The default log level, as a deployment runs it.
    let server = Server::run_env("serve", &data, &[], &[("RUST_LOG", "info")]);
    let refused = reqwest::blocking::get(server.url(&format!("/activate/{code}"))).unwrap();
    assert_eq!(refused.status(), 403, "outside the IP list");
    drop(server);
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        log.contains("/activate/{code}"),
        "the request is logged by its route: {log}"
    );
    assert!(!log.contains(&code), "{log}");
}

/// What the server sends on a raw connection after `request`, until it closes the connection
/// (or `within` passes); and how long it took.
fn raw_exchange(
    server: &Server,
    request: &[u8],
    within: std::time::Duration,
) -> (String, std::time::Duration) {
    use std::io::{Read, Write};
    let started = std::time::Instant::now();
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    socket.set_read_timeout(Some(within)).unwrap();
    socket.write_all(request).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) => panic!(
                "still open after {within:?} ({e}): {}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    shared_loans(dir.path(), &data, "");
    let server = Server::run_with(
        "serve",
        &data,
        &[
            "--body-timeout",
            "2s",
            "--request-timeout",
            "2s",
            "--keep-alive",
            "2s",
        ],
    );
    let bound = std::time::Duration::from_secs(20);
    // A body announced as 1,000 bytes of which one arrives: cut when its time is up.
    let (answer, took) = raw_exchange(
        &server,
        b"POST /delta-sharing/shares/s/schemas/fire/tables/loans/query HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{",
        bound,
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive within 2 s"), "{answer}");
    assert!(took >= std::time::Duration::from_secs(2), "{took:?}");
    // A head that never ends.
    let (answer, _) = raw_exchange(&server, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", bound);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // An idle keep-alive connection after a complete request.
    let (answer, _) = raw_exchange(&server, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", bound);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Bodies larger than the bound are refused before they are read.
    let (answer, _) = raw_exchange(
        &server,
        b"POST /delta-sharing/shares/s/schemas/fire/tables/loans/query HTTP/1.1\r\nHost: t\r\nContent-Length: 9999999\r\n\r\n",
        bound,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[test]
fn long_reads_never_hold_up_writers() {
    use fireshare::audit::{self, Actor, Event, Sealing};
    use fireshare::catalog::Catalog;
    use fireshare::data_dir::DataDir;
    use fireshare::signing_key::SigningKey;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    shared_loans(dir.path(), &data, "");
    // A long ledger (requests of a busy server), which SHOW ACCESS … AS OF folds.
    {
        let dir = DataDir::new(&data);
        let catalog =
            Catalog::open(&fireshare::catalog::Location::Sqlite(dir.catalog_db())).unwrap();
        let key = SigningKey::load_or_create(&dir.audit_key()).unwrap();
        let ledger = audit::open_ledger(&dir, &catalog, &key, Sealing::default()).unwrap();
        for batch in 0..100 {
            let mut events: Vec<Event> = (0..1000)
                .map(|i| Event {
                    time: format!("2026-01-01T00:{:02}:{:02}.000000Z", batch % 60, i % 60),
                    request_id: format!("b{batch}-{i}"),
                    actor: Actor::recipient("r", None),
                    action: "queryTable".into(),
                    status: 200,
                    ..Event::default()
                })
                .collect();
            ledger
                .append(&mut events, &key, Sealing::default())
                .unwrap();
        }
    }
    let server = Server::start(&data);
    let auditor = common::admin_token(&data, "auditor", "audit");
    let read = |count: usize| {
        let statement =
            "SHOW ACCESS ON TABLE fire.loans AS OF '2999-01-01T00:00:00Z';".repeat(count);
        reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .unwrap()
            .post(server.url("/admin/v1/sql"))
            .bearer_auth(&auditor)
            .json(&json!({ "statement": statement }))
            .send()
            .unwrap()
            .status()
    };
    // Enough reads to outlast a writer's 10 s wait for the lock, whatever the machine's speed.
    let started = std::time::Instant::now();
    assert_eq!(read(1), 200);
    let one = started.elapsed().max(std::time::Duration::from_millis(1));
    let count = (15_000 / one.as_millis().max(1) as usize).clamp(20, 1000);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| read(count));
        std::thread::sleep(one * 2);
        let out = common::fireshare()
            .args(["sql", "CREATE SHARE during_reads", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !reader.is_finished() || count == 20,
            "the write waited for the {count} reads"
        );
        assert_eq!(reader.join().unwrap(), 200);
    });
}

#[test]
fn admin_requests_hold_bounded_memory_whatever_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let comment = "c".repeat(4096);
    let shares: String = (0..20)
        .map(|i| format!("CREATE SHARE s{i} COMMENT '{comment}';"))
        .collect();
    sql(&data, &shares);
    let server = Server::start(&data);
    let auditor = common::admin_token(&data, "auditor", "audit");
    let admin = common::admin_token(&data, "admin", "ops");
    let post = |token: &str, statement: String| {
        let response = common::admin_sql(&server, token, &statement);
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or_default())
    };
    // 1,000 listings of 80 KB each would make 80 MB of results: refused past 16 MiB.
    let (status, body) = post(&auditor, "SHOW SHARES;".repeat(1000));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("pass 16 MiB"),
        "{body}"
    );
    // More statements than a script holds, two scripts at once.
    std::thread::scope(|scope| {
        let big = || {
            post(
                &auditor,
                "SHOW EXPECTATIONS FOR ENTITY collateral;".repeat(50_000),
            )
        };
        let (a, b) = (scope.spawn(big), scope.spawn(big));
        for (status, body) in [a.join().unwrap(), b.join().unwrap()] {
            assert_eq!(status, 400);
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("at most 1000 statements"),
                "{body}"
            );
        }
    });
    // Names and comments are bounded.
    let (status, body) = post(&admin, format!("CREATE SHARE {}", "n".repeat(1 << 20)));
    assert!(
        status == 400 && body["message"].as_str().unwrap().contains("at most 255"),
        "{body}"
    );
    let (status, _) = post(
        &admin,
        format!("CREATE SHARE x COMMENT '{}'", "c".repeat(4097)),
    );
    assert_eq!(status, 400);
    let rss = server.peak_rss_mib();
    assert!(rss < 300.0, "the server peaked at {rss:.0} MiB");
    eprintln!("peak RSS under the admin attacks: {rss:.0} MiB");
}

#[test]
fn a_damaged_log_answers_the_same_warm_or_cold() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    shared_loans(dir.path(), &data, "");
    let log = dir.path().join("loans/_delta_log");
    let query = |server: &Server, token: &str| {
        let response = reqwest::blocking::Client::new()
            .post(format!(
                "{}/shares/s/schemas/fire/tables/loans/query",
                server.endpoint()
            ))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let warm = Server::start(&data);
    let token = common::bearer(&common::profile(&data, &warm, "r", &[]));
    assert_eq!(query(&warm, &token).0, 200);
    for damage in ["truncate the latest commit", "delete the log"] {
        match damage {
            "truncate the latest commit" => {
                let latest = log.join(format!("{:020}.json", 1));
                let text = std::fs::read(&latest).unwrap();
                std::fs::write(&latest, &text[..text.len() / 2]).unwrap();
            }
            _ => std::fs::remove_dir_all(&log).unwrap(),
        }
        let from_warm = query(&warm, &token);
        let cold = Server::start(&data);
        let from_cold = query(&cold, &token);
        assert_ne!(from_cold.0, 200, "{damage}: {from_cold:?}");
        assert_eq!(from_warm, from_cold, "{damage}");
    }
}

/// The catalog's governed rows, after checking that the ledger alone rebuilds the same rows
/// (as it does when every change committed with its event).
fn rows_match_the_ledger(data: &Path, when: &str) -> Value {
    use fireshare::audit::event::{format_time_us, now_us};
    let catalog = fireshare::catalog::Catalog::open(&common::catalog_location(data)).unwrap();
    let now = catalog.read(|c| c.governed_rows()).unwrap();
    let ledger = fireshare::audit::LedgerDb::of(&catalog).unwrap();
    let folded = ledger
        .catalog_as_of(&format_time_us(now_us() + 1_000_000))
        .unwrap();
    for (table, rows) in now.iter().chain(folded.iter()) {
        let (in_catalog, in_ledger) = (now.get(table), folded.get(table));
        let missing: Vec<_> = rows
            .iter()
            .filter(|r| {
                in_catalog.is_none_or(|s| !s.contains(*r))
                    || in_ledger.is_none_or(|s| !s.contains(*r))
            })
            .take(3)
            .collect();
        assert!(
            missing.is_empty(),
            "{when}: {table} rows in only one of the catalog ({}) and the ledger ({}), such as {missing:?}",
            in_catalog.map_or(0, |s| s.len()),
            in_ledger.map_or(0, |s| s.len()),
        );
    }
    json!(now)
}

fn audit_verifies(data: &Path) {
    let out = common::fireshare()
        .args(["audit", "verify", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_change_commits_with_its_event_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = sql(&data, "CREATE SHARE s; CREATE RECIPIENT r");
    let code = created
        .split_whitespace()
        .find_map(|w| w.split("/activate/").nth(1))
        .unwrap()
        .to_string();
    let admin = common::admin_token(&data, "admin", "ops");
    let server = Server::start(&data);
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: Value| {
        let response = http
            .post(server.url(path))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or_default())
    };
    let activate = || {
        reqwest::blocking::get(server.url(&format!("/activate/{code}")))
            .unwrap()
            .status()
            .as_u16()
    };
    // The ledger cannot take an event (a full disk, say), while the catalog's tables could.
    let db = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER ledger_full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .unwrap();
    let grant = json!({"statement": "GRANT SELECT ON SHARE s TO RECIPIENT r"});
    let (status, body) = post("/admin/v1/sql", grant.clone());
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errorCode"], "TEMPORARILY_UNAVAILABLE", "{body}");
    let script = json!({"statement": "CREATE SHARE t; CREATE SHARE u; GRANT SELECT ON SHARE t TO RECIPIENT r"});
    assert_eq!(post("/admin/v1/sql", script).0, 503);
    assert_eq!(post("/admin/v1/shares", json!({"name": "v"})).0, 503);
    assert_eq!(activate(), 503, "the activation cannot be recorded");
    db.execute_batch("DROP TRIGGER ledger_full").unwrap();

    let now = rows_match_the_ledger(&data, "after the refusals");
    assert_eq!(now["grants"], json!([]));
    let (_, shares) = post(
        "/admin/v1/sql",
        json!({"statement": "SHOW SHARES; SHOW GRANTS ON SHARE s"}),
    );
    let listed = shares.to_string();
    assert!(
        !["\"t\"", "\"u\"", "\"v\""]
            .iter()
            .any(|n| listed.contains(n)),
        "{shares}"
    );
    assert_eq!(shares["results"][1]["rows"], json!([]), "{shares}");
    assert_eq!(activate(), 200, "the link is still usable");
    assert_eq!(post("/admin/v1/sql", grant).0, 200);
    let now = rows_match_the_ledger(&data, "after the grant");
    assert_eq!(now["grants"].as_array().unwrap().len(), 1);
    drop(server);
    audit_verifies(&data);
}

#[test]
fn a_killed_script_leaves_all_of_it_with_its_event_or_nothing() {
    killed_scripts();
}

/// The same on PostgreSQL: the killed command's connection drops and its transaction with it.
#[test]
fn a_killed_script_leaves_all_of_it_with_its_event_or_nothing_on_postgres() {
    let _postgres = common::on_new_postgres("killed");
    killed_scripts();
}

/// `fireshare sql` killed at random points, its catalog checked against its ledger each time.
fn killed_scripts() {
    use std::time::{Duration, Instant};
    const SHARES: usize = 200;
    // 20 in `cargo test`; FIRESHARE_KILLS=200 for the longer run the README reports.
    let kills: usize = std::env::var("FIRESHARE_KILLS").map_or(20, |n| n.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let script = |round: usize| -> String {
        (0..SHARES)
            .map(|i| format!("CREATE SHARE k{round}_{i};"))
            .collect()
    };
    let started = Instant::now();
    sql(&data, &script(0));
    let whole = started.elapsed();
    let mut estimate = whole;
    let (mut kept, mut lost) = (1, 0);
    for round in 1..=kills {
        let mut child = common::fireshare()
            .args(["sql", "--data-dir"])
            .arg(&data)
            .arg(script(round))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Anywhere from before the transaction to after its commit. A script takes longer as
        // the catalog grows: the estimate follows what runs left alone took.
        let deadline = estimate.mul_f64(rand::random::<f64>() * 1.5);
        let started = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                estimate = started.elapsed();
                break;
            }
            if started.elapsed() >= deadline {
                let _ = child.kill();
                child.wait().unwrap();
                if deadline > estimate {
                    estimate = estimate.mul_f64(1.2);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let now = rows_match_the_ledger(&data, &format!("round {round}"));
        let created = now["shares"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row.as_str().unwrap().contains(&format!("\"k{round}_")))
            .count();
        assert!(
            created == 0 || created == SHARES,
            "round {round}: {created} shares"
        );
        if created == 0 { lost += 1 } else { kept += 1 }
    }
    eprintln!(
        "{kept} scripts committed whole with their event, {lost} killed scripts left nothing (a whole script: {whole:?})"
    );
    assert!(lost > 0, "no script was killed before its commit");
    assert!(whole < Duration::from_secs(60));
    audit_verifies(&data);
}
