use super::*;
use crate::admin::results_json;
use crate::clock::now_ms;

const SEED: &str = "
        CREATE TABLE fire.collateral_gold USING DELTA LOCATION '/data/collateral';
        CREATE SHARE regulatory_reports COMMENT 'FIRE reports';
        ALTER SHARE regulatory_reports ADD TABLE fire.collateral_gold AS fire.collateral WITH HISTORY;
        CREATE RECIPIENT regulatory_body COMMENT 'the regulator';
        GRANT SELECT ON SHARE regulatory_reports TO RECIPIENT regulatory_body;";

fn context(role: Role) -> Context<'static> {
    static STORES: std::sync::LazyLock<Stores> = std::sync::LazyLock::new(Stores::for_tests);
    static DELTA: std::sync::LazyLock<DeltaLog> = std::sync::LazyLock::new(DeltaLog::new);
    Context {
        role,
        base_dir: Path::new("/work"),
        public_url: "https://share.example",
        activation_ttl: Duration::from_secs(3600),
        delta: &DELTA,
        stores: &STORES,
        trail: None,
        who: None,
        admin: None,
        max_output: None,
    }
}

fn run(catalog: &Catalog, sql: &str) -> Result<Vec<StatementResult>> {
    execute_script(catalog, sql, &context(Role::Admin))
}

#[test]
fn admin_tokens_are_listed_and_revoked() {
    use crate::auth::{TokenCache, authenticate_admin, issue_admin_token};
    let catalog = Catalog::open_in_memory().unwrap();
    let issued = issue_admin_token(&catalog, "ops", Role::Admin, None).unwrap();
    let header = format!("Bearer {}", issued.token);
    let listed = execute_script(&catalog, "SHOW ADMIN TOKENS", &context(Role::Auditor))
        .unwrap()
        .remove(0);
    let shown_prefix = listed.rows[0][0].clone();
    assert_eq!(listed.rows[0][1..3], ["ops", "admin"]);
    assert_eq!(listed.rows[0][5], "live");
    assert!(
        execute_script(
            &catalog,
            &format!("REVOKE ADMIN TOKEN '{shown_prefix}'"),
            &context(Role::Auditor)
        )
        .is_err(),
        "auditors change nothing"
    );
    run(&catalog, &format!("REVOKE ADMIN TOKEN '{shown_prefix}'")).unwrap();
    assert!(authenticate_admin(&catalog, &TokenCache::default(), Some(&header)).is_err());
    assert!(
        run(&catalog, &format!("REVOKE ADMIN TOKEN '{shown_prefix}'")).is_err(),
        "already revoked"
    );
}

#[test]
fn recipients_are_listed() {
    let catalog = Catalog::open_in_memory().unwrap();
    run(&catalog, SEED).unwrap();
    let shown = run(&catalog, "SHOW RECIPIENTS").unwrap().remove(0);
    assert_eq!(shown.rows[0][0], "regulatory_body");
}

#[test]
fn auditors_only_read() {
    let catalog = Catalog::open_in_memory().unwrap();
    run(&catalog, SEED).unwrap();
    let as_auditor = |sql| execute_script(&catalog, sql, &context(Role::Auditor));
    assert_eq!(
        as_auditor("SHOW SHARES; SHOW GRANTS ON SHARE regulatory_reports")
            .unwrap()
            .len(),
        2
    );
    let e = as_auditor("SHOW SHARES; DROP SHARE regulatory_reports").unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::PermissionDenied);
    assert!(e.message().contains("DROP SHARE regulatory_reports"), "{e}");
    assert_eq!(
        run(&catalog, "SHOW SHARES").unwrap()[0].rows.len(),
        1,
        "nothing was dropped"
    );
    let json = results_json(&run(&catalog, "SHOW SHARES").unwrap());
    assert_eq!(json["results"][0]["columns"][0], "name");
    assert_eq!(json["results"][0]["rows"][0][0], "regulatory_reports");
}

