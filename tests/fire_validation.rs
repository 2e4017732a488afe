//! Validating collateral rows against the rules derived from the upstream FIRE schema:
//! the seed document's case (1,000 rows, 78 defective, 922 passing, 84 rule failures) read from
//! a Delta table's Parquet files, the must-pass decoys of fire.md §4.5, each invalid-row kind
//! failing exactly its rule, and schema-level errors.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use delta_kernel::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray,
    StringBuilder, TimestampMicrosecondArray,
};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use fireshare::delta::writer::TableWriter;
use fireshare::delta::{DeltaLog, VersionSpec};
use fireshare::fire::schema::{Entity, SchemaDir};
use fireshare::fire::validate::{ReadAll, Tally, Validator, validate_snapshot};
use rand::SeedableRng;
use rand::seq::SliceRandom;

fn collateral() -> Option<Entity> {
    let shared = common::shared_dir(&["fire/schemas"])?;
    Some(
        SchemaDir::new(shared.join("fire/schemas"))
            .entity("collateral")
            .unwrap(),
    )
}

/// One collateral row; `None` is a null cell.
#[derive(Clone)]
struct Row {
    id: Option<String>,
    date: Option<i64>,
    value: Option<i64>,
    kind: Option<&'static str>,
    currency: Option<&'static str>,
    country: Option<&'static str>,
    book: Option<&'static str>,
    charge: Option<i64>,
    encumbrance: Option<i64>,
    loan_ids: Option<Vec<&'static str>>,
    account_ids: Option<Vec<&'static str>>,
    regulated: Option<bool>,
    start_date: Option<i64>,
    end_date: Option<i64>,
    vol_adj: Option<f64>,
    /// Not a FIRE column: extra columns pass.
    note: Option<&'static str>,
}

const JUNE_30: i64 = 1_719_705_600_000_000;

/// A valid row, varied by `i` through the must-pass decoys: odd but valid codes, zero and
/// negative values where no bound forbids them, one-element arrays, nulls in optional columns.
fn valid(i: usize) -> Row {
    let pick = |options: &[&'static str]| options[i % options.len()];
    Row {
        id: Some(format!("col_{i:06}")),
        date: Some(JUNE_30),
        value: Some(if i % 50 == 7 {
            -1_000
        } else {
            32_500_000 + i as i64
        }),
        kind: Some(pick(&[
            "residential_property",
            "cash",
            "debenture",
            "life_policy",
        ])),
        currency: Some(pick(&["GBP", "EUR", "XXX", "XAU", "USD"])),
        country: Some(pick(&["GB", "DE", "XX", "US-NY", "FR", "IE"])),
        book: (!i.is_multiple_of(3)).then_some(pick(&["banking_book", "trading_book"])),
        charge: [Some(0), Some(1), Some(2), None][i % 4],
        encumbrance: [Some(0), Some(5_000), None][i % 3],
        loan_ids: (i.is_multiple_of(2)).then(|| vec!["loan_000001"]),
        account_ids: (i.is_multiple_of(5)).then(|| vec!["acc_000123", "acc_000124"]),
        regulated: [Some(true), Some(false), None][i % 3],
        // end before start: no cross-field rule exists.
        start_date: Some(JUNE_30),
        end_date: (i.is_multiple_of(4)).then_some(JUNE_30 - 86_400_000_000),
        vol_adj: (!i.is_multiple_of(2)).then_some(0.15),
        note: (i.is_multiple_of(7)).then_some("extra column"),
    }
}

fn batch(rows: &[Row]) -> RecordBatch {
    let text = |f: &dyn Fn(&Row) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let long = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let time = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(f)
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        )
    };
    let list = |f: &dyn Fn(&Row) -> Option<Vec<&'static str>>| -> ArrayRef {
        let mut builder = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match f(row) {
                Some(items) => {
                    items.iter().for_each(|s| builder.values().append_value(s));
                    builder.append(true);
                }
                None => builder.append(false),
            }
        }
        Arc::new(builder.finish())
    };
    let s = |v: Option<&'static str>| v.map(str::to_string);
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let strings = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let schema = Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("date", timestamp.clone(), true),
        Field::new("value", DataType::Int64, true),
        Field::new("type", DataType::Utf8, true),
        Field::new("currency_code", DataType::Utf8, true),
        Field::new("country_code", DataType::Utf8, true),
        Field::new("regulatory_book", DataType::Utf8, true),
        Field::new("charge", DataType::Int64, true),
        Field::new("encumbrance_amount", DataType::Int64, true),
        Field::new("loan_ids", strings.clone(), true),
        Field::new("account_ids", strings, true),
        Field::new("regulated", DataType::Boolean, true),
        Field::new("start_date", timestamp.clone(), true),
        Field::new("end_date", timestamp, true),
        Field::new("vol_adj", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.id.clone()),
        time(&|r| r.date),
        long(&|r| r.value),
        text(&|r| s(r.kind)),
        text(&|r| s(r.currency)),
        text(&|r| s(r.country)),
        text(&|r| s(r.book)),
        long(&|r| r.charge),
        long(&|r| r.encumbrance),
        list(&|r| r.loan_ids.clone()),
        list(&|r| r.account_ids.clone()),
        Arc::new(rows.iter().map(|r| r.regulated).collect::<BooleanArray>()),
        time(&|r| r.start_date),
        time(&|r| r.end_date),
        Arc::new(rows.iter().map(|r| r.vol_adj).collect::<Float64Array>()),
        text(&|r| s(r.note)),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

