//! Start-up and shutdown: one actix-web application serving every route, and the background
//! work of a running server (last-used times, FIRE validation).

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use super::request::blocking;
use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::rt::net::TcpStream;

use super::{AppState, ServerConfig, health, limits, recording, routes, scrape, tls};
use crate::{Error, Result};

/// Opens the data directory and database of `config` (before the async runtime starts: the
/// database clients block) and serves them until Ctrl-C / SIGTERM. `ready` is called once the
/// socket is bound.
pub fn run(config: ServerConfig, ready: impl FnOnce(&AppState)) -> Result<()> {
    let state = AppState::open(config)?;
    actix_web::rt::System::new().block_on(serve(state, ready))
}

/// Runs the server on `state` (whose seams a bench may have replaced) until Ctrl-C /
/// SIGTERM. `ready` is called once the socket is bound.
pub async fn serve(state: AppState, ready: impl FnOnce(&AppState)) -> Result<()> {
    let (listen, limits) = (state.config.listen.clone(), state.config.limits);
    let certificate = match &state.config.tls {
        Some(tls) => Some(tls::Certificate::load(&tls.cert, &tls.key)?),
        None => None,
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let state = web::Data::new(state);
    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .app_data(web::PayloadConfig::new(limits::MAX_BODY))
            .wrap(from_fn(limits::bounded_body))
            .wrap(from_fn(recording::audited))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                Error::invalid(format!("invalid query parameters: {e}")).into()
            }))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| Error::invalid(format!("invalid path: {e}")).into()),
            )
            .configure(routes::configure)
    })
    // Without TCP_NODELAY a streamed body sent after its headers waits for the client's
    // delayed ACK (40 ms on Linux) before its first chunk leaves.
    .on_connect(|connection, _| {
        let tcp = connection.downcast_ref::<TcpStream>().or_else(|| {
            connection
                .downcast_ref::<TlsStream<TcpStream>>()
                .map(|tls| tls.get_ref().0)
        });
        if let Some(tcp) = tcp
            && let Err(e) = tcp.set_nodelay(true)
        {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
    })
    // Signals are handled below: the first lets running responses finish, a second stops.
    .disable_signals()
    .shutdown_timeout(state.config.shutdown_grace.as_secs())
    .client_request_timeout(limits.head_timeout)
    .keep_alive(limits.keep_alive)
    .max_connections(limits.max_connections.div_ceil(workers).max(1))
    .workers(workers);
    let bound = match &certificate {
        Some(certificate) => server.bind_rustls_0_23(&listen, certificate.server_config()?),
        None => server.bind(&listen),
    };
    let server = bound.map_err(|e| Error::internal(format!("cannot listen on {listen}: {e}")))?;
    if let Some(certificate) = certificate {
        actix_web::rt::spawn(tls::reload_on_hangup(certificate));
    }
    tracing::info!(listen, public_url = %state.config.public_url, "fireshare is serving");
    let metrics = match &state.config.metrics_listen {
        Some(address) => Some(metrics_server(address, &state)?),
        None => None,
    };
    ready(&state);
    let flusher = state.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(LAST_USED_FLUSH);
        loop {
            every.tick().await;
            flush_last_used(&flusher).await;
        }
    });
    let validator = state.clone();
    actix_web::rt::spawn(async move {
        let period = validator
            .config
            .fire_poll
            .max(std::time::Duration::from_secs(1));
        let mut every = actix_web::rt::time::interval(period);
        loop {
            every.tick().await;
            let state = validator.clone();
            let done = blocking(move || {
                crate::fire::quality::validate_bound_tables(
                    &state.catalog,
                    &state.delta,
                    &state.stores,
                )
            })
            .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "FIRE validation round failed");
            }
        }
    });
    let server = server.run();
    let mut handles = vec![server.handle()];
    if let Some(metrics) = metrics {
        handles.push(metrics.handle());
        actix_web::rt::spawn(metrics);
    }
    actix_web::rt::spawn(stop_on_signals(handles, state.config.shutdown_grace));
    let served = server
        .await
        .map_err(|e| Error::internal(format!("server failed: {e}")));
    flush_last_used(&state).await;
    state.audit.recorder.close();
    served
}

/// SIGTERM or Ctrl-C: stop accepting connections and let running responses finish, for up
/// to `grace`; the server then writes last-used times and seals the ledger. A second signal
/// exits at once (every response sent so far is already recorded).
async fn stop_on_signals(servers: Vec<actix_web::dev::ServerHandle>, grace: std::time::Duration) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM and SIGINT");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!(
        grace_s = grace.as_secs(),
        "stopping: running responses may finish; a second signal stops at once"
    );
    for server in &servers {
        actix_web::rt::spawn(server.stop(true));
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::warn!("stopped at once by a second signal");
    std::process::exit(1);
}

/// The `--metrics-listen` server: `/metrics` and the health probes, without credentials, one
/// worker (the probes work there when the main listener speaks TLS).
fn metrics_server(address: &str, state: &web::Data<AppState>) -> Result<actix_web::dev::Server> {
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(routes::METRICS, web::get().to(scrape::open))
            .route(routes::HEALTHZ, web::get().to(health::alive))
            .route(routes::READYZ, web::get().to(health::ready))
    })
    .workers(1)
    .disable_signals()
    .bind(address)
    .map_err(|e| Error::internal(format!("cannot listen on {address} for metrics: {e}")))?
    .run();
    tracing::info!(listen = address, "metrics are served");
    Ok(server)
}

/// How often the tokens' last-used times are written.
const LAST_USED_FLUSH: std::time::Duration = std::time::Duration::from_secs(30);

async fn flush_last_used(state: &web::Data<AppState>) {
    let state = state.clone();
    let written = blocking(move || state.tokens.flush_last_used(&state.catalog)).await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "cannot record when tokens were last used");
    }
}
