//! Bounds on what a client may hold: a request body must arrive whole, and within its
//! deadline, before any handler runs; the request head, idle keep-alive and the number of
//! open connections are bounded where the server is built (`server.rs`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use bytes::BytesMut;
use futures_util::StreamExt;

use super::AppState;
use crate::Error;

/// Largest request body accepted (query bodies carry predicate hints of up to 1 MiB).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// Reads the request's body whole before the handler runs, refusing one larger than
/// [`MAX_BODY`] (413) or not arrived within the body timeout (400): a client that stalls is
/// cut off instead of holding a worker and a connection.
pub async fn bounded_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.limits.body_timeout)
        .ok_or_else(|| Error::internal("the body bound runs without server state"))?;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|n| n > MAX_BODY) {
        return Ok(too_large(req));
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    loop {
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => {
                let error = Error::malformed(format!(
                    "the request body did not arrive within {} s",
                    timeout.as_secs()
                ));
                return Ok(ServiceResponse::from_err(error, req.into_parts().0));
            }
            Ok(None) => break,
            Ok(Some(chunk)) => {
                let chunk = chunk?;
                if body.len() + chunk.len() > MAX_BODY {
                    return Ok(too_large(req));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    req.set_payload(Payload::from(body.freeze()));
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// 413, said as every other error is said.
fn too_large(req: ServiceRequest) -> ServiceResponse<BoxBody> {
    let error = Error::malformed(format!(
        "the request body is larger than {} MiB",
        MAX_BODY >> 20
    ));
    let response = HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE)
        .content_type("application/json; charset=utf-8")
        .body(error.body().to_string());
    ServiceResponse::new(req.into_parts().0, response)
}