/// The defect kinds of fire.md §4.5, each with the one rule it must fail. Dates and values of
/// the wrong type (BAD_DATE, WRONG_TYPE) cannot exist in a typed column: they arrive as nulls.
/// What a defect is called, how it is made, and the rule it fails.
type Defect = (&'static str, fn(&mut Row), &'static str);

fn defects() -> Vec<Defect> {
    vec![
        ("missing id", |r| r.id = None, "[`id`] NULLABLE"),
        ("missing date", |r| r.date = None, "[`date`] NULLABLE"),
        ("missing value", |r| r.value = None, "[`value`] NULLABLE"),
        ("bad type", |r| r.kind = Some("castle"), "[`type`] VALUE"),
        (
            "lower-case currency",
            |r| r.currency = Some("gbp"),
            "[`currency_code`] VALUE",
        ),
        (
            "crypto currency",
            |r| r.currency = Some("BTC"),
            "[`currency_code`] VALUE",
        ),
        (
            "UK is no country code",
            |r| r.country = Some("UK"),
            "[`country_code`] VALUE",
        ),
        (
            "bad book",
            |r| r.book = Some("banking"),
            "[`regulatory_book`] VALUE",
        ),
        (
            "negative charge",
            |r| r.charge = Some(-1),
            "[`charge`] VALUE",
        ),
        (
            "negative encumbrance",
            |r| r.encumbrance = Some(-5_000),
            "[`encumbrance_amount`] VALUE",
        ),
        (
            "no loans",
            |r| r.loan_ids = Some(vec![]),
            "[`loan_ids`] SIZE",
        ),
        (
            "no accounts",
            |r| r.account_ids = Some(vec![]),
            "[`account_ids`] SIZE",
        ),
        (
            "bad date (null once typed)",
            |r| r.date = None,
            "[`date`] NULLABLE",
        ),
        (
            "value of the wrong type (null once typed)",
            |r| r.value = None,
            "[`value`] NULLABLE",
        ),
    ]
}

fn failures_by_name(validator: &Validator, tally: &Tally) -> BTreeMap<String, u64> {
    validator
        .rules
        .iter()
        .zip(&tally.failures)
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| (r.name.clone(), *n))
        .collect()
}

