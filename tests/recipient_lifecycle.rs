//! A recipient's token lifecycle over HTTP, with the real connector: onboarding through a
//! one-time activation link, rotation with a grace period, revocation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Server, run_python, sql};
use delta_kernel::arrow::array::{Int64Array, RecordBatch};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use fireshare::delta::writer::TableWriter;
use serde_json::{Value, json};

/// A one-commit table of `rows` ids at `dir/loans`.
fn loans_table(dir: &std::path::Path, rows: i64) -> std::path::PathBuf {
    let root = dir.join("loans");
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    let mut table = TableWriter::create(&root, "loans", "", &schema, &[], &[]).unwrap();
    let ids = Int64Array::from_iter_values(0..rows);
    let batch = RecordBatch::try_new(schema, vec![Arc::new(ids)]).unwrap();
    let file = table.write_file(&batch, &[]).unwrap();
    table.commit("WRITE", &[file], &[]).unwrap();
    root
}

/// A loans table of `rows` rows shared as s.fire.loans (no recipient yet), a server, and an
/// admin token.
fn shared_loans(dir: &std::path::Path, rows: i64) -> (std::path::PathBuf, Server, String) {
    let data = dir.join("data");
    let root = loans_table(dir, rows);
    sql(
        &data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s; ALTER SHARE s ADD TABLE fire.loans;",
            root.display()
        ),
    );
    let server = Server::start(&data);
    let admin = common::admin_token(&data, "admin", "ops");
    (data, server, admin)
}

#[test]
fn onboarding_rotation_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let (_, server, admin) = shared_loans(dir.path(), 7);
    let http = reqwest::blocking::Client::new();
    let admin_sql = |statement: &str| -> Value {
        let response = http
            .post(server.url("/admin/v1/sql"))
            .bearer_auth(&admin)
            .json(&json!({ "statement": statement }))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    };
    let activation_url = |result: &Value| result["rows"][0][1].as_str().unwrap().to_string();
    let download = |url: &str| {
        let response = http.get(url).send().unwrap();
        (response.status().as_u16(), response.text().unwrap())
    };
    let status_with = |token: &str| {
        http.get(format!("{}/shares", server.endpoint()))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };

    // Onboarding: the link from CREATE RECIPIENT downloads a profile once.
    let created = admin_sql(
        "CREATE RECIPIENT regulator TOKEN LIFETIME '30d'; GRANT SELECT ON SHARE s TO RECIPIENT regulator",
    );
    let url = activation_url(&created["results"][0]);
    assert!(url.starts_with(&server.url("/activate/fsl_")), "{url}");
    let (status, profile) = download(&url);
    assert_eq!(status, 200, "{profile}");
    let profile_json: Value = serde_json::from_str(&profile).unwrap();
    assert_eq!(profile_json["endpoint"], server.endpoint());
    assert!(
        profile_json["expirationTime"].is_string(),
        "TOKEN LIFETIME applies"
    );
    let first = profile_json["bearerToken"].as_str().unwrap().to_string();
    let (status, page) = download(&url);
    assert_eq!(status, 410);
    assert!(page.contains("already used"), "{page}");
    let profile_path = dir.path().join("regulator.share");
    std::fs::write(&profile_path, &profile).unwrap();
    let read = |path: &std::path::Path| {
        run_python(
            "count_rows.py",
            &[&format!("{}#s.fire.loans", path.display())],
        )
    };
    assert_eq!(read(&profile_path).trim(), "7");

    // Rotation with a grace period: both tokens work, then only the new one. The grace holds
    // one connector run with the old profile many times over on a loaded machine; the new
    // profile's run does not depend on it.
    let grace = Duration::from_secs(20);
    let rotated_at = std::time::Instant::now();
    let rotated = admin_sql("ALTER RECIPIENT regulator ROTATE TOKEN EXPIRE EXISTING IN '20s'");
    assert_eq!(
        read(&profile_path).trim(),
        "7",
        "the old profile reads during the grace period"
    );
    let (status, profile) = download(&activation_url(&rotated["results"][0]));
    assert_eq!(status, 200);
    let second_path = dir.path().join("rotated.share");
    std::fs::write(&second_path, &profile).unwrap();
    let second = serde_json::from_str::<Value>(&profile).unwrap()["bearerToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(read(&second_path).trim(), "7");
    std::thread::sleep((grace + Duration::from_millis(500)).saturating_sub(rotated_at.elapsed()));
    assert_eq!(status_with(&first), 401, "the grace period is over");
    assert_eq!(status_with(&second), 200);

    // Revocation: effective on the next request.
    let described = admin_sql("DESCRIBE RECIPIENT regulator");
    let states: Vec<&str> = described["results"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r[0] == "token")
        .map(|r| r[5].as_str().unwrap())
        .collect();
    assert_eq!(states, ["live", "expired"]);
    admin_sql("ALTER RECIPIENT regulator REVOKE TOKENS");
    assert_eq!(status_with(&second), 401);
    assert_eq!(download(&server.url("/activate/fsl_unknown")).0, 404);
}

