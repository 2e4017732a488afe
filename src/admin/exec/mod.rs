//! Runs parsed statements, a script in one catalog transaction, by family: tables, storage
//! credentials, shares, recipients, FIRE binding, FIRE quality, listings (`Statement::family`
//! says which; each file runs its own).

mod fire;
mod four_eyes;
mod quality;
mod recipients;
mod shares;
mod show;
mod storage_credentials;
mod tables;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use super::StatementResult;
use super::sql::{Family, Statement, TableName, parse_with_text};
use crate::audit::Trail;
use crate::auth::Role;
use crate::catalog::partition_filter::Partitioning;
use crate::catalog::{self, Catalog, Tx, history};
use crate::delta::{Commits, DeltaLog, VersionSpec};
use crate::storage::Stores;
use crate::{Error, Result};

/// Who runs a script, and what statements need from their surroundings.
pub struct Context<'a> {
    pub role: Role,
    /// Relative table locations are taken relative to it.
    pub base_dir: &'a Path,
    /// The server's public URL, e.g. `https://share.bank.example`: activation links start with it.
    pub public_url: &'a str,
    /// How long an activation link stays usable.
    pub activation_ttl: Duration,
    /// The Delta reader and the stores tables are read through: the server's, whose caches
    /// stay warm, or the command's own.
    pub delta: &'a DeltaLog,
    pub stores: &'a Stores,
    /// Where each statement is noted for the audit ledger; a script's changes commit with the
    /// trail's event (see [`Trail::write`]).
    pub trail: Option<&'a Trail>,
    /// Who runs the script (recorded with decisions such as APPROVE VERSION).
    pub who: Option<&'a str>,
    /// The admin four-eyes changes are proposed and decided as: an admin token's holder, or
    /// the command line's `--as NAME`; `None` (the command line without it) may not run a
    /// covered statement.
    pub admin: Option<&'a str>,
    /// The most bytes a script's results may hold (a server bounds what one request makes
    /// it hold; the command line shows everything).
    pub max_output: Option<usize>,
}

/// The most statements a script holds.
pub const MAX_STATEMENTS: usize = 1000;

/// Parses and runs a script. Statements run in order, in one transaction: every one is
/// applied or none is (the first failure names the failing statement), and the changes commit
/// with the script's ledger event. An auditor's script may only read: it is refused whole
/// otherwise.
pub fn execute_script(
    catalog: &Catalog,
    sql: &str,
    context: &Context<'_>,
) -> Result<Vec<StatementResult>> {
    let statements =
        parse_with_text(sql).map_err(|e| Error::malformed(format!("syntax error: {e}")))?;
    execute_statements(catalog, statements, context)
}

/// Runs statements, each with the text results and the ledger echo (as typed, or as the
/// statement writes itself back for those the REST API builds), as [`execute_script`] does.
pub fn execute_statements(
    catalog: &Catalog,
    statements: Vec<(Statement, String)>,
    context: &Context<'_>,
) -> Result<Vec<StatementResult>> {
    if statements.is_empty() {
        return Err(Error::malformed("no statement given"));
    }
    if context.role == Role::Auditor
        && let Some((_, text)) = statements.iter().find(|(s, _)| !s.is_read_only())
    {
        return Err(Error::permission_denied(format!(
            "auditors may only read (SHOW statements); refused: {text}"
        )));
    }
    let total = statements.len();
    if total > MAX_STATEMENTS {
        return Err(Error::invalid(format!(
            "a script holds at most {MAX_STATEMENTS} statements; this one has {total}: run it in parts"
        )));
    }
    // What statements read outside the catalog is read before its transaction, from the
    // catalog as it is: a slow store must never hold the catalog's write lock.
    let gathered = statements
        .iter()
        .map(|(statement, _)| gather(catalog, None, statement, context))
        .collect();
    let script = Script {
        catalog,
        statements: &statements,
        context,
        writes: statements.iter().any(|(s, _)| !s.is_read_only()),
    };
    let results = match context.trail {
        // What only reads takes no write lock: a long listing never holds up a writer.
        _ if !script.writes => catalog.read(|tx| script.run(tx, gathered))?,
        Some(trail) => trail.write(catalog, |tx| {
            let results = script.run(tx, gathered)?;
            note(trail, &results);
            trail.commit_in(tx)?;
            Ok(results)
        })?,
        None => catalog.write(|tx| script.run(tx, gathered))?,
    };
    if let Some(trail) = context.trail.filter(|_| !script.writes) {
        note(trail, &results);
    }
    for (_, text) in &statements {
        tracing::debug!(statement = %text, "executed");
    }
    Ok(results)
}

