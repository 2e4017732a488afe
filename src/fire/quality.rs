//! The quality of a bound table's versions: validating a version (reading only the data files
//! no earlier version had), and its report in the catalog.

use std::collections::BTreeMap;

use crate::storage::Stores;
use serde_json::json;

use super::schema::SchemaDir;
use super::validate::{FileResults, Progress, Report, Tally, Validator, validate_snapshot};
use crate::catalog::{self, Catalog, FileKey, QualityReport, Table};
use crate::clock::now_ms;
use crate::delta::{DataFile, DeltaLog, VersionSpec};
use crate::{Error, Result};

/// Names the rule semantics: results of another version of the validator are not reused.
pub const VALIDATOR_VERSION: &str = concat!("fireshare-", env!("CARGO_PKG_VERSION"), "/rules-1");

/// A table's FIRE binding (`TBLPROPERTIES`).
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub entity: String,
    /// Versions at or above it are served (default 1.0: every row must pass).
    pub min_pass_rate: f64,
}

impl Binding {
    /// The binding the properties state, if the table is bound.
    pub fn of(properties: &BTreeMap<String, String>) -> Result<Option<Binding>> {
        let Some(entity) = properties.get(catalog::FIRE_ENTITY) else {
            return Ok(None);
        };
        let min_pass_rate = match properties.get(catalog::FIRE_MIN_PASS_RATE) {
            None => 1.0,
            Some(text) => parse_pass_rate(text)?,
        };
        Ok(Some(Binding {
            entity: entity.clone(),
            min_pass_rate,
        }))
    }
}

/// A pass rate: a number from 0 to 1.
pub fn parse_pass_rate(text: &str) -> Result<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| {
            Error::invalid(format!(
                "{} must be a number from 0 to 1, e.g. '0.95' (got '{text}')",
                catalog::FIRE_MIN_PASS_RATE
            ))
        })
}

/// Per-file results kept in the catalog.
struct StoredResults<'a> {
    catalog: &'a Catalog,
    table_id: &'a str,
    rules: String,
}

fn dv_identity(file: &DataFile) -> String {
    file.deletion_vector
        .as_ref()
        .map_or_else(String::new, |dv| {
            format!(
                "{}:{}:{}:{}",
                dv.storage_type,
                dv.path_or_inline_dv,
                dv.offset.unwrap_or(0),
                dv.cardinality
            )
        })
}

impl FileResults for StoredResults<'_> {
    fn get(&mut self, file: &DataFile) -> Result<Option<Tally>> {
        let dv = dv_identity(file);
        let key = self.key(file, &dv);
        let stored = self.catalog.read(|c| c.file_result(&key))?;
        Ok(stored.and_then(|text| serde_json::from_str(&text).ok()))
    }

    fn put(&mut self, file: &DataFile, tally: &Tally) -> Result<()> {
        let dv = dv_identity(file);
        let key = self.key(file, &dv);
        let text = serde_json::to_string(tally)?;
        self.catalog.store(|tx| tx.put_file_result(&key, &text))
    }
}

impl StoredResults<'_> {
    fn key<'k>(&'k self, file: &'k DataFile, dv: &'k str) -> FileKey<'k> {
        FileKey {
            table_id: self.table_id,
            rules: &self.rules,
            path: &file.path,
            size: file.size,
            dv,
        }
    }
}

/// What validating a version did.
pub struct Validated {
    pub report: QualityReport,
    pub files_read: u64,
}

/// Validates `version` of `table` against its bound entity, stores the report and returns it.
pub fn validate_version(
    catalog: &Catalog,
    delta: &DeltaLog,
    stores: &Stores,
    schemas: &SchemaDir,
    table: &Table,
    version: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Validated> {
    let binding = catalog
        .read(|c| c.table_properties(&table.id))
        .and_then(|p| Binding::of(&p))?
        .ok_or_else(|| {
            Error::invalid(format!(
                "table {}.{} is not bound to a FIRE entity: ALTER TABLE {}.{} SET TBLPROPERTIES ('fire.entity' = '…')",
                table.schema, table.name, table.schema, table.name
            ))
        })?;
    let entity = schemas.entity(&binding.entity)?;
    let validator = Validator::new(&entity)?;
    let location = catalog.read(|c| stores.table(c, table))?;
    let snapshot = delta.snapshot(&location, VersionSpec::Version(version))?;
    let rules = crate::catalog::rules_digest(&entity.digest, VALIDATOR_VERSION);
    let mut known = StoredResults {
        catalog,
        table_id: &table.id,
        rules,
    };
    let checked = validate_snapshot(
        delta, &location, &snapshot, &entity, &validator, &mut known, progress,
    )?;
    let report = QualityReport {
        version,
        entity: entity.name.clone(),
        rows: checked.tally.rows,
        passing: checked.tally.passing,
        pass_rate: checked.pass_rate(),
        report: report_json(&validator, &checked).to_string(),
        schema_digest: entity.digest.clone(),
        validator_version: VALIDATOR_VERSION.into(),
        validated_at: now_ms(),
    };
    catalog.store(|tx| tx.put_report(&table.id, &report))?;
    Ok(Validated {
        report,
        files_read: checked.files_read,
    })
}

/// The stored form of a report: each rule with its failures and samples, and schema errors.
fn report_json(validator: &Validator, report: &Report) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = validator
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            json!({
                "name": rule.name,
                "expression": rule.expression,
                "message": rule.message,
                "failing": report.tally.failures.get(i).copied().unwrap_or(0),
                "samples": report.tally.samples.get(i).cloned().unwrap_or_default(),
            })
        })
        .collect();
    json!({"rules": rules, "schemaErrors": report.schema_errors})
}

