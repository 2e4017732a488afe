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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
    ] {
        assert!(text.contains(told), "{told:?} missing from:\n{text}");
    }
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
