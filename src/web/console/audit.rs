//! The audit ledger: events filtered as `GET /admin/v1/audit` filters them, newest first and
//! paged; the filtered view exported as CSV or ndjson; one event in full, with its statements,
//! its catalog changes and its receipt checked against the server's audit key.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde_json::Value;

use super::page::{self, View};
use super::{PREFIX, session};
use crate::audit::search::{self, Filter};
use crate::audit::{LedgerDb, receipt};
use crate::signing_key::VerifyingKey;
use crate::web::AppState;
use crate::web::recording::trail;
use crate::web::request::blocking;
use crate::{Error, Result};

/// Events per page of the audit page.
const PAGE_EVENTS: u64 = 50;
/// The most events one export holds (a narrower time range exports the rest).
const EXPORT_MAX: usize = 100_000;

/// The filters of the page, as the admin API names them.
const FILTERS: [(&str, &str, &str); 8] = [
    ("from", "From", "2026-11-01 or RFC 3339"),
    ("to", "Before", "2026-12-01 or RFC 3339"),
    ("actor", "Actor", "recipient or token holder"),
    ("action", "Action", "queryTable, grant, …"),
    ("share", "Share", ""),
    ("table", "Table", ""),
    ("outcome", "Outcome", "ok, refused, a status, 0"),
    ("requestId", "Request id", ""),
];

/// Events of the ledger matching `filter`.
pub fn events(state: &AppState, filter: &Filter) -> Result<search::Page> {
    LedgerDb::of(&state.catalog)?.query(filter)
}

fn text(event: &Value, pointer: &str) -> String {
    match event.pointer(pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `schema.table` of an event, or what it has of it.
fn table_of(event: &Value) -> String {
    [text(event, "/schema"), text(event, "/table")]
        .join(".")
        .trim_matches('.')
        .to_string()
}

/// Events as a table, each leading to its detail.
pub fn events_table(page: &search::Page) -> Markup {
    let columns: Vec<String> = [
        "time",
        "actor",
        "action",
        "share",
        "table",
        "status",
        "request_id",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            vec![
                text(e, "/time"),
                format!("{} {}", text(e, "/actor/kind"), text(e, "/actor/name"))
                    .trim()
                    .to_string(),
                text(e, "/action"),
                text(e, "/share"),
                table_of(e),
                text(e, "/status"),
                text(e, "/requestId"),
            ]
        })
        .collect();
    page::table(
        &columns,
        &rows,
        |c, v| {
            (c == "request_id")
                .then(|| format!("{PREFIX}/audit/event?requestId={}", page::segment(v)))
        },
        None,
    )
}

/// The query string without `cursor` and `page` (what the filters alone say).
fn filters_only(view: &View) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &view.query.0 {
        if FILTERS.iter().any(|(name, _, _)| name == k) && !v.trim().is_empty() {
            out.append_pair(k, v.trim());
        }
    }
    out.finish()
}

/// The filter of the page's query (blank fields left out), as the admin API reads it.
fn filter_of(query: &str) -> Result<(Filter, &'static str)> {
    let kept: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(query.as_bytes()).filter(|(_, v)| !v.trim().is_empty()),
        )
        .finish();
    search::from_query_string(&kept)
}

pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = req.query_string().to_string();
    super::page(state, req, move |state, view| {
        let found = filter_of(&query).and_then(|(mut filter, _)| {
            filter.newest_first = true;
            filter.limit = Some(PAGE_EVENTS);
            events(state, &filter)
        });
        let filters = filters_only(view);
        let body = html! {
            form.action.filters id="filters" method="get" action={(PREFIX) "/audit"} {
                @for (name, label, hint) in FILTERS {
                    div.field {
                        label for={"f-" (name)} { (label) }
                        input id={"f-" (name)} name=(name) type="text" value=[view.query.get(name)] placeholder=(hint) autocomplete="off";
                    }
                }
                div.field { label { " " } (page::submit("Filter")) }
            }
            @match &found {
                Err(e) => p.error role="alert" { (super::said(e)) },
                Ok(found) => {
                    p {
                        "Export this view: "
                        a href={(PREFIX) "/audit/export?format=csv&" (filters)} download { "CSV" } " · "
                        a href={(PREFIX) "/audit/export?format=ndjson&" (filters)} download { "ndjson" }
                        " (oldest first, up to " (EXPORT_MAX) " events)"
                    }
                    (events_table(found))
                    @if let Some(cursor) = &found.next_cursor {
                        nav.pager aria-label="pages" {
                            a href={(PREFIX) "/audit?" (filters) "&cursor=" (cursor)} rel="next" { "Older events →" }
                        }
                    }
                }
            }
        };
        Ok(page::frame(view, "/audit", "Audit ledger", body))
    })
    .await
}

