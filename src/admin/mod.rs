//! Administration: the SQL statements admins type (`CREATE SHARE`, `GRANT …`) and their
//! execution against the catalog.

mod exec;
pub mod parser;

pub mod rest;

pub use exec::{Context, StatementResult, execute_script, results_json};