/// The versions of `table` to validate: `only`, or every version up to the latest without a
/// report against the FIRE schemas as they are now (`digest`).
pub fn pending_versions(
    catalog: &Catalog,
    delta: &DeltaLog,
    stores: &Stores,
    table: &Table,
    digest: &str,
    only: Option<u64>,
) -> Result<Vec<u64>> {
    if let Some(version) = only {
        return Ok(vec![version]);
    }
    let location = catalog.read(|c| stores.table(c, table))?;
    let latest = delta.snapshot(&location, VersionSpec::Latest)?.version();
    let done: Vec<u64> = catalog
        .read(|c| c.reports(&table.id))?
        .iter()
        .filter(|r| r.schema_digest == digest)
        .map(|r| r.version)
        .collect();
    Ok((0..=latest).filter(|v| !done.contains(v)).collect())
}

/// The digest of the schema files of the entity `table` is bound to.
fn bound_digest(catalog: &Catalog, schemas: &SchemaDir, table: &Table) -> Result<String> {
    let binding = catalog
        .read(|c| c.table_properties(&table.id))
        .and_then(|p| Binding::of(&p))?
        .ok_or_else(|| {
            Error::invalid(format!(
                "table {}.{} is not bound to a FIRE entity",
                table.schema, table.name
            ))
        })?;
    Ok(schemas.entity(&binding.entity)?.digest)
}

/// Validates every version not validated yet of every bound table (the server does this in
/// the background). A table that fails is logged and the others go on.
pub fn validate_bound_tables(catalog: &Catalog, delta: &DeltaLog, stores: &Stores) -> Result<()> {
    let Some(schemas) = catalog
        .read(|c| c.setting(catalog::FIRE_SCHEMAS))?
        .map(SchemaDir::new)
    else {
        return Ok(());
    };
    let metrics = crate::metrics::metrics();
    let mut backlog = 0;
    for table_id in catalog.read(|c| c.bound_tables())? {
        let Some(table) = catalog.read(|c| c.table_by_id(&table_id))? else {
            continue;
        };
        let label = format!("{}.{}", table.schema, table.name);
        // Replicas sharing a database validate a table one at a time: the one that holds it
        // reads what is pending only then, so no version is validated twice.
        let held = catalog.db().exclusively(&format!("fire validation of {}", table.id), || {
            let digest = bound_digest(catalog, &schemas, &table)?;
            let versions = pending_versions(catalog, delta, stores, &table, &digest, None)?;
            // A version that cannot be read (files vacuumed, say) does not hold back the others.
            for version in versions {
                let timer = metrics.fire_seconds.start_timer();
                let validated = validate_version(
                    catalog,
                    delta,
                    stores,
                    &schemas,
                    &table,
                    version,
                    &mut |_| {},
                );
                timer.observe_duration();
                match validated {
                    Ok(done) => {
                        metrics.fire_rows.inc_by(done.report.rows);
                        metrics
                            .fire_validations
                            .with_label_values(&[label.as_str(), "validated"])
                            .inc();
                        tracing::info!(
                            table = label,
                            version,
                            rows = done.report.rows,
                            pass_rate = done.report.pass_rate,
                            files_read = done.files_read,
                            "FIRE validation"
                        )
                    }
                    Err(e) => {
                        backlog += 1;
                        metrics
                            .fire_validations
                            .with_label_values(&[label.as_str(), "failed"])
                            .inc();
                        tracing::warn!(table = label, version, error = %e, "FIRE validation failed")
                    }
                }
            }
            Ok(())
        });
        match held {
            Ok(Some(())) => {}
            Ok(None) => tracing::debug!(table = label, "another replica is validating it"),
            Err(e) => tracing::warn!(table = label, error = %e, "FIRE validation failed"),
        }
    }
    metrics.fire_backlog.set(backlog);
    Ok(())
}

