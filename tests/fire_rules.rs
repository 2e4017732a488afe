//! Rules derived from the upstream FIRE schemas (`../shared/fire/schemas`): the counts the
//! Databricks accelerator's second generation gives (fire.md §3.5), and every entity loads or
//! says exactly why not.

mod common;

use std::collections::BTreeMap;

use fireshare::fire::rules::{RuleKind, expectations};
use fireshare::fire::schema::SchemaDir;

fn schemas() -> Option<SchemaDir> {
    common::shared_dir(&["fire/schemas"]).map(|dir| SchemaDir::new(dir.join("fire/schemas")))
}

#[test]
fn rule_counts_match_the_standard() {
    let Some(schemas) = schemas() else { return };
    // entity: (expectations, NULLABLE, VALUE, SIZE, LENGTH)
    let expected = [
        ("collateral", (14, 3, 9, 2, 0)),
        ("loan", (66, 2, 61, 2, 1)),
        ("security", (78, 2, 71, 3, 2)),
        ("derivative", (36, 2, 31, 2, 1)),
    ];
    for (entity, counts) in expected {
        let rules = expectations(&schemas.entity(entity).unwrap());
        let of = |kind: RuleKind| rules.iter().filter(|r| r.kind == kind).count();
        assert_eq!(
            (
                rules.len(),
                of(RuleKind::Nullable),
                of(RuleKind::Value),
                of(RuleKind::Size),
                of(RuleKind::Length)
            ),
            counts,
            "{entity}"
        );
    }
}

#[test]
fn collateral_rules_are_named_and_stated_like_the_accelerator() {
    let Some(schemas) = schemas() else { return };
    let rules = expectations(&schemas.entity("collateral").unwrap());
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "[`id`] NULLABLE",
            "[`date`] NULLABLE",
            "[`account_ids`] SIZE",
            "[`charge`] VALUE",
            "[`country_code`] VALUE",
            "[`currency_code`] VALUE",
            "[`encumbrance_amount`] VALUE",
            "[`encumbrance_type`] VALUE",
            "[`loan_ids`] SIZE",
            "[`regulatory_book`] VALUE",
            "[`type`] VALUE",
            "[`valuation_type`] VALUE",
            "[`value`] NULLABLE",
            "[`value_type`] VALUE",
        ]
    );
    let by_name: BTreeMap<&str, &str> = rules
        .iter()
        .map(|r| (r.name.as_str(), r.expression.as_str()))
        .collect();
    assert_eq!(
        by_name["[`charge`] VALUE"],
        "`charge` IS NULL OR `charge` >= 0.0"
    );
    assert_eq!(
        by_name["[`regulatory_book`] VALUE"],
        "`regulatory_book` IS NULL OR `regulatory_book` IN ('banking_book', 'trading_book')"
    );
    let currency = rules
        .iter()
        .find(|r| r.name == "[`currency_code`] VALUE")
        .unwrap();
    assert_eq!(currency.message, "currency_code must be one of 184 values");
}

#[test]
fn inheritance_keeps_own_properties_and_every_entity_loads_or_says_why() {
    let Some(schemas) = schemas() else { return };
    let customer = schemas.entity("customer").unwrap();
    // 13 own + 63 inherited, pd_irb_ec defined in both: 75 columns, the own one first.
    assert_eq!(customer.fields.len(), 75);
    let entity = schemas.entity("entity").unwrap();
    assert!(
        entity
            .fields
            .iter()
            .all(|f| customer.fields.iter().any(|c| c.name == f.name))
    );
    let adjustment = schemas.entity("adjustment").unwrap();
    assert_eq!(
        adjustment.exactly_one_of,
        ["contribution_amount", "contribution_text"]
    );
    let rules = expectations(&adjustment);
    assert!(rules.iter().any(|r| r.kind == RuleKind::OneOf));
    assert!(
        rules
            .iter()
            .any(|r| r.name == "[`contribution_amount`] DEPENDENCY")
    );
    let monetary = schemas.entity("loan").unwrap();
    assert!(monetary.fields.iter().any(|f| f.monetary));
    // Envelopes and switches the per-row rules cannot state are refused by name; every other
    // entity loads.
    let refused = ["batch", "curve", "example"];
    for name in schemas.entity_names().unwrap() {
        match schemas.entity(&name) {
            Ok(_) => assert!(!refused.contains(&name.as_str()), "{name} must be refused"),
            Err(e) => assert!(
                refused.contains(&name.as_str()) && e.message().contains(&format!("{name}.json#/")),
                "{name}: {}",
                e.message()
            ),
        }
    }
    for name in refused {
        assert!(
            schemas.entity_names().unwrap().iter().any(|n| n == name),
            "the schemas hold {name}"
        );
    }
}

#[test]
fn show_expectations_lists_entity_name_and_expression() {
    let Some(shared) = common::shared_dir(&["fire/schemas"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| -> serde_json::Value {
        let out = common::fireshare()
            .args(["sql", "--json", "--data-dir"])
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let schemas = shared.join("fire/schemas");
    let shown = run(&[
        "--fire-schemas",
        schemas.to_str().unwrap(),
        "SHOW EXPECTATIONS FOR ENTITY collateral",
    ]);
    let result = &shown["results"][0];
    assert_eq!(
        result["columns"],
        serde_json::json!(["entity", "expectation_name", "expectation_value"])
    );
    assert_eq!(result["rows"].as_array().unwrap().len(), 14);
    assert_eq!(
        result["rows"][0],
        serde_json::json!(["collateral", "[`id`] NULLABLE", "`id` IS NOT NULL"])
    );
    // Remembered: later runs need no option.
    let listed = run(&["SHOW FIRE SCHEMAS"]);
    let rows = listed["results"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 19, "every entity file but common.json");
    let collateral = rows.iter().find(|r| r[0] == "collateral").unwrap();
    assert_eq!(
        (&collateral[1], &collateral[2]),
        (&"31".into(), &"14".into())
    );
}
