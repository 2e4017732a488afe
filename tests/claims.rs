//! The README's security and governance claims, each against a running server (and the real
//! connector where a recipient reads): addresses behind a trusted proxy, revocations on the
//! next request, expiring URLs and activation links, FIRE gating and START VERSION on every
//! path that reaches a version, receipts of change feeds and pages, logs without secrets,
//! verifying an export with the public key alone, IP lists on the OAuth token endpoint.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{Server, run_python, sql};
use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::delta::writer::{AddFile, TableWriter};
use serde_json::{Value, json};

/// A table at `dir/loans` whose version `v` (1, 2, …) holds the files of `versions[..v]`, each
/// a batch of those ids (a negative id breaks the `loans` entity of [`loans_entity`]). With
/// `replace`, each version replaces the files before it. Commit `v` is dated 2024-01-0{v+1}.
fn loans_table(dir: &Path, versions: &[&[i64]], replace: bool) -> PathBuf {
    let root = dir.join("loans");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let config = [("delta.enableChangeDataFeed", "true")];
    let mut table = TableWriter::create(&root, "loans", "", &schema, &[], &config).unwrap();
    let mut live: Vec<AddFile> = Vec::new();
    for ids in versions {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from_iter_values(ids.iter().copied()))],
        )
        .unwrap();
        let file = table.write_file(&batch, &[]).unwrap();
        let removes = if replace {
            std::mem::take(&mut live)
        } else {
            Vec::new()
        };
        table
            .commit("WRITE", std::slice::from_ref(&file), &removes)
            .unwrap();
        live.push(file);
    }
    for version in 0..=versions.len() {
        let commit = root.join(format!("_delta_log/{version:020}.json"));
        let day =
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200 + 86_400 * version as u64);
        std::fs::File::options()
            .write(true)
            .open(commit)
            .unwrap()
            .set_modified(day)
            .unwrap();
    }
    root
}

/// Noon of the day commit `version` of [`loans_table`] is dated.
fn day_of(version: u64) -> String {
    format!("2024-01-{:02}T12:00:00Z", version + 1)
}

/// A FIRE schema directory with one entity, `loans`: `id` required and not negative.
fn loans_entity(dir: &Path) -> PathBuf {
    let schemas = dir.join("schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(
        schemas.join("loans.json"),
        r#"{"type": "object", "required": ["id"],
            "properties": {"id": {"type": "integer", "minimum": 0}}}"#,
    )
    .unwrap();
    schemas
}

/// Registers `root` as fire.loans in share s with `sharing` (e.g. `WITH HISTORY`), for
/// recipient r.
fn share_loans(data: &Path, root: &Path, sharing: &str, recipient: &str) -> String {
    sql(
        data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s;
             ALTER SHARE s ADD TABLE fire.loans {sharing}; CREATE RECIPIENT r {recipient};
             GRANT SELECT ON SHARE s TO RECIPIENT r;",
            root.display()
        ),
    )
}

/// HTTP calls of recipient `token` to `server`.
struct Recipient<'a> {
    server: &'a Server,
    token: String,
    http: reqwest::blocking::Client,
}

