use std::time::Duration;

use super::*;

fn table(schema: &str, table: &str) -> TableName {
    TableName {
        schema: schema.to_string(),
        table: table.to_string(),
    }
}

fn one(sql: &str) -> Statement {
    let mut statements = parse(sql).unwrap_or_else(|e| panic!("{sql:?} failed: {e}"));
    assert_eq!(statements.len(), 1, "{sql:?}");
    statements.remove(0)
}

fn error(sql: &str) -> ParseError {
    match parse(sql) {
        Ok(statements) => panic!("{sql:?} parsed as {statements:?}"),
        Err(e) => e,
    }
}

#[test]
fn seed_statements() {
    let script = "\
CREATE TABLE fire.collateral_gold USING DELTA LOCATION '/data/collateral';
CREATE SHARE regulatory_reports COMMENT 'FIRE reports';
ALTER SHARE regulatory_reports ADD TABLE fire.collateral_gold AS fire.collateral WITH HISTORY;
ALTER SHARE regulatory_reports REMOVE TABLE fire.collateral_gold;
CREATE RECIPIENT regulatory_body COMMENT 'the regulator';
GRANT SELECT ON SHARE regulatory_reports TO RECIPIENT regulatory_body;
REVOKE SELECT ON SHARE regulatory_reports FROM RECIPIENT regulatory_body;
";
    let share = || "regulatory_reports".to_string();
    let recipient = || "regulatory_body".to_string();
    assert_eq!(
        parse(script).unwrap(),
        vec![
            Statement::CreateTable {
                name: table("fire", "collateral_gold"),
                location: "/data/collateral".into(),
                credential: TableCredential::None,
                comment: None,
                if_not_exists: false,
            },
            Statement::CreateShare {
                name: share(),
                comment: Some("FIRE reports".into()),
                if_not_exists: false,
            },
            Statement::AddTableToShare {
                comment: None,
                partition: None,
                share: share(),
                table: table("fire", "collateral_gold"),
                alias: Some(table("fire", "collateral")),
                with_history: true,
                start_version: None,
            },
            Statement::RemoveTableFromShare {
                share: share(),
                table: table("fire", "collateral_gold"),
            },
            Statement::CreateRecipient {
                properties: Vec::new(),
                name: recipient(),
                comment: Some("the regulator".into()),
                token_lifetime: None,
                ip_access_list: None,
                oauth: false,
                if_not_exists: false,
            },
            Statement::Grant {
                share: share(),
                recipient: recipient(),
            },
            Statement::Revoke {
                share: share(),
                recipient: recipient(),
            },
        ]
    );
    // Each seed statement also parses on its own, verbatim.
    for line in script.lines() {
        assert_eq!(parse(line).unwrap().len(), 1, "{line}");
    }
}

#[test]
fn create_table_with_all_options() {
    assert_eq!(
        one("CREATE TABLE IF NOT EXISTS s.t USING DELTA LOCATION 's3://b/p' COMMENT 'c'"),
        Statement::CreateTable {
            name: table("s", "t"),
            location: "s3://b/p".into(),
            credential: TableCredential::None,
            comment: Some("c".into()),
            if_not_exists: true,
        }
    );
}

#[test]
fn create_share_and_recipient() {
    assert_eq!(
        one("CREATE SHARE IF NOT EXISTS s"),
        Statement::CreateShare {
            name: "s".into(),
            comment: None,
            if_not_exists: true,
        }
    );
    assert_eq!(
        one("CREATE RECIPIENT r"),
        Statement::CreateRecipient {
            properties: Vec::new(),
            name: "r".into(),
            comment: None,
            token_lifetime: None,
            ip_access_list: None,
            oauth: false,
            if_not_exists: false,
        }
    );
    assert_eq!(
        one("CREATE RECIPIENT IF NOT EXISTS r COMMENT ''"),
        Statement::CreateRecipient {
            properties: Vec::new(),
            name: "r".into(),
            comment: Some(String::new()),
            token_lifetime: None,
            ip_access_list: None,
            oauth: false,
            if_not_exists: true,
        }
    );
}

