//! Executes parsed statements, each in its own catalog transaction.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::parser::{ObjectKind, Statement, TableCredential, parse_with_text};
use crate::audit::Trail;
use crate::auth::Role;
use crate::catalog::{self, Catalog, history};
use crate::clock::{format_ms, now_ms};
use crate::data_dir::DataDir;
use crate::fire;
use crate::storage::{CredentialKind, StorageCredential, Stores, check_location, parse_location};
use crate::{Error, Result};

/// The outcome of one statement: a result table (`SHOW …`) or a one-line status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementResult {
    pub statement: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The statement's name in the audit ledger.
    pub action: &'static str,
    /// What a write changed in the catalog (see [`crate::catalog::history::diff`]).
    pub changes: Option<serde_json::Value>,
}

impl StatementResult {
    fn status(statement: &str, message: String) -> Self {
        StatementResult {
            statement: statement.to_string(),
            columns: vec!["status".into()],
            rows: vec![vec![message]],
            action: "",
            changes: None,
        }
    }

    fn table(statement: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Self {
        StatementResult {
            statement: statement.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            action: "",
            changes: None,
        }
    }

    /// What the audit ledger keeps of the statement: its text, name and changes, never its
    /// result rows (they may hold a new token).
    pub fn audit_record(&self) -> serde_json::Value {
        let mut record = serde_json::json!({"statement": self.statement, "action": self.action});
        if let Some(changes) = &self.changes {
            record["changes"] = changes.clone();
        }
        record
    }

    /// `{"columns": [...], "rows": [[...], ...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"columns": self.columns, "rows": self.rows})
    }

    /// Text for a terminal: status lines as they are, result sets as aligned tables.
    pub fn render(&self) -> String {
        if self.columns == ["status"] {
            return self.rows.iter().map(|r| format!("{}\n", r[0])).collect();
        }
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", padded.join(" | ").trim_end());
        };
        line(&mut out, &self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "{}", rule.join("-+-"));
        for row in &self.rows {
            line(&mut out, row);
        }
        let _ = writeln!(
            out,
            "({} row{})",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" }
        );
        out
    }
}

/// `{"results": [...]}`: one result per statement, as the admin API answers and
/// `fireshare sql --json` prints.
pub fn results_json(results: &[StatementResult]) -> serde_json::Value {
    serde_json::json!({"results": results.iter().map(StatementResult::to_json).collect::<Vec<_>>()})
}

/// Who runs a script, and what statements need from their surroundings.
pub struct Context<'a> {
    pub role: Role,
    /// Relative table locations are taken relative to it.
    pub base_dir: &'a Path,
    /// The server's public URL, e.g. `https://share.bank.example`: activation links start with it.
    pub public_url: &'a str,
    /// How long an activation link stays usable.
    pub activation_ttl: Duration,
    /// The data directory, whose audit ledger answers `SHOW ACCESS … AS OF`.
    pub data_dir: Option<&'a DataDir>,
    /// Where each applied statement is noted for the audit ledger.
    pub trail: Option<&'a Trail>,
    /// Who runs the script (recorded with decisions such as APPROVE VERSION).
    pub who: Option<&'a str>,
}

/// Parses and runs a script. Statements run in order, each in its own transaction; the first
/// failure stops the script (earlier statements stay done) and names the failing statement.
/// An auditor's script may only read: it is refused whole otherwise.
pub fn execute_script(
    catalog: &Catalog,
    sql: &str,
    context: &Context<'_>,
) -> Result<Vec<StatementResult>> {
    let role = context.role;
    let statements =
        parse_with_text(sql).map_err(|e| Error::malformed(format!("syntax error: {e}")))?;
    if statements.is_empty() {
        return Err(Error::malformed("no statement given"));
    }
    if role == Role::Auditor
        && let Some((_, text)) = statements.iter().find(|(s, _)| !s.is_read_only())
    {
        return Err(Error::permission_denied(format!(
            "auditors may only read (SHOW statements); refused: {text}"
        )));
    }
    let total = statements.len();
    let mut results = Vec::with_capacity(total);
    for (index, (statement, text)) in statements.into_iter().enumerate() {
        let result = read_storage(catalog, &statement, context)
            .and_then(|stored| {
                catalog.write(|tx| {
                    let before = (!statement.is_read_only())
                        .then(|| tx.governed_rows())
                        .transpose()?;
                    let mut result = execute(tx, &statement, &text, context, &stored)?;
                    result.action = statement.action();
                    if let Some(before) = before {
                        result.changes = Some(history::diff(&before, &tx.governed_rows()?));
                    }
                    Ok(result)
                })
            })
            .map_err(|e| {
                let done = if index > 0 {
                    format!(
                        " ({index} earlier statement{} applied)",
                        if index == 1 { " was" } else { "s were" }
                    )
                } else {
                    String::new()
                };
                e.map_message(|message| {
                    format!(
                        "statement {} of {total} failed{done}: {text}\n  {message}",
                        index + 1
                    )
                })
            })?;
        tracing::info!(statement = %text, "executed");
        if let Some(trail) = context.trail {
            trail.update(|d| {
                d.statements.push(result.audit_record());
                // One statement names the request; a script is a script.
                d.action = Some(
                    if d.statements.len() == 1 {
                        result.action
                    } else {
                        "runSql"
                    }
                    .into(),
                );
            });
        }
        results.push(result);
    }
    Ok(results)
}