impl Recipient<'_> {
    fn new(server: &Server, token: String) -> Recipient<'_> {
        Recipient {
            server,
            token,
            http: reqwest::blocking::Client::new(),
        }
    }

    fn table(&self, tail: &str) -> String {
        format!(
            "{}/shares/s/schemas/fire/tables/loans{tail}",
            self.server.endpoint()
        )
    }

    fn query(&self, body: Value) -> reqwest::blocking::Response {
        self.http
            .post(self.table("/query"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap()
    }

    fn get(&self, tail: &str) -> reqwest::blocking::Response {
        self.http
            .get(self.table(tail))
            .bearer_auth(&self.token)
            .send()
            .unwrap()
    }
}

/// The status and error message of a refused response.
fn refusal(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap_or_default();
    (
        status,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// The file lines of a listing.
fn file_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("file").is_some() || l.get("add").is_some())
        .collect()
}

#[test]
fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1, 2]], false);
    share_loans(&data, &root, "", "IP ACCESS LIST ('192.0.2.7')");
    let shares = |server: &Server, token: &str, forwarded: &str| {
        reqwest::blocking::Client::new()
            .get(format!("{}/shares", server.endpoint()))
            .bearer_auth(token)
            .header("X-Forwarded-For", forwarded)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    {
        let server = Server::start(&data);
        let token = common::bearer(&common::profile(&data, &server, "r", &[]));
        assert_eq!(
            shares(&server, &token, "192.0.2.7"),
            403,
            "a spoofed header is ignored"
        );
    }
    let server = Server::run_with("serve", &data, &["--trusted-proxy", "127.0.0.1"]);
    let token = common::bearer(&common::profile(&data, &server, "r", &[]));
    assert_eq!(shares(&server, &token, "192.0.2.7"), 200);
    assert_eq!(shares(&server, &token, "198.51.100.1"), 403);
    // A client's own claims left of the address the proxy saw do not count.
    assert_eq!(shares(&server, &token, "192.0.2.7, 198.51.100.1"), 403);
    drop(server);
    let events = common::audit_events(&data, "listShares");
    let allowed: Vec<&Value> = events.iter().filter(|e| e["status"] == 200).collect();
    assert_eq!(allowed.len(), 1);
    assert_eq!(
        allowed[0]["clientIp"], "192.0.2.7",
        "the ledger names the client"
    );
}

#[test]
fn revocations_take_effect_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1, 2, 3]], false);
    share_loans(&data, &root, "", "");
    let server = Server::start(&data);
    let profile = common::profile(&data, &server, "r", &[]);
    let read = || {
        run_python(
            "try_read.py",
            &[&format!("{}#s.fire.loans", profile.display())],
        )
        .trim()
        .to_string()
    };
    assert_eq!(read(), "3");
    sql(&data, "REVOKE SELECT ON SHARE s FROM RECIPIENT r");
    assert_eq!(
        read(),
        "refused 404",
        "a revoked grant reads like a missing table"
    );
    sql(&data, "GRANT SELECT ON SHARE s TO RECIPIENT r");
    assert_eq!(read(), "3");
    sql(&data, "DROP RECIPIENT r");
    assert_eq!(read(), "refused 401");

    // An admin token stops at once too.
    let admin = common::admin_token(&data, "admin", "ops");
    let show = |token: &str| {
        reqwest::blocking::Client::new()
            .post(server.url("/admin/v1/sql"))
            .bearer_auth(token)
            .json(&json!({"statement": "SHOW SHARES"}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(show(&admin), 200);
    sql(&data, &format!("REVOKE ADMIN TOKEN '{}'", &admin[..12]));
    assert_eq!(show(&admin), 401);
}

#[test]
fn signed_urls_and_activation_links_expire() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1, 2]], false);
    share_loans(&data, &root, "", "");
    sql(&data, "ALTER SHARE s SET URL LIFETIME '2s'");
    let server = Server::start(&data);
    let r = Recipient::new(
        &server,
        common::bearer(&common::profile(&data, &server, "r", &[])),
    );
    let lines = file_lines(&r.query(json!({})).text().unwrap());
    let url = lines[0]["file"]["url"].as_str().unwrap().to_string();
    let expires = lines[0]["file"]["expirationTimestamp"].as_i64().unwrap();
    let http = reqwest::blocking::Client::new();
    assert_eq!(http.get(&url).send().unwrap().status(), 200);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    std::thread::sleep(Duration::from_millis((expires - now).max(0) as u64 + 300));
    let (status, message) = refusal(http.get(&url).send().unwrap());
    assert_eq!(status, 403);
    assert!(message.contains("expired"), "{message}");

    // Activation links: one expires (--activation-ttl), one is withdrawn by a newer one.
    let link = |out: &str| {
        out.split_whitespace()
            .find(|w| w.contains("/activate/"))
            .expect("an activation URL")
            .replace("http://127.0.0.1:8080", &server.url(""))
    };
    let created = common::fireshare()
        .args(["sql", "--activation-ttl", "1s", "--data-dir"])
        .arg(&data)
        .arg("CREATE RECIPIENT soon")
        .output()
        .unwrap();
    let short = link(&String::from_utf8(created.stdout).unwrap());
    let first = link(&sql(&data, "CREATE RECIPIENT later"));
    let second = link(&sql(&data, "ALTER RECIPIENT later ROTATE TOKEN"));
    std::thread::sleep(Duration::from_millis(1_500));
    let page = |url: &str| {
        let response = http.get(url).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let (status, text) = page(&short);
    assert!(status == 410 && text.contains("expired"), "{status} {text}");
    let (status, text) = page(&first);
    assert!(
        status == 410 && text.contains("withdrawn"),
        "{status} {text}"
    );
    assert_eq!(page(&second).0, 200);
}