/// `GET /console/audit/export?format=csv|ndjson&…`: the filtered events as a file.
pub async fn export(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(session) = session::cookie(&req) else {
        return session::to_sign_in(&state, None);
    };
    let (query, trail) = (req.query_string().to_string(), trail(&req));
    let exported = {
        let state = state.clone();
        blocking(move || {
            session::check(&state, &session, &trail)?;
            let (mut filter, format) = filter_of(&query)?;
            filter.limit = Some(10_000);
            let mut out = String::new();
            if format == "csv" {
                out.push_str(&search::csv_header());
            }
            let mut count = 0;
            loop {
                let found = events(&state, &filter)?;
                for event in &found.events {
                    match format {
                        "csv" => out.push_str(&search::csv_line(event)),
                        _ => {
                            out.push_str(&event.to_string());
                            out.push('\n');
                        }
                    }
                }
                count += found.events.len();
                match found.next_cursor {
                    Some(cursor) if count < EXPORT_MAX => filter.cursor = Some(cursor),
                    _ => break,
                }
            }
            Ok((format, out))
        })
        .await
    };
    match exported {
        Ok((format, body)) => {
            let (kind, extension) = match format {
                "csv" => ("text/csv; charset=utf-8", "csv"),
                _ => ("application/x-ndjson", "ndjson"),
            };
            HttpResponse::Ok()
                .content_type(kind)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"fireshare-audit.{extension}\""),
                ))
                .body(body)
        }
        Err(e) => super::refused(&state, &e),
    }
}

/// `GET /console/audit/event?requestId=…`: one request's event in full.
pub async fn event(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    super::page(state, req, |state, view| {
        let id = view
            .query
            .get("requestId")
            .ok_or_else(|| Error::invalid("which event? give requestId"))?
            .to_string();
        let found = events(
            state,
            &Filter {
                request_id: Some(id.clone()),
                ..Filter::default()
            },
        )?;
        let event = found
            .events
            .first()
            .ok_or_else(|| Error::not_found(format!("no event has the request id {id}")))?;
        let key = VerifyingKey::of(&state.audit.key);
        let checked = event.get("receipt").and_then(|_| {
            serde_json::from_value(event.clone())
                .map_err(Error::from)
                .and_then(|recorded| receipt::checked(&recorded, &key))
                .transpose()
        });
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let body = html! {
            dl.facts {
                @for (label, pointer) in [("Sequence", "/seq"), ("Time", "/time"), ("Actor", "/actor/name"),
                    ("Actor kind", "/actor/kind"), ("Token", "/actor/tokenId"), ("Action", "/action"),
                    ("Method and path", "/path"), ("Status", "/status"), ("Error", "/errorCode"),
                    ("Share", "/share"), ("Table", "/table"), ("Versions", "/versions"), ("Files", "/files"),
                    ("Client", "/clientIp")] {
                    @let value = match pointer {
                        "/table" => table_of(event),
                        _ => text(event, pointer),
                    };
                    @if !value.is_empty() {
                        dt { (label) }
                        dd { @if pointer == "/path" { (text(event, "/method")) " " } (value) }
                    }
                }
            }
            @if let Some(statements) = event.get("statements").and_then(Value::as_array) {
                h2 { "Admin statements and their catalog changes" }
                @for statement in statements {
                    pre { code { (text(statement, "/statement")) } }
                    @if let Some(changes) = statement.get("changes") { pre.changes { (pretty(changes)) } }
                }
            }
            @if let Some(checked) = &checked {
                h2 { "Receipt" }
                @match checked {
                    Ok((token, receipt)) => {
                        p.notice.ok id="receipt-verified" { "The receipt is signed by this server's audit key: verified." }
                        pre { (serde_json::to_string_pretty(receipt).unwrap_or_default()) }
                        p { "As handed out (the " code { "Fireshare-Receipt" } " header):" }
                        pre.token id="receipt" { (token) }
                    }
                    Err(e) => p.notice.failed { (super::said(e)) },
                }
            }
            h2 { "The event as recorded" }
            pre { (pretty(event)) }
        };
        Ok(page::frame(view, "/audit", &format!("Event #{}", text(event, "/seq")), body))
    })
    .await
}