#[test]
fn ip_access_lists_guard_queries_file_urls_and_activation_links() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = loans_table(dir.path(), 3);
    let out = sql(
        &data,
        &format!(
            "CREATE TABLE fire.loans USING DELTA LOCATION '{}'; CREATE SHARE s; ALTER SHARE s ADD TABLE fire.loans;
             CREATE RECIPIENT r IP ACCESS LIST ('192.0.2.0/24'); GRANT SELECT ON SHARE s TO RECIPIENT r;",
            root.display()
        ),
    );
    let link = out
        .split_whitespace()
        .find(|w| w.contains("/activate/"))
        .expect("an activation URL")
        .to_string();
    let server = Server::start(&data);
    let token = common::bearer(&common::profile(&data, &server, "r", &[]));
    let http = reqwest::blocking::Client::new();
    let query = || {
        http.post(format!(
            "{}/shares/s/schemas/fire/tables/loans/query",
            server.endpoint()
        ))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .unwrap()
    };
    let refused = query();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["errorCode"], "PERMISSION_DENIED");
    assert!(
        body["message"].as_str().unwrap().contains("127.0.0.1"),
        "{body}"
    );
    // The link works only from the list too, and stays usable after a refusal.
    let link = link.replace("http://127.0.0.1:8080", &server.url(""));
    assert_eq!(http.get(&link).send().unwrap().status(), 403);

    sql(
        &data,
        "ALTER RECIPIENT r SET IP ACCESS LIST ('192.0.2.0/24', '127.0.0.1')",
    );
    let allowed = query();
    assert_eq!(allowed.status(), 200);
    let file_url = allowed
        .text()
        .unwrap()
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l).ok()?["file"]["url"]
                .as_str()
                .map(str::to_string)
        })
        .expect("a file line");
    assert_eq!(http.get(&file_url).send().unwrap().status(), 200);
    assert_eq!(
        http.get(&link).send().unwrap().status(),
        200,
        "the link was not consumed by the refusal"
    );

    // File URLs obey the list of the recipient they were issued to.
    sql(
        &data,
        "ALTER RECIPIENT r SET IP ACCESS LIST ('192.0.2.0/24')",
    );
    assert_eq!(http.get(&file_url).send().unwrap().status(), 403);
    sql(&data, "ALTER RECIPIENT r UNSET IP ACCESS LIST");
    assert_eq!(http.get(&file_url).send().unwrap().status(), 200);
    assert_eq!(query().status(), 200);
    let described = sql(&data, "DESCRIBE RECIPIENT r");
    assert!(described.contains("any address"), "{described}");
}

#[test]
fn oauth_client_credentials_with_the_real_connector() {
    let dir = tempfile::tempdir().unwrap();
    let (data, server, admin) = shared_loans(dir.path(), 5);
    let http = reqwest::blocking::Client::new();
    let created: Value = http
        .post(server.url("/admin/v1/sql"))
        .bearer_auth(&admin)
        .json(&json!({"statement": "CREATE RECIPIENT bank_supervisor USING OAUTH; GRANT SELECT ON SHARE s TO RECIPIENT bank_supervisor"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let result = &created["results"][0];
    assert_eq!(
        result["columns"],
        json!(["status", "client_id", "client_secret", "token_endpoint"])
    );
    let row = &result["rows"][0];
    let (client_id, client_secret, token_endpoint) = (
        row[1].as_str().unwrap(),
        row[2].as_str().unwrap(),
        row[3].as_str().unwrap(),
    );
    assert_eq!(token_endpoint, server.url("/oauth/token"));

    // The connector: profile version 2, client credentials.
    let profile = json!({
        "shareCredentialsVersion": 2,
        "type": "oauth_client_credentials",
        "endpoint": server.endpoint(),
        "tokenEndpoint": token_endpoint,
        "clientId": client_id,
        "clientSecret": client_secret,
    });
    let path = dir.path().join("oauth.share");
    std::fs::write(&path, profile.to_string()).unwrap();
    assert_eq!(
        run_python(
            "count_rows.py",
            &[&format!("{}#s.fire.loans", path.display())]
        )
        .trim(),
        "5"
    );

    // The token endpoint by hand: RFC 6749 answers.
    let exchange = |secret: &str, grant: &str| {
        let response = http
            .post(token_endpoint)
            .basic_auth(client_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("grant_type={grant}&scope=sharing"))
            .send()
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().unwrap(),
        )
    };
    let (status, granted) = exchange(client_secret, "client_credentials");
    assert_eq!(
        (status, granted["token_type"].as_str()),
        (200, Some("Bearer"))
    );
    assert_eq!(granted["expires_in"], 3600);
    let access = granted["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        exchange("fss_wrong", "client_credentials").1["error"],
        "invalid_client"
    );
    assert_eq!(
        exchange(client_secret, "password").1["error"],
        "unsupported_grant_type"
    );
    let shares = |token: &str| {
        http.get(format!("{}/shares", server.endpoint()))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(shares(&access), 200);
    let jwks: Value = http
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    // Access tokens do not open the admin API, and revocation stops them at once.
    let admin_api = http
        .post(server.url("/admin/v1/sql"))
        .bearer_auth(&access)
        .json(&json!({"statement": "SHOW SHARES"}))
        .send()
        .unwrap();
    assert_eq!(admin_api.status(), 403);
    sql(&data, "ALTER RECIPIENT bank_supervisor REVOKE TOKENS");
    assert_eq!(shares(&access), 401);
    assert_eq!(exchange(client_secret, "client_credentials").0, 401);
}
