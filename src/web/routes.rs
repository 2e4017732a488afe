//! Every route of the server, and the name the audit ledger records each one's requests under.
//!
//! To add an endpoint: register it here with its action and handler; the recording
//! middleware needs nothing else.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpMessage, HttpRequest, HttpResponse, Responder, Route};
use actix_web::{Resource, web};

use super::recording::RouteAction;
use super::{activate, admin, console, files, health, scrape, sharing, token_endpoint, well_known};
use crate::Error;

/// Path prefix of the protocol endpoints; a profile's `endpoint` ends with it.
pub const SHARING_PREFIX: &str = "/delta-sharing";
/// Path prefix of the admin API (`openapi/admin.yaml`).
pub const ADMIN_PREFIX: &str = "/admin/v1";
/// Liveness and readiness probes (not recorded in the ledger).
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
/// Prometheus's scrape path.
pub const METRICS: &str = "/metrics";
/// Where the audit key's public half is published.
pub const AUDIT_KEY_PATH: &str = "/.well-known/fireshare-audit-key";

/// `method` answered by `handler`, its requests recorded in the audit ledger as `action`.
pub(super) fn named<F, Args>(method: Route, action: &'static str, handler: F) -> Route
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    method
        .to(handler)
        .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
            req.extensions_mut().insert(RouteAction(action));
            next.call(req)
        }))
}

/// A resource at `path` whose other methods than `allow` get 405 with an `Allow` header.
fn endpoint(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        let error = Error::unsupported(format!(
            "{} is not allowed on {}: use {allow}",
            req.method(),
            req.path()
        ));
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow))
            .json(error.body())
    }))
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint(HEALTHZ, "GET").route(web::get().to(health::alive)))
        .service(endpoint(READYZ, "GET").route(web::get().to(health::ready)))
        .service(endpoint(METRICS, "GET").route(named(
            web::get(),
            "getMetrics",
            scrape::authorized,
        )))
        .service(sharing_scope())
        .service(admin_scope())
        .service(console::scope())
        .service(endpoint("/activate/{code}", "GET").route(named(
            web::get(),
            "activateRecipient",
            activate::activate,
        )))
        .service(endpoint("/oauth/token", "POST").route(named(
            web::post(),
            "issueAccessToken",
            token_endpoint::token,
        )))
        .service(endpoint("/.well-known/jwks.json", "GET").route(named(
            web::get(),
            "getPublicKey",
            well_known::jwks,
        )))
        .service(endpoint(AUDIT_KEY_PATH, "GET").route(named(
            web::get(),
            "getPublicKey",
            well_known::audit_key,
        )))
        .service(
            endpoint("/files/{tail:.*}", "GET, HEAD")
                .route(named(web::get(), "downloadFile", files::download))
                .route(named(web::head(), "downloadFile", files::download)),
        );
}

/// The protocol endpoints, under [`SHARING_PREFIX`].
fn sharing_scope() -> actix_web::Scope {
    const TABLE: &str = "/shares/{share}/schemas/{schema}/tables/{table}";
    let table = |tail: &str| format!("{TABLE}{tail}");
    web::scope(SHARING_PREFIX)
        .service(endpoint("/shares", "GET").route(named(
            web::get(),
            "listShares",
            sharing::list_shares,
        )))
        .service(endpoint("/shares/{share}", "GET").route(named(
            web::get(),
            "getShare",
            sharing::get_share,
        )))
        .service(endpoint("/shares/{share}/schemas", "GET").route(named(
            web::get(),
            "listSchemas",
            sharing::list_schemas,
        )))
        .service(
            endpoint("/shares/{share}/schemas/{schema}/tables", "GET").route(named(
                web::get(),
                "listTables",
                sharing::list_tables,
            )),
        )
        .service(endpoint("/shares/{share}/all-tables", "GET").route(named(
            web::get(),
            "listAllTables",
            sharing::list_all_tables,
        )))
        .service(endpoint(&table("/version"), "GET").route(named(
            web::get(),
            "getTableVersion",
            sharing::table_version,
        )))
        .service(endpoint(TABLE, "HEAD").route(named(
            web::head(),
            "getTableVersion",
            sharing::table_version,
        )))
        .service(endpoint(&table("/metadata"), "GET").route(named(
            web::get(),
            "getTableMetadata",
            sharing::table_metadata,
        )))
        .service(endpoint(&table("/query"), "POST").route(named(
            web::post(),
            "queryTable",
            sharing::query_table,
        )))
        .service(endpoint(&table("/changes"), "GET").route(named(
            web::get(),
            "queryTableChanges",
            sharing::table_changes,
        )))
        .service(endpoint(&table("/queries/{query_id}"), "POST").route(named(
            web::post(),
            "getQueryResult",
            sharing::not_supported_yet,
        )))
        .service(
            endpoint(&table("/temporary-table-credentials"), "POST").route(named(
                web::post(),
                "getTemporaryTableCredentials",
                sharing::temporary_table_credentials,
            )),
        )
        .default_service(web::to(sharing::unknown_endpoint))
}