#[test]
fn seed_statements_build_a_share() {
    let catalog = Catalog::open_in_memory().unwrap();
    run(&catalog, SEED).unwrap();
    let all = run(&catalog, "SHOW ALL IN SHARE Regulatory_Reports").unwrap();
    assert_eq!(
        all[0].rows[0][1..5],
        ["fire.collateral_gold", "fire.collateral", "yes", "0"]
    );
    run(
        &catalog,
        "ALTER SHARE regulatory_reports ALTER TABLE fire.collateral WITH HISTORY START VERSION 4",
    )
    .unwrap();
    let all = run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap();
    assert_eq!(all[0].rows[0][3..5], ["yes", "4"]);
    let grants = run(&catalog, "show grants to recipient REGULATORY_BODY").unwrap();
    assert_eq!(
        grants[0].rows[0][..3],
        ["regulatory_body", "SELECT", "regulatory_reports"]
    );
    let text = run(&catalog, "SHOW TABLES").unwrap()[0].render();
    assert!(text.starts_with("schema | name "), "{text}");
    assert!(text.contains("file:///data/collateral/"), "{text}");
    run(
        &catalog,
        "REVOKE SELECT ON SHARE regulatory_reports FROM RECIPIENT regulatory_body",
    )
    .unwrap();
    assert!(
        run(&catalog, "SHOW GRANTS ON SHARE regulatory_reports").unwrap()[0]
            .rows
            .is_empty()
    );
    run(
        &catalog,
        "ALTER SHARE regulatory_reports REMOVE TABLE fire.collateral_gold",
    )
    .unwrap();
    assert!(
        run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap()[0]
            .rows
            .is_empty()
    );
}

#[test]
fn a_failing_statement_names_itself_and_nothing_of_its_script_is_applied() {
    let catalog = Catalog::open_in_memory().unwrap();
    let e = run(
        &catalog,
        "CREATE SHARE a; CREATE SHARE b; GRANT SELECT ON SHARE a TO RECIPIENT nobody",
    )
    .unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::ResourceDoesNotExist);
    assert!(
        e.message()
            .contains("statement 3 of 3 failed (so none of the script was applied)"),
        "{e}"
    );
    assert!(
        e.message().contains("recipient nobody does not exist"),
        "{e}"
    );
    assert!(run(&catalog, "SHOW SHARES").unwrap()[0].rows.is_empty());
    run(&catalog, "CREATE SHARE a").unwrap();
    let e = run(&catalog, "CREATE SHARE a").unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::ResourceAlreadyExists);
    assert!(
        run(
            &catalog,
            "CREATE SHARE IF NOT EXISTS a; DROP SHARE IF EXISTS zzz"
        )
        .is_ok()
    );
    let e = run(&catalog, "CREATE SHARE").unwrap_err();
    assert!(e.message().starts_with("syntax error: "), "{e}");
}

#[test]
fn dropping_cascades() {
    let catalog = Catalog::open_in_memory().unwrap();
    run(&catalog, SEED).unwrap();
    run(&catalog, "DROP TABLE fire.collateral_gold").unwrap();
    assert!(
        run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap()[0]
            .rows
            .is_empty()
    );
    run(&catalog, "DROP RECIPIENT regulatory_body").unwrap();
    assert!(
        run(&catalog, "SHOW GRANTS ON SHARE regulatory_reports").unwrap()[0]
            .rows
            .is_empty()
    );
    let e = run(&catalog, "DROP RECIPIENT regulatory_body").unwrap_err();
    assert_eq!(e.code(), crate::ErrorCode::ResourceDoesNotExist);
}

