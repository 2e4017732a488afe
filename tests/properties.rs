//! Property tests of everything that parses what a client or an admin sends: the admin SQL
//! (never a panic; every statement written back as SQL parses to itself), predicate hints
//! (parsing and evaluating never panic), page, refresh and list tokens (never a panic; what is
//! sealed opens only where it was sealed for), the capabilities header, bearer headers and
//! OAuth access tokens. `cargo test` runs 256 cases each; `PROPTEST_CASES=20000 cargo test
//! --release --test properties` is the longer run.

use std::collections::BTreeMap;

use fireshare::admin::sql::{Statement, parse};
use fireshare::sharing::capabilities::Capabilities;
use fireshare::sharing::cursor::{open_cursor, seal_cursor, unseal};
use fireshare::sharing::list_pages::page_request;
use fireshare::sharing::predicate::{FileFacts, Predicate};
use proptest::prelude::*;
use serde_json::{Value, json};

const KEYWORDS: &[&str] = &[
    "CREATE",
    "ALTER",
    "DROP",
    "GRANT",
    "REVOKE",
    "SHOW",
    "DESCRIBE",
    "SHARE",
    "TABLE",
    "RECIPIENT",
    "STORAGE",
    "CREDENTIAL",
    "ADD",
    "REMOVE",
    "WITH",
    "WITHOUT",
    "HISTORY",
    "START",
    "VERSION",
    "AS",
    "OF",
    "ON",
    "TO",
    "FROM",
    "SELECT",
    "COMMENT",
    "IF",
    "NOT",
    "EXISTS",
    "USING",
    "DELTA",
    "LOCATION",
    "TOKEN",
    "LIFETIME",
    "IP",
    "ACCESS",
    "LIST",
    "SET",
    "UNSET",
    "TBLPROPERTIES",
    "APPROVE",
    "REJECT",
    "QUALITY",
    "FOR",
    "ENTITY",
    "EXPECTATIONS",
    "FIRE",
    "SCHEMAS",
    "ALL",
    "IN",
    "GRANTS",
    "ADMIN",
    "TOKENS",
    "ROTATE",
    "EXPIRE",
    "EXISTING",
    "URL",
    "OAUTH",
    "TYPE",
    "ENVIRONMENT",
];

/// A token of the admin SQL, or something hostile near one.
fn sql_token() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(KEYWORDS).prop_map(str::to_string),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "`[^`]{0,6}`",
        "'([^']|'')*'",
        "[0-9]{1,22}",
        proptest::sample::select(&[";", ",", "(", ")", ".", "=", "--x\n", "`", "'"][..])
            .prop_map(str::to_string),
        "\\PC{0,3}",
    ]
}

/// A name as SQL writes it: plain, or back-quoted with anything in it.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,10}",
        "[a-zA-Z0-9_`àé€-]{1,12}".prop_map(|n| format!("`{}`", n.replace('`', "``"))),
    ]
}

/// A string literal.
fn literal() -> impl Strategy<Value = String> {
    "\\PC{0,16}".prop_map(|s| format!("'{}'", s.replace('\'', "''")))
}

/// A valid statement, with random names, literals and numbers.
fn statement() -> impl Strategy<Value = String> {
    prop_oneof![
        (name(), literal())
            .prop_map(|(a, c)| format!("CREATE SHARE IF NOT EXISTS {a} COMMENT {c}")),
        (name(), name(), name(), name(), name(), 0u64..1000).prop_map(
            |(s, a, b, c, d, v)| format!(
                "ALTER SHARE {s} ADD TABLE {a}.{b} AS {c}.{d} WITH HISTORY START VERSION {v}"
            )
        ),
        (
            name(),
            1u64..400,
            proptest::collection::vec(literal(), 1..4)
        )
            .prop_map(|(r, d, ips)| {
                format!(
                    "CREATE RECIPIENT {r} USING OAUTH TOKEN LIFETIME '{d}d' IP ACCESS LIST ({})",
                    ips.join(", ")
                )
            }),
        (name(), name()).prop_map(|(s, r)| format!("GRANT SELECT ON SHARE {s} TO RECIPIENT {r}")),
        (name(), name(), literal())
            .prop_map(|(a, b, t)| format!("SHOW ACCESS ON TABLE {a}.{b} AS OF {t}")),
        (name(), name(), literal(), literal())
            .prop_map(|(a, b, k, v)| format!("ALTER TABLE {a}.{b} SET TBLPROPERTIES ({k} = {v})")),
        (name(), name(), 0u64..99, literal())
            .prop_map(|(a, b, v, c)| format!("ALTER TABLE {a}.{b} REJECT VERSION {v} COMMENT {c}")),
        (name(), name(), "/[^']{1,12}").prop_map(|(a, b, loc)| format!(
            "CREATE TABLE {a}.{b} USING DELTA LOCATION '{loc}' FROM ENVIRONMENT"
        )),
        (name(), 1u64..90).prop_map(|(r, h)| format!(
            "ALTER RECIPIENT {r} ROTATE TOKEN EXPIRE EXISTING IN '{h}h'"
        )),
        name().prop_map(|s| format!("DROP SHARE IF EXISTS {s}")),
    ]
}

