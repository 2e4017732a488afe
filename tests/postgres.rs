//! The PostgreSQL backend against a real server (started under `target/` by the harness):
//! every admin statement answers as on SQLite, migrations run once however many replicas start
//! together and a newer schema is refused, the ledger's commands work unchanged, and TLS to the
//! database is checked as libpq's `sslmode` says.

mod common;

use std::path::Path;

use common::{Postgres, Server, on_database, on_new_postgres, run_fireshare};
use serde_json::Value;

/// `fireshare sql --json` as `admin` (four eyes need names): the results, or the error.
fn run_sql(data: &Path, admin: &str, statement: &str) -> Result<Value, String> {
    run_fireshare(&["sql", "--json", "--as", admin, statement], data)
        .map(|out| serde_json::from_str(&out).unwrap())
}

/// What differs from run to run (times, ids, tokens, links, the data directory) masked.
fn masked(text: &str, data: &Path) -> String {
    let text = text.replace(&data.display().to_string(), "DATA");
    let patterns = [
        (r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?", "TIME"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"fs[a-z]_[A-Za-z0-9_-]+", "TOKEN"),
        (r"127\.0\.0\.1:\d+", "HOST"),
        (r"\b1[78]\d{11}\b", "MS"),
    ];
    patterns.iter().fold(text, |text, (pattern, with)| {
        regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, *with)
            .into_owned()
    })
}

/// Statements covering every kind the admin SQL has, with who runs each.
const SCRIPT: &[(&str, &str)] = &[
    ("alice", "SHOW TABLES"),
    ("alice", "SHOW SHARES"),
    ("alice", "SHOW RECIPIENTS"),
    ("alice", "SHOW ALL IN SHARE regulatory_reports"),
    ("alice", "SHOW GRANTS ON SHARE regulatory_reports"),
    ("alice", "SHOW GRANTS TO RECIPIENT regulatory_body"),
    ("alice", "DESCRIBE HISTORY fire.collateral_gold"),
    (
        "alice",
        "SHOW QUALITY FOR TABLE fire.collateral_gold VERSION 6",
    ),
    ("alice", "SHOW EXPECTATIONS FOR ENTITY collateral"),
    (
        "alice",
        "ALTER TABLE fire.collateral_gold APPROVE VERSION 6 COMMENT 'reviewed'",
    ),
    ("alice", "DESCRIBE HISTORY fire.collateral_gold"),
    ("alice", "CREATE SHARE Supervisors COMMENT 'by country'"),
    ("alice", "CREATE SHARE supervisors"),
    ("alice", "CREATE SHARE IF NOT EXISTS SUPERVISORS"),
    (
        "alice",
        "CREATE RECIPIENT acpr COMMENT 'France' TOKEN LIFETIME '90d' IP ACCESS LIST ('10.0.0.0/8') PROPERTIES ('country' = 'EUR')",
    ),
    (
        "alice",
        "CREATE RECIPIENT bafin USING OAUTH PROPERTIES ('country' = 'GBP')",
    ),
    (
        "alice",
        "ALTER SHARE supervisors ADD TABLE fire.collateral_gold PARTITION (currency_code = CURRENT_RECIPIENT('country')) AS fire.exposures WITH HISTORY START VERSION 2",
    ),
    (
        "alice",
        "ALTER SHARE supervisors ADD TABLE fire.loan_gold COMMENT 'loans'",
    ),
    ("alice", "ALTER SHARE supervisors SET URL LIFETIME '15m'"),
    (
        "alice",
        "GRANT SELECT ON SHARE supervisors TO RECIPIENT acpr",
    ),
    (
        "alice",
        "GRANT SELECT ON SHARE supervisors TO RECIPIENT BAFIN",
    ),
    ("alice", "SHOW ALL IN SHARE supervisors"),
    ("alice", "SHOW ACCESS ON TABLE fire.collateral_gold"),
    (
        "alice",
        "ALTER RECIPIENT acpr SET PROPERTIES ('authority' = 'ACPR')",
    ),
    (
        "alice",
        "ALTER RECIPIENT acpr UNSET PROPERTIES ('authority')",
    ),
    (
        "alice",
        "ALTER RECIPIENT acpr SET IP ACCESS LIST ('192.0.2.7', '2001:db8::/32')",
    ),
    ("alice", "ALTER RECIPIENT acpr UNSET IP ACCESS LIST"),
    (
        "alice",
        "ALTER RECIPIENT acpr ROTATE TOKEN EXPIRE EXISTING IN '24h'",
    ),
    ("alice", "ALTER RECIPIENT acpr ROTATE TOKEN"),
    ("alice", "DESCRIBE RECIPIENT acpr"),
    ("alice", "ALTER RECIPIENT acpr REVOKE TOKENS"),
    ("alice", "DESCRIBE RECIPIENT acpr"),
    (
        "alice",
        "ALTER SHARE supervisors ALTER TABLE fire.exposures WITHOUT HISTORY",
    ),
    (
        "alice",
        "ALTER SHARE supervisors ALTER TABLE fire.exposures UNSET PARTITION",
    ),
    (
        "alice",
        "REVOKE SELECT ON SHARE supervisors FROM RECIPIENT bafin",
    ),
    (
        "alice",
        "CREATE STORAGE CREDENTIAL lake TYPE S3 WITH (access_key_id 'AKIAEXAMPLE', secret_access_key 'not-shown', region 'eu-west-1') COMMENT 'the lake'",
    ),
    ("alice", "DESCRIBE STORAGE CREDENTIAL lake"),
    ("alice", "SHOW STORAGE CREDENTIALS"),
    ("alice", "DROP STORAGE CREDENTIAL lake"),
    (
        "alice",
        "ALTER CATALOG SET FOUR EYES FOR GRANT, REVOKE PENDING LIFETIME '3d'",
    ),
    (
        "alice",
        "GRANT SELECT ON SHARE supervisors TO RECIPIENT bafin",
    ),
    (
        "alice",
        "REVOKE SELECT ON SHARE supervisors FROM RECIPIENT acpr",
    ),
    ("alice", "SHOW PENDING CHANGES"),
    ("alice", "APPROVE CHANGE 1"),
    ("bob", "APPROVE CHANGE 1"),
    ("bob", "REJECT CHANGE 2 COMMENT 'not now'"),
    ("alice", "SHOW PENDING CHANGES"),
    ("alice", "SHOW GRANTS ON SHARE supervisors"),
    ("alice", "ALTER CATALOG UNSET FOUR EYES"),
    ("alice", "SHOW ADMIN TOKENS"),
    (
        "alice",
        "ALTER SHARE supervisors REMOVE TABLE fire.exposures",
    ),
    ("alice", "ALTER SHARE supervisors REMOVE TABLE fire.nothing"),
    ("alice", "DROP RECIPIENT bafin"),
    ("alice", "DROP RECIPIENT IF EXISTS bafin"),
    ("alice", "DROP SHARE supervisors"),
    ("alice", "DROP TABLE fire.loan_gold"),
    ("alice", "SHOW TABLES"),
    (
        "alice",
        "SHOW ACCESS ON TABLE fire.collateral_gold AS OF '2020-01-01T00:00:00Z'",
    ),
];