/// What a statement reads from a table's storage, read before its catalog transaction: a slow
/// or unreachable store must never hold the catalog, which every request waits on.
#[derive(Default)]
struct StoredFacts {
    /// `DESCRIBE HISTORY`: each commit's version, time and operation.
    history: Vec<(u64, i64, String)>,
    /// Binding a FIRE entity: the latest version and its columns.
    latest_schema: Option<(u64, delta_kernel::arrow::datatypes::Schema)>,
}

fn read_storage(
    catalog: &Catalog,
    statement: &Statement,
    context: &Context<'_>,
) -> Result<StoredFacts> {
    let table = match statement {
        Statement::DescribeHistory { table } => table,
        Statement::SetTableProperties { table, properties }
            if properties.iter().any(|(k, _)| k == catalog::FIRE_ENTITY) =>
        {
            table
        }
        _ => return Ok(StoredFacts::default()),
    };
    let location = catalog.read(|c| {
        let found = c.require_table(&table.schema, &table.table)?;
        stores(context)?.table(c, &found)
    })?;
    let latest =
        crate::delta::DeltaLog::new().snapshot(&location, crate::delta::VersionSpec::Latest)?;
    if !matches!(statement, Statement::DescribeHistory { .. }) {
        return Ok(StoredFacts {
            latest_schema: Some((latest.version(), latest.arrow_schema()?)),
            ..StoredFacts::default()
        });
    }
    let mut history = Vec::new();
    for commit in crate::delta::Commits::open(&location, 0, latest.version())?.iter() {
        let commit = commit?;
        let operation = commit
            .actions
            .iter()
            .find_map(|a| a["commitInfo"]["operation"].as_str())
            .unwrap_or_default()
            .to_string();
        history.push((commit.version, commit.timestamp, operation));
    }
    Ok(StoredFacts {
        history,
        ..StoredFacts::default()
    })
}

