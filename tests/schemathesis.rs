//! The OpenAPI descriptions checked against a running server by schemathesis: generated
//! requests for every operation, no 5xx, every response conforming to the spec.
//! - the sharing protocol (`openapi/delta-sharing.yaml`) with a recipient's token — ndjson
//!   lines too, through `tests/schemathesis/st_hooks.py`;
//! - the admin API (`openapi/admin.yaml`) with an admin token.
//!
//! Settings (names of the data set, per-operation exceptions and why) live in
//! `tests/schemathesis/schemathesis.toml` and `tests/schemathesis/admin.toml`.

mod common;

use std::process::Command;

use common::{Server, bearer, sql, venv};
use fireshare::delta::writer::{AddFile, TableWriter};

/// The generated requests each API gets at least (seeded: about 1,500 to the sharing API and
/// 1,700 to the admin API), as the README states.
const MIN_REQUESTS: u64 = 1_400;

#[test]
fn the_server_conforms_to_its_openapi_description() {
    conforms();
}

/// The same on a catalog and ledger in PostgreSQL.
#[test]
fn a_replica_on_postgres_conforms_to_its_openapi_description() {
    let _postgres = common::on_new_postgres("schemathesis");
    conforms();
}

/// Runs both APIs' checks against the demo's server (this test's database, if it has one).
fn conforms() {
    let schemathesis =
        venv("schemathesis-venv", &["schemathesis==4.32.5"]).with_file_name("schemathesis");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::run("demo", &data);
    // The demo's collateral table is FIRE-bound: its last version, below 95%, is held back.
    let log = server.log_text();
    assert!(
        log.lines().any(|l| l.starts_with("6 ")
            && l.contains("| 162 ")
            && l.ends_with("below the threshold (93.8%) | no")),
        "{log}"
    );
    let version = reqwest::blocking::Client::new()
        .get(server.url(
            "/delta-sharing/shares/regulatory_reports/schemas/fire/tables/collateral_gold/version",
        ))
        .bearer_auth(bearer(&data.join("regulator.share")))
        .send()
        .unwrap();
    assert_eq!(version.headers()["delta-table-version"], "5");

    // The demo tables keep their change feed off: add one with it on (versions 0..5).
    use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
    let root = dir.path().join("collateral_cdf");
    let schema = Schema::new(vec![Field::new("id", DataType::Utf8, false)]);
    let config = [("delta.enableChangeDataFeed", "true")];
    let mut table =
        TableWriter::create(&root, "collateral_cdf", "", &schema, &[], &config).unwrap();
    for v in 1..=5 {
        let add = AddFile {
            path: format!("part-{v}.parquet"),
            size: 100,
            partition_values: Default::default(),
            stats: serde_json::json!({"numRecords": 1}),
        };
        table.commit("WRITE", &[add], &[]).unwrap();
    }
    sql(
        &data,
        &format!(
            "CREATE TABLE fire.collateral_cdf USING DELTA LOCATION '{}';
             ALTER SHARE regulatory_reports ADD TABLE fire.collateral_cdf WITH HISTORY;",
            root.display()
        ),
    );

    let token = bearer(&data.join("regulator.share"));
    let sharing = run(
        &schemathesis,
        &server,
        (
            "tests/schemathesis/schemathesis.toml",
            "openapi/delta-sharing.yaml",
        ),
        &server.url(""),
        &token,
    );
    let admin = common::admin_token(&data, "admin", "schemathesis");
    let admin_api = run(
        &schemathesis,
        &server,
        ("tests/schemathesis/admin.toml", "openapi/admin.yaml"),
        &server.url("/admin/v1"),
        &admin,
    );
    eprintln!(
        "schemathesis: {sharing} requests to the sharing API, {admin_api} to the admin API, no failures"
    );
}

/// Runs schemathesis with `config` on `spec` against `url`; returns how many requests it
/// generated, failing on any failure or on fewer than [`MIN_REQUESTS`].
fn run(
    schemathesis: &std::path::Path,
    server: &Server,
    (config, spec): (&str, &str),
    url: &str,
    token: &str,
) -> u64 {
    let out = Command::new(schemathesis)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config-file", config, "run", spec, "--url", url])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--max-examples",
            "50",
            "--seed",
            "1",
            "--generation-database",
            "none",
        ])
        .arg("--no-color")
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures in {spec}:\n{report}\n{}\n--- server log (tail)\n{}",
        String::from_utf8_lossy(&out.stderr),
        tail(&server.log_text(), 40)
    );
    let generated: u64 = report
        .lines()
        .find_map(|l| l.trim().split_once(" generated")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no request count in the report:\n{report}"));
    assert!(
        generated >= MIN_REQUESTS,
        "only {generated} requests to {spec}:\n{report}"
    );
    generated
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