/// The masked answers to [`SCRIPT`] on the demo's catalog, run by `data`'s commands.
fn answers(data: &Path) -> Vec<String> {
    let _demo = Server::run("demo", data);
    SCRIPT
        .iter()
        .map(|(admin, statement)| {
            let said = match run_sql(data, admin, statement) {
                Ok(results) => results.to_string(),
                Err(error) => format!("error: {error}"),
            };
            format!("{statement}\n  {}", masked(&said, data))
        })
        .collect()
}

#[test]
fn every_admin_statement_answers_on_postgres_as_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let on_sqlite = answers(&dir.path().join("sqlite"));
    let _postgres = on_new_postgres("parity");
    let on_postgres = answers(&dir.path().join("postgres"));
    let differ: Vec<String> = on_sqlite
        .iter()
        .zip(&on_postgres)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("SQLite:     {a}\nPostgreSQL: {b}"))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    // The script did what it says (not only the same wrong thing twice).
    let joined = on_postgres.join("\n");
    for expected in [
        "share supervisors already exists",
        "[\"acpr\",\"Supervisors\",\"fire.exposures\",\"(currency_code = 'EUR')\",\"TIME\"]",
        "approved change 1, proposed by alice",
        "change 2 (REVOKE SELECT ON SHARE supervisors FROM RECIPIENT acpr) is rejected",
        "dropped table fire.loan_gold",
    ] {
        assert!(joined.contains(expected), "{expected} not in:\n{joined}");
    }
    let mut answered = on_postgres.iter().filter_map(|a| a.split_once('\n'));
    assert!(
        answered.all(|(_, said)| !said.contains("not-shown")),
        "a secret was shown:\n{joined}"
    );
}

