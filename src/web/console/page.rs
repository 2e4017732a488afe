//! What every console page is made of: the frame (navigation, who is signed in), result
//! tables, forms with their CSRF field and errors next to them, notices, and paging.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use crate::Error;
use crate::admin::StatementResult;
use crate::auth::{AdminCaller, Role};

/// Rows of a list shown per page.
pub const PAGE_ROWS: usize = 50;

/// The parsed fields of a form body or query string.
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(text: &[u8]) -> Self {
        Fields(
            url::form_urlencoded::parse(text)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A field that must be filled in.
    pub fn required(&self, name: &str, label: &str) -> crate::Result<&str> {
        self.get(name)
            .ok_or_else(|| Error::invalid(format!("{label} is required")))
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The page number of a paged list (`?page=`), from 0.
    pub fn page(&self) -> usize {
        self.get("page").and_then(|p| p.parse().ok()).unwrap_or(0)
    }
}

/// What the last action did, shown at the top of the page it returns to.
pub enum Notice {
    /// The statement's result (a status line, or a table such as a new recipient's link).
    Done(StatementResult),
    /// Why the form `form` was refused: shown next to it.
    Failed { form: &'static str, message: String },
    /// A message of the page itself (the ledger's verification).
    Said { ok: bool, text: String },
}

/// What a page is rendered for: the signed-in caller, the CSRF token of their forms, the query
/// and the outcome of the action that led here.
pub struct View {
    pub caller: AdminCaller,
    pub csrf: String,
    pub query: Fields,
    pub notice: Option<Notice>,
}

impl View {
    pub fn can_write(&self) -> bool {
        self.caller.role == Role::Admin
    }

    /// The error of `form`, if the last action was that form and it failed.
    pub fn error_of(&self, form: &str) -> Option<&str> {
        match &self.notice {
            Some(Notice::Failed { form: f, message }) if *f == form => Some(message),
            _ => None,
        }
    }

    /// A form posting to `action`, with its CSRF field, its error shown above its fields;
    /// rendered for admins only (auditors get no write controls).
    pub fn form(&self, id: &'static str, action: &str, title: &str, fields: Markup) -> Markup {
        if !self.can_write() {
            return html! {};
        }
        self.form_for_all(id, action, title, fields)
    }

    /// A form every signed-in caller gets (sign-out, verify the ledger).
    pub fn form_for_all(
        &self,
        id: &'static str,
        action: &str,
        title: &str,
        fields: Markup,
    ) -> Markup {
        let error = self.error_of(id);
        html! {
            form.action id=(id) method="post" action=(action) aria-describedby=[error.map(|_| format!("{id}-error"))] {
                @if !title.is_empty() { h3 { (title) } }
                @if let Some(message) = error {
                    p.error id={(id) "-error"} role="alert" { (message) }
                }
                input type="hidden" name="csrf" value=(self.csrf);
                (fields)
            }
        }
    }

    /// A one-button form (remove, revoke) posting `hidden` fields, asking to confirm first;
    /// rendered for admins only. Its error shows in the page's notice.
    pub fn button(
        &self,
        action: &str,
        hidden: &[(&str, &str)],
        label: &str,
        confirm: &str,
    ) -> Markup {
        if !self.can_write() {
            return html! {};
        }
        html! {
            form.inline method="post" action=(action) {
                input type="hidden" name="csrf" value=(self.csrf);
                @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
                button type="submit" data-confirm=(confirm) { (label) }
            }
        }
    }
}

/// The form id of action `op`: one of `ops` (its errors show next to it), else `action`.
pub fn form_of(op: &str, ops: &[&'static str]) -> &'static str {
    ops.iter().find(|o| **o == op).copied().unwrap_or("action")
}

/// A labelled text field; `hint` is shown under it.
pub fn field(name: &str, label: &str, kind: &str, required: bool, hint: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) @if required { " *" } }
            input id=(id) name=(name) type=(kind) required[required] autocomplete="off"
                aria-describedby=[hint.map(|_| format!("{id}-hint"))];
            @if let Some(hint) = hint { small id={(id) "-hint"} { (hint) } }
        }
    }
}

/// A labelled choice between `options` (value, label), the first selected.
pub fn select(name: &str, label: &str, options: &[(String, String)]) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options { option value=(value) { (text) } }
            }
        }
    }
}

