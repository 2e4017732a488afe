//! `GET /activate/{code}`: a recipient's one-time profile download. The link is consumed and
//! the token issued in one transaction, with the request's event; the token exists only in this
//! download.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::recording::record_changes;
use super::request::{blocking, client_ip};
use crate::Result;
use crate::audit::{self, Actor};
use crate::auth::{self, Activated, Profile};
use crate::catalog::Activation;
use crate::clock::format_ms;

pub async fn activate(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> Result<HttpResponse> {
    let client = client_ip(&req, &state.config.trusted_proxies);
    let (code, catalog_state) = (code.into_inner(), state.clone());
    // The token is issued and its event appended in one transaction: a ledger that cannot be
    // written leaves the link unused, to try again.
    let trail = record_changes(&req, &state, 200);
    let outcome = blocking(move || {
        trail.write(&catalog_state.catalog, |tx| {
            let used = ("use of an activation link", "activateRecipient");
            let outcome = audit::note_in(&trail, tx, used, |tx| auth::activate(tx, &code, client))?;
            if let Activated::Token { recipient, .. } = &outcome {
                trail.update(|d| d.actor = Some(Actor::recipient(recipient, None)));
                trail.commit_in(tx)?;
            }
            Ok(outcome)
        })
    })
    .await?;
    let activations = &crate::metrics::metrics().activations;
    let (token, recipient) = match outcome {
        Activated::Token { recipient, token } => (token, recipient),
        Activated::Refused(why) => {
            activations.with_label_values(&["refused"]).inc();
            return Ok(refusal(why));
        }
    };
    activations.with_label_values(&["issued"]).inc();
    tracing::info!(recipient, token_id = token.token_id, "activation link used");
    let profile = Profile::new(&state.config.sharing_endpoint(), &token).to_json();
    let file_name: String = recipient
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}.share\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(profile))
}

/// A page for the person who clicked the link: why it did not work, what to do.
fn refusal(why: Activation) -> HttpResponse {
    let (mut response, message) = match why {
        Activation::UsedAt(at) => (
            HttpResponse::Gone(),
            format!("This activation link was already used, on {}. Each link works once: if you did not download the profile then, ask your data provider for a new link.", format_ms(at)),
        ),
        Activation::ExpiredAt(at) => (
            HttpResponse::Gone(),
            format!("This activation link expired on {}. Ask your data provider for a new one.", format_ms(at)),
        ),
        Activation::Withdrawn => (
            HttpResponse::Gone(),
            "This activation link was withdrawn (a newer link replaced it, or access was revoked). Ask your data provider for a new one.".to_string(),
        ),
        Activation::Unknown | Activation::Granted { .. } => (
            HttpResponse::NotFound(),
            "There is no such activation link. Check that the whole link was copied.".to_string(),
        ),
    };
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html>\n<html><head><title>Activation link</title></head><body><p>{message}</p></body></html>\n"
        ))
}