#[test]
fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let postgres = Postgres::start();
    let url = postgres.database("migrations");
    let dir = tempfile::tempdir().unwrap();
    let migrate = |n: usize| {
        let data = dir.path().join(format!("d{n}"));
        let url = url.clone();
        std::thread::spawn(move || {
            run_fireshare(&["migrate", "--database-url", &url], &data).unwrap()
        })
    };
    let said: Vec<String> = (0..4)
        .map(migrate)
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let applied = said.iter().filter(|s| s.starts_with("applied 1 ")).count();
    let nothing = said.iter().filter(|s| s.starts_with("applied 0 ")).count();
    assert_eq!((applied, nothing), (1, 3), "{said:?}");
    assert_eq!(
        postgres.psql("migrations", "SELECT count(*) FROM schema_migrations"),
        "1"
    );

    // A schema written by a newer fireshare: nothing starts on it.
    postgres.psql(
        "migrations",
        "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')",
    );
    on_database(&url);
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let said = run_fireshare(&serve, &dir.path().join("serve")).unwrap_err();
    assert!(
        said.contains("written by a newer fireshare (schema version 99"),
        "{said}"
    );
}

#[test]
fn the_ledgers_commands_work_on_postgres() {
    let _postgres = on_new_postgres("ledger");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::sql(
        &data,
        "CREATE SHARE s; CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r;",
    );
    let server = Server::start(&data);
    let token = common::bearer(&common::profile(&data, &server, "r", &[]));
    for _ in 0..20 {
        let listed = reqwest::blocking::Client::new()
            .get(format!("{}/shares", server.endpoint()))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(listed.status(), 200);
    }
    let audit = |args: &[&str]| {
        let args: Vec<&str> = std::iter::once("audit")
            .chain(args.iter().copied())
            .collect();
        run_fireshare(&args, &data).unwrap()
    };
    // A name PostgreSQL cannot hold is refused as bad input, not as a failure of the server.
    let nul = reqwest::blocking::Client::new()
        .get(format!("{}/shares/a%00b/schemas", server.endpoint()))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(nul.status(), 400, "{}", nul.text().unwrap());
    drop(server);
    assert_eq!(common::audit_events(&data, "listShares").len(), 20);
    assert!(audit(&["verify"]).starts_with("verified: events 1.."));
    let export = dir.path().join("export.ndjson");
    audit(&["export", export.to_str().unwrap()]);
    let checked = audit(&["verify", "--export", export.to_str().unwrap()]);
    assert!(checked.starts_with("verified"), "{checked}");
    let archive = dir.path().join("archive.ndjson");
    let moved = audit(&[
        "archive",
        "--before",
        "2100-01-01",
        archive.to_str().unwrap(),
    ]);
    assert!(moved.starts_with("moved events 1.."), "{moved}");
    assert!(audit(&["verify"]).starts_with("verified"));
    // Who could read, as of now, from the ledger's record of the catalog after the cut.
    let access = common::sql(
        &data,
        "SHOW ACCESS ON TABLE fire.none AS OF '2100-01-01T00:00:00Z'",
    );
    assert!(!access.contains("error"), "{access}");
}

#[test]
fn tls_to_the_database_checks_what_sslmode_says() {
    let dir = tempfile::tempdir().unwrap();
    common::server_certificate(dir.path(), "postgres");
    let postgres = Postgres::start();
    postgres.require_tls(
        &dir.path().join("postgres.pem"),
        &dir.path().join("postgres.key"),
    );
    let base = postgres.database("tls");
    let ca = dir.path().join("ca.pem");
    let other_ca = dir.path().join("other");
    std::fs::create_dir(&other_ca).unwrap();
    common::server_certificate(&other_ca, "unused");
    // `fireshare migrate` reaching the database at `url` (the cluster's, renamed) with `query`.
    let migrate = |url: &str, query: &str| {
        let url = format!("{url}?{query}");
        let args = [
            "migrate",
            "--database-connect-timeout",
            "3s",
            "--database-url",
            &url,
        ];
        run_fireshare(&args, &dir.path().join("data"))
    };
    let cases = [
        ("sslmode=disable".to_string(), false),
        ("sslmode=require".to_string(), true),
        (
            format!("sslmode=verify-full&sslrootcert={}", ca.display()),
            true,
        ),
        (
            format!(
                "sslmode=verify-full&sslrootcert={}",
                other_ca.join("ca.pem").display()
            ),
            false,
        ),
    ];
    for (query, works) in cases {
        match migrate(&base, &query) {
            Ok(_) => assert!(works, "{query} connected"),
            Err(said) => {
                assert!(!works, "{query}: {said}");
                assert!(said.contains("the database cannot be reached"), "{said}");
            }
        }
    }
    // The certificate names 127.0.0.1, not localhost: only verify-ca lets that pass.
    let by_name = base.replace("127.0.0.1", "localhost");
    let root = format!("sslrootcert={}", ca.display());
    assert!(migrate(&by_name, &format!("sslmode=verify-ca&{root}")).is_ok());
    assert!(migrate(&by_name, &format!("sslmode=verify-full&{root}")).is_err());
}
