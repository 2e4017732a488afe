//! `GET /healthz`: the process answers. `GET /readyz`: it can serve — the catalog reads and
//! the audit ledger commits a write (a server that cannot record serves nothing); the keys
//! were loaded when the server started, or it would not be running. Neither is recorded in the
//! ledger: probes would drown it.

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value};

use super::AppState;
use super::request::blocking;
use crate::catalog::FIRE_SCHEMAS;

pub async fn alive() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// 200 with `{"catalog": "ok", "ledger": "ok", "keys": "ok"}`, or 503 naming what failed.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let reader = state.clone();
    let catalog = blocking(move || reader.catalog.read(|c| c.setting(FIRE_SCHEMAS))).await;
    let ledger = state.audit.recorder.writable().await;
    let mut checks = Map::new();
    let mut ready = true;
    for (part, outcome) in [
        ("catalog", catalog.map(|_| ())),
        ("ledger", ledger),
        ("keys", Ok(())),
    ] {
        let said = match outcome {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                ready = false;
                tracing::warn!(part, error = %e.explained(), "not ready");
                e.message().to_string()
            }
        };
        checks.insert(part.into(), Value::String(said));
    }
    let mut response = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response.json(Value::Object(checks))
}
