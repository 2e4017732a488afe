//! The HTTP server: one actix-web application serving the sharing protocol and file downloads.

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::config::ServerConfig;
use crate::sharing;
use crate::state::AppState;
use crate::{Error, Result};

/// Largest request body accepted (query bodies carry predicate hints of up to 1 MiB).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Runs the server until Ctrl-C / SIGTERM. `ready` is called once the socket is bound.
pub async fn serve(config: ServerConfig, ready: impl FnOnce(&AppState)) -> Result<()> {
    let listen = config.listen.clone();
    let state = web::Data::new(AppState::open(config)?);
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                Error::invalid(format!("invalid query parameters: {e}")).into()
            }))
            .wrap_fn(|req, srv| {
                let (method, path, started) =
                    (req.method().clone(), req.path().to_string(), Instant::now());
                let response = srv.call(req);
                async move {
                    let response = response.await?;
                    // Never the query string (signatures) nor headers (tokens).
                    tracing::info!(
                        %method,
                        path,
                        status = response.status().as_u16(),
                        ms = started.elapsed().as_millis() as u64,
                        "request"
                    );
                    Ok(response)
                }
            })
            .service(
                crate::http::endpoint("/healthz", "GET").route(web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("text/plain; charset=utf-8")
                        .body("ok")
                })),
            )
            .configure(sharing::configure)
            .configure(crate::admin::http::configure)
    })
    .bind(&listen)
    .map_err(|e| Error::internal(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(listen, public_url = %state.config.public_url, "fireshare is serving");
    ready(&state);
    server
        .run()
        .await
        .map_err(|e| Error::internal(format!("server failed: {e}")))
}
