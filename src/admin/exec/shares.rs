//! Shares: creating them, adding, changing and removing their tables, URL lifetimes, grants.

use super::Run;
use crate::admin::StatementResult;
use crate::admin::sql::{ObjectKind, Statement};
use crate::catalog::partition_filter::PartitionFilter;
use crate::catalog::{self, Tx};
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
            comment,
            partition,
        } => {
            check_partition(partition.as_ref(), run)?;
            let history = with_history.then(|| start_version.unwrap_or(0));
            let member = catalog::NewMember {
                alias: alias
                    .as_ref()
                    .map(|a| (a.schema.as_str(), a.table.as_str())),
                history,
                partition_filter: partition.as_ref(),
                comment: comment.as_deref(),
            };
            tx.add_table_to_share(share, (&table.schema, &table.table), &member)?;
            let shown = alias.as_ref().unwrap_or(table);
            let filtered = partition
                .as_ref()
                .map_or(String::new(), |p| format!(", files where {p}"));
            run.status(format!(
                "added table {table} to share {share} as {shown}{}{filtered}{}",
                describe_history(history),
                lacking_properties(tx, share, None)?
            ))
        }
        Statement::SetPartitionFilter {
            share,
            table,
            partition,
        } => {
            check_partition(partition.as_ref(), run)?;
            tx.set_partition_filter(share, (&table.schema, &table.table), partition.as_ref())?;
            run.status(match partition {
                Some(p) => format!(
                    "recipients of share {share} now see the files of {table} where {p}{}",
                    lacking_properties(tx, share, None)?
                ),
                None => format!("recipients of share {share} now see every file of {table}"),
            })
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
                "granted SELECT on share {share} to recipient {recipient}{}",
                lacking_properties(tx, share, Some(recipient))?
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

/// Checks a partition filter against the partitioning of the table's latest version.
fn check_partition(partition: Option<&PartitionFilter>, run: &Run<'_>) -> Result<()> {
    match (partition, &run.gathered.partitioning) {
        (Some(filter), Some(partitioning)) => filter.check(partitioning).map_err(Error::invalid),
        _ => Ok(()),
    }
}

/// What the admin is told when a grantee of `share` (or just `recipient`) lacks a property a
/// partition filter of the share reads: it will read none of those files.
pub(super) fn lacking_properties(
    tx: &Tx<'_>,
    share: &str,
    recipient: Option<&str>,
) -> Result<String> {
    let filtered: Vec<_> = tx
        .tables_in_share(share)?
        .into_iter()
        .filter_map(|m| Some((format!("{}.{}", m.schema, m.name), m.partition_filter?)))
        .collect();
    if filtered.is_empty() {
        return Ok(String::new());
    }
    let recipients = match recipient {
        Some(name) => vec![tx.require_recipient(name)?],
        None => tx
            .grants_on_share(share)?
            .iter()
            .map(|g| tx.require_recipient(&g.recipient))
            .collect::<Result<_>>()?,
    };
    let mut notes = Vec::new();
    for r in &recipients {
        for (table, filter) in &filtered {
            let lacking: Vec<&str> = filter
                .property_keys()
                .into_iter()
                .filter(|k| !r.properties.keys().any(|p| p.eq_ignore_ascii_case(k)))
                .collect();
            if !lacking.is_empty() {
                notes.push(format!(
                    "recipient {} has no property {}, which the partition filter of {table} reads: it will see no file of it that needs {}",
                    r.name,
                    lacking.join(", "),
                    if lacking.len() == 1 { "it" } else { "them" }
                ));
            }
        }
    }
    Ok(notes.iter().map(|n| format!("; note: {n}")).collect())
}

/// " with history" / " with history from version 5" / "".
fn describe_history(history: Option<u64>) -> String {
    match history {
        None => String::new(),
        Some(0) => " with history".to_string(),
        Some(v) => format!(" with history from version {v}"),
    }
}
