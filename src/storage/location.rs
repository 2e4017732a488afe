//! Table locations: what `CREATE TABLE … LOCATION '…'` accepts.

use std::path::{Path, PathBuf};

use url::Url;

use super::CredentialKind;
use crate::{Error, Result};

/// Parses a table location into the URL of the table root (always ending in `/`).
/// Accepts absolute paths and `file://` URLs; a relative path is taken relative to `base`.
pub fn parse_location(text: &str, base: &Path) -> Result<Url> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("the table location is empty"));
    }
    let mut url = if let Some((scheme, _)) = text.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "file" && CredentialKind::of_scheme(&scheme).is_none() {
            return Err(Error::unsupported(format!(
                "table location scheme '{scheme}://' is not supported: use s3://, gs://, az://, abfss://, file:// or a local path"
            )));
        }
        let url = Url::parse(text)
            .map_err(|e| Error::invalid(format!("invalid table location '{text}': {e}")))?;
        if scheme != "file" && url.host_str().is_none_or(str::is_empty) {
            return Err(Error::invalid(format!(
                "table location '{text}' names no bucket or container"
            )));
        }
        url
    } else {
        let path = std::path::absolute(base.join(text))?;
        Url::from_directory_path(normalize(&path))
            .map_err(|_| Error::invalid(format!("invalid table location '{text}'")))?
    };
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// The local directory of a `file://` table root.
pub fn local_root(url: &Url) -> Result<PathBuf> {
    if url.scheme() != "file" {
        return Err(Error::unsupported(format!(
            "'{}' is not a local table",
            url.scheme()
        )));
    }
    url.to_file_path()
        .map_err(|_| Error::invalid(format!("'{url}' is not a valid local path")))
}

/// Removes `.` and `..` components lexically (the directory may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let base = Path::new("/srv/work");
        assert_eq!(
            parse_location("/data/t", base).unwrap().as_str(),
            "file:///data/t/"
        );
        assert_eq!(
            parse_location("file:///data/t/", base).unwrap().as_str(),
            "file:///data/t/"
        );
        assert_eq!(
            parse_location("t/../u", base).unwrap().as_str(),
            "file:///srv/work/u/"
        );
        assert_eq!(
            parse_location("/data/a b", base).unwrap().as_str(),
            "file:///data/a%20b/"
        );
        assert_eq!(
            parse_location("s3://bucket/t", base).unwrap().as_str(),
            "s3://bucket/t/"
        );
        assert_eq!(
            parse_location("abfss://c@acct.dfs.core.windows.net/t", base)
                .unwrap()
                .as_str(),
            "abfss://c@acct.dfs.core.windows.net/t/"
        );
        let e = parse_location("ftp://host/t", base).unwrap_err();
        assert!(e.message().contains("not supported"), "{e}");
        assert!(parse_location("gs:///t", base).is_err(), "no bucket");
        assert!(parse_location(" ", base).is_err());
        let url = parse_location("/data/a b", base).unwrap();
        assert_eq!(local_root(&url).unwrap(), Path::new("/data/a b"));
    }
}
