//! FIRE quality in the catalog: table properties (the entity a table is bound to), per-file
//! results reused from version to version, and the report of each validated version.

use std::collections::BTreeMap;

use super::Tx;
use super::db::{Row, params};
use crate::Result;

/// The FIRE entity a table's versions are validated against.
pub const FIRE_ENTITY: &str = "fire.entity";
/// The pass rate a version needs to be served (default 1.0).
pub const FIRE_MIN_PASS_RATE: &str = "fire.min_pass_rate";

impl Tx<'_> {
    pub fn table_properties(&self, table_id: &str) -> Result<BTreeMap<String, String>> {
        Ok(self
            .conn
            .query_all(
                "SELECT key, value FROM table_properties WHERE table_id = ?1",
                params![table_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .into_iter()
            .collect())
    }

    pub fn set_table_property(&self, table_id: &str, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO table_properties (table_id, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (table_id, key) DO UPDATE SET value = excluded.value",
            params![table_id, key, value],
        )?;
        Ok(())
    }

    /// Whether the property was there.
    pub fn unset_table_property(&self, table_id: &str, key: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM table_properties WHERE table_id = ?1 AND key = ?2",
            params![table_id, key],
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
        self.conn.query_opt(
            "SELECT tally FROM fire_file_results
             WHERE table_id = ?1 AND rules = ?2 AND path = ?3 AND size = ?4 AND dv = ?5",
            params![key.table_id, key.rules, key.path, key.size, key.dv],
            |r| r.get(0),
        )
    }

    pub fn put_file_result(&self, key: &FileKey<'_>, tally: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO fire_file_results (table_id, rules, path, size, dv, tally)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (table_id, rules, path, size, dv) DO UPDATE SET tally = excluded.tally",
            params![key.table_id, key.rules, key.path, key.size, key.dv, tally],
        )?;
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
            "INSERT INTO fire_reports (table_id, version, entity, rows, passing, pass_rate,
                 report, schema_digest, validator_version, validated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (table_id, version) DO UPDATE SET entity = excluded.entity,
                 rows = excluded.rows, passing = excluded.passing, pass_rate = excluded.pass_rate,
                 report = excluded.report, schema_digest = excluded.schema_digest,
                 validator_version = excluded.validator_version, validated_at = excluded.validated_at",
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
        self.conn.query_all(
            &format!(
                "SELECT {REPORT_COLUMNS} FROM fire_reports WHERE table_id = ?1 ORDER BY version"
            ),
            params![table_id],
            report_row,
        )
    }

    /// The report of one version, if it was validated.
    pub fn report(&self, table_id: &str, version: u64) -> Result<Option<QualityReport>> {
        self.conn.query_opt(
            &format!(
                "SELECT {REPORT_COLUMNS} FROM fire_reports WHERE table_id = ?1 AND version = ?2"
            ),
            params![table_id, version],
            report_row,
        )
    }
}

const REPORT_COLUMNS: &str = "version, entity, rows, passing, pass_rate, report, schema_digest, \
     validator_version, validated_at";

fn report_row(r: &Row<'_>) -> Result<QualityReport> {
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
            "INSERT INTO fire_decisions (table_id, version, approved, comment, decided_by, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (table_id, version) DO UPDATE SET approved = excluded.approved,
                 comment = excluded.comment, decided_by = excluded.decided_by,
                 decided_at = excluded.decided_at",
            params![table_id, d.version, d.approved, d.comment, d.decided_by, d.decided_at],
        )?;
        Ok(())
    }

    pub fn decisions(&self, table_id: &str) -> Result<Vec<Decision>> {
        self.conn.query_all(
            "SELECT version, approved, comment, decided_by, decided_at FROM fire_decisions
             WHERE table_id = ?1 ORDER BY version",
            params![table_id],
            |r| {
                Ok(Decision {
                    version: r.get(0)?,
                    approved: r.get(1)?,
                    comment: r.get(2)?,
                    decided_by: r.get(3)?,
                    decided_at: r.get(4)?,
                })
            },
        )
    }

    /// Pass rates of the validated versions.
    pub fn pass_rates(&self, table_id: &str) -> Result<BTreeMap<u64, f64>> {
        Ok(self
            .conn
            .query_all(
                "SELECT version, pass_rate FROM fire_reports WHERE table_id = ?1",
                params![table_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .into_iter()
            .collect())
    }

    /// The tables bound to a FIRE entity.
    pub fn bound_tables(&self) -> Result<Vec<String>> {
        self.conn.query_all(
            "SELECT table_id FROM table_properties WHERE key = ?1",
            params![FIRE_ENTITY],
            |r| r.get(0),
        )
    }

    /// Forgets a table's reports and per-file results (its entity changed): its versions are
    /// validated again. Admins' decisions stay.
    pub fn forget_quality(&self, table_id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM fire_reports WHERE table_id = ?1",
            params![table_id],
        )?;
        self.conn.execute(
            "DELETE FROM fire_file_results WHERE table_id = ?1",
            params![table_id],
        )?;
        Ok(())
    }
}