#[test]
fn rotation_keeps_two_live_tokens_at_most_and_revocation_stops_all() {
    use crate::auth::{Activated, activate, authenticate, issue_token};
    let catalog = Catalog::open_in_memory().unwrap();
    run(&catalog, SEED).unwrap();
    let live = |token: &str| {
        authenticate(
            &catalog,
            &crate::auth::TokenCache::default(),
            Some(&format!("Bearer {token}")),
            None,
        )
        .is_ok()
    };
    let rotate = |sql: &str| {
        let result = run(&catalog, sql).unwrap().remove(0);
        assert_eq!(result.columns, ["status", "activation_url", "expires"]);
        let url = result.rows[0][1].clone();
        let code = url
            .strip_prefix("https://share.example/activate/")
            .unwrap()
            .to_string();
        match catalog.write(|tx| activate(tx, &code, None)).unwrap() {
            Activated::Token { token, .. } => (code, token.token),
            Activated::Refused(why) => panic!("{why:?}"),
        }
    };
    let first = issue_token(&catalog, "regulatory_body", None)
        .unwrap()
        .token;
    let (code, second) =
        rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'");
    assert!(
        live(&first) && live(&second),
        "the old token lives through the grace period"
    );
    assert!(matches!(
        catalog.write(|tx| activate(tx, &code, None)).unwrap(),
        Activated::Refused(catalog::Activation::UsedAt(_))
    ));
    let (_, third) = rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'");
    assert!(
        !live(&first) && live(&second) && live(&third),
        "two live tokens at most"
    );
    let (_, fourth) = rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN");
    assert!(
        !live(&second) && !live(&third) && live(&fourth),
        "no grace: the old ones stop now"
    );

    // A new link withdraws an unused one; REVOKE TOKENS stops every token and link.
    let unused = run(
        &catalog,
        "ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'",
    )
    .unwrap();
    let status =
        &run(&catalog, "ALTER RECIPIENT regulatory_body REVOKE TOKENS").unwrap()[0].rows[0][0];
    assert!(
        status.starts_with("revoked 1 token of regulatory_body and withdrew 1"),
        "{status}"
    );
    assert!(!live(&fourth));
    let code = unused[0].rows[0][1].rsplit('/').next().unwrap();
    assert!(matches!(
        catalog.write(|tx| activate(tx, code, None)).unwrap(),
        Activated::Refused(catalog::Activation::Withdrawn)
    ));

    let described = run(&catalog, "DESCRIBE RECIPIENT regulatory_body")
        .unwrap()
        .remove(0);
    let kinds: Vec<&str> = described.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "token").count(), 4);
    // One from CREATE RECIPIENT, four from the rotations.
    assert_eq!(kinds.iter().filter(|k| **k == "activation link").count(), 5);
    assert!(kinds.contains(&"grant"));
    assert!(
        described
            .rows
            .iter()
            .all(|r| r[0] != "token" || r[5].starts_with("revoked") || r[5] == "expired"),
        "no token is live after REVOKE TOKENS: {:?}",
        described.rows
    );
}

#[test]
fn token_lifetime_applies_to_issued_tokens() {
    let catalog = Catalog::open_in_memory().unwrap();
    let created = run(&catalog, "CREATE RECIPIENT r TOKEN LIFETIME '90d'")
        .unwrap()
        .remove(0);
    assert!(created.rows[0][1].starts_with("https://share.example/activate/fsl_"));
    let token = crate::auth::issue_token(&catalog, "r", None).unwrap();
    let expires = token.expires_at.unwrap() - now_ms();
    assert!(
        (89 * 86_400_000..=90 * 86_400_000).contains(&expires),
        "{expires}"
    );
    let described = run(&catalog, "DESCRIBE RECIPIENT r").unwrap().remove(0);
    assert_eq!(described.rows[0][5], "tokens live 90d");
    assert_eq!(
        run(&catalog, "CREATE RECIPIENT IF NOT EXISTS r").unwrap()[0].rows[0][0],
        "recipient exists, nothing done"
    );
}

#[test]
fn an_approved_credential_keeps_the_secrets_its_proposal_sealed() {
    let catalog = Catalog::open_in_memory().unwrap();
    let as_admin = |name: &'static str, sql: &str| {
        let context = Context {
            admin: Some(name),
            who: Some(name),
            ..context(Role::Admin)
        };
        execute_script(&catalog, sql, &context)
    };
    run(
        &catalog,
        "ALTER CATALOG SET FOUR EYES FOR CREATE STORAGE CREDENTIAL",
    )
    .unwrap();
    let proposed = as_admin(
        "alice",
        "CREATE STORAGE CREDENTIAL s3 TYPE S3 WITH (access_key_id 'AKIA1', secret_access_key 'hush', region 'eu-west-1')",
    )
    .unwrap();
    assert!(proposed[0].rows[0][0].starts_with("pending change 1"));
    // Neither the listing nor the ledger's record of the proposal shows the secret.
    let pending = run(&catalog, "SHOW PENDING CHANGES").unwrap();
    assert!(!format!("{pending:?}").contains("hush"), "{pending:?}");
    assert!(!proposed[0].audit_record().to_string().contains("hush"));
    assert!(
        catalog
            .read(|tx| tx.find_credential("s3"))
            .unwrap()
            .is_none()
    );
    as_admin("bob", "APPROVE CHANGE 1").unwrap();
    let info = catalog.read(|tx| tx.require_credential("s3")).unwrap();
    let sealed = catalog.read(|tx| tx.sealed_credential(&info.id)).unwrap();
    let opened = context(Role::Admin).stores.vault().unseal(sealed).unwrap();
    assert_eq!(opened.secret["secret_access_key"], "hush");
}
