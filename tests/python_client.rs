//! The real Python `delta-sharing` connector (pandas) against `fireshare serve`, reading
//! tables written by the real `deltalake` writer; results are compared with `deltalake`'s own
//! reader. The cases live in `tests/python/checks.py`.

mod common;

use std::path::{Path, PathBuf};

use common::{
    CONNECTOR_CASES as CASES, S3_ACCESS_KEY, S3_SECRET_KEY, Server, connector_cases, profile,
    run_python, share_fixtures, sql,
};

/// Registers and shares the fixture tables (see [`share_fixtures`]), starts a server and runs
/// the client `cases` against it. Returns the server and the regulator's profile.
fn serve_and_check(
    data: &Path,
    fixtures: &Path,
    preamble: &str,
    location: impl Fn(&str) -> String,
    cases: &[&str],
) -> (Server, PathBuf) {
    share_fixtures(data, preamble, location);
    let server = Server::start(data);
    let regulator = profile(data, &server, "regulator", &["--expires-in", "1d"]);
    let outsider = profile(data, &server, "outsider", &[]);
    let failures = connector_cases(&regulator, &outsider, fixtures, cases);
    assert!(
        failures.is_empty(),
        "client cases failed: {failures:?}\n--- server log\n{}",
        server.log_text()
    );
    (server, regulator)
}

#[test]
fn python_connector_reads_what_deltalake_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("tables");
    let data = dir.path().join("data");
    run_python("fixtures.py", &[fixtures.to_str().unwrap()]);
    let local = |name: &str| format!("'{}'", fixtures.join(name).display());
    let (server, regulator) = serve_and_check(&data, &fixtures, "", local, CASES);

    // START VERSION, changed while the server runs: older versions are no longer shared.
    sql(
        &data,
        "ALTER SHARE regulatory ALTER TABLE default.sales WITH HISTORY START VERSION 3",
    );
    let token = common::bearer(&regulator);
    let query = |body: serde_json::Value| {
        let response = reqwest::blocking::Client::new()
            .post(format!(
                "{}/shares/regulatory/schemas/default/tables/sales/query",
                server.endpoint()
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let (status, body) = query(serde_json::json!({"version": 2}));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("since version 3"), "{body}");
    assert_eq!(query(serde_json::json!({"version": 3})).0, 200);
    assert_eq!(query(serde_json::json!({})).0, 200);
    sql(
        &data,
        "ALTER SHARE regulatory ALTER TABLE default.sales WITHOUT HISTORY",
    );
    let (status, body) = query(serde_json::json!({"version": 3}));
    assert!(
        status == 400 && body.contains("history sharing is not enabled"),
        "{body}"
    );
}

#[test]
fn an_expired_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sql(&data, "CREATE RECIPIENT late");
    let server = Server::start(&data);
    let token = common::bearer(&profile(&data, &server, "late", &["--expires-in", "0s"]));
    let response = reqwest::blocking::Client::new()
        .get(format!("{}/shares", server.endpoint()))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["errorCode"], "UNAUTHENTICATED");
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}

