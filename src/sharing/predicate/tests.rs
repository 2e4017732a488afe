use super::*;
use serde_json::json;

fn column(name: &str, ty: &str) -> Value {
    json!({"op": "column", "name": name, "valueType": ty})
}

fn literal(value: &str, ty: &str) -> Value {
    json!({"op": "literal", "value": value, "valueType": ty})
}

fn cmp(op: &str, name: &str, ty: &str, value: &str) -> Value {
    json!({"op": op, "children": [column(name, ty), literal(value, ty)]})
}

fn is_null(name: &str, ty: &str) -> Value {
    json!({"op": "isNull", "children": [column(name, ty)]})
}

fn not(kid: Value) -> Value {
    json!({"op": "not", "children": [kid]})
}

fn and(kids: Vec<Value>) -> Value {
    json!({"op": "and", "children": kids})
}

fn or(kids: Vec<Value>) -> Value {
    json!({"op": "or", "children": kids})
}

fn parse(tree: &Value) -> Predicate {
    Predicate::parse(&tree.to_string()).expect("valid predicate")
}

fn parts(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

fn on_parts(tree: &Value, pairs: &[(&str, Option<&str>)]) -> Tri {
    let partition_values = parts(pairs);
    let file = FileFacts {
        partition_values: &partition_values,
        stats: None,
    };
    eval(&parse(tree).root, false, &file)
}

fn on_stats(tree: &Value, stats: &Value) -> Tri {
    let partition_values = BTreeMap::new();
    let file = FileFacts {
        partition_values: &partition_values,
        stats: Some(stats),
    };
    let result = eval(&parse(tree).root, false, &file);
    assert_eq!(parse(tree).may_match(&file), result != Tri::False);
    result
}

/// Stats for one column `name` over `rows` records.
fn stats(name: &str, min: Value, max: Value, nulls: u64, rows: u64) -> Value {
    json!({
        "numRecords": rows,
        "minValues": {(name): min},
        "maxValues": {(name): max},
        "nullCount": {(name): nulls},
    })
}

use Tri::{False as F, True as T, Unknown as U};

#[test]
fn partition_int_comparisons_are_exact() {
    let p = [("year", Some("2021"))];
    let cases = [
        ("equal", "2021", T),
        ("equal", "2020", F),
        ("lessThan", "2021", F),
        ("lessThan", "2022", T),
        ("lessThanOrEqual", "2021", T),
        ("lessThanOrEqual", "2020", F),
        ("greaterThan", "2021", F),
        ("greaterThan", "2020", T),
        ("greaterThanOrEqual", "2021", T),
        ("greaterThanOrEqual", "2022", F),
    ];
    for (op, v, want) in cases {
        assert_eq!(on_parts(&cmp(op, "year", "int", v), &p), want, "{op} {v}");
    }
    // Numeric, not textual, order.
    assert_eq!(on_parts(&cmp("lessThan", "year", "long", "10000"), &p), T);
    // Literal on the left: 2022 > year.
    let tree =
        json!({"op": "greaterThan", "children": [literal("2022", "int"), column("year", "int")]});
    assert_eq!(on_parts(&tree, &p), T);
}

#[test]
fn partition_string_and_date() {
    let p = [("country", Some("DE")), ("day", Some("2021-04-29"))];
    assert_eq!(on_parts(&cmp("equal", "country", "string", "DE"), &p), T);
    assert_eq!(on_parts(&cmp("equal", "country", "string", "FR"), &p), F);
    assert_eq!(on_parts(&cmp("lessThan", "country", "string", "E"), &p), T);
    assert_eq!(on_parts(&cmp("equal", "day", "date", "2021-04-29"), &p), T);
    assert_eq!(
        on_parts(&cmp("greaterThan", "day", "date", "2021-04-29"), &p),
        F
    );
    let range = and(vec![
        cmp("greaterThanOrEqual", "day", "date", "2021-04-01"),
        cmp("lessThan", "day", "date", "2021-05-01"),
    ]);
    assert_eq!(on_parts(&range, &p), T);
    assert_eq!(on_parts(&range, &[("day", Some("2021-05-01"))]), F);
    // Case-insensitive column names.
    assert_eq!(on_parts(&cmp("equal", "COUNTRY", "string", "DE"), &p), T);
}

#[test]
fn partition_timestamp_formats() {
    let eq = cmp("equal", "ts", "timestamp", "2021-04-28T12:00:00Z");
    assert_eq!(on_parts(&eq, &[("ts", Some("2021-04-28 12:00:00"))]), T);
    assert_eq!(
        on_parts(&eq, &[("ts", Some("2021-04-28 12:00:00.000001"))]),
        F
    );
    assert_eq!(
        on_parts(&eq, &[("ts", Some("2021-04-28T14:00:00+02:00"))]),
        T
    );
    let lt = cmp("lessThan", "ts", "timestamp", "2021-04-28T12:00:00.5+00:00");
    assert_eq!(on_parts(&lt, &[("ts", Some("2021-04-28 12:00:00.4"))]), T);
}

#[test]
fn null_partition_values() {
    for null in [None, Some("")] {
        let p = [("country", null)];
        // Comparisons with null are unknown: keep the file.
        assert_eq!(on_parts(&cmp("equal", "country", "string", "DE"), &p), U);
        assert_eq!(
            on_parts(&not(cmp("equal", "country", "string", "DE")), &p),
            U
        );
        // isNull is exact.
        assert_eq!(on_parts(&is_null("country", "string"), &p), T);
        assert_eq!(on_parts(&not(is_null("country", "string")), &p), F);
    }
    let p = [("country", Some("DE"))];
    assert_eq!(on_parts(&is_null("country", "string"), &p), F);
    assert_eq!(on_parts(&not(is_null("country", "string")), &p), T);
}

#[test]
fn boolean_logic_over_partitions() {
    let p = [("year", Some("2021")), ("country", Some("DE"))];
    let year = |v: &str| cmp("equal", "year", "int", v);
    let country = |v: &str| cmp("equal", "country", "string", v);
    assert_eq!(on_parts(&and(vec![year("2021"), country("DE")]), &p), T);
    assert_eq!(on_parts(&and(vec![year("2021"), country("FR")]), &p), F);
    assert_eq!(on_parts(&or(vec![year("2020"), country("DE")]), &p), T);
    assert_eq!(on_parts(&or(vec![year("2020"), country("FR")]), &p), F);
    // `not` over partition columns is exact in both directions.
    assert_eq!(on_parts(&not(year("2021")), &p), F);
    assert_eq!(on_parts(&not(year("2020")), &p), T);
    assert_eq!(on_parts(&not(not(year("2021"))), &p), T);
    assert_eq!(
        on_parts(&not(and(vec![year("2021"), country("FR")])), &p),
        T
    );
    assert_eq!(on_parts(&not(or(vec![year("2020"), country("DE")])), &p), F);
    // IN list as Spark sends it.
    let in_list = or(vec![year("2019"), year("2020"), year("2021")]);
    assert_eq!(on_parts(&in_list, &p), T);
    assert_eq!(on_parts(&not(in_list), &p), F);
    // One child is accepted leniently.
    assert_eq!(on_parts(&and(vec![year("2020")]), &p), F);
}

#[test]
fn unknown_parts_only_decide_when_the_rest_cannot() {
    let p = [("year", Some("2021"))];
    let missing = cmp("equal", "nope", "int", "1");
    let no = cmp("equal", "year", "int", "2020");
    let yes = cmp("equal", "year", "int", "2021");
    assert_eq!(on_parts(&missing, &p), U);
    assert_eq!(on_parts(&and(vec![missing.clone(), no.clone()]), &p), F);
    assert_eq!(on_parts(&and(vec![missing.clone(), yes.clone()]), &p), U);
    assert_eq!(on_parts(&or(vec![missing.clone(), no.clone()]), &p), U);
    assert_eq!(on_parts(&or(vec![missing.clone(), yes]), &p), T);
    assert_eq!(on_parts(&not(missing), &p), U);
    // A partition value that does not parse as the type proves nothing.
    assert_eq!(on_parts(&no, &[("year", Some("abc"))]), U);
}

#[test]
fn not_of_a_range_keeps_files_with_matching_rows() {
    // The known bug of another server: A in [2, 10] holds rows with A < 7.
    let tree = not(cmp("greaterThanOrEqual", "A", "int", "7"));
    assert_eq!(on_stats(&tree, &stats("A", json!(2), json!(10), 0, 5)), U);
    assert_eq!(on_stats(&tree, &stats("A", json!(7), json!(10), 0, 5)), F);
    assert_eq!(on_stats(&tree, &stats("A", json!(2), json!(6), 0, 5)), T);
    // Nulls never satisfy `not (A >= 7)` either.
    assert_eq!(on_stats(&tree, &stats("A", json!(7), json!(10), 3, 5)), F);
    let ne = not(cmp("equal", "A", "int", "7"));
    assert_eq!(on_stats(&ne, &stats("A", json!(2), json!(10), 0, 5)), U);
    assert_eq!(on_stats(&ne, &stats("A", json!(7), json!(7), 2, 5)), F);
    assert_eq!(on_stats(&ne, &stats("A", json!(8), json!(10), 0, 5)), T);
}

#[test]
fn stats_of_another_type_than_the_hint_are_not_used() {
    let schema = r#"{"type":"struct","fields":[
            {"name":"id","type":"long","nullable":true,"metadata":{}},
            {"name":"code","type":"string","nullable":true,"metadata":{}},
            {"name":"s","type":{"type":"struct","fields":[{"name":"n","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}"#;
    let stats_id = json!({"numRecords": 3, "minValues": {"id": 5, "code": "1", "s": {"n": 5}},
                          "maxValues": {"id": 10, "code": "9", "s": {"n": 10}}, "nullCount": {"id": 0, "code": 0}});
    let check = |tree: Value| {
        let mut p = parse(&tree);
        p.bind_schema(schema);
        let parts = BTreeMap::new();
        p.may_match(&FileFacts {
            partition_values: &parts,
            stats: Some(&stats_id),
        })
    };
    // CAST(id AS STRING) = '7': "10" < "7" as text, yet id 7 may be there.
    assert!(check(cmp("equal", "id", "string", "7")));
    // CAST(code AS INT) = 10: code "10" sorts between "1" and "9".
    assert!(check(cmp("equal", "code", "int", "10")));
    // Matching types still prune, nested fields included.
    assert!(!check(cmp("equal", "id", "long", "11")));
    assert!(!check(cmp("greaterThan", "s.n", "int", "10")));
    // Columns missing from the schema are never pruned on.
    assert!(check(cmp("equal", "nope", "long", "11")));
}

#[test]
fn long_stats() {
    let s = stats("id", json!(10), json!(20), 0, 100);
    let cases = [
        ("equal", "9", F),
        ("equal", "10", U),
        ("equal", "21", F),
        ("lessThan", "10", F),
        ("lessThan", "11", U),
        ("lessThan", "21", T),
        ("lessThanOrEqual", "9", F),
        ("lessThanOrEqual", "10", U),
        ("lessThanOrEqual", "20", T),
        ("greaterThan", "20", F),
        ("greaterThan", "19", U),
        ("greaterThan", "9", T),
        ("greaterThanOrEqual", "21", F),
        ("greaterThanOrEqual", "20", U),
        ("greaterThanOrEqual", "10", T),
    ];
    for (op, v, want) in cases {
        assert_eq!(on_stats(&cmp(op, "id", "long", v), &s), want, "{op} {v}");
    }
    // Every row equal only without nulls.
    let point = cmp("equal", "id", "long", "5");
    assert_eq!(on_stats(&point, &stats("id", json!(5), json!(5), 0, 3)), T);
    assert_eq!(on_stats(&point, &stats("id", json!(5), json!(5), 1, 3)), U);
    // Nulls never satisfy a comparison, so they do not hold a file back.
    let lt = cmp("lessThan", "id", "long", "10");
    assert_eq!(on_stats(&lt, &stats("id", json!(10), json!(20), 7, 100)), F);
}

#[test]
fn double_stats() {
    let s = stats("x", json!(-1.5), json!(2.25), 0, 10);
    assert_eq!(on_stats(&cmp("lessThan", "x", "double", "-1.5"), &s), F);
    assert_eq!(on_stats(&cmp("lessThan", "x", "double", "-1.4"), &s), U);
    assert_eq!(on_stats(&cmp("greaterThan", "x", "double", "2.25"), &s), F);
    assert_eq!(
        on_stats(&cmp("greaterThanOrEqual", "x", "double", "2.5"), &s),
        F
    );
    assert_eq!(on_stats(&cmp("equal", "x", "double", "3"), &s), F);
    assert_eq!(
        on_stats(&cmp("lessThanOrEqual", "x", "double", "2.25"), &s),
        T
    );
    // NaN proves nothing.
    assert_eq!(on_stats(&cmp("equal", "x", "double", "NaN"), &s), U);
    assert_eq!(
        on_stats(
            &cmp("greaterThan", "x", "double", "3"),
            &stats("x", json!(1), json!("NaN"), 0, 3)
        ),
        U
    );
    // A float column cast to double: stats text 0.1 may stand for 0.1f32 > 0.1f64.
    let cast = cmp("greaterThan", "x", "double", "0.1000000001");
    assert_eq!(
        on_stats(&cast, &stats("x", json!(0.0), json!(0.1), 0, 3)),
        U
    );
    assert_eq!(on_parts(&cast, &[("x", Some("0.1"))]), U);
    // A float literal compares at single precision.
    let float = cmp("equal", "x", "float", "0.1");
    assert_eq!(on_parts(&float, &[("x", Some("0.1"))]), U);
    assert_eq!(on_parts(&float, &[("x", Some("0.2"))]), F);
}

#[test]
fn string_stats_with_truncated_max() {
    let s = stats("name", json!("bob"), json!("mike"), 0, 10);
    assert_eq!(on_stats(&cmp("equal", "name", "string", "alice"), &s), F);
    assert_eq!(on_stats(&cmp("lessThan", "name", "string", "bob"), &s), F);
    assert_eq!(
        on_stats(&cmp("lessThanOrEqual", "name", "string", "bob"), &s),
        U
    );
    assert_eq!(on_stats(&cmp("equal", "name", "string", "zed"), &s), F);
    assert_eq!(
        on_stats(&cmp("greaterThan", "name", "string", "zed"), &s),
        F
    );
    assert_eq!(
        on_stats(&cmp("greaterThanOrEqual", "name", "string", "n"), &s),
        F
    );
    // "mike" may be a truncated "mikey...": values extending the max may exist.
    assert_eq!(on_stats(&cmp("equal", "name", "string", "mikey"), &s), U);
    assert_eq!(
        on_stats(&cmp("greaterThan", "name", "string", "mike"), &s),
        U
    );
    assert_eq!(
        on_stats(&cmp("greaterThanOrEqual", "name", "string", "mikez"), &s),
        U
    );
    assert_eq!(on_stats(&cmp("equal", "name", "string", "mike"), &s), U);
    // Nor is min == max a proof that every value is equal.
    let point = stats("name", json!("ab"), json!("ab"), 0, 3);
    assert_eq!(
        on_stats(&not(cmp("equal", "name", "string", "ab")), &point),
        U
    );
    assert_eq!(on_stats(&cmp("equal", "name", "string", "abc"), &point), U);
    // Byte order: "Z" < "a".
    assert_eq!(on_stats(&cmp("lessThan", "name", "string", "Z"), &s), F);
}

#[test]
fn date_and_timestamp_stats() {
    let d = stats("day", json!("2021-04-01"), json!("2021-04-30"), 0, 10);
    assert_eq!(
        on_stats(&cmp("lessThan", "day", "date", "2021-04-01"), &d),
        F
    );
    assert_eq!(
        on_stats(&cmp("greaterThan", "day", "date", "2021-04-30"), &d),
        F
    );
    assert_eq!(on_stats(&cmp("equal", "day", "date", "2021-04-15"), &d), U);
    assert_eq!(
        on_stats(&cmp("lessThan", "day", "date", "2021-05-01"), &d),
        T
    );

    let t = stats(
        "ts",
        json!("2021-04-28T12:00:00.000Z"),
        json!("2021-04-28T14:00:00.000+02:00"),
        0,
        10,
    );
    let ts = |op: &str, v: &str| on_stats(&cmp(op, "ts", "timestamp", v), &t);
    assert_eq!(ts("lessThan", "2021-04-28T12:00:00Z"), F);
    assert_eq!(ts("lessThan", "2021-04-28T12:00:00.000001Z"), U);
    assert_eq!(ts("greaterThan", "2021-04-28T12:00:01Z"), F);
    assert_eq!(ts("equal", "2021-04-28T11:59:59.999999Z"), F);
    // The max is truncated to milliseconds: 12:00:00.000999 may be present.
    assert_eq!(ts("greaterThan", "2021-04-28T12:00:00.000500Z"), U);
    assert_eq!(ts("greaterThanOrEqual", "2021-04-28T12:00:00.000999Z"), U);
    assert_eq!(ts("greaterThanOrEqual", "2021-04-28T12:00:00.001Z"), F);
}

#[test]
fn is_null_from_stats() {
    let tree = is_null("x", "long");
    let not_null = not(is_null("x", "long"));
    let none = stats("x", json!(1), json!(2), 0, 10);
    let some = stats("x", json!(1), json!(2), 4, 10);
    let all = json!({"numRecords": 10, "nullCount": {"x": 10}});
    assert_eq!(on_stats(&tree, &none), F);
    assert_eq!(on_stats(&tree, &some), U);
    assert_eq!(on_stats(&tree, &all), T);
    assert_eq!(on_stats(&not_null, &none), T);
    assert_eq!(on_stats(&not_null, &some), U);
    assert_eq!(on_stats(&not_null, &all), F);
    // Comparisons on an all-null column have no bounds and keep the file.
    assert_eq!(on_stats(&cmp("equal", "x", "long", "1"), &all), U);
    // No null count: unknown.
    let bare = json!({"numRecords": 10, "minValues": {"x": 1}, "maxValues": {"x": 2}});
    assert_eq!(on_stats(&tree, &bare), U);
    assert_eq!(on_stats(&not_null, &bare), U);
}

#[test]
fn nested_and_case_insensitive_stats_columns() {
    let s = json!({
        "numRecords": 3,
        "minValues": {"a": {"b": 5}, "a.c": 1, "Mixed": 1},
        "maxValues": {"a": {"b": 9}, "a.c": 2, "Mixed": 2},
        "nullCount": {"a": {"b": 0}, "a.c": 0, "Mixed": 0},
    });
    assert_eq!(on_stats(&cmp("lessThan", "a.b", "int", "5"), &s), F);
    assert_eq!(on_stats(&cmp("lessThan", "a.b", "int", "6"), &s), U);
    assert_eq!(on_stats(&cmp("greaterThan", "A.B", "int", "9"), &s), F);
    assert_eq!(on_stats(&cmp("greaterThan", "a.c", "int", "2"), &s), F);
    assert_eq!(on_stats(&cmp("equal", "mixed", "int", "3"), &s), F);
    // A struct is not a value.
    assert_eq!(on_stats(&cmp("equal", "a", "int", "3"), &s), U);
    // An exact match wins; ambiguous case-insensitive names decide nothing.
    let twice =
        json!({"numRecords": 1, "minValues": {"X": 1, "x": 5}, "maxValues": {"X": 1, "x": 5}});
    assert_eq!(on_stats(&cmp("equal", "x", "int", "1"), &twice), F);
    assert_eq!(on_stats(&cmp("equal", "X", "int", "5"), &twice), F);
    let ambiguous =
        json!({"numRecords": 1, "minValues": {"AB": 1, "Ab": 5}, "maxValues": {"AB": 1, "Ab": 5}});
    assert_eq!(on_stats(&cmp("equal", "ab", "int", "3"), &ambiguous), U);
}

#[test]
fn missing_or_unusable_stats_keep_the_file() {
    let tree = cmp("equal", "id", "long", "1");
    let none = BTreeMap::new();
    let file = FileFacts {
        partition_values: &none,
        stats: None,
    };
    assert!(parse(&tree).may_match(&file));
    // Unknown column.
    assert_eq!(
        on_stats(&tree, &stats("other", json!(5), json!(9), 0, 3)),
        U
    );
    // Stats values that do not parse as the type.
    assert_eq!(
        on_stats(&tree, &stats("id", json!("x"), json!("y"), 0, 3)),
        U
    );
    assert_eq!(
        on_stats(&tree, &stats("id", json!(null), json!(2.5), 0, 3)),
        U
    );
    // Either bound alone still proves what it can.
    let only_min = json!({"numRecords": 3, "minValues": {"id": 5}});
    assert_eq!(on_stats(&tree, &only_min), F);
}

#[test]
fn needs_stats() {
    let cols = vec!["Year".to_string()];
    assert!(!parse(&cmp("equal", "year", "int", "1")).needs_stats(&cols));
    let mixed = and(vec![
        cmp("equal", "year", "int", "1"),
        not(is_null("id", "long")),
    ]);
    assert!(parse(&mixed).needs_stats(&cols));
    assert!(parse(&mixed).needs_stats(&[]));
}

#[test]
fn malformed_hints_disable_filtering() {
    let year = cmp("equal", "year", "int", "1");
    let bad = [
        "".to_string(),
        "not json".to_string(),
        "[]".to_string(),
        "\"equal\"".to_string(),
        json!({"op": "xor", "children": [year.clone(), year.clone()]}).to_string(),
        json!({"op": "and", "children": []}).to_string(),
        json!({"op": "and", "children": year.clone()}).to_string(),
        json!({"op": "not", "children": [year.clone(), year.clone()]}).to_string(),
        json!({"op": "equal", "children": [column("year", "int")]}).to_string(),
        json!({"op": "equal", "children": [column("year", "int"), year.clone()]}).to_string(),
        json!({"op": "isNull", "children": [literal("1", "int")]}).to_string(),
        cmp("equal", "year", "decimal", "1").to_string(),
        cmp("equal", "year", "int", "one").to_string(),
        cmp("equal", "year", "date", "2021-13-01").to_string(),
        cmp("equal", "year", "timestamp", "yesterday").to_string(),
        cmp("equal", "", "int", "1").to_string(),
        // Type mismatch between the two sides.
        json!({"op": "equal", "children": [column("year", "int"), literal("1", "string")]})
            .to_string(),
        json!({"op": "equal", "children": [column("year", "date"), literal("2021-01-01T00:00:00Z", "timestamp")]})
            .to_string(),
        json!({"op": "column", "name": "flag", "valueType": "bool"}).to_string(),
    ];
    for json in bad {
        assert!(Predicate::parse(&json).is_none(), "{json}");
    }
    // Compatible widths mix.
    let mixed = json!({"op": "equal", "children": [column("x", "float"), literal("1", "double")]});
    assert!(Predicate::parse(&mixed.to_string()).is_some());
    let mixed = json!({"op": "equal", "children": [column("x", "int"), literal("1", "long")]});
    assert!(Predicate::parse(&mixed.to_string()).is_some());
    // Bare JSON numbers as literal values are accepted.
    let bare = json!({"op": "equal", "children": [column("x", "int"), {"op": "literal", "value": 3, "valueType": "int"}]});
    assert_eq!(on_parts(&bare, &[("x", Some("3"))]), T);
    let flag = json!({"op": "equal", "children": [column("b", "bool"), literal("true", "bool")]});
    assert_eq!(on_parts(&flag, &[("b", Some("false"))]), F);
}

#[test]
fn depth_and_size_limits() {
    // `not` nodes wrapping one comparison: depth = nots + 2 (comparison and its leaves).
    // Checked on the tree itself: serde_json's own limit of 128 nested JSON values (two per
    // node, object and `children` array) already rejects such texts at about 63 nodes.
    let nested = |nots: usize| (0..nots).fold(cmp("equal", "x", "int", "1"), |t, _| not(t));
    assert!(parse_node(&nested(98), 1).is_some());
    assert!(parse_node(&nested(99), 1).is_none());
    assert!(Predicate::parse(&nested(60).to_string()).is_some());
    assert!(Predicate::parse(&nested(98).to_string()).is_none());

    let big = or(vec![cmp("equal", "x", "string", &"a".repeat(1000)); 1100]);
    let json = big.to_string();
    assert!(json.len() > MAX_JSON_LEN);
    assert!(Predicate::parse(&json).is_none());
    let fits = or(vec![cmp("equal", "x", "string", &"a".repeat(1000)); 900]);
    let json = fits.to_string();
    assert!(json.len() > 1_000_000 && json.len() <= MAX_JSON_LEN);
    assert!(Predicate::parse(&json).is_some());
}

#[test]
fn reference_example() {
    let json = r#"{"op":"and","children":[{"op":"equal","children":[{"op":"column","name":"hireDate","valueType":"date"},{"op":"literal","value":"2021-04-29","valueType":"date"}]},{"op":"lessThan","children":[{"op":"column","name":"id","valueType":"int"},{"op":"literal","value":"25","valueType":"int"}]}]}"#;
    let p = Predicate::parse(json).unwrap();
    let hit = parts(&[("hireDate", Some("2021-04-29"))]);
    let miss = parts(&[("hireDate", Some("2021-04-30"))]);
    let ids = stats("id", json!(30), json!(40), 0, 10);
    let file = |pv, stats| FileFacts {
        partition_values: pv,
        stats,
    };
    assert!(p.needs_stats(&["hireDate".to_string()]));
    assert!(p.may_match(&file(&hit, None)));
    assert!(!p.may_match(&file(&miss, None)));
    assert!(!p.may_match(&file(&hit, Some(&ids))));
}
