//! Every table of the shared Delta corpus (`../shared/delta-tables/expected.json`, written by
//! Spark and delta-rs) read through a running server: the files it lists are downloaded
//! through their signed URLs and their parquet row counts must add up to the expected rows.
//! Tables this server must refuse (deletion vectors, column mapping, broken logs) must get a
//! clear 4xx error, never a 5xx or wrong data.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Server, bearer, profile, shared_dir, sql};
use delta_kernel::parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{Value, json};

/// Outcome of tables that only the delta response format may serve.
const DELTA_ONLY: &str = "needs the delta format";

/// The error every table the corpus expects to fail gets: what the protocol cannot serve is
/// unsupported; a log that is broken or missing makes the request malformed.
const REFUSALS: &[(&str, &str)] = &[
    ("deltalog-invalid-protocol-version", "UNSUPPORTED_OPERATION"),
    ("simple_table_features", "UNSUPPORTED_OPERATION"),
    ("versions-not-contiguous", "MALFORMED_REQUEST"),
    (
        "deltalog-state-reconstruction-without-protocol",
        "MALFORMED_REQUEST",
    ),
    (
        "deltalog-state-reconstruction-without-metadata",
        "MALFORMED_REQUEST",
    ),
    (
        "deltalog-state-reconstruction-from-checkpoint-missing-metadata",
        "MALFORMED_REQUEST",
    ),
    ("no-delta-log-folder", "MALFORMED_REQUEST"),
];

/// Reader features the Python connector does not declare: a table that needs one is refused
/// to it, naming the feature; every other table it must read.
const UNDECLARED: &[&str] = &["typeWidening-preview", "variantType-preview"];

/// Corpus features that change what a reader of the parquet files sees.
const CHANGES_ROWS: &[&str] = &[
    "deletion-vectors",
    "column-mapping-name",
    "column-mapping-id",
];

struct Client {
    http: reqwest::blocking::Client,
    endpoint: String,
    token: String,
}

struct QueryResult {
    status: u16,
    version: Option<u64>,
    lines: Vec<Value>,
}

