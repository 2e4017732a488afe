//! The parser's cursor: one token of lookahead over the lexer, and the helpers every
//! statement parser uses to accept, expect and read tokens with errors that say what was
//! expected, what was found, and where.

use std::time::Duration;

use super::ast::TableName;
use super::error::ParseError;
use super::lexer::{KEYWORDS, Lexer, Token, TokenKind};

pub(super) struct Cursor<'a> {
    pub lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// End offset of the last consumed token, to cut out statement text.
    pub prev_end: usize,
    /// What was just consumed, for "expected X after <context>" messages; empty at the start of
    /// a statement.
    pub context: String,
    /// Spans of secret string literals in the current statement, cut from its text.
    pub secrets: Vec<(usize, usize)>,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Self {
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
    pub fn peek(&mut self) -> Result<&Token, ParseError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    pub fn advance(&mut self) -> Result<Token, ParseError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        self.prev_end = token.end;
        Ok(token)
    }

    pub fn at(&mut self, kind: &TokenKind) -> Result<bool, ParseError> {
        Ok(&self.peek()?.kind == kind)
    }

    /// Consumes a punctuation token if it is next.
    pub fn accept(&mut self, kind: &TokenKind) -> Result<bool, ParseError> {
        if self.at(kind)? {
            let token = self.advance()?;
            self.context = token.kind.describe();
            return Ok(true);
        }
        Ok(false)
    }

    pub fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<(), ParseError> {
        if self.accept(kind)? {
            Ok(())
        } else {
            Err(self.error_expected(what))
        }
    }

    pub fn accept_keyword(&mut self, keyword: &str) -> Result<bool, ParseError> {
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

    pub fn expect_keyword(&mut self, keyword: &str) -> Result<(), ParseError> {
        if self.accept_keyword(keyword)? {
            Ok(())
        } else {
            Err(self.error_expected(&format!("keyword {keyword}")))
        }
    }

    /// Consumes whichever of `keywords` comes next and returns it in the spelling given here, so
    /// callers can `match` on it.
    pub fn expect_one_of(&mut self, keywords: &[&'static str]) -> Result<&'static str, ParseError> {
        for &keyword in keywords {
            if self.accept_keyword(keyword)? {
                return Ok(keyword);
            }
        }
        Err(self.error_expected(&format!("keyword {}", alternatives(keywords))))
    }

    /// A one-part name (share, recipient), plain or back-quoted.
    pub fn identifier(&mut self, what: &str) -> Result<String, ParseError> {
        let name = match &self.peek()?.kind {
            TokenKind::Word(name) | TokenKind::QuotedIdent(name) => name.clone(),
            _ => return Err(self.error_expected(&format!("a {what}"))),
        };
        self.advance()?;
        self.context = format!("{what} '{name}'");
        Ok(name)
    }

    /// A `schema.table` name: exactly two parts, neither containing a dot.
    pub fn table_name(&mut self) -> Result<TableName, ParseError> {
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
    pub fn name_part(&mut self) -> Result<String, ParseError> {
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

    pub fn number(&mut self, what: &str) -> Result<u64, ParseError> {
        let n = match &self.peek()?.kind {
            TokenKind::Number(n) => *n,
            _ => return Err(self.error_expected(what)),
        };
        self.advance()?;
        self.context = format!("{what} {n}");
        Ok(n)
    }

    pub fn string_literal(&mut self) -> Result<String, ParseError> {
        let value = match &self.peek()?.kind {
            TokenKind::Str(value) => value.clone(),
            _ => return Err(self.error_expected("a string literal")),
        };
        self.advance()?;
        self.context = "the string literal".to_string();
        Ok(value)
    }

    /// A duration as a string literal: `'90d'`, `'24h'`, `'30m'`.
    pub fn duration(&mut self) -> Result<Duration, ParseError> {
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
    pub fn non_empty_string_literal(&mut self) -> Result<String, ParseError> {
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
    pub fn error_expected(&mut self, what: &str) -> ParseError {
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

    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
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