#[test]
fn add_table_options() {
    let add = |alias: Option<TableName>, with_history| Statement::AddTableToShare {
        comment: None,
        partition: None,
        share: "sh".into(),
        table: table("s", "t"),
        alias,
        with_history,
        start_version: None,
    };
    assert_eq!(one("ALTER SHARE sh ADD TABLE s.t"), add(None, false));
    assert_eq!(
        one("ALTER SHARE sh ADD TABLE s.t AS a.b"),
        add(Some(table("a", "b")), false)
    );
    assert_eq!(
        one("ALTER SHARE sh ADD TABLE s.t WITH HISTORY"),
        add(None, true)
    );
    let Statement::AddTableToShare { start_version, .. } =
        one("alter share sh add table s.t with history start version 5")
    else {
        panic!("not an ADD TABLE");
    };
    assert_eq!(start_version, Some(5));
    assert_eq!(
        one("ALTER SHARE sh ALTER TABLE s.t WITHOUT HISTORY"),
        Statement::AlterTableInShare {
            share: "sh".into(),
            table: table("s", "t"),
            with_history: false,
            start_version: None,
        }
    );
    let e = error("ALTER SHARE sh ADD TABLE s.t WITH HISTORY START VERSION x");
    assert_eq!(
        e.message,
        "expected a version number after VERSION, found identifier 'x'"
    );
    let e = error("ALTER SHARE sh ADD TABLE s.t START VERSION 3");
    assert!(e.message.starts_with("expected ';' or end of input"), "{e}");
}

#[test]
fn drop_statements() {
    assert_eq!(
        one("DROP TABLE s.t"),
        Statement::DropTable {
            name: table("s", "t"),
            if_exists: false,
        }
    );
    assert_eq!(
        one("DROP TABLE IF EXISTS s.t"),
        Statement::DropTable {
            name: table("s", "t"),
            if_exists: true,
        }
    );
    assert_eq!(
        one("DROP SHARE IF EXISTS sh"),
        Statement::Drop {
            kind: ObjectKind::Share,
            name: "sh".into(),
            if_exists: true,
        }
    );
    assert_eq!(
        one("DROP RECIPIENT r"),
        Statement::Drop {
            kind: ObjectKind::Recipient,
            name: "r".into(),
            if_exists: false,
        }
    );
}

#[test]
fn show_statements() {
    assert_eq!(
        parse("SHOW TABLES; SHOW SHARES; SHOW RECIPIENTS; SHOW ALL IN SHARE a; SHOW GRANTS ON SHARE b; SHOW GRANTS TO RECIPIENT c").unwrap(),
        vec![
            Statement::ShowTables,
            Statement::ShowShares,
            Statement::ShowRecipients,
            Statement::ShowAllInShare { share: "a".into() },
            Statement::ShowGrantsOnShare { share: "b".into() },
            Statement::ShowGrantsToRecipient {
                recipient: "c".into()
            },
        ]
    );
}

#[test]
fn table_properties_are_set_and_unset() {
    let table = TableName {
        schema: "fire".into(),
        table: "collateral_gold".into(),
    };
    assert_eq!(
        parse("ALTER TABLE fire.collateral_gold SET TBLPROPERTIES ('fire.entity' = 'collateral', 'fire.min_pass_rate' = '0.95')").unwrap(),
        vec![Statement::SetTableProperties {
            table: table.clone(),
            properties: vec![
                ("fire.entity".into(), "collateral".into()),
                ("fire.min_pass_rate".into(), "0.95".into())
            ],
        }]
    );
    assert_eq!(
        parse("alter table fire.collateral_gold unset tblproperties ('fire.entity')").unwrap(),
        vec![Statement::UnsetTableProperties {
            table,
            keys: vec!["fire.entity".into()],
        }]
    );
    assert!(parse("ALTER TABLE fire.t SET TBLPROPERTIES ('a')").is_err());
    assert!(matches!(
        parse("ALTER TABLE fire.t APPROVE VERSION 7 COMMENT 'checked by hand'").unwrap()[..],
        [Statement::DecideVersion {
            version: 7,
            approved: true,
            comment: Some(_),
            ..
        }]
    ));
    assert!(matches!(
        parse("ALTER TABLE fire.t REJECT VERSION 7").unwrap()[..],
        [Statement::DecideVersion {
            approved: false,
            ..
        }]
    ));
}

#[test]
fn fire_statements_parse() {
    assert_eq!(
        parse("SHOW FIRE SCHEMAS").unwrap(),
        vec![Statement::ShowFireSchemas]
    );
    assert_eq!(
        parse("show expectations for entity collateral").unwrap(),
        vec![Statement::ShowExpectations {
            entity: "collateral".into()
        }]
    );
    assert!(parse("SHOW EXPECTATIONS collateral").is_err());
    assert!(matches!(
        parse("SHOW QUALITY FOR TABLE fire.c VERSION 3").unwrap()[..],
        [Statement::ShowQuality {
            version: Some(3),
            ..
        }]
    ));
    assert!(matches!(
        parse("DESCRIBE HISTORY fire.c").unwrap()[..],
        [Statement::DescribeHistory { .. }]
    ));
}

