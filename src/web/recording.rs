//! The middleware that records every request in the audit ledger, committed before its
//! response leaves, and logs one line for it: the route names the action, handlers add what
//! only they know through the request's [`Trail`].

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError, web};
use serde_json::{Map, Value};

use super::AppState;
use super::request::client_ip;
use crate::audit::{Details, Event, InTransaction, Trail};
use crate::{Error, auth};

/// The response header naming the request's event (`X-Request-Id`).
pub const REQUEST_ID: &str = "x-request-id";

/// Paths not recorded: health probes would drown the ledger.
const UNRECORDED: [&str; 2] = [super::routes::HEALTHZ, super::routes::READYZ];

/// Query parameters never recorded: file URL signatures are credentials while they last, and
/// a careless client may put OAuth credentials in the query string.
const SECRET_PARAMS: [&str; 3] = ["X-Amz-Signature", "client_secret", "code"];

/// The action a route's requests are recorded as, set where the route is registered.
#[derive(Clone, Copy)]
pub struct RouteAction(pub &'static str);

/// The trail of `req`; a detached one where no middleware set it up (unit tests).
pub fn trail(req: &HttpRequest) -> Trail {
    req.extensions().get::<Trail>().cloned().unwrap_or_default()
}

/// Records the request in the ledger once its response is ready, and sends the response only
/// when the record is on disk. When the ledger cannot be written the response is replaced by
/// a 503: nothing is served unrecorded.
pub async fn audited(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if UNRECORDED.contains(&req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let trail = Trail::new();
    req.extensions_mut().insert(trail.clone());
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(Error::internal("the audit middleware runs without server state").into());
    };
    // Errors are turned into responses by the handlers' services; one escaping as `Err` (an
    // inner middleware failing) is recorded with what is known before routing.
    let (method, path) = (req.method().to_string(), req.path().to_string());
    let response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(e) => {
            let details = trail.take();
            if details.recorded.is_some() {
                return Err(e);
            }
            // No receipt left with it.
            let event = Event {
                action: "failedRequest".into(),
                method: Some(method),
                path: Some(recorded_path(&path)),
                status: e.as_response_error().status_code().as_u16(),
                receipt: None,
                ..details.into_event()
            };
            if let Err(failed) = state.audit.recorder.record(event).await {
                tracing::error!(error = %failed, "the audit ledger cannot be written");
                return Err(ledger_unavailable().into());
            }
            return Err(e);
        }
    };
    let details = trail.take();
    let (request_id, actor, started, files) = (
        details.request_id.clone(),
        details.actor.clone(),
        details.started,
        details.files,
    );
    // A change's event committed with the change (see `record_changes`): nothing left to do.
    let mut response = if details.recorded.is_some() {
        response
    } else {
        let event = event_of(&response, &state, details);
        match state.audit.recorder.record(event).await {
            Ok(_) => response,
            Err(e) => {
                tracing::error!(error = %e, request_id, "refusing a request: the audit ledger cannot be written");
                ServiceResponse::new(
                    response.into_parts().0,
                    ledger_unavailable().error_response(),
                )
            }
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(REQUEST_ID), value);
    }
    observe(&response, actor.as_ref(), &request_id, started, files);
    // Bytes are counted as they leave, streamed listings included.
    let sent = crate::metrics::metrics()
        .response_bytes
        .with_label_values(&[response
            .request()
            .match_pattern()
            .as_deref()
            .unwrap_or("(no route)")]);
    Ok(response.map_body(|_, body| BoxBody::new(Counted { body, sent })))
}

/// A response body that adds the bytes it sends to a counter.
struct Counted {
    body: BoxBody,
    sent: prometheus::IntCounter,
}

impl MessageBody for Counted {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<bytes::Bytes, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_next(cx);
        if let std::task::Poll::Ready(Some(Ok(chunk))) = &polled {
            self.sent.inc_by(chunk.len() as u64);
        }
        polled
    }
}

