//! `POST /oauth/token`: the client credentials grant. Answers follow RFC 6749 §5:
//! `{"access_token", "token_type", "expires_in"}` or `{"error", "error_description"}`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use super::AppState;
use super::recording::trail;
use super::request::{blocking, client_ip};
use crate::Result;
use crate::audit::Actor;
use crate::auth::oauth::{self, ACCESS_TOKEN_TTL, OAuthError};

pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse> {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let credentials =
        basic_credentials(&req).or_else(|| Some((field("client_id")?, field("client_secret")?)));
    let refusal = match (field("grant_type").as_deref(), credentials) {
        (Some("client_credentials"), Some(credentials)) => {
            let trail = trail(&req);
            trail.update(|d| {
                d.actor = Some(Actor {
                    token_id: Some(credentials.0.clone()),
                    ..Actor::anonymous()
                })
            });
            let client = client_ip(&req, &state.config.trusted_proxies);
            let state = state.clone();
            let issued = blocking(move || {
                oauth::exchange(
                    &state.catalog,
                    &state.signing_key,
                    &state.config.public_url,
                    (&credentials.0, &credentials.1),
                    client,
                    ACCESS_TOKEN_TTL,
                )
            })
            .await?;
            match issued {
                Ok(token) => {
                    crate::metrics::metrics().oauth_tokens.inc();
                    trail.update(|d| {
                        if let Some(actor) = &mut d.actor {
                            actor.kind = "recipient".into();
                            actor.name = Some(token.recipient.clone());
                        }
                    });
                    return Ok(HttpResponse::Ok()
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .json(serde_json::json!({
                            "access_token": token.token,
                            "token_type": "Bearer",
                            "expires_in": token.expires_in,
                        })));
                }
                Err(refusal) => refusal,
            }
        }
        (Some("client_credentials"), None) => OAuthError {
            error: "invalid_client",
            description: "send the client id and secret with HTTP Basic authentication".into(),
        },
        (None, _) => OAuthError {
            error: "invalid_request",
            description: "grant_type is missing".into(),
        },
        (Some(other), _) => OAuthError {
            error: "unsupported_grant_type",
            description: format!("grant_type {other} is not supported: use client_credentials"),
        },
    };
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(refusal.status()).expect("a valid status"),
    );
    if refusal.status() == 401 {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"fireshare\""));
    }
    Ok(response.json(serde_json::json!({
        "error": refusal.error,
        "error_description": refusal.description,
    })))
}

/// `Authorization: Basic base64(client_id:client_secret)` (each form-urlencoded, RFC 6749 §2.3.1).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}
