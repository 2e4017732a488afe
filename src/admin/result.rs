//! What a statement answers: a result table (`SHOW …`) or a one-line status, as text for a
//! terminal or as JSON for the admin API.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The outcome of one statement: a result table (`SHOW …`) or a one-line status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementResult {
    pub statement: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The statement's name in the audit ledger.
    pub action: &'static str,
    /// What a write changed in the catalog (see [`crate::catalog::history::diff`]).
    pub changes: Option<Value>,
}

impl StatementResult {
    pub(crate) fn status(statement: &str, message: String) -> Self {
        StatementResult {
            statement: statement.to_string(),
            columns: vec!["status".into()],
            rows: vec![vec![message]],
            action: "",
            changes: None,
        }
    }

    pub(crate) fn table(statement: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Self {
        StatementResult {
            statement: statement.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            action: "",
            changes: None,
        }
    }

    /// Bytes of its columns and cells.
    pub fn size(&self) -> usize {
        let cells: usize = self.rows.iter().flatten().map(String::len).sum();
        cells + self.columns.iter().map(String::len).sum::<usize>()
    }

    /// What the audit ledger keeps of the statement: its text, name and changes, never its
    /// result rows (they may hold a new token).
    pub fn audit_record(&self) -> Value {
        let mut record = serde_json::json!({"statement": self.statement, "action": self.action});
        if let Some(changes) = &self.changes {
            record["changes"] = changes.clone();
        }
        record
    }

    /// `{"columns": [...], "rows": [[...], ...]}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"columns": self.columns, "rows": self.rows})
    }

    /// The rows as JSON objects keyed by column (the admin REST API's items).
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|v| Value::String(v.clone())))
                    .collect();
                Value::Object(object)
            })
            .collect()
    }

    /// Text for a terminal: status lines as they are, result sets as aligned tables.
    pub fn render(&self) -> String {
        if self.columns == ["status"] {
            return self.rows.iter().map(|r| format!("{}\n", r[0])).collect();
        }
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", padded.join(" | ").trim_end());
        };
        line(&mut out, &self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "{}", rule.join("-+-"));
        for row in &self.rows {
            line(&mut out, row);
        }
        let _ = writeln!(
            out,
            "({} row{})",
            self.rows.len(),
            if self.rows.len() == 1 { "" } else { "s" }
        );
        out
    }
}

/// `{"results": [...]}`: one result per statement, as the admin API answers and
/// `fireshare sql --json` prints.
pub fn results_json(results: &[StatementResult]) -> Value {
    serde_json::json!({"results": results.iter().map(StatementResult::to_json).collect::<Vec<_>>()})
}
