//! The web console at `/console`, for admins and auditors: server-rendered pages (maud), one
//! script of our own for copy buttons, charts as SVG, nothing fetched from elsewhere. A token
//! is exchanged once for a session cookie (see `auth::session`); every form carries the
//! session's CSRF token, and every action is a statement run by the same executor as SQL and
//! REST, recorded in the ledger under the signed-in token's name. Auditors get no write
//! controls, and the executor refuses their writes all the same.

mod assets;
mod audit;
mod chart;
mod credentials;
mod overview;
mod page;
mod recipients;
mod session;
mod shares;
mod tables;

use actix_web::body::BoxBody;
use actix_web::dev::HttpServiceFactory;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Scope, web};
use bytes::Bytes;
use maud::Markup;

use super::AppState;
use super::admin::run_statements;
use super::recording::{record_changes, trail};
use super::request::blocking;
use super::routes::named;
use crate::admin::StatementResult;
use crate::admin::sql::Statement;
use crate::auth::AdminCaller;
use crate::{Error, Result};
use page::{Fields, Notice, View};

/// Where the console is served.
pub const PREFIX: &str = "/console";

/// Every page and asset answers with these: scripts and styles from the console alone, no
/// framing, no referrer sent to another site.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// A page at `path`, its views recorded as `viewConsole`.
fn view<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path).route(named(web::get(), "viewConsole", handler))
}

/// The console's routes (all 404 when the server runs with `--console off`).
pub fn scope() -> impl HttpServiceFactory {
    let scope = web::scope(PREFIX)
        .service(web::resource("/assets/{name}").route(web::get().to(assets::serve)))
        .service(
            web::resource("/sign-in")
                .route(named(web::get(), "viewConsole", session::sign_in_page))
                .route(named(web::post(), "signInConsole", session::sign_in)),
        )
        .service(web::resource("/sign-out").route(named(
            web::post(),
            "signOutConsole",
            session::sign_out,
        )))
        .service(view("", overview::page))
        .service(web::resource("/ledger/verify").route(named(
            web::post(),
            "verifyLedger",
            overview::verify,
        )))
        .service(view("/audit", audit::search))
        .service(web::resource("/audit/export").route(named(
            web::get(),
            "exportAudit",
            audit::export,
        )))
        .service(view("/audit/event", audit::event));
    [
        &shares::SECTION,
        &recipients::SECTION,
        &tables::SECTION,
        &credentials::SECTION,
    ]
    .into_iter()
    .fold(scope, Section::register)
    .default_service(web::to(|| async {
        let missing = Error::not_found("no such console page");
        rendered(StatusCode::NOT_FOUND, page::problem(None, &missing))
    }))
    .wrap(from_fn(guarded))
}

/// A section of objects (shares, recipients, tables, storage credentials): a list page with a
/// creation form, a page per object, and the statements their forms build.
pub struct Section {
    /// Under the console: `/shares`.
    path: &'static str,
    /// The name of an object's path segment (the ledger records `share` and `table` ones).
    param: &'static str,
    list: fn(&AppState, &View) -> Result<Markup>,
    detail: fn(&AppState, &View, &str) -> Result<Markup>,
    /// The list page's creation form and the statement it builds.
    create: (&'static str, fn(&Fields) -> Result<Statement>),
    /// The statement of action `op` on object `name`, built from its form.
    act: fn(&str, &str, &Fields) -> Result<Statement>,
    /// The forms of an object's page, by action: their errors show next to them.
    forms: &'static [&'static str],
}

impl Section {
    /// `GET|POST /path`, `GET /path/{name}` and `POST /path/{name}/{op}`.
    fn register(scope: Scope, section: &'static Section) -> Scope {
        let (path, param) = (section.path, section.param);
        let list =
            move |state: web::Data<AppState>, req: HttpRequest| page(state, req, section.list);
        let create = move |state: web::Data<AppState>, req: HttpRequest, body: Bytes| {
            let (form, build) = section.create;
            act(state, req, body, form, build, Box::new(section.list))
        };
        let detail =
            move |state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>| {
                let name = name.into_inner();
                page(state, req, move |state, view| {
                    (section.detail)(state, view, &name)
                })
            };
        let action = move |state: web::Data<AppState>,
                           req: HttpRequest,
                           path: web::Path<(String, String)>,
                           body: Bytes| {
            let (name, op) = path.into_inner();
            let form = page::form_of(&op, section.forms);
            // A dropped object has no page left: back to the list.
            let then: Then = if op == "drop" {
                Box::new(section.list)
            } else {
                let name = name.clone();
                Box::new(move |state, view| (section.detail)(state, view, &name))
            };
            act(
                state,
                req,
                body,
                form,
                move |f| (section.act)(&name, &op, f),
                then,
            )
        };
        scope
            .service(view(path, list).route(named(web::post(), "consoleAction", create)))
            .service(view(&format!("{path}/{{{param}}}"), detail))
            .service(
                web::resource(format!("{path}/{{{param}}}/{{op}}")).route(named(
                    web::post(),
                    "consoleAction",
                    action,
                )),
            )
    }
}