impl Client {
    fn query(&self, table: &str, body: Value) -> QueryResult {
        let response = self
            .http
            .post(format!(
                "{}/shares/corpus/schemas/corpus/tables/{table}/query",
                self.endpoint
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let version = response
            .headers()
            .get("delta-table-version")
            .and_then(|v| v.to_str().ok()?.parse().ok());
        // A response cut short while streaming reads as an error here.
        let text = response
            .text()
            .unwrap_or_else(|e| json!({ "cut short": e.to_string() }).to_string());
        let lines = if status == 200 {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or(json!({ "unparsable": l })))
                .collect()
        } else {
            vec![serde_json::from_str(&text).unwrap_or(json!({"unparsable": text}))]
        };
        QueryResult {
            status,
            version,
            lines,
        }
    }

    fn rows_in(&self, url: &str) -> Result<i64, String> {
        let response = self.http.get(url).send().map_err(|e| e.to_string())?;
        if response.status() != 200 {
            return Err(format!("GET file answered {}", response.status()));
        }
        let bytes = response.bytes().map_err(|e| e.to_string())?;
        let reader = SerializedFileReader::new(bytes).map_err(|e| format!("not parquet: {e}"))?;
        Ok(reader.metadata().file_metadata().num_rows())
    }
}

/// Checks one snapshot query: version header, file count, and (when the table has data files)
/// the rows behind the signed URLs.
fn check_snapshot(
    client: &Client,
    table: &str,
    body: Value,
    expect: &Value,
    log_only: bool,
) -> Result<(), String> {
    let result = client.query(table, body.clone());
    if result.status != 200 {
        return Err(format!(
            "{body}: status {} {}",
            result.status, result.lines[0]
        ));
    }
    if let Some(version) = expect["version"].as_u64().or(body["version"].as_u64())
        && result.version != Some(version)
    {
        return Err(format!(
            "{body}: Delta-Table-Version {:?}, expected {version}",
            result.version
        ));
    }
    let urls: Vec<&str> = result.lines[2..]
        .iter()
        .map(|l| {
            l["file"]["url"]
                .as_str()
                .ok_or_else(|| format!("not a file line: {l}"))
        })
        .collect::<Result<_, _>>()?;
    if let Some(files) = expect["files"].as_u64()
        && urls.len() as u64 != files
    {
        return Err(format!("{body}: {} files, expected {files}", urls.len()));
    }
    if log_only {
        return Ok(());
    }
    if let Some(rows) = expect["rows"].as_i64() {
        let mut total = 0;
        for url in urls {
            total += client.rows_in(url).map_err(|e| format!("{body}: {e}"))?;
        }
        if total != rows {
            return Err(format!("{body}: {total} rows, expected {rows}"));
        }
    }
    Ok(())
}

fn check_table(client: &Client, name: &str, expect: &Value) -> Result<&'static str, String> {
    let features: Vec<&str> = expect["features"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if expect.get("expect_error").is_some() {
        let code = REFUSALS
            .iter()
            .find(|(table, _)| *table == name)
            .map(|(_, code)| *code)
            .ok_or("a table expected to fail that the test does not know")?;
        let result = client.query(name, json!({}));
        let body = &result.lines[0];
        return if result.status == 400 && body["errorCode"] == code && body["message"].is_string() {
            Ok("refused (broken or unsupported log)")
        } else {
            Err(format!("expected 400 {code}, got {} {body}", result.status))
        };
    }
    let refused = |result: &QueryResult| {
        result.status == 400 && result.lines[0]["errorCode"] == "UNSUPPORTED_OPERATION"
    };
    if features.iter().any(|f| CHANGES_ROWS.contains(f)) {
        // Served as parquet these would read wrong rows: they must be refused (the delta
        // format serves them, see below).
        let result = client.query(name, json!({}));
        return if refused(&result) {
            Ok(DELTA_ONLY)
        } else {
            Err(format!(
                "expected 400 UNSUPPORTED_OPERATION, got {} {}",
                result.status, result.lines[0]
            ))
        };
    }
    if expect["protocol"]["minReaderVersion"] != 1 && refused(&client.query(name, json!({}))) {
        // Other reader features: refusing parquet is allowed, serving must be right.
        return Ok(DELTA_ONLY);
    }
    let log_only = features.contains(&"log-only");
    check_snapshot(client, name, json!({}), expect, log_only)?;
    if let Some(versions) = expect["versions"].as_object() {
        for (version, at) in versions {
            let version: u64 = version.parse().unwrap();
            check_snapshot(client, name, json!({"version": version}), at, log_only)?;
        }
    }
    Ok("read")
}

#[test]
fn corpus_tables_read_back_through_the_server() {
    let Some(shared) = shared_dir(&["delta-tables"]) else {
        return;
    };
    let corpus = shared.join("delta-tables");
    let expected: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("expected.json")).unwrap())
            .unwrap();
    let tables: Vec<(&String, &Value)> = expected
        .iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut script = String::from(
        "CREATE SHARE corpus; CREATE RECIPIENT tester; GRANT SELECT ON SHARE corpus TO RECIPIENT tester;",
    );
    for (name, expect) in &tables {
        let location = corpus.join(expect["path"].as_str().unwrap());
        script.push_str(&format!(
            "CREATE TABLE corpus.`{0}` USING DELTA LOCATION '{1}'; ALTER SHARE corpus ADD TABLE corpus.`{0}` WITH HISTORY;",
            table_name(name),
            location.display()
        ));
    }
    sql(&data, &script);
    let server = Server::start(&data);
    let client = Client {
        http: reqwest::blocking::Client::new(),
        endpoint: server.endpoint(),
        token: bearer(&profile(&data, &server, "tester", &[])),
    };

    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut delta_only = Vec::new();
    for (name, expect) in &tables {
        let features: Vec<&str> = expect["features"]
            .as_array()
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match check_table(&client, &table_name(name), expect) {
            Ok(outcome) => {
                *outcomes.entry(outcome).or_default() += 1;
                if outcome == DELTA_ONLY {
                    let versions: serde_json::Map<String, Value> = expect["versions"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(v, at)| (v.clone(), at["rows"].clone()))
                        .collect();
                    let undeclared = features.iter().find_map(|f| {
                        UNDECLARED
                            .iter()
                            .find(|u| f.strip_prefix("rf:") == Some(**u))
                    });
                    delta_only.push(json!([
                        table_name(name),
                        expect["rows"],
                        versions,
                        undeclared
                    ]));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    // The real connector reads those, asking for `responseformat=delta,parquet`.
    failures.extend(run_connector(
        "corpus_delta.py",
        &data.join("tester.share"),
        &delta_only,
    ));
    // The change data feeds the corpus lists, read by the connector. Timestamps are only
    // reproducible with in-commit timestamps (the copies lost their file times).
    let cdf_cases: Vec<Value> = tables
        .iter()
        .flat_map(|(name, expect)| {
            let ict = expect["features"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == "in-commit-timestamps"));
            expect["cdf"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(move |c| c["start_timestamp"].is_null() || ict)
                .map(move |c| {
                    json!([
                        table_name(name),
                        c["start"],
                        c["end"],
                        c["start_timestamp"],
                        c["rows"],
                        c["by_change_type"]
                    ])
                })
        })
        .collect();
    failures.extend(run_connector(
        "corpus_cdf.py",
        &data.join("tester.share"),
        &cdf_cases,
    ));
    eprintln!(
        "corpus of {} tables: {outcomes:?}; {} handed to the connector in the delta format; {} change feeds read",
        tables.len(),
        delta_only.len(),
        cdf_cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} corpus tables failed:\n{}\n--- server log (tail)\n{}",
        failures.len(),
        failures.join("\n"),
        tail(&server.log_text())
    );
    // Every table is accounted for: refused as the corpus expects, or read (as parquet here,
    // or in the delta format by the connector, unless it needs a feature the connector lacks).
    let refused = outcomes
        .get("refused (broken or unsupported log)")
        .copied()
        .unwrap_or(0);
    assert_eq!(refused, REFUSALS.len(), "{outcomes:?}");
    assert_eq!(
        outcomes.get("read").copied().unwrap_or(0) + delta_only.len() + refused,
        tables.len(),
        "{outcomes:?}"
    );
}

/// Runs a connector script of `tests/python/` over `cases`; returns its failure lines.
fn run_connector(script: &str, profile: &Path, cases: &[Value]) -> Vec<String> {
    let out = std::process::Command::new(common::python())
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/python")
                .join(script),
        )
        .arg(profile)
        .arg(Value::Array(cases.to_vec()).to_string())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    eprint!("{report}");
    let mut failures: Vec<String> = report
        .lines()
        .filter(|l| l.contains(": FAILED"))
        .map(str::to_string)
        .collect();
    if !out.status.success() && failures.is_empty() {
        failures.push(format!(
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    failures
}

/// Table names may not contain dots (`delta-0.2.0`).
fn table_name(corpus_name: &str) -> String {
    corpus_name.replace('.', "_")
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
