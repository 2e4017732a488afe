//! FIRE (the Financial Regulatory data standard): entity schemas and the quality rules derived
//! from them.

mod json;
pub mod quality;
pub mod rules;
pub mod schema;
pub mod validate;

use std::path::Path;

use crate::Result;
use crate::audit::{note_change, record_command};
use crate::catalog::{self, Catalog};
use crate::data_dir::DataDir;

/// Remembers `schemas` as the FIRE schema directory (an audited change, made only when it
/// differs from the one remembered).
pub fn remember_schemas(dir: &DataDir, catalog: &Catalog, schemas: &Path) -> Result<()> {
    let schemas = std::fs::canonicalize(schemas)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| {
            crate::Error::invalid(format!(
                "--fire-schemas {}: not a directory",
                schemas.display()
            ))
        })?;
    let value = schemas.display().to_string();
    if catalog.read(|c| c.setting(catalog::FIRE_SCHEMAS))? == Some(value.clone()) {
        return Ok(());
    }
    let text = format!("--fire-schemas {value}");
    record_command(dir, catalog, "setFireSchemas", |trail| {
        note_change(trail, catalog, (&text, "setFireSchemas"), |tx| {
            tx.set_setting(catalog::FIRE_SCHEMAS, &value)
        })
    })
}
