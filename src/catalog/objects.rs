//! Tables, shares, share members, recipients and grants.

use std::collections::BTreeMap;

use super::db::{Row, params};

use super::Tx;
use super::new_id;
use super::partition_filter::PartitionFilter;
use super::quality::{FIRE_ENTITY, FIRE_MIN_PASS_RATE};
use crate::clock::now_ms;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub id: String,
    pub schema: String,
    pub name: String,
    pub location: String,
    /// The storage credential (id) a cloud table is read with; `None` for local tables and
    /// for those read with the environment's credentials.
    pub credential: Option<String>,
    pub comment: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub created_at: i64,
    /// `URL LIFETIME` of its tables' file URLs (ms); `None`: the server's `--url-ttl`.
    pub url_ttl_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: String,
    pub name: String,
    pub comment: Option<String>,
    pub created_at: i64,
    /// `TOKEN LIFETIME`: how long the tokens it is given live (ms); `None` = no expiry.
    pub token_lifetime_ms: Option<i64>,
    /// `IP ACCESS LIST`: the addresses it may call from, as written; `None` = any.
    pub ip_access_list: Option<Vec<String>>,
    /// Created `USING OAUTH`: it holds OAuth client credentials instead of bearer tokens.
    pub oauth: bool,
    /// `PROPERTIES ('country' = 'FR', …)`, which partition filters read.
    pub properties: BTreeMap<String, String>,
}

/// A table as a share exposes it: `share.schema.name` is the alias recipients see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedTable {
    pub share_id: String,
    pub share: String,
    pub schema: String,
    pub name: String,
    pub table: Table,
    /// Shared `WITH HISTORY`: version and timestamp queries are allowed.
    pub history: bool,
    /// `START VERSION`: the oldest version those queries may read.
    pub start_version: u64,
    /// The share's `URL LIFETIME` (ms); `None`: the server's.
    pub url_ttl_ms: Option<i64>,
    pub added_at: i64,
    /// `PARTITION (…)`: which files recipients see; `None`: all.
    pub partition_filter: Option<PartitionFilter>,
    /// The comment given when the table was added to the share.
    pub comment: Option<String>,
    /// The table's FIRE binding (`fire.entity`, `fire.min_pass_rate`), read with it: what
    /// decides which versions are served, known without another query.
    pub fire_properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub share: String,
    pub recipient: String,
    pub granted_at: i64,
}

const TABLE_COLUMNS: &str =
    "t.id, t.schema_name, t.name, t.location, t.comment, t.created_at, t.credential_id";
const SHARED_TABLE_COLUMNS: &str = "s.id, s.name, m.schema_alias, m.table_alias, m.history, m.added_at, m.start_version, \
     t.id, t.schema_name, t.name, t.location, t.comment, t.created_at, t.credential_id, s.url_ttl_ms, \
     m.partition_filter, m.comment, \
     (SELECT value FROM table_properties p WHERE p.table_id = t.id AND p.key = 'fire.entity'), \
     (SELECT value FROM table_properties p WHERE p.table_id = t.id AND p.key = 'fire.min_pass_rate')";

fn table_at(row: &Row<'_>, at: usize) -> Result<Table> {
    Ok(Table {
        id: row.get(at)?,
        schema: row.get(at + 1)?,
        name: row.get(at + 2)?,
        location: row.get(at + 3)?,
        comment: row.get(at + 4)?,
        created_at: row.get(at + 5)?,
        credential: row.get(at + 6)?,
    })
}

fn shared_table(row: &Row<'_>) -> Result<SharedTable> {
    Ok(SharedTable {
        share_id: row.get(0)?,
        share: row.get(1)?,
        schema: row.get(2)?,
        name: row.get(3)?,
        history: row.get(4)?,
        added_at: row.get(5)?,
        start_version: row.get::<i64>(6)? as u64,
        table: table_at(row, 7)?,
        url_ttl_ms: row.get(14)?,
        partition_filter: json_column(row, 15)?,
        comment: row.get(16)?,
        fire_properties: [(FIRE_ENTITY, 17), (FIRE_MIN_PASS_RATE, 18)]
            .into_iter()
            .filter_map(|(key, at)| {
                Some(
                    row.get::<Option<String>>(at)
                        .transpose()?
                        .map(|v| (key.to_string(), v)),
                )
            })
            .collect::<Result<_>>()?,
    })
}

fn share(row: &Row<'_>) -> Result<Share> {
    Ok(Share {
        id: row.get(0)?,
        name: row.get(1)?,
        comment: row.get(2)?,
        created_at: row.get(3)?,
        url_ttl_ms: row.get(4)?,
    })
}

