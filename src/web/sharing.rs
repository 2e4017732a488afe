//! The protocol's handlers: each checks the recipient, calls the plain function of `sharing`
//! on a blocking thread (catalog and Delta log reads block) and shapes the HTTP response.

use std::ops::ControlFlow;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use bytes::Bytes;
use serde::Deserialize;

use super::AppState;
use super::identity::on_behalf_of;
use super::recording::trail;
use crate::audit::receipt::{self, Delivered, Receipt};
use crate::audit::{Actor, Event, Trail};
use crate::auth::Recipient;
use crate::sharing::Context;
use crate::sharing::capabilities::{self, Capabilities};
use crate::sharing::changes::{self, ChangesParams};
use crate::sharing::file_pages::Listing;
use crate::sharing::listing::{self, ListParams};
use crate::sharing::ndjson::CONTENT_TYPE;
use crate::sharing::query::{self, QueryBody};
use crate::sharing::table::TablePath;
use crate::{Error, Result};

type State = web::Data<AppState>;

/// Checks the recipient and runs `work` for it on the blocking pool.
async fn as_recipient<T: Send + 'static>(
    state: &State,
    req: &HttpRequest,
    work: impl FnOnce(&AppState, &Recipient) -> Result<T> + Send + 'static,
) -> Result<T> {
    on_behalf_of(state, req, work).await
}

/// A listing (shares, schemas, tables) for the recipient, as JSON.
async fn listed(
    state: &State,
    req: &HttpRequest,
    list: impl FnOnce(&Context<'_>, &Recipient) -> Result<serde_json::Value> + Send + 'static,
) -> Result<HttpResponse> {
    let body = as_recipient(state, req, move |s, who| list(&s.sharing(), who)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .body(body.to_string()))
}

fn capabilities(req: &HttpRequest) -> Capabilities {
    let header = |name: &str| req.headers().get(name).and_then(|h| h.to_str().ok());
    let mut caps = Capabilities::parse(header(capabilities::HEADER));
    caps.file_id_hash = header("fileidhash").map(str::to_string);
    caps
}

/// Status line and headers of every table response.
fn table_response(version: u64, capabilities: Option<String>) -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header(("Delta-Table-Version", version.to_string()));
    if let Some(capabilities) = capabilities {
        response
            .content_type(CONTENT_TYPE)
            .insert_header((capabilities::HEADER, capabilities));
    }
    response
}

/// A table response listing files: also echoes the `fileidhash` scheme the client asked for.
fn files_response(listing: &impl Listing) -> HttpResponseBuilder {
    let mut response = table_response(listing.version(), Some(listing.capabilities_header()));
    if let Some(scheme) = listing.file_id_hash_header() {
        response.insert_header(("fileidhash", scheme));
    }
    response
}

pub async fn list_shares(
    state: State,
    req: HttpRequest,
    params: web::Query<ListParams>,
) -> Result<HttpResponse> {
    let params = params.into_inner();
    listed(&state, &req, move |cx, who| {
        listing::list_shares(cx, who, &params)
    })
    .await
}

pub async fn get_share(
    state: State,
    req: HttpRequest,
    share: web::Path<String>,
) -> Result<HttpResponse> {
    let share = share.into_inner();
    listed(&state, &req, move |cx, who| {
        listing::get_share(cx, who, &share)
    })
    .await
}

