//! The web console in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven by Python selenium from the suite's venv) against a real `fireshare serve`: an admin
//! onboards a regulator who reads with the real connector, a FIRE version held back is
//! approved, the ledger is searched, exported and verified; an auditor reads everything and
//! writes nothing; forged forms and dead sessions are refused. Screenshots of each page land in
//! `target/console-screenshots/`.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

#[test]
fn admins_and_auditors_work_through_the_console_in_a_browser() {
    let Some(shared) = common::shared_dir(&["fire/schemas"]) else {
        return;
    };
    assert!(
        Path::new(CHROMEDRIVER).is_file(),
        "the console suite needs Chromium and its driver: apt-get install chromium chromium-driver \
         (.ci/run installs them)"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fireshare = env!("CARGO_BIN_EXE_fireshare");
    let out = common::fireshare()
        .args(["sql", "--data-dir"])
        .arg(&data)
        .arg("--fire-schemas")
        .arg(shared.join("fire/schemas"))
        .arg("SHOW FIRE SCHEMAS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = common::admin_token(&data, "admin", "alice");
    let auditor = common::admin_token(&data, "auditor", "audrey");
    let bob = common::admin_token(&data, "admin", "bob");
    let server = common::Server::run_with("serve", &data, &["--fire-poll", "1s"]);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let (table, downloads) = (dir.path().join("collateral"), dir.path().join("downloads"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/console.py");
    // Bounded in time: a browser that hangs fails the test instead of the run.
    let run = Command::new("timeout")
        .args(["--kill-after=10", "300"])
        .arg(common::python())
        .arg(&script)
        .args([&server.url(""), &admin, &auditor, &bob, fireshare])
        .args([&data, &table, &downloads, &shots])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "console.py failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}\n--- server\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr),
        server.log_text()
    );
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    let text = |key: &str| seen[key].as_str().unwrap_or_default().to_string();

    assert!(text("wrong_token").contains("not valid"), "{seen}");
    assert!(
        text("created_table").contains("created table fire.collateral"),
        "{seen}"
    );
    assert!(
        text("added_table").contains("added table fire.collateral"),
        "{seen}"
    );
    assert!(text("duplicate_share").contains("already exists"), "{seen}");
    assert!(
        text("granted").contains("granted SELECT on share reports"),
        "{seen}"
    );
    // Read through the profile the page's link downloaded: every row while unbound, version
    // 0 while version 1 (90% < 95%) is held back, version 1 once approved, nothing revoked.
    assert_eq!(seen["rows_unbound"], 200, "{seen}");
    assert_eq!(
        seen["chart_points"], 2,
        "one point per validated version: {seen}"
    );
    assert_eq!(seen["held_points"], 1, "{seen}");
    assert_eq!(seen["served_marks"], 1, "{seen}");
    assert_eq!(seen["threshold_lines"], 1, "{seen}");
    assert_eq!(seen["rows_held_back"], 100, "{seen}");
    assert_eq!(seen["overview_held"][0], "fire.collateral", "{seen}");
    assert!(
        text("approved").contains("version 1 of fire.collateral approved by alice"),
        "{seen}"
    );
    assert_eq!(seen["rows_approved"], 200, "{seen}");
    let revoked = text("rows_revoked");
    assert!(
        revoked.starts_with("refused") && revoked.contains("401"),
        "{seen}"
    );

    assert!(text("receipt").contains("verified"), "{seen}");
    assert_eq!(
        seen["csv_header"],
        json!(["seq", "time", "request_id", "actor_kind", "actor_name"])
    );
    assert!(seen["csv_rows"].as_u64().unwrap() >= 3, "{seen}");
    assert_eq!(seen["csv_actions"], json!(["queryTable"]), "{seen}");
    assert!(text("verified").starts_with("verified:"), "{seen}");

    for (page, answer) in seen["headers"].as_object().unwrap() {
        assert_eq!(answer[0], 200, "{page}: {answer}");
        let csp = answer[1].as_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{page}: {csp}"
        );
        assert_eq!(answer[2], "DENY", "{page}");
    }
    assert_eq!(seen["post_without_csrf"], 403, "{seen}");
    assert_eq!(seen["post_with_forged_csrf"], 403, "{seen}");

    for (page, forms) in seen["auditor_write_forms"].as_object().unwrap() {
        assert_eq!(forms, &json!([]), "an auditor got write controls on {page}");
    }
    assert_eq!(seen["auditor_crafted_post"], 403, "{seen}");
    assert_eq!(seen["auditor_share_made"], false, "{seen}");
    assert!(text("revoked_session").contains("revoked"), "{seen}");
    assert_eq!(seen["signed_out_at"], "/console/sign-in", "{seen}");
    assert_eq!(seen["after_sign_out"], 401, "{seen}");

    // The ledger names the signed-in token holders: each change with its statement, the
    // auditor's crafted write as refused.
    let by = |action: &str| -> Vec<Value> { common::audit_events(&data, action) };
    for (action, statement) in [
        ("createShare", "CREATE SHARE `reports`"),
        ("addTableToShare", "ALTER SHARE `reports` ADD TABLE"),
        ("createRecipient", "CREATE RECIPIENT `regulator`"),
        (
            "grant",
            "GRANT SELECT ON SHARE `reports` TO RECIPIENT `regulator`",
        ),
        ("approveVersion", "APPROVE VERSION 1"),
        ("revokeTokens", "REVOKE TOKENS"),
    ] {
        let events = by(action);
        let event = events
            .iter()
            .find(|e| e["status"] == 200)
            .unwrap_or_else(|| panic!("no {action}: {events:?}"));
        assert_eq!(event["actor"]["name"], "alice", "{event}");
        let recorded = event["statements"][0]["statement"].as_str().unwrap();
        assert!(recorded.contains(statement), "{recorded}");
    }
    let refused = by("consoleAction");
    assert!(
        refused
            .iter()
            .any(|e| e["actor"]["name"] == "audrey" && e["status"] == 403),
        "the auditor's crafted write is not recorded as refused: {refused:?}"
    );
    let signed_in = by("signInConsole");
    let names: Vec<&str> = signed_in
        .iter()
        .filter(|e| e["status"] == 303)
        .filter_map(|e| e["actor"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"alice") && names.contains(&"audrey") && names.contains(&"bob"),
        "{names:?}"
    );
    let verify = common::fireshare()
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // Every page was photographed for a person to look at.
    for page in [
        "overview",
        "shares",
        "share",
        "recipients",
        "recipient",
        "recipient-created",
        "tables",
        "table",
        "audit",
        "audit-event",
        "credentials",
        "auditor-shares",
    ] {
        assert!(
            shots.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }
}
