//! Registering and dropping tables.

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::{Statement, TableCredential};
use crate::catalog::Tx;
use crate::storage::{check_location, parse_location};
use crate::{Error, Result};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let context = run.context;
    match statement {
        Statement::CreateTable {
            name,
            location,
            credential,
            comment,
            if_not_exists,
        } => {
            let url = parse_location(location, context.base_dir)?;
            let credential_id = match (url.scheme(), credential) {
                ("file", TableCredential::None) => None,
                ("file", _) => {
                    return Err(Error::invalid("a local table takes no storage credential"));
                }
                (scheme, TableCredential::None) => {
                    return Err(Error::invalid(format!(
                        "a {scheme}:// table needs WITH CREDENTIAL <name> (see CREATE STORAGE CREDENTIAL) or FROM ENVIRONMENT"
                    )));
                }
                (_, TableCredential::Environment) => {
                    check_location(&url, None)?;
                    None
                }
                (_, TableCredential::Named(credential)) => {
                    let found = tx.require_credential(credential)?;
                    let sealed = tx.sealed_credential(&found.id)?;
                    check_location(&url, Some(&context.stores.vault().unseal(sealed)?))?;
                    Some(found.id)
                }
            };
            let created = tx.create_table(
                &name.schema,
                &name.table,
                url.as_str(),
                credential_id.as_deref(),
                comment.as_deref(),
                *if_not_exists,
            )?;
            run.done_or_skipped(
                created,
                format!("created table {name} at {url}"),
                "table exists, nothing done",
            )
        }
        Statement::DropTable { name, if_exists } => {
            let dropped = tx.drop_table(&name.schema, &name.table, *if_exists)?;
            run.done_or_skipped(
                dropped,
                format!("dropped table {name} (its files are untouched)"),
                "no such table, nothing done",
            )
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}
