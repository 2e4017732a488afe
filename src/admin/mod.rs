//! Administration: the SQL statements admins type (`CREATE SHARE`, `GRANT …`) and their
//! execution against the catalog.

mod exec;
pub mod parser;

pub use exec::{StatementResult, execute_script};
