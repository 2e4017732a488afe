//! Governance beyond the protocol: partition-filtered shares read per recipient through the
//! real connector (each supervisor sees exactly its country's rows, every way it reads),
//! with the filter in the ledger and in SHOW ACCESS.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Server, bearer, fireshare, profile, run_python, sql};
use serde_json::{Value, json};

/// `fireshare sql` with `args` before the statements: its output, or its error.
fn sql_run(data: &Path, args: &[&str], statements: &str) -> Result<String, String> {
    let out = fireshare()
        .arg("sql")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg(statements)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(stderr)
    }
}

fn sql_error(data: &Path, statements: &str) -> String {
    sql_run(data, &[], statements).unwrap_err()
}

fn sql_as(data: &Path, name: &str, statements: &str) -> Result<String, String> {
    sql_run(data, &["--as", name], statements)
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

    // A property change holds from the next request, without a restart; a page token of the
    // view before it is refused rather than counted in the new one.
    let query_url = format!(
        "{}/shares/supervisors/schemas/fire/tables/exposures/query",
        server.endpoint()
    );
    let page = |body: Value| {
        reqwest::blocking::Client::new()
            .post(&query_url)
            .bearer_auth(bearer(&bafin))
            .json(&body)
            .send()
            .unwrap()
    };
    let first_page = page(json!({"maxFiles": 1})).text().unwrap();
    let token = first_page
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|l| {
            l["endStreamAction"]["nextPageToken"]
                .as_str()
                .map(str::to_string)
        })
        .expect("more than one DE file");
    sql(
        &data,
        "ALTER RECIPIENT bafin SET PROPERTIES ('country' = 'IT')",
    );
    let stale = page(json!({"maxFiles": 1, "pageToken": token}));
    assert_eq!(stale.status(), 400);
    let said = stale.text().unwrap();
    assert!(
        said.contains("the partitions you may read changed"),
        "{said}"
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
    let events = common::audit_events(&data, "queryTable");
    let filters: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e["params"]["partitionFilter"].as_str().map(str::to_string))
        .collect();
    assert!(filters.contains("(country_code = 'FR')"), "{filters:?}");
    assert!(filters.contains("(country_code = 'IT')"), "{filters:?}");
    assert!(
        events
            .iter()
            .filter(|e| e["status"] == 200)
            .all(|e| e["params"]["partitionFilter"].is_string()),
        "every query served from the filtered table records its filter"
    );
}