/// The same suite with every table on an S3-compatible server (s3s-fs, which verifies
/// signatures): the log is read through S3 and the connector downloads the data files straight
/// from s3s-fs through presigned URLs.
#[test]
fn python_connector_reads_tables_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = common::s3s_fs(&dir.path().join("s3"));
    // The bucket `lake` is a directory of the server's root; the fixtures are written into it.
    let fixtures = s3.root.join("lake/tables");
    let data = dir.path().join("data");
    run_python("fixtures.py", &[fixtures.to_str().unwrap()]);
    let on_s3 = |name: &str| format!("'s3://lake/tables/{name}' WITH CREDENTIAL lake");
    let cases: Vec<&str> = CASES
        .iter()
        .copied()
        .filter(|c| *c != "file_urls")
        .chain(["presigned_urls"])
        .collect();
    let preamble = common::s3_credential_sql(&s3, "lake", S3_SECRET_KEY);
    let (server, regulator) = serve_and_check(&data, &fixtures, &preamble, on_s3, &cases);
    let token = common::bearer(&regulator);
    let query = |server: &Server, table: &str| {
        reqwest::blocking::Client::new()
            .post(format!(
                "{}/shares/regulatory/schemas/default/tables/{table}/query",
                server.endpoint()
            ))
            .bearer_auth(&token)
            .json(&serde_json::json!({}))
            .send()
            .unwrap()
    };

    // A table whose credential is wrong: a clear error naming the table, at once.
    sql(
        &data,
        &format!(
            "{} CREATE TABLE default.broken USING DELTA LOCATION 's3://lake/tables/sales' WITH CREDENTIAL wrong;
             ALTER SHARE regulatory ADD TABLE default.broken;",
            common::s3_credential_sql(&s3, "wrong", "not-the-secret")
        ),
    );
    let started = std::time::Instant::now();
    let response = query(&server, "broken");
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("regulatory.default.broken") && message.contains("credential"),
        "{body}\n{}",
        server.log_text()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Directory access is refused: file URLs are presigned instead.
    let response = reqwest::blocking::Client::new()
        .post(format!(
            "{}/shares/regulatory/schemas/default/tables/sales/temporary-table-credentials",
            server.endpoint()
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["errorCode"], "UNSUPPORTED_OPERATION");
    assert!(
        body["message"].as_str().unwrap().contains("presigned"),
        "{body}"
    );

    // The credential is shown by its key id; its secret is nowhere in the data directory
    // (catalog, audit ledger) nor in the server's log.
    let described = sql(&data, "DESCRIBE STORAGE CREDENTIAL lake");
    assert!(
        described.contains(S3_ACCESS_KEY) && described.contains("path_style=true"),
        "{described}"
    );
    drop(server);
    // The data directory holds the server's log too.
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        for secret in [S3_SECRET_KEY, "not-the-secret"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a credential's secret",
                path.display()
            );
        }
    }

    // URLs expire when their expirationTimestamp says (here the share's URL lifetime): s3s-fs
    // refuses them afterwards.
    sql(&data, "ALTER SHARE regulatory SET URL LIFETIME '2s'");
    let server = Server::start(&data);
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    let before = now_ms();
    let lines = query(&server, "sales").text().unwrap();
    let after = now_ms();
    let file = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l.get("file").is_some())
        .unwrap();
    let url = file["file"]["url"].as_str().unwrap();
    let expires = file["file"]["expirationTimestamp"].as_i64().unwrap();
    // The contract: signed at a whole second during the request, living the share's 2 s, and
    // the URL's own signature date and lifetime say the same.
    let signed_at = expires - 2_000;
    assert!(
        expires % 1_000 == 0 && (before / 1_000 * 1_000..=after).contains(&signed_at),
        "expires {expires}, request between {before} and {after}"
    );
    let params: std::collections::HashMap<String, String> = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(params["X-Amz-Expires"], "2");
    let date = chrono::NaiveDateTime::parse_from_str(&params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc()
        .timestamp_millis();
    assert_eq!(date, signed_at, "{url}");
    let now = now_ms();
    assert_eq!(reqwest::blocking::get(url).unwrap().status(), 200);
    std::thread::sleep(std::time::Duration::from_millis(
        (expires - now + 1_500) as u64,
    ));
    let expired = reqwest::blocking::get(url).unwrap();
    assert_eq!(expired.status(), 403);
    assert!(expired.text().unwrap().contains("expired"));
}

/// The suite with every table on Azure Blob Storage, emulated by Azurite (which checks SAS
/// signatures): the log is read through the Blob API and the connector downloads the files
/// from Azurite through SAS URLs signed with the account key.
#[test]
fn python_connector_reads_tables_on_azure() {
    let dir = tempfile::tempdir().unwrap();
    let azure = common::azurite(&dir.path().join("azurite"));
    let fixtures = dir.path().join("tables");
    let data = dir.path().join("data");
    run_python("fixtures.py", &[fixtures.to_str().unwrap()]);
    let blob_endpoint = format!("{}/{}", azure.endpoint(), common::AZURITE_ACCOUNT);
    run_python(
        "azure_upload.py",
        &[
            &blob_endpoint,
            common::AZURITE_ACCOUNT,
            common::AZURITE_KEY,
            "lake",
            fixtures.to_str().unwrap(),
            "tables",
        ],
    );
    let preamble = format!(
        "CREATE STORAGE CREDENTIAL emulator TYPE AZURE WITH (account_name '{}', account_key '{}', endpoint '{blob_endpoint}');",
        common::AZURITE_ACCOUNT,
        common::AZURITE_KEY
    );
    let on_azure = |name: &str| format!("'az://lake/tables/{name}' WITH CREDENTIAL emulator");
    // Uploaded blobs carry their upload time, not the commit time the local oracle knows, so
    // the cases resolved by time stay with the other stores.
    let cases: Vec<&str> = CASES
        .iter()
        .copied()
        .filter(|c| !["file_urls", "timestamp"].contains(c))
        .chain(["presigned_urls"])
        .collect();
    serve_and_check(&data, &fixtures, &preamble, on_azure, &cases);
}
