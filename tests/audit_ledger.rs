//! The audit ledger over real HTTP: what a connector session leaves in it, what tampering
//! `audit verify` catches, that a killed server loses no record of a response it sent, and
//! that delivery receipts verify with the published key.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Server, fireshare, profile, run_python, sql};
use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::audit::{self, Actor, Event, Sealing};
use fireshare::catalog::Catalog;
use fireshare::data_dir::DataDir;
use fireshare::delta::writer::TableWriter;
use fireshare::signing_key::SigningKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A change-feed table of two commits (3 then 2 rows) at `dir/loans`.
fn loans_table(dir: &Path) -> PathBuf {
    let root = dir.join("loans");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let config = [("delta.enableChangeDataFeed", "true")];
    let mut table = TableWriter::create(&root, "loans", "", &schema, &[], &config).unwrap();
    for ids in [0..3, 3..5] {
        let ids = Int64Array::from_iter_values(ids);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids)]).unwrap();
        let file = table.write_file(&batch, &[]).unwrap();
        table.commit("WRITE", &[file], &[]).unwrap();
    }
    root
}

/// The loans table shared WITH HISTORY as s.fire.loans to recipient `regulator`, a running
/// server and the recipient's profile.
fn shared_loans(dir: &Path) -> (PathBuf, Server, PathBuf) {
    let data = dir.join("data");
    let root = loans_table(dir);
    sql(
        &data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans WITH HISTORY; CREATE RECIPIENT regulator;
             GRANT SELECT ON SHARE s TO RECIPIENT regulator;",
            root.display()
        ),
    );
    let server = Server::start(&data);
    let profile = profile(&data, &server, "regulator", &[]);
    (data, server, profile)
}