#[test]
fn fire_gating_holds_on_every_path_to_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Version 2 holds a broken row among 2: a 50% pass rate.
    let root = loans_table(dir.path(), &[&[1, 2], &[-3, 4], &[5, 6]], true);
    share_loans(&data, &root, "WITH HISTORY", "");
    let schemas = loans_entity(dir.path());
    let out = common::fireshare()
        .args(["sql", "--fire-schemas"])
        .arg(&schemas)
        .arg("--data-dir")
        .arg(&data)
        .arg("ALTER TABLE fire.loans SET TBLPROPERTIES ('fire.entity' = 'loans', 'fire.min_pass_rate' = '0.95')")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::fireshare()
        .args(["fire", "validate", "fire.loans", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&data);
    let r = Recipient::new(
        &server,
        common::bearer(&common::profile(&data, &server, "r", &[])),
    );
    let version = |response: reqwest::blocking::Response| {
        assert_eq!(response.status(), 200);
        response.headers()["delta-table-version"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(version(r.get("/version")), "3");
    let not_served = |response: reqwest::blocking::Response, path: &str| {
        let (status, message) = refusal(response);
        assert_eq!(status, 400, "{path}: {message}");
        assert!(
            message.contains("version 2") && message.contains("not served"),
            "{path}: {message}"
        );
    };
    not_served(
        r.get("/changes?startingVersion=1&endingVersion=3"),
        "/changes",
    );
    not_served(r.query(json!({"startingVersion": 1})), "streaming");
    not_served(r.query(json!({"timestamp": day_of(2)})), "timestamp");
    not_served(r.query(json!({"version": 2})), "version");
    assert_eq!(
        // The time of the last commit itself: a later one names no version yet.
        file_lines(
            &r.query(json!({"timestamp": "2024-01-04T00:00:00Z"}))
                .text()
                .unwrap()
        )
        .len(),
        1
    );
    // An admin's rejection holds the latest version back; an approval serves version 2.
    sql(
        &data,
        "ALTER TABLE fire.loans REJECT VERSION 3 COMMENT 'late file'",
    );
    assert_eq!(version(r.get("/version")), "1");
    let (status, message) = refusal(r.query(json!({"version": 3})));
    assert!(status == 400 && message.contains("version 3"), "{message}");
    sql(&data, "ALTER TABLE fire.loans APPROVE VERSION 2");
    assert_eq!(version(r.get("/version")), "2");
    let changes = r.get("/changes?startingVersion=1&endingVersion=2");
    assert_eq!(changes.status(), 200);
}

#[test]
fn start_version_holds_on_every_path_to_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1], &[2], &[3]], false);
    share_loans(&data, &root, "WITH HISTORY START VERSION 2", "");
    let server = Server::start(&data);
    let r = Recipient::new(
        &server,
        common::bearer(&common::profile(&data, &server, "r", &[])),
    );
    let before_start = |response: reqwest::blocking::Response, path: &str| {
        let (status, message) = refusal(response);
        assert_eq!(status, 400, "{path}: {message}");
        assert!(message.contains("since version 2"), "{path}: {message}");
    };
    before_start(r.get("/changes?startingVersion=1"), "/changes");
    before_start(r.query(json!({"startingVersion": 1})), "streaming");
    before_start(r.query(json!({"timestamp": day_of(1)})), "timestamp");
    before_start(r.query(json!({"version": 1})), "version");
    before_start(
        r.get(&format!("/version?startingTimestamp={}", day_of(0))),
        "/version",
    );
    let from_start = r.get("/changes?startingVersion=2");
    assert_eq!(from_start.status(), 200);
    assert_eq!(file_lines(&from_start.text().unwrap()).len(), 2);
    let streamed = r.query(json!({"startingVersion": 2}));
    assert_eq!(file_lines(&streamed.text().unwrap()).len(), 2);
    assert_eq!(
        r.get(&format!("/version?startingTimestamp={}", day_of(1)))
            .headers()["delta-table-version"],
        "2"
    );
}

