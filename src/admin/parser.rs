//! Tokenizer and recursive-descent parser for the admin SQL statements.
//!
//! The grammar is small and fixed, so a hand-written parser keeps the dependency list short and
//! lets every error say exactly what was expected, what was found, and where.
//!
//! Keywords are matched case-insensitively and are not reserved: a plain word is a keyword only
//! where the grammar asks for one, so `CREATE SHARE comment` names a share `comment`. The one
//! ambiguity is a share, recipient or table named `if` right after `CREATE`/`DROP <kind>`, which
//! has to be back-quoted.
//!
//! To add a statement: add a variant to [`Statement`], add any new keywords to [`KEYWORDS`], and
//! either add a branch to the matching family function (`parse_create`, `parse_show`, ...) or a
//! new family to [`parse_statement`].

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// A two-part `schema.table` name, spelled as written (the catalog compares case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: String,
    pub table: String,
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// The one-part objects that `DROP` handles uniformly (tables have their own two-part form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Share,
    Recipient,
    StorageCredential,
}

/// How a table on a cloud store is read: `WITH CREDENTIAL name` or `FROM ENVIRONMENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableCredential {
    /// Not said: right for local tables only.
    None,
    Named(String),
    Environment,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    CreateTable {
        name: TableName,
        location: String,
        credential: TableCredential,
        comment: Option<String>,
        if_not_exists: bool,
    },
    /// `CREATE STORAGE CREDENTIAL c TYPE S3|GCS|AZURE WITH (option 'value', …)`.
    CreateStorageCredential {
        name: String,
        kind: String,
        options: Vec<(String, String)>,
        comment: Option<String>,
        if_not_exists: bool,
    },
    /// `DESCRIBE STORAGE CREDENTIAL c`: its kind, key id and public options, never a secret.
    DescribeStorageCredential {
        name: String,
    },
    ShowStorageCredentials,
    CreateShare {
        name: String,
        comment: Option<String>,
        if_not_exists: bool,
    },
    AddTableToShare {
        share: String,
        table: TableName,
        alias: Option<TableName>,
        with_history: bool,
        /// `START VERSION n` (with history only): the oldest version recipients may read.
        start_version: Option<u64>,
    },
    /// `ALTER SHARE s ALTER TABLE t WITH HISTORY [START VERSION n] | WITHOUT HISTORY`.
    AlterTableInShare {
        share: String,
        table: TableName,
        with_history: bool,
        start_version: Option<u64>,
    },
    RemoveTableFromShare {
        share: String,
        table: TableName,
    },
    /// `ALTER SHARE s SET URL LIFETIME '15m'`, or `UNSET URL LIFETIME` (`None`: the server's
    /// `--url-ttl`): how long the file URLs of the share's tables live.
    SetShareUrlLifetime {
        share: String,
        lifetime: Option<Duration>,
    },
    CreateRecipient {
        name: String,
        comment: Option<String>,
        /// `TOKEN LIFETIME '90d'`: how long the tokens it is given live.
        token_lifetime: Option<Duration>,
        /// `IP ACCESS LIST ('10.0.0.0/8', …)`: where it may call from.
        ip_access_list: Option<Vec<String>>,
        /// `USING OAUTH`: OAuth client credentials instead of bearer tokens.
        oauth: bool,
        if_not_exists: bool,
    },
    /// `ALTER RECIPIENT r SET IP ACCESS LIST (…)`, or `UNSET IP ACCESS LIST` (`None`).
    SetIpAccessList {
        recipient: String,
        list: Option<Vec<String>>,
    },
    /// `ALTER RECIPIENT r ROTATE TOKEN [EXPIRE EXISTING IN '24h']`.
    RotateToken {
        recipient: String,
        /// How long the current token keeps working (default: it stops now).
        grace: Option<Duration>,
    },
    /// `ALTER RECIPIENT r REVOKE TOKENS`.
    RevokeTokens {
        recipient: String,
    },
    DescribeRecipient {
        recipient: String,
    },
    /// `SHOW ADMIN TOKENS`: the admin API's tokens (prefix, holder, role, dates, state).
    ShowAdminTokens,
    /// `REVOKE ADMIN TOKEN 'fsa_…'`: by the display prefix `SHOW ADMIN TOKENS` lists.
    RevokeAdminToken {
        prefix: String,
    },
    Grant {
        share: String,
        recipient: String,
    },
    Revoke {
        share: String,
        recipient: String,
    },
    DropTable {
        name: TableName,
        if_exists: bool,
    },
    /// Drops a share or a recipient; tables have their own variant because their names have two
    /// parts.
    Drop {
        kind: ObjectKind,
        name: String,
        if_exists: bool,
    },
    ShowTables,
    ShowShares,
    ShowRecipients,
    ShowAllInShare {
        share: String,
    },
    ShowGrantsOnShare {
        share: String,
    },
    /// `ALTER TABLE t SET TBLPROPERTIES ('fire.entity' = 'collateral', …)`.
    SetTableProperties {
        table: TableName,
        properties: Vec<(String, String)>,
    },
    /// `ALTER TABLE t UNSET TBLPROPERTIES ('fire.entity', …)`.
    UnsetTableProperties {
        table: TableName,
        keys: Vec<String>,
    },
    /// `ALTER TABLE t APPROVE|REJECT VERSION n [COMMENT '…']`: an admin's decision on a version
    /// of a FIRE-bound table, over its validation.
    DecideVersion {
        table: TableName,
        version: u64,
        approved: bool,
        comment: Option<String>,
    },
    /// `DESCRIBE HISTORY t`: each version with its quality and whether it is served.
    DescribeHistory {
        table: TableName,
    },
    /// `SHOW QUALITY FOR TABLE t [VERSION n]`: a version's report, rule by rule.
    ShowQuality {
        table: TableName,
        version: Option<u64>,
    },
    /// `SHOW FIRE SCHEMAS`: the FIRE entities of the remembered schema directory.
    ShowFireSchemas,
    /// `SHOW EXPECTATIONS FOR ENTITY e`: the quality rules derived from a FIRE entity.
    ShowExpectations {
        entity: String,
    },
    /// `SHOW ACCESS ON TABLE schema.table [AS OF 'timestamp']`: who could read the table, now
    /// or at a past time (rebuilt from the audit ledger).
    ShowAccess {
        table: TableName,
        as_of: Option<String>,
    },
    ShowGrantsToRecipient {
        recipient: String,
    },
}

impl Statement {
    /// True for statements that only read the catalog (what auditors may run).
    /// The statement's name in the audit ledger: `grant`, `rotateToken`, …
    pub fn action(&self) -> &'static str {
        match self {
            Statement::CreateTable { .. } => "createTable",
            Statement::CreateStorageCredential { .. } => "createStorageCredential",
            Statement::DescribeStorageCredential { .. } => "describeStorageCredential",
            Statement::ShowStorageCredentials => "showStorageCredentials",
            Statement::Drop {
                kind: ObjectKind::StorageCredential,
                ..
            } => "dropStorageCredential",
            Statement::CreateShare { .. } => "createShare",
            Statement::AddTableToShare { .. } => "addTableToShare",
            Statement::AlterTableInShare { .. } => "alterTableInShare",
            Statement::RemoveTableFromShare { .. } => "removeTableFromShare",
            Statement::SetShareUrlLifetime { .. } => "setShareUrlLifetime",
            Statement::CreateRecipient { .. } => "createRecipient",
            Statement::SetIpAccessList { list: Some(_), .. } => "setIpAccessList",
            Statement::SetIpAccessList { list: None, .. } => "unsetIpAccessList",
            Statement::RotateToken { .. } => "rotateToken",
            Statement::RevokeTokens { .. } => "revokeTokens",
            Statement::DescribeRecipient { .. } => "describeRecipient",
            Statement::ShowAdminTokens => "showAdminTokens",
            Statement::RevokeAdminToken { .. } => "revokeAdminToken",
            Statement::Grant { .. } => "grant",
            Statement::Revoke { .. } => "revoke",
            Statement::DropTable { .. } => "dropTable",
            Statement::Drop {
                kind: ObjectKind::Share,
                ..
            } => "dropShare",
            Statement::Drop {
                kind: ObjectKind::Recipient,
                ..
            } => "dropRecipient",
            Statement::ShowTables => "showTables",
            Statement::ShowShares => "showShares",
            Statement::ShowRecipients => "showRecipients",
            Statement::ShowAllInShare { .. } => "showAllInShare",
            Statement::ShowGrantsOnShare { .. } => "showGrantsOnShare",
            Statement::ShowGrantsToRecipient { .. } => "showGrantsToRecipient",
            Statement::ShowAccess { .. } => "showAccess",
            Statement::ShowFireSchemas => "showFireSchemas",
            Statement::DescribeHistory { .. } => "describeHistory",
            Statement::DecideVersion { approved: true, .. } => "approveVersion",
            Statement::DecideVersion {
                approved: false, ..
            } => "rejectVersion",
            Statement::ShowQuality { .. } => "showQuality",
            Statement::SetTableProperties { .. } => "setTableProperties",
            Statement::UnsetTableProperties { .. } => "unsetTableProperties",
            Statement::ShowExpectations { .. } => "showExpectations",
        }
    }

    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Statement::ShowTables
                | Statement::DescribeStorageCredential { .. }
                | Statement::ShowStorageCredentials
                | Statement::DescribeRecipient { .. }
                | Statement::ShowAdminTokens
                | Statement::ShowShares
                | Statement::ShowRecipients
                | Statement::ShowAllInShare { .. }
                | Statement::ShowGrantsOnShare { .. }
                | Statement::ShowGrantsToRecipient { .. }
                | Statement::ShowAccess { .. }
                | Statement::ShowFireSchemas
                | Statement::DescribeHistory { .. }
                | Statement::ShowQuality { .. }
                | Statement::ShowExpectations { .. }
        )
    }
}

