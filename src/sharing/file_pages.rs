//! Paging of the file listings of `/query` and `/changes` (protocol.md §2.4, §5): `maxFiles`,
//! the signed tokens that continue a listing (page tokens, and a query's refresh token), the
//! end-of-stream line, and the file-id scheme a client asked for. A token pins what the first
//! page resolved and where the next page resumes — each listing puts its own position in
//! it — and is bound to the recipient, the table, the parameters every page repeats and, under
//! a partition-filtered share, the partitions the recipient reads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Context;
use super::capabilities::{Capabilities, ResponseFormat, response_header};
use super::cursor::{open_cursor, seal_cursor};
use super::ndjson::FileIdHash;
use crate::auth::Recipient;
use crate::catalog::SharedTable;
use crate::catalog::partition_filter::FileFilter;
use crate::clock::now_ms;
use crate::{Error, Result};

/// How long a page token works.
const PAGE_TOKEN_TTL_MS: i64 = 3 * 24 * 3600 * 1000;

/// A position in a listing, sealed with the hash of the parameters it was issued for (and of
/// the partitions its recipient read, under a partition-filtered share).
#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    params: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partitions: Option<String>,
    #[serde(flatten)]
    at: T,
}

/// How a listing is paged and ended, as its first page fixed it.
#[derive(Default)]
pub struct FilePaging {
    /// `maxFiles`: at most this many file lines per response.
    pub max_files: Option<u64>,
    /// Finish with an `endStreamAction` line: only clients that asked for one understand it.
    pub end_stream: bool,
    /// The client asked for the end-of-stream line in its capabilities header (echoed back).
    end_stream_capability: bool,
    /// The `fileidhash` the client asked for (echoed back).
    file_id_hash: Option<FileIdHash>,
    /// The name page tokens are signed under (`/query` and `/changes` tokens differ).
    domain: &'static str,
    /// Who may use the tokens, for which table.
    scope: String,
    /// Hash of the parameters every page must repeat.
    params: String,
    /// Hash of the partitions the recipient reads, under a partition-filtered share (see
    /// [`FilePaging::bind_partitions`]): the offsets of a page count files of that view.
    partitions: Option<String>,
    /// That hash as the page token continued here was issued with; `None` on a first page.
    resumed_under: Option<Option<String>>,
}

impl FilePaging {
    /// The paging of a listing of `shared` for `who` with `params` (what every page must
    /// repeat), and where it resumes when `page_token` continues it: a token signed under
    /// `domain` for the same recipient, table and parameters.
    pub(super) fn open<T: DeserializeOwned>(
        cx: &Context<'_>,
        (domain, who, shared): (&'static str, &Recipient, &SharedTable),
        caps: &Capabilities,
        max_files: Option<u64>,
        params: &impl Serialize,
        page_token: Option<&str>,
    ) -> Result<(FilePaging, Option<T>)> {
        let params = serde_json::json!([params, caps.response_formats]).to_string();
        let paging = FilePaging {
            max_files,
            end_stream: max_files.is_some() || caps.include_end_stream_action,
            end_stream_capability: caps.include_end_stream_action,
            file_id_hash: caps.file_id_scheme()?,
            domain,
            scope: format!("{}/{}", who.id, shared.table.id),
            params: hex::encode(Sha256::digest(params.as_bytes())),
            partitions: None,
            resumed_under: None,
        };
        let Some(token) = page_token else {
            return Ok((paging, None));
        };
        let sealed: Sealed<T> = open_cursor(
            cx.secret,
            domain,
            &paging.scope,
            token,
            now_ms(),
            "page token",
        )?;
        if sealed.params != paging.params {
            return Err(Error::invalid(
                "Query parameter mismatch detected for the next page query: every page must repeat the first page's parameters.",
            ));
        }
        let paging = FilePaging {
            resumed_under: Some(sealed.partitions),
            ..paging
        };
        Ok((paging, Some(sealed.at)))
    }

    /// Binds the listing to the partitions its recipient reads (known once the snapshot is):
    /// a page token issued under other partitions — the recipient's properties or the share's
    /// filter changed since the first page — is refused, not counted in the new view.
    pub(super) fn bind_partitions(&mut self, view: Option<&FileFilter>) -> Result<()> {
        self.partitions = view.map(|v| hex::encode(Sha256::digest(v.to_string().as_bytes())));
        match &self.resumed_under {
            Some(issued) if *issued != self.partitions => Err(Error::invalid(
                "the partitions you may read changed since the first page of this listing: start it again",
            )),
            _ => Ok(()),
        }
    }

    /// The page token of the page that starts at `at`, issued at `now`.
    pub(super) fn next_page(&self, cx: &Context<'_>, at: impl Serialize, now: i64) -> String {
        self.token(cx, self.domain, at, now + PAGE_TOKEN_TTL_MS)
    }

    /// A token continuing the listing at `at`, signed under `domain`, valid until `expires`.
    pub(super) fn token(
        &self,
        cx: &Context<'_>,
        domain: &str,
        at: impl Serialize,
        expires: i64,
    ) -> String {
        let sealed = Sealed {
            params: self.params.clone(),
            partitions: self.partitions.clone(),
            at,
        };
        seal_cursor(cx.secret, domain, &self.scope, &sealed, expires)
    }

    /// The position of a token signed under `domain` for this listing's recipient and table,
    /// whatever parameters it was issued with (`what` names it in errors).
    pub(super) fn open_token<T: DeserializeOwned>(
        &self,
        cx: &Context<'_>,
        domain: &str,
        token: &str,
        what: &str,
    ) -> Result<T> {
        let sealed: Sealed<T> = open_cursor(cx.secret, domain, &self.scope, token, now_ms(), what)?;
        Ok(sealed.at)
    }

    /// The scheme of the files' ids: the one the client asked for, else the reference
    /// server's default for the response format (MD5 for parquet, SHA-256 for delta).
    pub(super) fn file_id_scheme(&self, format: ResponseFormat) -> FileIdHash {
        self.file_id_hash.unwrap_or(match format {
            ResponseFormat::Parquet => FileIdHash::Md5,
            ResponseFormat::Delta => FileIdHash::Sha256,
        })
    }
}

/// A table response ready to stream, as its headers describe it.
pub trait Listing {
    /// The `Delta-Table-Version` header.
    fn version(&self) -> u64;
    fn format(&self) -> ResponseFormat;
    fn paging(&self) -> &FilePaging;
    /// The partition filter the recipient reads through, if the share sets one.
    fn partitions(&self) -> Option<&FileFilter>;
    /// The versions listed, as the audit ledger and the receipt name them: the version, or
    /// `{"start", "end"}` of a change range.
    fn versions(&self) -> serde_json::Value;
    /// The digest of the FIRE rules the (head) version was validated with.
    fn rules_digest(&self) -> Option<&str>;

    /// The `delta-sharing-capabilities` header.
    fn capabilities_header(&self) -> String {
        response_header(self.format(), self.paging().end_stream_capability)
    }

    /// The `fileidhash` header: the scheme the client asked for, if it did.
    fn file_id_hash_header(&self) -> Option<&'static str> {
        self.paging().file_id_hash.map(FileIdHash::header_value)
    }
}