fn recipient(row: &Row<'_>) -> Result<Recipient> {
    Ok(Recipient {
        id: row.get(0)?,
        name: row.get(1)?,
        comment: row.get(2)?,
        created_at: row.get(3)?,
        token_lifetime_ms: row.get(4)?,
        ip_access_list: json_column(row, 5)?,
        oauth: row.get::<String>(6)? == "oauth",
        properties: json_column(row, 7)?.unwrap_or_default(),
    })
}

/// A value stored as JSON in column `index` (an IP access list, properties, a filter); what
/// does not parse reads as absent.
pub(super) fn json_column<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    index: usize,
) -> Result<Option<T>> {
    Ok(row
        .get::<Option<String>>(index)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("catalog values serialize")
}

const RECIPIENT_COLUMNS: &str =
    "id, name, comment, created_at, token_lifetime_ms, ip_access_list, credential, properties";

// ---- lookups by name ------------------------------------------------------------------------

impl Tx<'_> {
    pub fn find_table(&self, schema: &str, name: &str) -> Result<Option<Table>> {
        let sql = format!(
            "SELECT {TABLE_COLUMNS} FROM tables t WHERE t.schema_name = ?1 AND t.name = ?2"
        );
        self.conn
            .query_opt(&sql, params![schema, name], |r| table_at(r, 0))
    }

    pub fn table_by_id(&self, id: &str) -> Result<Option<Table>> {
        let sql = format!("SELECT {TABLE_COLUMNS} FROM tables t WHERE t.id = ?1");
        self.conn.query_opt(&sql, params![id], |r| table_at(r, 0))
    }

    pub fn find_share(&self, name: &str) -> Result<Option<Share>> {
        self.conn.query_opt(
            "SELECT id, name, comment, created_at, url_ttl_ms FROM shares WHERE name = ?1",
            params![name],
            share,
        )
    }

    pub fn find_recipient(&self, name: &str) -> Result<Option<Recipient>> {
        self.conn.query_opt(
            &format!("SELECT {RECIPIENT_COLUMNS} FROM recipients WHERE name = ?1"),
            params![name],
            recipient,
        )
    }

    pub fn require_table(&self, schema: &str, name: &str) -> Result<Table> {
        self.find_table(schema, name)?
            .ok_or_else(|| Error::not_found(format!("table {schema}.{name} does not exist")))
    }

    fn require_share(&self, name: &str) -> Result<Share> {
        self.find_share(name)?
            .ok_or_else(|| Error::not_found(format!("share {name} does not exist")))
    }

    pub fn require_recipient(&self, name: &str) -> Result<Recipient> {
        self.find_recipient(name)?
            .ok_or_else(|| Error::not_found(format!("recipient {name} does not exist")))
    }

    // ---- what a recipient may see -----------------------------------------------------------------

    /// Shares granted to the recipient, by name, after `after` (keyset paging).
    pub fn granted_shares(
        &self,
        recipient_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Share>> {
        self.conn.query_all(
            "SELECT s.id, s.name, s.comment, s.created_at, s.url_ttl_ms FROM shares s
             JOIN grants g ON g.share_id = s.id
             WHERE g.recipient_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR s.name > ?2)
             ORDER BY s.name LIMIT ?3",
            params![recipient_id, after, limit as i64],
            share,
        )
    }

    /// The share, if it exists and is granted to the recipient.
    pub fn granted_share(&self, recipient_id: &str, name: &str) -> Result<Option<Share>> {
        self.conn.query_opt(
            "SELECT s.id, s.name, s.comment, s.created_at, s.url_ttl_ms FROM shares s
                 JOIN grants g ON g.share_id = s.id
                 WHERE g.recipient_id = ?1 AND s.name = ?2",
            params![recipient_id, name],
            share,
        )
    }

    /// Schema names of a share, sorted, after `after`.
    pub fn share_schemas(
        &self,
        share_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.conn.query_all(
            "SELECT DISTINCT schema_alias FROM share_tables
             WHERE share_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR schema_alias > ?2)
             ORDER BY schema_alias LIMIT ?3",
            params![share_id, after, limit as i64],
            |r| r.get(0),
        )
    }

    /// Tables of a share (of one schema, or all), ordered by (schema, name), after `after`.
    pub fn share_tables(
        &self,
        share_id: &str,
        schema: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<SharedTable>> {
        let sql = format!(
            "SELECT {SHARED_TABLE_COLUMNS} FROM share_tables m
             JOIN shares s ON s.id = m.share_id JOIN tables t ON t.id = m.table_id
             WHERE m.share_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR m.schema_alias = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR (m.schema_alias, m.table_alias) > (?3, ?4))
             ORDER BY m.schema_alias, m.table_alias LIMIT ?5"
        );
        let (after_schema, after_table) = after.unzip();
        self.conn.query_all(
            &sql,
            params![share_id, schema, after_schema, after_table, limit as i64],
            shared_table,
        )
    }

    /// The shared table `share.schema.table`, if its share is granted to the recipient.
    pub fn granted_table(
        &self,
        recipient_id: &str,
        share: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<SharedTable>> {
        let sql = format!(
            "SELECT {SHARED_TABLE_COLUMNS} FROM share_tables m
             JOIN shares s ON s.id = m.share_id JOIN tables t ON t.id = m.table_id
             JOIN grants g ON g.share_id = s.id
             WHERE g.recipient_id = ?1 AND s.name = ?2 AND m.schema_alias = ?3 AND m.table_alias = ?4"
        );
        self.conn.query_opt(
            &sql,
            params![recipient_id, share, schema, table],
            shared_table,
        )
    }

    // ---- administration -----------------------------------------------------------------------------

    /// Registers a Delta table. Returns false when it existed and `if_not_exists` was given.
    pub fn create_table(
        &self,
        schema: &str,
        name: &str,
        location: &str,
        credential: Option<&str>,
        comment: Option<&str>,
        if_not_exists: bool,
    ) -> Result<bool> {
        if self.find_table(schema, name)?.is_some() {
            return exists_or_error(
                if_not_exists,
                format!("table {schema}.{name} already exists"),
            );
        }
        self.conn.execute(
            "INSERT INTO tables (id, schema_name, name, location, credential_id, comment, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                new_id(),
                schema,
                name,
                location,
                credential,
                comment,
                now_ms()
            ],
        )?;
        Ok(true)
    }

    pub fn create_share(
        &self,
        name: &str,
        comment: Option<&str>,
        if_not_exists: bool,
    ) -> Result<bool> {
        if self.find_share(name)?.is_some() {
            return exists_or_error(if_not_exists, format!("share {name} already exists"));
        }
        self.conn.execute(
            "INSERT INTO shares (id, name, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![new_id(), name, comment, now_ms()],
        )?;
        Ok(true)
    }
}