/// The request's log line and metrics: by its route's pattern, never the path (activation
/// codes, file names) nor the query string (signatures) nor a header (tokens).
fn observe(
    response: &ServiceResponse<BoxBody>,
    actor: Option<&crate::audit::Actor>,
    request_id: &str,
    started: std::time::Instant,
    files: Option<u64>,
) {
    let req = response.request();
    let pattern = req.match_pattern();
    let route = pattern.as_deref().unwrap_or("(no route)");
    let (status, elapsed, bytes) = (
        response.status().as_u16(),
        started.elapsed(),
        response_bytes(response),
    );
    let metrics = crate::metrics::metrics();
    metrics
        .requests
        .with_label_values(&[route, req.method().as_str(), &status.to_string()])
        .inc();
    metrics
        .request_seconds
        .with_label_values(&[route])
        .observe(elapsed.as_secs_f64());
    if let Some(files) = files {
        metrics.files_listed.observe(files as f64);
    }
    tracing::info!(
        method = %req.method(),
        route,
        status,
        ms = elapsed.as_millis() as u64,
        request_id,
        actor = actor.map_or("anonymous", |a| a.kind.as_str()),
        name = actor.and_then(|a| a.name.as_deref()).unwrap_or("-"),
        bytes,
        "request"
    );
}

/// The size of a response's body, when it is known before it is sent (not for streams).
fn response_bytes(response: &ServiceResponse<BoxBody>) -> Option<u64> {
    match response.response().body().size() {
        BodySize::Sized(n) if response.request().method() != actix_web::http::Method::HEAD => {
            Some(n)
        }
        _ => None,
    }
}

/// Makes the catalog changes `req`'s handler writes through its trail ([`Trail::write`])
/// append the request's event in their own transaction, as answered with `status` (the
/// response's size is not known then, and is not recorded). Returns the trail.
pub fn record_changes(req: &HttpRequest, state: &AppState, status: u16) -> Trail {
    let trail = trail(req);
    let facts = RequestFacts::of(req, state);
    trail.record_changes(InTransaction {
        key: state.audit.key.clone(),
        sealing: state.config.sealing,
        event: Box::new(move |details| facts.event(details, status)),
    });
    trail
}

/// What a client is told when its request cannot be recorded.
fn ledger_unavailable() -> Error {
    Error::unavailable(
        "the audit ledger cannot be written, so nothing can be served; try again later",
    )
}

fn event_of(response: &ServiceResponse<BoxBody>, state: &AppState, details: Details) -> Event {
    let req = response.request();
    let mut event = RequestFacts::of(req, state).event(details, response.status().as_u16());
    event.error_code = response
        .response()
        .error()
        .and_then(|e| e.as_error::<Error>())
        .map(|e| e.code().as_str().to_string());
    event.bytes = response_bytes(response);
    // Any table response names its version in a header; listings name theirs in the trail.
    if event.versions.is_none() {
        event.versions = response
            .headers()
            .get("delta-table-version")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map(Value::from);
    }
    event
}

/// What the ledger keeps of a request itself, whatever its answer: from where, to which route,
/// with which credential (named, never kept).
struct RequestFacts {
    client_ip: Option<String>,
    user_agent: Option<String>,
    method: String,
    path: String,
    share: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    action: String,
    params: Option<Value>,
    token_id: Option<String>,
}

/// The catalog names a request's path holds, where it has them.
#[derive(Default, serde::Deserialize)]
struct Names {
    share: Option<String>,
    schema: Option<String>,
    table: Option<String>,
}

impl RequestFacts {
    fn of(req: &HttpRequest, state: &AppState) -> Self {
        let text_header = |name| {
            req.headers()
                .get(name)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        };
        // Decoded as the handlers' `web::Path` decodes them (`match_info().get` leaves `%2B`,
        // `%25` and `%2F` as sent): the names the catalog and the receipt know.
        let names: Names = req.match_info().load().unwrap_or_default();
        RequestFacts {
            client_ip: client_ip(req, &state.config.trusted_proxies).map(|ip| ip.to_string()),
            user_agent: text_header(header::USER_AGENT),
            method: req.method().to_string(),
            path: recorded_path(req.path()),
            share: names.share,
            schema: names.schema,
            table: names.table,
            action: action(req),
            params: query_params(req),
            // A fireshare token is named by its display prefix; other credentials (OAuth
            // access tokens) by what the handler found (the client id).
            token_id: auth::token_display(text_header(header::AUTHORIZATION).as_deref()),
        }
    }