#[test]
fn change_feeds_and_pages_carry_receipts_that_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1], &[2], &[3]], false);
    share_loans(&data, &root, "WITH HISTORY", "");
    let server = Server::start(&data);
    let r = Recipient::new(
        &server,
        common::bearer(&common::profile(&data, &server, "r", &[])),
    );
    let keys = dir.path().join("audit-key.json");
    let published = reqwest::blocking::get(server.url("/.well-known/fireshare-audit-key"))
        .unwrap()
        .text()
        .unwrap();
    std::fs::write(&keys, published).unwrap();
    let verify = |receipt: &str| -> Value {
        let out = common::fireshare()
            .args(["audit", "receipt", "verify", "--public-key"])
            .arg(&keys)
            .arg(receipt)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // The receipt of a response, which the ledger gives back whole by its request id.
    let receipt_of = |response: &reqwest::blocking::Response| -> String {
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
        let receipt = header("fireshare-receipt");
        let out = common::fireshare()
            .args(["audit", "receipt", "show", "--data-dir"])
            .arg(&data)
            .arg(header("x-request-id"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), receipt);
        receipt
    };
    let checked = |response: reqwest::blocking::Response| -> (Value, usize) {
        assert_eq!(response.status(), 200);
        let receipt = receipt_of(&response);
        let files = file_lines(&response.text().unwrap()).len();
        (verify(&receipt), files)
    };
    let (receipt, files) = checked(r.get("/changes?startingVersion=1"));
    assert_eq!((receipt["files"].as_u64(), files), (Some(3), 3));
    assert_eq!(receipt["versions"], json!({"start": 1, "end": 3}));
    // Each page's receipt names that page's files.
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"maxFiles": 2});
        if let Some(token) = &token {
            body["pageToken"] = json!(token);
        }
        let response = r.query(body);
        let receipt = receipt_of(&response);
        let text = response.text().unwrap();
        assert_eq!(
            verify(&receipt)["files"].as_u64(),
            Some(file_lines(&text).len() as u64)
        );
        pages += 1;
        let end = text
            .lines()
            .last()
            .map(|l| serde_json::from_str::<Value>(l).unwrap());
        match end
            .as_ref()
            .and_then(|l| l["endStreamAction"]["nextPageToken"].as_str())
        {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 2);
}

