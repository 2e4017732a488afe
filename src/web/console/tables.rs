//! Tables: the list and the registration form; one table's location, credential and FIRE
//! binding, its history as a pass-rate chart, a version's quality report with the decision
//! on it, and who can read it now or at a past time.

use maud::{Markup, html};

use super::chart;
use super::page::{self, Fields, View, field, submit};
use super::{PREFIX, Section, show};
use crate::admin::rest::{self, table_name};
use crate::admin::sql::{Statement, TableName};
use crate::catalog::{FIRE_ENTITY, FIRE_MIN_PASS_RATE};
use crate::web::AppState;
use crate::{Error, Result};

fn link(column: &str, value: &str) -> Option<String> {
    match column {
        "recipient" => Some(format!("{PREFIX}/recipients/{}", page::segment(value))),
        "share" => Some(format!("{PREFIX}/shares/{}", page::segment(value))),
        _ => None,
    }
}

/// The tables section: its pages and the statements its forms build.
pub static SECTION: Section = Section {
    path: "/tables",
    param: "table",
    list: render_list,
    detail: render_table,
    create: ("create-table", create),
    act,
    forms: &["bind", "unbind", "decide", "drop"],
};

fn create(f: &Fields) -> Result<Statement> {
    rest::NewTable {
        name: f.required("name", "the table's name")?.to_string(),
        location: f.required("location", "the location")?.to_string(),
        credential: f.get("credential").map(str::to_string),
        from_environment: f.checked("from_environment"),
        comment: f.get("comment").map(str::to_string),
    }
    .statement()
}

fn render_list(state: &AppState, view: &View) -> Result<Markup> {
    let tables = show(state, &view.caller, Statement::ShowTables)?;
    let mut rows = tables.rows.clone();
    // One name column, `schema.name`, leading to the table's page.
    for row in &mut rows {
        let name = format!("{}.{}", row[0], row[1]);
        row.splice(0..2, [name]);
    }
    let columns: Vec<String> = std::iter::once("table".to_string())
        .chain(tables.columns[2..].iter().cloned())
        .collect();
    let (shown, pager) = page::paged(&rows, view.query.page(), &format!("{PREFIX}/tables"));
    let body = html! {
        (page::table(&columns, shown, |c, v| (c == "table").then(|| format!("{PREFIX}/tables/{}", page::segment(v))), None))
        (pager)
        (view.form("create-table", &format!("{PREFIX}/tables"), "Register a table", html! {
            (field("name", "Name (schema.table)", "text", true, None))
            (field("location", "Location", "text", true, Some("A path, file://, s3://, gs:// or abfss:// URL of the Delta table")))
            (field("credential", "Storage credential", "text", false, Some("For a cloud table: a storage credential's name")))
            (page::checkbox("from_environment", "Read a cloud table with the server's environment credentials"))
            (field("comment", "Comment", "text", false, None))
            (submit("Register table"))
        }))
    };
    Ok(page::frame(view, "/tables", "Tables", body))
}

/// Action `op` on table `table`: `bind`, `unbind`, `decide`, `drop`.
fn act(table: &str, op: &str, f: &Fields) -> Result<Statement> {
    let table = table_name(table)?;
    Ok(match op {
        "bind" => {
            let mut properties = vec![(
                FIRE_ENTITY.to_string(),
                f.required("entity", "the FIRE entity")?.to_string(),
            )];
            if let Some(rate) = f.get("min_pass_rate") {
                properties.push((FIRE_MIN_PASS_RATE.to_string(), rate.to_string()));
            }
            Statement::SetTableProperties { table, properties }
        }
        "unbind" => Statement::UnsetTableProperties {
            table,
            keys: vec![FIRE_ENTITY.to_string(), FIRE_MIN_PASS_RATE.to_string()],
        },
        "decide" => Statement::DecideVersion {
            table,
            version: f
                .required("version", "the version")?
                .parse()
                .map_err(|_| Error::invalid("the version must be a number"))?,
            approved: match f.required("decision", "the decision")? {
                "approve" => true,
                "reject" => false,
                other => {
                    return Err(Error::invalid(format!(
                        "decision '{other}' is neither approve nor reject"
                    )));
                }
            },
            comment: f.get("comment").map(str::to_string),
        },
        "drop" => Statement::DropTable {
            name: table,
            if_exists: false,
        },
        other => return Err(Error::not_found(format!("no table action '{other}'"))),
    })
}

