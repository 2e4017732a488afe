//! What only the Spark connector exercises (it cannot be installed here), checked over HTTP:
//! paging of file lists (`maxFiles`, `pageToken`, `endStreamAction`), refresh tokens, and the
//! rule that an `endStreamAction` is sent only when asked for.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{Server, bearer, profile, sql};
use fireshare::delta::writer::{AddFile, TableWriter};
use serde_json::{Value, json};

/// A log-only table of `commits` x `per_commit` files (listing never opens them).
fn table(root: &Path, commits: usize, per_commit: usize) -> TableWriter {
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false)]);
    let mut table = TableWriter::create(root, "t", "paging", &schema, &[]).unwrap();
    for c in 0..commits {
        let adds: Vec<AddFile> = (0..per_commit)
            .map(|f| AddFile {
                path: format!("part-{c:05}-{f:05}.parquet"),
                size: 1000,
                partition_values: Default::default(),
                stats: json!({"numRecords": 10}),
            })
            .collect();
        table.commit("WRITE", &adds, &[]).unwrap();
    }
    table
}

struct Client {
    http: reqwest::blocking::Client,
    url: String,
    token: String,
}

struct Response {
    status: u16,
    version: Option<String>,
    capabilities: Option<String>,
    lines: Vec<Value>,
}

impl Client {
    fn query(&self, body: Value, capabilities: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> = capabilities
            .map(|c| ("delta-sharing-capabilities", c))
            .into_iter()
            .collect();
        self.query_with(body, &headers)
    }

    fn query_with(&self, body: Value, headers: &[(&str, &str)]) -> Response {
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (status, version, capabilities) = (
            response.status().as_u16(),
            header("delta-table-version"),
            header("delta-sharing-capabilities"),
        );
        let text = response.text().unwrap();
        Response {
            status,
            version,
            capabilities,
            lines: text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        }
    }
}

fn file_ids(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["file"]["id"].as_str().map(str::to_string))
        .collect()
}

fn end_stream(lines: &[Value]) -> Option<&Value> {
    lines.last().and_then(|l| l.get("endStreamAction"))
}

