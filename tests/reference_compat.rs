//! Behaviours clients notice where fireshare answers as the reference server and its test
//! suites expect: parquet file ids, time travel past the last commit, strict query bodies,
//! and `HEAD …/tables/{t}` with `startingTimestamp`.

mod common;

use std::path::Path;

use common::{Server, bearer, profile, sql};
use fireshare::delta::writer::{AddFile, TableWriter};
use serde_json::{Value, json};
use sha2::Digest;

/// A table partitioned by `country` whose one file's log path needs percent-encoding,
/// shared with history as share.s.t to recipient r; returns the server, the token and the
/// file's path as the log writes it.
fn serve(dir: &Path) -> (Server, String, String) {
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
    let root = dir.join("t");
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("country", DataType::Utf8, true),
    ]);
    let mut table = TableWriter::create(&root, "t", "compat", &schema, &["country"], &[]).unwrap();
    let add = AddFile {
        path: "country=F R/part-00000.parquet".into(),
        size: 100,
        partition_values: [("country".to_string(), "F R".to_string())].into(),
        stats: json!({"numRecords": 1}),
    };
    table.commit("WRITE", &[add], &[]).unwrap();
    let log = std::fs::read_to_string(root.join("_delta_log/00000000000000000001.json")).unwrap();
    let log_path = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|a| a["add"]["path"].as_str().map(str::to_string))
        .unwrap();
    assert_eq!(log_path, "country=F%20R/part-00000.parquet");
    let data = dir.join("data");
    sql(
        &data,
        &format!(
            "CREATE TABLE s.t USING DELTA LOCATION '{}'; CREATE SHARE share;
             ALTER SHARE share ADD TABLE s.t WITH HISTORY;
             CREATE RECIPIENT r; GRANT SELECT ON SHARE share TO RECIPIENT r;",
            root.display()
        ),
    );
    let server = Server::start(&data);
    let token = bearer(&profile(&data, &server, "r", &[]));
    (server, token, log_path)
}

fn table_url(server: &Server, tail: &str) -> String {
    format!(
        "{}/shares/share/schemas/s/tables/t{tail}",
        server.endpoint()
    )
}

fn query(server: &Server, token: &str, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = reqwest::blocking::Client::new()
        .post(table_url(server, "/query"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

fn file_ids(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["file"]["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn file_ids_are_the_reference_servers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token, log_path) = serve(dir.path());
    // File ids: parquet responses default to the MD5 hex of the log's path string, delta
    // responses to its SHA-256; `fileidhash` still chooses.
    let md5 = hex::encode(md5::Md5::digest(log_path.as_bytes()));
    let sha256 = hex::encode(sha2::Sha256::digest(log_path.as_bytes()));
    let (status, body) = query(&server, &token, "{}", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(file_ids(&body), [md5]);
    let delta = [("delta-sharing-capabilities", "responseformat=delta")];
    assert_eq!(
        file_ids(&query(&server, &token, "{}", &delta).1),
        std::slice::from_ref(&sha256)
    );
    let asked = [("fileidhash", "delta")];
    assert_eq!(file_ids(&query(&server, &token, "{}", &asked).1), [sha256]);
}

#[test]
fn a_timestamp_after_the_last_commit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token, _) = serve(dir.path());
    // A timestamp after the latest commit names no version: 400, as Delta time travel says.
    let (status, body) = query(
        &server,
        &token,
        r#"{"timestamp": "2999-01-01T00:00:00Z"}"#,
        &[],
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("is after the latest version available"),
        "{body}"
    );
    assert!(body.contains("INVALID_PARAMETER_VALUE"), "{body}");
    let metadata = reqwest::blocking::Client::new()
        .get(table_url(
            &server,
            "/metadata?timestamp=2999-01-01T00:00:00Z",
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(metadata.status(), 400);
}

#[test]
fn query_bodies_are_strictly_typed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token, _) = serve(dir.path());
    // Strict bodies: a field of the wrong type or range is refused, naming it.
    for (body, field) in [
        (r#"{"predicateHints": "id = 1"}"#, "predicateHints"),
        (r#"{"predicateHints": [1]}"#, "predicateHints"),
        (r#"{"maxFiles": 2147483648}"#, "maxFiles"),
        (r#"{"limitHint": 1e30}"#, "limitHint"),
        (r#"{"limitHint": "5"}"#, "limitHint"),
        (r#"{"version": 1.5}"#, "version"),
    ] {
        let (status, answer) = query(&server, &token, body, &[]);
        assert_eq!(status, 400, "{body}: {answer}");
        let error: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(error["errorCode"], "INVALID_PARAMETER_VALUE", "{body}");
        assert!(
            error["message"].as_str().unwrap().contains(field),
            "{body}: {answer}"
        );
    }
    let (status, body) = query(
        &server,
        &token,
        r#"{"predicateHints": ["id = 1"], "maxFiles": 2147483647}"#,
        &[],
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn head_table_takes_a_starting_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let (server, token, _) = serve(dir.path());
    // HEAD …/tables/t answers as GET …/version, startingTimestamp included.
    let http = reqwest::blocking::Client::new();
    let version_of = |method: reqwest::Method, url: String| {
        let response = http
            .request(method, url)
            .bearer_auth(&token)
            .send()
            .unwrap();
        let version = response
            .headers()
            .get("delta-table-version")
            .map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), version)
    };
    for query in ["", "?startingTimestamp=2000-01-01T00:00:00Z"] {
        let head = version_of(reqwest::Method::HEAD, table_url(&server, query));
        let get = version_of(
            reqwest::Method::GET,
            table_url(&server, &format!("/version{query}")),
        );
        assert_eq!(head, get, "{query}");
        assert_eq!(head.0, 200);
    }
    assert_eq!(
        version_of(
            reqwest::Method::HEAD,
            table_url(&server, "?startingTimestamp=2000-01-01T00:00:00Z")
        )
        .1,
        Some("0".to_string())
    );
    let bad = version_of(
        reqwest::Method::HEAD,
        table_url(&server, "?startingTimestamp=yesterday"),
    );
    assert_eq!(bad.0, 400);
}