fn render_table(state: &AppState, view: &View, name: &str) -> Result<Markup> {
    let caller = &view.caller;
    let table: TableName = table_name(name)?;
    let (found, properties) = state.catalog.read(|tx| {
        let found = tx.require_table(&table.schema, &table.table)?;
        let properties = tx.table_properties(&found.id)?;
        let credential = match &found.credential {
            Some(id) => tx
                .credentials()?
                .into_iter()
                .find(|c| c.id == *id)
                .map(|c| c.name),
            None => None,
        };
        Ok(((found, credential), properties))
    })?;
    let ((found, credential), entity) = (found, properties.get(FIRE_ENTITY).cloned());
    let threshold = crate::fire::quality::Binding::of(&properties)?.map(|b| b.min_pass_rate);
    let history = show(
        state,
        caller,
        Statement::DescribeHistory {
            table: table.clone(),
        },
    )?;
    let versions: Vec<chart::Version> = history
        .rows
        .iter()
        .map(|r| chart::Version {
            version: page::cell(&history, r, "version").parse().unwrap_or(0),
            pass_rate: page::cell(&history, r, "pass_rate").parse().ok(),
            served: page::cell(&history, r, "served") != "no",
            latest_served: page::cell(&history, r, "served") == "latest",
        })
        .collect();
    // The report shown: the version asked for, else the newest validated one.
    let chosen = view
        .query
        .get("version")
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| {
            versions
                .iter()
                .rev()
                .find(|v| v.pass_rate.is_some())
                .map(|v| v.version)
        });
    let quality = match (&entity, chosen) {
        (Some(_), Some(version)) => Some(show(
            state,
            caller,
            Statement::ShowQuality {
                table: table.clone(),
                version: Some(version),
            },
        )?),
        _ => None,
    };
    let as_of = view.query.get("as_of").map(str::to_string);
    let access = show(
        state,
        caller,
        Statement::ShowAccess {
            table: table.clone(),
            as_of: as_of.clone(),
        },
    );
    let base = format!("{PREFIX}/tables/{}", page::segment(name));
    let version_links =
        |c: &str, v: &str| (c == "version").then(|| format!("{base}?version={v}#quality"));
    let body = html! {
        dl.facts {
            dt { "Location" } dd { (found.location) }
            dt { "Credential" } dd { (credential.unwrap_or_else(|| "none (local, or the environment's)".into())) }
            dt { "Comment" } dd { (found.comment.clone().unwrap_or_default()) }
            dt { "FIRE entity" } dd { (entity.clone().unwrap_or_else(|| "not bound: every version is served".into())) }
            @if let Some(t) = threshold { dt { "Minimum pass rate" } dd { (format!("{:.1}%", t * 100.0)) } }
        }
        div.forms {
            (view.form("bind", &format!("{base}/bind"), if entity.is_some() { "Change the FIRE binding" } else { "Bind to a FIRE entity" }, html! {
                (field("entity", "FIRE entity", "text", true, Some("e.g. collateral, loan (SHOW FIRE SCHEMAS)")))
                (field("min_pass_rate", "Minimum pass rate", "text", false, Some("e.g. 0.95 or 95%")))
                (submit("Bind"))
                p { small { "Versions are validated in the background; recipients read only those that pass." } }
            }))
            @if entity.is_some() {
                (view.form("unbind", &format!("{base}/unbind"), "Unbind", html! {
                    button type="submit" data-confirm="Unbind? Every version is then served, validated or not." { "Unbind from FIRE" }
                }))
            }
        }
        h2 { "History" }
        @if entity.is_some() { (chart::pass_rates(&versions, threshold)) }
        (page::result_table(&history, version_links))
        @if let (Some(quality), Some(version)) = (&quality, chosen) {
            h2 id="quality" { "Quality of version " (version) }
            (page::result_table(quality, |_, _| None))
            (view.form("decide", &format!("{base}/decide"), "Decide on this version", html! {
                input type="hidden" name="version" value=(version);
                div.field {
                    label for="f-decision" { "Decision" }
                    select id="f-decision" name="decision" {
                        option value="approve" { "Approve: serve it whatever its pass rate" }
                        option value="reject" { "Reject: never serve it" }
                    }
                }
                (field("comment", "Comment", "text", false, Some("Why, for the ledger")))
                (submit("Record decision"))
            }))
        }
        h2 { "Who can read it" }
        form.action id="as-of" method="get" action=(base) {
            div.field {
                label for="f-as_of" { "As of" }
                input id="f-as_of" name="as_of" type="text" value=[as_of.as_deref()] placeholder="2026-11-30T12:00:00Z; empty: now" autocomplete="off";
            }
            (submit("Show"))
        }
        @match &access {
            Ok(access) => (page::result_table(access, link)),
            Err(e) => p.error role="alert" { (super::said(e)) },
        }
        (view.form("drop", &format!("{base}/drop"), "Drop the table", html! {
            button type="submit" data-confirm="Drop this table from the catalog? Shares lose it at once (its files stay)." { "Drop table" }
        }))
    };
    Ok(page::frame(view, "/tables", &format!("Table {name}"), body))
}