/// Adds the security headers to every console response, or answers 404 when the console is off.
async fn guarded(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> std::result::Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let off = req
        .app_data::<web::Data<AppState>>()
        .is_none_or(|state| state.config.console_session.is_none());
    let mut response = if off {
        let error = Error::not_found("the console is off on this server (--console off)");
        req.into_response(HttpResponse::NotFound().json(error.body()))
    } else {
        next.call(req).await?
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            header::HeaderName::from_static(name),
            header::HeaderValue::from_static(value),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(response)
}

fn rendered(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

fn status_of(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// What a person is shown of an error: as the API says it (an internal failure's details stay
/// in the log).
fn said(error: &Error) -> String {
    if let Error::Internal { .. } = error {
        tracing::error!(error = %error, "console request failed");
    }
    error.body()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Renders a page for the signed-in caller; without a live session, the sign-in page.
async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    render: impl FnOnce(&AppState, &View) -> Result<Markup> + Send + 'static,
) -> HttpResponse {
    respond(
        state,
        req,
        None,
        move |state, view| render(state, view).map_err(|e| ("", e)),
        None,
    )
    .await
}

/// Runs the statement a form builds for the signed-in caller, its change committed with the
/// request's event, then renders `then` with the outcome (the error shown next to `form`).
async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
    form: &'static str,
    build: impl FnOnce(&Fields) -> Result<Statement> + Send + 'static,
    then: Then,
) -> HttpResponse {
    let fields = Fields::parse(&body);
    let csrf = fields.get("csrf").unwrap_or_default().to_string();
    let trail = record_changes(&req, &state, 200);
    let work = move |state: &AppState,
                     view: &View|
          -> std::result::Result<StatementResult, (&'static str, Error)> {
        let statement = build(&fields).map_err(|e| (form, e))?;
        run_statements(state, &view.caller, Some(&trail), vec![statement])
            .map(|mut results| results.remove(0))
            .map_err(|e| (form, e))
    };
    respond(state, req, Some(csrf), work, Some(then)).await
}

/// The page an action returns to.
pub(super) type Then = Box<dyn FnOnce(&AppState, &View) -> Result<Markup> + Send>;

/// The one way a console request is answered. The session is checked (and, for a form, the
/// CSRF token `posted` with it) on the blocking pool; `work` runs for the caller; a page
/// renders what it did.
async fn respond<T: Into<Outcome> + Send + 'static>(
    state: web::Data<AppState>,
    req: HttpRequest,
    posted: Option<String>,
    work: impl FnOnce(&AppState, &View) -> std::result::Result<T, (&'static str, Error)>
    + Send
    + 'static,
    then: Option<Then>,
) -> HttpResponse {
    let Some(session) = session::cookie(&req) else {
        return session::to_sign_in(&state, None);
    };
    if let Some(refused) = posted.as_ref().and_then(|_| session::cross_site(&req)) {
        return refused;
    }
    let query = Fields::parse(req.query_string().as_bytes());
    let trail = trail(&req);
    let state_ = state.clone();
    let answered = blocking(move || {
        let caller = session::check(&state_, &session, &trail)?;
        let csrf = crate::auth::session::csrf_token(&state_.secret, &session);
        let mut view = View {
            caller,
            csrf,
            query,
            notice: None,
        };
        if let Some(csrf) = posted
            && !crate::auth::session::csrf_matches(&state_.secret, &session, &csrf)
        {
            let refused = Error::permission_denied(
                "the form's CSRF token is missing or not this session's: reload the page and submit it again",
            );
            return Ok((StatusCode::FORBIDDEN, page::problem(Some(&view), &refused)));
        }
        let (status, markup) = match work(&state_, &view).map(Into::into) {
            Ok(Outcome::Page(markup)) => (StatusCode::OK, markup),
            Ok(Outcome::Done(result)) => {
                view.notice = Some(Notice::Done(result));
                (StatusCode::OK, render_then(&state_, &view, then)?)
            }
            Ok(Outcome::Said { ok, text }) => {
                view.notice = Some(Notice::Said { ok, text });
                (StatusCode::OK, render_then(&state_, &view, then)?)
            }
            Err((form, error)) => {
                let status = status_of(&error);
                let markup = match then {
                    None => page::problem(Some(&view), &error),
                    Some(then) => {
                        view.notice = Some(Notice::Failed { form, message: said(&error) });
                        render_then(&state_, &view, Some(then))?
                    }
                };
                (status, markup)
            }
        };
        Ok((status, markup))
    })
    .await;
    match answered {
        Ok((status, markup)) => rendered(status, markup),
        Err(e) => refused(&state, &e),
    }
}

/// A request refused before any page could be made for it: a dead session signs out, anything
/// else is said on a page of its own.
fn refused(state: &AppState, error: &Error) -> HttpResponse {
    match status_of(error) {
        StatusCode::UNAUTHORIZED => session::to_sign_in(state, Some(&said(error))),
        status => rendered(status, page::problem(None, error)),
    }
}

/// The page after an action; a page that cannot be read (a dropped object) says why.
fn render_then(state: &AppState, view: &View, then: Option<Then>) -> Result<Markup> {
    let then = then.ok_or_else(|| Error::internal("an action without a page to return to"))?;
    Ok(then(state, view).unwrap_or_else(|e| page::problem(Some(view), &e)))
}

/// What a request's work produced.
pub(super) enum Outcome {
    /// A page to show as it is.
    Page(Markup),
    /// A statement's result, shown on the page returned to.
    Done(StatementResult),
    /// A message for the page returned to.
    Said { ok: bool, text: String },
}

impl From<Markup> for Outcome {
    fn from(markup: Markup) -> Self {
        Outcome::Page(markup)
    }
}

impl From<StatementResult> for Outcome {
    fn from(result: StatementResult) -> Self {
        Outcome::Done(result)
    }
}

/// Runs a read-only statement for the caller (no trail: the page's request is recorded by
/// the middleware).
fn show(state: &AppState, caller: &AdminCaller, statement: Statement) -> Result<StatementResult> {
    Ok(run_statements(state, caller, None, vec![statement])?.remove(0))
}
