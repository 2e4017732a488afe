//! Several `fireshare serve` replicas on one PostgreSQL database (a real server, started under
//! `target/` by the harness), sharing one data directory's keys as a mounted secret would: the
//! connector reads through each, a change made through one holds at the next request of every
//! other, an activation link works once, a replica killed under load or a database outage
//! loses no recorded response, and background FIRE validation runs once.
//!
//! Each test is bounded: its load runs for a few seconds with a fixed number of clients, and
//! every wait has a deadline.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Server, admin_sql, admin_token, on_new_postgres, profile, run_fireshare, sql};
use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::delta::writer::TableWriter;
use serde_json::Value;

fn replicas(data: &Path, options: &[&str]) -> Vec<Server> {
    ["a", "b", "c"]
        .iter()
        .map(|name| Server::replica(data, name, options))
        .collect()
}

/// What a client got: the status (0: no answer) and the request id the server named.
type Answer = (u16, Option<String>);

fn answer(sent: reqwest::Result<reqwest::blocking::Response>) -> Answer {
    match sent {
        Ok(response) => (
            response.status().as_u16(),
            response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ),
        Err(_) => (0, None),
    }
}

/// `GET {path}` with a bearer token.
fn get(server: &Server, path: &str, token: &str) -> Answer {
    answer(
        reqwest::blocking::Client::new()
            .get(server.url(path))
            .bearer_auth(token)
            .timeout(Duration::from_secs(20))
            .send(),
    )
}

/// The request ids of every event in the ledger.
fn recorded_requests(data: &Path) -> BTreeSet<String> {
    run_fireshare(&["audit", "query", "--format", "ndjson"], data)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["requestId"].as_str().map(str::to_string))
        .collect()
}

/// `fireshare audit verify` succeeds; returns what it said.
fn verified(data: &Path) -> String {
    run_fireshare(&["audit", "verify"], data)
        .unwrap_or_else(|said| panic!("the ledger does not verify: {said}"))
}

/// A recipient `r` reading share `s` (no table), with a bearer token.
fn recipient_with_token(data: &Path, server: &Server) -> String {
    sql(
        data,
        "CREATE SHARE s; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r;",
    );
    common::bearer(&profile(data, server, "r", &[]))
}

#[test]
fn the_connector_reads_through_every_replica_into_one_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("suite");
    let (data, fixtures) = (dir.path().join("data"), dir.path().join("tables"));
    common::run_python("fixtures.py", &[fixtures.to_str().unwrap()]);
    common::share_fixtures(&data, "", |name| {
        format!("'{}'", fixtures.join(name).display())
    });
    let servers = replicas(&data, &[]);
    for server in &servers {
        let regulator = profile(&data, server, "regulator", &["--expires-in", "1d"]);
        let outsider = profile(&data, server, "outsider", &[]);
        let failures =
            common::connector_cases(&regulator, &outsider, &fixtures, common::CONNECTOR_CASES);
        assert!(
            failures.is_empty(),
            "client cases failed through {}: {failures:?}\n--- its log\n{}",
            server.port,
            server.log_text()
        );
    }
    // One chain holds what the three recorded, in the order they committed.
    let said = verified(&data);
    let queries = common::audit_events(&data, "queryTable").len();
    assert!(queries > 30, "{queries} queries recorded; {said}");
}

#[test]
fn a_change_through_one_replica_holds_at_the_next_request_of_every_other() {
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("coherence");
    let data = dir.path().join("data");
    sql(&data, "CREATE SHARE other");
    let servers = replicas(&data, &[]);
    let token = recipient_with_token(&data, &servers[0]);
    let admin = admin_token(&data, "admin", "ops");
    for server in &servers {
        assert_eq!(get(server, "/delta-sharing/shares", &token).0, 200);
        // Every replica now remembers the token's holder.
        assert_eq!(get(server, "/delta-sharing/shares/s", &token).0, 200);
        assert_eq!(get(server, "/delta-sharing/shares/other", &token).0, 404);
    }
    // Granted through one, revoked through the next: every replica serves (or refuses) it at
    // once, round after round, whichever wrote.
    for round in 0..10 {
        let (granting, revoking) = (&servers[round % 3], &servers[(round + 1) % 3]);
        let granted = admin_sql(
            granting,
            &admin,
            "GRANT SELECT ON SHARE other TO RECIPIENT r",
        );
        assert_eq!(granted.status(), 200);
        for server in &servers {
            assert_eq!(get(server, "/delta-sharing/shares/other", &token).0, 200);
        }
        let revoked = admin_sql(
            revoking,
            &admin,
            "REVOKE SELECT ON SHARE other FROM RECIPIENT r",
        );
        assert_eq!(revoked.status(), 200);
        for server in &servers {
            let status = get(server, "/delta-sharing/shares/other", &token).0;
            assert_eq!(status, 404, "round {round}, replica {}", server.port);
        }
    }
    // Revoked through A: B and C refuse the very next request.
    let revoked = admin_sql(&servers[0], &admin, "ALTER RECIPIENT r REVOKE TOKENS");
    assert_eq!(revoked.status(), 200);
    for server in [&servers[1], &servers[2]] {
        assert_eq!(get(server, "/delta-sharing/shares", &token).0, 401);
    }
    // The admin token revoked through C stops at A and B at once too.
    let prefix = &admin[..12];
    let said = admin_sql(
        &servers[2],
        &admin,
        &format!("REVOKE ADMIN TOKEN '{prefix}'"),
    );
    assert_eq!(said.status(), 200, "{}", said.text().unwrap());
    for server in [&servers[0], &servers[1]] {
        assert_eq!(admin_sql(server, &admin, "SHOW SHARES").status(), 401);
    }
}

