//! Listings of the catalog and who can read a table, now or as of a past time.

use super::Run;
use crate::Result;
use crate::admin::StatementResult;
use crate::admin::sql::Statement;
use crate::catalog::history;
use crate::catalog::{self, Tx};
use crate::clock::{format_duration_ms, format_ms};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let text = run.text;
    match statement {
        Statement::ShowTables => {
            let rows = tx
                .all_tables()?
                .into_iter()
                .map(|t| {
                    vec![
                        t.schema,
                        t.name,
                        t.location,
                        t.comment.unwrap_or_default(),
                        format_ms(t.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["schema", "name", "location", "comment", "created"],
                rows,
            ))
        }
        Statement::ShowShares => {
            let rows = tx
                .all_shares()?
                .into_iter()
                .map(|s| {
                    vec![
                        s.name,
                        s.comment.unwrap_or_default(),
                        s.url_ttl_ms.map(format_duration_ms).unwrap_or_default(),
                        format_ms(s.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["name", "comment", "url_lifetime", "created"],
                rows,
            ))
        }
        Statement::ShowRecipients => {
            let rows = tx
                .all_recipients()?
                .into_iter()
                .map(|r| {
                    vec![
                        r.name,
                        r.comment.unwrap_or_default(),
                        format_ms(r.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["name", "comment", "created"],
                rows,
            ))
        }
        Statement::ShowAllInShare { share } => {
            let rows = tx
                .tables_in_share(share)?
                .into_iter()
                .map(|m| {
                    vec![
                        "TABLE".to_string(),
                        format!("{}.{}", m.table.schema, m.table.name),
                        format!("{}.{}", m.schema, m.name),
                        if m.history { "yes" } else { "no" }.to_string(),
                        if m.history {
                            m.start_version.to_string()
                        } else {
                            String::new()
                        },
                        m.partition_filter.map_or(String::new(), |p| p.to_string()),
                        m.comment.unwrap_or_default(),
                        format_ms(m.added_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &[
                    "type",
                    "name",
                    "shared_as",
                    "history",
                    "start_version",
                    "partition",
                    "comment",
                    "added",
                ],
                rows,
            ))
        }
        Statement::ShowGrantsOnShare { share } => grants(text, tx.grants_on_share(share)?),
        Statement::ShowGrantsToRecipient { recipient } => {
            grants(text, tx.grants_to_recipient(recipient)?)
        }
        Statement::ShowAccess { table, as_of } => {
            let now;
            let rows = match (as_of, &run.gathered.access_as_of) {
                (Some(_), Some(then)) => then,
                _ => {
                    now = tx.governed_rows()?;
                    &now
                }
            };
            let rows = history::table_access(rows, &table.schema, &table.table)
                .into_iter()
                .map(|a| {
                    vec![
                        a.recipient,
                        a.share,
                        a.shared_as,
                        a.partitions,
                        format_ms(a.granted_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["recipient", "share", "shared_as", "partitions", "granted"],
                rows,
            ))
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}

fn grants(text: &str, grants: Vec<catalog::Grant>) -> Result<StatementResult> {
    let rows = grants
        .into_iter()
        .map(|g| {
            vec![
                g.recipient,
                "SELECT".to_string(),
                g.share,
                format_ms(g.granted_at),
            ]
        })
        .collect();
    Ok(StatementResult::table(
        text,
        &["recipient", "privilege", "share", "granted"],
        rows,
    ))
}
