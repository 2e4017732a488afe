//! Recipients: the list and the creation form (whose activation link is shown once), one
//! recipient's tokens, IP access list, what it can read and what it did lately.

use maud::{Markup, html};

use super::page::{self, Fields, View, field, select, submit};
use super::{PREFIX, Section, audit, show};
use crate::admin::rest::{self, plain_name};
use crate::admin::sql::{ObjectKind, Statement};
use crate::audit::search::Filter;
use crate::web::AppState;
use crate::{Error, Result};

/// Events shown as a recipient's recent activity, found among the ledger's latest
/// [`LOOKED_AT`] (the ledger has no index by actor: this bounds what a page reads).
const RECENT: u64 = 20;
const LOOKED_AT: u64 = 10_000;

fn link(column: &str, value: &str) -> Option<String> {
    (column == "name").then(|| format!("{PREFIX}/recipients/{}", page::segment(value)))
}

/// Comma- or space-separated entries of a field.
fn entries(text: Option<&str>) -> Option<Vec<String>> {
    let list: Vec<String> = text?
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    (!list.is_empty()).then_some(list)
}

/// The recipients section: its pages and the statements its forms build.
pub static SECTION: Section = Section {
    path: "/recipients",
    param: "recipient",
    list: render_list,
    detail: render_recipient,
    create: ("create-recipient", create),
    act,
    forms: &["rotate", "revoke-tokens", "ip-access-list", "drop"],
};

fn create(f: &Fields) -> Result<Statement> {
    let properties = entries(f.get("properties"))
        .unwrap_or_default()
        .into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(Error::invalid(format!(
                "property '{pair}' is not key=value"
            ))),
        })
        .collect::<Result<_>>()?;
    rest::NewRecipient {
        name: f.required("name", "the recipient's name")?.to_string(),
        comment: f.get("comment").map(str::to_string),
        token_lifetime: f.get("token_lifetime").map(str::to_string),
        ip_access_list: entries(f.get("ip_access_list")),
        oauth: f.get("credentials") == Some("oauth"),
        properties: Some(properties),
    }
    .statement()
}

fn render_list(state: &AppState, view: &View) -> Result<Markup> {
    let recipients = show(state, &view.caller, Statement::ShowRecipients)?;
    let (rows, pager) = page::paged(
        &recipients.rows,
        view.query.page(),
        &format!("{PREFIX}/recipients"),
    );
    let credentials = [
        (
            "bearer".to_string(),
            "Bearer token (a profile file)".to_string(),
        ),
        ("oauth".to_string(), "OAuth client credentials".to_string()),
    ];
    let body = html! {
        (page::table(&recipients.columns, rows, link, None))
        (pager)
        (view.form("create-recipient", &format!("{PREFIX}/recipients"), "Create a recipient", html! {
            div.forms {
                div {
                    (field("name", "Name", "text", true, Some("Letters, digits and _")))
                    (field("comment", "Comment", "text", false, None))
                    (select("credentials", "Credentials", &credentials))
                }
                div {
                    (field("token_lifetime", "Token lifetime", "text", false, Some("e.g. 90d; empty: tokens do not expire")))
                    (field("ip_access_list", "IP access list", "text", false, Some("Addresses or CIDRs, comma-separated; empty: any address")))
                    (field("properties", "Properties", "text", false, Some("key=value, comma-separated (read by partition filters)")))
                }
            }
            (submit("Create recipient"))
        }))
    };
    Ok(page::frame(view, "/recipients", "Recipients", body))
}

/// Action `op` on recipient `recipient`: `rotate`, `revoke-tokens`, `ip-access-list`, `drop`.
fn act(recipient: &str, op: &str, f: &Fields) -> Result<Statement> {
    Ok(match op {
        "rotate" => rest::Rotation {
            expire_existing_in: f.get("grace").map(str::to_string),
        }
        .statement(recipient)?,
        "revoke-tokens" => Statement::RevokeTokens {
            recipient: plain_name(recipient)?,
        },
        "ip-access-list" => match entries(f.get("entries")) {
            Some(entries) => rest::IpAccessList { entries }.statement(recipient)?,
            None => Statement::SetIpAccessList {
                recipient: plain_name(recipient)?,
                list: None,
            },
        },
        "drop" => rest::drop(ObjectKind::Recipient, recipient)?,
        other => return Err(Error::not_found(format!("no recipient action '{other}'"))),
    })
}