    /// The event of this request with what its handler noted, answered `status`.
    fn event(&self, details: Details, status: u16) -> Event {
        let mut event = Event {
            client_ip: self.client_ip.clone(),
            user_agent: self.user_agent.clone(),
            method: Some(self.method.clone()),
            path: Some(self.path.clone()),
            share: self.share.clone(),
            status,
            ..details.into_event()
        };
        if self.schema.is_some() {
            event.schema = self.schema.clone();
        }
        if self.table.is_some() {
            event.table = self.table.clone();
        }
        if event.action.is_empty() {
            event.action = self.action.clone();
        }
        event.params = merge(self.params.clone(), event.params.take());
        if self.token_id.is_some() {
            event.actor.token_id = self.token_id.clone();
        }
        event
    }
}

/// The path, but never an activation link's code: it is a credential until used. Whatever
/// follows a segment that reads `activate` (in any case or encoding) is left out.
fn recorded_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let activation = segments.iter().position(|segment| {
        percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .eq_ignore_ascii_case("activate")
    });
    match activation {
        Some(at) if at + 1 < segments.len() => format!("{}/{{code}}", segments[..=at].join("/")),
        _ => path.to_string(),
    }
}

fn query_params(req: &HttpRequest) -> Option<Value> {
    let params: Map<String, Value> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    (!params.is_empty()).then_some(Value::Object(params))
}

fn merge(query: Option<Value>, handler: Option<Value>) -> Option<Value> {
    match (query, handler) {
        (Some(Value::Object(mut query)), Some(Value::Object(handler))) => {
            query.extend(handler);
            Some(Value::Object(query))
        }
        (query, handler) => handler.or(query),
    }
}

/// The action the route names; an endpoint registered without one is recorded all the same,
/// as `METHOD pattern`.
fn action(req: &HttpRequest) -> String {
    if let Some(RouteAction(action)) = req.extensions().get::<RouteAction>() {
        return action.to_string();
    }
    match req.match_pattern() {
        Some(pattern) => format!("{} {pattern}", req.method()),
        None => "unknownEndpoint".into(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::dev::Service;
    use actix_web::http::Method;
    use actix_web::{App, test as actix_test};

    use super::*;

    #[actix_web::test]
    async fn routes_name_their_actions_and_new_ones_are_still_named() {
        // The real route table, each response labelled with the action it would be recorded
        // under (no handler state: the handlers fail, the naming does not).
        let app = actix_test::init_service(
            App::new()
                .configure(super::super::routes::configure)
                .wrap_fn(|req, srv| {
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        let named = HeaderValue::from_str(&action(response.request())).unwrap();
                        response
                            .headers_mut()
                            .insert(header::HeaderName::from_static("x-action"), named);
                        Ok(response)
                    }
                }),
        )
        .await;
        let table = "/delta-sharing/shares/s/schemas/d/tables/t";
        for (method, path, expected) in [
            (Method::POST, format!("{table}/query"), "queryTable"),
            (Method::HEAD, table.to_string(), "getTableVersion"),
            (Method::GET, format!("{table}/changes"), "queryTableChanges"),
            (Method::GET, "/files/t1/a.parquet".into(), "downloadFile"),
            (Method::GET, "/activate/fsl_x".into(), "activateRecipient"),
            (Method::POST, "/admin/v1/sql".into(), "runSql"),
            (
                Method::GET,
                "/admin/v1/audit/receipts/x".into(),
                "getReceipt",
            ),
            (
                Method::DELETE,
                "/delta-sharing/shares".into(),
                "DELETE /delta-sharing/shares",
            ),
            (Method::GET, "/nowhere".into(), "unknownEndpoint"),
        ] {
            let req = actix_test::TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .to_request();
            let response = actix_test::call_service(&app, req).await;
            assert_eq!(
                response.headers().get("x-action").unwrap(),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn activation_codes_never_reach_the_ledger() {
        assert_eq!(recorded_path("/activate/fsl_secret"), "/activate/{code}");
        assert_eq!(recorded_path("//Activate/fsl_secret"), "//Activate/{code}");
        assert_eq!(
            recorded_path("/%61ctivate/fsl_secret/x"),
            "/%61ctivate/{code}"
        );
        assert_eq!(
            recorded_path("/delta-sharing/shares"),
            "/delta-sharing/shares"
        );
    }
}