#[test]
fn show_access_takes_a_table_and_an_optional_time() {
    assert_eq!(
        parse("show access on table fire.loans as of '2026-11-01T00:00:00Z'").unwrap(),
        vec![Statement::ShowAccess {
            table: TableName {
                schema: "fire".into(),
                table: "loans".into()
            },
            as_of: Some("2026-11-01T00:00:00Z".into()),
        }]
    );
    assert!(matches!(
        parse("SHOW ACCESS ON TABLE fire.loans").unwrap()[..],
        [Statement::ShowAccess { as_of: None, .. }]
    ));
    assert!(parse("SHOW ACCESS ON TABLE fire.loans AS '2026'").is_err());
}

#[test]
fn keywords_are_case_insensitive_and_names_keep_their_case() {
    assert_eq!(
        one("create share X"),
        Statement::CreateShare {
            name: "X".into(),
            comment: None,
            if_not_exists: false,
        }
    );
    assert_eq!(
        one("Grant Select On Share MyShare tO rEcIpIeNt Bob"),
        Statement::Grant {
            share: "MyShare".into(),
            recipient: "Bob".into(),
        }
    );
    assert_eq!(
        one("drop table if exists Fire.Gold"),
        Statement::DropTable {
            name: table("Fire", "Gold"),
            if_exists: true,
        }
    );
}

#[test]
fn keywords_are_not_reserved() {
    assert_eq!(
        one("CREATE SHARE comment COMMENT 'named comment'"),
        Statement::CreateShare {
            name: "comment".into(),
            comment: Some("named comment".into()),
            if_not_exists: false,
        }
    );
    assert_eq!(
        one("DROP TABLE delta.table"),
        Statement::DropTable {
            name: table("delta", "table"),
            if_exists: false,
        }
    );
}

#[test]
fn back_quoted_names() {
    assert_eq!(
        one("CREATE SHARE `my-share`"),
        Statement::CreateShare {
            name: "my-share".into(),
            comment: None,
            if_not_exists: false,
        }
    );
    assert_eq!(
        one("CREATE RECIPIENT `we``ird`"),
        Statement::CreateRecipient {
            properties: Vec::new(),
            name: "we`ird".into(),
            comment: None,
            token_lifetime: None,
            ip_access_list: None,
            oauth: false,
            if_not_exists: false,
        }
    );
    // A quoted keyword is a name, even where a keyword could appear.
    assert_eq!(
        one("DROP SHARE `if`"),
        Statement::Drop {
            kind: ObjectKind::Share,
            name: "if".into(),
            if_exists: false,
        }
    );
    // Dots are fine in one-part names.
    assert_eq!(
        one("SHOW ALL IN SHARE `v1.2`"),
        Statement::ShowAllInShare {
            share: "v1.2".into()
        }
    );
    assert_eq!(
        one("ALTER SHARE `a-b` ADD TABLE `my-schema`.`my``t``` AS `2024`.x"),
        Statement::AddTableToShare {
            comment: None,
            partition: None,
            share: "a-b".into(),
            table: table("my-schema", "my`t`"),
            alias: Some(table("2024", "x")),
            with_history: false,
            start_version: None,
        }
    );
}

#[test]
fn string_literals_unescape_doubled_quotes() {
    assert_eq!(
        one("CREATE SHARE s COMMENT 'it''s the ''gold'' layer -- not a comment; really'"),
        Statement::CreateShare {
            name: "s".into(),
            comment: Some("it's the 'gold' layer -- not a comment; really".into()),
            if_not_exists: false,
        }
    );
    assert_eq!(
        one("CREATE TABLE s.t USING DELTA LOCATION '/data/o''brien'"),
        Statement::CreateTable {
            name: table("s", "t"),
            location: "/data/o'brien".into(),
            credential: TableCredential::None,
            comment: None,
            if_not_exists: false,
        }
    );
}

#[test]
fn scripts_with_comments_and_empty_statements() {
    let script = "
-- set up the share
;;CREATE SHARE s; -- trailing comment
  SHOW
    -- in the middle
    SHARES ;

SHOW TABLES;;
-- done";
    assert_eq!(
        parse_with_text(script).unwrap(),
        vec![
            (
                Statement::CreateShare {
                    name: "s".into(),
                    comment: None,
                    if_not_exists: false,
                },
                "CREATE SHARE s".to_string()
            ),
            (
                Statement::ShowShares,
                "SHOW\n    -- in the middle\n    SHARES".to_string()
            ),
            (Statement::ShowTables, "SHOW TABLES".to_string()),
        ]
    );
    // A comment on the last line needs no newline; no final `;` is needed either.
    assert_eq!(
        parse("SHOW SHARES -- the end").unwrap(),
        vec![Statement::ShowShares]
    );
    assert_eq!(parse("SHOW TABLES").unwrap(), vec![Statement::ShowTables]);
}

#[test]
fn empty_scripts() {
    for sql in ["", "   \n\t", ";", " ; ;; ", "-- nothing\n-- at all"] {
        assert_eq!(parse(sql).unwrap(), vec![], "{sql:?}");
    }
}