/// A replica frozen while a recipient's tokens are revoked (SIGSTOP) cannot confirm the change: the change
/// waits for it until its confirmation is old. Its watcher's connection is then cut, so that,
/// thawed, it cannot learn of the change by itself for a while: it must not trust what it
/// remembered, and refuses the revoked token.
#[test]
fn a_stalled_replica_never_serves_what_was_revoked_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = on_new_postgres("stalled");
    let data = dir.path().join("data");
    let servers = replicas(&data, &[]);
    let token = recipient_with_token(&data, &servers[0]);
    let admin = admin_token(&data, "admin", "ops");
    for server in &servers {
        assert_eq!(get(server, "/delta-sharing/shares/s", &token).0, 200);
    }
    servers[1].signal(libc::SIGSTOP);
    let revoked = admin_sql(&servers[0], &admin, "ALTER RECIPIENT r REVOKE TOKENS");
    assert_eq!(revoked.status(), 200);
    postgres.psql(
        "stalled",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fireshare watcher'",
    );
    servers[1].signal(libc::SIGCONT);
    for server in &servers {
        assert_eq!(get(server, "/delta-sharing/shares/s", &token).0, 401);
    }
}

#[test]
fn an_activation_link_hands_out_one_profile_across_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("activation");
    let data = dir.path().join("data");
    let servers = Arc::new(replicas(&data, &[]));
    let out = sql(&data, "CREATE RECIPIENT regulator");
    let code = out
        .split_whitespace()
        .find_map(|w| w.split("/activate/").nth(1))
        .expect("an activation link")
        .to_string();
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let (servers, code) = (servers.clone(), code.clone());
            std::thread::spawn(move || {
                let server = &servers[i % 3];
                let response = reqwest::blocking::Client::new()
                    .get(server.url(&format!("/activate/{code}")))
                    .timeout(Duration::from_secs(20))
                    .send()
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.text().unwrap())
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let profiles: Vec<&String> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(profiles.len(), 1, "{answers:?}");
    assert!(profiles[0].contains("bearerToken"), "{}", profiles[0]);
    assert!(
        answers.iter().all(|(s, _)| *s == 200 || *s == 410),
        "{answers:?}"
    );
}

