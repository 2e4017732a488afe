//! The list and get endpoints: shares, schemas, tables. A recipient sees only what is granted
//! to it; anything else answers exactly like something that does not exist.

use serde_json::{Value, json};

use super::Context;
use super::list_pages::{Page, finish_page, page_request};
use crate::auth::Recipient;
use crate::catalog::{Share, SharedTable};
use crate::{Error, Result};

/// `maxResults` and `pageToken` as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    pub max_results: Option<String>,
    pub page_token: Option<String>,
}

impl ListParams {
    fn page(&self, cx: &Context<'_>, scope: &str) -> Result<Page> {
        page_request(
            cx.secret,
            scope,
            self.max_results.as_deref(),
            self.page_token.as_deref(),
        )
    }
}

fn share_not_found(name: &str) -> Error {
    Error::not_found(format!(
        "share '{name}' does not exist or is not shared with you"
    ))
}

fn granted_share(cx: &Context<'_>, who: &Recipient, name: &str) -> Result<Share> {
    cx.catalog
        .read(|c| c.granted_share(&who.id, name))?
        .ok_or_else(|| share_not_found(name))
}

fn share_json(share: &Share) -> Value {
    let mut item = json!({"name": share.name, "id": share.id});
    if let Some(comment) = &share.comment {
        item["comment"] = json!(comment);
    }
    item
}

fn table_json(table: &SharedTable) -> Value {
    json!({
        "name": table.name,
        "schema": table.schema,
        "share": table.share,
        "shareId": table.share_id,
        "id": table.table.id,
    })
}

fn page_json(items: Vec<Value>, next: Option<String>) -> Value {
    let mut body = json!({ "items": items });
    if let Some(token) = next {
        body["nextPageToken"] = json!(token);
    }
    body
}

pub fn list_shares(cx: &Context<'_>, who: &Recipient, params: &ListParams) -> Result<Value> {
    let scope = format!("{}/shares", who.id);
    let page = params.page(cx, &scope)?;
    let after = page
        .after
        .as_ref()
        .and_then(|a| a.first())
        .map(String::as_str);
    let shares = cx
        .catalog
        .read(|c| c.granted_shares(&who.id, after, page.limit + 1))?;
    let (shares, next) = finish_page(cx.secret, &scope, &page, shares, |s| vec![s.name.clone()]);
    Ok(page_json(shares.iter().map(share_json).collect(), next))
}

pub fn get_share(cx: &Context<'_>, who: &Recipient, share: &str) -> Result<Value> {
    Ok(json!({ "share": share_json(&granted_share(cx, who, share)?) }))
}

pub fn list_schemas(
    cx: &Context<'_>,
    who: &Recipient,
    share: &str,
    params: &ListParams,
) -> Result<Value> {
    let share = granted_share(cx, who, share)?;
    let scope = format!("{}/schemas/{}", who.id, share.id);
    let page = params.page(cx, &scope)?;
    let after = page
        .after
        .as_ref()
        .and_then(|a| a.first())
        .map(String::as_str);
    let schemas = cx
        .catalog
        .read(|c| c.share_schemas(&share.id, after, page.limit + 1))?;
    let (schemas, next) = finish_page(cx.secret, &scope, &page, schemas, |s| vec![s.clone()]);
    let items = schemas
        .iter()
        .map(|name| json!({"name": name, "share": share.name}))
        .collect();
    Ok(page_json(items, next))
}

/// Tables of one schema (`schema` given) or of the whole share (`all-tables`).
pub fn list_tables(
    cx: &Context<'_>,
    who: &Recipient,
    share: &str,
    schema: Option<&str>,
    params: &ListParams,
) -> Result<Value> {
    let share = granted_share(cx, who, share)?;
    let scope = format!(
        "{}/tables/{}/{}",
        who.id,
        share.id,
        schema.map(str::to_lowercase).unwrap_or_default()
    );
    let page = params.page(cx, &scope)?;
    let after = page
        .after
        .as_ref()
        .and_then(|a| Some((a.first()?.as_str(), a.get(1)?.as_str())));
    let tables = cx.catalog.read(|c| {
        if let Some(schema) = schema
            && c.share_tables(&share.id, Some(schema), None, 1)?.is_empty()
        {
            return Err(Error::not_found(format!(
                "schema '{schema}' does not exist in share '{}'",
                share.name
            )));
        }
        c.share_tables(&share.id, schema, after, page.limit + 1)
    })?;
    let (tables, next) = finish_page(cx.secret, &scope, &page, tables, |t| {
        vec![t.schema.clone(), t.name.clone()]
    });
    Ok(page_json(tables.iter().map(table_json).collect(), next))
}

/// The shared table `share.schema.table` if the recipient may read it, as the catalog was
/// when its credentials were checked (remembered while the catalog stays so).
pub fn granted_table(
    cx: &Context<'_>,
    who: &Recipient,
    share: &str,
    schema: &str,
    table: &str,
) -> Result<SharedTable> {
    let key = [&who.id, share, schema, table].map(str::to_string);
    let load = || {
        cx.catalog
            .read(|c| c.granted_table(&who.id, share, schema, table))
    };
    cx.tables
        .get(&who.stamp, &key, load, Option::is_some)?
        .0
        .ok_or_else(|| {
            Error::not_found(format!(
                "table '{share}.{schema}.{table}' does not exist or is not shared with you"
            ))
        })
}
