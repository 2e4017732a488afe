//! The admin API over HTTP: who may call it with which token, and `POST /admin/v1/sql`
//! answering exactly what `fireshare sql --json` prints.

mod common;

use std::path::Path;

use common::{Server, bearer, fireshare, profile, sql};
use serde_json::{Value, json};

/// `fireshare admin token create`: the token alone on stdout.
fn admin_token(data: &Path, role: &str, name: &str) -> String {
    let out = fireshare()
        .args(["admin", "token", "create", "--role", role, "--name", name])
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("fsa_") && !token.contains(char::is_whitespace));
    token
}

fn status_and_body(response: reqwest::blocking::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn roles_open_only_their_doors_and_rest_answers_like_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sql(
        &data,
        "CREATE SHARE s; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r;",
    );
    let server = Server::start(&data);
    let admin = admin_token(&data, "admin", "ops");
    let auditor = admin_token(&data, "auditor", "internal-audit");
    let recipient = bearer(&profile(&data, &server, "r", &[]));
    let http = reqwest::blocking::Client::new();
    let post = |token: &str, body: Value| {
        status_and_body(
            http.post(server.url("/admin/v1/sql"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .unwrap(),
        )
    };

    // An admin changes the catalog; one result per statement.
    let (status, body) = post(
        &admin,
        json!({"statement": "CREATE SHARE reports COMMENT 'Q4'; SHOW SHARES"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().unwrap().len(), 2);
    assert_eq!(body["results"][1]["rows"].as_array().unwrap().len(), 2);

    // REST and the command line give the same document.
    let cli = fireshare()
        .args(["sql", "--json", "SHOW SHARES; SHOW GRANTS TO RECIPIENT r"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    let (status, rest) = post(
        &auditor,
        json!({"statement": "SHOW SHARES; SHOW GRANTS TO RECIPIENT r"}),
    );
    assert_eq!((status, &rest), (200, &cli));

    // Refusals: each with its status and error code.
    let refused =
        |(status, body): (u16, Value)| (status, body["errorCode"].as_str().map(str::to_string));
    let denied = (403, Some("PERMISSION_DENIED".to_string()));
    assert_eq!(
        refused(post(&auditor, json!({"statement": "DROP SHARE reports"}))),
        denied
    );
    assert_eq!(
        refused(post(&recipient, json!({"statement": "SHOW SHARES"}))),
        denied
    );
    let sharing = |token: &str| {
        status_and_body(
            http.get(format!("{}/shares", server.endpoint()))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    };
    assert_eq!(refused(sharing(&admin)), denied);
    assert_eq!(refused(sharing(&auditor)), denied);
    assert_eq!(sharing(&recipient).0, 200);
    let unauthenticated = (401, Some("UNAUTHENTICATED".to_string()));
    assert_eq!(
        refused(post("fsa_forged", json!({"statement": "SHOW SHARES"}))),
        unauthenticated
    );
    assert_eq!(
        refused(status_and_body(
            http.post(server.url("/admin/v1/sql"))
                .json(&json!({"statement": "SHOW SHARES"}))
                .send()
                .unwrap()
        )),
        unauthenticated
    );
    assert_eq!(refused(post(&admin, json!({"sql": "SHOW SHARES"}))).0, 400);
    assert_eq!(
        refused(post(&admin, json!({"statement": "SHOW NONSENSE"}))).0,
        400
    );
    assert_eq!(
        http.get(server.url("/admin/v1/sql"))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .status(),
        405
    );

    // The auditor's refused DROP changed nothing.
    let (_, shares) = post(&admin, json!({"statement": "SHOW SHARES"}));
    assert_eq!(shares["results"][0]["rows"].as_array().unwrap().len(), 2);
}
