//! `fireshare demo`: sample FIRE tables, a catalog that shares them, a recipient profile, an
//! admin token for the web console and a running server — everything a first-time user needs
//! to read shared data from pandas and to look around the console.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use delta_kernel::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use delta_kernel::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::admin::{Context, execute_script};
use crate::audit::{note_change, record_command};
use crate::auth::{Profile, Role, issue_token_in};
use crate::catalog::Catalog;
use crate::delta::DeltaLog;
use crate::delta::writer::{AddFile, TableWriter};
use crate::storage::Stores;
use crate::web::ServerConfig;
use crate::{Error, Result};

pub const SHARE: &str = "regulatory_reports";
pub const RECIPIENT: &str = "regulatory_body";

/// Writes the sample tables (once), shares them, issues a profile, and serves until stopped.
pub fn run(config: ServerConfig) -> Result<()> {
    let tables = config.data_dir.path().join("demo-tables");
    config.data_dir.ensure()?;
    let catalog = Catalog::open(&config.database)?;
    let dir = &config.data_dir;
    let fresh = !tables.exists();
    let (stores, delta) = (Stores::open(dir)?, DeltaLog::new());
    let context = Context {
        role: Role::Admin,
        base_dir: Path::new("."),
        public_url: &config.public_url,
        activation_ttl: config.activation_ttl,
        delta: &delta,
        stores: &stores,
        trail: None,
        who: None,
        admin: None,
        max_output: None,
    };
    if fresh {
        ensure_fire_schemas(dir, &catalog)?;
        write_collateral(&tables.join("collateral"))?;
        write_loan(&tables.join("loan"))?;
        let sql = format!(
            "CREATE TABLE fire.collateral_gold USING DELTA LOCATION '{collateral}' COMMENT 'FIRE collateral, partitioned by currency';
             CREATE TABLE fire.loan_gold USING DELTA LOCATION '{loan}' COMMENT 'FIRE loans';
             CREATE SHARE {SHARE} COMMENT 'FIRE regulatory reports';
             ALTER TABLE fire.collateral_gold SET TBLPROPERTIES ('fire.entity' = 'collateral', 'fire.min_pass_rate' = '0.95');
             ALTER SHARE {SHARE} ADD TABLE fire.collateral_gold WITH HISTORY;
             ALTER SHARE {SHARE} ADD TABLE fire.loan_gold;
             CREATE RECIPIENT {RECIPIENT} COMMENT 'the regulator';
             GRANT SELECT ON SHARE {SHARE} TO RECIPIENT {RECIPIENT};",
            collateral = tables.join("collateral").display(),
            loan = tables.join("loan").display(),
        );
        let results = record_command(dir, &catalog, "runSql", |trail| {
            let context = Context {
                trail: Some(trail),
                ..context
            };
            execute_script(&catalog, &sql, &context)
        })?;
        for result in results {
            eprint!("{}", result.render());
        }
    }
    // Validate what is new before serving: recipients get only versions that pass. The
    // history below shows the outcome, version by version.
    record_command(dir, &catalog, "validateTable", |_| {
        crate::fire::quality::validate_command(
            &catalog,
            &stores,
            "fire.collateral_gold",
            None,
            |_| {},
        )
    })?;
    eprintln!("\nFIRE quality of fire.collateral_gold (recipients read only versions that pass):");
    for result in execute_script(&catalog, "DESCRIBE HISTORY fire.collateral_gold", &context)? {
        eprint!("{}", result.render());
    }
    let token = record_command(dir, &catalog, "createToken", |trail| {
        let text = format!("fireshare demo: token for {RECIPIENT}");
        note_change(trail, &catalog, (&text, "createToken"), |tx| {
            issue_token_in(tx, RECIPIENT, None)
        })
    })?;
    // An admin token for the web console, kept in a private file rather than printed.
    let admin = record_command(dir, &catalog, "createAdminToken", |trail| {
        let text = "fireshare demo: admin token for the console";
        note_change(trail, &catalog, (text, "createAdminToken"), |tx| {
            crate::auth::issue_admin_token_in(tx, "demo", Role::Admin, None)
        })
    })?;
    let admin_path = absolute(&config.data_dir.path().join("console-admin.token"))?;
    crate::secret::write_private(&admin_path, format!("{}\n", admin.token).as_bytes())?;
    let console = format!("{}{}", config.public_url, crate::web::CONSOLE_PREFIX);
    let profile_path = absolute(&config.data_dir.path().join("regulator.share"))?;
    let _ = std::fs::remove_file(&profile_path);
    crate::secret::write_private(
        &profile_path,
        Profile::new(&config.sharing_endpoint(), &token)
            .to_json()
            .as_bytes(),
    )?;
    drop(catalog);
    crate::web::run(config, |_| {
        println!("\nfireshare demo is running. Paste into Python (pip install delta-sharing):\n");
        println!("import delta_sharing");
        println!("profile = {:?}", profile_path.display().to_string());
        println!(
            "print(delta_sharing.load_as_pandas(profile + \"#{SHARE}.fire.collateral_gold\"))"
        );
        println!(
            "\nThe web console: {console} (sign in with the admin token in {}).",
            admin_path.display()
        );
        println!("\nPress Ctrl-C to stop.");
    })
}

