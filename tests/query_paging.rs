//! What only the Spark connector exercises (it cannot be installed here), checked over HTTP:
//! paging of file lists (`maxFiles`, `pageToken`, `endStreamAction`) of snapshot queries,
//! change feeds and streaming queries, refresh tokens, historical protocol lines, and the rule
//! that an `endStreamAction` is sent only when asked for.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{Server, bearer, profile, sql};
use fireshare::delta::writer::{AddFile, TableWriter};
use serde_json::{Value, json};

/// A log-only table of `commits` x `per_commit` files (listing never opens them).
fn table(root: &Path, commits: usize, per_commit: usize, config: &[(&str, &str)]) -> TableWriter {
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false)]);
    let mut table = TableWriter::create(root, "t", "paging", &schema, &[], config).unwrap();
    for c in 0..commits {
        let adds: Vec<AddFile> = (0..per_commit)
            .map(|f| add(&format!("part-{c:05}-{f:05}.parquet")))
            .collect();
        table.commit("WRITE", &adds, &[]).unwrap();
    }
    table
}

fn add(path: &str) -> AddFile {
    AddFile {
        path: path.into(),
        size: 1000,
        partition_values: Default::default(),
        stats: json!({"numRecords": 10}),
    }
}

/// Shares the table at `root` as share.s.t with recipient r and starts a server.
fn serve(dir: &Path, root: &Path, history: &str) -> (Server, Client) {
    let data = dir.join("data");
    sql(
        &data,
        &format!(
            "CREATE TABLE s.t USING DELTA LOCATION '{}'; CREATE SHARE share; ALTER SHARE share ADD TABLE s.t {history};
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
    (server, client)
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
        self.send(self.http.post(&self.url).json(&body), headers)
    }

    /// `GET …/changes?{params}`.
    fn changes(&self, params: &str, capabilities: Option<&str>) -> Response {
        let url = self.url.replace("/query", &format!("/changes?{params}"));
        let headers: Vec<(&str, &str)> = capabilities
            .map(|c| ("delta-sharing-capabilities", c))
            .into_iter()
            .collect();
        self.send(self.http.get(url), &headers)
    }

    fn send(
        &self,
        request: reqwest::blocking::RequestBuilder,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = request.bearer_auth(&self.token);
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
    let root = dir.path().join("t");
    let mut writer = table(&root, 100, 100, &[]);
    let (_server, client) = serve(dir.path(), &root, "");

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
    // An oversized body gets 413 with a JSON error like any other refusal.
    let huge = client.query(json!({"jsonPredicateHints": "x".repeat(3 << 20)}), None);
    assert_eq!(
        (huge.status, huge.lines[0]["errorCode"].as_str()),
        (413, Some("MALFORMED_REQUEST"))
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

/// What a line says, without its URL and expiry (signed again on every request).
fn summary(line: &Value) -> String {
    let (kind, value) = line.as_object().unwrap().iter().next().unwrap();
    format!(
        "{kind}:{}:{}",
        value["id"].as_str().unwrap_or(""),
        value["version"]
    )
}

/// Follows `nextPageToken`s from `fetch(None)`; checks that every page repeats the first two
/// lines of `whole` and holds at most `max_files` files; returns the pages' lines after the
/// first two (without the end-of-stream lines) and the number of pages.
fn read_pages(
    whole: &Response,
    max_files: usize,
    mut fetch: impl FnMut(Option<&str>) -> Response,
) -> (Vec<String>, usize) {
    let (mut lines, mut pages, mut token) = (Vec::new(), 0, None::<String>);
    loop {
        let page = fetch(token.as_deref());
        assert_eq!(page.status, 200, "{:?}", page.lines);
        assert_eq!(
            page.lines[..2],
            whole.lines[..2],
            "every page repeats the first two lines"
        );
        assert_eq!(page.version, whole.version);
        pages += 1;
        let (end, body) = page.lines[2..].split_last().expect("an endStreamAction");
        let files = body
            .iter()
            .filter(|l| l.get("metaData").is_none() && l.get("protocol").is_none());
        assert!(files.count() <= max_files);
        lines.extend(body.iter().map(summary));
        match end["endStreamAction"]
            .get("nextPageToken")
            .and_then(Value::as_str)
        {
            Some(next) => token = Some(next.to_string()),
            None => return (lines, pages),
        }
    }
}

#[test]
fn change_feeds_and_streaming_queries_come_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("t");
    let mut writer = table(&root, 10, 5, &[("delta.enableChangeDataFeed", "true")]);
    // Version 11: a new protocol and new table properties; then deletes and more writes.
    let first_commit =
        std::fs::read_to_string(root.join("_delta_log/00000000000000000000.json")).unwrap();
    let mut metadata: Value = first_commit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|a| a.get("metaData").is_some())
        .unwrap();
    metadata["metaData"]["configuration"]["delta.appendOnly"] = json!("false");
    let protocol = json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 4}});
    assert_eq!(
        writer
            .commit_actions("SET TBLPROPERTIES", vec![protocol, metadata])
            .unwrap(),
        11
    );
    writer
        .commit(
            "DELETE",
            &[],
            &[
                add("part-00003-00001.parquet"),
                add("part-00004-00002.parquet"),
            ],
        )
        .unwrap();
    for c in 0..3 {
        writer
            .commit(
                "WRITE",
                &[
                    add(&format!("late-{c}-a.parquet")),
                    add(&format!("late-{c}-b.parquet")),
                ],
                &[],
            )
            .unwrap();
    }
    let (_server, client) = serve(dir.path(), &root, "WITH HISTORY");

    // The change feed (both formats), whole and in pages of 7 files.
    let feed = "startingVersion=1&includeHistoricalMetadata=true";
    for caps in [None, Some("responseformat=delta")] {
        let whole = client.changes(feed, caps);
        assert_eq!(whole.status, 200, "{:?}", whole.lines);
        let lines: Vec<String> = whole.lines[2..].iter().map(summary).collect();
        let count = |kind: &str| lines.iter().filter(|l| l.starts_with(kind)).count();
        if caps.is_none() {
            assert_eq!(
                (count("add:"), count("remove:"), count("metaData:")),
                (56, 2, 1),
                "{lines:?}"
            );
        } else {
            assert_eq!(
                (count("file:"), count("metaData:"), count("protocol:")),
                (58, 1, 0),
                "{lines:?}"
            );
        }
        let (paged, pages) = read_pages(&whole, 7, |token| {
            let token = token.map_or(String::new(), |t| format!("&pageToken={t}"));
            client.changes(&format!("{feed}&maxFiles=7{token}"), caps)
        });
        assert_eq!((paged, pages), (lines, 9));
    }

    // includeHistoricalProtocol (delta format): versioned protocol lines, the head's and version 11's.
    let with_protocol = client.changes(
        &format!("{feed}&includeHistoricalProtocol=true"),
        Some("responseformat=delta"),
    );
    let protocols: Vec<&Value> = with_protocol
        .lines
        .iter()
        .filter_map(|l| l.get("protocol"))
        .collect();
    assert_eq!(protocols.len(), 2, "{:?}", with_protocol.lines);
    assert_eq!(
        (
            protocols[0]["version"].as_u64(),
            protocols[1]["version"].as_u64()
        ),
        (Some(1), Some(11))
    );
    assert_eq!(protocols[1]["deltaProtocol"]["minWriterVersion"], 4);

    // Streaming queries (startingVersion on /query): whole and in pages of 4 files.
    let start = json!({"startingVersion": 9, "endingVersion": 14});
    let whole = client.query(start.clone(), None);
    assert_eq!(whole.version.as_deref(), Some("9"));
    let lines: Vec<String> = whole.lines[2..].iter().map(summary).collect();
    assert_eq!(lines.len(), 5 + 5 + 1 + 2 + 2 + 2, "{lines:?}");
    let (paged, pages) = read_pages(&whole, 4, |token| {
        let mut body = start.clone();
        body["maxFiles"] = json!(4);
        if let Some(t) = token {
            body["pageToken"] = json!(t);
        }
        client.query(body, None)
    });
    assert_eq!((paged, pages), (lines, 4));

    // A change page token works only for the listing and parameters it was issued for.
    let first = client.changes(&format!("{feed}&maxFiles=7"), None);
    let token = end_stream(&first.lines).unwrap()["nextPageToken"]
        .as_str()
        .unwrap()
        .to_string();
    let other = client.changes(
        &format!("startingVersion=2&maxFiles=7&pageToken={token}"),
        None,
    );
    assert!(
        other.lines[0]["message"]
            .as_str()
            .unwrap()
            .contains("mismatch"),
        "{:?}",
        other.lines
    );
    let snapshot = client.query(json!({"maxFiles": 7, "pageToken": token}), None);
    assert_eq!(snapshot.status, 400);
    let zero = client.changes(&format!("{feed}&maxFiles=0"), None);
    assert_eq!(zero.lines[0]["message"], "maxFiles must be positive.");
    let banana = client.changes("startingVersion=1&includeHistoricalMetadata=banana", None);
    assert_eq!(banana.status, 400);

    // fileidhash applies to change lines too, and is echoed.
    let response = client
        .http
        .get(client.url.replace("/query", "/changes?startingVersion=12"))
        .bearer_auth(&client.token)
        .header("fileidhash", "parquet")
        .send()
        .unwrap();
    assert_eq!(response.headers()["fileidhash"], "parquet");
    let removed: Value =
        serde_json::from_str(response.text().unwrap().lines().nth(2).unwrap()).unwrap();
    use md5::Digest as _;
    assert_eq!(
        removed["remove"]["id"],
        hex::encode(md5::Md5::digest("part-00003-00001.parquet"))
    );
}
