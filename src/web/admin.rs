//! The admin REST API under `/admin/v1` (JSON; described in `openapi/admin.yaml`). Callers
//! hold an admin or auditor token (`fireshare admin token create`); recipient tokens are
//! refused with 403.

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Deserialize;

use super::AppState;
use super::identity::on_behalf_of;
use super::recording::record_changes;
use crate::admin::rest::{self, plain_name, table_name};
use crate::admin::sql::{ObjectKind, Statement};
use crate::admin::{Context, StatementResult, execute_script, execute_statements, results_json};
use crate::audit::{self, Trail};
use crate::auth::AdminCaller;
use crate::{Error, Result};

/// Body of `POST /admin/v1/sql`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlRequest {
    /// One or more statements separated by `;`, as `fireshare sql` takes them.
    statement: String,
}

/// Checks the admin or auditor and runs `work` for them on the blocking pool.
pub(super) async fn as_admin<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    work: impl FnOnce(&AppState, &AdminCaller) -> Result<T> + Send + 'static,
) -> Result<T> {
    on_behalf_of(state, req, work).await
}

/// Runs `work` with the executor's context for `caller`; the changes it makes commit with
/// `trail`'s event.
pub(super) fn as_caller<T>(
    state: &AppState,
    caller: &AdminCaller,
    trail: Option<&Trail>,
    work: impl FnOnce(&Context<'_>) -> Result<T>,
) -> Result<T> {
    // Relative table locations resolve against the server's working directory, as they
    // would for `fireshare sql` run there.
    let base_dir = std::env::current_dir()?;
    let context = Context {
        trail,
        who: Some(&caller.name),
        admin: Some(&caller.name),
        ..state.admin_context(caller.role, &base_dir)
    };
    work(&context)
}

/// Runs statements built by the server (REST calls, console forms) for the caller, each
/// recorded as it writes itself back as SQL.
pub(super) fn run_statements(
    state: &AppState,
    caller: &AdminCaller,
    trail: Option<&Trail>,
    statements: Vec<Statement>,
) -> Result<Vec<StatementResult>> {
    let statements = statements
        .into_iter()
        .map(|s| {
            let text = s.to_string();
            (s, text)
        })
        .collect();
    as_caller(state, caller, trail, |context| {
        execute_statements(&state.catalog, statements, context)
    })
}

/// `POST /admin/v1/sql`: the statements of `fireshare sql`, one result per statement.
pub(super) async fn run_sql(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse> {
    let trail = record_changes(&req, &state, 200);
    let results = as_admin(&state, &req, move |state, caller| {
        let request: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
            Error::malformed(format!(
                "the body must be {{\"statement\": \"…\"}}: {e}"
            ))
        })?;
        let results = as_caller(state, caller, Some(&trail), |context| {
            execute_script(&state.catalog, &request.statement, context)
        })?;
        tracing::debug!(admin = %caller.name, role = caller.role.as_str(), statements = results.len(), "admin sql");
        Ok(results)
    })
    .await?;
    Ok(HttpResponse::Ok().json(results_json(&results)))
}

/// `GET /admin/v1/audit`: the ledger's events, filtered, a page at a time (admins and
/// auditors).
pub(super) async fn audit_events(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let query = req.query_string().to_string();
    let (page, format) = as_admin(&state, &req, move |state, _| {
        let (filter, format) = audit::search::from_query_string(&query)?;
        let ledger = audit::LedgerDb::of(&state.catalog)?;
        Ok((ledger.query(&filter)?, format))
    })
    .await?;
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &page.next_cursor {
        response.insert_header(("Fireshare-Next-Cursor", cursor.as_str()));
    }
    Ok(match format {
        "ndjson" => response.content_type("application/x-ndjson").body(
            page.events
                .iter()
                .map(|e| format!("{e}\n"))
                .collect::<String>(),
        ),
        "csv" => response.content_type("text/csv; charset=utf-8").body(
            std::iter::once(audit::search::csv_header())
                .chain(page.events.iter().map(audit::search::csv_line))
                .collect::<String>(),
        ),
        _ => response.json(serde_json::json!({
            "events": page.events,
            "nextCursor": page.next_cursor,
        })),
    })
}