#[test]
fn decoys_pass_and_each_defect_fails_exactly_its_rule() {
    let Some(entity) = collateral() else { return };
    let validator = Validator::new(&entity).unwrap();
    let rows: Vec<Row> = (0..300).map(valid).collect();
    let mut tally = Tally::new(validator.rules.len());
    validator.check(&batch(&rows), "decoys", 0, None, &mut tally);
    assert_eq!(
        (tally.rows, tally.passing),
        (300, 300),
        "{:?}",
        failures_by_name(&validator, &tally)
    );
    for (what, inject, rule) in defects() {
        let mut row = valid(1);
        inject(&mut row);
        let mut tally = Tally::new(validator.rules.len());
        validator.check(&batch(&[row]), "one", 0, None, &mut tally);
        assert_eq!(tally.passing, 0, "{what}");
        assert_eq!(
            failures_by_name(&validator, &tally),
            BTreeMap::from([(rule.to_string(), 1)]),
            "{what}"
        );
    }
}

#[test]
fn the_seed_case_reports_922_of_1000_rows_passing() {
    let Some(entity) = collateral() else { return };
    // fire.md §4.6: 18 missing required, 20 bad enums, 14 out of range, 10 empty arrays,
    // 8 bad dates, 8 values of the wrong type: 78 rows; six of them get a second defect.
    let kinds = defects();
    let kind = |name: &str| kinds.iter().position(|(w, _, _)| *w == name).unwrap();
    let mix: Vec<(usize, usize)> = [
        ("missing id", 4),
        ("missing date", 6),
        ("missing value", 8),
        ("bad type", 6),
        ("lower-case currency", 5),
        ("crypto currency", 3),
        ("UK is no country code", 4),
        ("bad book", 2),
        ("negative charge", 7),
        ("negative encumbrance", 7),
        ("no loans", 6),
        ("no accounts", 4),
        ("bad date (null once typed)", 8),
        ("value of the wrong type (null once typed)", 8),
    ]
    .iter()
    .map(|(name, n)| (kind(name), *n))
    .collect();
    let mut rows: Vec<Row> = (0..1000).map(valid).collect();
    let mut order: Vec<usize> = (0..1000).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(922));
    let mut bad = order.into_iter();
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    let mut defective = Vec::new();
    for (k, n) in mix {
        for _ in 0..n {
            let row = bad.next().unwrap();
            (kinds[k].1)(&mut rows[row]);
            *expected.entry(kinds[k].2.to_string()).or_default() += 1;
            defective.push(row);
        }
    }
    // A second defect, of another rule, in six of the defective rows.
    for (row, second) in defective
        .iter()
        .take(6)
        .zip(["bad type", "negative charge"].iter().cycle())
    {
        let (_, inject, rule) = &kinds[kind(second)];
        inject(&mut rows[*row]);
        *expected.entry(rule.to_string()).or_default() += 1;
    }
    assert_eq!(expected.values().sum::<u64>(), 84);

    // Into a Delta table of two files, read back from Parquet.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("collateral");
    let first = batch(&rows[..500]);
    let mut table =
        TableWriter::create(&root, "collateral", "", &first.schema(), &[], &[]).unwrap();
    let files = vec![
        table.write_file(&first, &[]).unwrap(),
        table.write_file(&batch(&rows[500..]), &[]).unwrap(),
    ];
    table.commit("WRITE", &files, &[]).unwrap();
    let delta = DeltaLog::new();
    let url = fireshare::storage::Location::local(url::Url::from_directory_path(&root).unwrap());
    let snapshot = delta.snapshot(&url, VersionSpec::Latest).unwrap();
    let validator = Validator::new(&entity).unwrap();
    let report = validate_snapshot(
        &delta,
        &url,
        &snapshot,
        &entity,
        &validator,
        &mut ReadAll,
        &mut |_| {},
    )
    .unwrap();
    assert!(
        report.schema_errors.is_empty(),
        "{:?}",
        report.schema_errors
    );
    assert_eq!(report.files_read, 2);
    assert_eq!((report.tally.rows, report.tally.passing), (1000, 922));
    assert!((report.pass_rate() - 0.922).abs() < 1e-12);
    assert_eq!(failures_by_name(&validator, &report.tally), expected);
    // Samples name the row, the file and the value that failed.
    let charge = validator
        .rules
        .iter()
        .position(|r| r.name == "[`charge`] VALUE")
        .unwrap();
    let sample = &report.tally.samples[charge][0];
    assert_eq!(sample.value.as_deref(), Some("-1"));
    assert!(sample.file.ends_with(".parquet"));
}