fn render_recipient(state: &AppState, view: &View, recipient: &str) -> Result<Markup> {
    let caller = &view.caller;
    let described = show(
        state,
        caller,
        Statement::DescribeRecipient {
            recipient: recipient.to_string(),
        },
    )?;
    let grants = show(
        state,
        caller,
        Statement::ShowGrantsToRecipient {
            recipient: recipient.to_string(),
        },
    )?;
    let mut readable = Vec::new();
    for row in &grants.rows {
        let share = page::cell(&grants, row, "share").to_string();
        let members = show(
            state,
            caller,
            Statement::ShowAllInShare {
                share: share.clone(),
            },
        )?;
        for m in &members.rows {
            readable.push(vec![
                share.clone(),
                page::cell(&members, m, "shared_as").to_string(),
                page::cell(&members, m, "name").to_string(),
                page::cell(&members, m, "history").to_string(),
                page::cell(&members, m, "partition").to_string(),
            ]);
        }
    }
    let recent = audit::events(
        state,
        &Filter {
            actor: Some(recipient.to_string()),
            limit: Some(RECENT),
            newest_first: true,
            within_latest: Some(LOOKED_AT),
            ..Filter::default()
        },
    )?;
    let ip_list = described
        .rows
        .iter()
        .find(|r| page::cell(&described, r, "kind") == "ip access list")
        .map(|r| page::cell(&described, r, "name").to_string())
        .filter(|l| l != "any address")
        .unwrap_or_default();
    let base = format!("{PREFIX}/recipients/{}", page::segment(recipient));
    let body = html! {
        h2 { "Credentials and state" }
        (page::result_table(&described, |_, _| None))
        div.forms {
            (view.form("rotate", &format!("{base}/rotate"), "Rotate the token", html! {
                (field("grace", "Current token keeps working for", "text", false, Some("e.g. 24h; empty: it stops now")))
                (submit("Rotate token"))
            }))
            (view.form("revoke-tokens", &format!("{base}/revoke-tokens"), "Revoke every token", html! {
                p { small { "Every token and unused activation link stops working at once." } }
                button type="submit" data-confirm="Revoke every token of this recipient now?" { "Revoke tokens" }
            }))
            (view.form("ip-access-list", &format!("{base}/ip-access-list"), "IP access list", html! {
                div.field {
                    label for="f-entries" { "Addresses or CIDRs" }
                    input id="f-entries" name="entries" type="text" value=(ip_list) autocomplete="off" aria-describedby="f-entries-hint";
                    small id="f-entries-hint" { "Comma-separated; empty: any address" }
                }
                (submit("Save list"))
            }))
        }
        h2 { "What it can read" }
        (page::table(&["share".into(), "shared_as".into(), "table".into(), "history".into(), "partition".into()],
            &readable, |c, v| match c {
                "share" => Some(format!("{PREFIX}/shares/{}", page::segment(v))),
                "table" => Some(format!("{PREFIX}/tables/{}", page::segment(v))),
                _ => None,
            }, None))
        h2 { "Recent activity" }
        p { small { "Its latest events among the ledger's last " (LOOKED_AT) "." } }
        (audit::events_table(&recent))
        p { a href={(PREFIX) "/audit?actor=" (page::segment(recipient))} { "All of its events in the audit ledger" } }
        (view.form("drop", &format!("{base}/drop"), "Drop the recipient", html! {
            button type="submit" data-confirm="Drop this recipient? Its tokens and grants go with it." { "Drop recipient" }
        }))
    };
    Ok(page::frame(
        view,
        "/recipients",
        &format!("Recipient {recipient}"),
        body,
    ))
}