/// The FIRE schemas the demo validates against: the directory given (`--fire-schemas`) or
/// remembered, else this project's built-in collateral rule pack, written into the data
/// directory.
fn ensure_fire_schemas(dir: &crate::data_dir::DataDir, catalog: &Catalog) -> Result<()> {
    if catalog
        .read(|c| c.setting(crate::catalog::FIRE_SCHEMAS))?
        .is_some()
    {
        return Ok(());
    }
    let pack = dir.path().join("fire-schemas");
    std::fs::create_dir_all(&pack)?;
    std::fs::write(
        pack.join("collateral.json"),
        include_str!("../catalog/fire/collateral.json"),
    )?;
    crate::fire::remember_schemas(dir, catalog, &pack)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(std::env::current_dir()?.join(path))
}

fn collateral_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(
            "date",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("type", DataType::Utf8, true),
        Field::new("value", DataType::Int64, true),
        Field::new("encumbrance_type", DataType::Utf8, true),
        Field::new("encumbrance_amount", DataType::Int64, true),
        Field::new("charge", DataType::Int32, true),
        Field::new("end_date", DataType::Date32, true),
    ]))
}

/// 2024-03-31T00:00:00Z and 2024-06-30T00:00:00Z: two quarterly reporting dates.
const Q1: i64 = 1_711_843_200_000_000;
const Q2: i64 = 1_719_705_600_000_000;

fn collateral_batch(first_id: usize, count: usize, date: i64) -> Result<RecordBatch> {
    const TYPES: [&str; 5] = [
        "residential_property",
        "commercial_property",
        "cash",
        "security",
        "guarantee",
    ];
    const ENCUMBRANCE: [&str; 3] = ["none", "repo", "covered_bond"];
    let ids = first_id..first_id + count;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            ids.clone().map(|i| format!("COL-{i:05}")),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(ids.clone().map(|_| date))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            ids.clone().map(|i| TYPES[i % TYPES.len()]),
        )),
        Arc::new(Int64Array::from_iter_values(
            ids.clone()
                .map(|i| 10_000_000 + (i as i64 * 7_919) % 90_000_000),
        )),
        Arc::new(StringArray::from_iter_values(
            ids.clone().map(|i| ENCUMBRANCE[i % ENCUMBRANCE.len()]),
        )),
        Arc::new(Int64Array::from_iter_values(
            ids.clone().map(|i| (i as i64 % 4) * 1_000_000),
        )),
        Arc::new(Int32Array::from_iter_values(
            ids.clone().map(|i| (i % 3) as i32 + 1),
        )),
        Arc::new(Date32Array::from_iter_values(
            ids.map(|i| 20_000 + (i % 365) as i32),
        )),
    ];
    RecordBatch::try_new(collateral_schema(), columns).map_err(|e| Error::internal(e.to_string()))
}

