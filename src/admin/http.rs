//! The admin REST API under `/admin/v1` (JSON; described in `openapi/admin.yaml`). Callers
//! hold an admin or auditor token (`fireshare admin token create`); recipient tokens are
//! refused with 403.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Deserialize;

use super::{Context, execute_script, results_json};
use crate::auth::{self, AdminCaller};
use crate::http::{blocking, endpoint};
use crate::state::AppState;
use crate::{Error, Result};

pub const PREFIX: &str = "/admin/v1";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .service(endpoint("/sql", "POST").route(web::post().to(run_sql)))
            .default_service(web::to(unknown_endpoint)),
    );
}

/// Body of `POST /admin/v1/sql`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    /// One or more statements separated by `;`, as `fireshare sql` takes them.
    statement: String,
}

/// Authenticates the caller and runs `work` on the blocking pool.
async fn as_admin<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    work: impl FnOnce(&AppState, &AdminCaller) -> Result<T> + Send + 'static,
) -> Result<T> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let state = state.clone();
    blocking(move || {
        let caller =
            auth::authenticate_admin(&state.catalog, &state.tokens, authorization.as_deref())?;
        work(&state, &caller)
    })
    .await
}

/// `POST /admin/v1/sql`: the statements of `fireshare sql`, one result per statement.
async fn run_sql(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse> {
    let results = as_admin(&state, &req, move |state, caller| {
        let request: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
            Error::malformed(format!(
                "the body must be {{\"statement\": \"…\"}}: {e}"
            ))
        })?;
        // Relative table locations resolve against the server's working directory, as they
        // would for `fireshare sql` run there.
        let base_dir = std::env::current_dir()?;
        let context = Context::of_server(&state.config, caller.role, &base_dir);
        let results = execute_script(&state.catalog, &request.statement, &context)?;
        tracing::info!(admin = %caller.name, role = caller.role.as_str(), statements = results.len(), "admin sql");
        Ok(results)
    })
    .await?;
    Ok(HttpResponse::Ok().json(results_json(&results)))
}

async fn unknown_endpoint(req: HttpRequest) -> Result<HttpResponse> {
    Err(Error::not_found(format!(
        "no admin endpoint {} {}",
        req.method(),
        req.path()
    )))
}
