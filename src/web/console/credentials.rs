//! Storage credentials: the list, creation (secrets typed once, sealed, never shown again),
//! one credential's public description, and dropping it.

use maud::{Markup, html};

use super::page::{self, Fields, View, field, select, submit};
use super::{PREFIX, Section, show};
use crate::admin::rest::plain_name;
use crate::admin::sql::{ObjectKind, Statement};
use crate::web::AppState;
use crate::{Error, Result};

fn link(column: &str, value: &str) -> Option<String> {
    (column == "name").then(|| format!("{PREFIX}/credentials/{}", page::segment(value)))
}

/// The storage credentials section: its pages and the statements its forms build.
pub static SECTION: Section = Section {
    path: "/credentials",
    param: "credential",
    list: render_list,
    detail: render_credential,
    create: ("create-credential", create),
    act,
    forms: &["drop"],
};

/// The options of the form: one `option = value` per line.
fn options(text: &str) -> Result<Vec<(String, String)>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(Error::invalid(format!(
                "'{}' is not option = value",
                line.chars().take(40).collect::<String>()
            ))),
        })
        .collect()
}

fn create(f: &Fields) -> Result<Statement> {
    Ok(Statement::CreateStorageCredential {
        name: plain_name(f.required("name", "the credential's name")?)?,
        kind: f.required("type", "the type")?.to_uppercase(),
        options: options(f.get("options").unwrap_or(""))?,
        comment: f.get("comment").map(str::to_string),
        if_not_exists: false,
    })
}

fn render_list(state: &AppState, view: &View) -> Result<Markup> {
    let credentials = show(state, &view.caller, Statement::ShowStorageCredentials)?;
    let kinds = ["S3", "GCS", "AZURE"].map(|k| (k.to_string(), k.to_string()));
    let body = html! {
        (page::result_table(&credentials, link))
        (view.form("create-credential", &format!("{PREFIX}/credentials"), "Create a storage credential", html! {
            (field("name", "Name", "text", true, None))
            (select("type", "Type", &kinds))
            div.field {
                label for="f-options" { "Options *" }
                textarea id="f-options" name="options" required autocomplete="off" spellcheck="false" aria-describedby="f-options-hint" {}
                small id="f-options-hint" {
                    "One option = value per line, e.g. access_key_id = …, secret_access_key = …, region = eu-west-3. "
                    "Secrets are sealed when saved and never shown again."
                }
            }
            (field("comment", "Comment", "text", false, None))
            (submit("Create credential"))
        }))
    };
    Ok(page::frame(
        view,
        "/credentials",
        "Storage credentials",
        body,
    ))
}

/// Action `op` on credential `credential`: `drop`.
fn act(credential: &str, op: &str, _: &Fields) -> Result<Statement> {
    match op {
        "drop" => Ok(Statement::Drop {
            kind: ObjectKind::StorageCredential,
            name: plain_name(credential)?,
            if_exists: false,
        }),
        other => Err(Error::not_found(format!("no credential action '{other}'"))),
    }
}

fn render_credential(state: &AppState, view: &View, name: &str) -> Result<Markup> {
    let described = show(
        state,
        &view.caller,
        Statement::DescribeStorageCredential {
            name: name.to_string(),
        },
    )?;
    let body = html! {
        (page::result_table(&described, |_, _| None))
        (view.form("drop", &format!("{PREFIX}/credentials/{}/drop", page::segment(name)), "Drop the credential", html! {
            button type="submit" data-confirm="Drop this credential? Tables read with it stop being readable." { "Drop credential" }
        }))
    };
    Ok(page::frame(
        view,
        "/credentials",
        &format!("Storage credential {name}"),
        body,
    ))
}