/// Notes the statements run in the trail's event.
fn note(trail: &Trail, results: &[StatementResult]) {
    trail.update(|d| {
        d.statements
            .extend(results.iter().map(StatementResult::audit_record));
        // One statement names the request; a script is a script.
        d.action = Some(
            match results {
                [only] => only.action,
                _ => "runSql",
            }
            .into(),
        );
    });
}

/// A script being run in one transaction.
struct Script<'a> {
    catalog: &'a Catalog,
    statements: &'a [(Statement, String)],
    context: &'a Context<'a>,
    /// Whether any statement changes the catalog.
    writes: bool,
}

impl Script<'_> {
    fn run(&self, tx: &Tx<'_>, gathered: Vec<Result<Gathered>>) -> Result<Vec<StatementResult>> {
        let total = self.statements.len();
        let none_applied = if self.writes && total > 1 {
            " (so none of the script was applied)"
        } else {
            ""
        };
        let mut results = Vec::with_capacity(total);
        let (mut output, mut rows) = (0, None);
        for (index, ((statement, text), gathered)) in
            self.statements.iter().zip(gathered).enumerate()
        {
            let result = self
                .run_one(tx, statement, text, gathered, &mut rows)
                .map_err(|e| {
                    e.map_message(|message| {
                        format!(
                            "statement {} of {total} failed{none_applied}: {text}\n  {message}",
                            index + 1
                        )
                    })
                })?;
            output += result.size();
            if let Some(max) = self.context.max_output
                && output > max
            {
                return Err(Error::invalid(format!(
                    "the results pass {} MiB at statement {} of {total}, so none is sent{none_applied}: \
                     run fewer statements at a time, or fireshare sql on the data directory",
                    max >> 20,
                    index + 1
                )));
            }
            results.push(result);
        }
        Ok(results)
    }

    fn run_one(
        &self,
        tx: &Tx<'_>,
        statement: &Statement,
        text: &str,
        gathered: Result<Gathered>,
        rows: &mut Option<history::CatalogRows>,
    ) -> Result<StatementResult> {
        // What could not be read before the transaction (a table the script itself adds) is
        // read in it.
        let gathered = match gathered {
            Ok(gathered) => gathered,
            Err(_) => gather(self.catalog, Some(tx), statement, self.context)?,
        };
        let run = Run {
            text,
            context: self.context,
            gathered: &gathered,
            catalog: self.catalog,
        };
        let mut result = if statement.is_read_only() {
            execute(tx, statement, &run)?
        } else {
            // The rows after one statement are the rows before the next.
            let before = match rows.take() {
                Some(rows) => rows,
                None => tx.governed_rows()?,
            };
            let mut result = match four_eyes::guard(tx, statement, &run, &before)? {
                Some(proposed) => proposed,
                None => execute(tx, statement, &run)?,
            };
            let after = tx.governed_rows()?;
            result.changes = Some(history::diff(&before, &after));
            *rows = Some(after);
            result
        };
        if result.action.is_empty() {
            result.action = statement.action();
        }
        Ok(result)
    }
}

/// One statement being run: its text (results echo it) and what it needs around it.
pub(super) struct Run<'a> {
    pub text: &'a str,
    pub context: &'a Context<'a>,
    pub gathered: &'a Gathered,
    pub catalog: &'a Catalog,
}

impl Run<'_> {
    /// A one-line status.
    fn status(&self, message: String) -> Result<StatementResult> {
        Ok(StatementResult::status(self.text, message))
    }

    /// `done` when the statement changed something, else `skipped` (`IF [NOT] EXISTS`).
    fn done_or_skipped(&self, done: bool, what: String, skipped: &str) -> Result<StatementResult> {
        self.status(if done { what } else { skipped.to_string() })
    }
}

fn execute(tx: &Tx<'_>, statement: &Statement, run: &Run<'_>) -> Result<StatementResult> {
    match statement.family() {
        Family::Tables => tables::execute(tx, statement, run),
        Family::Credentials => storage_credentials::execute(tx, statement, run),
        Family::Shares => shares::execute(tx, statement, run),
        Family::Recipients => recipients::execute(tx, statement, run),
        Family::Fire => fire::execute(tx, statement, run),
        Family::Quality => quality::execute(tx, statement, run),
        Family::Show => show::execute(tx, statement, run),
        Family::FourEyes => four_eyes::execute_four_eyes(tx, statement, run),
    }
}

