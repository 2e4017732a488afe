//! Binding tables to FIRE entities (table properties) and admins' decisions on versions.

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::Statement;
use crate::catalog::{self, Tx};
use crate::clock::now_ms;
use crate::{Error, Result};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let context = run.context;
    let gathered = run.gathered;
    match statement {
        Statement::SetTableProperties { table, properties } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let mut notes = Vec::new();
            for (key, value) in properties {
                match key.as_str() {
                    catalog::FIRE_ENTITY => {
                        let (version, schema) = gathered
                            .latest_schema
                            .as_ref()
                            .ok_or_else(|| Error::internal("the table's schema was not read"))?;
                        notes.extend(fire_fit(tx, *version, schema, value)?);
                        let before = tx.table_properties(&found.id)?;
                        if before.get(catalog::FIRE_ENTITY) != Some(value) {
                            tx.forget_quality(&found.id)?;
                        }
                    }
                    catalog::FIRE_MIN_PASS_RATE => {
                        crate::fire::quality::parse_pass_rate(value)?;
                    }
                    other if other.starts_with("fire.") => {
                        return Err(Error::invalid(format!(
                            "unknown property {other}: fireshare knows {} and {}",
                            catalog::FIRE_ENTITY,
                            catalog::FIRE_MIN_PASS_RATE
                        )));
                    }
                    _ => {}
                }
                tx.set_table_property(&found.id, key, value)?;
            }
            let set: Vec<String> = properties
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            let mut message = format!("set on {table}: {}", set.join(", "));
            for note in notes {
                message.push_str(&format!("; {note}"));
            }
            run.status(message)
        }
        Statement::UnsetTableProperties { table, keys } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let mut removed = Vec::new();
            for key in keys {
                if tx.unset_table_property(&found.id, key)? {
                    if key == catalog::FIRE_ENTITY {
                        tx.forget_quality(&found.id)?;
                    }
                    removed.push(key.clone());
                }
            }
            run.done_or_skipped(
                !removed.is_empty(),
                format!("unset on {table}: {}", removed.join(", ")),
                "no such property: nothing to unset",
            )
        }
        Statement::DecideVersion {
            table,
            version,
            approved,
            comment,
        } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            if crate::fire::quality::Approvals::load(tx, &found.id)?.is_none() {
                return Err(Error::invalid(format!(
                    "{table} is not bound to a FIRE entity: all its versions are served"
                )));
            }
            let decision = catalog::Decision {
                version: *version,
                approved: *approved,
                comment: comment.clone(),
                decided_by: context.who.unwrap_or("unknown").to_string(),
                decided_at: now_ms(),
            };
            tx.put_decision(&found.id, &decision)?;
            run.status(format!(
                "version {version} of {table} {} by {}",
                if *approved { "approved" } else { "rejected" },
                decision.decided_by
            ))
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}

/// Checks that `entity` loads and how the table's latest version fits it; the problems found
/// are notes for the admin (every version is checked again when validated).
fn fire_fit(
    conn: &catalog::Tx<'_>,
    version: u64,
    schema: &delta_kernel::arrow::datatypes::Schema,
    entity: &str,
) -> Result<Vec<String>> {
    let entity = fire_schemas(conn)?.entity(entity)?;
    let errors = crate::fire::validate::schema_errors(&entity, schema);
    Ok(errors
        .into_iter()
        .map(|e| format!("version {version} does not fit {}: {e}", entity.name))
        .collect())
}

/// The remembered FIRE schema directory (`--fire-schemas`).
pub(super) fn fire_schemas(conn: &catalog::Tx<'_>) -> Result<crate::fire::schema::SchemaDir> {
    conn.setting(catalog::FIRE_SCHEMAS)?
        .map(crate::fire::schema::SchemaDir::new)
        .ok_or_else(|| {
            Error::invalid(
                "no FIRE schema directory is known: give --fire-schemas DIR (or FIRESHARE_FIRE_SCHEMAS) once",
            )
        })
}
