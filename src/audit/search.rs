//! Reading the ledger: filtered pages of events, as JSON, ndjson or CSV.

use super::ledger::LedgerDb;
use crate::catalog::db::params;
use serde_json::Value;

use super::event::format_time_us;
use super::request_id_time;
use crate::clock::parse_timestamp_ms;
use crate::{Error, Result};

/// Events per page unless asked otherwise, and at most.
const DEFAULT_LIMIT: u64 = 1000;
const MAX_LIMIT: u64 = 10_000;

/// What to look for. Every field is optional; all given must hold.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Filter {
    /// Events at or after this time (RFC 3339, or a date: 2026-11-01).
    #[arg(long)]
    pub from: Option<String>,
    /// Events before this time.
    #[arg(long)]
    pub to: Option<String>,
    /// The actor's name (recipient, or admin token holder).
    #[arg(long)]
    pub actor: Option<String>,
    /// e.g. queryTable, downloadFile, grant.
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub share: Option<String>,
    #[arg(long)]
    pub table: Option<String>,
    /// ok (below 400), refused (400 and above), an HTTP status, or 0 (command-line runs).
    #[arg(long)]
    pub outcome: Option<String>,
    #[arg(long)]
    pub request_id: Option<String>,
    /// From a previous page's nextCursor.
    #[arg(skip)]
    pub cursor: Option<String>,
    #[arg(skip)]
    pub limit: Option<u64>,
    /// Newest first (the console's recent activity); pages then go back in time.
    #[arg(skip)]
    pub newest_first: bool,
    /// Only among the ledger's latest this many events: a bound on what one look reads.
    #[arg(skip)]
    pub within_latest: Option<u64>,
}

/// The filter and format (`json`, `ndjson` or `csv`) of a `GET /admin/v1/audit` query
/// string. Unknown parameters are refused: a misspelt filter must not widen the answer.
pub fn from_query_string(query: &str) -> Result<(Filter, &'static str)> {
    let mut filter = Filter::default();
    let mut format = "json";
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = Some(value.into_owned());
        match name.as_ref() {
            "from" => filter.from = value,
            "to" => filter.to = value,
            "actor" => filter.actor = value,
            "action" => filter.action = value,
            "share" => filter.share = value,
            "table" => filter.table = value,
            "outcome" => filter.outcome = value,
            "requestId" => filter.request_id = value,
            "cursor" => filter.cursor = value,
            "limit" => {
                let limit = value.as_deref().and_then(|l| l.parse().ok());
                filter.limit = Some(limit.ok_or_else(|| Error::invalid("limit must be a number"))?);
            }
            "format" => {
                format = match value.as_deref() {
                    Some("json") => "json",
                    Some("ndjson") => "ndjson",
                    Some("csv") => "csv",
                    _ => return Err(Error::invalid("format must be json, ndjson or csv")),
                }
            }
            other => {
                return Err(Error::invalid(format!(
                    "unknown parameter '{other}': use from, to, actor, action, share, table, outcome, requestId, cursor, limit, format"
                )));
            }
        }
    }
    Ok((filter, format))
}

/// One page of events, oldest first.
#[derive(Debug)]
pub struct Page {
    pub events: Vec<Value>,
    pub next_cursor: Option<String>,
}

/// A time bound in the events' format.
pub fn time_bound(text: &str) -> Result<String> {
    let text = text.trim();
    let with_time = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    parse_timestamp_ms(&with_time)
        .map(|ms| format_time_us(ms * 1000))
        .ok_or_else(|| {
            Error::invalid(format!(
                "'{text}' is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"
            ))
        })
}