/// What a statement reads outside the catalog — a table's storage, the audit ledger — read
/// before its catalog transaction: a slow store or a long ledger must never hold the catalog,
/// which every request waits on.
#[derive(Default)]
pub(super) struct Gathered {
    /// `DESCRIBE HISTORY`: each commit's version, time and operation.
    pub history: Vec<(u64, i64, String)>,
    /// Binding a FIRE entity: the latest version and its columns.
    pub latest_schema: Option<(u64, delta_kernel::arrow::datatypes::Schema)>,
    /// `SHOW ACCESS … AS OF`: the catalog's governed rows then, rebuilt from the ledger.
    pub access_as_of: Option<history::CatalogRows>,
    /// Sharing a table with a partition filter: the partitioning of its latest version.
    pub partitioning: Option<Partitioning>,
}

/// `within` the script's transaction when given, else in a read of its own.
fn gather(
    catalog: &Catalog,
    within: Option<&Tx<'_>>,
    statement: &Statement,
    context: &Context<'_>,
) -> Result<Gathered> {
    // A shared table is named by its alias or its catalog name.
    let member = |share: &str, name: &TableName, c: &Tx<'_>| {
        let found = c.share_member_table(share, (&name.schema, &name.table))?;
        Ok::<_, Error>(TableName {
            schema: found.schema,
            table: found.name,
        })
    };
    let table = match statement {
        Statement::ShowAccess {
            as_of: Some(time), ..
        } => {
            let ledger = crate::audit::LedgerDb::of(catalog)?;
            let rows = ledger.catalog_as_of(&crate::audit::search::time_bound(time)?)?;
            return Ok(Gathered {
                access_as_of: Some(rows),
                ..Gathered::default()
            });
        }
        Statement::DescribeHistory { table } => table,
        Statement::AddTableToShare {
            table,
            partition: Some(_),
            ..
        } => return gather_partitioning(catalog, within, table, context),
        Statement::SetPartitionFilter {
            share,
            table,
            partition: Some(_),
        } => {
            let name = match within {
                Some(tx) => member(share, table, tx)?,
                None => catalog.read(|c| member(share, table, c))?,
            };
            return gather_partitioning(catalog, within, &name, context);
        }
        Statement::SetTableProperties { table, properties }
            if properties.iter().any(|(k, _)| k == catalog::FIRE_ENTITY) =>
        {
            table
        }
        _ => return Ok(Gathered::default()),
    };
    let (location, latest) = latest_snapshot(catalog, within, table, context)?;
    if !matches!(statement, Statement::DescribeHistory { .. }) {
        return Ok(Gathered {
            latest_schema: Some((latest.version(), latest.arrow_schema()?)),
            ..Gathered::default()
        });
    }
    let mut history = Vec::new();
    for commit in Commits::open(&location, 0, latest.version())?.iter() {
        let commit = commit?;
        let operation = commit
            .info()
            .and_then(|info| info["operation"].as_str().map(str::to_string))
            .unwrap_or_default();
        history.push((commit.version, commit.timestamp, operation));
    }
    Ok(Gathered {
        history,
        ..Gathered::default()
    })
}

fn latest_snapshot(
    catalog: &Catalog,
    within: Option<&Tx<'_>>,
    table: &TableName,
    context: &Context<'_>,
) -> Result<(crate::storage::Location, crate::delta::Snapshot)> {
    let locate = |c: &Tx<'_>| {
        let found = c.require_table(&table.schema, &table.table)?;
        context.stores.table(c, &found)
    };
    let location = match within {
        Some(tx) => locate(tx)?,
        None => catalog.read(locate)?,
    };
    let latest = context.delta.snapshot(&location, VersionSpec::Latest)?;
    Ok((location, latest))
}

fn gather_partitioning(
    catalog: &Catalog,
    within: Option<&Tx<'_>>,
    table: &TableName,
    context: &Context<'_>,
) -> Result<Gathered> {
    let (_, latest) = latest_snapshot(catalog, within, table, context)?;
    let metadata = latest.metadata();
    Ok(Gathered {
        partitioning: Some(Partitioning::new(
            &metadata.partition_columns,
            &metadata.schema_string,
        )),
        ..Gathered::default()
    })
}