/// What `CREATE RECIPIENT` sets.
#[derive(Debug, Default)]
pub struct NewRecipient<'a> {
    pub name: &'a str,
    pub comment: Option<&'a str>,
    pub token_lifetime_ms: Option<i64>,
    pub ip_access_list: Option<&'a [String]>,
    pub oauth: bool,
    pub properties: BTreeMap<String, String>,
}

impl Tx<'_> {
    pub fn create_recipient(&self, new: &NewRecipient<'_>, if_not_exists: bool) -> Result<bool> {
        let name = new.name;
        if self.find_recipient(name)?.is_some() {
            return exists_or_error(if_not_exists, format!("recipient {name} already exists"));
        }
        self.conn.execute(
            "INSERT INTO recipients (id, name, comment, created_at, token_lifetime_ms, ip_access_list, credential, properties)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new_id(),
                name,
                new.comment,
                now_ms(),
                new.token_lifetime_ms,
                new.ip_access_list.map(to_json),
                if new.oauth { "oauth" } else { "token" },
                (!new.properties.is_empty()).then(|| to_json(&new.properties)),
            ],
        )?;
        Ok(true)
    }

    /// Sets (or with `None` removes) the recipient's IP access list.
    pub fn set_ip_access_list(&self, name: &str, list: Option<&[String]>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE recipients SET ip_access_list = ?2 WHERE name = ?1",
            params![name, list.map(to_json)],
        )?;
        deleted_or_error(n, false, || format!("recipient {name} does not exist")).map(drop)
    }

    /// Replaces the recipient's properties.
    pub fn set_recipient_properties(
        &self,
        name: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE recipients SET properties = ?2 WHERE name = ?1",
            params![name, (!properties.is_empty()).then(|| to_json(properties))],
        )?;
        deleted_or_error(n, false, || format!("recipient {name} does not exist")).map(drop)
    }

    pub fn recipient_by_id(&self, id: &str) -> Result<Option<Recipient>> {
        self.conn.query_opt(
            &format!("SELECT {RECIPIENT_COLUMNS} FROM recipients WHERE id = ?1"),
            params![id],
            recipient,
        )
    }
}

pub(super) fn exists_or_error(if_not_exists: bool, message: String) -> Result<bool> {
    if if_not_exists {
        Ok(false)
    } else {
        Err(Error::already_exists(message))
    }
}