/// `GET /admin/v1/audit/receipts/{requestId}`: the receipt a response was handed out with, put
/// back together from its event and checked with the server's audit key (admins and auditors).
pub(super) async fn audit_receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    request_id: web::Path<String>,
) -> Result<HttpResponse> {
    let request_id = request_id.into_inner();
    let receipt = as_admin(&state, &req, move |state, _| {
        let key = crate::signing_key::VerifyingKey::of(&state.audit.key);
        audit::LedgerDb::of(&state.catalog)?.receipt(&request_id, &key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "receipt": receipt })))
}

// ---- REST resources: one statement each (see `rest`) ---------------------------------------

/// How a REST call answers the result of its statement.
enum Answer {
    /// `{"items": [...]}`: every row as an object.
    Items,
    /// 201 with the first row as an object.
    Created,
    /// 200 with the first row as an object.
    Done,
}

/// Runs `statement` (or its error) for the caller and shapes the answer.
async fn rest(
    state: web::Data<AppState>,
    req: HttpRequest,
    statement: Result<Statement>,
    answer: Answer,
) -> Result<HttpResponse> {
    let status = match answer {
        Answer::Created => 201,
        Answer::Items | Answer::Done => 200,
    };
    let trail = record_changes(&req, &state, status);
    let results = as_admin(&state, &req, move |state, caller| {
        let statement = statement?;
        tracing::debug!(admin = %caller.name, statement = %statement, "admin rest");
        run_statements(state, caller, Some(&trail), vec![statement])
    })
    .await?;
    let objects = results
        .first()
        .map(StatementResult::objects)
        .unwrap_or_default();
    let first = || {
        objects
            .first()
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}))
    };
    Ok(match answer {
        Answer::Items => HttpResponse::Ok().json(serde_json::json!({ "items": objects })),
        Answer::Created => HttpResponse::Created().json(first()),
        Answer::Done => HttpResponse::Ok().json(first()),
    })
}

/// A JSON body of type `T`, or a 400 naming what is wrong with it.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("the request body is not valid: {e}")))
}

type State = web::Data<AppState>;
type Name = web::Path<String>;
type Names = web::Path<(String, String)>;