#[test]
fn logs_hold_no_token_code_secret_or_signature_even_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1, 2]], false);
    let created = share_loans(&data, &root, "", "");
    let link_code = created
        .split_whitespace()
        .find_map(|w| w.split("/activate/").nth(1))
        .expect("an activation code")
        .to_string();
    sql(
        &data,
        "CREATE RECIPIENT o USING OAUTH; GRANT SELECT ON SHARE s TO RECIPIENT o",
    );
    let server = Server::run_env("serve", &data, &[], &[("RUST_LOG", "debug")]);
    let http = reqwest::blocking::Client::new();
    let mut secrets: Vec<String> = vec![link_code.clone()];
    // A recipient activates its link, queries and downloads.
    let profile: Value = http
        .get(server.url(&format!("/activate/{link_code}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = profile["bearerToken"].as_str().unwrap().to_string();
    let r = Recipient::new(&server, token.clone());
    let lines = file_lines(&r.query(json!({})).text().unwrap());
    let url = lines[0]["file"]["url"].as_str().unwrap().to_string();
    assert_eq!(http.get(&url).send().unwrap().status(), 200);
    let signature = url.split("X-Amz-Signature=").nth(1).unwrap().to_string();
    // An OAuth client exchanges its secret; an admin uses the admin API.
    let rotated = sql(&data, "ALTER RECIPIENT o ROTATE TOKEN");
    let row = rotated.lines().find(|l| l.contains("fsc_")).unwrap();
    let fields: Vec<&str> = row.split('|').map(str::trim).collect();
    let (client_id, client_secret) = (fields[1].to_string(), fields[2].to_string());
    let access: Value = http
        .post(server.url("/oauth/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let access = access["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        http.get(format!("{}/shares", server.endpoint()))
            .bearer_auth(&access)
            .send()
            .unwrap()
            .status(),
        200
    );
    let admin = common::admin_token(&data, "admin", "ops");
    http.post(server.url("/admin/v1/sql"))
        .bearer_auth(&admin)
        .json(&json!({"statement": "SHOW SHARES"}))
        .send()
        .unwrap();
    // The secret parts: what follows each token's display prefix.
    secrets.extend([token[12..].to_string(), admin[12..].to_string()]);
    secrets.extend([client_secret[4..].to_string(), access, signature]);
    drop(server);
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(log.lines().count() > 20, "a debug log: {log}");
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log holds a secret: {secret}"
        );
    }
}

#[test]
fn an_export_verifies_with_nothing_but_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1]], false);
    share_loans(&data, &root, "", "");
    {
        let server = Server::start(&data);
        let r = Recipient::new(
            &server,
            common::bearer(&common::profile(&data, &server, "r", &[])),
        );
        assert_eq!(r.query(json!({})).status(), 200);
    }
    let run = |args: &[&str], cwd: &Path| {
        let out = common::fireshare()
            .args(args)
            .current_dir(cwd)
            .env_remove("FIRESHARE_DATA_DIR")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (data_arg, export) = (data.to_str().unwrap(), dir.path().join("export.ndjson"));
    let (ok, text) = run(
        &[
            "audit",
            "export",
            "--data-dir",
            data_arg,
            export.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(ok, "{text}");
    let (ok, keys) = run(&["audit", "public-key", "--data-dir", data_arg], dir.path());
    assert!(ok, "{keys}");
    // Elsewhere, with the export and the key set only.
    let auditor = tempfile::tempdir().unwrap();
    std::fs::copy(&export, auditor.path().join("export.ndjson")).unwrap();
    std::fs::write(auditor.path().join("keys.json"), keys).unwrap();
    let verify = || {
        run(
            &[
                "audit",
                "verify",
                "--export",
                "export.ndjson",
                "--public-key",
                "keys.json",
            ],
            auditor.path(),
        )
    };
    let (ok, text) = verify();
    assert!(ok && text.starts_with("verified"), "{text}");
    let names: Vec<_> = std::fs::read_dir(auditor.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no data directory was made: {names:?}");
    let tampered = std::fs::read_to_string(auditor.path().join("export.ndjson"))
        .unwrap()
        .replacen("queryTable", "listShares", 1);
    std::fs::write(auditor.path().join("export.ndjson"), tampered).unwrap();
    assert!(!verify().0, "a changed event does not verify");
}

#[test]
fn ip_access_lists_guard_the_oauth_token_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), &[&[1]], false);
    let created = share_loans(&data, &root, "", "USING OAUTH IP ACCESS LIST ('192.0.2.7')");
    let row = created.lines().find(|l| l.contains("fsc_")).unwrap();
    let fields: Vec<&str> = row.split('|').map(str::trim).collect();
    let (client_id, client_secret) = (fields[1].to_string(), fields[2].to_string());
    let server = Server::start(&data);
    let exchange = || {
        let response = reqwest::blocking::Client::new()
            .post(server.url("/oauth/token"))
            .basic_auth(&client_id, Some(&client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().unwrap(),
        )
    };
    let (status, refused) = exchange();
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("access_denied"))
    );
    sql(&data, "ALTER RECIPIENT r SET IP ACCESS LIST ('127.0.0.1')");
    let (status, granted) = exchange();
    assert_eq!(status, 200, "{granted}");
    assert!(granted["access_token"].is_string());
}