#[test]
fn paging_refresh_tokens_and_end_stream_actions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = dir.path().join("t");
    let mut writer = table(&root, 100, 100);
    sql(
        &data,
        &format!(
            "CREATE TABLE s.t USING DELTA LOCATION '{}'; CREATE SHARE share; ALTER SHARE share ADD TABLE s.t;
             CREATE RECIPIENT r; GRANT SELECT ON SHARE share TO RECIPIENT r;",
            root.display()
        ),
    );
    let server = Server::start(&data);
    let client = Client {
        http: reqwest::blocking::Client::new(),
        url: format!(
            "{}/shares/share/schemas/s/tables/t/query",
            server.endpoint()
        ),
        token: bearer(&profile(&data, &server, "r", &[])),
    };

    // No endStreamAction unless asked: the Python connector fails on one.
    let plain = client.query(json!({}), None);
    assert_eq!(plain.status, 200);
    assert!(end_stream(&plain.lines).is_none());
    assert_eq!(file_ids(&plain.lines).len(), 10_000);
    let asked = client.query(
        json!({}),
        Some("responseformat=parquet;includeendstreamaction=true"),
    );
    assert_eq!(
        asked.capabilities.as_deref(),
        Some("responseformat=parquet;includeendstreamaction=true")
    );
    let end = end_stream(&asked.lines).expect("asked for an endStreamAction");
    assert!(
        end.get("nextPageToken").is_none() && end["minUrlExpirationTimestamp"].is_i64(),
        "{end}"
    );

    // maxFiles=1000: ten pages, every file exactly once, identical first two lines.
    let (mut seen, mut token, mut pages) = (HashSet::new(), None::<String>, 0);
    loop {
        let mut body = json!({"maxFiles": 1000});
        if let Some(t) = &token {
            body["pageToken"] = json!(t);
        }
        let page = client.query(body, None);
        assert_eq!(page.status, 200, "{:?}", page.lines);
        assert_eq!(
            page.lines[..2],
            plain.lines[..2],
            "the first two lines repeat on every page"
        );
        assert_eq!(page.version, plain.version);
        pages += 1;
        let ids = file_ids(&page.lines);
        assert!(ids.len() <= 1000);
        for id in ids {
            assert!(seen.insert(id), "a file came twice");
        }
        if pages == 1 {
            // A commit after the first page changes nothing: the token pins the snapshot.
            let extra = AddFile {
                path: "late.parquet".into(),
                size: 1,
                partition_values: Default::default(),
                stats: json!({}),
            };
            writer.commit("WRITE", &[extra], &[]).unwrap();
        }
        let end = end_stream(&page.lines).expect("maxFiles implies an endStreamAction");
        match end.get("nextPageToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (10, 10_000));

    // Bad page tokens are 400s, never another table's or another query's files.
    let tampered = client.query(
        json!({"maxFiles": 1000, "pageToken": "eyJ2ZXJzaW9uIjo5fQ.AAAA"}),
        None,
    );
    assert_eq!(
        (tampered.status, tampered.lines[0]["errorCode"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
    let first = client.query(json!({"maxFiles": 10}), None);
    let next = end_stream(&first.lines).unwrap()["nextPageToken"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = client.query(
        json!({"maxFiles": 10, "pageToken": next, "limitHint": 5}),
        None,
    );
    assert_eq!(changed.status, 400);
    assert!(
        changed.lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("mismatch"),
        "{:?}",
        changed.lines
    );

    // Refresh tokens: the same snapshot (same ids) with fresh URLs, even after new commits.
    let latest = client.query(json!({"includeRefreshToken": true}), None);
    let refresh = end_stream(&latest.lines).unwrap()["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let extra = AddFile {
        path: "later.parquet".into(),
        size: 1,
        partition_values: Default::default(),
        stats: json!({}),
    };
    writer.commit("WRITE", &[extra], &[]).unwrap();
    let refreshed = client.query(json!({"refreshToken": refresh}), None);
    assert_eq!(refreshed.status, 200);
    assert_eq!(refreshed.version, latest.version);
    assert_eq!(file_ids(&refreshed.lines), file_ids(&latest.lines));
    assert!(end_stream(&refreshed.lines).unwrap()["refreshToken"].is_string());
    assert_eq!(
        file_ids(&client.query(json!({}), None).lines).len(),
        10_002,
        "the latest snapshot moved on"
    );
    let misuse = client.query(json!({"refreshToken": "x.y", "version": 1}), None);
    assert_eq!(misuse.status, 400);
    let bad = client.query(json!({"refreshToken": "x.y"}), None);
    assert!(
        bad.lines[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Error decoding the refresh token")
    );
    let zero = client.query(json!({"maxFiles": 0}), None);
    assert_eq!(zero.lines[0]["message"], "maxFiles must be positive.");

    // fileidhash: MD5 (parquet) or SHA-256 (delta) of the path, echoed; anything else is a 400.
    let with_hash = |scheme: &str| {
        let response = reqwest::blocking::Client::new()
            .post(&client.url)
            .bearer_auth(&client.token)
            .header("fileidhash", scheme)
            .json(&json!({"maxFiles": 1}))
            .send()
            .unwrap();
        let echo = response
            .headers()
            .get("fileidhash")
            .map(|v| v.to_str().unwrap().to_string());
        let status = response.status().as_u16();
        let lines: Vec<Value> = response
            .text()
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (status, echo, lines)
    };
    use md5::Digest as _;
    let (status, echo, lines) = with_hash("PARQUET");
    assert_eq!((status, echo.as_deref()), (200, Some("parquet")));
    // Log replay lists the newest commit first: the file added last.
    let first_path = "later.parquet";
    assert_eq!(
        file_ids(&lines),
        [hex::encode(md5::Md5::digest(first_path))]
    );
    let (_, echo, lines) = with_hash("delta");
    assert_eq!(echo.as_deref(), Some("delta"));
    assert_eq!(
        file_ids(&lines),
        [hex::encode(sha2::Sha256::digest(first_path))]
    );
    let (status, _, lines) = with_hash("crc32");
    assert_eq!(
        (status, lines[0]["errorCode"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
}