#[test]
fn table_name_display() {
    assert_eq!(table("fire", "gold").to_string(), "fire.gold");
}

#[test]
fn missing_location_string() {
    let e = error("CREATE TABLE s.t USING DELTA LOCATION;");
    assert_eq!(
        e.message,
        "expected a string literal after LOCATION, found ';'"
    );
    assert_eq!((e.offset, e.line, e.column), (37, 1, 38));

    let e = error("CREATE TABLE s.t USING DELTA LOCATION");
    assert_eq!(
        e.message,
        "expected a string literal after LOCATION, found end of input"
    );
    assert_eq!((e.line, e.column), (1, 38));

    let e = error("CREATE TABLE s.t USING DELTA");
    assert_eq!(
        e.message,
        "expected keyword LOCATION after DELTA, found end of input"
    );

    let e = error("CREATE TABLE s.t USING DELTA LOCATION ''");
    assert_eq!(e.message, "the string after LOCATION must not be empty");
    assert_eq!(e.column, 39);
}

#[test]
fn table_names_need_exactly_two_parts() {
    let e = error("CREATE TABLE collateral USING DELTA LOCATION '/x'");
    assert_eq!(
        e.message,
        "expected a two-part table name schema.table after TABLE, found 'collateral'"
    );
    assert_eq!((e.line, e.column), (1, 14));

    let e = error("ALTER SHARE s ADD TABLE a.b AS\n  c.d.e");
    assert_eq!(
        e.message,
        "expected a two-part table name schema.table after AS, found 'c.d.e'"
    );
    assert_eq!((e.line, e.column), (2, 3));

    let e = error("DROP TABLE IF EXISTS a.;");
    assert_eq!(e.message, "expected a table name after '.', found ';'");

    let e = error("DROP TABLE `a.b`.c");
    assert_eq!(
        e.message,
        "schema and table names must not contain '.', found `a.b`"
    );
    assert_eq!(e.column, 12);
}

#[test]
fn share_url_lifetime() {
    assert_eq!(
        one("ALTER SHARE s SET URL LIFETIME '15m'"),
        Statement::SetShareUrlLifetime {
            share: "s".into(),
            lifetime: Some(Duration::from_secs(900)),
        }
    );
    assert_eq!(
        one("alter share s unset url lifetime"),
        Statement::SetShareUrlLifetime {
            share: "s".into(),
            lifetime: None,
        }
    );
    assert!(
        error("ALTER SHARE s SET URL LIFETIME 'soon'")
            .message
            .contains("not a duration")
    );
}

#[test]
fn storage_credentials_and_cloud_tables() {
    let sql = "CREATE STORAGE CREDENTIAL IF NOT EXISTS prod_s3 TYPE S3 WITH (access_key_id 'AKIA1', \
                   secret_access_key = 'wJalr''XUtn', region 'eu-west-1') COMMENT 'prod'";
    let parsed = parse_with_text(sql).unwrap();
    assert_eq!(
        parsed[0].0,
        Statement::CreateStorageCredential {
            name: "prod_s3".into(),
            kind: "S3".into(),
            options: vec![
                ("access_key_id".into(), "AKIA1".into()),
                ("secret_access_key".into(), "wJalr'XUtn".into()),
                ("region".into(), "eu-west-1".into()),
            ],
            comment: Some("prod".into()),
            if_not_exists: true,
        }
    );
    // The text kept for logs and the audit ledger has no secret in it.
    let text = &parsed[0].1;
    assert!(!text.contains("wJalr"), "{text}");
    assert!(
        text.contains("secret_access_key = '<redacted>', region 'eu-west-1'"),
        "{text}"
    );
    assert!(text.contains("'AKIA1'"), "the key id stays: {text}");
    // Error messages do not quote option values, whatever their form.
    for bad in [
        "'abc' 'def'",
        "'abc', x def",
        "def",
        "`def`",
        "9def",
        "'abc' 9def",
    ] {
        let e = error(&format!(
            "CREATE STORAGE CREDENTIAL c TYPE S3 WITH (secret_access_key {bad})"
        ));
        assert!(!e.message.contains("def"), "{bad}: {}", e.message);
    }
    // A misspelt secret option is redacted too.
    let text = &parse_with_text(
        "CREATE STORAGE CREDENTIAL c TYPE S3 WITH (secret_acess_key 'wJalr', region 'r')",
    )
    .unwrap()[0]
        .1;
    assert!(!text.contains("wJalr") && text.contains("'r'"), "{text}");
    assert_eq!(
        one("CREATE TABLE s.t USING DELTA LOCATION 's3://b/t' WITH CREDENTIAL prod_s3"),
        Statement::CreateTable {
            name: table("s", "t"),
            location: "s3://b/t".into(),
            credential: TableCredential::Named("prod_s3".into()),
            comment: None,
            if_not_exists: false,
        }
    );
    assert!(matches!(
        one("CREATE TABLE s.t USING DELTA LOCATION 's3://b/t' FROM ENVIRONMENT COMMENT 'c'"),
        Statement::CreateTable {
            credential: TableCredential::Environment,
            ..
        }
    ));
    assert_eq!(
        one("DESCRIBE STORAGE CREDENTIAL prod_s3"),
        Statement::DescribeStorageCredential {
            name: "prod_s3".into()
        }
    );
    assert_eq!(
        one("SHOW STORAGE CREDENTIALS"),
        Statement::ShowStorageCredentials
    );
    assert_eq!(
        one("DROP STORAGE CREDENTIAL IF EXISTS prod_s3"),
        Statement::Drop {
            kind: ObjectKind::StorageCredential,
            name: "prod_s3".into(),
            if_exists: true,
        }
    );
}

