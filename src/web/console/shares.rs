//! Shares: the list, one share's tables and grants, and the forms that change them (the
//! statements of the REST API, built from the same request types).

use maud::{Markup, html};

use super::page::{self, Fields, View, field, select, submit};
use super::{PREFIX, Section, show};
use crate::admin::rest::{self, plain_name};
use crate::admin::sql::{ObjectKind, Statement};
use crate::web::AppState;
use crate::{Error, Result};

/// Share names lead to their page, recipients to theirs, tables to theirs.
fn link(column: &str, value: &str) -> Option<String> {
    let section = match column {
        "name" if value.contains('.') => "tables",
        "name" => "shares",
        "recipient" => "recipients",
        _ => return None,
    };
    Some(format!("{PREFIX}/{section}/{}", page::segment(value)))
}

/// The shares section: its pages and the statements its forms build.
pub static SECTION: Section = Section {
    path: "/shares",
    param: "share",
    list: render_list,
    detail: render_share,
    create: ("create-share", create),
    act,
    forms: &["add-table", "grant", "url-lifetime", "drop"],
};

fn create(f: &Fields) -> Result<Statement> {
    rest::NewShare {
        name: f.required("name", "the share's name")?.to_string(),
        comment: f.get("comment").map(str::to_string),
    }
    .statement()
}

fn render_list(state: &AppState, view: &View) -> Result<Markup> {
    let shares = show(state, &view.caller, Statement::ShowShares)?;
    let (rows, pager) = page::paged(&shares.rows, view.query.page(), &format!("{PREFIX}/shares"));
    let body = html! {
        (page::table(&shares.columns, rows, link, None))
        (pager)
        (view.form("create-share", &format!("{PREFIX}/shares"), "Create a share", html! {
            (field("name", "Name", "text", true, Some("Letters, digits and _")))
            (field("comment", "Comment", "text", false, None))
            (submit("Create share"))
        }))
    };
    Ok(page::frame(view, "/shares", "Shares", body))
}

/// Action `op` on share `share`: `add-table`, `remove-table`, `grant`, `revoke`,
/// `url-lifetime`, `drop`.
fn act(share: &str, op: &str, f: &Fields) -> Result<Statement> {
    let share = plain_name(share)?;
    Ok(match op {
        "add-table" => {
            let start_version = f
                .get("start_version")
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| Error::invalid("the start version must be a number"))
                })
                .transpose()?;
            rest::ShareMember {
                table: f.required("table", "the table")?.to_string(),
                alias: f.get("alias").map(str::to_string),
                history: f.checked("history"),
                start_version,
                comment: f.get("comment").map(str::to_string),
            }
            .statement(&share)?
        }
        "remove-table" => Statement::RemoveTableFromShare {
            share,
            table: rest::table_name(f.required("table", "the table")?)?,
        },
        "grant" => rest::NewGrant {
            share,
            recipient: f.required("recipient", "the recipient")?.to_string(),
        }
        .statement()?,
        "revoke" => Statement::Revoke {
            share,
            recipient: plain_name(f.required("recipient", "the recipient")?)?,
        },
        "url-lifetime" => Statement::SetShareUrlLifetime {
            share,
            lifetime: f.get("lifetime").map(rest::duration).transpose()?,
        },
        "drop" => rest::drop(ObjectKind::Share, &share)?,
        other => return Err(Error::not_found(format!("no share action '{other}'"))),
    })
}

fn render_share(state: &AppState, view: &View, share: &str) -> Result<Markup> {
    let caller = &view.caller;
    let members = show(
        state,
        caller,
        Statement::ShowAllInShare {
            share: share.to_string(),
        },
    )?;
    let grants = show(
        state,
        caller,
        Statement::ShowGrantsOnShare {
            share: share.to_string(),
        },
    )?;
    let found = state
        .catalog
        .read(|tx| tx.find_share(share))?
        .ok_or_else(|| Error::not_found(format!("share {share} does not exist")))?;
    let base = format!("{PREFIX}/shares/{}", page::segment(share));
    let options = |result: crate::admin::StatementResult, column: &str| -> Vec<(String, String)> {
        result
            .rows
            .iter()
            .map(|r| {
                let name = match column {
                    "table" => format!(
                        "{}.{}",
                        page::cell(&result, r, "schema"),
                        page::cell(&result, r, "name")
                    ),
                    _ => page::cell(&result, r, column).to_string(),
                };
                (name.clone(), name)
            })
            .collect()
    };
    let (tables, recipients) = if view.can_write() {
        (
            options(show(state, caller, Statement::ShowTables)?, "table"),
            options(show(state, caller, Statement::ShowRecipients)?, "name"),
        )
    } else {
        Default::default()
    };
    let remove = |row: &[String]| {
        let table = page::cell(&members, row, "name");
        view.button(
            &format!("{base}/remove-table"),
            &[("table", table)],
            "Remove",
            "Remove this table from the share? Recipients lose it at once.",
        )
    };
    let revoke = |row: &[String]| {
        let recipient = page::cell(&grants, row, "recipient");
        view.button(
            &format!("{base}/revoke"),
            &[("recipient", recipient)],
            "Revoke",
            "Revoke this grant? The recipient's next request is refused.",
        )
    };
    let writes = view.can_write();
    let body = html! {
        dl.facts {
            dt { "Comment" } dd { (found.comment.clone().unwrap_or_default()) }
            dt { "File URL lifetime" } dd { (found.url_ttl_ms.map_or_else(
                || "the server's (--url-ttl)".to_string(), crate::clock::format_duration_ms)) }
            dt { "Created" } dd { (crate::clock::format_ms(found.created_at)) }
        }
        h2 { "Tables" }
        (page::table(&members.columns, &members.rows, link, writes.then_some(&remove as page::RowActions)))
        (view.form("add-table", &format!("{base}/add-table"), "Add a table", html! {
            (select("table", "Table", &tables))
            (field("alias", "Shared as (schema.name)", "text", false, Some("Default: the table's own name")))
            (page::checkbox("history", "With history (version, timestamp and change queries)"))
            (field("start_version", "Start version", "number", false, Some("With history: the oldest version recipients may read")))
            (field("comment", "Comment", "text", false, None))
            (submit("Add table"))
        }))
        h2 { "Grants" }
        (page::table(&grants.columns, &grants.rows, link, writes.then_some(&revoke as page::RowActions)))
        (view.form("grant", &format!("{base}/grant"), "Grant SELECT to a recipient", html! {
            (select("recipient", "Recipient", &recipients))
            (submit("Grant"))
        }))
        h2 { "Settings" }
        (view.form("url-lifetime", &format!("{base}/url-lifetime"), "File URL lifetime", html! {
            (field("lifetime", "Lifetime", "text", false, Some("e.g. 15m; empty: the server's --url-ttl")))
            (submit("Set lifetime"))
        }))
        (view.form("drop", &format!("{base}/drop"), "Drop the share", html! {
            button type="submit" data-confirm="Drop this share? Every recipient loses it at once." { "Drop share" }
        }))
    };
    Ok(page::frame(
        view,
        "/shares",
        &format!("Share {share}"),
        body,
    ))
}
