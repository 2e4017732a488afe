//! The REST resources of the admin API, as admin SQL: every call becomes one statement that the
//! same executor runs, so REST and SQL cannot disagree. REST names are plain (letters, digits,
//! `_`, as `openapi/admin.yaml` states); objects with other names are reached through
//! `POST /sql` and back quotes. Strings are quoted here; the parser then checks the statement
//! like any typed one.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::StatementResult;
use crate::{Error, Result};

/// A plain name (letters, digits, `_`, not starting with a digit, at most 128), back-quoted.
pub fn ident(name: &str) -> Result<String> {
    let plain = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(Error::invalid(format!(
            "'{name}' is not a plain name (letters, digits and _): use POST /admin/v1/sql with back quotes for other names"
        )));
    }
    Ok(format!("`{name}`"))
}

/// `'text'`, with quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `schema.table`, both parts plain names.
pub fn table_name(name: &str) -> Result<String> {
    match name.split_once('.') {
        Some((schema, table)) => Ok(format!("{}.{}", ident(schema)?, ident(table)?)),
        None => Err(Error::invalid(format!(
            "'{name}' is not a table name: use schema.table"
        ))),
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
    pub fn sql(&self) -> Result<String> {
        Ok(format!(
            "CREATE SHARE {}{}",
            ident(&self.name)?,
            comment(&self.comment)
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTable {
    /// `schema.table`.
    pub name: String,
    pub location: String,
    /// The storage credential a cloud table is read with.
    pub credential: Option<String>,
    /// Read a cloud table with the environment's credentials instead.
    #[serde(default, rename = "fromEnvironment")]
    pub from_environment: bool,
    pub comment: Option<String>,
}

impl NewTable {
    pub fn sql(&self) -> Result<String> {
        let credential = match (&self.credential, self.from_environment) {
            (Some(_), true) => {
                return Err(Error::invalid(
                    "give either credential or fromEnvironment, not both",
                ));
            }
            (Some(name), false) => format!(" WITH CREDENTIAL {}", ident(name)?),
            (None, true) => " FROM ENVIRONMENT".to_string(),
            (None, false) => String::new(),
        };
        Ok(format!(
            "CREATE TABLE {} USING DELTA LOCATION {}{credential}{}",
            table_name(&self.name)?,
            literal(&self.location),
            comment(&self.comment)
        ))
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
    /// Delta versions are i64: larger numbers do not deserialize.
    pub start_version: Option<i64>,
}

impl ShareMember {
    pub fn sql(&self, share: &str) -> Result<String> {
        let mut sql = format!(
            "ALTER SHARE {} ADD TABLE {}",
            ident(share)?,
            table_name(&self.table)?
        );
        if let Some(alias) = &self.alias {
            sql.push_str(&format!(" AS {}", table_name(alias)?));
        }
        match (self.history, self.start_version) {
            (_, Some(v)) if v < 0 => {
                return Err(Error::invalid("start_version cannot be negative"));
            }
            (false, Some(_)) => return Err(Error::invalid("start_version needs history: true")),
            (true, Some(v)) => sql.push_str(&format!(" WITH HISTORY START VERSION {v}")),
            (true, None) => sql.push_str(" WITH HISTORY"),
            (false, None) => {}
        }
        Ok(sql)
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
    pub fn sql(&self) -> Result<String> {
        let mut sql = format!("CREATE RECIPIENT {}", ident(&self.name)?);
        if self.oauth {
            sql.push_str(" USING OAUTH");
        }
        sql.push_str(&comment(&self.comment));
        if let Some(lifetime) = &self.token_lifetime {
            sql.push_str(&format!(" TOKEN LIFETIME {}", literal(lifetime)));
        }
        if let Some(list) = &self.ip_access_list {
            sql.push_str(&format!(" IP ACCESS LIST {}", list_sql(list)?));
        }
        Ok(sql)
    }
}

/// `('a', 'b')`.
fn list_sql(entries: &[String]) -> Result<String> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "an IP access list needs at least one entry (leave it out, or DELETE it, to allow every address)",
        ));
    }
    let quoted: Vec<String> = entries.iter().map(|e| literal(e)).collect();
    Ok(format!("({})", quoted.join(", ")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAccessList {
    pub entries: Vec<String>,
}

impl IpAccessList {
    pub fn sql(&self, recipient: &str) -> Result<String> {
        Ok(format!(
            "ALTER RECIPIENT {} SET IP ACCESS LIST {}",
            ident(recipient)?,
            list_sql(&self.entries)?
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
    pub fn sql(&self, recipient: &str) -> Result<String> {
        let grace = self
            .expire_existing_in
            .as_deref()
            .map_or(String::new(), |g| {
                format!(" EXPIRE EXISTING IN {}", literal(g))
            });
        Ok(format!(
            "ALTER RECIPIENT {} ROTATE TOKEN{grace}",
            ident(recipient)?
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub share: String,
    pub recipient: String,
}

impl NewGrant {
    pub fn sql(&self) -> Result<String> {
        Ok(format!(
            "GRANT SELECT ON SHARE {} TO RECIPIENT {}",
            ident(&self.share)?,
            ident(&self.recipient)?
        ))
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
                credential: None,
                from_environment: false,
                comment: None,
            }
            .sql(),
            NewTable {
                name: "fire.loans".into(),
                location: "s3://lake/loans".into(),
                credential: Some("prod_s3".into()),
                from_environment: false,
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
            .sql("bank"),
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
            let sql = sql.as_ref().unwrap();
            assert_eq!(parse(sql).map(|s| s.len()), Ok(1), "{sql}");
        }
        assert_eq!(
            sqls[0].as_ref().unwrap(),
            "CREATE SHARE `q4` COMMENT 'it''s Q4'"
        );
        for bad in ["A*", "9lives", "", "a`b"] {
            assert!(ident(bad).is_err(), "{bad}");
        }
        assert!(table_name("nodot").is_err());
        assert!(IpAccessList { entries: vec![] }.sql("bank").is_err());
        let member = |history, start_version| ShareMember {
            table: "a.b".into(),
            alias: None,
            history,
            start_version,
        };
        assert!(member(false, Some(1)).sql("s").is_err());
        assert!(member(true, Some(-1)).sql("s").is_err());
    }
}
