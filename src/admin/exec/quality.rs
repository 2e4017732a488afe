//! Reading FIRE quality: a table's history with its reports, a version's report, the known
//! entities and their rules.

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::{Statement, TableName};
use crate::catalog::Tx;
use crate::clock::format_ms;
use crate::{Error, Result};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let text = run.text;
    let gathered = run.gathered;
    match statement {
        Statement::ShowQuality { table, version } => show_quality(tx, text, table, *version),
        Statement::DescribeHistory { table } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let approvals = crate::fire::quality::Approvals::load(tx, &found.id)?;
            let reports = tx.reports(&found.id)?;
            let latest = gathered.history.iter().map(|(v, _, _)| *v).max();
            let latest_served = match (&approvals, latest) {
                (Some(a), Some(latest)) => a.latest_served(latest),
                (None, latest) => latest,
                (_, None) => None,
            };
            let mut rows = Vec::new();
            for (version, timestamp, operation) in &gathered.history {
                let report = reports.iter().find(|r| r.version == *version);
                let (status, served) = match &approvals {
                    None => ("not bound to a FIRE entity".to_string(), true),
                    Some(a) => {
                        let status = a.status(*version);
                        (status.to_string(), status.is_served())
                    }
                };
                // `latest`: what a query of the latest version reads; `yes`: readable by
                // version; `no`: held back.
                let served = match served {
                    _ if latest_served == Some(*version) => "latest",
                    true => "yes",
                    false => "no",
                };
                rows.push(vec![
                    version.to_string(),
                    format_ms(*timestamp),
                    operation.clone(),
                    report.map_or(String::new(), |r| r.rows.to_string()),
                    report.map_or(String::new(), |r| format!("{:.4}", r.pass_rate)),
                    status,
                    served.to_string(),
                ]);
            }
            Ok(StatementResult::table(
                text,
                &[
                    "version",
                    "timestamp",
                    "operation",
                    "rows",
                    "pass_rate",
                    "status",
                    "served",
                ],
                rows,
            ))
        }
        Statement::ShowFireSchemas => {
            let schemas = super::fire::fire_schemas(tx)?;
            let mut rows = Vec::new();
            for name in schemas.entity_names()? {
                let row = match schemas.entity(&name) {
                    Ok(entity) => vec![
                        name,
                        entity.fields.len().to_string(),
                        crate::fire::rules::expectations(&entity).len().to_string(),
                        entity.digest[..12].to_string(),
                        String::new(),
                    ],
                    Err(e) => vec![
                        name,
                        String::new(),
                        String::new(),
                        String::new(),
                        e.message().to_string(),
                    ],
                };
                rows.push(row);
            }
            Ok(StatementResult::table(
                text,
                &[
                    "entity",
                    "columns",
                    "expectations",
                    "schema_digest",
                    "problem",
                ],
                rows,
            ))
        }
        Statement::ShowExpectations { entity } => {
            let loaded = super::fire::fire_schemas(tx)?.entity(entity)?;
            let rows = crate::fire::rules::expectations(&loaded)
                .into_iter()
                .map(|e| vec![entity.clone(), e.name, e.expression])
                .collect();
            Ok(StatementResult::table(
                text,
                &["entity", "expectation_name", "expectation_value"],
                rows,
            ))
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}

/// `SHOW QUALITY FOR TABLE t [VERSION n]`: a version's report (the latest without a
/// version): its summary, then the schema errors and each rule with up to three sample
/// failures.
fn show_quality(
    tx: &Tx<'_>,
    text: &str,
    table: &TableName,
    version: Option<u64>,
) -> Result<StatementResult> {
    let found = tx.require_table(&table.schema, &table.table)?;
    let reports = tx.reports(&found.id)?;
    let report = match version {
        Some(v) => reports.iter().find(|r| r.version == v),
        None => reports.last(),
    }
    .ok_or_else(|| {
        Error::not_found(format!(
            "no quality report for {table}{}: run fireshare fire validate",
            version.map_or(String::new(), |v| format!(" version {v}"))
        ))
    })?;
    let detail: serde_json::Value = serde_json::from_str(&report.report)?;
    let status = crate::fire::quality::Approvals::load(tx, &found.id)?.map_or_else(
        || "not bound to a FIRE entity".to_string(),
        |a| a.status(report.version).to_string(),
    );
    let summary = format!(
        "{} rows, {} passing ({:.2}%): {status}; validated {} against the rules of digest {}",
        report.rows,
        report.passing,
        report.pass_rate * 100.0,
        format_ms(report.validated_at),
        report.rules_digest()
    );
    let mut rows = vec![vec![
        report.version.to_string(),
        "(summary)".into(),
        (report.rows - report.passing.min(report.rows)).to_string(),
        summary,
        String::new(),
    ]];
    rows.extend(
        detail["schemaErrors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let e = e.as_str().unwrap_or_default().to_string();
                vec![
                    report.version.to_string(),
                    "(schema)".into(),
                    report.rows.to_string(),
                    e,
                    String::new(),
                ]
            }),
    );
    for rule in detail["rules"].as_array().into_iter().flatten() {
        let samples: Vec<String> = rule["samples"]
            .as_array()
            .into_iter()
            .flatten()
            .take(3)
            .map(|s| {
                let value = match &s["value"] {
                    serde_json::Value::Null => "NULL".to_string(),
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                format!("{}#{}: {value}", s["file"].as_str().unwrap_or(""), s["row"])
            })
            .collect();
        rows.push(vec![
            report.version.to_string(),
            rule["name"].as_str().unwrap_or_default().to_string(),
            rule["failing"].to_string(),
            rule["message"].as_str().unwrap_or_default().to_string(),
            samples.join("; "),
        ]);
    }
    Ok(StatementResult::table(
        text,
        &[
            "version",
            "expectation_name",
            "failing_rows",
            "message",
            "samples",
        ],
        rows,
    ))
}