/// `fireshare audit ARGS --data-dir DATA`: success and stdout + stderr.
fn audit_cli(data: &Path, args: &[&str]) -> (bool, String) {
    let out = fireshare()
        .arg("audit")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every event of the ledger, oldest first (as `audit query` prints them).
fn events(data: &Path, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["query", "--format", "ndjson"];
    args.extend(filters);
    let (ok, text) = audit_cli(data, &args);
    assert!(ok, "audit query failed: {text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count_by_action(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts
            .entry(event["action"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

#[test]
fn a_connector_session_is_recorded_whole_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, profile) = shared_loans(dir.path());
    let read = run_python(
        "audit_session.py",
        &[profile.to_str().unwrap(), "s.fire.loans"],
    );
    let read: Value = serde_json::from_str(read.trim()).unwrap();
    assert_eq!(
        read,
        serde_json::json!({"tables": 1, "rows": 5, "changes": 5})
    );
    // A refused request: a token that does not exist.
    let refused = reqwest::blocking::Client::new()
        .get(server.url("/delta-sharing/shares"))
        .bearer_auth("fsr_bogusbogusbogus")
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused_id = refused.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();

    let token = common::bearer(&profile);
    let recipient = events(&data, &["--actor", "regulator"]);
    let mut actions = count_by_action(&recipient);
    // The connector reads each file with several requests (HEAD, then GETs of ranges).
    let downloads = actions.remove("downloadFile").unwrap_or(0);
    assert!(downloads >= 4, "{recipient:#?}");
    assert_eq!(
        actions,
        BTreeMap::from([
            ("getTableMetadata".to_string(), 1),
            ("listAllTables".to_string(), 1),
            ("listShares".to_string(), 1),
            ("queryTable".to_string(), 1),
            ("queryTableChanges".to_string(), 1),
        ]),
        "{recipient:#?}"
    );
    for event in &recipient {
        let partial = event["action"] == "downloadFile" && event["status"] == 206;
        assert!(event["status"] == 200 || partial, "{event}");
        assert_eq!(event["actor"]["kind"], "recipient");
        assert_eq!(event["clientIp"], "127.0.0.1");
        assert!(event["durationUs"].as_u64().is_some());
        if event["action"] != "downloadFile" {
            assert_eq!(event["actor"]["tokenId"], token[..12], "{event}");
            assert!(
                event["userAgent"]
                    .as_str()
                    .unwrap()
                    .contains("Delta-Sharing-Python"),
                "{event}"
            );
        }
    }
    let metadata = recipient
        .iter()
        .find(|e| e["action"] == "getTableMetadata")
        .unwrap();
    assert_eq!(metadata["versions"], 2, "{metadata}");
    let query = recipient
        .iter()
        .find(|e| e["action"] == "queryTable")
        .unwrap();
    assert_eq!(
        (&query["share"], &query["schema"], &query["table"]),
        (&"s".into(), &"fire".into(), &"loans".into())
    );
    assert_eq!(query["versions"], 2);
    assert_eq!(query["files"], 2);
    // Kept detached: its payload is the event's own fields.
    assert!(query["receipt"].as_str().unwrap().contains(".."), "{query}");
    let changes = recipient
        .iter()
        .find(|e| e["action"] == "queryTableChanges")
        .unwrap();
    assert_eq!(
        changes["versions"],
        serde_json::json!({"start": 0, "end": 2})
    );
    assert_eq!(changes["params"]["startingVersion"], "0");
    assert_eq!(changes["files"], 2);
    let sizes: BTreeMap<String, u64> = std::fs::read_dir(dir.path().join("loans"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    let mut downloaded = BTreeMap::new();
    for download in recipient.iter().filter(|e| e["action"] == "downloadFile") {
        assert_eq!(
            (&download["schema"], &download["table"]),
            (&"fire".into(), &"loans".into())
        );
        let file = download["params"]["file"].as_str().unwrap().to_string();
        let size = sizes[&file];
        match download["method"].as_str().unwrap() {
            "HEAD" => assert!(download.get("bytes").is_none(), "{download}"),
            _ => assert!(
                (1..=size).contains(&download["bytes"].as_u64().unwrap()),
                "{download}"
            ),
        }
        assert!(
            download["params"].get("X-Amz-Signature").is_none(),
            "{download}"
        );
        assert!(download["params"]["Expires"].is_string(), "{download}");
        downloaded.insert(file, size);
    }
    assert_eq!(downloaded, sizes, "every data file was read");

    let refusal = events(&data, &["--request-id", &refused_id]);
    assert_eq!(refusal.len(), 1);
    assert_eq!(refusal[0]["status"], 401);
    assert_eq!(refusal[0]["errorCode"], "UNAUTHENTICATED");
    assert_eq!(refusal[0]["actor"]["kind"], "anonymous");
    assert_eq!(refusal[0]["actor"]["tokenId"], "fsr_bogusbog");
    // The command-line statements that set the share up are there, with what they changed.
    let setup = events(&data, &["--action", "runSql"]);
    assert_eq!(setup.len(), 1);
    let statements = setup[0]["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 5);
    assert_eq!(statements[4]["action"], "grant");
    assert_eq!(
        statements[4]["changes"]["grants"]["added"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
    assert!(text.starts_with("verified: events 1.."), "{text}");
}

/// A ledger of 60 events sealed every 10, written through the library as a server would.
fn sample_ledger(data: &Path) {
    let dir = DataDir::new(data);
    dir.ensure().unwrap();
    let catalog = Catalog::open(&fireshare::catalog::Location::Sqlite(dir.catalog_db())).unwrap();
    let key = SigningKey::load_or_create(&dir.audit_key()).unwrap();
    let sealing = Sealing {
        every: 10,
        interval: Duration::from_secs(3600),
    };
    let ledger = audit::open_ledger(&dir, &catalog, &key, sealing).unwrap();
    // Groups of 7, as a writer commits them.
    for group in 0..9 {
        let mut events: Vec<Event> = (0..7)
            .map(|i| Event {
                // Far ahead of the event that starts the ledger (now).
                time: format!("2099-01-01T00:00:{:02}.000000Z", group * 7 + i),
                request_id: format!("r{group}-{i}"),
                actor: Actor {
                    kind: "recipient".into(),
                    name: Some("regulator".into()),
                    token_id: None,
                },
                action: "queryTable".into(),
                status: 200,
                ..Event::default()
            })
            .collect();
        ledger.append(&mut events, &key, sealing).unwrap();
    }
}

#[test]
fn tampering_is_reported_at_the_right_event() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine");
    sample_ledger(&pristine);
    let (ok, text) = audit_cli(&pristine, &["verify"]);
    assert!(ok, "{text}");
    assert!(text.contains("events 1..64 (64 events), 4 seals"), "{text}");

    // Seals fall at events 15, 29, 43 and 57 (the first group end after 10 more events).
    let cases: [(&str, &str, &str); 8] = [
        (
            "edit a field",
            "UPDATE events SET event = json_set(event, '$.status', 404) WHERE seq = 23",
            "event 23: altered",
        ),
        (
            "move an event in time for the filters",
            "UPDATE events SET time = '2099-01-01T00:00:59.000000Z' WHERE seq = 12",
            "event 12: altered: its time column",
        ),
        (
            "edit a field and recompute the hashes from there",
            "UPDATE events SET event = json_set(event, '$.actor.name', 'someone') WHERE seq = 23",
            "event 29: the chain here does not match the signed seal",
        ),
        (
            "delete one event",
            "DELETE FROM events WHERE seq = 37",
            "event 37: missing",
        ),
        (
            "swap two events",
            "UPDATE events SET seq = -1 WHERE seq = 41; UPDATE events SET seq = 41 WHERE seq = 42;
             UPDATE events SET seq = 42 WHERE seq = -1",
            "event 41: holds the content of event 42",
        ),
        (
            "truncate the tail after a seal",
            "DELETE FROM events WHERE seq > 50",
            "event 51: missing: sealed up to event 57",
        ),
        (
            "truncate the tail and the head record",
            "DELETE FROM events WHERE seq > 55; UPDATE chain SET head_seq = 55,
             head_hash = (SELECT hash FROM events WHERE seq = 55)",
            "event 56: missing: sealed up to event 57",
        ),
        (
            "truncate the unsealed tail",
            "DELETE FROM events WHERE seq > 60",
            "event 61: missing: the ledger recorded events up to 64",
        ),
    ];
    for (what, change, expected) in cases {
        let copy = dir.path().join(what.replace(' ', "-"));
        std::fs::create_dir_all(&copy).unwrap();
        for file in ["audit.ed25519", "catalog.db"] {
            std::fs::copy(pristine.join(file), copy.join(file)).unwrap();
        }
        let conn = rusqlite::Connection::open(copy.join("catalog.db")).unwrap();
        conn.execute_batch(change).unwrap();
        if what.contains("recompute") {
            rechain_from(&conn, 23);
        }
        drop(conn);
        let (ok, text) = audit_cli(&copy, &["verify"]);
        assert!(!ok, "{what}: verify passed:\n{text}");
        assert!(
            text.contains(expected),
            "{what}: expected '{expected}' in:\n{text}"
        );
    }
}

/// What a careful forger does after editing event `from`: recompute every hash after it, so
/// that only the seals can tell.
fn rechain_from(conn: &rusqlite::Connection, from: u64) {
    let mut prev: String = conn
        .query_row("SELECT hash FROM events WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .unwrap();
    let rows: Vec<(u64, String)> = conn
        .prepare("SELECT seq, event FROM events WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (seq, text) in rows {
        let canonical = audit::event::canonical_json(&serde_json::from_str(&text).unwrap());
        let hash = audit::event::chain_hash(&prev, &canonical);
        conn.execute(
            "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
    conn.execute("UPDATE chain SET head_hash = ?1", [prev])
        .unwrap();
}

#[test]
fn exports_and_archives_verify_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sample_ledger(&data);
    let export = dir.path().join("export.ndjson");
    let key_file = dir.path().join("audit-key.json");
    let (ok, key) = audit_cli(&data, &["public-key"]);
    assert!(ok, "{key}");
    std::fs::write(&key_file, key).unwrap();
    let export_arg = export.to_str().unwrap();
    let (ok, text) = audit_cli(
        &data,
        &[
            "export",
            "--from",
            "2099-01-01T00:00:05Z",
            "--to",
            "2099-01-01T00:00:33Z",
            export_arg,
        ],
    );
    assert!(ok, "{text}");
    // Event 1 starts the ledger; 2.. are the sample's, one per second.
    assert!(text.contains("exported events 7..34"), "{text}");
    let key_arg = key_file.to_str().unwrap();
    let (ok, text) = audit_cli(
        &data,
        &["verify", "--export", export_arg, "--public-key", key_arg],
    );
    assert!(ok, "{text}");
    assert!(text.contains("events 7..34 (28 events)"), "{text}");
    // A changed line in the export is caught.
    let tampered =
        std::fs::read_to_string(&export)
            .unwrap()
            .replacen("\"status\":200", "\"status\":201", 1);
    let tampered_path = dir.path().join("tampered.ndjson");
    std::fs::write(&tampered_path, tampered).unwrap();
    let (ok, text) = audit_cli(
        &data,
        &[
            "verify",
            "--export",
            tampered_path.to_str().unwrap(),
            "--public-key",
            key_arg,
        ],
    );
    assert!(!ok && text.contains("event 7: altered"), "{text}");

    // An export cut short (its last events and seal dropped) is caught too.
    let text = std::fs::read_to_string(&export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut_path = dir.path().join("cut.ndjson");
    std::fs::write(&cut_path, lines[..lines.len() - 4].join("\n")).unwrap();
    let (ok, text) = audit_cli(
        &data,
        &[
            "verify",
            "--export",
            cut_path.to_str().unwrap(),
            "--public-key",
            key_arg,
        ],
    );
    assert!(
        !ok && text.contains("does not end with its signed seal"),
        "{text}"
    );

    let archive = dir.path().join("archive.ndjson");
    let (ok, text) = audit_cli(
        &data,
        &[
            "archive",
            "--before",
            "2099-01-01T00:00:20Z",
            archive.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("moved events 1..21"), "{text}");
    let (ok, text) = audit_cli(
        &data,
        &[
            "verify",
            "--export",
            archive.to_str().unwrap(),
            "--public-key",
            key_arg,
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
    // 65 records the cut.
    assert!(text.contains("events 22..65"), "{text}");
    // The archive's last hash is where the ledger's chain starts.
    let last_archived: Value = serde_json::from_str(
        std::fs::read_to_string(&archive)
            .unwrap()
            .lines()
            .rfind(|l| l.contains("\"event\""))
            .unwrap(),
    )
    .unwrap();
    let conn = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    let first_prev: String = conn
        .query_row("SELECT prev_hash FROM events WHERE seq = 22", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(last_archived["hash"], first_prev);
    assert_eq!(events(&data, &[]).len(), 44);
}

#[test]
fn who_could_read_a_table_is_answered_for_any_past_time() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, _) = shared_loans(dir.path());
    let show = |statement: &str| -> Vec<Value> {
        let out = fireshare()
            .args(["sql", "--json", statement, "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{statement}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: Value = serde_json::from_str(&text).unwrap();
        result["results"][0]["rows"].as_array().unwrap().clone()
    };
    let recipients = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect()
    };
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    std::thread::sleep(Duration::from_millis(20));
    let granted = now();
    // Through the admin API: the regulator loses the share, another recipient gets it.
    let admin = common::admin_token(&data, "admin", "ops");
    let changed = reqwest::blocking::Client::new()
        .post(server.url("/admin/v1/sql"))
        .bearer_auth(&admin)
        .json(
            &serde_json::json!({"statement": "REVOKE SELECT ON SHARE s FROM RECIPIENT regulator;
            CREATE RECIPIENT supervisor; GRANT SELECT ON SHARE s TO RECIPIENT supervisor;"}),
        )
        .send()
        .unwrap();
    assert_eq!(changed.status(), 200);
    let revoked = now();
    std::thread::sleep(Duration::from_millis(20));
    sql(&data, "ALTER SHARE s REMOVE TABLE fire.loans");

    assert!(show("SHOW ACCESS ON TABLE fire.loans").is_empty());
    let at = |time: &str| {
        recipients(&show(&format!(
            "SHOW ACCESS ON TABLE fire.loans AS OF '{time}'"
        )))
    };
    assert_eq!(at(&granted), ["regulator"]);
    assert_eq!(at(&revoked), ["supervisor"]);
    assert_eq!(
        at("2020-01-01T00:00:00Z"),
        Vec::<String>::new(),
        "before the ledger began"
    );
    let row = &show(&format!(
        "SHOW ACCESS ON TABLE fire.loans AS OF '{granted}'"
    ))[0];
    assert_eq!(row[1], "s");
    assert_eq!(row[2], "fire.loans");

    // After an archive cut the answer stands for later times, and earlier ones are refused.
    drop(server);
    let archive = dir.path().join("archive.ndjson");
    let (ok, text) = audit_cli(
        &data,
        &["archive", "--before", &revoked, archive.to_str().unwrap()],
    );
    assert!(ok, "{text}");
    assert_eq!(at(&revoked), ["supervisor"]);
    let out = fireshare()
        .args([
            "sql",
            &format!("SHOW ACCESS ON TABLE fire.loans AS OF '{granted}'"),
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("were archived to"));
    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
}

#[test]
fn a_killed_server_has_recorded_every_response_it_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, profile) = shared_loans(dir.path());
    let token = common::bearer(&profile);
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let query = server.url("/delta-sharing/shares/s/schemas/fire/tables/loans/query");
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (stop, count) = (stop.clone(), count.clone());
            let (query, token) = (query.clone(), token.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut received = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let Ok(response) = http.post(&query).bearer_auth(&token).body("{}").send()
                    else {
                        break;
                    };
                    let id = response.headers().get("x-request-id").cloned();
                    // Only a response read whole counts as received.
                    if response.status() == 200 && response.text().is_ok() {
                        received.push(id.unwrap().to_str().unwrap().to_string());
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
                received
            })
        })
        .collect();
    // Killed once 40 responses are in, whatever the machine's speed, while 8 clients still
    // send (the deadline only bounds a server that answers nothing).
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::Relaxed) < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "the server answers nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(server); // SIGKILL, mid-load
    stop.store(true, Ordering::Relaxed);
    let received: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(received.len() >= 40, "{} responses", received.len());

    let conn = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    for id in &received {
        let status: u16 = conn
            .query_row(
                "SELECT json_extract(event, '$.status') FROM events WHERE request_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("response {id} has no event: {e}"));
        assert_eq!(status, 200);
    }
    drop(conn);
    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
    // A restarted server goes on with the same chain.
    let server = Server::start(&data);
    let after = reqwest::blocking::Client::new()
        .post(server.url("/delta-sharing/shares/s/schemas/fire/tables/loans/query"))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(after.status(), 200);
    drop(server);
    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
}

#[test]
fn receipts_verify_with_the_published_key_and_match_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, profile) = shared_loans(dir.path());
    let http = reqwest::blocking::Client::new();
    let response = http
        .post(server.url("/delta-sharing/shares/s/schemas/fire/tables/loans/query"))
        .bearer_auth(common::bearer(&profile))
        .body(r#"{"version": 1}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let receipt = response.headers()["fireshare-receipt"]
        .to_str()
        .unwrap()
        .to_string();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.text().unwrap();
    let mut lines: Vec<String> = body
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| {
            let file = l.get("file")?;
            Some(format!("{} {}\n", file["id"].as_str()?, file["size"]))
        })
        .collect();
    lines.sort();
    let digest = hex::encode(Sha256::digest(lines.concat().as_bytes()));

    let published = http
        .get(server.url("/.well-known/fireshare-audit-key"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let key_file = dir.path().join("published-key.json");
    std::fs::write(&key_file, &published).unwrap();
    let key_arg = key_file.to_str().unwrap();
    let (ok, text) = audit_cli(
        &data,
        &["receipt", "verify", "--public-key", key_arg, &receipt],
    );
    assert!(ok, "{text}");
    let claims: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(claims["requestId"], request_id.as_str());
    assert_eq!(claims["recipient"], "regulator");
    assert_eq!(claims["table"], "s.fire.loans");
    assert_eq!(claims["versions"], 1);
    assert_eq!(claims["files"], 1);
    assert_eq!(claims["filesSha256"], digest.as_str());
    // The ledger keeps the receipt's signature beside the claims, which are the event's own
    // fields, and gives the same receipt back.
    let recorded = &events(&data, &["--request-id", &request_id])[0];
    let (header, _, signature) = {
        let parts: Vec<&str> = receipt.split('.').collect();
        (parts[0], parts[1], parts[2])
    };
    assert_eq!(
        recorded["receipt"],
        format!("{header}..{signature}").as_str()
    );
    assert_eq!(recorded["filesSha256"], digest.as_str());
    assert_eq!(recorded["time"], claims["time"]);
    let (ok, text) = audit_cli(&data, &["receipt", "show", &request_id]);
    assert!(ok, "{text}");
    assert_eq!(text.lines().next(), Some(receipt.as_str()));
    // And to an auditor over the admin API.
    let auditor = common::admin_token(&data, "auditor", "inspector");
    let kept: Value = http
        .get(server.url(&format!("/admin/v1/audit/receipts/{request_id}")))
        .bearer_auth(&auditor)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(kept["receipt"], receipt.as_str());
    let missing = http
        .get(server.url("/admin/v1/audit/receipts/0006621200000000"))
        .bearer_auth(&auditor)
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Claim another version under the same signature: refused.
    let parts: Vec<&str> = receipt.split('.').collect();
    let mut forged = claims.clone();
    forged["versions"] = 2.into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    let (ok, text) = audit_cli(
        &data,
        &["receipt", "verify", "--public-key", key_arg, &forged],
    );
    assert!(!ok, "a forged receipt verified: {text}");
    assert!(text.contains("does not verify"), "{text}");

    // A share whose name a client percent-encodes: the event records the name the receipt
    // signs, so the ledger gives the same receipt back.
    sql(
        &data,
        "CREATE SHARE `fx+rates`; ALTER SHARE `fx+rates` ADD TABLE fire.loans;
         GRANT SELECT ON SHARE `fx+rates` TO RECIPIENT regulator;",
    );
    let response = http
        .post(server.url("/delta-sharing/shares/fx%2Brates/schemas/fire/tables/loans/query"))
        .bearer_auth(common::bearer(&profile))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
    let (receipt, request_id) = (header("fireshare-receipt"), header("x-request-id"));
    assert_eq!(
        events(&data, &["--request-id", &request_id])[0]["share"],
        "fx+rates"
    );
    let (ok, text) = audit_cli(&data, &["receipt", "show", &request_id]);
    assert!(ok, "{text}");
    assert_eq!(text.lines().next(), Some(receipt.as_str()));
}

#[test]
fn auditors_page_through_the_ledger_in_three_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, profile) = shared_loans(dir.path());
    let http = reqwest::blocking::Client::new();
    let token = common::bearer(&profile);
    for _ in 0..5 {
        let listed = http
            .get(server.url("/delta-sharing/shares"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(listed.status(), 200);
    }
    let auditor = common::admin_token(&data, "auditor", "inspector");
    let get = |query: &str, token: &str| {
        http.get(server.url(&format!("/admin/v1/audit?{query}")))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    // Pages of two, followed by their cursors: five events, oldest first.
    let mut seen = Vec::new();
    let mut query = "action=listShares&actor=regulator&limit=2".to_string();
    loop {
        let page: Value = get(&query, &auditor).json().unwrap();
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        seen.extend(events.iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                query = format!("action=listShares&actor=regulator&limit=2&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    let ndjson = get("action=listShares&format=ndjson", &auditor);
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    assert_eq!(ndjson.text().unwrap().lines().count(), 5);
    let csv = get("action=listShares&format=csv&limit=3", &auditor);
    assert_eq!(
        csv.headers()["fireshare-next-cursor"],
        seen[2].to_string().as_str()
    );
    let csv = csv.text().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seq,time,request_id,actor_kind,actor_name"));
    assert_eq!(lines.len(), 4);
    assert!(lines[1].contains(",recipient,regulator,"), "{csv}");

    // The auditor's own reads are in the ledger too; refusals are clear.
    let own: Value = get("action=queryAudit&actor=inspector", &auditor)
        .json()
        .unwrap();
    assert!(!own["events"].as_array().unwrap().is_empty());
    assert_eq!(get("action=listShares", &token).status(), 403);
    let misspelt = get("recipient=regulator", &auditor);
    assert_eq!(misspelt.status(), 400);
    assert_eq!(get("outcome=maybe", &auditor).status(), 400);
    assert_eq!(get("from=yesterday", &auditor).status(), 400);
}

#[test]
fn nothing_is_served_while_the_ledger_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, profile) = shared_loans(dir.path());
    let http = reqwest::blocking::Client::new();
    let token = common::bearer(&profile);
    let query = || {
        http.post(server.url("/delta-sharing/shares/s/schemas/fire/tables/loans/query"))
            .bearer_auth(&token)
            .body("{}")
            .send()
            .unwrap()
    };
    assert_eq!(query().status(), 200);
    // The ledger's disk "fills up": every insert fails.
    let ledger = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    ledger
        .execute_batch(
            "CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let refused = query();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("fireshare-receipt").is_none());
    let body: Value = refused.json().unwrap();
    assert_eq!(body["errorCode"], "TEMPORARILY_UNAVAILABLE");
    let listed = http
        .get(server.url("/delta-sharing/shares"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(listed.status(), 503, "listing fails closed too");
    // Once the ledger can be written again, so is everything else.
    ledger.execute_batch("DROP TRIGGER full").unwrap();
    assert_eq!(query().status(), 200);
    drop(server);
    let (ok, text) = audit_cli(&data, &["verify"]);
    assert!(ok, "{text}");
}
