//! The recursive-descent parser of the admin SQL: one function per statement family, each
//! called after its leading keyword, over a cursor with one token of lookahead. Every error
//! says what was expected, what was found, and where.

use std::time::Duration;

use super::ast::{ObjectKind, Statement, TableCredential, TableName, check_comment};
use super::error::ParseError;
use super::lexer::{KEYWORDS, Lexer, Token, TokenKind};
use crate::catalog::partition_filter::{Condition, Op, Operand, PartitionFilter, Test};

/// Parses the clause after `PARTITION` on its own (what the REST API is sent).
pub fn parse_partition(text: &str) -> Result<PartitionFilter, ParseError> {
    let mut c = Cursor::new(text);
    let filter = parse_partition_clause(&mut c)?;
    if !c.at(&TokenKind::Eof)? {
        return Err(c.error_expected("end of the partition clause"));
    }
    Ok(filter)
}

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
            let properties = if c.accept_keyword("PROPERTIES")? {
                parse_properties(c, true)?
            } else {
                Vec::new()
            };
            Ok(Statement::CreateRecipient {
                name,
                comment,
                token_lifetime,
                ip_access_list,
                oauth,
                properties,
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
            // Databricks' order: [COMMENT c] [PARTITION …] [AS alias] [WITH | WITHOUT HISTORY].
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let comment = parse_comment(c)?;
            let partition = if c.accept_keyword("PARTITION")? {
                Some(parse_partition_clause(c)?)
            } else {
                None
            };
            let alias = if c.accept_keyword("AS")? {
                Some(c.table_name()?)
            } else {
                None
            };
            let (with_history, start_version) = if c.accept_keyword("WITH")? {
                c.expect_keyword("HISTORY")?;
                (true, parse_start_version(c)?)
            } else {
                if c.accept_keyword("WITHOUT")? {
                    c.expect_keyword("HISTORY")?;
                }
                (false, None)
            };
            Ok(Statement::AddTableToShare {
                share,
                table,
                alias,
                with_history,
                start_version,
                comment,
                partition,
            })
        }
        "ALTER" => {
            c.expect_keyword("TABLE")?;
            let table = c.table_name()?;
            let (with_history, start_version) =
                match c.expect_one_of(&["PARTITION", "UNSET", "WITH", "WITHOUT"])? {
                    "PARTITION" => {
                        let partition = Some(parse_partition_clause(c)?);
                        return Ok(Statement::SetPartitionFilter {
                            share,
                            table,
                            partition,
                        });
                    }
                    "UNSET" => {
                        c.expect_keyword("PARTITION")?;
                        return Ok(Statement::SetPartitionFilter {
                            share,
                            table,
                            partition: None,
                        });
                    }
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
            let comment = parse_comment(c)?;
            return Ok(Statement::DecideVersion {
                table,
                version,
                approved: decision == "APPROVE",
                comment,
            });
        }
    };
    c.expect_keyword("TBLPROPERTIES")?;
    let properties = parse_properties(c, set)?;
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
        "SET" if c.accept_keyword("PROPERTIES")? => Ok(Statement::SetRecipientProperties {
            recipient,
            properties: parse_properties(c, true)?,
        }),
        "UNSET" if c.accept_keyword("PROPERTIES")? => Ok(Statement::UnsetRecipientProperties {
            recipient,
            keys: parse_properties(c, false)?
                .into_iter()
                .map(|(k, _)| k)
                .collect(),
        }),
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

/// `('key' = 'value', …)`, or with `values` false `('key', …)`; a key may also be a name.
fn parse_properties(c: &mut Cursor<'_>, values: bool) -> Result<Vec<(String, String)>, ParseError> {
    c.expect(&TokenKind::LParen, "'('")?;
    let mut properties = Vec::new();
    loop {
        let key = match &c.peek()?.kind {
            TokenKind::Str(_) => c.string_literal()?,
            _ => c.identifier("property key")?,
        };
        let value = if values {
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
    Ok(properties)
}

/// After `PARTITION`: `(condition, …), (…)`, each condition `column op value`,
/// `column LIKE value`, or `column IS [NOT] NULL`; a value is a literal or
/// `CURRENT_RECIPIENT('key')`.
fn parse_partition_clause(c: &mut Cursor<'_>) -> Result<PartitionFilter, ParseError> {
    let mut specs = Vec::new();
    loop {
        c.expect(&TokenKind::LParen, "'(' opening a partition spec")?;
        let mut spec = vec![parse_partition_condition(c)?];
        while c.accept(&TokenKind::Comma)? {
            spec.push(parse_partition_condition(c)?);
        }
        c.expect(&TokenKind::RParen, "',' or ')'")?;
        specs.push(spec);
        if !c.accept(&TokenKind::Comma)? {
            return Ok(PartitionFilter { specs });
        }
    }
}

fn parse_partition_condition(c: &mut Cursor<'_>) -> Result<Condition, ParseError> {
    let column = c.identifier("partition column")?;
    let test = if c.accept_keyword("IS")? {
        let negated = c.accept_keyword("NOT")?;
        c.expect_keyword("NULL")?;
        Test::IsNull { negated }
    } else if c.accept_keyword("LIKE")? {
        Test::Like(parse_partition_value(c)?)
    } else {
        let op = match c.peek()?.kind {
            TokenKind::Equals => Op::Eq,
            TokenKind::Compare(symbol) => Op::parse(symbol).expect("the lexer's operators"),
            _ => {
                return Err(
                    c.error_expected("a comparison (=, <>, <, <=, >, >=), LIKE or IS [NOT] NULL")
                );
            }
        };
        c.advance()?;
        Test::Compare(op, parse_partition_value(c)?)
    };
    Ok(Condition { column, test })
}

fn parse_partition_value(c: &mut Cursor<'_>) -> Result<Operand, ParseError> {
    let start = c.peek()?.start;
    let value = match c.peek()?.kind.clone() {
        TokenKind::Str(text) => text,
        TokenKind::Number(n) => n.to_string(),
        TokenKind::Word(word) if word.eq_ignore_ascii_case("CURRENT_RECIPIENT") => {
            c.advance()?;
            c.expect(&TokenKind::LParen, "'('")?;
            let key = c.string_literal()?;
            c.expect(&TokenKind::RParen, "')'")?;
            return Ok(Operand::Recipient(key));
        }
        TokenKind::Word(word) if word.eq_ignore_ascii_case("NULL") => {
            return Err(c.error_at(
                start,
                "a comparison with NULL is never true: write IS NULL or IS NOT NULL",
            ));
        }
        _ => {
            return Err(c.error_expected("a value: a string, a number or CURRENT_RECIPIENT('key')"));
        }
    };
    c.advance()?;
    c.context = "the value".to_string();
    Ok(Operand::Literal(value))
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
    if !c.accept_keyword("COMMENT")? {
        return Ok(None);
    }
    let start = c.peek()?.start;
    let comment = Some(c.string_literal()?);
    check_comment(&comment).map_err(|e| c.error_at(start, e))?;
    Ok(comment)
}

// ----------------------------------------------------------------------------------------------
// Cursor: one token of lookahead over the lexer, plus the helpers the statement parsers use.
// ----------------------------------------------------------------------------------------------

/// What stands in a statement's text for a secret literal.
pub const REDACTED: &str = "'<redacted>'";

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
