//! Serving files of a local table safely.

use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// Resolves `relative` (a decoded data-file path from the Delta log) inside the table root.
/// Refuses anything that could leave the table directory: absolute paths, `..`, and symbolic
/// links pointing outside.
pub fn resolve_in_table(table_location: &Path, relative: &str) -> Result<PathBuf> {
    let denied = || Error::permission_denied("the file is not part of the table");
    let rel = Path::new(relative);
    if relative.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(denied());
    }
    let root = table_location
        .canonicalize()
        .map_err(|_| Error::not_found("the table directory does not exist"))?;
    let file = root
        .join(rel)
        .canonicalize()
        .map_err(|_| Error::not_found("the file does not exist"))?;
    if !file.starts_with(&root) || !file.is_file() {
        return Err(denied());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("t");
        std::fs::create_dir_all(table.join("p=1")).unwrap();
        std::fs::write(table.join("p=1/a.parquet"), b"x").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        assert!(resolve_in_table(&table, "p=1/a.parquet").is_ok());
        for bad in [
            "../secret",
            "/etc/passwd",
            "p=1/../../secret",
            "",
            "p=1",
            "./p=1/a.parquet",
        ] {
            assert!(resolve_in_table(&table, bad).is_err(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), table.join("link")).unwrap();
            let e = resolve_in_table(&table, "link").unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::PermissionDenied);
        }
    }
}