pub async fn list_schemas(
    state: State,
    req: HttpRequest,
    share: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse> {
    let (share, params) = (share.into_inner(), params.into_inner());
    listed(&state, &req, move |cx, who| {
        listing::list_schemas(cx, who, &share, &params)
    })
    .await
}

pub async fn list_tables(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse> {
    let ((share, schema), params) = (path.into_inner(), params.into_inner());
    listed(&state, &req, move |cx, who| {
        listing::list_tables(cx, who, &share, Some(&schema), &params)
    })
    .await
}

pub async fn list_all_tables(
    state: State,
    req: HttpRequest,
    share: web::Path<String>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse> {
    let (share, params) = (share.into_inner(), params.into_inner());
    listed(&state, &req, move |cx, who| {
        listing::list_tables(cx, who, &share, None, &params)
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionParams {
    starting_timestamp: Option<String>,
}

/// `GET …/version`, and the deprecated `HEAD …/tables/{table}`, which answers the same.
pub async fn table_version(
    state: State,
    req: HttpRequest,
    path: web::Path<TablePath>,
    params: web::Query<VersionParams>,
) -> Result<HttpResponse> {
    let (path, ts) = (path.into_inner(), params.into_inner().starting_timestamp);
    let version = as_recipient(&state, &req, move |s, who| {
        query::table_version(&s.sharing(), who, &path, ts.as_deref())
    })
    .await?;
    Ok(table_response(version, None).finish())
}

#[derive(Deserialize)]
pub struct MetadataParams {
    version: Option<String>,
    timestamp: Option<String>,
}

pub async fn table_metadata(
    state: State,
    req: HttpRequest,
    path: web::Path<TablePath>,
    params: web::Query<MetadataParams>,
) -> Result<HttpResponse> {
    let (path, params, caps) = (path.into_inner(), params.into_inner(), capabilities(&req));
    let (prepared, body) = as_recipient(&state, &req, move |s, who| {
        query::table_metadata(
            &s.sharing(),
            who,
            &path,
            &caps,
            params.version.as_deref(),
            params.timestamp.as_deref(),
        )
    })
    .await?;
    Ok(table_response(prepared.version(), Some(prepared.capabilities_header())).body(body))
}

pub async fn query_table(
    state: State,
    req: HttpRequest,
    path: web::Path<TablePath>,
    body: Bytes,
) -> Result<HttpResponse> {
    let (path, caps, trail) = (path.into_inner(), capabilities(&req), trail(&req));
    // The body is parsed after authentication: strangers learn nothing, not even parse errors.
    let (plan, receipt) = as_recipient(&state, &req, move |s, who| {
        let body = QueryBody::parse(&body)?;
        trail.update(|d| d.params = Some(body.audit_params()));
        let receipt;
        let plan = match body.starting_version {
            Some(_) => {
                query::check_query_body(&body)?;
                let mut prepared =
                    changes::prepare_streaming(&s.sharing(), who, &path, &caps, &body)?;
                let files = changes::delivered_files(&mut prepared)?;
                receipt = deliver(s, &trail, who, &path, &prepared, files)?;
                QueryPlan::Changes(prepared)
            }
            None => {
                let prepared = query::prepare_query(&s.sharing(), who, &path, &caps, &body)?;
                let files = query::delivered_files(&s.sharing(), &prepared)?;
                receipt = deliver(s, &trail, who, &path, &prepared, files)?;
                QueryPlan::Snapshot(prepared)
            }
        };
        Ok((plan, receipt))
    })
    .await?;
    Ok(match plan {
        QueryPlan::Snapshot(prepared) => {
            let mut response = files_response(&prepared);
            response.insert_header((receipt::HEADER, receipt));
            stream(
                move |emit| query::write_query(&state.sharing(), &prepared, emit),
                response,
            )
        }
        QueryPlan::Changes(prepared) => {
            let mut response = files_response(&prepared);
            response.insert_header((receipt::HEADER, receipt));
            stream(
                move |emit| changes::write_changes(&state.sharing(), &prepared, emit),
                response,
            )
        }
    })
}

/// What a `POST …/query` lists: a snapshot, or the changes since `startingVersion`.
enum QueryPlan {
    Snapshot(query::PreparedTable),
    Changes(changes::PreparedChanges),
}

/// Notes in the request's audit trail what a file listing delivers (and the partition
/// filter it was read through), and signs its receipt (the `Fireshare-Receipt` header).
fn deliver(
    state: &AppState,
    trail: &Trail,
    who: &Recipient,
    path: &TablePath,
    listing: &impl Listing,
    files: Delivered,
) -> Result<String> {
    // The facts the request's event will hold, of which the receipt's claims are made.
    let facts = Event {
        request_id: trail.request_id(),
        time: trail.time(),
        actor: Actor::recipient(&who.name, None),
        share: Some(path.share.clone()),
        schema: Some(path.schema.clone()),
        table: Some(path.table.clone()),
        versions: Some(listing.versions()),
        files: Some(files.files),
        files_sha256: Some(files.sha256),
        rules_digest: listing.rules_digest().map(str::to_string),
        ..Event::default()
    };
    let receipt =
        Receipt::of(&facts).ok_or_else(|| Error::internal("a receipt's claims are incomplete"))?;
    let signed = receipt::sign(&state.audit.key, &receipt)?;
    let partitions = listing.partitions().map(|p| p.to_string());
    // The event holds the receipt's claims as its own fields, and its signature.
    trail.update(|d| {
        if let Some(partitions) = partitions {
            let params = d.params.get_or_insert_with(|| serde_json::json!({}));
            params["partitionFilter"] = partitions.into();
        }
        d.versions = facts.versions;
        d.files = facts.files;
        d.files_sha256 = facts.files_sha256;
        d.rules_digest = facts.rules_digest;
        d.receipt = Some(receipt::detach(&signed));
    });
    Ok(signed)
}

/// Streams the file lines from a blocking thread through a small bounded channel: the
/// producer waits while the client is slow, so memory stays flat whatever the file count.
fn stream(
    produce: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> ControlFlow<()>) -> Result<()> + Send + 'static,
    mut response: HttpResponseBuilder,
) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    actix_web::rt::task::spawn_blocking(move || {
        let result = produce(&mut |chunk| match tx.blocking_send(Ok(chunk.into())) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        });
        if let Err(e) = result {
            // The status line is gone already: all we can do is cut the response short, which
            // clients detect as a truncated stream.
            tracing::error!(error = %e, "response aborted");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    response.streaming(body)
}

pub async fn table_changes(
    state: State,
    req: HttpRequest,
    path: web::Path<TablePath>,
    params: web::Query<ChangesParams>,
) -> Result<HttpResponse> {
    let (path, params, caps) = (path.into_inner(), params.into_inner(), capabilities(&req));
    let trail = trail(&req);
    let (prepared, receipt) = as_recipient(&state, &req, move |s, who| {
        let mut prepared = changes::prepare_changes(&s.sharing(), who, &path, &caps, &params)?;
        let files = changes::delivered_files(&mut prepared)?;
        let receipt = deliver(s, &trail, who, &path, &prepared, files)?;
        Ok((prepared, receipt))
    })
    .await?;
    let mut response = files_response(&prepared);
    response.insert_header((receipt::HEADER, receipt));
    Ok(stream(
        move |emit| changes::write_changes(&state.sharing(), &prepared, emit),
        response,
    ))
}

/// Protocol endpoints this server does not offer yet: a clear 400 for authenticated callers,
/// so that clients do not mistake them for a missing table.
pub async fn not_supported_yet(state: State, req: HttpRequest) -> Result<HttpResponse> {
    as_recipient(&state, &req, |_, _| Ok(())).await?;
    Err(Error::unsupported(format!(
        "{} {}: this part of the protocol is not supported by this server yet",
        req.method(),
        req.path()
    )))
}

/// `POST …/temporary-table-credentials`: refused by design. Store credentials would let the
/// recipient read every object under the table's prefix: versions held back by FIRE
/// validation, files of other versions, all without a recorded request per file. Presigned
/// file URLs give the same direct-from-storage reads without that.
pub async fn temporary_table_credentials(state: State, req: HttpRequest) -> Result<HttpResponse> {
    as_recipient(&state, &req, |_, _| Ok(())).await?;
    Err(Error::unsupported(
        "temporary table credentials are not issued: they would open the table's whole storage prefix, \
         including versions not served (FIRE validation) and without an audited request per file; \
         query the table for presigned file URLs instead",
    ))
}

pub async fn unknown_endpoint(req: HttpRequest) -> Result<HttpResponse> {
    Err(Error::not_found(format!(
        "no Delta Sharing endpoint {} {}",
        req.method(),
        req.path()
    )))
}