/// A syntax error with its position in the script: a byte `offset`, and a 1-based `line` and
/// `column` (counted in characters) for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl ParseError {
    fn at(src: &str, offset: usize, message: impl Into<String>) -> Self {
        let before = &src[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        ParseError {
            message: message.into(),
            offset,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl Error for ParseError {}

/// Parses a script of `;`-separated statements.
///
/// # Errors
///
/// Returns the first lexical or syntax error in source order, with its position.
pub fn parse(sql: &str) -> Result<Vec<Statement>, ParseError> {
    Ok(parse_with_text(sql)?
        .into_iter()
        .map(|(statement, _)| statement)
        .collect())
}

/// Returns, for each statement of the script, its source text (trimmed, without the `;`), in
/// order. Used to log or echo the statement that failed.
///
/// # Errors
///
/// The same errors as [`parse`].
pub fn parse_with_text(sql: &str) -> Result<Vec<(Statement, String)>, ParseError> {
    let mut cursor = Cursor::new(sql);
    let mut statements = Vec::new();
    loop {
        // Empty statements (`;;`, a trailing `;`) are harmless in scripts, so skip them.
        if cursor.accept(&TokenKind::Semicolon)? {
            continue;
        }
        if cursor.at(&TokenKind::Eof)? {
            return Ok(statements);
        }
        let start = cursor.peek()?.start;
        cursor.context.clear();
        let statement = parse_statement(&mut cursor)?;
        // From the first to the last token: leading comments and whitespace are not part of it.
        // Secret literals are cut out: the text is logged and kept in the audit ledger.
        let mut text = String::new();
        let mut from = start;
        for (secret_start, secret_end) in cursor.secrets.drain(..) {
            text.push_str(&sql[from..secret_start]);
            text.push_str(REDACTED);
            from = secret_end;
        }
        text.push_str(&sql[from..cursor.prev_end]);
        if !cursor.at(&TokenKind::Semicolon)? && !cursor.at(&TokenKind::Eof)? {
            cursor.context = "the statement".to_string();
            return Err(cursor.error_expected("';' or end of input"));
        }
        statements.push((statement, text));
    }
}

// ----------------------------------------------------------------------------------------------
// Statements: one function per family, each called after its leading keyword was consumed.
// ----------------------------------------------------------------------------------------------

fn parse_statement(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    match c.expect_one_of(&[
        "CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "SHOW", "DESCRIBE",
    ])? {
        "CREATE" => parse_create(c),
        "DESCRIBE" => {
            match c.expect_one_of(&["RECIPIENT", "HISTORY", "STORAGE"])? {
                "HISTORY" => {
                    let table = c.table_name()?;
                    return Ok(Statement::DescribeHistory { table });
                }
                "STORAGE" => {
                    c.expect_keyword("CREDENTIAL")?;
                    let name = c.identifier("storage credential name")?;
                    return Ok(Statement::DescribeStorageCredential { name });
                }
                _ => {}
            }
            let recipient = c.identifier("recipient name")?;
            Ok(Statement::DescribeRecipient { recipient })
        }
        "ALTER" => parse_alter(c),
        "DROP" => parse_drop(c),
        "GRANT" => parse_grant(c),
        "REVOKE" => parse_revoke(c),
        "SHOW" => parse_show(c),
        other => unreachable!("unhandled statement keyword {other}"),
    }
}

fn parse_create(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    match c.expect_one_of(&["SHARE", "TABLE", "RECIPIENT", "STORAGE"])? {
        "TABLE" => {
            let if_not_exists = parse_if_not_exists(c)?;
            let name = c.table_name()?;
            c.expect_keyword("USING")?;
            c.expect_keyword("DELTA")?;
            c.expect_keyword("LOCATION")?;
            let location = c.non_empty_string_literal()?;
            let credential = if c.accept_keyword("WITH")? {
                c.expect_keyword("CREDENTIAL")?;
                TableCredential::Named(c.identifier("storage credential name")?)
            } else if c.accept_keyword("FROM")? {
                c.expect_keyword("ENVIRONMENT")?;
                TableCredential::Environment
            } else {
                TableCredential::None
            };
            let comment = parse_comment(c)?;
            Ok(Statement::CreateTable {
                name,
                location,
                credential,
                comment,
                if_not_exists,
            })
        }
        "STORAGE" => {
            c.expect_keyword("CREDENTIAL")?;
            let if_not_exists = parse_if_not_exists(c)?;
            let name = c.identifier("storage credential name")?;
            c.expect_keyword("TYPE")?;
            let kind = c.identifier("credential type (S3, GCS or AZURE)")?;
            c.expect_keyword("WITH")?;
            let options = parse_credential_options(c)?;
            let comment = parse_comment(c)?;
            Ok(Statement::CreateStorageCredential {
                name,
                kind,
                options,
                comment,
                if_not_exists,
            })
        }
        "SHARE" => {
            let if_not_exists = parse_if_not_exists(c)?;
            let name = c.identifier("share name")?;
            let comment = parse_comment(c)?;
            Ok(Statement::CreateShare {
                name,
                comment,
                if_not_exists,
            })
        }
        "RECIPIENT" => {
            let if_not_exists = parse_if_not_exists(c)?;
            let name = c.identifier("recipient name")?;
            let oauth = c.accept_keyword("USING")?;
            if oauth {
                c.expect_keyword("OAUTH")?;
            }
            let comment = parse_comment(c)?;
            let token_lifetime = if c.accept_keyword("TOKEN")? {
                c.expect_keyword("LIFETIME")?;
                Some(c.duration()?)
            } else {
                None
            };
            let ip_access_list = if c.accept_keyword("IP")? {
                Some(parse_ip_access_list(c)?)
            } else {
                None
            };
            Ok(Statement::CreateRecipient {
                name,
                comment,
                token_lifetime,
                ip_access_list,
                oauth,
                if_not_exists,
            })
        }
        other => unreachable!("unhandled CREATE keyword {other}"),
    }
}

fn parse_alter(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    match c.expect_one_of(&["SHARE", "RECIPIENT", "TABLE"])? {
        "RECIPIENT" => return parse_alter_recipient(c),
        "TABLE" => return parse_alter_table(c),
        _ => {}
    }
    let share = c.identifier("share name")?;
    match c.expect_one_of(&["ADD", "REMOVE", "ALTER", "SET", "UNSET"])? {
        set @ ("SET" | "UNSET") => {
            c.expect_keyword("URL")?;
            c.expect_keyword("LIFETIME")?;
            let lifetime = if set == "SET" {
                Some(c.duration()?)
            } else {
                None
            };
            Ok(Statement::SetShareUrlLifetime { share, lifetime })
        }
        "ADD" => {
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let alias = if c.accept_keyword("AS")? {
                Some(c.table_name()?)
            } else {
                None
            };
            let (with_history, start_version) = if c.accept_keyword("WITH")? {
                c.expect_keyword("HISTORY")?;
                (true, parse_start_version(c)?)
            } else {
                (false, None)
            };
            Ok(Statement::AddTableToShare {
                share,
                table,
                alias,
                with_history,
                start_version,
            })
        }
        "ALTER" => {
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let (with_history, start_version) = match c.expect_one_of(&["WITH", "WITHOUT"])? {
                "WITH" => {
                    c.expect_keyword("HISTORY")?;
                    (true, parse_start_version(c)?)
                }
                _ => {
                    c.expect_keyword("HISTORY")?;
                    (false, None)
                }
            };
            Ok(Statement::AlterTableInShare {
                share,
                table,
                with_history,
                start_version,
            })
        }
        "REMOVE" => {
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            Ok(Statement::RemoveTableFromShare { share, table })
        }
        other => unreachable!("unhandled ALTER SHARE keyword {other}"),
    }
}

/// After `ALTER TABLE`: `t SET|UNSET TBLPROPERTIES (…)` or `t APPROVE|REJECT VERSION n`.
fn parse_alter_table(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    let table = c.table_name()?;
    let set = match c.expect_one_of(&["SET", "UNSET", "APPROVE", "REJECT"])? {
        "SET" => true,
        "UNSET" => false,
        decision => {
            c.expect_keyword("VERSION")?;
            let version = c.number("a version number")?;
            let comment = if c.accept_keyword("COMMENT")? {
                Some(c.string_literal()?)
            } else {
                None
            };
            return Ok(Statement::DecideVersion {
                table,
                version,
                approved: decision == "APPROVE",
                comment,
            });
        }
    };
    c.expect_keyword("TBLPROPERTIES")?;
    c.expect(&TokenKind::LParen, "'('")?;
    let mut properties = Vec::new();
    loop {
        let key = c.string_literal()?;
        let value = if set {
            c.expect(&TokenKind::Equals, "'='")?;
            c.string_literal()?
        } else {
            String::new()
        };
        properties.push((key, value));
        if !c.accept(&TokenKind::Comma)? {
            break;
        }
    }
    c.expect(&TokenKind::RParen, "',' or ')'")?;
    Ok(if set {
        Statement::SetTableProperties { table, properties }
    } else {
        Statement::UnsetTableProperties {
            table,
            keys: properties.into_iter().map(|(k, _)| k).collect(),
        }
    })
}

/// After `ALTER RECIPIENT`: `r ROTATE TOKEN [EXPIRE EXISTING IN '24h']` or `r REVOKE TOKENS`.
fn parse_alter_recipient(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    let recipient = c.identifier("recipient name")?;
    match c.expect_one_of(&["ROTATE", "REVOKE", "SET", "UNSET"])? {
        "SET" => {
            c.expect_keyword("IP")?;
            let list = Some(parse_ip_access_list(c)?);
            Ok(Statement::SetIpAccessList { recipient, list })
        }
        "UNSET" => {
            c.expect_keyword("IP")?;
            c.expect_keyword("ACCESS")?;
            c.expect_keyword("LIST")?;
            Ok(Statement::SetIpAccessList {
                recipient,
                list: None,
            })
        }
        "ROTATE" => {
            c.expect_keyword("TOKEN")?;
            let grace = if c.accept_keyword("EXPIRE")? {
                c.expect_keyword("EXISTING")?;
                c.expect_keyword("IN")?;
                Some(c.duration()?)
            } else {
                None
            };
            Ok(Statement::RotateToken { recipient, grace })
        }
        _ => {
            c.expect_keyword("TOKENS")?;
            Ok(Statement::RevokeTokens { recipient })
        }
    }
}

/// After `IP`: `ACCESS LIST ('a', 'b', …)`.
fn parse_ip_access_list(c: &mut Cursor<'_>) -> Result<Vec<String>, ParseError> {
    c.expect_keyword("ACCESS")?;
    c.expect_keyword("LIST")?;
    c.expect(&TokenKind::LParen, "'('")?;
    let mut entries = vec![c.string_literal()?];
    while c.accept(&TokenKind::Comma)? {
        entries.push(c.string_literal()?);
    }
    c.expect(&TokenKind::RParen, "',' or ')'")?;
    Ok(entries)
}

/// `[START VERSION n]` after `WITH HISTORY`.
fn parse_start_version(c: &mut Cursor<'_>) -> Result<Option<u64>, ParseError> {
    if !c.accept_keyword("START")? {
        return Ok(None);
    }
    c.expect_keyword("VERSION")?;
    let start = c.peek()?.start;
    let version = c.number("a version number")?;
    if i64::try_from(version).is_err() {
        return Err(c.error_at(
            start,
            format!(
                "version {version} is beyond the largest Delta version, {}",
                i64::MAX
            ),
        ));
    }
    Ok(Some(version))
}

/// `(name 'value', …)`: options of a storage credential. The values of secret options are
/// marked for redaction, and no error message quotes a value.
fn parse_credential_options(c: &mut Cursor<'_>) -> Result<Vec<(String, String)>, ParseError> {
    c.expect(&TokenKind::LParen, "'('")?;
    c.lexer.hide_literals = true;
    let mut options = Vec::new();
    loop {
        let name = c.identifier("option name")?;
        c.accept(&TokenKind::Equals)?;
        let start = c.peek()?.start;
        let value = c.string_literal()?;
        // Anything not known to be public is redacted, a misspelt secret option included.
        if !crate::storage::is_public_option(&name) {
            c.secrets.push((start, c.prev_end));
        }
        options.push((name, value));
        if !c.accept(&TokenKind::Comma)? {
            break;
        }
    }
    c.expect(&TokenKind::RParen, "',' or ')'")?;
    c.lexer.hide_literals = false;
    Ok(options)
}

fn parse_drop(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    // Tables have two-part names, so they get their own variant.
    let (kind, what) = match c.expect_one_of(&["TABLE", "SHARE", "RECIPIENT", "STORAGE"])? {
        "TABLE" => {
            let if_exists = parse_if_exists(c)?;
            let name = c.table_name()?;
            return Ok(Statement::DropTable { name, if_exists });
        }
        "SHARE" => (ObjectKind::Share, "share name"),
        "RECIPIENT" => (ObjectKind::Recipient, "recipient name"),
        "STORAGE" => {
            c.expect_keyword("CREDENTIAL")?;
            (ObjectKind::StorageCredential, "storage credential name")
        }
        other => unreachable!("unhandled DROP keyword {other}"),
    };
    let if_exists = parse_if_exists(c)?;
    let name = c.identifier(what)?;
    Ok(Statement::Drop {
        kind,
        name,
        if_exists,
    })
}

fn parse_grant(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    let (share, recipient) = parse_share_privilege(c, "TO")?;
    Ok(Statement::Grant { share, recipient })
}

fn parse_revoke(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    if c.accept_keyword("ADMIN")? {
        c.expect_keyword("TOKEN")?;
        let prefix = c.non_empty_string_literal()?;
        return Ok(Statement::RevokeAdminToken { prefix });
    }
    let (share, recipient) = parse_share_privilege(c, "FROM")?;
    Ok(Statement::Revoke { share, recipient })
}

/// `SELECT ON SHARE share {TO|FROM} RECIPIENT recipient`, shared by GRANT and REVOKE.
fn parse_share_privilege(
    c: &mut Cursor<'_>,
    preposition: &'static str,
) -> Result<(String, String), ParseError> {
    c.expect_keyword("SELECT")?;
    c.expect_keyword("ON")?;
    c.expect_keyword("SHARE")?;
    let share = c.identifier("share name")?;
    c.expect_keyword(preposition)?;
    c.expect_keyword("RECIPIENT")?;
    let recipient = c.identifier("recipient name")?;
    Ok((share, recipient))
}

fn parse_show(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    match c.expect_one_of(&[
        "TABLES",
        "SHARES",
        "RECIPIENTS",
        "ALL",
        "GRANTS",
        "ADMIN",
        "ACCESS",
        "FIRE",
        "EXPECTATIONS",
        "QUALITY",
        "STORAGE",
    ])? {
        "STORAGE" => {
            c.expect_keyword("CREDENTIALS")?;
            Ok(Statement::ShowStorageCredentials)
        }
        "QUALITY" => {
            c.expect_keyword("FOR")?;
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let version = if c.accept_keyword("VERSION")? {
                Some(c.number("a version number")?)
            } else {
                None
            };
            Ok(Statement::ShowQuality { table, version })
        }
        "FIRE" => {
            c.expect_keyword("SCHEMAS")?;
            Ok(Statement::ShowFireSchemas)
        }
        "EXPECTATIONS" => {
            c.expect_keyword("FOR")?;
            c.expect_keyword("ENTITY")?;
            let entity = c.identifier("entity name")?;
            Ok(Statement::ShowExpectations { entity })
        }
        "TABLES" => Ok(Statement::ShowTables),
        "ACCESS" => {
            c.expect_keyword("ON")?;
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let as_of = if c.accept_keyword("AS")? {
                c.expect_keyword("OF")?;
                Some(c.string_literal()?)
            } else {
                None
            };
            Ok(Statement::ShowAccess { table, as_of })
        }
        "ADMIN" => {
            c.expect_keyword("TOKENS")?;
            Ok(Statement::ShowAdminTokens)
        }
        "SHARES" => Ok(Statement::ShowShares),
        "RECIPIENTS" => Ok(Statement::ShowRecipients),
        "ALL" => {
            c.expect_keyword("IN")?;
            c.expect_keyword("SHARE")?;
            let share = c.identifier("share name")?;
            Ok(Statement::ShowAllInShare { share })
        }
        "GRANTS" => match c.expect_one_of(&["ON", "TO"])? {
            "ON" => {
                c.expect_keyword("SHARE")?;
                let share = c.identifier("share name")?;
                Ok(Statement::ShowGrantsOnShare { share })
            }
            "TO" => {
                c.expect_keyword("RECIPIENT")?;
                let recipient = c.identifier("recipient name")?;
                Ok(Statement::ShowGrantsToRecipient { recipient })
            }
            other => unreachable!("unhandled SHOW GRANTS keyword {other}"),
        },
        other => unreachable!("unhandled SHOW keyword {other}"),
    }
}

fn parse_if_not_exists(c: &mut Cursor<'_>) -> Result<bool, ParseError> {
    if !c.accept_keyword("IF")? {
        return Ok(false);
    }
    c.expect_keyword("NOT")?;
    c.expect_keyword("EXISTS")?;
    Ok(true)
}

fn parse_if_exists(c: &mut Cursor<'_>) -> Result<bool, ParseError> {
    if !c.accept_keyword("IF")? {
        return Ok(false);
    }
    c.expect_keyword("EXISTS")?;
    Ok(true)
}

fn parse_comment(c: &mut Cursor<'_>) -> Result<Option<String>, ParseError> {
    if c.accept_keyword("COMMENT")? {
        Ok(Some(c.string_literal()?))
    } else {
        Ok(None)
    }
}

// ----------------------------------------------------------------------------------------------
// Cursor: one token of lookahead over the lexer, plus the helpers the statement parsers use.
// ----------------------------------------------------------------------------------------------

/// What stands in a statement's text for a secret literal.
pub const REDACTED: &str = "'<redacted>'";

/// Every keyword of the grammar. Only used to describe tokens in errors ("keyword 'GRANT'" rather
/// than "identifier 'GRANT'"), since keywords are not reserved.
const KEYWORDS: &[&str] = &[
    "ACCESS",
    "ADD",
    "ADMIN",
    "ALL",
    "ALTER",
    "APPROVE",
    "AS",
    "COMMENT",
    "CREATE",
    "CREDENTIAL",
    "CREDENTIALS",
    "DELTA",
    "DESCRIBE",
    "DROP",
    "ENTITY",
    "ENVIRONMENT",
    "EXISTING",
    "EXISTS",
    "EXPECTATIONS",
    "EXPIRE",
    "FIRE",
    "FOR",
    "FROM",
    "GRANT",
    "GRANTS",
    "HISTORY",
    "IF",
    "IN",
    "IP",
    "LIFETIME",
    "LIST",
    "LOCATION",
    "NOT",
    "OAUTH",
    "OF",
    "ON",
    "QUALITY",
    "RECIPIENT",
    "RECIPIENTS",
    "REJECT",
    "REMOVE",
    "REVOKE",
    "ROTATE",
    "SCHEMAS",
    "SELECT",
    "SET",
    "SHARE",
    "SHARES",
    "SHOW",
    "START",
    "STORAGE",
    "TABLE",
    "TABLES",
    "TBLPROPERTIES",
    "TO",
    "TOKEN",
    "TOKENS",
    "TYPE",
    "UNSET",
    "URL",
    "USING",
    "VERSION",
    "WITH",
    "WITHOUT",
];

struct Cursor<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// End offset of the last consumed token, to cut out statement text.
    prev_end: usize,
    /// What was just consumed, for "expected X after <context>" messages; empty at the start of
    /// a statement.
    context: String,
    /// Spans of secret string literals in the current statement, cut from its text.
    secrets: Vec<(usize, usize)>,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor {
            lexer: Lexer {
                src,
                pos: 0,
                hide_literals: false,
            },
            peeked: None,
            prev_end: 0,
            context: String::new(),
            secrets: Vec::new(),
        }
    }

    /// Lexing is lazy so that the first error in source order is the one reported, whether it
    /// is a lexical or a syntax error.
    fn peek(&mut self) -> Result<&Token, ParseError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    fn advance(&mut self) -> Result<Token, ParseError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        self.prev_end = token.end;
        Ok(token)
    }

    fn at(&mut self, kind: &TokenKind) -> Result<bool, ParseError> {
        Ok(&self.peek()?.kind == kind)
    }

    /// Consumes a punctuation token if it is next.
    fn accept(&mut self, kind: &TokenKind) -> Result<bool, ParseError> {
        if self.at(kind)? {
            let token = self.advance()?;
            self.context = token.kind.describe();
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<(), ParseError> {
        if self.accept(kind)? {
            Ok(())
        } else {
            Err(self.error_expected(what))
        }
    }

    fn accept_keyword(&mut self, keyword: &str) -> Result<bool, ParseError> {
        debug_assert!(
            KEYWORDS.contains(&keyword),
            "{keyword} missing from KEYWORDS"
        );
        let found = matches!(&self.peek()?.kind, TokenKind::Word(word) if word.eq_ignore_ascii_case(keyword));
        if found {
            self.advance()?;
            self.context = keyword.to_string();
        }
        Ok(found)
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), ParseError> {
        if self.accept_keyword(keyword)? {
            Ok(())
        } else {
            Err(self.error_expected(&format!("keyword {keyword}")))
        }
    }

    /// Consumes whichever of `keywords` comes next and returns it in the spelling given here, so
    /// callers can `match` on it.
    fn expect_one_of(&mut self, keywords: &[&'static str]) -> Result<&'static str, ParseError> {
        for &keyword in keywords {
            if self.accept_keyword(keyword)? {
                return Ok(keyword);
            }
        }
        Err(self.error_expected(&format!("keyword {}", alternatives(keywords))))
    }

    /// A one-part name (share, recipient), plain or back-quoted.
    fn identifier(&mut self, what: &str) -> Result<String, ParseError> {
        let name = match &self.peek()?.kind {
            TokenKind::Word(name) | TokenKind::QuotedIdent(name) => name.clone(),
            _ => return Err(self.error_expected(&format!("a {what}"))),
        };
        self.advance()?;
        self.context = format!("{what} '{name}'");
        Ok(name)
    }

    /// A `schema.table` name: exactly two parts, neither containing a dot.
    fn table_name(&mut self) -> Result<TableName, ParseError> {
        let start = self.peek()?.start;
        let context = self.context.clone();
        let mut parts = vec![self.name_part()?];
        while self.accept(&TokenKind::Dot)? {
            parts.push(self.name_part()?);
        }
        match <[String; 2]>::try_from(parts) {
            Ok([schema, table]) => {
                let name = TableName { schema, table };
                self.context = format!("table name '{name}'");
                Ok(name)
            }
            Err(parts) => Err(self.error_at(
                start,
                format!(
                    "expected a two-part table name schema.table after {context}, found '{}'",
                    parts.join(".")
                ),
            )),
        }
    }

    /// One part of a table name. A dot inside a quoted part would make `schema.table` ambiguous
    /// wherever names are printed or split again, so it is rejected.
    fn name_part(&mut self) -> Result<String, ParseError> {
        let token = self.peek()?;
        let start = token.start;
        let name = match &token.kind {
            TokenKind::Word(name) | TokenKind::QuotedIdent(name) => name.clone(),
            _ => return Err(self.error_expected("a table name")),
        };
        if name.contains('.') {
            return Err(self.error_at(
                start,
                format!("schema and table names must not contain '.', found `{name}`"),
            ));
        }
        self.advance()?;
        self.context = format!("'{name}'");
        Ok(name)
    }

    fn number(&mut self, what: &str) -> Result<u64, ParseError> {
        let n = match &self.peek()?.kind {
            TokenKind::Number(n) => *n,
            _ => return Err(self.error_expected(what)),
        };
        self.advance()?;
        self.context = format!("{what} {n}");
        Ok(n)
    }

    fn string_literal(&mut self) -> Result<String, ParseError> {
        let value = match &self.peek()?.kind {
            TokenKind::Str(value) => value.clone(),
            _ => return Err(self.error_expected("a string literal")),
        };
        self.advance()?;
        self.context = "the string literal".to_string();
        Ok(value)
    }

    /// A duration as a string literal: `'90d'`, `'24h'`, `'30m'`.
    fn duration(&mut self) -> Result<Duration, ParseError> {
        let start = self.peek()?.start;
        let text = self.string_literal()?;
        crate::clock::parse_duration(&text).ok_or_else(|| {
            self.error_at(
                start,
                format!("'{text}' is not a duration: use a number and s, m, h, d or w, e.g. '90d'"),
            )
        })
    }

    /// A string literal that must not be empty, e.g. a LOCATION: an empty path would resolve to
    /// the server's working directory, which is never what was meant.
    fn non_empty_string_literal(&mut self) -> Result<String, ParseError> {
        let keyword = self.context.clone();
        let start = self.peek()?.start;
        let value = self.string_literal()?;
        if value.trim().is_empty() {
            return Err(self.error_at(
                start,
                format!("the string after {keyword} must not be empty"),
            ));
        }
        Ok(value)
    }

    /// "expected {what} after {context}, found {next token}", positioned at the next token. If
    /// the next token cannot even be lexed, that lexical error is the more useful one.
    fn error_expected(&mut self, what: &str) -> ParseError {
        let hide = self.lexer.hide_literals;
        let (found, offset) = match self.peek() {
            Ok(token)
                if hide
                    && matches!(
                        token.kind,
                        TokenKind::Str(_)
                            | TokenKind::Word(_)
                            | TokenKind::QuotedIdent(_)
                            | TokenKind::Number(_)
                    ) =>
            {
                (
                    "a value (not shown: it may be a secret)".to_string(),
                    token.start,
                )
            }
            Ok(token) => (token.kind.describe(), token.start),
            Err(error) => return error,
        };
        let after = if self.context.is_empty() {
            String::new()
        } else {
            format!(" after {}", self.context)
        };
        self.error_at(offset, format!("expected {what}{after}, found {found}"))
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.lexer.src, offset, message)
    }
}

/// "A", "A or B", "A, B or C".
fn alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ----------------------------------------------------------------------------------------------
// Lexer
// ----------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    /// A plain identifier or keyword; which one depends on where it appears.
    Word(String),
    /// A back-quoted identifier, unescaped. Never a keyword.
    QuotedIdent(String),
    /// A single-quoted string literal, unescaped.
    Str(String),
    /// An unsigned integer literal.
    Number(u64),
    Dot,
    Semicolon,
    LParen,
    RParen,
    Comma,
    Equals,
    Eof,
}

impl TokenKind {
    /// How the token is named in error messages.
    fn describe(&self) -> String {
        match self {
            TokenKind::Word(word) if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) => {
                format!("keyword '{word}'")
            }
            TokenKind::Word(word) => format!("identifier '{word}'"),
            TokenKind::QuotedIdent(name) => {
                format!("identifier `{}`", abbreviate(&name.replace('`', "``")))
            }
            TokenKind::Str(value) => {
                format!(
                    "string literal '{}'",
                    abbreviate(&value.replace('\'', "''"))
                )
            }
            TokenKind::Number(n) => format!("number {n}"),
            TokenKind::Dot => "'.'".to_string(),
            TokenKind::Semicolon => "';'".to_string(),
            TokenKind::LParen => "'('".to_string(),
            TokenKind::RParen => "')'".to_string(),
            TokenKind::Comma => "','".to_string(),
            TokenKind::Equals => "'='".to_string(),
            TokenKind::Eof => "end of input".to_string(),
        }
    }
}

/// Keeps error messages readable when someone pastes a long comment or path.
fn abbreviate(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    /// Byte offsets into the script.
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// While set, no error quotes a value: credential options may be secrets.
    hide_literals: bool,
}

impl<'a> Lexer<'a> {
    fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_whitespace_and_comments();
        let start = self.pos;
        let Some(c) = self.rest().chars().next() else {
            return Ok(Token {
                kind: TokenKind::Eof,
                start,
                end: start,
            });
        };
        let kind = match c {
            ';' => {
                self.pos += 1;
                TokenKind::Semicolon
            }
            '.' => {
                self.pos += 1;
                TokenKind::Dot
            }
            '(' | ')' | ',' | '=' => {
                self.pos += 1;
                match c {
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    '=' => TokenKind::Equals,
                    _ => TokenKind::Comma,
                }
            }
            '\'' => TokenKind::Str(
                self.quoted('\'')
                    .ok_or_else(|| self.error_at(start, "unterminated string literal"))?,
            ),
            '`' => TokenKind::QuotedIdent(self.quoted_identifier()?),
            '0'..='9' => {
                let len = self
                    .rest()
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(self.rest().len());
                let digits = &self.src[start..start + len];
                let shown = if self.hide_literals {
                    "a value"
                } else {
                    digits
                };
                let n = digits.parse().map_err(|_| {
                    self.error_at(start, format!("'{shown}' is not a number; names starting with a digit must be back-quoted"))
                })?;
                self.pos += len;
                TokenKind::Number(n)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = self
                    .rest()
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(self.rest().len());
                self.pos += len;
                TokenKind::Word(self.src[start..self.pos].to_string())
            }
            c => {
                let hint = match c {
                    '"' => "; use single quotes for strings and backticks for identifiers",
                    _ => "",
                };
                return Err(self.error_at(start, format!("unexpected character {c:?}{hint}")));
            }
        };
        Ok(Token {
            kind,
            start,
            end: self.pos,
        })
    }

    /// Tied to the source, not to `self`, so `pos` can move while the slice is in use.
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn skip_whitespace_and_comments(&mut self) {
        loop {
            let trimmed = self.rest().trim_start();
            self.pos = self.src.len() - trimmed.len();
            if !trimmed.starts_with("--") {
                return;
            }
            // A comment runs to the end of the line; the newline is whitespace for the next turn.
            self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
        }
    }

    /// Reads a `quote`-delimited token starting at the current position, where a doubled quote
    /// stands for one. Returns the unescaped content, or `None` if the input ends first.
    fn quoted(&mut self, quote: char) -> Option<String> {
        let mut value = String::new();
        let mut chars = self.rest().char_indices().skip(1).peekable();
        while let Some((i, c)) = chars.next() {
            if c != quote {
                value.push(c);
            } else if chars.next_if(|&(_, next)| next == quote).is_some() {
                value.push(quote);
            } else {
                self.pos += i + c.len_utf8();
                return Some(value);
            }
        }
        None
    }

    /// A back-quoted identifier. Delta Sharing names may not contain spaces, `/` or control characters,
    /// so those are rejected here, where the offending character can be pointed at.
    fn quoted_identifier(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let name = self
            .quoted('`')
            .ok_or_else(|| self.error_at(start, "unterminated quoted identifier"))?;
        // Escapes are doubled backticks, so the raw text has the bad characters at the same spots.
        let raw = &self.src[start + 1..self.pos - 1];
        if let Some((i, c)) = raw
            .char_indices()
            .find(|&(_, c)| c == '/' || c == ' ' || c.is_control())
        {
            return Err(self.error_at(
                start + 1 + i,
                format!(
                    "invalid character {c:?} in quoted identifier; names must not contain spaces, \
                     '/' or control characters"
                ),
            ));
        }
        if name.trim().is_empty() {
            return Err(self.error_at(start, "a quoted identifier must not be empty or blank"));
        }
        Ok(name)
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, offset, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, table: &str) -> TableName {
        TableName {
            schema: schema.to_string(),
            table: table.to_string(),
        }
    }

    fn one(sql: &str) -> Statement {
        let mut statements = parse(sql).unwrap_or_else(|e| panic!("{sql:?} failed: {e}"));
        assert_eq!(statements.len(), 1, "{sql:?}");
        statements.remove(0)
    }

    fn error(sql: &str) -> ParseError {
        match parse(sql) {
            Ok(statements) => panic!("{sql:?} parsed as {statements:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn seed_statements() {
        let script = "\
CREATE TABLE fire.collateral_gold USING DELTA LOCATION '/data/collateral';
CREATE SHARE regulatory_reports COMMENT 'FIRE reports';
ALTER SHARE regulatory_reports ADD TABLE fire.collateral_gold AS fire.collateral WITH HISTORY;
ALTER SHARE regulatory_reports REMOVE TABLE fire.collateral_gold;
CREATE RECIPIENT regulatory_body COMMENT 'the regulator';
GRANT SELECT ON SHARE regulatory_reports TO RECIPIENT regulatory_body;
REVOKE SELECT ON SHARE regulatory_reports FROM RECIPIENT regulatory_body;
";
        let share = || "regulatory_reports".to_string();
        let recipient = || "regulatory_body".to_string();
        assert_eq!(
            parse(script).unwrap(),
            vec![
                Statement::CreateTable {
                    name: table("fire", "collateral_gold"),
                    location: "/data/collateral".into(),
                    credential: TableCredential::None,
                    comment: None,
                    if_not_exists: false,
                },
                Statement::CreateShare {
                    name: share(),
                    comment: Some("FIRE reports".into()),
                    if_not_exists: false,
                },
                Statement::AddTableToShare {
                    share: share(),
                    table: table("fire", "collateral_gold"),
                    alias: Some(table("fire", "collateral")),
                    with_history: true,
                    start_version: None,
                },
                Statement::RemoveTableFromShare {
                    share: share(),
                    table: table("fire", "collateral_gold"),
                },
                Statement::CreateRecipient {
                    name: recipient(),
                    comment: Some("the regulator".into()),
                    token_lifetime: None,
                    ip_access_list: None,
                    oauth: false,
                    if_not_exists: false,
                },
                Statement::Grant {
                    share: share(),
                    recipient: recipient(),
                },
                Statement::Revoke {
                    share: share(),
                    recipient: recipient(),
                },
            ]
        );
        // Each seed statement also parses on its own, verbatim.
        for line in script.lines() {
            assert_eq!(parse(line).unwrap().len(), 1, "{line}");
        }
    }

    #[test]
    fn create_table_with_all_options() {
        assert_eq!(
            one("CREATE TABLE IF NOT EXISTS s.t USING DELTA LOCATION 's3://b/p' COMMENT 'c'"),
            Statement::CreateTable {
                name: table("s", "t"),
                location: "s3://b/p".into(),
                credential: TableCredential::None,
                comment: Some("c".into()),
                if_not_exists: true,
            }
        );
    }

    #[test]
    fn create_share_and_recipient() {
        assert_eq!(
            one("CREATE SHARE IF NOT EXISTS s"),
            Statement::CreateShare {
                name: "s".into(),
                comment: None,
                if_not_exists: true,
            }
        );
        assert_eq!(
            one("CREATE RECIPIENT r"),
            Statement::CreateRecipient {
                name: "r".into(),
                comment: None,
                token_lifetime: None,
                ip_access_list: None,
                oauth: false,
                if_not_exists: false,
            }
        );
        assert_eq!(
            one("CREATE RECIPIENT IF NOT EXISTS r COMMENT ''"),
            Statement::CreateRecipient {
                name: "r".into(),
                comment: Some(String::new()),
                token_lifetime: None,
                ip_access_list: None,
                oauth: false,
                if_not_exists: true,
            }
        );
    }

    #[test]
    fn add_table_options() {
        let add = |alias: Option<TableName>, with_history| Statement::AddTableToShare {
            share: "sh".into(),
            table: table("s", "t"),
            alias,
            with_history,
            start_version: None,
        };
        assert_eq!(one("ALTER SHARE sh ADD TABLE s.t"), add(None, false));
        assert_eq!(
            one("ALTER SHARE sh ADD TABLE s.t AS a.b"),
            add(Some(table("a", "b")), false)
        );
        assert_eq!(
            one("ALTER SHARE sh ADD TABLE s.t WITH HISTORY"),
            add(None, true)
        );
        let Statement::AddTableToShare { start_version, .. } =
            one("alter share sh add table s.t with history start version 5")
        else {
            panic!("not an ADD TABLE");
        };
        assert_eq!(start_version, Some(5));
        assert_eq!(
            one("ALTER SHARE sh ALTER TABLE s.t WITHOUT HISTORY"),
            Statement::AlterTableInShare {
                share: "sh".into(),
                table: table("s", "t"),
                with_history: false,
                start_version: None,
            }
        );
        let e = error("ALTER SHARE sh ADD TABLE s.t WITH HISTORY START VERSION x");
        assert_eq!(
            e.message,
            "expected a version number after VERSION, found identifier 'x'"
        );
        let e = error("ALTER SHARE sh ADD TABLE s.t START VERSION 3");
        assert!(e.message.starts_with("expected ';' or end of input"), "{e}");
    }

    #[test]
    fn drop_statements() {
        assert_eq!(
            one("DROP TABLE s.t"),
            Statement::DropTable {
                name: table("s", "t"),
                if_exists: false,
            }
        );
        assert_eq!(
            one("DROP TABLE IF EXISTS s.t"),
            Statement::DropTable {
                name: table("s", "t"),
                if_exists: true,
            }
        );
        assert_eq!(
            one("DROP SHARE IF EXISTS sh"),
            Statement::Drop {
                kind: ObjectKind::Share,
                name: "sh".into(),
                if_exists: true,
            }
        );
        assert_eq!(
            one("DROP RECIPIENT r"),
            Statement::Drop {
                kind: ObjectKind::Recipient,
                name: "r".into(),
                if_exists: false,
            }
        );
    }

    #[test]
    fn show_statements() {
        assert_eq!(
            parse("SHOW TABLES; SHOW SHARES; SHOW RECIPIENTS; SHOW ALL IN SHARE a; SHOW GRANTS ON SHARE b; SHOW GRANTS TO RECIPIENT c").unwrap(),
            vec![
                Statement::ShowTables,
                Statement::ShowShares,
                Statement::ShowRecipients,
                Statement::ShowAllInShare { share: "a".into() },
                Statement::ShowGrantsOnShare { share: "b".into() },
                Statement::ShowGrantsToRecipient {
                    recipient: "c".into()
                },
            ]
        );
    }

    #[test]
    fn table_properties_are_set_and_unset() {
        let table = TableName {
            schema: "fire".into(),
            table: "collateral_gold".into(),
        };
        assert_eq!(
            parse("ALTER TABLE fire.collateral_gold SET TBLPROPERTIES ('fire.entity' = 'collateral', 'fire.min_pass_rate' = '0.95')").unwrap(),
            vec![Statement::SetTableProperties {
                table: table.clone(),
                properties: vec![
                    ("fire.entity".into(), "collateral".into()),
                    ("fire.min_pass_rate".into(), "0.95".into())
                ],
            }]
        );
        assert_eq!(
            parse("alter table fire.collateral_gold unset tblproperties ('fire.entity')").unwrap(),
            vec![Statement::UnsetTableProperties {
                table,
                keys: vec!["fire.entity".into()],
            }]
        );
        assert!(parse("ALTER TABLE fire.t SET TBLPROPERTIES ('a')").is_err());
        assert!(matches!(
            parse("ALTER TABLE fire.t APPROVE VERSION 7 COMMENT 'checked by hand'").unwrap()[..],
            [Statement::DecideVersion {
                version: 7,
                approved: true,
                comment: Some(_),
                ..
            }]
        ));
        assert!(matches!(
            parse("ALTER TABLE fire.t REJECT VERSION 7").unwrap()[..],
            [Statement::DecideVersion {
                approved: false,
                ..
            }]
        ));
    }

    #[test]
    fn fire_statements_parse() {
        assert_eq!(
            parse("SHOW FIRE SCHEMAS").unwrap(),
            vec![Statement::ShowFireSchemas]
        );
        assert_eq!(
            parse("show expectations for entity collateral").unwrap(),
            vec![Statement::ShowExpectations {
                entity: "collateral".into()
            }]
        );
        assert!(parse("SHOW EXPECTATIONS collateral").is_err());
        assert!(matches!(
            parse("SHOW QUALITY FOR TABLE fire.c VERSION 3").unwrap()[..],
            [Statement::ShowQuality {
                version: Some(3),
                ..
            }]
        ));
        assert!(matches!(
            parse("DESCRIBE HISTORY fire.c").unwrap()[..],
            [Statement::DescribeHistory { .. }]
        ));
    }

    #[test]
    fn show_access_takes_a_table_and_an_optional_time() {
        assert_eq!(
            parse("show access on table fire.loans as of '2026-11-01T00:00:00Z'").unwrap(),
            vec![Statement::ShowAccess {
                table: TableName {
                    schema: "fire".into(),
                    table: "loans".into()
                },
                as_of: Some("2026-11-01T00:00:00Z".into()),
            }]
        );
        assert!(matches!(
            parse("SHOW ACCESS ON TABLE fire.loans").unwrap()[..],
            [Statement::ShowAccess { as_of: None, .. }]
        ));
        assert!(parse("SHOW ACCESS ON TABLE fire.loans AS '2026'").is_err());
    }

    #[test]
    fn keywords_are_case_insensitive_and_names_keep_their_case() {
        assert_eq!(
            one("create share X"),
            Statement::CreateShare {
                name: "X".into(),
                comment: None,
                if_not_exists: false,
            }
        );
        assert_eq!(
            one("Grant Select On Share MyShare tO rEcIpIeNt Bob"),
            Statement::Grant {
                share: "MyShare".into(),
                recipient: "Bob".into(),
            }
        );
        assert_eq!(
            one("drop table if exists Fire.Gold"),
            Statement::DropTable {
                name: table("Fire", "Gold"),
                if_exists: true,
            }
        );
    }

    #[test]
    fn keywords_are_not_reserved() {
        assert_eq!(
            one("CREATE SHARE comment COMMENT 'named comment'"),
            Statement::CreateShare {
                name: "comment".into(),
                comment: Some("named comment".into()),
                if_not_exists: false,
            }
        );
        assert_eq!(
            one("DROP TABLE delta.table"),
            Statement::DropTable {
                name: table("delta", "table"),
                if_exists: false,
            }
        );
    }

    #[test]
    fn back_quoted_names() {
        assert_eq!(
            one("CREATE SHARE `my-share`"),
            Statement::CreateShare {
                name: "my-share".into(),
                comment: None,
                if_not_exists: false,
            }
        );
        assert_eq!(
            one("CREATE RECIPIENT `we``ird`"),
            Statement::CreateRecipient {
                name: "we`ird".into(),
                comment: None,
                token_lifetime: None,
                ip_access_list: None,
                oauth: false,
                if_not_exists: false,
            }
        );
        // A quoted keyword is a name, even where a keyword could appear.
        assert_eq!(
            one("DROP SHARE `if`"),
            Statement::Drop {
                kind: ObjectKind::Share,
                name: "if".into(),
                if_exists: false,
            }
        );
        // Dots are fine in one-part names.
        assert_eq!(
            one("SHOW ALL IN SHARE `v1.2`"),
            Statement::ShowAllInShare {
                share: "v1.2".into()
            }
        );
        assert_eq!(
            one("ALTER SHARE `a-b` ADD TABLE `my-schema`.`my``t``` AS `2024`.x"),
            Statement::AddTableToShare {
                share: "a-b".into(),
                table: table("my-schema", "my`t`"),
                alias: Some(table("2024", "x")),
                with_history: false,
                start_version: None,
            }
        );
    }

    #[test]
    fn string_literals_unescape_doubled_quotes() {
        assert_eq!(
            one("CREATE SHARE s COMMENT 'it''s the ''gold'' layer -- not a comment; really'"),
            Statement::CreateShare {
                name: "s".into(),
                comment: Some("it's the 'gold' layer -- not a comment; really".into()),
                if_not_exists: false,
            }
        );
        assert_eq!(
            one("CREATE TABLE s.t USING DELTA LOCATION '/data/o''brien'"),
            Statement::CreateTable {
                name: table("s", "t"),
                location: "/data/o'brien".into(),
                credential: TableCredential::None,
                comment: None,
                if_not_exists: false,
            }
        );
    }

    #[test]
    fn scripts_with_comments_and_empty_statements() {
        let script = "
-- set up the share
;;CREATE SHARE s; -- trailing comment
  SHOW
    -- in the middle
    SHARES ;

SHOW TABLES;;
-- done";
        assert_eq!(
            parse_with_text(script).unwrap(),
            vec![
                (
                    Statement::CreateShare {
                        name: "s".into(),
                        comment: None,
                        if_not_exists: false,
                    },
                    "CREATE SHARE s".to_string()
                ),
                (
                    Statement::ShowShares,
                    "SHOW\n    -- in the middle\n    SHARES".to_string()
                ),
                (Statement::ShowTables, "SHOW TABLES".to_string()),
            ]
        );
        // A comment on the last line needs no newline; no final `;` is needed either.
        assert_eq!(
            parse("SHOW SHARES -- the end").unwrap(),
            vec![Statement::ShowShares]
        );
        assert_eq!(parse("SHOW TABLES").unwrap(), vec![Statement::ShowTables]);
    }

    #[test]
    fn empty_scripts() {
        for sql in ["", "   \n\t", ";", " ; ;; ", "-- nothing\n-- at all"] {
            assert_eq!(parse(sql).unwrap(), vec![], "{sql:?}");
        }
    }

    #[test]
    fn table_name_display() {
        assert_eq!(table("fire", "gold").to_string(), "fire.gold");
    }

    #[test]
    fn missing_location_string() {
        let e = error("CREATE TABLE s.t USING DELTA LOCATION;");
        assert_eq!(
            e.message,
            "expected a string literal after LOCATION, found ';'"
        );
        assert_eq!((e.offset, e.line, e.column), (37, 1, 38));

        let e = error("CREATE TABLE s.t USING DELTA LOCATION");
        assert_eq!(
            e.message,
            "expected a string literal after LOCATION, found end of input"
        );
        assert_eq!((e.line, e.column), (1, 38));

        let e = error("CREATE TABLE s.t USING DELTA");
        assert_eq!(
            e.message,
            "expected keyword LOCATION after DELTA, found end of input"
        );

        let e = error("CREATE TABLE s.t USING DELTA LOCATION ''");
        assert_eq!(e.message, "the string after LOCATION must not be empty");
        assert_eq!(e.column, 39);
    }

    #[test]
    fn table_names_need_exactly_two_parts() {
        let e = error("CREATE TABLE collateral USING DELTA LOCATION '/x'");
        assert_eq!(
            e.message,
            "expected a two-part table name schema.table after TABLE, found 'collateral'"
        );
        assert_eq!((e.line, e.column), (1, 14));

        let e = error("ALTER SHARE s ADD TABLE a.b AS\n  c.d.e");
        assert_eq!(
            e.message,
            "expected a two-part table name schema.table after AS, found 'c.d.e'"
        );
        assert_eq!((e.line, e.column), (2, 3));

        let e = error("DROP TABLE IF EXISTS a.;");
        assert_eq!(e.message, "expected a table name after '.', found ';'");

        let e = error("DROP TABLE `a.b`.c");
        assert_eq!(
            e.message,
            "schema and table names must not contain '.', found `a.b`"
        );
        assert_eq!(e.column, 12);
    }

    #[test]
    fn share_url_lifetime() {
        assert_eq!(
            one("ALTER SHARE s SET URL LIFETIME '15m'"),
            Statement::SetShareUrlLifetime {
                share: "s".into(),
                lifetime: Some(Duration::from_secs(900)),
            }
        );
        assert_eq!(
            one("alter share s unset url lifetime"),
            Statement::SetShareUrlLifetime {
                share: "s".into(),
                lifetime: None,
            }
        );
        assert!(
            error("ALTER SHARE s SET URL LIFETIME 'soon'")
                .message
                .contains("not a duration")
        );
    }

    #[test]
    fn storage_credentials_and_cloud_tables() {
        let sql = "CREATE STORAGE CREDENTIAL IF NOT EXISTS prod_s3 TYPE S3 WITH (access_key_id 'AKIA1', \
                   secret_access_key = 'wJalr''XUtn', region 'eu-west-1') COMMENT 'prod'";
        let parsed = parse_with_text(sql).unwrap();
        assert_eq!(
            parsed[0].0,
            Statement::CreateStorageCredential {
                name: "prod_s3".into(),
                kind: "S3".into(),
                options: vec![
                    ("access_key_id".into(), "AKIA1".into()),
                    ("secret_access_key".into(), "wJalr'XUtn".into()),
                    ("region".into(), "eu-west-1".into()),
                ],
                comment: Some("prod".into()),
                if_not_exists: true,
            }
        );
        // The text kept for logs and the audit ledger has no secret in it.
        let text = &parsed[0].1;
        assert!(!text.contains("wJalr"), "{text}");
        assert!(
            text.contains("secret_access_key = '<redacted>', region 'eu-west-1'"),
            "{text}"
        );
        assert!(text.contains("'AKIA1'"), "the key id stays: {text}");
        // Error messages do not quote option values, whatever their form.
        for bad in [
            "'abc' 'def'",
            "'abc', x def",
            "def",
            "`def`",
            "9def",
            "'abc' 9def",
        ] {
            let e = error(&format!(
                "CREATE STORAGE CREDENTIAL c TYPE S3 WITH (secret_access_key {bad})"
            ));
            assert!(!e.message.contains("def"), "{bad}: {}", e.message);
        }
        // A misspelt secret option is redacted too.
        let text = &parse_with_text(
            "CREATE STORAGE CREDENTIAL c TYPE S3 WITH (secret_acess_key 'wJalr', region 'r')",
        )
        .unwrap()[0]
            .1;
        assert!(!text.contains("wJalr") && text.contains("'r'"), "{text}");
        assert_eq!(
            one("CREATE TABLE s.t USING DELTA LOCATION 's3://b/t' WITH CREDENTIAL prod_s3"),
            Statement::CreateTable {
                name: table("s", "t"),
                location: "s3://b/t".into(),
                credential: TableCredential::Named("prod_s3".into()),
                comment: None,
                if_not_exists: false,
            }
        );
        assert!(matches!(
            one("CREATE TABLE s.t USING DELTA LOCATION 's3://b/t' FROM ENVIRONMENT COMMENT 'c'"),
            Statement::CreateTable {
                credential: TableCredential::Environment,
                ..
            }
        ));
        assert_eq!(
            one("DESCRIBE STORAGE CREDENTIAL prod_s3"),
            Statement::DescribeStorageCredential {
                name: "prod_s3".into()
            }
        );
        assert_eq!(
            one("SHOW STORAGE CREDENTIALS"),
            Statement::ShowStorageCredentials
        );
        assert_eq!(
            one("DROP STORAGE CREDENTIAL IF EXISTS prod_s3"),
            Statement::Drop {
                kind: ObjectKind::StorageCredential,
                name: "prod_s3".into(),
                if_exists: true,
            }
        );
    }

    #[test]
    fn unknown_statement() {
        let e = error("SHOW SHARES;\nSELEC * FROM t");
        assert_eq!(
            e.message,
            "expected keyword CREATE, ALTER, DROP, GRANT, REVOKE, SHOW or DESCRIBE, found identifier 'SELEC'"
        );
        assert_eq!((e.offset, e.line, e.column), (13, 2, 1));

        let e = error("CREATE SHAR x");
        assert_eq!(
            e.message,
            "expected keyword SHARE, TABLE, RECIPIENT or STORAGE after CREATE, found identifier 'SHAR'"
        );
        assert_eq!(
            e.to_string(),
            "expected keyword SHARE, TABLE, RECIPIENT or STORAGE after CREATE, found identifier 'SHAR' \
             at line 1, column 8"
        );

        let e = error("SHOW GRANTS WITH x");
        assert_eq!(
            e.message,
            "expected keyword ON or TO after GRANTS, found keyword 'WITH'"
        );
    }

    #[test]
    fn garbage_after_a_statement() {
        let e = error("CREATE SHARE s\nGRANT SELECT ON SHARE s TO RECIPIENT r");
        assert_eq!(
            e.message,
            "expected ';' or end of input after the statement, found keyword 'GRANT'"
        );
        assert_eq!((e.line, e.column), (2, 1));

        let e = error("SHOW TABLES 'x'");
        assert_eq!(
            e.message,
            "expected ';' or end of input after the statement, found string literal 'x'"
        );
    }

    #[test]
    fn missing_names_mention_what_came_before() {
        let e = error("GRANT SELECT ON SHARE s TO RECIPIENT ;");
        assert_eq!(
            e.message,
            "expected a recipient name after RECIPIENT, found ';'"
        );

        let e = error("ALTER SHARE s DELETE TABLE a.b");
        assert_eq!(
            e.message,
            "expected keyword ADD, REMOVE, ALTER, SET or UNSET after share name 's', found identifier 'DELETE'"
        );

        let e = error("REVOKE SELECT ON SHARE s TO RECIPIENT r");
        assert_eq!(
            e.message,
            "expected keyword FROM after share name 's', found keyword 'TO'"
        );

        let e = error("DROP SHARE IF s");
        assert_eq!(
            e.message,
            "expected keyword EXISTS after IF, found identifier 's'"
        );
    }

    #[test]
    fn unterminated_string() {
        let e = error("CREATE SHARE s;\nCREATE RECIPIENT r COMMENT 'it''s open;\nSHOW SHARES");
        assert_eq!(e.message, "unterminated string literal");
        assert_eq!((e.offset, e.line, e.column), (43, 2, 28));
    }

    #[test]
    fn unterminated_quoted_identifier() {
        let e = error("DROP SHARE `abc``");
        assert_eq!(e.message, "unterminated quoted identifier");
        assert_eq!(e.column, 12);
    }

    #[test]
    fn quoted_identifiers_reject_bad_characters() {
        let e = error("CREATE SHARE `a/b`");
        assert_eq!(
            e.message,
            "invalid character '/' in quoted identifier; names must not contain spaces, '/' or \
             control characters"
        );
        assert_eq!(e.column, 16);

        let e = error("CREATE SHARE `a\nb`");
        assert!(e.message.starts_with("invalid character '\\n'"), "{e}");
        assert_eq!((e.line, e.column), (1, 16));

        let e = error("CREATE SHARE ``");
        assert_eq!(e.message, "a quoted identifier must not be empty or blank");
        assert_eq!(e.column, 14);
        let e = error("CREATE SHARE `my share`");
        assert!(e.message.starts_with("invalid character ' '"), "{e}");
        assert_eq!(e.column, 17);
    }

    #[test]
    fn unexpected_characters() {
        let e = error("CREATE SHARE \"s\"");
        assert_eq!(
            e.message,
            "unexpected character '\"'; use single quotes for strings and backticks for identifiers"
        );
        assert_eq!(
            error("DROP TABLE 2x.y").message,
            "'2x' is not a number; names starting with a digit must be back-quoted"
        );
        assert_eq!(
            error("SHOW TABLES, SHARES").message,
            "expected ';' or end of input after the statement, found ','"
        );
        assert_eq!(error("SHOW TABLES!").message, "unexpected character '!'");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let e = error("CREATE SHARE s COMMENT 'é€ü' SHOW");
        assert_eq!(e.column, 30);
        assert_eq!(e.offset, "CREATE SHARE s COMMENT 'é€ü' ".len());
    }

    #[test]
    fn first_error_in_source_order_wins() {
        // The syntax error comes before the lexical one, so it is reported.
        let e = error("CREATE SHAR x; CREATE SHARE 'open");
        assert!(e.message.contains("found identifier 'SHAR'"), "{e}");
        // A lexical error where a token was expected is reported as such.
        let e = error("CREATE SHARE s COMMENT 'open");
        assert_eq!(e.message, "unterminated string literal");
    }

    #[test]
    fn long_tokens_are_abbreviated_in_messages() {
        let long = "x".repeat(100);
        let e = error(&format!("SHOW TABLES '{long}'"));
        assert_eq!(
            e.message,
            format!(
                "expected ';' or end of input after the statement, found string literal '{}...'",
                "x".repeat(40)
            )
        );
    }

    #[test]
    fn recipient_lifecycle_statements() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(
            parse("CREATE RECIPIENT r COMMENT 'c' TOKEN LIFETIME '90d'").unwrap(),
            [Statement::CreateRecipient {
                name: "r".into(),
                comment: Some("c".into()),
                token_lifetime: Some(90 * day),
                ip_access_list: None,
                oauth: false,
                if_not_exists: false,
            }]
        );
        assert_eq!(
            parse("alter recipient r rotate token expire existing in '24h'; ALTER RECIPIENT r ROTATE TOKEN; ALTER RECIPIENT r REVOKE TOKENS; DESCRIBE RECIPIENT r").unwrap(),
            [
                Statement::RotateToken { recipient: "r".into(), grace: Some(day) },
                Statement::RotateToken { recipient: "r".into(), grace: None },
                Statement::RevokeTokens { recipient: "r".into() },
                Statement::DescribeRecipient { recipient: "r".into() },
            ]
        );
        assert_eq!(
            parse("CREATE RECIPIENT r IP ACCESS LIST ('10.0.0.0/8', '192.0.2.7'); ALTER RECIPIENT r SET IP ACCESS LIST ('::1'); ALTER RECIPIENT r UNSET IP ACCESS LIST").unwrap(),
            [
                Statement::CreateRecipient {
                    name: "r".into(),
                    comment: None,
                    token_lifetime: None,
                    ip_access_list: Some(vec!["10.0.0.0/8".into(), "192.0.2.7".into()]),
                    oauth: false,
                    if_not_exists: false,
                },
                Statement::SetIpAccessList { recipient: "r".into(), list: Some(vec!["::1".into()]) },
                Statement::SetIpAccessList { recipient: "r".into(), list: None },
            ]
        );
        assert!(matches!(
            parse("CREATE RECIPIENT r USING OAUTH COMMENT 'x'").unwrap()[0],
            Statement::CreateRecipient { oauth: true, .. }
        ));
        assert_eq!(
            parse("SHOW ADMIN TOKENS; REVOKE ADMIN TOKEN 'fsa_abcdefgh'").unwrap(),
            [
                Statement::ShowAdminTokens,
                Statement::RevokeAdminToken {
                    prefix: "fsa_abcdefgh".into()
                },
            ]
        );
        let e = parse("ALTER SHARE s ADD TABLE a.b WITH HISTORY START VERSION 9223372036854775808")
            .unwrap_err();
        assert!(
            e.message.contains("beyond the largest Delta version"),
            "{e}"
        );
        let e = parse("CREATE RECIPIENT r IP ACCESS LIST ('a' 'b')").unwrap_err();
        assert!(e.message.starts_with("expected ',' or ')'"), "{e}");
        let e = parse("CREATE RECIPIENT r TOKEN LIFETIME 'soon'").unwrap_err();
        assert!(e.message.contains("'soon' is not a duration"), "{e}");
        assert_eq!(e.column, 35);
    }
}