/// Clients sending `GET /shares` in turn to `servers` (ports) until `stop` (at most 5,000
/// requests each): every answer they got back, a refused connection included.
fn load(
    servers: Vec<u16>,
    token: String,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Answer>> {
    std::thread::spawn(move || {
        let workers: Vec<_> = (0..clients)
            .map(|n| {
                let (servers, token, stop) = (servers.clone(), token.clone(), stop.clone());
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(20))
                        .build()
                        .unwrap();
                    let mut answers = Vec::new();
                    while !stop.load(Ordering::Relaxed) && answers.len() < 5_000 {
                        let port = servers[(n + answers.len()) % servers.len()];
                        let url = format!("http://127.0.0.1:{port}/delta-sharing/shares");
                        answers.push(answer(http.get(url).bearer_auth(&token).send()));
                    }
                    answers
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

/// Every answer a client got has its event (a 503, which records nothing, and no answer
/// aside).
fn every_answer_recorded(data: &Path, answers: &[Answer]) {
    let recorded = recorded_requests(data);
    let missing: Vec<_> = answers
        .iter()
        .filter(|(status, _)| ![0, 503].contains(status))
        .filter(|(_, id)| id.as_ref().is_none_or(|id| !recorded.contains(id)))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "answered but not recorded: {missing:?}");
}

#[test]
fn a_replica_killed_under_load_loses_no_recorded_response() {
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("killed");
    let data = dir.path().join("data");
    let mut servers = replicas(&data, &[]);
    let token = recipient_with_token(&data, &servers[0]);
    let stop = Arc::new(AtomicBool::new(false));
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let running = load(ports, token.clone(), 6, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    servers[1].signal(libc::SIGKILL);
    assert!(servers[1].exited_within(Duration::from_secs(5)).is_some());
    let killed_at = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let answers = running.join().unwrap();
    assert!(answers.len() > 100, "only {} answers", answers.len());
    // Requests sent to the killed replica found nobody (0); every other was served.
    let statuses: BTreeSet<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, BTreeSet::from([0, 200]));
    every_answer_recorded(&data, &answers);
    // The survivors kept serving after the kill.
    for server in [&servers[0], &servers[2]] {
        assert_eq!(get(server, "/delta-sharing/shares", &token).0, 200);
    }
    assert!(killed_at.elapsed() < Duration::from_secs(60));
    verified(&data);

    // Restarted, it goes on with the same chain.
    let restarted = Server::replica(&data, "b", &[]);
    let (status, id) = get(&restarted, "/delta-sharing/shares", &token);
    assert_eq!(status, 200);
    assert!(recorded_requests(&data).contains(&id.unwrap()));
    let said = verified(&data);
    assert!(said.starts_with("verified: events 1.."), "{said}");
}

#[test]
fn a_database_outage_answers_503_then_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = on_new_postgres("outage");
    let data = dir.path().join("data");
    let servers = [
        Server::replica(&data, "a", &["--database-connect-timeout", "1s"]),
        Server::replica(&data, "b", &["--database-connect-timeout", "1s"]),
    ];
    let token = recipient_with_token(&data, &servers[0]);
    let stop = Arc::new(AtomicBool::new(false));
    let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
    let running = load(ports, token.clone(), 4, stop.clone());
    std::thread::sleep(Duration::from_millis(1000));
    postgres.stop();
    std::thread::sleep(Duration::from_millis(3000));
    // While it is away, the process answers and says it is not ready.
    let ready = reqwest::blocking::get(servers[0].url("/readyz")).unwrap();
    assert_eq!(ready.status(), 503);
    let alive = reqwest::blocking::get(servers[0].url("/healthz")).unwrap();
    assert_eq!(alive.status(), 200);
    postgres.resume();
    // Back within a few seconds, by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    for server in &servers {
        while get(server, "/delta-sharing/shares", &token).0 != 200 {
            assert!(Instant::now() < deadline, "{} did not recover", server.port);
            std::thread::sleep(Duration::from_millis(200));
        }
        let ready = reqwest::blocking::get(server.url("/readyz")).unwrap();
        assert_eq!(ready.status(), 200);
    }
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let answers = running.join().unwrap();
    let statuses: BTreeSet<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert!(
        statuses.contains(&503),
        "no 503 during the outage: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    every_answer_recorded(&data, &answers);
    verified(&data);
}

#[test]
fn a_new_version_is_validated_once_across_replicas() {
    let Some(shared) = common::shared_dir(&["fire/schemas"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("fire");
    let data = dir.path().join("data");
    let root = dir.path().join("collateral");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut table = TableWriter::create(&root, "collateral", "", &schema, &[], &[]).unwrap();
    // A version of `n` rows; the rows need not be collateral: a report is a report.
    let mut commit = |n: i64| {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(0..n))],
        )
        .unwrap();
        let file = table.write_file(&batch, &[]).unwrap();
        table.commit("WRITE", &[file], &[]).unwrap()
    };
    commit(3);
    let schemas = shared.join("fire/schemas");
    let bind = format!(
        "CREATE TABLE fire.collateral USING DELTA LOCATION '{}';
         ALTER TABLE fire.collateral SET TBLPROPERTIES ('fire.entity' = 'collateral');",
        root.display()
    );
    let schemas = schemas.to_str().unwrap();
    run_fireshare(&["sql", "--fire-schemas", schemas, &bind], &data).unwrap();
    let servers = replicas(&data, &["--fire-poll", "1s", "--log-format", "json"]);
    let versions = [commit(5), commit(7)];
    let deadline = Instant::now() + Duration::from_secs(60);
    // How many times the replicas logged validating `version`.
    let validated = |version: u64| {
        servers
            .iter()
            .flat_map(|s| {
                s.log_text()
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .collect::<Vec<_>>()
            })
            .filter(|l| l["message"] == "FIRE validation" && l["version"] == version)
            .count()
    };
    while versions.iter().any(|v| validated(*v) == 0) {
        assert!(
            Instant::now() < deadline,
            "not validated in time:\n{}",
            servers
                .iter()
                .map(Server::log_text)
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Three more polls of every replica: nobody validates them again.
    std::thread::sleep(Duration::from_secs(3));
    for version in versions {
        assert_eq!(validated(version), 1, "version {version}");
    }
}

#[test]
fn a_replica_with_other_keys_refuses_to_start_until_they_are_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let _postgres = on_new_postgres("keys");
    let (first, other) = (dir.path().join("first"), dir.path().join("other"));
    sql(&first, "CREATE SHARE s");
    // A data directory of its own: new keys, which the catalog does not know.
    let said = run_fireshare(&["serve", "--listen", "127.0.0.1:0"], &other).unwrap_err();
    for key in [
        "audit.ed25519",
        "server.ed25519",
        "server.key",
        "storage.key",
    ] {
        assert!(said.contains(key), "{said}");
    }
    assert!(said.contains("fireshare keys --adopt"), "{said}");
    // Rotated on purpose: adopted, the new keys serve and the old ones are refused.
    run_fireshare(&["keys", "--adopt"], &other).unwrap();
    let server = Server::replica(&other, "other", &[]);
    assert_eq!(get(&server, "/healthz", "").0, 200);
    assert!(run_fireshare(&["sql", "SHOW SHARES"], &first).is_err());
    assert_eq!(common::audit_events(&other, "adoptKeys").len(), 1);
}
