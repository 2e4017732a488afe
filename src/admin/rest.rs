//! The REST resources of the admin API, as statements: every call becomes one [`Statement`]
//! that the same executor runs, so REST and SQL cannot disagree. REST names are plain (letters,
//! digits, `_`, as `openapi/admin.yaml` states); objects with other names are reached through
//! `POST /sql` and back quotes. The ledger keeps each statement as it writes itself back as SQL.

use std::time::Duration;

use serde::Deserialize;

use super::sql::{ObjectKind, Statement, TableCredential, TableName, check_comment};
use crate::{Error, Result};

/// A plain name (letters, digits, `_`, not starting with a digit, at most 128).
pub fn plain_name(name: &str) -> Result<String> {
    let plain = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(Error::invalid(format!(
            "'{name}' is not a plain name (letters, digits and _): use POST /admin/v1/sql with back quotes for other names"
        )));
    }
    Ok(name.to_string())
}

/// `schema.table`, both parts plain names.
pub fn table_name(name: &str) -> Result<TableName> {
    match name.split_once('.') {
        Some((schema, table)) => Ok(TableName {
            schema: plain_name(schema)?,
            table: plain_name(table)?,
        }),
        None => Err(Error::invalid(format!(
            "'{name}' is not a table name: use schema.table"
        ))),
    }
}