fn execute(
    tx: &catalog::Tx<'_>,
    statement: &Statement,
    text: &str,
    context: &Context<'_>,
    stored: &StoredFacts,
) -> Result<StatementResult> {
    let status = |message: String| Ok(StatementResult::status(text, message));
    let done_or_skipped = |done: bool, what: String, skipped: &str| {
        status(if done { what } else { skipped.to_string() })
    };
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
                    check_location(&url, Some(&stores(context)?.vault().unseal(sealed)?))?;
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
            done_or_skipped(
                created,
                format!("created table {name} at {url}"),
                "table exists, nothing done",
            )
        }
        Statement::CreateShare {
            name,
            comment,
            if_not_exists,
        } => {
            let created = tx.create_share(name, comment.as_deref(), *if_not_exists)?;
            done_or_skipped(
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
            status(format!(
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
            status(format!(
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
            status(format!("removed table {table} from share {share}"))
        }
        Statement::CreateRecipient {
            name,
            comment,
            token_lifetime,
            ip_access_list,
            oauth,
            if_not_exists,
        } => {
            if let Some(list) = ip_access_list {
                crate::auth::ip::check_list(list)?;
            }
            let new = catalog::NewRecipient {
                name,
                comment: comment.as_deref(),
                token_lifetime_ms: token_lifetime.map(|d| d.as_millis() as i64),
                ip_access_list: ip_access_list.as_deref(),
                oauth: *oauth,
            };
            if !tx.create_recipient(&new, *if_not_exists)? {
                return status("recipient exists, nothing done".to_string());
            }
            new_credentials(tx, text, name, context, format!("created recipient {name}"))
        }
        Statement::SetIpAccessList { recipient, list } => {
            if let Some(list) = list {
                crate::auth::ip::check_list(list)?;
            }
            tx.set_ip_access_list(recipient, list.as_deref())?;
            status(match list {
                Some(list) => format!("{recipient} may now call only from {}", list.join(", ")),
                None => format!("{recipient} may now call from any address"),
            })
        }
        Statement::RotateToken { recipient, grace } => {
            let found = tx.require_recipient(recipient)?;
            let grace_until = now_ms().saturating_add(grace.map_or(0, |d| d.as_millis() as i64));
            let cut = tx.expire_for_rotation(&found.id, grace_until)?;
            let what = if found.oauth { "client" } else { "token" };
            let old = match (cut, grace) {
                (0, _) => format!("it had no live {what}"),
                (_, Some(_)) => {
                    format!("its current {what} works until {}", format_ms(grace_until))
                }
                (_, None) => format!("its previous {what}s stopped working"),
            };
            let done = format!("rotated the {what} of {}: {old}", found.name);
            new_credentials(tx, text, &found.name, context, done)
        }
        Statement::RevokeTokens { recipient } => {
            let found = tx.require_recipient(recipient)?;
            let revoked = tx.revoke_credentials(&found.id)?;
            let links = tx.withdraw_activation_links(&found.id)?;
            let what = if found.oauth { "client" } else { "token" };
            status(format!(
                "revoked {revoked} {what}{} of {} and withdrew {links} unused activation link{}",
                if revoked == 1 { "" } else { "s" },
                found.name,
                if links == 1 { "" } else { "s" }
            ))
        }
        Statement::DescribeRecipient { recipient } => describe_recipient(tx, text, recipient),
        Statement::ShowAdminTokens => {
            let now = now_ms();
            let rows = tx
                .admin_tokens()?
                .into_iter()
                .map(|t| {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(at), _) => format!("revoked {}", format_ms(at)),
                        (None, Some(at)) if at <= now => "expired".to_string(),
                        (None, _) => "live".to_string(),
                    };
                    vec![
                        format!("{}…", t.prefix),
                        t.name,
                        t.role,
                        format_ms(t.created_at),
                        t.expires_at.map(format_ms).unwrap_or_default(),
                        state,
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["prefix", "name", "role", "created", "expires", "state"],
                rows,
            ))
        }
        Statement::RevokeAdminToken { prefix } => {
            // Listings show the prefix with an ellipsis: accept it pasted as shown.
            let prefix = prefix.trim_end_matches('…');
            tx.revoke_admin_token(prefix)?;
            status(format!("revoked the admin token {prefix}…"))
        }
        Statement::Grant { share, recipient } => {
            tx.grant(share, recipient)?;
            status(format!(
                "granted SELECT on share {share} to recipient {recipient}"
            ))
        }
        Statement::Revoke { share, recipient } => {
            tx.revoke(share, recipient)?;
            status(format!(
                "revoked SELECT on share {share} from recipient {recipient}"
            ))
        }
        Statement::DropTable { name, if_exists } => {
            let dropped = tx.drop_table(&name.schema, &name.table, *if_exists)?;
            done_or_skipped(
                dropped,
                format!("dropped table {name} (its files are untouched)"),
                "no such table, nothing done",
            )
        }
        Statement::Drop {
            kind: ObjectKind::Share,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_share(name, *if_exists)?;
            done_or_skipped(
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
            status(match ms {
                Some(ms) => format!(
                    "file URLs of share {share} now live {} (at most what each table's store accepts)",
                    crate::clock::format_duration_ms(ms)
                ),
                None => format!("file URLs of share {share} live the server's --url-ttl"),
            })
        }
        Statement::CreateStorageCredential {
            name,
            kind,
            options,
            comment,
            if_not_exists,
        } => {
            let credential = StorageCredential::new(CredentialKind::parse(kind)?, options)?;
            let key_id = credential.key_id();
            let id = catalog::new_id();
            let sealed = stores(context)?.vault().seal(&id, &credential.secret)?;
            let created = tx.create_credential(
                &catalog::NewCredential {
                    id: &id,
                    name,
                    kind: credential.kind.as_str(),
                    key_id: &key_id,
                    public: &credential.public,
                    sealed: &sealed,
                    comment: comment.as_deref(),
                },
                *if_not_exists,
            )?;
            done_or_skipped(
                created,
                format!(
                    "created storage credential {name} ({} key {}); its secrets are encrypted and will not be shown again",
                    credential.kind.as_str(),
                    key_id
                ),
                "storage credential exists, nothing done",
            )
        }
        Statement::DescribeStorageCredential { name } => {
            let found = tx.require_credential(name)?;
            let used_by = tx.tables_using_credential(&found.id)?;
            let options: Vec<String> = found
                .public
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            Ok(StatementResult::table(
                text,
                &[
                    "name", "type", "key_id", "options", "used_by", "comment", "created",
                ],
                vec![vec![
                    found.name,
                    found.kind,
                    found.key_id,
                    options.join(", "),
                    used_by.join(", "),
                    found.comment.unwrap_or_default(),
                    format_ms(found.created_at),
                ]],
            ))
        }
        Statement::ShowStorageCredentials => {
            let rows = tx
                .credentials()?
                .into_iter()
                .map(|c| {
                    vec![
                        c.name,
                        c.kind,
                        c.key_id,
                        c.comment.unwrap_or_default(),
                        format_ms(c.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["name", "type", "key_id", "comment", "created"],
                rows,
            ))
        }
        Statement::Drop {
            kind: ObjectKind::StorageCredential,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_credential(name, *if_exists)?;
            done_or_skipped(
                dropped,
                format!("dropped storage credential {name}"),
                "no such storage credential, nothing done",
            )
        }
        Statement::Drop {
            kind: ObjectKind::Recipient,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_recipient(name, *if_exists)?;
            done_or_skipped(
                dropped,
                format!("dropped recipient {name} and revoked its tokens"),
                "no such recipient, nothing done",
            )
        }
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
                        format_ms(s.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["name", "comment", "created"],
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
                    "added",
                ],
                rows,
            ))
        }
        Statement::ShowGrantsOnShare { share } => grants(text, tx.grants_on_share(share)?),
        Statement::ShowGrantsToRecipient { recipient } => {
            grants(text, tx.grants_to_recipient(recipient)?)
        }
        Statement::SetTableProperties { table, properties } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let mut notes = Vec::new();
            for (key, value) in properties {
                match key.as_str() {
                    catalog::FIRE_ENTITY => {
                        let (version, schema) = stored
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
                        fire::quality::parse_pass_rate(value)?;
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
            status(message)
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
            done_or_skipped(
                !removed.is_empty(),
                format!("unset on {table}: {}", removed.join(", ")),
                "no such property: nothing to unset",
            )
        }
        Statement::ShowQuality { table, version } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let reports = tx.reports(&found.id)?;
            let report = match version {
                Some(v) => reports.iter().find(|r| r.version == *v),
                None => reports.last(),
            }
            .ok_or_else(|| {
                Error::not_found(format!(
                    "no quality report for {table}{}: run fireshare fire validate",
                    version.map_or(String::new(), |v| format!(" version {v}"))
                ))
            })?;
            let detail: serde_json::Value = serde_json::from_str(&report.report)?;
            let mut rows: Vec<Vec<String>> = detail["schemaErrors"]
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
                })
                .collect();
            for rule in detail["rules"].as_array().into_iter().flatten() {
                let samples: Vec<String> = rule["samples"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(3)
                    .map(|s| {
                        format!(
                            "{}#{}: {}",
                            s["file"].as_str().unwrap_or(""),
                            s["row"],
                            s["value"].as_str().unwrap_or("")
                        )
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
        Statement::DescribeHistory { table } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            let approvals = fire::quality::Approvals::load(tx, &found.id)?;
            let reports = tx.reports(&found.id)?;
            let mut rows = Vec::new();
            for (version, timestamp, operation) in &stored.history {
                let report = reports.iter().find(|r| r.version == *version);
                let status = approvals.as_ref().map_or_else(
                    || "not bound to a FIRE entity".to_string(),
                    |a| a.status(*version).to_string(),
                );
                rows.push(vec![
                    version.to_string(),
                    format_ms(*timestamp),
                    operation.clone(),
                    report.map_or(String::new(), |r| r.rows.to_string()),
                    report.map_or(String::new(), |r| format!("{:.4}", r.pass_rate)),
                    status,
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
                ],
                rows,
            ))
        }
        Statement::DecideVersion {
            table,
            version,
            approved,
            comment,
        } => {
            let found = tx.require_table(&table.schema, &table.table)?;
            if fire::quality::Approvals::load(tx, &found.id)?.is_none() {
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
            status(format!(
                "version {version} of {table} {} by {}",
                if *approved { "approved" } else { "rejected" },
                decision.decided_by
            ))
        }
        Statement::ShowFireSchemas => {
            let schemas = fire_schemas(tx)?;
            let mut rows = Vec::new();
            for name in schemas.entity_names()? {
                let row = match schemas.entity(&name) {
                    Ok(entity) => vec![
                        name,
                        entity.fields.len().to_string(),
                        fire::rules::expectations(&entity).len().to_string(),
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
            let loaded = fire_schemas(tx)?.entity(entity)?;
            let rows = fire::rules::expectations(&loaded)
                .into_iter()
                .map(|e| vec![entity.clone(), e.name, e.expression])
                .collect();
            Ok(StatementResult::table(
                text,
                &["entity", "expectation_name", "expectation_value"],
                rows,
            ))
        }
        Statement::ShowAccess { table, as_of } => {
            let rows = match as_of {
                None => tx.governed_rows()?,
                Some(time) => {
                    let dir = context.data_dir.ok_or_else(|| {
                        Error::unsupported("AS OF needs the audit ledger of a data directory")
                    })?;
                    let ledger = crate::audit::LedgerDb::open_existing(&dir.audit_db())?;
                    ledger.catalog_as_of(&crate::audit::query::time_bound(time)?)?
                }
            };
            let rows = history::table_access(&rows, &table.schema, &table.table)
                .into_iter()
                .map(|a| vec![a.recipient, a.share, a.shared_as, format_ms(a.granted_at)])
                .collect();
            Ok(StatementResult::table(
                text,
                &["recipient", "share", "shared_as", "granted"],
                rows,
            ))
        }
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
    let errors = fire::validate::schema_errors(&entity, schema);
    Ok(errors
        .into_iter()
        .map(|e| format!("version {version} does not fit {}: {e}", entity.name))
        .collect())
}

/// The stores of the data directory's tables (its key seals storage credentials).
fn stores(context: &Context<'_>) -> Result<Stores> {
    let dir = context.data_dir.ok_or_else(|| {
        Error::unsupported("storage credentials and table reads need a data directory")
    })?;
    Stores::open(dir)
}

/// The remembered FIRE schema directory (`--fire-schemas`).
fn fire_schemas(conn: &catalog::Tx<'_>) -> Result<fire::schema::SchemaDir> {
    conn.setting(catalog::FIRE_SCHEMAS)?
        .map(fire::schema::SchemaDir::new)
        .ok_or_else(|| {
            Error::invalid(
                "no FIRE schema directory is known: give --fire-schemas DIR (or FIRESHARE_FIRE_SCHEMAS) once",
            )
        })
}

/// New credentials for `recipient`, shown once: OAuth client credentials for an OAuth
/// recipient, else an activation link (whose download holds the token).
fn new_credentials(
    tx: &catalog::Tx<'_>,
    text: &str,
    recipient: &str,
    context: &Context<'_>,
    done: String,
) -> Result<StatementResult> {
    let found = tx.require_recipient(recipient)?;
    let public_url = context.public_url.trim_end_matches('/');
    if found.oauth {
        let client = crate::auth::oauth::create_client(tx, &found.id)?;
        return Ok(StatementResult::table(
            text,
            &["status", "client_id", "client_secret", "token_endpoint"],
            vec![vec![
                done,
                client.client_id,
                client.client_secret,
                format!("{public_url}/oauth/token"),
            ]],
        ));
    }
    let (code, hash) = crate::auth::new_activation_code();
    let expires_at = now_ms().saturating_add(context.activation_ttl.as_millis() as i64);
    tx.insert_activation_link(&found.id, &hash, expires_at)?;
    let url = format!("{public_url}/activate/{code}");
    Ok(StatementResult::table(
        text,
        &["status", "activation_url", "expires"],
        vec![vec![done, url, format_ms(expires_at)]],
    ))
}

/// `DESCRIBE RECIPIENT`: its settings, tokens, activation links and grants, one row each.
fn describe_recipient(
    tx: &catalog::Tx<'_>,
    text: &str,
    recipient: &str,
) -> Result<StatementResult> {
    let found = tx.require_recipient(recipient)?;
    let now = now_ms();
    let when = |ms: Option<i64>| ms.map(format_ms).unwrap_or_default();
    let mut rows = vec![vec![
        "recipient".to_string(),
        found.name.clone(),
        format_ms(found.created_at),
        String::new(),
        String::new(),
        match found.token_lifetime_ms {
            Some(ms) => format!("tokens live {}", crate::clock::format_duration_ms(ms)),
            None => "tokens do not expire".to_string(),
        },
    ]];
    rows.push(vec![
        "ip access list".into(),
        found
            .ip_access_list
            .map_or("any address".to_string(), |l| l.join(", ")),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    for token in tx.recipient_tokens(&found.id)? {
        let state = match (token.revoked_at, token.expires_at) {
            (Some(at), _) => format!("revoked {}", format_ms(at)),
            (None, Some(at)) if at <= now => "expired".to_string(),
            (None, _) => "live".to_string(),
        };
        rows.push(vec![
            "token".into(),
            format!("{}…", token.prefix),
            format_ms(token.created_at),
            when(token.expires_at),
            when(token.last_used_at),
            state,
        ]);
    }
    for link in tx.activation_links(&found.id)? {
        let state = match (link.used_at, link.withdrawn_at) {
            (Some(at), _) => format!("used {}", format_ms(at)),
            (None, Some(_)) => "withdrawn".to_string(),
            (None, None) if link.expires_at <= now => "expired".to_string(),
            (None, None) => "unused".to_string(),
        };
        rows.push(vec![
            "activation link".into(),
            String::new(),
            format_ms(link.created_at),
            format_ms(link.expires_at),
            String::new(),
            state,
        ]);
    }
    for grant in tx.grants_to_recipient(&found.name)? {
        rows.push(vec![
            "grant".into(),
            format!("SELECT on share {}", grant.share),
            format_ms(grant.granted_at),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    Ok(StatementResult::table(
        text,
        &["kind", "name", "created", "expires", "last_used", "state"],
        rows,
    ))
}

/// " with history" / " with history from version 5" / "".
fn describe_history(history: Option<u64>) -> String {
    match history {
        None => String::new(),
        Some(0) => " with history".to_string(),
        Some(v) => format!(" with history from version {v}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "
        CREATE TABLE fire.collateral_gold USING DELTA LOCATION '/data/collateral';
        CREATE SHARE regulatory_reports COMMENT 'FIRE reports';
        ALTER SHARE regulatory_reports ADD TABLE fire.collateral_gold AS fire.collateral WITH HISTORY;
        CREATE RECIPIENT regulatory_body COMMENT 'the regulator';
        GRANT SELECT ON SHARE regulatory_reports TO RECIPIENT regulatory_body;";

    fn context(role: Role) -> Context<'static> {
        Context {
            role,
            base_dir: Path::new("/work"),
            public_url: "https://share.example",
            activation_ttl: Duration::from_secs(3600),
            data_dir: None,
            trail: None,
            who: None,
        }
    }

    fn run(catalog: &Catalog, sql: &str) -> Result<Vec<StatementResult>> {
        execute_script(catalog, sql, &context(Role::Admin))
    }

    #[test]
    fn admin_tokens_are_listed_and_revoked() {
        use crate::auth::{TokenCache, authenticate_admin, issue_admin_token};
        let catalog = Catalog::open_in_memory().unwrap();
        let issued = issue_admin_token(&catalog, "ops", Role::Admin, None).unwrap();
        let header = format!("Bearer {}", issued.token);
        let listed = execute_script(&catalog, "SHOW ADMIN TOKENS", &context(Role::Auditor))
            .unwrap()
            .remove(0);
        let shown_prefix = listed.rows[0][0].clone();
        assert_eq!(listed.rows[0][1..3], ["ops", "admin"]);
        assert_eq!(listed.rows[0][5], "live");
        assert!(
            execute_script(
                &catalog,
                &format!("REVOKE ADMIN TOKEN '{shown_prefix}'"),
                &context(Role::Auditor)
            )
            .is_err(),
            "auditors change nothing"
        );
        run(&catalog, &format!("REVOKE ADMIN TOKEN '{shown_prefix}'")).unwrap();
        assert!(authenticate_admin(&catalog, &TokenCache::default(), Some(&header)).is_err());
        assert!(
            run(&catalog, &format!("REVOKE ADMIN TOKEN '{shown_prefix}'")).is_err(),
            "already revoked"
        );
    }

    #[test]
    fn recipients_are_listed() {
        let catalog = Catalog::open_in_memory().unwrap();
        run(&catalog, SEED).unwrap();
        let shown = run(&catalog, "SHOW RECIPIENTS").unwrap().remove(0);
        assert_eq!(shown.rows[0][0], "regulatory_body");
    }

    #[test]
    fn auditors_only_read() {
        let catalog = Catalog::open_in_memory().unwrap();
        run(&catalog, SEED).unwrap();
        let as_auditor = |sql| execute_script(&catalog, sql, &context(Role::Auditor));
        assert_eq!(
            as_auditor("SHOW SHARES; SHOW GRANTS ON SHARE regulatory_reports")
                .unwrap()
                .len(),
            2
        );
        let e = as_auditor("SHOW SHARES; DROP SHARE regulatory_reports").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::PermissionDenied);
        assert!(e.message().contains("DROP SHARE regulatory_reports"), "{e}");
        assert_eq!(
            run(&catalog, "SHOW SHARES").unwrap()[0].rows.len(),
            1,
            "nothing was dropped"
        );
        let json = results_json(&run(&catalog, "SHOW SHARES").unwrap());
        assert_eq!(json["results"][0]["columns"][0], "name");
        assert_eq!(json["results"][0]["rows"][0][0], "regulatory_reports");
    }

    #[test]
    fn seed_statements_build_a_share() {
        let catalog = Catalog::open_in_memory().unwrap();
        run(&catalog, SEED).unwrap();
        let all = run(&catalog, "SHOW ALL IN SHARE Regulatory_Reports").unwrap();
        assert_eq!(
            all[0].rows[0][1..5],
            ["fire.collateral_gold", "fire.collateral", "yes", "0"]
        );
        run(&catalog, "ALTER SHARE regulatory_reports ALTER TABLE fire.collateral WITH HISTORY START VERSION 4").unwrap();
        let all = run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap();
        assert_eq!(all[0].rows[0][3..5], ["yes", "4"]);
        let grants = run(&catalog, "show grants to recipient REGULATORY_BODY").unwrap();
        assert_eq!(
            grants[0].rows[0][..3],
            ["regulatory_body", "SELECT", "regulatory_reports"]
        );
        let text = run(&catalog, "SHOW TABLES").unwrap()[0].render();
        assert!(text.starts_with("schema | name "), "{text}");
        assert!(text.contains("file:///data/collateral/"), "{text}");
        run(
            &catalog,
            "REVOKE SELECT ON SHARE regulatory_reports FROM RECIPIENT regulatory_body",
        )
        .unwrap();
        assert!(
            run(&catalog, "SHOW GRANTS ON SHARE regulatory_reports").unwrap()[0]
                .rows
                .is_empty()
        );
        run(
            &catalog,
            "ALTER SHARE regulatory_reports REMOVE TABLE fire.collateral_gold",
        )
        .unwrap();
        assert!(
            run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap()[0]
                .rows
                .is_empty()
        );
    }

    #[test]
    fn a_failing_statement_names_itself_and_keeps_earlier_ones() {
        let catalog = Catalog::open_in_memory().unwrap();
        let e = run(
            &catalog,
            "CREATE SHARE a; CREATE SHARE b; GRANT SELECT ON SHARE a TO RECIPIENT nobody",
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::ResourceDoesNotExist);
        assert!(
            e.message()
                .contains("statement 3 of 3 failed (2 earlier statements were applied)"),
            "{e}"
        );
        assert!(
            e.message().contains("recipient nobody does not exist"),
            "{e}"
        );
        assert_eq!(run(&catalog, "SHOW SHARES").unwrap()[0].rows.len(), 2);
        let e = run(&catalog, "CREATE SHARE a").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::ResourceAlreadyExists);
        assert!(
            run(
                &catalog,
                "CREATE SHARE IF NOT EXISTS a; DROP SHARE IF EXISTS zzz"
            )
            .is_ok()
        );
        let e = run(&catalog, "CREATE SHARE").unwrap_err();
        assert!(e.message().starts_with("syntax error: "), "{e}");
    }

    #[test]
    fn dropping_cascades() {
        let catalog = Catalog::open_in_memory().unwrap();
        run(&catalog, SEED).unwrap();
        run(&catalog, "DROP TABLE fire.collateral_gold").unwrap();
        assert!(
            run(&catalog, "SHOW ALL IN SHARE regulatory_reports").unwrap()[0]
                .rows
                .is_empty()
        );
        run(&catalog, "DROP RECIPIENT regulatory_body").unwrap();
        assert!(
            run(&catalog, "SHOW GRANTS ON SHARE regulatory_reports").unwrap()[0]
                .rows
                .is_empty()
        );
        let e = run(&catalog, "DROP RECIPIENT regulatory_body").unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::ResourceDoesNotExist);
    }

    #[test]
    fn rotation_keeps_two_live_tokens_at_most_and_revocation_stops_all() {
        use crate::auth::{Activated, activate, authenticate, issue_token};
        let catalog = Catalog::open_in_memory().unwrap();
        run(&catalog, SEED).unwrap();
        let live = |token: &str| {
            authenticate(
                &catalog,
                &crate::auth::TokenCache::default(),
                Some(&format!("Bearer {token}")),
                None,
            )
            .is_ok()
        };
        let rotate = |sql: &str| {
            let result = run(&catalog, sql).unwrap().remove(0);
            assert_eq!(result.columns, ["status", "activation_url", "expires"]);
            let url = result.rows[0][1].clone();
            let code = url
                .strip_prefix("https://share.example/activate/")
                .unwrap()
                .to_string();
            match activate(&catalog, &code, None).unwrap() {
                Activated::Token { token, .. } => (code, token.token),
                Activated::Refused(why) => panic!("{why:?}"),
            }
        };
        let first = issue_token(&catalog, "regulatory_body", None)
            .unwrap()
            .token;
        let (code, second) =
            rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'");
        assert!(
            live(&first) && live(&second),
            "the old token lives through the grace period"
        );
        assert!(matches!(
            activate(&catalog, &code, None).unwrap(),
            Activated::Refused(catalog::Activation::UsedAt(_))
        ));
        let (_, third) =
            rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'");
        assert!(
            !live(&first) && live(&second) && live(&third),
            "two live tokens at most"
        );
        let (_, fourth) = rotate("ALTER RECIPIENT regulatory_body ROTATE TOKEN");
        assert!(
            !live(&second) && !live(&third) && live(&fourth),
            "no grace: the old ones stop now"
        );

        // A new link withdraws an unused one; REVOKE TOKENS stops every token and link.
        let unused = run(
            &catalog,
            "ALTER RECIPIENT regulatory_body ROTATE TOKEN EXPIRE EXISTING IN '1h'",
        )
        .unwrap();
        let status =
            &run(&catalog, "ALTER RECIPIENT regulatory_body REVOKE TOKENS").unwrap()[0].rows[0][0];
        assert!(
            status.starts_with("revoked 1 token of regulatory_body and withdrew 1"),
            "{status}"
        );
        assert!(!live(&fourth));
        let code = unused[0].rows[0][1].rsplit('/').next().unwrap();
        assert!(matches!(
            activate(&catalog, code, None).unwrap(),
            Activated::Refused(catalog::Activation::Withdrawn)
        ));

        let described = run(&catalog, "DESCRIBE RECIPIENT regulatory_body")
            .unwrap()
            .remove(0);
        let kinds: Vec<&str> = described.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "token").count(), 4);
        // One from CREATE RECIPIENT, four from the rotations.
        assert_eq!(kinds.iter().filter(|k| **k == "activation link").count(), 5);
        assert!(kinds.contains(&"grant"));
        assert!(
            described
                .rows
                .iter()
                .all(|r| r[0] != "token" || r[4] != "live")
        );
    }

    #[test]
    fn token_lifetime_applies_to_issued_tokens() {
        let catalog = Catalog::open_in_memory().unwrap();
        let created = run(&catalog, "CREATE RECIPIENT r TOKEN LIFETIME '90d'")
            .unwrap()
            .remove(0);
        assert!(created.rows[0][1].starts_with("https://share.example/activate/fsl_"));
        let token = crate::auth::issue_token(&catalog, "r", None).unwrap();
        let expires = token.expires_at.unwrap() - now_ms();
        assert!(
            (89 * 86_400_000..=90 * 86_400_000).contains(&expires),
            "{expires}"
        );
        let described = run(&catalog, "DESCRIBE RECIPIENT r").unwrap().remove(0);
        assert_eq!(described.rows[0][5], "tokens live 90d");
        assert_eq!(
            run(&catalog, "CREATE RECIPIENT IF NOT EXISTS r").unwrap()[0].rows[0][0],
            "recipient exists, nothing done"
        );
    }
}
