//! The REST resources of the admin API, as admin SQL: every call becomes one statement that the
//! same executor runs, so REST and SQL cannot disagree. Names are back-quoted and strings
//! quoted here; the parser then checks them like any typed statement.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::StatementResult;
use crate::{Error, Result};

/// `` `name` ``, with backticks doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'text'`, with quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `schema.table` as two quoted parts (the parser reports a name without its dot).
pub fn table_name(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => format!("{}.{}", ident(schema), ident(table)),
        None => ident(name),
    }
}

fn comment(comment: &Option<String>) -> String {
    comment
        .as_deref()
        .map_or(String::new(), |c| format!(" COMMENT {}", literal(c)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub name: String,
    pub comment: Option<String>,
}

impl NewShare {
    pub fn sql(&self) -> String {
        format!(
            "CREATE SHARE {}{}",
            ident(&self.name),
            comment(&self.comment)
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTable {
    /// `schema.table`.
    pub name: String,
    pub location: String,
    pub comment: Option<String>,
}

impl NewTable {
    pub fn sql(&self) -> String {
        format!(
            "CREATE TABLE {} USING DELTA LOCATION {}{}",
            table_name(&self.name),
            literal(&self.location),
            comment(&self.comment)
        )
    }
}

/// A table added to a share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareMember {
    /// `schema.table` in the catalog.
    pub table: String,
    /// `schema.name` recipients see (default: the table's own).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    #[serde(default)]
    pub history: bool,
    pub start_version: Option<u64>,
}

impl ShareMember {
    pub fn sql(&self, share: &str) -> String {
        let mut sql = format!(
            "ALTER SHARE {} ADD TABLE {}",
            ident(share),
            table_name(&self.table)
        );
        if let Some(alias) = &self.alias {
            sql.push_str(&format!(" AS {}", table_name(alias)));
        }
        if self.history {
            sql.push_str(" WITH HISTORY");
            if let Some(v) = self.start_version {
                sql.push_str(&format!(" START VERSION {v}"));
            }
        }
        sql
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecipient {
    pub name: String,
    pub comment: Option<String>,
    /// e.g. `90d`.
    pub token_lifetime: Option<String>,
    pub ip_access_list: Option<Vec<String>>,
    #[serde(default)]
    pub oauth: bool,
}

impl NewRecipient {
    pub fn sql(&self) -> String {
        let mut sql = format!("CREATE RECIPIENT {}", ident(&self.name));
        if self.oauth {
            sql.push_str(" USING OAUTH");
        }
        sql.push_str(&comment(&self.comment));
        if let Some(lifetime) = &self.token_lifetime {
            sql.push_str(&format!(" TOKEN LIFETIME {}", literal(lifetime)));
        }
        if let Some(list) = &self.ip_access_list {
            sql.push_str(&format!(" IP ACCESS LIST {}", list_sql(list)));
        }
        sql
    }
}

/// `('a', 'b')`.
fn list_sql(entries: &[String]) -> String {
    let quoted: Vec<String> = entries.iter().map(|e| literal(e)).collect();
    format!("({})", quoted.join(", "))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAccessList {
    pub entries: Vec<String>,
}

impl IpAccessList {
    pub fn sql(&self, recipient: &str) -> Result<String> {
        if self.entries.is_empty() {
            return Err(Error::invalid(
                "an IP access list needs at least one entry (DELETE it to allow every address)",
            ));
        }
        Ok(format!(
            "ALTER RECIPIENT {} SET IP ACCESS LIST {}",
            ident(recipient),
            list_sql(&self.entries)
        ))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Grace period of the current token, e.g. `24h` (default: it stops now).
    pub expire_existing_in: Option<String>,
}

impl Rotation {
    pub fn sql(&self, recipient: &str) -> String {
        let grace = self
            .expire_existing_in
            .as_deref()
            .map_or(String::new(), |g| {
                format!(" EXPIRE EXISTING IN {}", literal(g))
            });
        format!("ALTER RECIPIENT {} ROTATE TOKEN{grace}", ident(recipient))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub share: String,
    pub recipient: String,
}

impl NewGrant {
    pub fn sql(&self) -> String {
        format!(
            "GRANT SELECT ON SHARE {} TO RECIPIENT {}",
            ident(&self.share),
            ident(&self.recipient)
        )
    }
}

/// A result table as JSON objects, one per row, keyed by column.
pub fn objects(result: &StatementResult) -> Vec<Value> {
    result
        .rows
        .iter()
        .map(|row| {
            let object: Map<String, Value> = result
                .columns
                .iter()
                .cloned()
                .zip(row.iter().map(|v| Value::String(v.clone())))
                .collect();
            Value::Object(object)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::parser::parse;

    #[test]
    fn rest_bodies_become_statements_the_parser_reads_back() {
        let sqls = [
            NewShare {
                name: "q4".into(),
                comment: Some("it's Q4".into()),
            }
            .sql(),
            NewTable {
                name: "fire.loans".into(),
                location: "/data/lo'ans".into(),
                comment: None,
            }
            .sql(),
            ShareMember {
                table: "fire.loans".into(),
                alias: Some("pub.loans".into()),
                history: true,
                start_version: Some(3),
            }
            .sql("q4"),
            NewRecipient {
                name: "bank".into(),
                comment: None,
                token_lifetime: Some("90d".into()),
                ip_access_list: Some(vec!["10.0.0.0/8".into()]),
                oauth: true,
            }
            .sql(),
            IpAccessList {
                entries: vec!["::1".into(), "10.0.0.1".into()],
            }
            .sql("bank")
            .unwrap(),
            Rotation {
                expire_existing_in: Some("24h".into()),
            }
            .sql("bank"),
            NewGrant {
                share: "q4".into(),
                recipient: "bank".into(),
            }
            .sql(),
        ];
        for sql in &sqls {
            assert_eq!(parse(sql).map(|s| s.len()), Ok(1), "{sql}");
        }
        assert_eq!(sqls[0], "CREATE SHARE `q4` COMMENT 'it''s Q4'");
        assert!(parse("CREATE SHARE `a``b`").is_ok(), "backticks double");
        assert!(IpAccessList { entries: vec![] }.sql("bank").is_err());
    }
}