/// The collateral table: partitioned by `currency_code`, five versions (appends, a second
/// reporting date, a correction that rewrites one file, a late addition).
fn write_collateral(root: &Path) -> Result<()> {
    let mut table_schema: Vec<Field> = collateral_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    table_schema.push(Field::new("currency_code", DataType::Utf8, false));
    let mut table = TableWriter::create(
        root,
        "collateral",
        "FIRE collateral (sample data)",
        &Schema::new(table_schema),
        &["currency_code"],
        &[],
    )?;
    let eur = table.write_file(&collateral_batch(0, 40, Q1)?, &[("currency_code", "EUR")])?;
    let gbp = table.write_file(&collateral_batch(40, 30, Q1)?, &[("currency_code", "GBP")])?;
    table.commit("WRITE", &[eur.clone(), gbp], &[])?;
    let usd = table.write_file(&collateral_batch(70, 25, Q1)?, &[("currency_code", "USD")])?;
    table.commit("WRITE", &[usd], &[])?;
    let eur_q2 = table.write_file(&collateral_batch(100, 45, Q2)?, &[("currency_code", "EUR")])?;
    table.commit("WRITE", &[eur_q2], &[])?;
    // A correction: the first EUR file is replaced by one without its last ten rows.
    let corrected = table.write_file(&collateral_batch(0, 30, Q1)?, &[("currency_code", "EUR")])?;
    table.commit("DELETE", &[corrected], std::slice::from_ref(&eur))?;
    let chf = table.write_file(&collateral_batch(150, 12, Q2)?, &[("currency_code", "CHF")])?;
    table.commit("WRITE", &[chf], &[])?;
    // A late file with negative charges on half its rows: version 6 passes 93.8% of FIRE's
    // rules, below the table's 95%, so recipients keep reading version 5.
    let late = collateral_batch(200, 20, Q2)?;
    let charges: Int32Array = (0..20)
        .map(|i| Some(if i % 2 == 0 { -1 } else { 1 }))
        .collect();
    let mut columns = late.columns().to_vec();
    let charge = late
        .schema()
        .index_of("charge")
        .map_err(|e| Error::internal(e.to_string()))?;
    columns[charge] = Arc::new(charges);
    let late =
        RecordBatch::try_new(late.schema(), columns).map_err(|e| Error::internal(e.to_string()))?;
    let late = table.write_file(&late, &[("currency_code", "GBP")])?;
    table.commit("WRITE", &[late], &[])?;
    Ok(())
}

fn write_loan(root: &Path) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(
            "date",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("type", DataType::Utf8, true),
        Field::new("purpose", DataType::Utf8, true),
        Field::new("currency_code", DataType::Utf8, true),
        Field::new("balance", DataType::Int64, true),
        Field::new("interest_rate", DataType::Float64, true),
        Field::new("customer_id", DataType::Utf8, true),
    ]));
    const TYPES: [&str; 4] = ["mortgage", "personal", "commercial", "credit_card"];
    const PURPOSES: [&str; 4] = ["house_purchase", "remortgage", "investment", "other"];
    const CURRENCIES: [&str; 3] = ["EUR", "GBP", "USD"];
    let batch = |first: usize, count: usize, date: i64| -> Result<RecordBatch> {
        let ids = first..first + count;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| format!("LOAN-{i:05}")),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(ids.clone().map(|_| date))
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| TYPES[i % 4]),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| PURPOSES[i % 4]),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.clone().map(|i| CURRENCIES[i % 3]),
            )),
            Arc::new(Int64Array::from_iter_values(
                ids.clone()
                    .map(|i| 5_000_000 + (i as i64 * 104_729) % 50_000_000),
            )),
            Arc::new(Float64Array::from_iter_values(
                ids.clone().map(|i| 0.01 + (i % 50) as f64 / 1000.0),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.map(|i| format!("CUST-{:04}", i % 97)),
            )),
        ];
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::internal(e.to_string()))
    };
    let mut table =
        TableWriter::create(root, "loan", "FIRE loans (sample data)", &schema, &[], &[])?;
    let files: Vec<AddFile> = [table.write_file(&batch(0, 120, Q1)?, &[])?].into();
    table.commit("WRITE", &files, &[])?;
    let more = table.write_file(&batch(120, 80, Q2)?, &[])?;
    table.commit("WRITE", &[more], &[])?;
    Ok(())
}