/// The admin API, under [`ADMIN_PREFIX`]. Its REST calls are recorded under the name of the
/// statement each runs (`createShare`, `grant`, …), which the executor notes.
fn admin_scope() -> actix_web::Scope {
    web::scope(ADMIN_PREFIX)
        .service(endpoint("/sql", "POST").route(named(web::post(), "runSql", admin::run_sql)))
        .service(endpoint("/audit", "GET").route(named(
            web::get(),
            "queryAudit",
            admin::audit_events,
        )))
        .service(endpoint("/audit/receipts/{request_id}", "GET").route(named(
            web::get(),
            "getReceipt",
            admin::audit_receipt,
        )))
        .service(
            endpoint("/shares", "GET, POST")
                .route(web::get().to(admin::list_shares))
                .route(web::post().to(admin::create_share)),
        )
        .service(
            endpoint("/shares/{share}", "GET, DELETE")
                .route(web::get().to(admin::show_share))
                .route(web::delete().to(admin::drop_share)),
        )
        .service(endpoint("/shares/{share}/tables", "POST").route(web::post().to(admin::add_table)))
        .service(
            endpoint("/shares/{share}/tables/{table}", "DELETE")
                .route(web::delete().to(admin::remove_table)),
        )
        .service(
            endpoint("/shares/{share}/grants", "GET").route(web::get().to(admin::share_grants)),
        )
        .service(
            endpoint("/tables", "GET, POST")
                .route(web::get().to(admin::list_tables))
                .route(web::post().to(admin::create_table)),
        )
        .service(endpoint("/tables/{table}", "DELETE").route(web::delete().to(admin::drop_table)))
        .service(endpoint("/quality/{table}", "GET").route(web::get().to(admin::quality_history)))
        .service(
            endpoint("/quality/{table}/versions/{version}", "GET")
                .route(web::get().to(admin::quality_report)),
        )
        .service(
            endpoint("/recipients", "GET, POST")
                .route(web::get().to(admin::list_recipients))
                .route(web::post().to(admin::create_recipient)),
        )
        .service(
            endpoint("/recipients/{recipient}", "GET, DELETE")
                .route(web::get().to(admin::describe_recipient))
                .route(web::delete().to(admin::drop_recipient)),
        )
        .service(
            endpoint("/recipients/{recipient}/grants", "GET")
                .route(web::get().to(admin::recipient_grants)),
        )
        .service(
            endpoint("/recipients/{recipient}/ip-access-list", "PUT, DELETE")
                .route(web::put().to(admin::set_ip_access_list))
                .route(web::delete().to(admin::unset_ip_access_list)),
        )
        .service(
            endpoint("/recipients/{recipient}/tokens/rotate", "POST")
                .route(web::post().to(admin::rotate_token)),
        )
        .service(
            endpoint("/recipients/{recipient}/tokens/revoke", "POST")
                .route(web::post().to(admin::revoke_tokens)),
        )
        .service(endpoint("/grants", "POST").route(web::post().to(admin::grant)))
        .service(
            endpoint("/grants/{share}/{recipient}", "DELETE")
                .route(web::delete().to(admin::revoke)),
        )
        .default_service(web::to(admin::unknown_endpoint))
}
