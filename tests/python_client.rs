//! The real Python `delta-sharing` connector (pandas) against `fireshare serve`, reading
//! tables written by the real `deltalake` writer; results are compared with `deltalake`'s own
//! reader. The cases live in `tests/python/checks.py`.

mod common;

use common::{Server, profile, run_python, sql};

const CASES: &[&str] = &[
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

#[test]
fn python_connector_reads_what_deltalake_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("tables");
    let data = dir.path().join("data");
    run_python("fixtures.py", &[fixtures.to_str().unwrap()]);
    let table = |name: &str| {
        format!(
            "CREATE TABLE default.{name} USING DELTA LOCATION '{}';",
            fixtures.join(name).display()
        )
    };
    sql(
        &data,
        &format!(
            "{} {} {} {} {} {} {} {}
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
             GRANT SELECT ON SHARE hidden TO RECIPIENT outsider;",
            table("sales"),
            table("regions"),
            table("many"),
            table("cm"),
            table("ntz"),
            table("dv"),
            table("cdf"),
            table("secret"),
        ),
    );
    let server = Server::start(&data);
    let regulator = profile(&data, &server, "regulator", &["--expires-in", "1d"]);
    let outsider = profile(&data, &server, "outsider", &[]);
    let mut failures = Vec::new();
    for case in CASES {
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
    assert!(
        failures.is_empty(),
        "client cases failed: {failures:?}\n--- server log\n{}",
        server.log_text()
    );

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