#[test]
fn columns_that_cannot_hold_the_fire_type_are_schema_errors() {
    let Some(entity) = collateral() else { return };
    let schema = Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        // Money is 64-bit minor units.
        Field::new("value", DataType::Int32, false),
        Field::new("charge", DataType::Utf8, true),
    ]);
    let errors = fireshare::fire::validate::schema_errors(&entity, &schema);
    assert_eq!(
        errors,
        [
            "required column date is missing",
            "column charge is Utf8, which cannot hold FIRE Integer",
            "column value is Int32, which cannot hold FIRE Integer (64-bit money)",
        ]
    );
}

/// `n` rows from `start`, the first `bad` of them with one defect each (kinds in turn).
fn rows_with_defects(start: usize, n: usize, bad: usize) -> Vec<Row> {
    let kinds = defects();
    (start..start + n)
        .map(|i| {
            let mut row = valid(i);
            if i - start < bad {
                (kinds[(i - start) % kinds.len()].1)(&mut row);
            }
            row
        })
        .collect()
}

/// The multi-version fixture of fire.md §4.6 at `dir/collateral` (version 0 creates the
/// table): version 1 has 1,000 valid rows, version 2 adds 1,000 with 156 defective (92.2%).
struct Fixture {
    table: TableWriter,
    root: std::path::PathBuf,
    /// The files holding defective rows.
    bad: Vec<fireshare::delta::writer::AddFile>,
}

impl Fixture {
    fn new(dir: &std::path::Path) -> Self {
        let root = dir.join("collateral");
        let v1 = batch(&rows_with_defects(0, 1000, 0));
        let mut table =
            TableWriter::create(&root, "collateral", "", &v1.schema(), &[], &[]).unwrap();
        let file = table.write_file(&v1, &[]).unwrap();
        table.commit("WRITE", &[file], &[]).unwrap();
        let mut fixture = Fixture {
            table,
            root,
            bad: Vec::new(),
        };
        fixture.append(1000, 1000, 156);
        fixture
    }

    /// Registers the table as `fire.{name}` in the data directory `data`, then runs `more`.
    fn register(&self, data: &str, shared: &std::path::Path, name: &str, more: &str) {
        fireshare_out(&[
            "sql",
            "--data-dir",
            data,
            "--fire-schemas",
            shared.join("fire/schemas").to_str().unwrap(),
            &format!(
                "CREATE TABLE fire.{name} USING DELTA LOCATION '{}'; {more}",
                self.root.display()
            ),
        ]);
    }

    /// Appends `n` rows from `start`, the first `bad` defective.
    fn append(&mut self, start: usize, n: usize, bad: usize) {
        let file = self
            .table
            .write_file(&batch(&rows_with_defects(start, n, bad)), &[])
            .unwrap();
        self.table
            .commit("WRITE", std::slice::from_ref(&file), &[])
            .unwrap();
        if bad > 0 {
            self.bad.push(file);
        }
    }

    /// Version 3: 1,000 rows more, 300 defective (84.8%).
    fn add_bad_version(&mut self) {
        self.append(2000, 1000, 300);
    }

    /// Version 4, a DELETE of every defective row: the files holding them rewritten without.
    fn delete_bad_rows(&mut self) {
        let clean = [(1156, 844), (2300, 700)].map(|(start, n)| {
            self.table
                .write_file(&batch(&rows_with_defects(start, n, 0)), &[])
                .unwrap()
        });
        let bad = std::mem::take(&mut self.bad);
        self.table.commit("DELETE", &clean, &bad).unwrap();
    }
}