/// `fireshare fire validate`: validates the pending versions of `table` (`schema.table`),
/// telling `progress` about each.
pub fn validate_command(
    catalog: &Catalog,
    stores: &Stores,
    table: &str,
    only: Option<u64>,
    mut progress: impl FnMut(String),
) -> Result<()> {
    let (schema, name) = table
        .split_once('.')
        .ok_or_else(|| Error::invalid(format!("'{table}' is not schema.table")))?;
    let table = catalog.read(|c| c.require_table(schema, name))?;
    let schemas = catalog
        .read(|c| c.setting(catalog::FIRE_SCHEMAS))?
        .map(SchemaDir::new)
        .ok_or_else(|| {
            Error::invalid("no FIRE schema directory is known: give --fire-schemas DIR once")
        })?;
    let binding = catalog
        .read(|c| c.table_properties(&table.id))
        .and_then(|p| Binding::of(&p))?;
    let delta = DeltaLog::new();
    let digest = bound_digest(catalog, &schemas, &table)?;
    let versions = pending_versions(catalog, &delta, stores, &table, &digest, only)?;
    if versions.is_empty() {
        progress(format!(
            "{}.{}: every version is validated",
            table.schema, table.name
        ));
    }
    for version in versions {
        // A bar over the version's data files, drawn only on a terminal.
        let bar = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} files, {msg} rows, {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}.{} version {version}", table.schema, table.name));
        let done = validate_version(
            catalog,
            &delta,
            stores,
            &schemas,
            &table,
            version,
            &mut |p| {
                bar.set_length(p.files as u64);
                bar.set_message(p.rows.to_string());
                bar.set_position(p.files_done as u64);
            },
        )?;
        bar.finish_and_clear();
        let r = &done.report;
        let verdict = match &binding {
            Some(b) if r.pass_rate >= b.min_pass_rate => "passes",
            Some(_) => "below the threshold",
            None => "",
        };
        progress(format!(
            "{}.{} version {}: {} rows, {} passing ({:.1}%), {verdict}; {} data files read",
            table.schema,
            table.name,
            r.version,
            r.rows,
            r.passing,
            r.pass_rate * 100.0,
            done.files_read
        ));
    }
    Ok(())
}

/// Where a version of a bound table stands.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionStatus {
    /// Validated, at or above the minimum pass rate.
    Passes(f64),
    /// Validated, below the minimum.
    Below(f64),
    NotValidated,
    /// An admin's decision, over the validation.
    Approved(String),
    Rejected(String),
}

impl VersionStatus {
    pub fn is_served(&self) -> bool {
        matches!(self, VersionStatus::Passes(_) | VersionStatus::Approved(_))
    }
}

impl std::fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionStatus::Passes(rate) => write!(f, "passes ({:.1}%)", rate * 100.0),
            VersionStatus::Below(rate) => write!(f, "below the threshold ({:.1}%)", rate * 100.0),
            VersionStatus::NotValidated => write!(f, "not validated yet"),
            VersionStatus::Approved(by) => write!(f, "approved by {by}"),
            VersionStatus::Rejected(by) => write!(f, "rejected by {by}"),
        }
    }
}

/// Which versions of a bound table recipients may read.
pub struct Approvals {
    pub binding: Binding,
    pass_rates: BTreeMap<u64, f64>,
    decisions: BTreeMap<u64, catalog::Decision>,
}

impl Approvals {
    /// `None` for a table not bound to a FIRE entity: all its versions are served.
    pub fn load(conn: &catalog::Tx<'_>, table_id: &str) -> Result<Option<Approvals>> {
        match Binding::of(&conn.table_properties(table_id)?)? {
            Some(binding) => Approvals::bound(conn, table_id, binding).map(Some),
            None => Ok(None),
        }
    }

    /// Those of a table known to be bound by `binding`.
    pub fn bound(conn: &catalog::Tx<'_>, table_id: &str, binding: Binding) -> Result<Approvals> {
        Ok(Approvals {
            binding,
            pass_rates: conn.pass_rates(table_id)?,
            decisions: conn
                .decisions(table_id)?
                .into_iter()
                .map(|d| (d.version, d))
                .collect(),
        })
    }

    pub fn status(&self, version: u64) -> VersionStatus {
        if let Some(d) = self.decisions.get(&version) {
            return if d.approved {
                VersionStatus::Approved(d.decided_by.clone())
            } else {
                VersionStatus::Rejected(d.decided_by.clone())
            };
        }
        match self.pass_rates.get(&version) {
            None => VersionStatus::NotValidated,
            Some(&rate) if rate >= self.binding.min_pass_rate => VersionStatus::Passes(rate),
            Some(&rate) => VersionStatus::Below(rate),
        }
    }

    /// The newest served version up to `latest`.
    pub fn latest_served(&self, latest: u64) -> Option<u64> {
        let known = self.pass_rates.keys().chain(self.decisions.keys());
        known
            .copied()
            .filter(|&v| v <= latest && self.status(v).is_served())
            .max()
    }
}
