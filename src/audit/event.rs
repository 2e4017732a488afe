//! One audit event, its canonical JSON and its place in the hash chain.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first event of a ledger.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// `recipient`, `admin`, `auditor` or `anonymous`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The token's display prefix (`fsr_1a2b3c4d`) or OAuth client id; never the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

impl Actor {
    pub fn anonymous() -> Self {
        Actor {
            kind: "anonymous".into(),
            ..Actor::default()
        }
    }

    /// A recipient, by name, and the credential it used if known.
    pub fn recipient(name: &str, token_id: Option<&str>) -> Self {
        Actor {
            kind: "recipient".into(),
            name: Some(name.to_string()),
            token_id: token_id.map(str::to_string),
        }
    }
}

/// A record of one request (or one command-line admin run). Optional fields are left out of
/// the JSON when they do not apply. Fields are declared in the order of their JSON names, so
/// that the JSON serde writes is already canonical (see [`canonical_json`] and its test).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// What was asked: `listShares`, `queryTable`, `downloadFile`, `grant`, …
    pub action: String,
    pub actor: Actor,
    /// Bytes of the response body, when known before it is sent (file downloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Until the response (its headers) was ready.
    pub duration_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    /// The receipt's digest of the files listed (see `receipt::Receipt::files_sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request parameters that shape the answer (predicates, limit, version, paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The `Fireshare-Receipt` handed out with the response, without its payload
    /// (`header..signature`, RFC 7515 appendix F): the payload's claims are this event's own
    /// fields, from which `receipt::of_event` rebuilds the whole receipt. Ledgers of earlier
    /// versions hold whole receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    pub request_id: String,
    /// For a FIRE-bound table: the digest of the rules the version served was validated with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Position in the ledger, from 1; set by the writer.
    #[serde(default)]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<String>,
    /// Admin statements run, with what each changed in the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<Value>,
    /// HTTP status, or 0 for a command-line run that succeeded.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// UTC, with microseconds: `2026-11-26T09:30:00.123456Z` (sorts as text).
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The table version served, or `{"start", "end"}` of a change range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Value>,
}

/// The event as hashed: its JSON with object keys sorted, without spaces.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl Event {
    /// The event's canonical JSON, written straight from its fields (declared in key order).
    pub fn canonical(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// `hex(SHA-256(prev_hash ‖ canonical))`, the chain link of an event.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

/// Microsecond UTC time in the events' format.
pub fn format_time_us(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":"é"}],"c":null}}"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":null,"d":[{"y":"é","z":1}]},"b":1}"#
        );
    }

    #[test]
    fn events_serialize_canonically() {
        let event = Event {
            action: "queryTable".into(),
            actor: Actor {
                kind: "recipient".into(),
                name: Some("r".into()),
                token_id: Some("fsr_12345678".into()),
            },
            bytes: Some(1),
            client_ip: Some("127.0.0.1".into()),
            duration_us: 2,
            error_code: Some("X".into()),
            files: Some(3),
            files_sha256: Some("f".into()),
            method: Some("POST".into()),
            params: Some(serde_json::json!({"z": 1, "a": {"y": [{"d": 1, "c": 2}]}})),
            path: Some("/p".into()),
            receipt: Some("a.b.c".into()),
            request_id: "id".into(),
            rules_digest: Some("d".into()),
            schema: Some("fire".into()),
            seq: 7,
            share: Some("s".into()),
            statements: vec![serde_json::json!({"statement": "GRANT", "action": "grant"})],
            status: 200,
            table: Some("t".into()),
            time: format_time_us(1),
            user_agent: Some("ua \"quoted\"".into()),
            versions: Some(serde_json::json!({"start": 1, "end": 2})),
        };
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(event.canonical().unwrap(), canonical_json(&value));
    }

    #[test]
    fn times_have_microseconds_and_sort_as_text() {
        assert_eq!(
            format_time_us(1_700_000_000_000_001),
            "2023-11-14T22:13:20.000001Z"
        );
        assert!(format_time_us(1_000_000) < format_time_us(10_000_000));
    }
}
