//! The Delta Sharing protocol over HTTP: routes and thin handlers. The logic lives in plain
//! functions (`listing`, `query`) that tests call without a server.

pub mod capabilities;
pub mod changes;
mod files;
mod handlers;
pub mod listing;
pub mod ndjson;
mod page_cache;
pub mod paging;
pub mod predicate;
pub mod query;
mod tokens;

use actix_web::web;

pub use page_cache::PageCache;

use crate::{Error, Result};

/// Path prefix of the protocol endpoints; a profile's `endpoint` ends with it.
pub const PREFIX: &str = "/delta-sharing";

/// Registers the protocol endpoints under [`PREFIX`] and the file downloads under `/files/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    const TABLE: &str = "/shares/{share}/schemas/{schema}/tables/{table}";
    cfg.service(
        web::scope(PREFIX)
            .route("/shares", web::get().to(handlers::list_shares))
            .route("/shares/{share}", web::get().to(handlers::get_share))
            .route(
                "/shares/{share}/schemas",
                web::get().to(handlers::list_schemas),
            )
            .route(
                "/shares/{share}/schemas/{schema}/tables",
                web::get().to(handlers::list_tables),
            )
            .route(
                "/shares/{share}/all-tables",
                web::get().to(handlers::list_all_tables),
            )
            .route(
                &format!("{TABLE}/version"),
                web::get().to(handlers::table_version),
            )
            .route(TABLE, web::head().to(handlers::table_version_head))
            .route(
                &format!("{TABLE}/metadata"),
                web::get().to(handlers::table_metadata),
            )
            .route(
                &format!("{TABLE}/query"),
                web::post().to(handlers::query_table),
            )
            .route(
                &format!("{TABLE}/changes"),
                web::get().to(handlers::table_changes),
            )
            .route(
                &format!("{TABLE}/queries/{{query_id}}"),
                web::post().to(handlers::not_supported_yet),
            )
            .route(
                &format!("{TABLE}/temporary-table-credentials"),
                web::post().to(handlers::not_supported_yet),
            )
            .default_service(web::to(handlers::unknown_endpoint)),
    )
    .route("/files/{tail:.*}", web::get().to(files::download))
    .route("/files/{tail:.*}", web::head().to(files::download));
}

/// Runs blocking work (catalog, Delta log, file system) on the blocking pool, off the async
/// workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    web::block(work)
        .await
        .map_err(|e| Error::internal(format!("worker failed: {e}")))?
}