#[test]
fn unknown_statement() {
    let e = error("SHOW SHARES;\nSELEC * FROM t");
    assert_eq!(
        e.message,
        "expected keyword CREATE, ALTER, DROP, GRANT, REVOKE, SHOW, DESCRIBE, APPROVE, REJECT or WITHDRAW, found identifier 'SELEC'"
    );
    assert_eq!((e.offset, e.line, e.column), (13, 2, 1));

    let e = error("CREATE SHAR x");
    assert_eq!(
        e.message,
        "expected keyword SHARE, TABLE, RECIPIENT or STORAGE after CREATE, found identifier 'SHAR'"
    );
    assert_eq!(
        e.to_string(),
        "expected keyword SHARE, TABLE, RECIPIENT or STORAGE after CREATE, found identifier 'SHAR' \
             at line 1, column 8"
    );

    let e = error("SHOW GRANTS WITH x");
    assert_eq!(
        e.message,
        "expected keyword ON or TO after GRANTS, found keyword 'WITH'"
    );
}

#[test]
fn garbage_after_a_statement() {
    let e = error("CREATE SHARE s\nGRANT SELECT ON SHARE s TO RECIPIENT r");
    assert_eq!(
        e.message,
        "expected ';' or end of input after the statement, found keyword 'GRANT'"
    );
    assert_eq!((e.line, e.column), (2, 1));

    let e = error("SHOW TABLES 'x'");
    assert_eq!(
        e.message,
        "expected ';' or end of input after the statement, found string literal 'x'"
    );
}

#[test]
fn missing_names_mention_what_came_before() {
    let e = error("GRANT SELECT ON SHARE s TO RECIPIENT ;");
    assert_eq!(
        e.message,
        "expected a recipient name after RECIPIENT, found ';'"
    );

    let e = error("ALTER SHARE s DELETE TABLE a.b");
    assert_eq!(
        e.message,
        "expected keyword ADD, REMOVE, ALTER, SET or UNSET after share name 's', found identifier 'DELETE'"
    );

    let e = error("REVOKE SELECT ON SHARE s TO RECIPIENT r");
    assert_eq!(
        e.message,
        "expected keyword FROM after share name 's', found keyword 'TO'"
    );

    let e = error("DROP SHARE IF s");
    assert_eq!(
        e.message,
        "expected keyword EXISTS after IF, found identifier 's'"
    );
}

#[test]
fn unterminated_string() {
    let e = error("CREATE SHARE s;\nCREATE RECIPIENT r COMMENT 'it''s open;\nSHOW SHARES");
    assert_eq!(e.message, "unterminated string literal");
    assert_eq!((e.offset, e.line, e.column), (43, 2, 28));
}

#[test]
fn unterminated_quoted_identifier() {
    let e = error("DROP SHARE `abc``");
    assert_eq!(e.message, "unterminated quoted identifier");
    assert_eq!(e.column, 12);
}

#[test]
fn quoted_identifiers_reject_bad_characters() {
    let e = error("CREATE SHARE `a/b`");
    assert_eq!(
        e.message,
        "invalid character '/' in quoted identifier; names must not contain spaces, '/' or \
             control characters"
    );
    assert_eq!(e.column, 16);

    let e = error("CREATE SHARE `a\nb`");
    assert!(e.message.starts_with("invalid character '\\n'"), "{e}");
    assert_eq!((e.line, e.column), (1, 16));

    let e = error("CREATE SHARE ``");
    assert_eq!(e.message, "a quoted identifier must not be empty or blank");
    assert_eq!(e.column, 14);
    let e = error("CREATE SHARE `my share`");
    assert!(e.message.starts_with("invalid character ' '"), "{e}");
    assert_eq!(e.column, 17);
}