fn fireshare_out(args: &[&str]) -> String {
    let out = common::fireshare().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

#[test]
fn versions_are_validated_incrementally_and_reported() {
    let Some(shared) = common::shared_dir(&["fire/schemas"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let mut fixture = Fixture::new(dir.path());
    fixture.register(
        data_arg,
        &shared,
        "collateral",
        "ALTER TABLE fire.collateral SET TBLPROPERTIES ('fire.entity' = 'collateral', 'fire.min_pass_rate' = '0.9')",
    );
    let validate = || {
        fireshare_out(&[
            "fire",
            "validate",
            "--data-dir",
            data_arg,
            "fire.collateral",
        ])
    };
    let first = validate();
    assert!(
        first.contains("version 1: 1000 rows, 1000 passing (100.0%), passes; 1 data files read"),
        "{first}"
    );
    assert!(
        first.contains("version 2: 2000 rows, 1844 passing (92.2%), passes; 1 data files read"),
        "{first}"
    );

    fixture.add_bad_version();
    fixture.delete_bad_rows();
    let second = validate();
    // Only the files no earlier version had are read.
    assert!(
        second.contains(
            "version 3: 3000 rows, 2544 passing (84.8%), below the threshold; 1 data files read"
        ),
        "{second}"
    );
    assert!(
        second.contains("version 4: 2544 rows, 2544 passing (100.0%), passes; 2 data files read"),
        "{second}"
    );
    assert!(!second.contains("version 2:"), "validated once: {second}");

    let history = fireshare_out(&[
        "sql",
        "--json",
        "--data-dir",
        data_arg,
        "DESCRIBE HISTORY fire.collateral",
    ]);
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    let statuses: Vec<(&str, &str)> = history["results"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[4].as_str().unwrap(), r[5].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("1.0000", "passes (100.0%)"),
            ("1.0000", "passes (100.0%)"),
            ("0.9220", "passes (92.2%)"),
            ("0.8480", "below the threshold (84.8%)"),
            ("1.0000", "passes (100.0%)")
        ]
    );
    let quality = fireshare_out(&[
        "sql",
        "--json",
        "--data-dir",
        data_arg,
        "SHOW QUALITY FOR TABLE fire.collateral VERSION 3",
    ]);
    let quality: serde_json::Value = serde_json::from_str(&quality).unwrap();
    let rows = quality["results"][0]["rows"].as_array().unwrap();
    // The version's summary first, then one row per rule.
    let summary = &rows[0];
    assert_eq!(summary[1], "(summary)");
    assert_eq!(summary[2], "456");
    let said = summary[3].as_str().unwrap();
    assert!(
        said.starts_with(
            "3000 rows, 2544 passing (84.80%): below the threshold (84.8%); validated "
        ),
        "{said}"
    );
    assert!(said.contains("against the rules of digest "), "{said}");
    let missing_id = rows
        .iter()
        .find(|r| r[1] == "[`id`] NULLABLE")
        .expect("the id rule fails");
    let samples = missing_id[4].as_str().unwrap();
    assert!(
        samples.contains(": NULL"),
        "a null shows as NULL: {samples}"
    );
    let failing: u64 = rows[1..]
        .iter()
        .map(|r| r[2].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(failing, 456, "one defect in each of 156 + 300 rows");
}

#[test]
fn recipients_read_only_approved_versions_with_the_real_connector() {
    let Some(shared) = common::shared_dir(&["fire/schemas"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let mut fixture = Fixture::new(dir.path());
    fixture.register(
        data_arg,
        &shared,
        "collateral_gold",
        "CREATE SHARE reports; ALTER SHARE reports ADD TABLE fire.collateral_gold WITH HISTORY;
         CREATE RECIPIENT regulator; GRANT SELECT ON SHARE reports TO RECIPIENT regulator;",
    );
    let server = common::Server::start(&data);
    let profile = common::profile(&data, &server, "regulator", &[]);
    let url = format!("{}#reports.fire.collateral_gold", profile.display());
    let read = |version: Option<u64>| -> serde_json::Value {
        let version = version.map(|v| v.to_string());
        let mut args = vec![url.as_str()];
        args.extend(version.as_deref());
        serde_json::from_str(common::run_python("fire_read.py", &args).trim()).unwrap()
    };
    let validate = || {
        fireshare_out(&[
            "fire",
            "validate",
            "--data-dir",
            data_arg,
            "fire.collateral_gold",
        ])
    };

    // Bound while the server runs: until the versions are validated there is nothing to read.
    fireshare_out(&[
        "sql",
        "--data-dir",
        data_arg,
        "ALTER TABLE fire.collateral_gold SET TBLPROPERTIES ('fire.entity' = 'collateral', 'fire.min_pass_rate' = '0.9')",
    ]);
    let before = read(None);
    let message = before["error"].as_str().unwrap_or_default();
    assert!(message.contains("has no validated version yet"), "{before}");
    validate();
    assert_eq!(
        read(None),
        serde_json::json!({"rows": 2000}),
        "version 2 passes at 92.2%"
    );

    // Version 3 (84.8%) lands: recipients still read version 2.
    fixture.add_bad_version();
    validate();
    assert_eq!(read(None), serde_json::json!({"rows": 2000}));
    let refused = read(Some(3));
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("400"), "{message}");
    // The connector shows the server's message, wrapped.
    assert!(
        message.contains("version 3 of table reports.fire.collateral_gold is not served"),
        "{message}"
    );
    assert!(message.contains("below the threshold (84.8%)"), "{message}");

    // Version 4 deletes every bad row: served at once.
    fixture.delete_bad_rows();
    validate();
    assert_eq!(read(None), serde_json::json!({"rows": 2544}));

    // What the regulator is told of the validation: in the metadata's configuration, as the
    // connector reads it, and in the delivery receipt, under the same rules digest.
    let evidence: serde_json::Value =
        serde_json::from_str(common::run_python("fire_read.py", &[&url, "metadata"]).trim())
            .unwrap();
    assert_eq!(
        evidence["fireshare.fire.entity"], "collateral",
        "{evidence}"
    );
    assert_eq!(evidence["fireshare.fire.version"], "4", "{evidence}");
    assert_eq!(evidence["fireshare.fire.rowsChecked"], "2544", "{evidence}");
    assert_eq!(evidence["fireshare.fire.passRate"], "1", "{evidence}");
    assert_eq!(
        evidence["fireshare.fire.status"], "passes (100.0%)",
        "{evidence}"
    );
    assert!(
        evidence.get("fireshare.fire.approvedBy").is_none(),
        "{evidence}"
    );
    let digest = evidence["fireshare.fire.rulesDigest"].as_str().unwrap();
    assert_eq!(digest.len(), 64, "{evidence}");
    let token = common::bearer(&profile);
    let http = reqwest::blocking::Client::new();
    let table = |tail: &str| {
        format!(
            "{}/shares/reports/schemas/fire/tables/collateral_gold{tail}",
            server.endpoint()
        )
    };
    let response = http
        .post(table("/query"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"limitHint": 1}))
        .send()
        .unwrap();
    let receipt = response.headers()["fireshare-receipt"].to_str().unwrap();
    let payload = receipt.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["rulesDigest"], digest, "{claims}");
    // The ledger gives the same receipt back, rules digest and all.
    let request_id = response.headers()["x-request-id"].to_str().unwrap();
    let kept = fireshare_out(&[
        "audit",
        "receipt",
        "show",
        "--data-dir",
        data_arg,
        request_id,
    ]);
    assert_eq!(kept.lines().next(), Some(receipt));

    // An admin approves version 3 by hand: readable from then on.
    fireshare_out(&[
        "sql",
        "--data-dir",
        data_arg,
        "ALTER TABLE fire.collateral_gold APPROVE VERSION 3 COMMENT 'defects accepted for this deadline'",
    ]);
    assert_eq!(read(Some(3)), serde_json::json!({"rows": 3000}));
    let metadata = http
        .get(table("/metadata?version=3"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(metadata.lines().nth(1).unwrap()).unwrap();
    let configuration = &line["metaData"]["configuration"];
    // The command line acts as `cli:<user>`.
    let approver = configuration["fireshare.fire.approvedBy"].as_str().unwrap();
    assert!(approver.starts_with("cli:"), "{line}");
    assert_eq!(configuration["fireshare.fire.passRate"], "0.848", "{line}");

    // A server validates new versions in the background (every second here).
    drop(server);
    fixture.append(3000, 456, 0);
    let server = common::Server::run_with("serve", &data, &["--fire-poll", "1s"]);
    let profile = common::profile(&data, &server, "regulator", &[]);
    let url = format!("{}#reports.fire.collateral_gold", profile.display());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let read = common::run_python("fire_read.py", &[&url]);
        if read.contains("3000") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "version 5 was never served: {read}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    // Auditors read the quality history and reports as JSON.
    let auditor = common::admin_token(&data, "auditor", "inspector");
    let get = |path: &str| -> serde_json::Value {
        let response = reqwest::blocking::Client::new()
            .get(server.url(path))
            .bearer_auth(&auditor)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().unwrap()
    };
    let history = get("/admin/v1/quality/fire.collateral_gold");
    let statuses: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 6, "{statuses:?}");
    assert_eq!(statuses[2], "passes (92.2%)");
    assert!(statuses[3].starts_with("approved by cli:"), "{statuses:?}");
    assert_eq!(statuses[5], "passes (100.0%)");
    let report = get("/admin/v1/quality/fire.collateral_gold/versions/3");
    let currency = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["expectation_name"] == "[`currency_code`] VALUE")
        .unwrap();
    let failing: u64 = currency["failing_rows"].as_str().unwrap().parse().unwrap();
    assert!(failing > 0, "{currency}");
}

#[test]
fn deleted_rows_do_not_count_and_partition_values_are_checked() {
    let Some(shared) = common::shared_dir(&["fire/schemas", "delta-tables"]) else {
        return;
    };
    // Entities of our own for two corpus tables written by Spark: `value` must be negative
    // (no row is), `part` (a partition column, not in the data files) is required.
    let schemas = tempfile::tempdir().unwrap();
    std::fs::write(
        schemas.path().join("negative.json"),
        r#"{"type": "object", "required": ["value"],
            "properties": {"value": {"type": "integer", "maximum": -1}}}"#,
    )
    .unwrap();
    std::fs::write(
        schemas.path().join("parts.json"),
        r#"{"type": "object", "required": ["part"],
            "properties": {"part": {"type": "integer", "minimum": 0}, "col2": {"type": "string"}}}"#,
    )
    .unwrap();
    // The corpus says how many rows a reader returns and how many the files hold before their
    // deletion vectors.
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("delta-tables/expected.json")).unwrap(),
    )
    .unwrap();
    for (table, entity) in [
        ("table-with-dv-small", "negative"),
        ("dv-partitioned-with-checkpoint", "parts"),
    ] {
        let rows = expected[table]["rows"].as_u64().unwrap();
        let written = expected[table]["stats_num_records"].as_u64().unwrap();
        let entity = SchemaDir::new(schemas.path()).entity(entity).unwrap();
        let validator = Validator::new(&entity).unwrap();
        let root = std::fs::canonicalize(shared.join("delta-tables").join(table)).unwrap();
        let url = fireshare::storage::Location::local(url::Url::from_directory_path(root).unwrap());
        let delta = DeltaLog::new();
        let snapshot = delta.snapshot(&url, VersionSpec::Latest).unwrap();
        let report = validate_snapshot(
            &delta,
            &url,
            &snapshot,
            &entity,
            &validator,
            &mut ReadAll,
            &mut |_| {},
        )
        .unwrap();
        assert!(written > rows);
        assert_eq!(
            report.tally.rows, rows,
            "{table}: deleted rows must not count"
        );
        let failures = failures_by_name(&validator, &report.tally);
        match table {
            "table-with-dv-small" => {
                assert_eq!(
                    failures,
                    BTreeMap::from([("[`value`] VALUE".to_string(), rows)])
                )
            }
            _ => assert!(failures.is_empty(), "{table}: {failures:?}"),
        }
    }
}
