//! The tokens of the admin SQL: words (keywords are not reserved), back-quoted identifiers,
//! string and number literals, punctuation; comments and whitespace are skipped.

use super::error::ParseError;

/// Every keyword of the grammar. Only used to describe tokens in errors ("keyword 'GRANT'" rather
/// than "identifier 'GRANT'"), since keywords are not reserved.
/// The longest name (of a table, share, recipient, credential…).
pub const MAX_NAME: usize = 255;
/// The longest string literal: a location, a credential's key file, a comment.
const MAX_STRING: usize = 64 * 1024;

pub(super) const KEYWORDS: &[&str] = &[
    "ACCESS",
    "ADD",
    "ADMIN",
    "ALL",
    "ALTER",
    "APPROVE",
    "AS",
    "CATALOG",
    "CHANGE",
    "CHANGES",
    "COMMENT",
    "CREATE",
    "CREDENTIAL",
    "CREDENTIALS",
    "CURRENT_RECIPIENT",
    "DELTA",
    "DESCRIBE",
    "DROP",
    "ENTITY",
    "ENVIRONMENT",
    "EXISTING",
    "EXISTS",
    "EXPECTATIONS",
    "EXPIRE",
    "EYES",
    "FIRE",
    "FOR",
    "FOUR",
    "FROM",
    "GRANT",
    "GRANTS",
    "HISTORY",
    "IF",
    "IN",
    "IP",
    "IS",
    "LIFETIME",
    "LIKE",
    "LIST",
    "LOCATION",
    "NOT",
    "NULL",
    "OAUTH",
    "OF",
    "ON",
    "PARTITION",
    "PENDING",
    "PROPERTIES",
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
    "WITHDRAW",
    "WITHOUT",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
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
    /// `<>` (or `!=`), `<`, `<=`, `>`, `>=`.
    Compare(&'static str),
    Eof,
}

impl TokenKind {
    /// How the token is named in error messages.
    pub(super) fn describe(&self) -> String {
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
            TokenKind::Compare(op) => format!("'{op}'"),
            TokenKind::Eof => "end of input".to_string(),
        }
    }
}

/// Keeps error messages readable when someone pastes a long comment or path.
pub(super) fn abbreviate(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// Byte offsets into the script.
    pub start: usize,
    pub end: usize,
}

pub(super) struct Lexer<'a> {
    pub src: &'a str,
    pub pos: usize,
    /// While set, no error quotes a value: credential options may be secrets.
    pub hide_literals: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn next_token(&mut self) -> Result<Token, ParseError> {
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
            '<' | '>' | '!' => {
                let rest = self.rest();
                let op = ["<>", "<=", ">=", "!=", "<", ">"]
                    .into_iter()
                    .find(|op| rest.starts_with(op))
                    .ok_or_else(|| {
                        self.error_at(start, "unexpected character '!'; use <> for 'not equal'")
                    })?;
                self.pos += op.len();
                TokenKind::Compare(op)
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
        let (length, limit, what) = match &kind {
            TokenKind::Word(name) | TokenKind::QuotedIdent(name) => {
                (name.chars().count(), MAX_NAME, "a name")
            }
            TokenKind::Str(text) => (text.chars().count(), MAX_STRING, "a string"),
            _ => (0, usize::MAX, ""),
        };
        if length > limit {
            return Err(self.error_at(
                start,
                format!("{what} holds at most {limit} characters; this one has {length}"),
            ));
        }
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