pub(super) async fn list_shares(s: State, r: HttpRequest) -> Result<HttpResponse> {
    rest(s, r, Ok(Statement::ShowShares), Answer::Items).await
}
pub(super) async fn create_share(s: State, r: HttpRequest, b: Bytes) -> Result<HttpResponse> {
    let statement = body::<rest::NewShare>(&b).and_then(rest::NewShare::statement);
    rest(s, r, statement, Answer::Created).await
}
pub(super) async fn show_share(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|share| Statement::ShowAllInShare { share });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn drop_share(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    rest(s, r, rest::drop(ObjectKind::Share, &p), Answer::Done).await
}
pub(super) async fn add_table(s: State, r: HttpRequest, p: Name, b: Bytes) -> Result<HttpResponse> {
    let statement = body::<rest::ShareMember>(&b).and_then(|m| m.statement(&p));
    rest(s, r, statement, Answer::Created).await
}
pub(super) async fn remove_table(s: State, r: HttpRequest, p: Names) -> Result<HttpResponse> {
    let (share, table) = p.into_inner();
    let statement = (|| {
        Ok(Statement::RemoveTableFromShare {
            share: plain_name(&share)?,
            table: table_name(&table)?,
        })
    })();
    rest(s, r, statement, Answer::Done).await
}
pub(super) async fn share_grants(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|share| Statement::ShowGrantsOnShare { share });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn list_tables(s: State, r: HttpRequest) -> Result<HttpResponse> {
    rest(s, r, Ok(Statement::ShowTables), Answer::Items).await
}
pub(super) async fn create_table(s: State, r: HttpRequest, b: Bytes) -> Result<HttpResponse> {
    let statement = body::<rest::NewTable>(&b).and_then(rest::NewTable::statement);
    rest(s, r, statement, Answer::Created).await
}
pub(super) async fn drop_table(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = table_name(&p).map(|name| Statement::DropTable {
        name,
        if_exists: false,
    });
    rest(s, r, statement, Answer::Done).await
}
pub(super) async fn quality_history(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = table_name(&p).map(|table| Statement::DescribeHistory { table });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn quality_report(
    s: State,
    r: HttpRequest,
    p: web::Path<(String, u64)>,
) -> Result<HttpResponse> {
    let (table, version) = p.into_inner();
    let statement = table_name(&table).map(|table| Statement::ShowQuality {
        table,
        version: Some(version),
    });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn list_recipients(s: State, r: HttpRequest) -> Result<HttpResponse> {
    rest(s, r, Ok(Statement::ShowRecipients), Answer::Items).await
}
pub(super) async fn create_recipient(s: State, r: HttpRequest, b: Bytes) -> Result<HttpResponse> {
    let statement = body::<rest::NewRecipient>(&b).and_then(rest::NewRecipient::statement);
    rest(s, r, statement, Answer::Created).await
}
pub(super) async fn describe_recipient(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|recipient| Statement::DescribeRecipient { recipient });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn drop_recipient(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    rest(s, r, rest::drop(ObjectKind::Recipient, &p), Answer::Done).await
}
pub(super) async fn recipient_grants(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|recipient| Statement::ShowGrantsToRecipient { recipient });
    rest(s, r, statement, Answer::Items).await
}
pub(super) async fn set_ip_access_list(
    s: State,
    r: HttpRequest,
    p: Name,
    b: Bytes,
) -> Result<HttpResponse> {
    let statement = body::<rest::IpAccessList>(&b).and_then(|l| l.statement(&p));
    rest(s, r, statement, Answer::Done).await
}
pub(super) async fn unset_ip_access_list(
    s: State,
    r: HttpRequest,
    p: Name,
) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|recipient| Statement::SetIpAccessList {
        recipient,
        list: None,
    });
    rest(s, r, statement, Answer::Done).await
}
pub(super) async fn rotate_token(
    s: State,
    r: HttpRequest,
    p: Name,
    b: Bytes,
) -> Result<HttpResponse> {
    // An empty body rotates without a grace period.
    let rotation = if b.iter().all(u8::is_ascii_whitespace) {
        Ok(rest::Rotation::default())
    } else {
        body::<rest::Rotation>(&b)
    };
    rest(s, r, rotation.and_then(|g| g.statement(&p)), Answer::Done).await
}
pub(super) async fn revoke_tokens(s: State, r: HttpRequest, p: Name) -> Result<HttpResponse> {
    let statement = plain_name(&p).map(|recipient| Statement::RevokeTokens { recipient });
    rest(s, r, statement, Answer::Done).await
}
pub(super) async fn grant(s: State, r: HttpRequest, b: Bytes) -> Result<HttpResponse> {
    let statement = body::<rest::NewGrant>(&b).and_then(rest::NewGrant::statement);
    rest(s, r, statement, Answer::Created).await
}
pub(super) async fn revoke(s: State, r: HttpRequest, p: Names) -> Result<HttpResponse> {
    let (share, recipient) = p.into_inner();
    let statement = (|| {
        Ok(Statement::Revoke {
            share: plain_name(&share)?,
            recipient: plain_name(&recipient)?,
        })
    })();
    rest(s, r, statement, Answer::Done).await
}

pub(super) async fn unknown_endpoint(req: HttpRequest) -> Result<HttpResponse> {
    Err(Error::not_found(format!(
        "no admin endpoint {} {}",
        req.method(),
        req.path()
    )))
}
