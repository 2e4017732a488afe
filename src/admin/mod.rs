//! Administration: the SQL statements admins type (`CREATE SHARE`, `GRANT …`), the same
//! statements built from REST calls, and their execution against the catalog.

mod exec;
pub mod rest;
mod result;
pub mod sql;

pub use exec::{Context, execute_script, execute_statements};
pub use result::{StatementResult, results_json};