pub fn checkbox(name: &str, label: &str) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.check {
            input id=(id) name=(name) type="checkbox" value="on";
            label for=(id) { (label) }
        }
    }
}

pub fn submit(label: &str) -> Markup {
    html! { button type="submit" { (label) } }
}

/// A statement's result as a table; `link` may turn a cell (by column name) into a link.
pub fn result_table(
    result: &StatementResult,
    link: impl Fn(&str, &str) -> Option<String>,
) -> Markup {
    table(&result.columns, &result.rows, link, None)
}

/// Buttons for one row of a table (the last cell).
pub type RowActions<'a> = &'a dyn Fn(&[String]) -> Markup;

/// `rows` under `columns`; `link` may turn a cell into a link, `actions` add a last cell.
pub fn table(
    columns: &[String],
    rows: &[Vec<String>],
    link: impl Fn(&str, &str) -> Option<String>,
    actions: Option<RowActions<'_>>,
) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "None yet." }
        } @else {
            div.scroll {
                table {
                    thead { tr {
                        @for c in columns { th scope="col" { (c.replace('_', " ")) } }
                        @if actions.is_some() { th scope="col" { span.empty { "actions" } } }
                    } }
                    tbody {
                        @for row in rows {
                            tr {
                                @for (c, cell) in columns.iter().zip(row) {
                                    td {
                                        @match link(c, cell) {
                                            Some(href) => a href=(href) { (cell) },
                                            None => (cell),
                                        }
                                    }
                                }
                                @if let Some(actions) = actions { td { (actions(row)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The rows of page `page` of a list, and the pager under it (links to `base?page=n`).
pub fn paged<'a>(rows: &'a [Vec<String>], page: usize, base: &str) -> (&'a [Vec<String>], Markup) {
    let pages = rows.len().div_ceil(PAGE_ROWS).max(1);
    let page = page.min(pages - 1);
    let shown = &rows[page * PAGE_ROWS..rows.len().min((page + 1) * PAGE_ROWS)];
    let pager = html! {
        @if pages > 1 {
            nav.pager aria-label="pages" {
                @if page > 0 { a href={(base) "?page=" (page - 1)} rel="prev" { "← Previous" } }
                span { "Page " (page + 1) " of " (pages) " (" (rows.len()) " rows)" }
                @if page + 1 < pages { a href={(base) "?page=" (page + 1)} rel="next" { "Next →" } }
            }
        }
    };
    (shown, pager)
}

/// The value of `column` in `row` of `result`.
pub fn cell<'a>(result: &'a StatementResult, row: &'a [String], column: &str) -> &'a str {
    result
        .columns
        .iter()
        .position(|c| c == column)
        .and_then(|i| row.get(i))
        .map_or("", String::as_str)
}

/// A path segment, percent-encoded (names may hold any character).
pub fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

const SECTIONS: [(&str, &str); 6] = [
    ("", "Overview"),
    ("/shares", "Shares"),
    ("/recipients", "Recipients"),
    ("/tables", "Tables"),
    ("/audit", "Audit"),
    ("/credentials", "Storage credentials"),
];

/// A whole page: head, navigation, the notice of the last action, then `body`.
pub fn frame(view: &View, section: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header {
                    a.brand href=(super::PREFIX) { "fireshare" }
                    nav aria-label="sections" {
                        @for (path, name) in SECTIONS {
                            a href={(super::PREFIX) (path)} aria-current=[(path == section).then_some("page")] { (name) }
                        }
                    }
                    div.who {
                        span { (view.caller.name) " · " (view.caller.role.as_str()) }
                        (view.form_for_all("sign-out", &format!("{}/sign-out", super::PREFIX), "", submit("Sign out")))
                    }
                }
                main {
                    h1 { (title) }
                    @if !view.can_write() {
                        p.readonly { "Signed in as an auditor: everything is readable, nothing can be changed." }
                    }
                    (notice(view))
                    (body)
                }
            }
        }
    }
}

fn notice(view: &View) -> Markup {
    match &view.notice {
        Some(Notice::Done(result)) if result.columns == ["status"] => html! {
            div.notice.ok role="status" { @for row in &result.rows { p { (row[0]) } } }
        },
        // A result with more than a status hands out credentials (an activation link, an
        // OAuth client's secret): shown this once, each with a copy button.
        Some(Notice::Done(result)) => html! {
            div.notice.ok role="status" {
                @for row in &result.rows {
                    p { (cell(result, row, "status")) }
                    p { "Shown only this once: copy what the recipient needs now." }
                    dl.facts {
                        @for (column, value) in result.columns.iter().zip(row) {
                            @if column != "status" && !value.is_empty() {
                                @let id = if column == "activation_url" { "activation-link".to_string() } else { format!("result-{column}") };
                                dt { (column.replace('_', " ")) }
                                dd.secret {
                                    @if column == "activation_url" { a id=(id) href=(value) { (value) } }
                                    @else { code id=(id) { (value) } }
                                    " "
                                    button type="button" data-copy=(id) { "Copy" }
                                }
                            }
                        }
                    }
                }
            }
        },
        Some(Notice::Failed { form, message }) => html! {
            div.notice.failed role="alert" {
                p { a href={"#" (form)} { "The form below was refused" } ": " (message) }
            }
        },
        Some(Notice::Said { ok, text }) => html! {
            div.notice.ok[*ok].failed[!*ok] role="status" { p { (text) } }
        },
        None => html! {},
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · fireshare" }
            link rel="stylesheet" href=(assets::STYLE.path());
            script src=(assets::SCRIPT.path()) defer {}
        }
    }
}

/// The sign-in page, with why the last attempt failed.
pub fn sign_in(error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body.sign-in {
                main {
                    h1 { "fireshare console" }
                    form id="sign-in" method="post" action={(super::PREFIX) "/sign-in"} {
                        @if let Some(message) = error { p.error id="sign-in-error" role="alert" { (message) } }
                        div.field {
                            label for="token" { "Admin or auditor token" }
                            input id="token" name="token" type="password" required autocomplete="off" autofocus
                                aria-describedby=[error.map(|_| "sign-in-error")];
                            small { "A token from " code { "fireshare admin token create" } " (fsa_…). It is exchanged once for a session." }
                        }
                        (submit("Sign in"))
                    }
                }
            }
        }
    }
}

/// A page that says only what went wrong (a missing object, a refused request).
pub fn problem(view: Option<&View>, error: &Error) -> Markup {
    let body = html! { p.error role="alert" { (error.to_string()) } p { a href=(super::PREFIX) { "Back to the overview" } } };
    match view {
        Some(view) => frame(view, "", "Not available", body),
        None => {
            html! { (DOCTYPE) html lang="en" { (head("Not available")) body { main { (body) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_blank_ones_absent() {
        let fields = Fields::parse(b"name=+q4+&comment=&history=on&page=2");
        assert_eq!(fields.get("name"), Some("q4"));
        assert_eq!(fields.get("comment"), None);
        assert!(fields.checked("history"));
        assert_eq!(fields.page(), 2);
        let missing = fields.required("comment", "the comment").unwrap_err();
        assert_eq!(missing.message(), "the comment is required");
    }

    #[test]
    fn long_lists_are_paged() {
        let rows: Vec<Vec<String>> = (0..120).map(|i| vec![i.to_string()]).collect();
        let (shown, pager) = paged(&rows, 2, "/console/shares");
        assert_eq!((shown.len(), shown[0][0].as_str()), (20, "100"));
        let pager = pager.into_string();
        assert!(
            pager.contains("Page 3 of 3") && pager.contains("?page=1"),
            "{pager}"
        );
        let (shown, pager) = paged(&rows[..3], 9, "/x");
        assert_eq!(shown.len(), 3);
        assert!(pager.into_string().is_empty());
    }

    #[test]
    fn values_are_escaped() {
        let markup = table(
            &["c".into()],
            &[vec!["<script>alert(1)</script>".into()]],
            |_, _| None,
            None,
        );
        assert!(
            markup
                .into_string()
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        );
    }
}
