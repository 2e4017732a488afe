//! The admin API over HTTP: who may call it with which token, and `POST /admin/v1/sql`
//! answering exactly what `fireshare sql --json` prints.

mod common;

use std::path::Path;

use common::{Server, bearer, fireshare, profile, sql};
use serde_json::{Value, json};

/// An admin-API token; checks its form.
fn admin_token(data: &Path, role: &str, name: &str) -> String {
    let token = common::admin_token(data, role, name);
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

#[test]
fn rest_resources_do_what_their_statements_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let table_dir = dir.path().join("loans");
    std::fs::create_dir_all(&table_dir).unwrap();
    sql(&data, "SHOW SHARES");
    let server = Server::start(&data);
    let admin = admin_token(&data, "admin", "ops");
    let auditor = admin_token(&data, "auditor", "audit");
    let http = reqwest::blocking::Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut request = http
            .request(method, server.url(&format!("/admin/v1{path}")))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        status_and_body(request.send().unwrap())
    };
    use reqwest::Method;

    let (status, created) = call(
        Method::POST,
        "/shares",
        &admin,
        Some(json!({"name": "q4", "comment": "it's Q4"})),
    );
    assert_eq!(
        (status, created["status"].as_str()),
        (201, Some("created share q4"))
    );
    let (status, _) = call(
        Method::POST,
        "/tables",
        &admin,
        Some(json!({"name": "fire.loans", "location": table_dir.to_str().unwrap()})),
    );
    assert_eq!(status, 201);
    let (status, added) = call(
        Method::POST,
        "/shares/q4/tables",
        &admin,
        Some(
            json!({"table": "fire.loans", "as": "pub.loans", "history": true, "start_version": 2}),
        ),
    );
    assert_eq!(status, 201, "{added}");
    let (status, recipient) = call(
        Method::POST,
        "/recipients",
        &admin,
        Some(json!({"name": "bank", "token_lifetime": "30d", "ip_access_list": ["10.0.0.0/8"]})),
    );
    assert_eq!(status, 201);
    assert!(
        recipient["activation_url"]
            .as_str()
            .unwrap()
            .contains("/activate/fsl_")
    );
    assert_eq!(
        call(
            Method::POST,
            "/grants",
            &admin,
            Some(json!({"share": "q4", "recipient": "bank"}))
        )
        .0,
        201
    );

    // What REST did is seen through the sharing API too, by recipients' own tokens.
    let (status, _) = call(
        Method::POST,
        "/recipients",
        &admin,
        Some(json!({"name": "watcher"})),
    );
    assert_eq!(status, 201);
    let granted = call(
        Method::POST,
        "/grants",
        &admin,
        Some(json!({"share": "q4", "recipient": "watcher"})),
    );
    assert_eq!(granted.0, 201);
    let bank = bearer(&profile(&data, &server, "bank", &[]));
    let watcher = bearer(&profile(&data, &server, "watcher", &[]));
    let sharing = |token: &str, path: &str| {
        status_and_body(
            http.get(format!("{}{path}", server.endpoint()))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    };
    let tables = |token: &str| -> Vec<String> {
        let (status, body) = sharing(token, "/shares/q4/all-tables");
        assert_eq!(status, 200, "{body}");
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                format!(
                    "{}.{}",
                    t["schema"].as_str().unwrap(),
                    t["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(tables(&watcher), ["pub.loans"], "shared under its alias");
    assert_eq!(
        sharing(&bank, "/shares").0,
        403,
        "bank may call only from 10.0.0.0/8"
    );

    // Reads answer the same rows as the statements, as objects.
    let cli = |statement: &str| -> Value {
        let out = fireshare()
            .args(["sql", "--json", statement])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let result = &doc["results"][0];
        let columns: Vec<&str> = result["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        Value::Array(
            result["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    Value::Object(
                        columns
                            .iter()
                            .map(|c| c.to_string())
                            .zip(row.as_array().unwrap().iter().cloned())
                            .collect(),
                    )
                })
                .collect(),
        )
    };
    for (path, statement) in [
        ("/shares", "SHOW SHARES"),
        ("/shares/q4", "SHOW ALL IN SHARE q4"),
        ("/tables", "SHOW TABLES"),
        ("/recipients", "SHOW RECIPIENTS"),
        ("/recipients/bank/grants", "SHOW GRANTS TO RECIPIENT bank"),
        ("/shares/q4/grants", "SHOW GRANTS ON SHARE q4"),
    ] {
        let (status, rest) = call(Method::GET, path, &auditor, None);
        assert_eq!(status, 200, "{path}: {rest}");
        assert_eq!(rest["items"], cli(statement), "{path}");
    }
    let (_, described) = call(Method::GET, "/recipients/bank", &auditor, None);
    assert!(
        described["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "10.0.0.0/8"),
        "{described}"
    );

    // Token and IP list operations.
    let (status, rotated) = call(
        Method::POST,
        "/recipients/bank/tokens/rotate",
        &admin,
        Some(json!({"expire_existing_in": "1h"})),
    );
    assert_eq!(status, 200, "{rotated}");
    assert!(rotated["activation_url"].is_string());
    assert_eq!(
        call(
            Method::PUT,
            "/recipients/bank/ip-access-list",
            &admin,
            Some(json!({"entries": ["127.0.0.1"]}))
        )
        .0,
        200
    );
    assert_eq!(
        sharing(&bank, "/shares").0,
        200,
        "from 127.0.0.1 now, with the token rotated out an hour from now"
    );
    assert_eq!(
        call(
            Method::PUT,
            "/recipients/bank/ip-access-list",
            &admin,
            Some(json!({"entries": []}))
        )
        .0,
        400
    );
    assert_eq!(
        call(
            Method::DELETE,
            "/recipients/bank/ip-access-list",
            &admin,
            None
        )
        .0,
        200
    );
    assert_eq!(sharing(&bank, "/shares").0, 200, "any address again");
    let (status, revoked) = call(Method::POST, "/recipients/bank/tokens/revoke", &admin, None);
    assert_eq!(status, 200);
    assert!(
        revoked["status"].as_str().unwrap().starts_with("revoked"),
        "{revoked}"
    );
    assert_eq!(
        sharing(&bank, "/shares").0,
        401,
        "revoked on the next request"
    );

    // Refusals: auditors write nothing; unknown objects are 404; bad bodies 400.
    let denied = call(
        Method::POST,
        "/shares",
        &auditor,
        Some(json!({"name": "x"})),
    );
    assert_eq!(
        (denied.0, denied.1["errorCode"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    assert_eq!(call(Method::DELETE, "/shares/nope", &admin, None).0, 404);
    assert_eq!(
        call(Method::POST, "/shares", &admin, Some(json!({"nom": "x"}))).0,
        400
    );
    assert_eq!(call(Method::DELETE, "/grants/q4/bank", &admin, None).0, 200);
    assert_eq!(
        call(Method::DELETE, "/shares/q4/tables/pub.loans", &admin, None).0,
        200
    );
    assert!(tables(&watcher).is_empty(), "the table left the share");
    assert_eq!(
        call(Method::DELETE, "/grants/q4/watcher", &admin, None).0,
        200
    );
    assert_eq!(
        sharing(&watcher, "/shares").1["items"],
        json!([]),
        "the grant is gone"
    );
    assert_eq!(
        call(Method::DELETE, "/recipients/bank", &admin, None).0,
        200
    );
    assert_eq!(call(Method::GET, "/recipients/bank", &auditor, None).0, 404);
    assert_eq!(
        call(Method::DELETE, "/tables/fire.loans", &admin, None).0,
        200
    );
    assert_eq!(
        call(Method::GET, "/tables", &auditor, None).1["items"],
        json!([])
    );
    assert_eq!(call(Method::DELETE, "/shares/q4", &admin, None).0, 200);
    assert_eq!(call(Method::PATCH, "/shares", &admin, None).0, 405);
}

#[test]
fn concurrent_admin_requests_keep_the_catalog_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sql(&data, "SHOW SHARES");
    let server = Server::start(&data);
    let admin = admin_token(&data, "admin", "ops");
    // REST from several threads and `fireshare sql` from another process, at once.
    std::thread::scope(|scope| {
        for t in 0..6 {
            let (server, admin) = (&server, &admin);
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                for i in 0..15 {
                    let response = http
                        .post(server.url("/admin/v1/shares"))
                        .bearer_auth(admin)
                        .json(&json!({"name": format!("s_{t}_{i}")}))
                        .send()
                        .unwrap();
                    assert_eq!(response.status(), 201);
                }
            });
        }
        scope.spawn(|| {
            for i in 0..10 {
                sql(&data, &format!("CREATE RECIPIENT r_{i}; CREATE SHARE cli_{i}; GRANT SELECT ON SHARE cli_{i} TO RECIPIENT r_{i}"));
            }
        });
    });
    let (status, shares) = status_and_body(
        reqwest::blocking::Client::new()
            .get(server.url("/admin/v1/shares"))
            .bearer_auth(&admin)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(shares["items"].as_array().unwrap().len(), 6 * 15 + 10);
    let check = sql(&data, "SHOW GRANTS TO RECIPIENT r_9");
    assert!(check.contains("cli_9"), "{check}");
    let catalog = rusqlite::Connection::open(data.join("catalog.db")).unwrap();
    let integrity: String = catalog
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}
