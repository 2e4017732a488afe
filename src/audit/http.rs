//! The middleware that records every request, what handlers use to add to the record, and
//! the published audit key.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Map, Value};

use super::Trail;
use super::event::Event;
use crate::state::AppState;
use crate::{Error, auth};

/// The response header naming the request's event (`X-Request-Id`).
pub const REQUEST_ID: &str = "x-request-id";

/// Paths not recorded: health probes would drown the ledger.
const UNRECORDED: [&str; 1] = ["/healthz"];

/// Query parameters never recorded: file URL signatures are credentials while they last, and
/// a careless client may put OAuth credentials in the query string.
const SECRET_PARAMS: [&str; 3] = ["X-Amz-Signature", "client_secret", "code"];

/// Where the audit key's public half is published.
pub const AUDIT_KEY_PATH: &str = "/.well-known/fireshare-audit-key";

/// `GET /.well-known/fireshare-audit-key`: the key set that verifies seals and receipts, as
/// `fireshare audit public-key` prints it.
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .json(state.audit.key.jwks())
}

/// Records the request in the ledger once its response is ready, and sends the response only
/// when the record is on disk. When the ledger cannot be written the response is replaced by
/// a 503: nothing is served unrecorded.
pub async fn audited(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if UNRECORDED.contains(&req.path()) || bench_audit_off() {
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
            let event = Event {
                action: "failedRequest".into(),
                method: Some(method),
                path: Some(recorded_path(&path)),
                status: e.as_response_error().status_code().as_u16(),
                ..trail.take().into_event()
            };
            if let Err(failed) = state.audit.ledger.record(event).await {
                tracing::error!(error = %failed, "the audit ledger cannot be written");
                return Err(Error::unavailable(
                    "the audit ledger cannot be written, so nothing can be served; try again later",
                )
                .into());
            }
            return Err(e);
        }
    };
    let event = event_of(&response, &state, trail);
    let request_id = event.request_id.clone();
    let mut response = match state.audit.ledger.record(event).await {
        Ok(_) => response,
        Err(e) => {
            tracing::error!(error = %e, request_id, "refusing a request: the audit ledger cannot be written");
            let refusal = Error::unavailable(
                "the audit ledger cannot be written, so nothing can be served; try again later",
            );
            ServiceResponse::new(response.into_parts().0, refusal.error_response())
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(REQUEST_ID), value);
    }
    Ok(response)
}

/// Bench-only builds (`--features bench-audit-off`): with `FIRESHARE_BENCH_AUDIT_OFF` set,
/// nothing is recorded, so that `benches/audit.rs` can measure what recording costs. A
/// default build always records.
fn bench_audit_off() -> bool {
    #[cfg(feature = "bench-audit-off")]
    {
        static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *OFF.get_or_init(|| {
            let off = std::env::var_os("FIRESHARE_BENCH_AUDIT_OFF").is_some();
            if off {
                tracing::warn!("AUDIT LEDGER OFF (bench build)");
            }
            off
        })
    }
    #[cfg(not(feature = "bench-audit-off"))]
    false
}

fn event_of(response: &ServiceResponse<BoxBody>, state: &AppState, trail: Trail) -> Event {
    let req = response.request();
    let details = trail.take();
    let pattern = req.match_pattern();
    let text_header = |name| {
        req.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
    };
    let path_param = |name| req.match_info().get(name).map(str::to_string);
    let status = response.status().as_u16();
    let error_code = response
        .response()
        .error()
        .and_then(|e| e.as_error::<Error>())
        .map(|e| e.code().as_str().to_string());
    let bytes = match response.response().body().size() {
        BodySize::Sized(n) if req.method() != actix_web::http::Method::HEAD => Some(n),
        _ => None,
    };
    let mut event = Event {
        client_ip: crate::http::client_ip(req, &state.config.trusted_proxies)
            .map(|ip| ip.to_string()),
        user_agent: text_header(header::USER_AGENT),
        method: Some(req.method().to_string()),
        path: Some(recorded_path(req.path())),
        share: path_param("share"),
        status,
        error_code,
        bytes,
        ..details.into_event()
    };
    if let Some(schema) = path_param("schema") {
        event.schema = Some(schema);
    }
    if let Some(table) = path_param("table") {
        event.table = Some(table);
    }
    if event.action.is_empty() {
        event.action = action(req.method().as_str(), pattern.as_deref());
    }
    event.params = merge(query_params(req), event.params.take());
    // Any table response names its version in a header; listings name theirs in the trail.
    if event.versions.is_none() {
        event.versions = response
            .headers()
            .get("delta-table-version")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map(Value::from);
    }
    // A fireshare token is named by its display prefix; other credentials (OAuth access
    // tokens) by what the handler found (the client id).
    if let Some(prefix) = auth::token_display(text_header(header::AUTHORIZATION).as_deref()) {
        event.actor.token_id = Some(prefix);
    }
    event
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

/// The action a route names. A new endpoint is recorded all the same, as `METHOD pattern`.
fn action(method: &str, pattern: Option<&str>) -> String {
    const TABLE: &str = "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}";
    let Some(pattern) = pattern else {
        return "unknownEndpoint".into();
    };
    let named = match (method, pattern.strip_prefix(TABLE)) {
        ("GET", Some("/version")) | ("HEAD", Some("")) => "getTableVersion",
        ("GET", Some("/metadata")) => "getTableMetadata",
        ("POST", Some("/query")) => "queryTable",
        ("GET", Some("/changes")) => "queryTableChanges",
        ("POST", Some("/temporary-table-credentials")) => "getTemporaryTableCredentials",
        ("POST", Some(tail)) if tail.starts_with("/queries/") => "getQueryResult",
        _ => match (method, pattern) {
            ("GET", "/delta-sharing/shares") => "listShares",
            ("GET", "/delta-sharing/shares/{share}") => "getShare",
            ("GET", "/delta-sharing/shares/{share}/schemas") => "listSchemas",
            ("GET", "/delta-sharing/shares/{share}/schemas/{schema}/tables") => "listTables",
            ("GET", "/delta-sharing/shares/{share}/all-tables") => "listAllTables",
            ("GET" | "HEAD", "/files/{tail:.*}") => "downloadFile",
            ("GET", "/activate/{code}") => "activateRecipient",
            ("POST", "/oauth/token") => "issueAccessToken",
            ("POST", "/admin/v1/sql") => "runSql",
            ("GET", "/admin/v1/audit") => "queryAudit",
            ("GET", p) if p.starts_with("/.well-known/") => "getPublicKey",
            _ => return format!("{method} {pattern}"),
        },
    };
    named.to_string()
}

impl Trail {
    /// The trail of `req`; a detached one where no middleware set it up (unit tests).
    pub fn of(req: &HttpRequest) -> Self {
        req.extensions().get::<Trail>().cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::action;

    #[test]
    fn routes_name_their_actions_and_new_ones_are_still_named() {
        let table = "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}";
        assert_eq!(
            action("POST", Some(&format!("{table}/query"))),
            "queryTable"
        );
        assert_eq!(action("HEAD", Some(table)), "getTableVersion");
        assert_eq!(action("GET", Some("/files/{tail:.*}")), "downloadFile");
        assert_eq!(
            action("DELETE", Some("/delta-sharing/shares")),
            "DELETE /delta-sharing/shares"
        );
        assert_eq!(action("GET", None), "unknownEndpoint");
    }

    #[test]
    fn activation_codes_never_reach_the_ledger() {
        use super::recorded_path;
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
