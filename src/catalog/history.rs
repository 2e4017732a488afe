//! The catalog as plain rows, for the audit ledger: what an admin statement changed (the rows
//! it removed and added, secrets left out), and who could read a table, computed from such rows
//! — today's, or those rebuilt from the recorded changes as of a past time.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::partition_filter::PartitionFilter;
use super::{Tx, db};
use crate::Result;

/// Every row of the governed tables, as canonical JSON objects, by table.
pub type CatalogRows = BTreeMap<String, BTreeSet<String>>;

/// What decides who may read what, plus the credentials' public facts. Secrets (`*_hash`,
/// `*_sealed` columns) never leave the catalog; last-used times change without any admin statement.
const GOVERNED: [&str; 14] = [
    "settings",
    "storage_credentials",
    "tables",
    "table_properties",
    "fire_decisions",
    "shares",
    "share_tables",
    "recipients",
    "grants",
    "recipient_tokens",
    "oauth_clients",
    "activation_links",
    "admin_tokens",
    "pending_changes",
];

fn recorded(column: &str) -> bool {
    // `rowid`: PostgreSQL's stand-in for SQLite's implicit row number, an order, not a fact.
    !column.ends_with("_hash")
        && !column.ends_with("_sealed")
        && !["last_used_at", "rowid"].contains(&column)
}

impl Tx<'_> {
    /// Reads every governed row.
    pub fn governed_rows(&self) -> Result<CatalogRows> {
        let mut rows = CatalogRows::new();
        for table in GOVERNED {
            let set = rows.entry(table.to_string()).or_default();
            self.conn
                .query_each(&format!("SELECT * FROM {table}"), &[], |row| {
                    let mut object = Map::new();
                    for (i, column) in row.names().into_iter().enumerate() {
                        if !recorded(column) {
                            continue;
                        }
                        let value = match row.value(i)? {
                            db::Value::Null => Value::Null,
                            db::Value::Int(n) => n.into(),
                            db::Value::Real(x) => x.into(),
                            db::Value::Text(t) => t.into(),
                            db::Value::Blob(b) => hex::encode(b).into(),
                        };
                        object.insert(column.to_string(), value);
                    }
                    // serde_json keeps object keys sorted: equal rows give equal text.
                    set.insert(Value::Object(object).to_string());
                    Ok(())
                })?;
        }
        Ok(rows)
    }
}

/// `{"table": {"removed": [rows], "added": [rows]}}` for the tables that differ.
pub fn diff(before: &CatalogRows, after: &CatalogRows) -> Value {
    let empty = BTreeSet::new();
    let mut changes = Map::new();
    let tables: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for table in tables {
        let (old, new) = (
            before.get(table).unwrap_or(&empty),
            after.get(table).unwrap_or(&empty),
        );
        let parse = |rows: Vec<&String>| -> Vec<Value> {
            rows.into_iter()
                .filter_map(|r| serde_json::from_str(r).ok())
                .collect()
        };
        let removed = parse(old.difference(new).collect());
        let added = parse(new.difference(old).collect());
        if !removed.is_empty() || !added.is_empty() {
            changes.insert(
                table.clone(),
                serde_json::json!({"removed": removed, "added": added}),
            );
        }
    }
    Value::Object(changes)
}

/// Applies changes recorded by [`diff`] to `rows`.
pub fn apply(rows: &mut CatalogRows, changes: &Value) {
    let Some(tables) = changes.as_object() else {
        return;
    };
    for (table, change) in tables {
        let set = rows.entry(table.clone()).or_default();
        let each = |key: &str| change[key].as_array().cloned().unwrap_or_default();
        for row in each("removed") {
            set.remove(&row.to_string());
        }
        for row in each("added") {
            set.insert(row.to_string());
        }
    }
}

/// One way a recipient could read a table: through a share that holds it and a grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub recipient: String,
    pub share: String,
    /// `schema.table` as the recipient sees it in the share.
    pub shared_as: String,
    /// Which files: `all`, or the share's partition filter with the recipient's values.
    pub partitions: String,
    /// Milliseconds since the epoch.
    pub granted_at: i64,
}

/// Who could read table `schema.name` (its catalog name) according to `rows`.
pub fn table_access(rows: &CatalogRows, schema: &str, name: &str) -> Vec<Access> {
    let table = |t: &str| -> Vec<Value> {
        rows.get(t)
            .into_iter()
            .flatten()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect()
    };
    let text = |row: &Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
    let by_id = |t: &str| -> BTreeMap<String, Value> {
        table(t).into_iter().map(|r| (text(&r, "id"), r)).collect()
    };
    let (shares, recipients) = (by_id("shares"), by_id("recipients"));
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let table_ids: BTreeSet<String> = table("tables")
        .iter()
        .filter(|t| same(&text(t, "schema_name"), schema) && same(&text(t, "name"), name))
        .map(|t| text(t, "id"))
        .collect();
    let grants = table("grants");
    let mut found = Vec::new();
    for member in table("share_tables") {
        if !table_ids.contains(&text(&member, "table_id")) {
            continue;
        }
        let share_id = text(&member, "share_id");
        let Some(share) = shares.get(&share_id) else {
            continue;
        };
        for grant in grants.iter().filter(|g| text(g, "share_id") == share_id) {
            if let Some(recipient) = recipients.get(&text(grant, "recipient_id")) {
                let stored =
                    |row: &Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
                let filter: Option<PartitionFilter> =
                    serde_json::from_str(&stored(&member, "partition_filter")).ok();
                let partitions = match filter {
                    Some(filter) => filter.describe_for(
                        &serde_json::from_str(&stored(recipient, "properties")).unwrap_or_default(),
                    ),
                    None => "all".to_string(),
                };
                found.push(Access {
                    recipient: text(recipient, "name"),
                    share: text(share, "name"),
                    shared_as: format!(
                        "{}.{}",
                        text(&member, "schema_alias"),
                        text(&member, "table_alias")
                    ),
                    partitions,
                    granted_at: grant["granted_at"].as_i64().unwrap_or_default(),
                });
            }
        }
    }
    found.sort();
    found
}
