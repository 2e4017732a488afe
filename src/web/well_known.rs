//! The public keys this server publishes: the one that signs OAuth access tokens
//! (`/.well-known/jwks.json`) and the audit key that signs the ledger's seals and the delivery
//! receipts (`/.well-known/fireshare-audit-key`, as `fireshare audit public-key` prints it).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::AppState;

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.signing_key.jwks())
}

pub async fn audit_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .json(state.audit.key.jwks())
}
