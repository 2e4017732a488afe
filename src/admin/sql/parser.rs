//! The recursive-descent parser of the admin SQL: one function per statement family, each
//! called after its leading keyword, over a cursor with one token of lookahead. Every error
//! says what was expected, what was found, and where.

use super::ast::{
    ChangeDecision, FourEyes, Guarded, ObjectKind, Statement, TableCredential, check_comment,
};
use super::cursor::Cursor;
use super::error::ParseError;
use super::lexer::TokenKind;
use crate::catalog::partition_filter::{Condition, Op, Operand, PartitionFilter, Test};

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
        "CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "SHOW", "DESCRIBE", "APPROVE", "REJECT",
        "WITHDRAW",
    ])? {
        "CREATE" => parse_create(c),
        decision @ ("APPROVE" | "REJECT" | "WITHDRAW") => {
            c.expect_keyword("CHANGE")?;
            let id = c.number("a change number")?;
            let (decision, comment) = match decision {
                "APPROVE" => (ChangeDecision::Approve, None),
                "REJECT" => (ChangeDecision::Reject, parse_comment(c)?),
                _ => (ChangeDecision::Withdraw, None),
            };
            Ok(Statement::DecideChange {
                id,
                decision,
                comment,
            })
        }
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
    match c.expect_one_of(&["SHARE", "RECIPIENT", "TABLE", "CATALOG"])? {
        "RECIPIENT" => return parse_alter_recipient(c),
        "TABLE" => return parse_alter_table(c),
        "CATALOG" => return parse_four_eyes(c),
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

/// After `ALTER CATALOG`: `SET FOUR EYES FOR GRANT, ADD TABLE, … [PENDING LIFETIME 'd']`
/// or `UNSET FOUR EYES`.
fn parse_four_eyes(c: &mut Cursor<'_>) -> Result<Statement, ParseError> {
    let set = c.expect_one_of(&["SET", "UNSET"])? == "SET";
    c.expect_keyword("FOUR")?;
    c.expect_keyword("EYES")?;
    if !set {
        return Ok(Statement::SetFourEyes { policy: None });
    }
    c.expect_keyword("FOR")?;
    let mut covered = Vec::new();
    loop {
        let first = c.expect_one_of(&["GRANT", "REVOKE", "ADD", "CREATE", "ROTATE", "APPROVE"])?;
        let guarded = match first {
            "GRANT" => Guarded::Grant,
            "REVOKE" => Guarded::Revoke,
            "ADD" => {
                c.expect_keyword("TABLE")?;
                Guarded::AddTable
            }
            "CREATE" => match c.expect_one_of(&["RECIPIENT", "STORAGE"])? {
                "RECIPIENT" => Guarded::CreateRecipient,
                _ => {
                    c.expect_keyword("CREDENTIAL")?;
                    Guarded::CreateStorageCredential
                }
            },
            "ROTATE" => {
                c.expect_keyword("TOKEN")?;
                Guarded::RotateToken
            }
            _ => {
                c.expect_keyword("VERSION")?;
                Guarded::ApproveVersion
            }
        };
        if !covered.contains(&guarded) {
            covered.push(guarded);
        }
        if !c.accept(&TokenKind::Comma)? {
            break;
        }
    }
    let lifetime = if c.accept_keyword("PENDING")? {
        c.expect_keyword("LIFETIME")?;
        Some(c.duration()?)
    } else {
        None
    };
    Ok(Statement::SetFourEyes {
        policy: Some(FourEyes { covered, lifetime }),
    })
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
        "PENDING",
    ])? {
        "PENDING" => {
            c.expect_keyword("CHANGES")?;
            Ok(Statement::ShowPendingChanges)
        }
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

/// What stands in a statement's text for a secret literal.
pub const REDACTED: &str = "'<redacted>'";