/// How `ALTER SHARE … ADD TABLE` exposes a table.
#[derive(Debug, Default)]
pub struct NewMember<'a> {
    /// The name recipients see (default: the table's own).
    pub alias: Option<(&'a str, &'a str)>,
    /// The start version when shared `WITH HISTORY`.
    pub history: Option<u64>,
    pub partition_filter: Option<&'a PartitionFilter>,
    pub comment: Option<&'a str>,
}

impl Tx<'_> {
    /// Adds `schema.table` to a share as `member` says.
    pub fn add_table_to_share(
        &self,
        share: &str,
        (schema, table): (&str, &str),
        member: &NewMember<'_>,
    ) -> Result<()> {
        let share = self.require_share(share)?;
        let table = self.require_table(schema, table)?;
        let (alias_schema, alias_table) = member.alias.unwrap_or((&table.schema, &table.name));
        let taken: Option<String> = self.conn.query_opt(
            "SELECT table_id FROM share_tables WHERE share_id = ?1 AND (table_id = ?2
                 OR (schema_alias = ?3 AND table_alias = ?4))",
            params![share.id, table.id, alias_schema, alias_table],
            |r| r.get(0),
        )?;
        if let Some(other) = taken {
            let what = if other == table.id {
                format!(
                    "table {schema}.{} is already in share {}",
                    table.name, share.name
                )
            } else {
                format!(
                    "share {} already has a table named {alias_schema}.{alias_table}",
                    share.name
                )
            };
            return Err(Error::already_exists(what));
        }
        self.conn.execute(
            "INSERT INTO share_tables (share_id, table_id, schema_alias, table_alias, history, start_version, added_at,
                                       partition_filter, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                share.id,
                table.id,
                alias_schema,
                alias_table,
                member.history.is_some(),
                member.history.unwrap_or(0) as i64,
                now_ms(),
                member.partition_filter.map(to_json),
                member.comment,
            ],
        )?;
        Ok(())
    }

    /// The member of a share named `schema.table`: by the alias recipients see, else by the
    /// catalog name. Returns the share id and the table id.
    fn share_member(&self, share: &str, (schema, table): (&str, &str)) -> Result<(String, String)> {
        let share = self.require_share(share)?;
        let by = |condition: &str| -> Result<Option<String>> {
            self.conn.query_opt(
                &format!("SELECT table_id FROM share_tables m WHERE share_id = ?1 AND {condition}"),
                params![share.id, schema, table],
                |r| r.get(0),
            )
        };
        let table_id = match by("schema_alias = ?2 AND table_alias = ?3")? {
            Some(id) => Some(id),
            None => by("table_id IN (SELECT id FROM tables WHERE schema_name = ?2 AND name = ?3)")?,
        }
        .ok_or_else(|| {
            Error::not_found(format!(
                "share {} has no table {schema}.{table}",
                share.name
            ))
        })?;
        Ok((share.id, table_id))
    }

    /// The table a share holds as `schema.table` (its alias or its catalog name).
    pub fn share_member_table(&self, share: &str, name: (&str, &str)) -> Result<Table> {
        let (_, table_id) = self.share_member(share, name)?;
        self.table_by_id(&table_id)?
            .ok_or_else(|| Error::not_found(format!("table {} does not exist", table_id)))
    }

    /// Sets (or, with `None`, unsets) how long the file URLs of a share's tables live.
    pub fn set_share_url_ttl(&self, share: &str, ttl_ms: Option<i64>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE shares SET url_ttl_ms = ?2 WHERE name = ?1",
            params![share, ttl_ms],
        )?;
        if n == 0 {
            return Err(Error::not_found(format!("share {share} does not exist")));
        }
        Ok(())
    }

    /// Removes a table from a share; `schema.table` may be the catalog name or the alias.
    pub fn remove_table_from_share(&self, share: &str, name: (&str, &str)) -> Result<()> {
        let (share_id, table_id) = self.share_member(share, name)?;
        self.conn.execute(
            "DELETE FROM share_tables WHERE share_id = ?1 AND table_id = ?2",
            params![share_id, table_id],
        )?;
        Ok(())
    }

    /// Changes what a share exposes of a table's history (`Some(start version)` or none).
    pub fn set_table_history(
        &self,
        share: &str,
        name: (&str, &str),
        history: Option<u64>,
    ) -> Result<()> {
        let (share_id, table_id) = self.share_member(share, name)?;
        self.conn.execute(
            "UPDATE share_tables SET history = ?3, start_version = ?4 WHERE share_id = ?1 AND table_id = ?2",
            params![share_id, table_id, history.is_some(), history.unwrap_or(0) as i64],
        )?;
        Ok(())
    }

    /// Sets (or with `None` removes) the partition filter of a table in a share.
    pub fn set_partition_filter(
        &self,
        share: &str,
        name: (&str, &str),
        filter: Option<&PartitionFilter>,
    ) -> Result<()> {
        let (share_id, table_id) = self.share_member(share, name)?;
        self.conn.execute(
            "UPDATE share_tables SET partition_filter = ?3 WHERE share_id = ?1 AND table_id = ?2",
            params![share_id, table_id, filter.map(to_json)],
        )?;
        Ok(())
    }

    pub fn grant(&self, share: &str, recipient: &str) -> Result<()> {
        let share = self.require_share(share)?;
        let recipient = self.require_recipient(recipient)?;
        self.conn.execute(
            "INSERT INTO grants (share_id, recipient_id, granted_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![share.id, recipient.id, now_ms()],
        )?;
        Ok(())
    }

    pub fn revoke(&self, share: &str, recipient: &str) -> Result<()> {
        let share = self.require_share(share)?;
        let recipient = self.require_recipient(recipient)?;
        self.conn.execute(
            "DELETE FROM grants WHERE share_id = ?1 AND recipient_id = ?2",
            params![share.id, recipient.id],
        )?;
        Ok(())
    }

    /// Drops a table registration (and its share memberships). The Delta files are untouched.
    pub fn drop_table(&self, schema: &str, name: &str, if_exists: bool) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM tables WHERE schema_name = ?1 AND name = ?2",
            params![schema, name],
        )?;
        deleted_or_error(n, if_exists, || {
            format!("table {schema}.{name} does not exist")
        })
    }

    pub fn drop_share(&self, name: &str, if_exists: bool) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM shares WHERE name = ?1", params![name])?;
        deleted_or_error(n, if_exists, || format!("share {name} does not exist"))
    }

    /// Drops a recipient with its tokens and grants: its next request is refused.
    pub fn drop_recipient(&self, name: &str, if_exists: bool) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM recipients WHERE name = ?1", params![name])?;
        deleted_or_error(n, if_exists, || format!("recipient {name} does not exist"))
    }
}

