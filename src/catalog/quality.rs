//! FIRE quality in the catalog: table properties (the entity a table is bound to), per-file
//! results reused from version to version, and the report of each validated version.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::Tx;
use crate::Result;

/// The FIRE entity a table's versions are validated against.
pub const FIRE_ENTITY: &str = "fire.entity";
/// The pass rate a version needs to be served (default 1.0).
pub const FIRE_MIN_PASS_RATE: &str = "fire.min_pass_rate";

impl Tx<'_> {
    pub fn table_properties(&self, table_id: &str) -> Result<BTreeMap<String, String>> {
        let mut select = self
            .conn
            .prepare_cached("SELECT key, value FROM table_properties WHERE table_id = ?1")?;
        let rows = select.query_map([table_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_table_property(&self, table_id: &str, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO table_properties (table_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (table_id, key) DO UPDATE SET value = excluded.value",
            [table_id, key, value],
        )?;
        Ok(())
    }

    /// Whether the property was there.
    pub fn unset_table_property(&self, table_id: &str, key: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM table_properties WHERE table_id = ?1 AND key = ?2",
            [table_id, key],
        )? > 0)
    }
}

/// Identifies one data file's rows under one rule set.
pub struct FileKey<'a> {
    pub table_id: &'a str,
    pub rules: &'a str,
    pub path: &'a str,
    pub size: i64,
    pub dv: &'a str,
}

impl Tx<'_> {
    pub fn file_result(&self, key: &FileKey<'_>) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT tally FROM fire_file_results
                 WHERE table_id = ?1 AND rules = ?2 AND path = ?3 AND size = ?4 AND dv = ?5",
            )?
            .query_row(
                params![key.table_id, key.rules, key.path, key.size, key.dv],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn put_file_result(&self, key: &FileKey<'_>, tally: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO fire_file_results (table_id, rules, path, size, dv, tally)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                key.table_id,
                key.rules,
                key.path,
                key.size,
                key.dv,
                tally
            ])?;
        Ok(())
    }
}

/// A stored quality report.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    pub version: u64,
    pub entity: String,
    pub rows: u64,
    pub passing: u64,
    pub pass_rate: f64,
    /// JSON: `{"rules": [{"name", "expression", "message", "failing", "samples"}], "schemaErrors": [...]}`.
    pub report: String,
    pub schema_digest: String,
    pub validator_version: String,
    pub validated_at: i64,
}

impl QualityReport {
    /// What the report's verdicts rest on: the entity's schema files and the validator's
    /// rules, as one hex SHA-256 (receipts and the metadata recipients see name it).
    pub fn rules_digest(&self) -> String {
        rules_digest(&self.schema_digest, &self.validator_version)
    }
}

/// See [`QualityReport::rules_digest`].
pub fn rules_digest(schema_digest: &str, validator_version: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        format!("{schema_digest}{validator_version}").as_bytes(),
    ))
}

impl Tx<'_> {
    pub fn put_report(&self, table_id: &str, r: &QualityReport) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO fire_reports (table_id, version, entity, rows, passing, pass_rate,
                 report, schema_digest, validator_version, validated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                table_id,
                r.version,
                r.entity,
                r.rows,
                r.passing,
                r.pass_rate,
                r.report,
                r.schema_digest,
                r.validator_version,
                r.validated_at
            ],
        )?;
        Ok(())
    }

    /// The reports of a table, oldest version first.
    pub fn reports(&self, table_id: &str) -> Result<Vec<QualityReport>> {
        let mut select = self.conn.prepare(&format!(
            "SELECT {REPORT_COLUMNS} FROM fire_reports WHERE table_id = ?1 ORDER BY version"
        ))?;
        let rows = select.query_map([table_id], report_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The report of one version, if it was validated.
    pub fn report(&self, table_id: &str, version: u64) -> Result<Option<QualityReport>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REPORT_COLUMNS} FROM fire_reports WHERE table_id = ?1 AND version = ?2"
            ))?
            .query_row(params![table_id, version], report_row)
            .optional()?)
    }
}

const REPORT_COLUMNS: &str = "version, entity, rows, passing, pass_rate, report, schema_digest, \
     validator_version, validated_at";

fn report_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QualityReport> {
    Ok(QualityReport {
        version: r.get(0)?,
        entity: r.get(1)?,
        rows: r.get(2)?,
        passing: r.get(3)?,
        pass_rate: r.get(4)?,
        report: r.get(5)?,
        schema_digest: r.get(6)?,
        validator_version: r.get(7)?,
        validated_at: r.get(8)?,
    })
}

/// An admin's decision on a version.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub version: u64,
    pub approved: bool,
    pub comment: Option<String>,
    pub decided_by: String,
    pub decided_at: i64,
}

impl Tx<'_> {
    pub fn put_decision(&self, table_id: &str, d: &Decision) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO fire_decisions (table_id, version, approved, comment, decided_by, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![table_id, d.version, d.approved, d.comment, d.decided_by, d.decided_at],
        )?;
        Ok(())
    }

    pub fn decisions(&self, table_id: &str) -> Result<Vec<Decision>> {
        let mut select = self.conn.prepare_cached(
            "SELECT version, approved, comment, decided_by, decided_at FROM fire_decisions
             WHERE table_id = ?1 ORDER BY version",
        )?;
        let rows = select.query_map([table_id], |r| {
            Ok(Decision {
                version: r.get(0)?,
                approved: r.get(1)?,
                comment: r.get(2)?,
                decided_by: r.get(3)?,
                decided_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Pass rates of the validated versions.
    pub fn pass_rates(&self, table_id: &str) -> Result<BTreeMap<u64, f64>> {
        let mut select = self
            .conn
            .prepare_cached("SELECT version, pass_rate FROM fire_reports WHERE table_id = ?1")?;
        let rows = select.query_map([table_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tables bound to a FIRE entity.
    pub fn bound_tables(&self) -> Result<Vec<String>> {
        let mut select = self
            .conn
            .prepare_cached("SELECT table_id FROM table_properties WHERE key = ?1")?;
        let rows = select.query_map([FIRE_ENTITY], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets a table's reports and per-file results (its entity changed): its versions are
    /// validated again. Admins' decisions stay.
    pub fn forget_quality(&self, table_id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM fire_reports WHERE table_id = ?1", [table_id])?;
        self.conn.execute(
            "DELETE FROM fire_file_results WHERE table_id = ?1",
            [table_id],
        )?;
        Ok(())
    }
}
