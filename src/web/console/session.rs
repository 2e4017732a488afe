//! Signing in and out of the console: the session cookie, and the checks every console
//! request passes (a live session; for a form, a same-site origin).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

use super::page::{self, Fields};
use super::{PREFIX, rendered, said};
use crate::Result;
use crate::audit::Trail;
use crate::auth::{self, AdminCaller};
use crate::web::AppState;
use crate::web::identity::Caller;
use crate::web::recording::trail;
use crate::web::request::blocking;

const COOKIE: &str = "fireshare_console";

/// The session id the browser presents, if any.
pub fn cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value of a session (`None`: one that removes it).
fn set_cookie(state: &AppState, session: Option<(&str, i64)>) -> String {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let (value, max_age) = match session {
        Some((id, expires_at)) => (id, ((expires_at - crate::clock::now_ms()) / 1000).max(0)),
        None => ("", 0),
    };
    format!("{COOKIE}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// Checks the session on the blocking pool: who it belongs to, noted in the request's trail.
pub fn check(state: &AppState, session: &str, trail: &Trail) -> Result<AdminCaller> {
    let caller = auth::session::caller(&state.catalog, session)?;
    trail.update(|d| d.actor = Some(caller.actor()));
    Ok(caller)
}

/// Where a request without a live session goes: the sign-in page (saying why, when a
/// session ended), its dead cookie removed.
pub fn to_sign_in(state: &AppState, why: Option<&str>) -> HttpResponse {
    match why {
        None => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{PREFIX}/sign-in")))
            .finish(),
        Some(why) => {
            let mut response = rendered(StatusCode::UNAUTHORIZED, page::sign_in(Some(why)));
            if let Ok(value) = header::HeaderValue::from_str(&set_cookie(state, None)) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
    }
}

/// Refuses a form sent from another site (403): browsers say where a request comes from in
/// `Sec-Fetch-Site`, older ones in `Origin`; SameSite=Strict keeps the cookie from it too, and
/// the CSRF token is checked besides.
pub fn cross_site(req: &HttpRequest) -> Option<HttpResponse> {
    let text = |name| req.headers().get(name).and_then(|h| h.to_str().ok());
    let foreign = match text(header::HeaderName::from_static("sec-fetch-site")) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => text(header::ORIGIN).is_some_and(|origin| {
            let origin_host = origin.split_once("://").map(|(_, h)| h);
            origin_host.is_none() || origin_host != text(header::HOST)
        }),
    };
    foreign.then(|| {
        let error = crate::Error::permission_denied(
            "console forms are accepted only from the console itself",
        );
        rendered(StatusCode::FORBIDDEN, page::problem(None, &error))
    })
}

/// `GET /console/sign-in`.
pub async fn sign_in_page() -> HttpResponse {
    rendered(StatusCode::OK, page::sign_in(None))
}

/// `POST /console/sign-in`: exchanges the token of the form for a session cookie.
pub async fn sign_in(state: web::Data<AppState>, req: HttpRequest, body: Bytes) -> HttpResponse {
    if let Some(refused) = cross_site(&req) {
        return refused;
    }
    let token = Fields::parse(&body).get("token").unwrap_or("").to_string();
    let trail = trail(&req);
    let opened = {
        let state = state.clone();
        blocking(move || {
            let lifetime = state.config.console_session.unwrap_or_default();
            let opened = auth::session::open(&state.catalog, &state.tokens, &token, lifetime)?;
            trail.update(|d| d.actor = Some(opened.caller.actor()));
            Ok(opened)
        })
        .await
    };
    match opened {
        Ok(opened) => {
            tracing::info!(name = %opened.caller.name, role = opened.caller.role.as_str(), "console sign-in");
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, PREFIX))
                .insert_header((
                    header::SET_COOKIE,
                    set_cookie(&state, Some((&opened.id, opened.expires_at))),
                ))
                .finish()
        }
        Err(e) => rendered(super::status_of(&e), page::sign_in(Some(&said(&e)))),
    }
}

/// `POST /console/sign-out`: ends the session (its CSRF token required) and removes the cookie.
pub async fn sign_out(state: web::Data<AppState>, req: HttpRequest, body: Bytes) -> HttpResponse {
    if let Some(refused) = cross_site(&req) {
        return refused;
    }
    let Some(session) = cookie(&req) else {
        return to_sign_in(&state, None);
    };
    let csrf = Fields::parse(&body)
        .get("csrf")
        .unwrap_or_default()
        .to_string();
    let trail = trail(&req);
    let closed = {
        let state = state.clone();
        blocking(move || {
            check(&state, &session, &trail)?;
            if !auth::session::csrf_matches(&state.secret, &session, &csrf) {
                return Err(crate::Error::permission_denied(
                    "the form's CSRF token is missing or not this session's: reload the page",
                ));
            }
            auth::session::close(&state.catalog, &session)
        })
        .await
    };
    match closed {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{PREFIX}/sign-in")))
            .insert_header((header::SET_COOKIE, set_cookie(&state, None)))
            .finish(),
        Err(e) => super::refused(&state, &e),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; fireshare_console=fss_x; b=2"))
            .to_http_request();
        assert_eq!(cookie(&req).as_deref(), Some("fss_x"));
        let none = TestRequest::default()
            .insert_header((header::COOKIE, "fireshare_console="))
            .to_http_request();
        assert_eq!(cookie(&none), None);
    }

    #[test]
    fn forms_from_other_sites_are_refused() {
        let req = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post().insert_header((header::HOST, "share.example:8080"));
            for (name, value) in headers {
                req = req.insert_header((*name, *value));
            }
            cross_site(&req.to_http_request()).map(|r| r.status().as_u16())
        };
        assert_eq!(req(&[("sec-fetch-site", "same-origin")]), None);
        assert_eq!(req(&[("sec-fetch-site", "cross-site")]), Some(403));
        assert_eq!(req(&[("sec-fetch-site", "same-site")]), Some(403));
        assert_eq!(req(&[("origin", "http://share.example:8080")]), None);
        assert_eq!(req(&[("origin", "https://evil.example")]), Some(403));
        assert_eq!(req(&[("origin", "null")]), Some(403));
        // A client that says nothing (curl) still needs the session's CSRF token.
        assert_eq!(req(&[]), None);
    }
}