pub(super) fn deleted_or_error(
    n: usize,
    if_exists: bool,
    message: impl FnOnce() -> String,
) -> Result<bool> {
    match (n, if_exists) {
        (0, true) => Ok(false),
        (0, false) => Err(Error::not_found(message())),
        _ => Ok(true),
    }
}

impl Tx<'_> {
    pub fn all_tables(&self) -> Result<Vec<Table>> {
        let sql = format!("SELECT {TABLE_COLUMNS} FROM tables t ORDER BY t.schema_name, t.name");
        self.conn.query_all(&sql, params![], |r| table_at(r, 0))
    }

    pub fn all_shares(&self) -> Result<Vec<Share>> {
        self.conn.query_all(
            "SELECT id, name, comment, created_at, url_ttl_ms FROM shares ORDER BY name",
            params![],
            share,
        )
    }

    pub fn all_recipients(&self) -> Result<Vec<Recipient>> {
        self.conn.query_all(
            &format!("SELECT {RECIPIENT_COLUMNS} FROM recipients ORDER BY name"),
            params![],
            recipient,
        )
    }

    /// Every table of the named share.
    pub fn tables_in_share(&self, share: &str) -> Result<Vec<SharedTable>> {
        let share = self.require_share(share)?;
        self.share_tables(&share.id, None, None, usize::MAX >> 1)
    }

    pub fn grants_on_share(&self, share: &str) -> Result<Vec<Grant>> {
        let share = self.require_share(share)?;
        self.grants_where("g.share_id = ?1", &share.id)
    }

    pub fn grants_to_recipient(&self, recipient: &str) -> Result<Vec<Grant>> {
        let recipient = self.require_recipient(recipient)?;
        self.grants_where("g.recipient_id = ?1", &recipient.id)
    }

    fn grants_where(&self, condition: &str, id: &str) -> Result<Vec<Grant>> {
        let sql = format!(
            "SELECT s.name, r.name, g.granted_at FROM grants g
             JOIN shares s ON s.id = g.share_id JOIN recipients r ON r.id = g.recipient_id
             WHERE {condition} ORDER BY s.name, r.name"
        );
        self.conn.query_all(&sql, params![id], |r| {
            Ok(Grant {
                share: r.get(0)?,
                recipient: r.get(1)?,
                granted_at: r.get(2)?,
            })
        })
    }
}
