//! The Delta Sharing protocol over HTTP: routes and thin handlers. The logic lives in plain
//! functions (`listing`, `query`) that tests call without a server.

mod activation;
pub mod capabilities;
pub mod changes;
mod files;
mod handlers;
pub mod listing;
pub mod ndjson;
mod oauth;
pub mod paging;
pub mod predicate;
pub mod query;
mod served;
mod tokens;

use actix_web::web;

use crate::http::endpoint;

/// Path prefix of the protocol endpoints; a profile's `endpoint` ends with it.
pub const PREFIX: &str = "/delta-sharing";

/// Registers the protocol endpoints under [`PREFIX`] and the file downloads under `/files/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    const TABLE: &str = "/shares/{share}/schemas/{schema}/tables/{table}";
    let table = |tail: &str| format!("{TABLE}{tail}");
    cfg.service(
        web::scope(PREFIX)
            .service(endpoint("/shares", "GET").route(web::get().to(handlers::list_shares)))
            .service(endpoint("/shares/{share}", "GET").route(web::get().to(handlers::get_share)))
            .service(
                endpoint("/shares/{share}/schemas", "GET")
                    .route(web::get().to(handlers::list_schemas)),
            )
            .service(
                endpoint("/shares/{share}/schemas/{schema}/tables", "GET")
                    .route(web::get().to(handlers::list_tables)),
            )
            .service(
                endpoint("/shares/{share}/all-tables", "GET")
                    .route(web::get().to(handlers::list_all_tables)),
            )
            .service(
                endpoint(&table("/version"), "GET").route(web::get().to(handlers::table_version)),
            )
            .service(endpoint(TABLE, "HEAD").route(web::head().to(handlers::table_version_head)))
            .service(
                endpoint(&table("/metadata"), "GET").route(web::get().to(handlers::table_metadata)),
            )
            .service(
                endpoint(&table("/query"), "POST").route(web::post().to(handlers::query_table)),
            )
            .service(
                endpoint(&table("/changes"), "GET").route(web::get().to(handlers::table_changes)),
            )
            .service(
                endpoint(&table("/queries/{query_id}"), "POST")
                    .route(web::post().to(handlers::not_supported_yet)),
            )
            .service(
                endpoint(&table("/temporary-table-credentials"), "POST")
                    .route(web::post().to(handlers::temporary_table_credentials)),
            )
            .default_service(web::to(handlers::unknown_endpoint)),
    )
    .service(endpoint("/activate/{code}", "GET").route(web::get().to(activation::activate)))
    .service(endpoint("/oauth/token", "POST").route(web::post().to(oauth::token)))
    .service(endpoint("/.well-known/jwks.json", "GET").route(web::get().to(oauth::jwks)))
    .service(
        endpoint(crate::audit::http::AUDIT_KEY_PATH, "GET")
            .route(web::get().to(crate::audit::http::public_key)),
    )
    .service(
        endpoint("/files/{tail:.*}", "GET, HEAD")
            .route(web::get().to(files::download))
            .route(web::head().to(files::download)),
    );
}
