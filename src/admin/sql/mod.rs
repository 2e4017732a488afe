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
//! To add a statement: add a variant to [`Statement`] (`ast.rs`; the compiler then asks for its
//! audit action, whether it only reads, how it is written back as SQL and which executor
//! family runs it), add any new keywords to the lexer's `KEYWORDS`, and a branch to the
//! matching family function of `parser.rs` (`parse_create`, `parse_show`, ...).

mod ast;
mod cursor;
mod error;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use ast::{
    ChangeDecision, Family, FourEyes, Guarded, MAX_COMMENT, ObjectKind, Statement, TableCredential,
    TableName, check_comment,
};
pub use error::ParseError;
pub use parser::{REDACTED, parse, parse_with_text};
