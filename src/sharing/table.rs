//! What every table endpoint shares: the table a URL names (if granted), where it is stored,
//! the `START VERSION` and history checks, the partition filter its recipient reads through,
//! and the grant under which its file URLs are signed.

use serde::Deserialize;

use super::Context;
use super::listing::granted_table;
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::catalog::partition_filter::{FileFilter, Partitioning};
use crate::delta::{DataFile, Metadata};
use crate::storage::{Location, SignedUrl};
use crate::{Error, Result};

/// `{share}/{schema}/{table}` as addressed in the URL.
#[derive(Debug, Clone, Deserialize)]
pub struct TablePath {
    pub share: String,
    pub schema: String,
    pub table: String,
}

impl TablePath {
    pub(super) fn resolve(&self, cx: &Context<'_>, who: &Recipient) -> Result<SharedTable> {
        granted_table(cx, who, &self.share, &self.schema, &self.table)
    }
}

/// Where a shared table is, named as the recipient knows it.
pub(super) fn table_location(cx: &Context<'_>, shared: &SharedTable) -> Result<Location> {
    cx.stores.locate(
        &format!("{}.{}.{}", shared.share, shared.schema, shared.name),
        &shared.table.location,
        shared.table.credential.as_deref(),
        |id| cx.catalog.read(|c| c.sealed_credential(id)),
    )
}

/// The partition filter `who` reads `shared` through, bound to the partitioning of the
/// snapshot described by `metadata`; `None` when the share shows every file. Read afresh
/// with the recipient's properties, so that a change to either holds from the next request.
pub(super) fn partition_view(
    cx: &Context<'_>,
    who: &Recipient,
    shared: &SharedTable,
    metadata: &Metadata,
) -> Result<Option<FileFilter>> {
    let Some(filter) = &shared.partition_filter else {
        return Ok(None);
    };
    let properties = cx
        .catalog
        .read(|c| c.recipient_by_id(&who.id))?
        .map(|r| r.properties)
        .unwrap_or_default();
    let partitioning = Partitioning::new(&metadata.partition_columns, &metadata.schema_string);
    filter.bind(&properties, &partitioning).map(Some).map_err(|e| {
        Error::unsupported(format!(
            "table {}.{}.{} cannot be read as shared: {e}. The provider must change the share's partition filter.",
            shared.share, shared.schema, shared.name
        ))
    })
}

pub(super) fn history_required(shared: &SharedTable) -> Error {
    Error::invalid(format!(
        "Reading table by version or timestamp is not supported because history sharing is not enabled on table: {}.{}.{}",
        shared.share, shared.schema, shared.name
    ))
}

/// `START VERSION`: versions before it are not shared.
pub(super) fn check_start_version(shared: &SharedTable, version: u64) -> Result<()> {
    if version < shared.start_version {
        return Err(Error::invalid(format!(
            "You can only query table data since version {}; the request resolves to version {version}.",
            shared.start_version
        )));
    }
    Ok(())
}

/// Whose file URLs: a table's files, issued to one recipient, living the share's URL lifetime
/// (or the server's).
pub(super) struct UrlGrant<'a> {
    table_id: &'a str,
    recipient_id: &'a str,
    location: &'a Location,
    lifetime: std::time::Duration,
}

impl<'a> UrlGrant<'a> {
    pub fn new(
        cx: &Context<'_>,
        shared: &'a SharedTable,
        recipient_id: &'a str,
        location: &'a Location,
    ) -> Self {
        let wanted = shared
            .url_ttl_ms
            .and_then(|ms| u64::try_from(ms).ok())
            .map_or(cx.url_ttl, std::time::Duration::from_millis);
        UrlGrant {
            table_id: &shared.table.id,
            recipient_id,
            location,
            // Both settings are checked when made; this bound holds whatever the catalog says.
            lifetime: wanted.min(crate::storage::MAX_URL_LIFETIME),
        }
    }

    /// The earliest a URL handed out at `now` expires (ms since the epoch).
    pub fn earliest_expiry(&self, now: i64) -> i64 {
        self.location.earliest_expiry(self.lifetime, now)
    }

    /// A URL of `path` (decoded, relative to the table root): presigned by the table's cloud
    /// store, or pointing at this server's `/files/` route for a local table.
    pub fn sign(&self, cx: &Context<'_>, path: &str, now: i64) -> Result<SignedUrl> {
        if self.location.is_local() {
            let expires_at = self.earliest_expiry(now);
            return Ok(cx
                .signer
                .sign(self.table_id, self.recipient_id, path, expires_at));
        }
        self.location.presign(path, self.lifetime, now)
    }

    /// The signed URL of the file's deletion vector file; `None` without one or for an
    /// inline vector.
    pub fn sign_deletion_vector(
        &self,
        cx: &Context<'_>,
        file: &DataFile,
        now: i64,
    ) -> Result<Option<SignedUrl>> {
        match file.deletion_vector.as_ref().and_then(|dv| dv.file_path()) {
            None => Ok(None),
            Some(Ok(path)) if !path.contains("://") && !path.starts_with('/') => {
                self.sign(cx, &path, now).map(Some)
            }
            Some(Ok(_)) => Err(Error::unsupported(
                "a deletion vector of the table lies outside the table directory, which cannot be shared",
            )),
            Some(Err(e)) => Err(Error::unsupported(format!(
                "unreadable deletion vector: {e}"
            ))),
        }
    }
}
