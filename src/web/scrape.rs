//! `GET /metrics`: every series in Prometheus's text format (see `crate::metrics`). On the main
//! listener for admin and auditor tokens (recorded like any request); on `--metrics-listen`
//! without credentials, for a scraper on a private network.

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::identity::on_behalf_of;
use super::request::blocking;
use crate::Result;
use crate::catalog::Catalog;
use crate::metrics::LastValidated;

/// Prometheus's text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn authorized(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let text = on_behalf_of(&state, &req, |state, _: &crate::auth::AdminCaller| {
        render(&state.catalog)
    })
    .await?;
    Ok(answer(text))
}

/// The metrics listener's one route: no credentials.
pub async fn open(state: web::Data<AppState>) -> Result<HttpResponse> {
    let text = blocking(move || render(&state.catalog)).await?;
    Ok(answer(text))
}

fn answer(text: String) -> HttpResponse {
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(text)
}

/// Every series, with the last validated version of each FIRE-bound table from the catalog.
fn render(catalog: &Catalog) -> Result<String> {
    let fire = catalog.read(|c| {
        let mut last = Vec::new();
        for id in c.bound_tables()? {
            let (Some(table), Some((&version, &pass_rate))) =
                (c.table_by_id(&id)?, c.pass_rates(&id)?.last_key_value())
            else {
                continue;
            };
            last.push(LastValidated {
                table: format!("{}.{}", table.schema, table.name),
                version,
                pass_rate,
            });
        }
        Ok(last)
    })?;
    Ok(crate::metrics::render(&fire))
}