/// A predicate hint tree of the protocol's ops, with random names, types and values.
fn predicate() -> impl Strategy<Value = Value> {
    let types = proptest::sample::select(
        &[
            "int", "long", "string", "date", "boolean", "double", "float", "x",
        ][..],
    );
    let leaf = prop_oneof![
        ("[a-c]{1,2}", types.clone())
            .prop_map(|(n, t)| json!({"op": "column", "name": n, "valueType": t})),
        ("\\PC{0,6}", types)
            .prop_map(|(v, t)| json!({"op": "literal", "value": v, "valueType": t})),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let ops = proptest::sample::select(
            &[
                "and",
                "or",
                "not",
                "equal",
                "lessThan",
                "lessThanOrEqual",
                "greaterThan",
                "greaterThanOrEqual",
                "isNull",
                "unknown",
            ][..],
        );
        (ops, proptest::collection::vec(inner, 0..3))
            .prop_map(|(op, children)| json!({"op": op, "children": children}))
    })
}

/// A file's facts: partition values and stats of random shapes.
fn facts() -> impl Strategy<Value = (BTreeMap<String, Option<String>>, Value)> {
    let value = prop_oneof![
        any::<i64>().prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    (
        proptest::collection::btree_map("[a-c]{1,2}", proptest::option::of("\\PC{0,4}"), 0..3),
        proptest::collection::btree_map("[a-c]{1,2}", value, 0..3),
    )
        .prop_map(|(partitions, values)| {
            let stats = json!({"numRecords": 10, "minValues": values, "maxValues": values, "nullCount": {}});
            (partitions, stats)
        })
}

fn secret() -> fireshare::secret::ServerSecret {
    let dir = tempfile::tempdir().unwrap();
    fireshare::secret::ServerSecret::load_or_create(&dir.path().join("server.key")).unwrap()
}

proptest! {
    // A failure prints its seed and minimal case; integration tests have no source file to
    // keep regressions next to.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_sql_parser_never_panics(tokens in proptest::collection::vec(sql_token(), 0..40)) {
        let _ = parse(&tokens.join(" "));
    }

    #[test]
    fn statements_written_back_parse_to_themselves(script in proptest::collection::vec(statement(), 1..4)) {
        let statements = parse(&script.join(";\n")).unwrap();
        for statement in statements {
            if matches!(statement, Statement::CreateStorageCredential { .. }) {
                continue; // its secret values are written as '<redacted>'
            }
            let written = statement.to_string();
            prop_assert_eq!(parse(&written), Ok(vec![statement]), "{}", written);
        }
    }

    #[test]
    fn predicates_never_panic(tree in predicate(), (partitions, stats) in facts(), garbage in "\\PC{0,40}") {
        let _ = Predicate::parse(&garbage);
        if let Some(mut predicate) = Predicate::parse(&tree.to_string()) {
            predicate.bind_schema(r#"{"type":"struct","fields":[{"name":"a","type":"long"},{"name":"b","type":"string"}]}"#);
            let _ = predicate.needs_stats(&["a".to_string()]);
            let _ = predicate.may_match(&FileFacts { partition_values: &partitions, stats: Some(&stats) });
            let _ = predicate.may_match(&FileFacts { partition_values: &partitions, stats: None });
        }
    }

    #[test]
    fn tokens_open_only_where_they_were_sealed(
        payload in proptest::collection::vec(any::<u64>(), 0..4),
        scope in "\\PC{0,12}",
        other in "\\PC{0,12}",
        garbage in "\\PC{0,60}",
        max_results in proptest::option::of("\\PC{0,6}"),
    ) {
        let secret = secret();
        let token = seal_cursor(&secret, "page", &scope, &payload, i64::MAX);
        prop_assert_eq!(open_cursor::<Vec<u64>>(&secret, "page", &scope, &token, 0, "t").ok(), Some(payload.clone()));
        if other != scope {
            prop_assert!(open_cursor::<Vec<u64>>(&secret, "page", &other, &token, 0, "t").is_err());
        }
        prop_assert!(open_cursor::<Vec<u64>>(&secret, "refresh", &scope, &token, 0, "t").is_err());
        prop_assert!(unseal::<Value>(&secret, "page", &scope, &garbage).is_none() || garbage == token);
        let _ = page_request(&secret, &scope, max_results.as_deref(), Some(&garbage));
    }

    #[test]
    fn headers_never_panic(capabilities in "\\PC{0,80}", hash in proptest::option::of("\\PC{0,10}"), authorization in "\\PC{0,60}") {
        let mut caps = Capabilities::parse(Some(&capabilities));
        caps.file_id_hash = hash;
        let _ = caps.file_id_scheme();
        let _ = fireshare::auth::bearer(Some(&authorization));
    }
}

/// Access tokens: whatever a JWT-looking string holds, it is refused without a panic.
#[test]
fn forged_access_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = fireshare::catalog::Catalog::open_in_memory().unwrap();
    let key = fireshare::signing_key::SigningKey::load_or_create(&dir.path().join("k")).unwrap();
    let cache = fireshare::auth::TokenCache::default();
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(
            &"eyJ[A-Za-z0-9_=-]{0,40}\\.[A-Za-z0-9_=-]{0,60}\\.[A-Za-z0-9_=-]{0,60}",
            |token| {
                let refused = fireshare::auth::oauth::authenticate(
                    &catalog,
                    &cache,
                    &key,
                    "https://x",
                    &token,
                    None,
                );
                prop_assert!(refused.is_err());
                Ok(())
            },
        )
        .unwrap();
}
