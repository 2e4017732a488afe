//! The overview: what the catalog holds, requests and refusals over the last day and month,
//! the ledger's state (and a check of it on demand), FIRE tables held back, tokens about to
//! expire.

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use maud::{Markup, html};

use super::page::{self, Fields, View};
use super::{Outcome, PREFIX, chart, respond, show};
use crate::Result;
use crate::admin::sql::{Statement, TableName};
use crate::audit::LedgerDb;
use crate::clock::{format_ms, now_ms};
use crate::signing_key::VerifyingKey;
use crate::web::AppState;

/// Tokens expiring sooner than this are listed.
const EXPIRING_WITHIN_MS: i64 = 14 * 86_400_000;

pub async fn page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    super::page(state, req, render).await
}

/// `POST /console/ledger/verify`: checks the whole chain and its seals now (auditors too).
pub async fn verify(state: web::Data<AppState>, req: HttpRequest, body: Bytes) -> HttpResponse {
    let work = |state: &AppState, _: &View| {
        let ledger = ledger(state).map_err(|e| ("verify", e))?;
        let key = VerifyingKey::of(&state.audit.key);
        Ok(
            match ledger.verify_ledger(&key).map_err(|e| ("verify", e))? {
                Ok(v) => Outcome::Said {
                    ok: true,
                    text: format!(
                        "verified: {} events (up to #{}), {} seals, {} events after the last seal",
                        v.events, v.last_seq, v.seals, v.unsealed
                    ),
                },
                Err(problem) => Outcome::Said {
                    ok: false,
                    text: format!("NOT verified: {problem}"),
                },
            },
        )
    };
    let csrf = Fields::parse(&body)
        .get("csrf")
        .unwrap_or_default()
        .to_string();
    respond(state, req, Some(csrf), work, Some(Box::new(render))).await
}

fn ledger(state: &AppState) -> Result<LedgerDb> {
    LedgerDb::of(&state.catalog)
}

fn render(state: &AppState, view: &View) -> Result<Markup> {
    let caller = &view.caller;
    let shares = show(state, caller, Statement::ShowShares)?;
    let tables = show(state, caller, Statement::ShowTables)?;
    let recipients = show(state, caller, Statement::ShowRecipients)?;
    let now = now_ms();
    let live = state.catalog.read(|tx| tx.live_tokens(now))?;
    let expiring: Vec<_> = live
        .iter()
        .filter(|t| t.expires_at.is_some_and(|at| at < now + EXPIRING_WITHIN_MS))
        .collect();
    let ledger = ledger(state)?;
    let (hours, days) = state.activity.recent(&ledger, now * 1000)?;
    let chain = ledger.chain_state()?;
    let held = held_back(state, view, &tables)?;
    let card = |number: usize, label: &str, href: &str| {
        html! { a.card href={(PREFIX) (href)} { span.number { (number) } span.label { (label) } } }
    };
    let body = html! {
        div.cards {
            (card(shares.rows.len(), "shares", "/shares"))
            (card(tables.rows.len(), "tables", "/tables"))
            (card(recipients.rows.len(), "recipients", "/recipients"))
            (card(live.len(), "live recipient tokens", "/recipients"))
        }
        h2 { "Requests" }
        div.forms {
            (chart::activity("Last 24 hours", "last-day", &hours, |c| format!("{}h", &c.bucket[11..13])))
            (chart::activity("Last 30 days", "last-month", &days, |c| c.bucket[5..].to_string()))
        }
        h2 { "Audit ledger" }
        dl.facts {
            dt { "Events" } dd { (chain.events) " kept, the last #" (chain.head_seq) }
            dt { "Last seal" } dd { "covers #" (chain.sealed_seq) ", signed " (chain.sealed_at) }
        }
        (view.form_for_all("verify", &format!("{PREFIX}/ledger/verify"), "", page::submit("Verify now")))
        h2 { "FIRE tables held back" }
        @if held.is_empty() {
            p.empty { "None: every FIRE-bound table serves its latest version." }
        } @else {
            (page::table(&["table".into(), "latest".into(), "status".into(), "recipients read".into()], &held,
                |c, v| (c == "table").then(|| format!("{PREFIX}/tables/{}", page::segment(v))), None))
        }
        h2 { "Tokens expiring within 14 days" }
        @let rows: Vec<Vec<String>> = expiring.iter().map(|t| vec![
            t.recipient.clone(), t.prefix.clone(), t.expires_at.map(format_ms).unwrap_or_default()]).collect();
        (page::table(&["recipient".into(), "token".into(), "expires".into()], &rows,
            |c, v| (c == "recipient").then(|| format!("{PREFIX}/recipients/{}", page::segment(v))), None))
    };
    Ok(page::frame(view, "", "Overview", body))
}

/// FIRE-bound tables whose latest version recipients do not read: the table, its latest
/// version and status, and the version they read instead.
fn held_back(
    state: &AppState,
    view: &View,
    tables: &crate::admin::StatementResult,
) -> Result<Vec<Vec<String>>> {
    let mut held = Vec::new();
    for row in &tables.rows {
        let name = TableName {
            schema: page::cell(tables, row, "schema").to_string(),
            table: page::cell(tables, row, "name").to_string(),
        };
        let bound = state.catalog.read(|tx| {
            let found = tx.require_table(&name.schema, &name.table)?;
            Ok(tx
                .table_properties(&found.id)?
                .contains_key(crate::catalog::FIRE_ENTITY))
        })?;
        if !bound {
            continue;
        }
        let history = show(
            state,
            &view.caller,
            Statement::DescribeHistory {
                table: name.clone(),
            },
        )?;
        let Some(latest) = history.rows.last() else {
            continue;
        };
        if page::cell(&history, latest, "served") != "latest" {
            let read = history
                .rows
                .iter()
                .find(|r| page::cell(&history, r, "served") == "latest")
                .map_or("nothing yet".to_string(), |r| format!("version {}", r[0]));
            held.push(vec![
                name.to_string(),
                page::cell(&history, latest, "version").to_string(),
                page::cell(&history, latest, "status").to_string(),
                read,
            ]);
        }
    }
    Ok(held)
}
