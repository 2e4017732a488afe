//! Shares: creating them, adding, changing and removing their tables, URL lifetimes, grants.

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::{ObjectKind, Statement};
use crate::catalog::Tx;
use crate::{Error, Result};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    match statement {
        Statement::CreateShare {
            name,
            comment,
            if_not_exists,
        } => {
            let created = tx.create_share(name, comment.as_deref(), *if_not_exists)?;
            run.done_or_skipped(
                created,
                format!("created share {name}"),
                "share exists, nothing done",
            )
        }
        Statement::AddTableToShare {
            share,
            table,
            alias,
            with_history,
            start_version,
        } => {
            let alias_parts = alias
                .as_ref()
                .map(|a| (a.schema.as_str(), a.table.as_str()));
            let history = with_history.then(|| start_version.unwrap_or(0));
            tx.add_table_to_share(share, (&table.schema, &table.table), alias_parts, history)?;
            let shown = alias.as_ref().unwrap_or(table);
            run.status(format!(
                "added table {table} to share {share} as {shown}{}",
                describe_history(history)
            ))
        }
        Statement::AlterTableInShare {
            share,
            table,
            with_history,
            start_version,
        } => {
            let history = with_history.then(|| start_version.unwrap_or(0));
            tx.set_table_history(share, (&table.schema, &table.table), history)?;
            run.status(format!(
                "table {table} of share {share} is now shared{}",
                if history.is_some() {
                    describe_history(history)
                } else {
                    " without history".to_string()
                }
            ))
        }
        Statement::RemoveTableFromShare { share, table } => {
            tx.remove_table_from_share(share, (&table.schema, &table.table))?;
            run.status(format!("removed table {table} from share {share}"))
        }
        Statement::Grant { share, recipient } => {
            tx.grant(share, recipient)?;
            run.status(format!(
                "granted SELECT on share {share} to recipient {recipient}"
            ))
        }
        Statement::Revoke { share, recipient } => {
            tx.revoke(share, recipient)?;
            run.status(format!(
                "revoked SELECT on share {share} from recipient {recipient}"
            ))
        }
        Statement::Drop {
            kind: ObjectKind::Share,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_share(name, *if_exists)?;
            run.done_or_skipped(
                dropped,
                format!("dropped share {name}"),
                "no such share, nothing done",
            )
        }
        Statement::SetShareUrlLifetime { share, lifetime } => {
            if lifetime.is_some_and(|d| d.is_zero() || d > crate::storage::MAX_URL_LIFETIME) {
                return Err(Error::invalid(
                    "a URL lifetime must be longer than zero and at most 7 days (what S3 and GCS accept)",
                ));
            }
            let ms = lifetime.map(crate::clock::duration_ms);
            tx.set_share_url_ttl(share, ms)?;
            run.status(match ms {
                Some(ms) => format!(
                    "file URLs of share {share} now live {} (at most what each table's store accepts)",
                    crate::clock::format_duration_ms(ms)
                ),
                None => format!("file URLs of share {share} live the server's --url-ttl"),
            })
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}

/// " with history" / " with history from version 5" / "".
fn describe_history(history: Option<u64>) -> String {
    match history {
        None => String::new(),
        Some(0) => " with history".to_string(),
        Some(v) => format!(" with history from version {v}"),
    }
}