impl LedgerDb {
    pub fn query(&self, filter: &Filter) -> Result<Page> {
        let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after: u64 = match &filter.cursor {
            None if filter.newest_first => u64::MAX >> 1,
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| Error::invalid("cursor is not one this server gave"))?,
        };
        let (min_status, max_status) = match filter.outcome.as_deref() {
            None => (0, 999),
            Some("ok") => (0, 399),
            Some("refused") => (400, 999),
            Some(code) => match code.parse::<u16>() {
                Ok(n) if n == 0 || (100..600).contains(&n) => (n, n),
                _ => {
                    return Err(Error::invalid(
                        "outcome must be ok, refused, an HTTP status or 0 (command-line runs)",
                    ));
                }
            },
        };
        let from = filter.from.as_deref().map(time_bound).transpose()?;
        let to = filter.to.as_deref().map(time_bound).transpose()?;
        // An id this server did not give matches nothing.
        let request_time = filter
            .request_id
            .as_deref()
            .map(|id| request_id_time(id).map_or_else(String::new, format_time_us));
        // Two orders, two statements (each cached): the cursor is the last seq of a page.
        let (beyond, order) = if filter.newest_first {
            ("<", "DESC")
        } else {
            (">", "")
        };
        let sql = format!(
            "SELECT seq, event FROM events
             WHERE seq {beyond} ?1
               AND (CAST(?2 AS TEXT) IS NULL OR time >= ?2) AND (CAST(?3 AS TEXT) IS NULL OR time < ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR json_extract(event, '$.actor.name') = ?4)
               AND (CAST(?5 AS TEXT) IS NULL OR json_extract(event, '$.action') = ?5)
               AND (CAST(?6 AS TEXT) IS NULL OR json_extract(event, '$.share') = ?6 COLLATE NOCASE)
               AND (CAST(?7 AS TEXT) IS NULL OR json_extract(event, '$.table') = ?7 COLLATE NOCASE)
               AND CAST(json_extract(event, '$.status') AS BIGINT) BETWEEN ?8 AND ?9
               AND (CAST(?10 AS TEXT) IS NULL OR (time = ?12 AND json_extract(event, '$.requestId') = ?10))
               AND seq > (SELECT coalesce(max(seq), 0) FROM events) - ?13
             ORDER BY seq {order} LIMIT ?11",
        );
        let rows = self.read(|conn| {
            conn.query_all(
                &sql,
                params![
                    after,
                    from,
                    to,
                    filter.actor,
                    filter.action,
                    filter.share,
                    filter.table,
                    min_status,
                    max_status,
                    filter.request_id,
                    limit + 1,
                    request_time,
                    filter.within_latest.unwrap_or(i64::MAX as u64),
                ],
                |r| Ok((r.get::<u64>(0)?, r.get::<String>(1)?)),
            )
        })?;
        let mut events = Vec::new();
        let mut last = None;
        for (seq, text) in rows {
            if events.len() as u64 == limit {
                return Ok(Page {
                    events,
                    next_cursor: last.map(|s: u64| s.to_string()),
                });
            }
            events.push(serde_json::from_str(&text)?);
            last = Some(seq);
        }
        Ok(Page {
            events,
            next_cursor: None,
        })
    }
}

/// Columns of the CSV form, as JSON pointers into the event.
const CSV_COLUMNS: [(&str, &str); 18] = [
    ("seq", "/seq"),
    ("time", "/time"),
    ("request_id", "/requestId"),
    ("actor_kind", "/actor/kind"),
    ("actor_name", "/actor/name"),
    ("token_id", "/actor/tokenId"),
    ("client_ip", "/clientIp"),
    ("action", "/action"),
    ("share", "/share"),
    ("schema", "/schema"),
    ("table", "/table"),
    ("versions", "/versions"),
    ("status", "/status"),
    ("error_code", "/errorCode"),
    ("files", "/files"),
    ("bytes", "/bytes"),
    ("duration_us", "/durationUs"),
    ("user_agent", "/userAgent"),
];

pub fn csv_header() -> String {
    let names: Vec<&str> = CSV_COLUMNS.iter().map(|(name, _)| *name).collect();
    format!("{}\n", names.join(","))
}

/// One event as a CSV line (RFC 4180 quoting).
pub fn csv_line(event: &Value) -> String {
    let cells: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|(_, pointer)| {
            let text = match event.pointer(pointer) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            if text.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text
            }
        })
        .collect();
    format!("{}\n", cells.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let event =
            serde_json::json!({"seq": 3, "userAgent": "a, \"b\"", "versions": {"start": 1}});
        let line = csv_line(&event);
        assert!(line.starts_with("3,"), "{line}");
        assert!(line.contains(r#""{""start"":1}""#), "{line}");
        assert!(line.ends_with("\"a, \"\"b\"\"\"\n"), "{line}");
    }

    #[test]
    fn dates_and_times_bound_ranges() {
        assert_eq!(
            time_bound("2026-11-01").unwrap(),
            "2026-11-01T00:00:00.000000Z"
        );
        assert_eq!(
            time_bound("2026-11-01T01:00:00+01:00").unwrap(),
            "2026-11-01T00:00:00.000000Z"
        );
        assert!(time_bound("yesterday").is_err());
    }
}