/// A duration such as `90d` (see `clock::parse_duration`).
pub fn duration(text: &str) -> Result<Duration> {
    crate::clock::parse_duration(text).ok_or_else(|| {
        Error::malformed(format!(
            "'{text}' is not a duration: use a number and s, m, h, d or w, e.g. '90d'"
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub name: String,
    pub comment: Option<String>,
}

impl NewShare {
    pub fn statement(self) -> Result<Statement> {
        check_comment(&self.comment).map_err(Error::invalid)?;
        Ok(Statement::CreateShare {
            name: plain_name(&self.name)?,
            comment: self.comment,
            if_not_exists: false,
        })
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
    pub fn statement(self) -> Result<Statement> {
        let credential = match (&self.credential, self.from_environment) {
            (Some(_), true) => {
                return Err(Error::invalid(
                    "give either credential or fromEnvironment, not both",
                ));
            }
            (Some(name), false) => TableCredential::Named(plain_name(name)?),
            (None, true) => TableCredential::Environment,
            (None, false) => TableCredential::None,
        };
        check_comment(&self.comment).map_err(Error::invalid)?;
        if self.location.trim().is_empty() {
            return Err(Error::invalid("the table location is empty"));
        }
        Ok(Statement::CreateTable {
            name: table_name(&self.name)?,
            location: self.location,
            credential,
            comment: self.comment,
            if_not_exists: false,
        })
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
    pub comment: Option<String>,
}

impl ShareMember {
    pub fn statement(self, share: &str) -> Result<Statement> {
        let start_version = match (self.history, self.start_version) {
            (_, Some(v)) if v < 0 => {
                return Err(Error::invalid("start_version cannot be negative"));
            }
            (false, Some(_)) => return Err(Error::invalid("start_version needs history: true")),
            (_, v) => v.map(|v| v as u64),
        };
        Ok(Statement::AddTableToShare {
            share: plain_name(share)?,
            table: table_name(&self.table)?,
            alias: self.alias.as_deref().map(table_name).transpose()?,
            with_history: self.history,
            start_version,
            // Partition filters are written in SQL (`POST /sql`): their grammar has no schema.
            partition: None,
            comment: {
                check_comment(&self.comment).map_err(Error::invalid)?;
                self.comment
            },
        })
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
    /// Read by partition filters as `CURRENT_RECIPIENT('key')`.
    pub properties: Option<std::collections::BTreeMap<String, String>>,
}

impl NewRecipient {
    pub fn statement(self) -> Result<Statement> {
        check_comment(&self.comment).map_err(Error::invalid)?;
        Ok(Statement::CreateRecipient {
            name: plain_name(&self.name)?,
            comment: self.comment,
            token_lifetime: self.token_lifetime.as_deref().map(duration).transpose()?,
            ip_access_list: self.ip_access_list.map(ip_access_list).transpose()?,
            oauth: self.oauth,
            properties: self.properties.into_iter().flatten().collect(),
            if_not_exists: false,
        })
    }
}

/// An IP access list of at least one entry.
fn ip_access_list(entries: Vec<String>) -> Result<Vec<String>> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "an IP access list needs at least one entry (leave it out, or DELETE it, to allow every address)",
        ));
    }
    Ok(entries)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpAccessList {
    pub entries: Vec<String>,
}

impl IpAccessList {
    pub fn statement(self, recipient: &str) -> Result<Statement> {
        Ok(Statement::SetIpAccessList {
            recipient: plain_name(recipient)?,
            list: Some(ip_access_list(self.entries)?),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Grace period of the current token, e.g. `24h` (default: it stops now).
    pub expire_existing_in: Option<String>,
}

impl Rotation {
    pub fn statement(self, recipient: &str) -> Result<Statement> {
        Ok(Statement::RotateToken {
            recipient: plain_name(recipient)?,
            grace: self
                .expire_existing_in
                .as_deref()
                .map(duration)
                .transpose()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub share: String,
    pub recipient: String,
}

impl NewGrant {
    pub fn statement(self) -> Result<Statement> {
        Ok(Statement::Grant {
            share: plain_name(&self.share)?,
            recipient: plain_name(&self.recipient)?,
        })
    }
}

/// `DROP SHARE|RECIPIENT name` for a plain name.
pub fn drop(kind: ObjectKind, name: &str) -> Result<Statement> {
    Ok(Statement::Drop {
        kind,
        name: plain_name(name)?,
        if_exists: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::sql::parse;

    #[test]
    fn rest_bodies_become_statements_that_write_themselves_back_as_sql() {
        let statements = [
            NewShare {
                name: "q4".into(),
                comment: Some("it's Q4".into()),
            }
            .statement(),
            NewTable {
                name: "fire.loans".into(),
                location: "/data/lo'ans".into(),
                credential: None,
                from_environment: false,
                comment: None,
            }
            .statement(),
            NewTable {
                name: "fire.loans".into(),
                location: "s3://lake/loans".into(),
                credential: Some("prod_s3".into()),
                from_environment: false,
                comment: None,
            }
            .statement(),
            ShareMember {
                comment: None,
                table: "fire.loans".into(),
                alias: Some("pub.loans".into()),
                history: true,
                start_version: Some(3),
            }
            .statement("q4"),
            NewRecipient {
                properties: None,
                name: "bank".into(),
                comment: None,
                token_lifetime: Some("90d".into()),
                ip_access_list: Some(vec!["10.0.0.0/8".into()]),
                oauth: true,
            }
            .statement(),
            IpAccessList {
                entries: vec!["::1".into(), "10.0.0.1".into()],
            }
            .statement("bank"),
            Rotation {
                expire_existing_in: Some("24h".into()),
            }
            .statement("bank"),
            NewGrant {
                share: "q4".into(),
                recipient: "bank".into(),
            }
            .statement(),
            drop(ObjectKind::Share, "q4"),
        ];
        for statement in statements {
            let statement = statement.unwrap();
            let sql = statement.to_string();
            assert_eq!(parse(&sql), Ok(vec![statement]), "{sql}");
        }
        assert_eq!(
            NewShare {
                name: "q4".into(),
                comment: Some("it's Q4".into()),
            }
            .statement()
            .unwrap()
            .to_string(),
            "CREATE SHARE `q4` COMMENT 'it''s Q4'"
        );
        for bad in ["A*", "9lives", "", "a`b"] {
            assert!(plain_name(bad).is_err(), "{bad}");
        }
        assert!(table_name("nodot").is_err());
        assert!(IpAccessList { entries: vec![] }.statement("bank").is_err());
        let member = |history, start_version| ShareMember {
            comment: None,
            table: "a.b".into(),
            alias: None,
            history,
            start_version,
        };
        assert!(member(false, Some(1)).statement("s").is_err());
        assert!(member(true, Some(-1)).statement("s").is_err());
        let lifetime = Rotation {
            expire_existing_in: Some("soon".into()),
        };
        assert!(lifetime.statement("bank").is_err());
    }
}