#[test]
fn unexpected_characters() {
    let e = error("CREATE SHARE \"s\"");
    assert_eq!(
        e.message,
        "unexpected character '\"'; use single quotes for strings and backticks for identifiers"
    );
    assert_eq!(
        error("DROP TABLE 2x.y").message,
        "'2x' is not a number; names starting with a digit must be back-quoted"
    );
    assert_eq!(
        error("SHOW TABLES, SHARES").message,
        "expected ';' or end of input after the statement, found ','"
    );
    assert_eq!(
        error("SHOW TABLES!").message,
        "unexpected character '!'; use <> for 'not equal'"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = error("CREATE SHARE s COMMENT 'é€ü' SHOW");
    assert_eq!(e.column, 30);
    assert_eq!(e.offset, "CREATE SHARE s COMMENT 'é€ü' ".len());
}

#[test]
fn first_error_in_source_order_wins() {
    // The syntax error comes before the lexical one, so it is reported.
    let e = error("CREATE SHAR x; CREATE SHARE 'open");
    assert!(e.message.contains("found identifier 'SHAR'"), "{e}");
    // A lexical error where a token was expected is reported as such.
    let e = error("CREATE SHARE s COMMENT 'open");
    assert_eq!(e.message, "unterminated string literal");
}

#[test]
fn long_tokens_are_abbreviated_in_messages() {
    let long = "x".repeat(100);
    let e = error(&format!("SHOW TABLES '{long}'"));
    assert_eq!(
        e.message,
        format!(
            "expected ';' or end of input after the statement, found string literal '{}...'",
            "x".repeat(40)
        )
    );
}

#[test]
fn recipient_lifecycle_statements() {
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(
        parse("CREATE RECIPIENT r COMMENT 'c' TOKEN LIFETIME '90d'").unwrap(),
        [Statement::CreateRecipient {
            properties: Vec::new(),
            name: "r".into(),
            comment: Some("c".into()),
            token_lifetime: Some(90 * day),
            ip_access_list: None,
            oauth: false,
            if_not_exists: false,
        }]
    );
    assert_eq!(
        parse("alter recipient r rotate token expire existing in '24h'; ALTER RECIPIENT r ROTATE TOKEN; ALTER RECIPIENT r REVOKE TOKENS; DESCRIBE RECIPIENT r").unwrap(),
        [
            Statement::RotateToken { recipient: "r".into(), grace: Some(day) },
            Statement::RotateToken { recipient: "r".into(), grace: None },
            Statement::RevokeTokens { recipient: "r".into() },
            Statement::DescribeRecipient { recipient: "r".into() },
        ]
    );
    assert_eq!(
        parse("CREATE RECIPIENT r IP ACCESS LIST ('10.0.0.0/8', '192.0.2.7'); ALTER RECIPIENT r SET IP ACCESS LIST ('::1'); ALTER RECIPIENT r UNSET IP ACCESS LIST").unwrap(),
        [
            Statement::CreateRecipient {
                properties: Vec::new(),
                name: "r".into(),
                comment: None,
                token_lifetime: None,
                ip_access_list: Some(vec!["10.0.0.0/8".into(), "192.0.2.7".into()]),
                oauth: false,
                if_not_exists: false,
            },
            Statement::SetIpAccessList { recipient: "r".into(), list: Some(vec!["::1".into()]) },
            Statement::SetIpAccessList { recipient: "r".into(), list: None },
        ]
    );
    assert!(matches!(
        parse("CREATE RECIPIENT r USING OAUTH COMMENT 'x'").unwrap()[0],
        Statement::CreateRecipient { oauth: true, .. }
    ));
    assert_eq!(
        parse("SHOW ADMIN TOKENS; REVOKE ADMIN TOKEN 'fsa_abcdefgh'").unwrap(),
        [
            Statement::ShowAdminTokens,
            Statement::RevokeAdminToken {
                prefix: "fsa_abcdefgh".into()
            },
        ]
    );
    let e = parse("ALTER SHARE s ADD TABLE a.b WITH HISTORY START VERSION 9223372036854775808")
        .unwrap_err();
    assert!(
        e.message.contains("beyond the largest Delta version"),
        "{e}"
    );
    let e = parse("CREATE RECIPIENT r IP ACCESS LIST ('a' 'b')").unwrap_err();
    assert!(e.message.starts_with("expected ',' or ')'"), "{e}");
    let e = parse("CREATE RECIPIENT r TOKEN LIFETIME 'soon'").unwrap_err();
    assert!(e.message.contains("'soon' is not a duration"), "{e}");
    assert_eq!(e.column, 35);
}

#[test]
fn statements_written_back_as_sql_parse_to_themselves() {
    let script = "CREATE TABLE IF NOT EXISTS fire.`lo``ans` USING DELTA LOCATION 's3://b/it''s' WITH CREDENTIAL c COMMENT 'x';
        CREATE TABLE a.b USING DELTA LOCATION '/d' FROM ENVIRONMENT; DROP TABLE IF EXISTS a.b;
        CREATE STORAGE CREDENTIAL IF NOT EXISTS c TYPE S3 WITH (region 'eu-west-1') COMMENT 'c';
        DESCRIBE STORAGE CREDENTIAL c; SHOW STORAGE CREDENTIALS; DROP STORAGE CREDENTIAL IF EXISTS c;
        CREATE SHARE s COMMENT 'q'; ALTER SHARE s ADD TABLE a.b AS c.d WITH HISTORY START VERSION 3;
        ALTER SHARE s ADD TABLE a.b; ALTER SHARE s ALTER TABLE a.b WITH HISTORY;
        ALTER SHARE s ALTER TABLE a.b WITHOUT HISTORY; ALTER SHARE s REMOVE TABLE a.b;
        ALTER SHARE s SET URL LIFETIME '15m'; ALTER SHARE s UNSET URL LIFETIME; DROP SHARE s;
        CREATE RECIPIENT IF NOT EXISTS r USING OAUTH COMMENT 'c' TOKEN LIFETIME '90d' IP ACCESS LIST ('10.0.0.0/8', '::1');
        ALTER RECIPIENT r SET IP ACCESS LIST ('192.0.2.7'); ALTER RECIPIENT r UNSET IP ACCESS LIST;
        ALTER RECIPIENT r ROTATE TOKEN EXPIRE EXISTING IN '36h'; ALTER RECIPIENT r ROTATE TOKEN;
        ALTER RECIPIENT r REVOKE TOKENS; DESCRIBE RECIPIENT r; SHOW ADMIN TOKENS;
        REVOKE ADMIN TOKEN 'fsa_12345678'; GRANT SELECT ON SHARE s TO RECIPIENT r;
        REVOKE SELECT ON SHARE s FROM RECIPIENT r; DROP RECIPIENT r; SHOW TABLES; SHOW SHARES;
        SHOW RECIPIENTS; SHOW ALL IN SHARE s; SHOW GRANTS ON SHARE s; SHOW GRANTS TO RECIPIENT r;
        ALTER TABLE a.b SET TBLPROPERTIES ('fire.entity' = 'loan', 'k' = 'v');
        ALTER TABLE a.b UNSET TBLPROPERTIES ('fire.entity'); ALTER TABLE a.b APPROVE VERSION 2 COMMENT 'ok';
        ALTER TABLE a.b REJECT VERSION 3; DESCRIBE HISTORY a.b; SHOW QUALITY FOR TABLE a.b VERSION 1;
        SHOW QUALITY FOR TABLE a.b; SHOW FIRE SCHEMAS; SHOW EXPECTATIONS FOR ENTITY loan;
        SHOW ACCESS ON TABLE a.b AS OF '2026-01-01T00:00:00Z'; SHOW ACCESS ON TABLE a.b";
    let statements = parse(script).unwrap();
    assert_eq!(statements.len(), 45);
    for statement in statements {
        let written = statement.to_string();
        assert_eq!(one(&written), statement, "{written}");
    }
    // Secret options are never written back.
    let secret = one(
        "CREATE STORAGE CREDENTIAL c TYPE S3 WITH (access_key_id 'AKIA', secret_access_key 'hush')",
    );
    let written = secret.to_string();
    assert!(
        written.contains("'AKIA'") && !written.contains("hush"),
        "{written}"
    );
}

#[test]
fn partition_clauses_parse_and_print_back() {
    use crate::catalog::partition_filter::{Condition, Op, Operand, Test};
    let sql = "ALTER SHARE s ADD TABLE fire.loans COMMENT 'by country' \
               PARTITION (country_code = CURRENT_RECIPIENT('country'), year >= 2024), \
               (region LIKE 'EU%', `odd-col` <> 'x'), (day IS NOT NULL) AS eu.loans WITHOUT HISTORY";
    let statement = one(sql);
    let Statement::AddTableToShare {
        partition: Some(filter),
        comment,
        alias,
        with_history: false,
        ..
    } = &statement
    else {
        panic!("{statement:?}")
    };
    assert_eq!(comment.as_deref(), Some("by country"));
    assert_eq!(alias, &Some(table("eu", "loans")));
    let condition = |column: &str, test| Condition {
        column: column.into(),
        test,
    };
    assert_eq!(
        filter.specs,
        vec![
            vec![
                condition(
                    "country_code",
                    Test::Compare(Op::Eq, Operand::Recipient("country".into()))
                ),
                condition(
                    "year",
                    Test::Compare(Op::Ge, Operand::Literal("2024".into()))
                ),
            ],
            vec![
                condition("region", Test::Like(Operand::Literal("EU%".into()))),
                condition(
                    "odd-col",
                    Test::Compare(Op::Ne, Operand::Literal("x".into()))
                ),
            ],
            vec![condition("day", Test::IsNull { negated: true })],
        ]
    );
    // What the ledger and SHOW ALL IN SHARE print reads back as the same statement.
    assert_eq!(one(&statement.to_string()), statement);
    let alter = one("ALTER SHARE s ALTER TABLE eu.loans PARTITION (a < 'b', c != 'd')");
    assert_eq!(one(&alter.to_string()), alter);
    let unset = one("ALTER SHARE s ALTER TABLE eu.loans UNSET PARTITION");
    assert!(matches!(
        unset,
        Statement::SetPartitionFilter {
            partition: None,
            ..
        }
    ));
    let Statement::SetPartitionFilter {
        partition: Some(numbers),
        ..
    } = one("ALTER SHARE s ALTER TABLE t.t PARTITION (x = 1), (y IS NULL)")
    else {
        panic!()
    };
    assert_eq!(numbers.to_string(), "(x = '1'), (y IS NULL)");
}

#[test]
fn bad_partition_clauses_say_what_is_wrong() {
    let add =
        |clause: &str| error(&format!("ALTER SHARE s ADD TABLE a.b PARTITION {clause}")).message;
    assert_eq!(
        add("(c = NULL)"),
        "a comparison with NULL is never true: write IS NULL or IS NOT NULL"
    );
    assert_eq!(
        add("c = 'x'"),
        "expected '(' opening a partition spec after PARTITION, found identifier 'c'"
    );
    assert!(
        add("(c)")
            .starts_with("expected a comparison (=, <>, <, <=, >, >=), LIKE or IS [NOT] NULL")
    );
    assert!(add("(c = CURRENT_RECIPIENT(country))").starts_with("expected a string literal"));
    assert!(add("(c IS 'x')").starts_with("expected keyword NULL"));
}

#[test]
fn recipient_properties_parse_and_print_back() {
    let create =
        one("CREATE RECIPIENT acpr COMMENT 'FR' PROPERTIES ('country' = 'FR', authority = 'ACPR')");
    let Statement::CreateRecipient { properties, .. } = &create else {
        panic!("{create:?}")
    };
    assert_eq!(
        properties,
        &[
            ("country".to_string(), "FR".to_string()),
            ("authority".to_string(), "ACPR".to_string())
        ]
    );
    assert_eq!(one(&create.to_string()), create);
    let set = one("ALTER RECIPIENT acpr SET PROPERTIES ('country' = 'DE')");
    assert!(
        matches!(&set, Statement::SetRecipientProperties { properties, .. } if properties.len() == 1)
    );
    assert_eq!(one(&set.to_string()), set);
    let unset = one("ALTER RECIPIENT acpr UNSET PROPERTIES ('country', authority)");
    assert_eq!(
        unset,
        Statement::UnsetRecipientProperties {
            recipient: "acpr".into(),
            keys: vec!["country".into(), "authority".into()]
        }
    );
    assert_eq!(one(&unset.to_string()), unset);
    assert!(
        error("ALTER RECIPIENT acpr SET PROPERTIES ('country')")
            .message
            .starts_with("expected '='")
    );
}

#[test]
fn four_eyes_statements_parse_and_print_back() {
    let on = one(
        "ALTER CATALOG SET FOUR EYES FOR GRANT, revoke, ADD TABLE, CREATE RECIPIENT, ROTATE TOKEN, APPROVE VERSION, CREATE STORAGE CREDENTIAL, GRANT PENDING LIFETIME '3d'",
    );
    let Statement::SetFourEyes {
        policy: Some(policy),
    } = &on
    else {
        panic!("{on:?}")
    };
    use Guarded::*;
    assert_eq!(
        policy.covered,
        [
            Grant,
            Revoke,
            AddTable,
            CreateRecipient,
            RotateToken,
            ApproveVersion,
            CreateStorageCredential
        ],
        "each once, in order"
    );
    assert_eq!(policy.lifetime, Some(Duration::from_secs(3 * 86_400)));
    for statement in [
        on.clone(),
        one("ALTER CATALOG UNSET FOUR EYES"),
        one("SHOW PENDING CHANGES"),
        one("APPROVE CHANGE 7"),
        one("REJECT CHANGE 7 COMMENT 'not before the audit'"),
        one("WITHDRAW CHANGE 7"),
    ] {
        assert_eq!(one(&statement.to_string()), statement);
    }
    assert!(
        error("ALTER CATALOG SET FOUR EYES FOR DROP")
            .message
            .starts_with("expected keyword GRANT, REVOKE, ADD, CREATE, ROTATE or APPROVE")
    );
    assert!(
        error("APPROVE CHANGE x")
            .message
            .starts_with("expected a change number")
    );
}
