//! `cargo bench --bench fire`: FIRE validation speed. Writes a 10-million-row collateral table
//! (50 Parquet files, every rule-bearing column, 1% defective rows), then validates it from
//! cold against the rules derived from `../shared/fire/schemas/collateral.json` (or
//! `$FIRESHARE_SHARED_DIR`). Prints rows/s and the process's peak RSS; asserts nothing about
//! time.

use std::sync::Arc;
use std::time::Instant;

use delta_kernel::arrow::array::{
    ArrayRef, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use fireshare::delta::writer::TableWriter;
use fireshare::delta::{DeltaLog, VersionSpec};
use fireshare::fire::schema::SchemaDir;
use fireshare::fire::validate::{ReadAll, Validator, validate_snapshot};

const FILES: usize = 50;
const ROWS_PER_FILE: usize = 200_000;

/// Rows `start..start + n`; every hundredth has a defect (a bad currency or a negative charge).
fn batch(start: usize, n: usize) -> RecordBatch {
    let rows = start..start + n;
    let text = |f: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
        Arc::new(rows.clone().map(f).collect::<StringArray>())
    };
    let long = |f: &dyn Fn(usize) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.clone().map(f).collect::<Int64Array>())
    };
    let mut loans = ListBuilder::new(StringBuilder::new());
    for i in rows.clone() {
        if i % 2 == 0 {
            loans.values().append_value("loan_000001");
            loans.append(true);
        } else {
            loans.append(false);
        }
    }
    let pick = |i: usize, options: &[&str]| options[i % options.len()].to_string();
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("date", timestamp, true),
        Field::new("value", DataType::Int64, true),
        Field::new("type", DataType::Utf8, true),
        Field::new("currency_code", DataType::Utf8, true),
        Field::new("country_code", DataType::Utf8, true),
        Field::new("regulatory_book", DataType::Utf8, true),
        Field::new("charge", DataType::Int64, true),
        Field::new("encumbrance_amount", DataType::Int64, true),
        Field::new(
            "loan_ids",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ]);
    let columns: Vec<ArrayRef> = vec![
        text(&|i| Some(format!("col_{i:08}"))),
        Arc::new(
            rows.clone()
                .map(|_| Some(1_719_705_600_000_000i64))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        long(&|i| Some(32_500_000 + i as i64)),
        text(&|i| Some(pick(i, &["residential_property", "cash", "debenture"]))),
        text(&|i| {
            Some(if i % 100 == 0 {
                "gbp".into()
            } else {
                pick(i, &["GBP", "EUR", "USD"])
            })
        }),
        text(&|i| Some(pick(i, &["GB", "DE", "FR", "US-NY"]))),
        text(&|i| (i % 3 != 0).then(|| pick(i, &["banking_book", "trading_book"]))),
        long(&|i| Some(if i % 100 == 50 { -1 } else { (i % 3) as i64 })),
        long(&|i| (i % 2 == 0).then_some(5_000)),
        Arc::new(loans.finish()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let shared = std::env::var_os("FIRESHARE_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let entity = SchemaDir::new(shared.join("fire/schemas"))
        .entity("collateral")
        .expect("the FIRE schemas in ../shared (or $FIRESHARE_SHARED_DIR)");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("collateral");
    let started = Instant::now();
    let first = batch(0, ROWS_PER_FILE);
    let mut table =
        TableWriter::create(&root, "collateral", "", &first.schema(), &[], &[]).unwrap();
    let mut files = vec![table.write_file(&first, &[]).unwrap()];
    for f in 1..FILES {
        files.push(
            table
                .write_file(&batch(f * ROWS_PER_FILE, ROWS_PER_FILE), &[])
                .unwrap(),
        );
    }
    table.commit("WRITE", &files, &[]).unwrap();
    let rss_before = peak_rss_mib();
    println!(
        "wrote {} rows in {FILES} files in {:.1} s (peak RSS so far {rss_before:.0} MiB)",
        FILES * ROWS_PER_FILE,
        started.elapsed().as_secs_f64()
    );

    let delta = DeltaLog::new();
    let url = fireshare::storage::Location::local(url::Url::from_directory_path(&root).unwrap());
    let snapshot = delta.snapshot(&url, VersionSpec::Latest).unwrap();
    let validator = Validator::new(&entity).unwrap();
    let started = Instant::now();
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
    let seconds = started.elapsed().as_secs_f64();
    let rows_per_second = report.tally.rows as f64 / seconds;
    println!(
        "validated {} rows ({} passing, {:.2}%) against {} rules in {seconds:.2} s: {:.2} million rows/s; peak RSS {:.0} MiB",
        report.tally.rows,
        report.tally.passing,
        report.pass_rate() * 100.0,
        validator.rules.len(),
        rows_per_second / 1e6,
        peak_rss_mib()
    );
    match jsonschema_baseline(&shared.join("fire/schemas")) {
        Ok(baseline) => println!(
            "baseline, Python jsonschema Draft7Validator row by row on 100,000 rows: {baseline:.0} rows/s; fireshare is {:.0}x faster",
            rows_per_second / baseline
        ),
        Err(why) => println!("baseline not measured: {why}"),
    }
}

/// Rows/s of `benches/python/jsonschema_baseline.py`, in a venv under `target/tmp` made on
/// first use.
fn jsonschema_baseline(schemas: &std::path::Path) -> Result<f64, String> {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/jsonschema-venv");
    let python = venv.join("bin/python");
    let run = |command: &mut std::process::Command| -> Result<String, String> {
        let out = command.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    if !python.exists() {
        run(std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv))?;
        run(std::process::Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "-q",
            "jsonschema==4.26.0",
        ]))?;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/python/jsonschema_baseline.py");
    let out = run(std::process::Command::new(&python)
        .arg(script)
        .arg(schemas)
        .arg("100000"))?;
    let result: serde_json::Value = serde_json::from_str(out.trim()).map_err(|e| e.to_string())?;
    result["rows_per_second"]
        .as_f64()
        .ok_or_else(|| out.clone())
}