#[test]
fn four_eyes_changes_need_a_second_admin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    sql(
        &data,
        "CREATE SHARE s; CREATE RECIPIENT r; CREATE RECIPIENT late;
         ALTER CATALOG SET FOUR EYES FOR GRANT, REVOKE, CREATE RECIPIENT PENDING LIFETIME '3s'",
    );
    let grants = |share: &str| sql(&data, &format!("SHOW GRANTS ON SHARE {share}"));

    // A covered statement needs a named admin, and then only proposes.
    let refused = sql_error(&data, "GRANT SELECT ON SHARE s TO RECIPIENT r");
    assert!(refused.contains("--as NAME"), "{refused}");
    let proposed = sql_as(&data, "alice", "GRANT SELECT ON SHARE s TO RECIPIENT r").unwrap();
    assert!(proposed.contains("pending change 1"), "{proposed}");
    assert!(!grants("s").contains(" r "), "nothing applied yet");
    let pending = sql(&data, "SHOW PENDING CHANGES");
    assert!(
        pending.contains("alice")
            && pending.contains("GRANT SELECT ON SHARE s")
            && pending.contains("grants +1"),
        "{pending}"
    );
    // A statement that would fail fails when proposed.
    let failing = sql_as(
        &data,
        "alice",
        "GRANT SELECT ON SHARE s TO RECIPIENT nobody",
    )
    .unwrap_err();
    assert!(failing.contains("nobody"), "{failing}");

    // The proposer cannot approve; another admin (an admin token, over HTTP) can.
    let own = sql_as(&data, "alice", "APPROVE CHANGE 1").unwrap_err();
    assert!(own.contains("another admin must decide"), "{own}");
    let server = Server::start(&data);
    let bob = common::admin_token(&data, "admin", "bob");
    let auditor = common::admin_token(&data, "auditor", "eve");
    let post = |token: &str, statement: &str| {
        let response = common::admin_sql(&server, token, statement);
        (response.status().as_u16(), response.text().unwrap())
    };
    assert_eq!(
        post(&auditor, "APPROVE CHANGE 1").0,
        403,
        "auditors only read"
    );
    let (status, approved) = post(&bob, "APPROVE CHANGE 1");
    assert_eq!(status, 200, "{approved}");
    assert!(
        approved.contains("approved change 1, proposed by alice"),
        "{approved}"
    );
    assert!(grants("s").contains("r"), "{}", grants("s"));
    assert!(
        post(&bob, "APPROVE CHANGE 1")
            .1
            .contains("was approved already")
    );

    // Rejected and withdrawn proposals change nothing.
    let revoke = sql_as(&data, "alice", "REVOKE SELECT ON SHARE s FROM RECIPIENT r").unwrap();
    assert!(revoke.contains("pending change 2"), "{revoke}");
    let rejected = sql_as(
        &data,
        "carol",
        "REJECT CHANGE 2 COMMENT 'the regulator still needs it'",
    )
    .unwrap();
    assert!(rejected.contains("rejected"), "{rejected}");
    assert!(grants("s").contains("r"));
    sql_as(&data, "alice", "CREATE RECIPIENT extra").unwrap();
    let not_theirs = sql_as(&data, "bob", "WITHDRAW CHANGE 3").unwrap_err();
    assert!(
        not_theirs.contains("only alice may withdraw"),
        "{not_theirs}"
    );
    sql_as(&data, "alice", "WITHDRAW CHANGE 3").unwrap();
    assert!(!sql(&data, "SHOW RECIPIENTS").contains("extra"));

    // A proposal left too long expires.
    sql_as(&data, "alice", "GRANT SELECT ON SHARE s TO RECIPIENT late").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3_200));
    assert!(sql(&data, "SHOW PENDING CHANGES").contains("expired"));
    let expired = sql_as(&data, "bob", "APPROVE CHANGE 4").unwrap_err();
    assert!(expired.contains("expired"), "{expired}");
    assert!(!grants("s").contains("late"));

    // Turning four eyes off is itself covered.
    let off = sql_as(&data, "alice", "ALTER CATALOG UNSET FOUR EYES").unwrap();
    assert!(off.contains("pending change 5"), "{off}");
    sql_as(&data, "bob", "APPROVE CHANGE 5").unwrap();
    let granted = sql(&data, "GRANT SELECT ON SHARE s TO RECIPIENT late");
    assert!(granted.contains("granted"), "{granted}");

    // Every proposal and decision is in the ledger, under its admin, with its catalog diff.
    drop(server);
    let proposals = common::audit_events(&data, "proposeChange");
    assert_eq!(proposals.len(), 5, "{proposals:?}");
    assert!(
        proposals
            .iter()
            .all(|e| e["actor"]["name"].as_str().unwrap().starts_with("alice ("))
    );
    let approvals = common::audit_events(&data, "approveChange");
    let by_bob = approvals
        .iter()
        .find(|e| e["actor"]["name"] == "bob")
        .expect("bob's approval over HTTP");
    let diff = &by_bob["statements"][0]["changes"];
    assert_eq!(
        diff["grants"]["added"].as_array().unwrap().len(),
        1,
        "{by_bob}"
    );
    assert_eq!(common::audit_events(&data, "rejectChange").len(), 1);
    assert_eq!(common::audit_events(&data, "withdrawChange").len(), 1);
}
