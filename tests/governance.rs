//! Governance beyond the protocol: partition-filtered shares read per recipient through the
//! real connector (each supervisor sees exactly its country's rows, every way it reads),
//! with the filter in the ledger and in SHOW ACCESS.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Server, bearer, fireshare, profile, run_python, sql};
use serde_json::{Value, json};

/// Runs `fireshare sql` expecting a failure; returns its message.
fn sql_error(data: &Path, statements: &str) -> String {
    let out = fireshare()
        .args(["sql", "--data-dir"])
        .arg(data)
        .arg(statements)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{statements} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The files (`file`, `add`, `remove` or `cdf` lines) of every page of a `/query` with
/// `maxFiles` 1.
fn paged_files(server: &Server, token: &str, body: Value) -> Vec<Value> {
    let http = reqwest::blocking::Client::new();
    let url = format!(
        "{}/shares/supervisors/schemas/fire/tables/exposures/query",
        server.endpoint()
    );
    let mut files = Vec::new();
    let mut body = body;
    body["maxFiles"] = 1.into();
    for _ in 0..100 {
        let response = http
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status();
        let text = response.text().unwrap();
        assert_eq!(status, 200, "{text}");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        files.extend(
            lines
                .iter()
                .filter_map(|l| {
                    ["file", "add", "remove", "cdf"]
                        .iter()
                        .find_map(|k| l.get(*k))
                })
                .cloned(),
        );
        match lines
            .iter()
            .find_map(|l| l["endStreamAction"]["nextPageToken"].as_str())
        {
            Some(next) => body["pageToken"] = next.into(),
            None => return files,
        }
    }
    panic!("more than 100 pages");
}

fn countries(files: &[Value]) -> BTreeSet<String> {
    files
        .iter()
        .map(|f| {
            f["partitionValues"]["country_code"]
                .as_str()
                .unwrap_or_else(|| panic!("{f}"))
                .to_string()
        })
        .collect()
}

#[test]
fn each_supervisor_reads_exactly_its_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let (tables, data) = (dir.path().join("tables"), dir.path().join("data"));
    run_python("partitions.py", &["write", tables.to_str().unwrap()]);
    let granted = sql(
        &data,
        &format!(
            "CREATE TABLE fire.exposures USING DELTA LOCATION '{}';
             CREATE SHARE supervisors;
             ALTER SHARE supervisors ADD TABLE fire.exposures COMMENT 'by jurisdiction'
                 PARTITION (country_code = CURRENT_RECIPIENT('country')) WITH HISTORY;
             CREATE RECIPIENT acpr PROPERTIES ('country' = 'FR', 'authority' = 'ACPR');
             CREATE RECIPIENT bafin PROPERTIES ('country' = 'DE');
             CREATE RECIPIENT stranger;
             GRANT SELECT ON SHARE supervisors TO RECIPIENT acpr;
             GRANT SELECT ON SHARE supervisors TO RECIPIENT bafin;
             GRANT SELECT ON SHARE supervisors TO RECIPIENT stranger;",
            tables.join("exposures").display()
        ),
    );
    // The admin is told that a grantee lacking the property will read nothing.
    assert!(
        granted.contains("recipient stranger has no property country"),
        "{granted}"
    );
    assert!(
        !granted.contains("recipient acpr has no property"),
        "{granted}"
    );
    // Only partition columns may be named, and values must suit the column's type.
    let refused = sql_error(
        &data,
        "ALTER SHARE supervisors ALTER TABLE fire.exposures PARTITION (amount > 5)",
    );
    assert!(
        refused.contains("`amount` is not one of country_code"),
        "{refused}"
    );
    let shown = sql(&data, "SHOW ALL IN SHARE supervisors");
    assert!(
        shown.contains("(country_code = CURRENT_RECIPIENT('country'))")
            && shown.contains("by jurisdiction"),
        "{shown}"
    );
    let described = sql(&data, "DESCRIBE RECIPIENT acpr");
    assert!(
        described.contains("authority") && described.contains("ACPR"),
        "{described}"
    );

    let server = Server::start(&data);
    let acpr = profile(&data, &server, "acpr", &[]);
    let bafin = profile(&data, &server, "bafin", &[]);
    let stranger = profile(&data, &server, "stranger", &[]);
    for (who, country) in [(&acpr, "FR"), (&bafin, "DE")] {
        let out = run_python(
            "partitions.py",
            &[
                "read",
                who.to_str().unwrap(),
                country,
                tables.to_str().unwrap(),
            ],
        );
        assert!(out.contains("every read holds exactly its rows"), "{out}");
    }

    // Paged listings, snapshot and streaming, list nothing outside the filter.
    let token = bearer(&acpr);
    let files = paged_files(&server, &token, json!({}));
    assert_eq!(countries(&files), BTreeSet::from(["FR".to_string()]));
    assert_eq!(files.len(), 3, "one FR file per version");
    let streamed = paged_files(&server, &token, json!({"startingVersion": 0}));
    assert_eq!(countries(&streamed), BTreeSet::from(["FR".to_string()]));
    assert_eq!(streamed.len(), 3);
    // A file outside the filter cannot be fetched with a URL signed for another file.
    let url = files[0]["url"].as_str().unwrap();
    let forged = url.replace("country_code=FR", "country_code=DE");
    assert_ne!(forged, url);
    let status = reqwest::blocking::get(&forged).unwrap().status();
    assert_eq!(status, 403, "{forged}");

    // Without the property: nothing at all.
    let nothing = paged_files(&server, &bearer(&stranger), json!({}));
    assert!(nothing.is_empty(), "{nothing:?}");

    // A property change holds from the next request, without a restart.
    sql(
        &data,
        "ALTER RECIPIENT bafin SET PROPERTIES ('country' = 'IT')",
    );
    let counted = run_python("partitions.py", &["count", bafin.to_str().unwrap()]);
    assert_eq!(counted.trim(), r#"{"IT": 2}"#);
    sql(&data, "ALTER RECIPIENT bafin UNSET PROPERTIES ('country')");
    assert!(paged_files(&server, &bearer(&bafin), json!({})).is_empty());

    // The ledger records the effective filter of each query; SHOW ACCESS says who reads what.
    let access = sql(&data, "SHOW ACCESS ON TABLE fire.exposures");
    assert!(access.contains("(country_code = 'FR')"), "{access}");
    assert!(access.contains("no property 'country'"), "{access}");
    drop(server);
    let out = fireshare()
        .args(["audit", "query", "--action", "queryTable", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let filters: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e["params"]["partitionFilter"].as_str().map(str::to_string))
        .collect();
    assert!(filters.contains("(country_code = 'FR')"), "{filters:?}");
    assert!(filters.contains("(country_code = 'IT')"), "{filters:?}");
    assert!(
        events
            .iter()
            .all(|e| e["params"]["partitionFilter"].is_string()),
        "every query of the filtered table records its filter"
    );
}
