//! Signed delivery receipts: the `Fireshare-Receipt` header of every `/query` and `/changes`
//! response, a compact JWS (EdDSA, the audit key) saying which files of which table version
//! a recipient was given. A regulator keeps it to prove what it received. The server's ledger
//! keeps it in the request's event without its payload, whose claims are the event's own
//! fields: [`of_event`] puts the same receipt back together (an event ~250 bytes shorter).

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Event;
use crate::signing_key::{SigningKey, VerifyingKey};
use crate::{Error, Result};

/// The response header carrying the receipt.
pub const HEADER: &str = "Fireshare-Receipt";
/// `typ` of the receipts' JWS header: they are never taken for access tokens.
const TYPE: &str = "fireshare-receipt+jwt";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub request_id: String,
    pub recipient: String,
    /// `share.schema.table`, as the recipient addressed it.
    pub table: String,
    /// The version served, or `{"start", "end"}` of a change range.
    pub versions: Value,
    pub files: u64,
    /// Hex SHA-256 of the sorted `"{id} {size}\n"` lines of the files listed.
    pub files_sha256: String,
    /// For a FIRE-bound table: the digest of the rules its version was validated with, as
    /// the metadata's `fireshare.fire.rulesDigest` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_digest: Option<String>,
    /// The request's time: UTC, microseconds.
    pub time: String,
    /// Seconds since the epoch (JWT `iat`): [`issued_at`] the request's time.
    pub iat: i64,
}

impl Receipt {
    /// The claims of a receipt of what `event` records: its request, recipient, table,
    /// versions, files and rules, at its time. The one way they are made, to be signed and to
    /// be put back together from the ledger; None where the event lacks one.
    pub fn of(event: &Event) -> Option<Receipt> {
        Some(Receipt {
            request_id: event.request_id.clone(),
            recipient: event.actor.name.clone()?,
            table: format!(
                "{}.{}.{}",
                event.share.as_deref()?,
                event.schema.as_deref()?,
                event.table.as_deref()?
            ),
            versions: event.versions.clone()?,
            files: event.files?,
            files_sha256: event.files_sha256.clone()?,
            rules_digest: event.rules_digest.clone(),
            time: event.time.clone(),
            iat: issued_at(&event.time)?,
        })
    }
}

/// JWT `iat` of a receipt issued at `time` (UTC, as events write it): whole seconds.
pub fn issued_at(time: &str) -> Option<i64> {
    crate::clock::parse_timestamp_ms(time).map(|ms| ms.div_euclid(1000))
}

/// A signed receipt without its payload (`header..signature`), as the ledger keeps it.
pub fn detach(token: &str) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    format!("{header}..{}", parts.nth(1).unwrap_or_default())
}

/// The whole receipt a ledger event was handed out with: its detached signature around the
/// payload rebuilt from the event's fields (a receipt kept whole is returned as it is). None
/// for an event without one.
pub fn of_event(event: &Event) -> Result<Option<String>> {
    let Some(kept) = &event.receipt else {
        return Ok(None);
    };
    let Some((header, signature)) = kept.split_once("..") else {
        return Ok(Some(kept.clone()));
    };
    let claims = Receipt::of(event).ok_or_else(|| {
        Error::internal(format!(
            "event {} lacks what its receipt says (its recipient, table, versions, files or time)",
            event.seq
        ))
    })?;
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    Ok(Some(format!("{header}.{payload}.{signature}")))
}

/// Collects the files of a response, in any order, for the receipt's digest. Ids are kept in
/// fixed buffers: a 100,000-file response sorts them without an allocation each.
#[derive(Default)]
pub struct FileDigest {
    files: Vec<([u8; MAX_ID], u8, i64)>,
}

/// File ids are hex digests: 32 (MD5) or 64 (SHA-256) characters.
const MAX_ID: usize = 64;

impl FileDigest {
    pub fn add(&mut self, id: &str, size: i64) {
        let mut buffer = [0; MAX_ID];
        let len = id.len().min(MAX_ID);
        buffer[..len].copy_from_slice(&id.as_bytes()[..len]);
        self.files.push((buffer, len as u8, size));
    }

    /// Adds the files `other` collected.
    pub fn append(&mut self, other: FileDigest) {
        self.files.extend(other.files);
    }

    /// The count and digest of the files added.
    pub fn finish(mut self) -> Delivered {
        self.files.sort_unstable();
        let mut hasher = Sha256::new();
        let mut line = Vec::with_capacity(MAX_ID + 24);
        for (id, len, size) in &self.files {
            line.clear();
            line.extend_from_slice(&id[..*len as usize]);
            let _ = writeln!(line, " {size}");
            hasher.update(&line);
        }
        Delivered {
            files: self.files.len() as u64,
            sha256: hex::encode(hasher.finalize()),
        }
    }
}

/// What a receipt says of the files of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub files: u64,
    /// Hex SHA-256 of the files' `"{id} {size}\n"` lines, sorted.
    pub sha256: String,
}

pub fn sign(key: &SigningKey, receipt: &Receipt) -> Result<String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_string());
    header.typ = Some(TYPE.into());
    jsonwebtoken::encode(&header, receipt, key.encoding_key())
        .map_err(|e| Error::internal(format!("cannot sign a receipt: {e}")))
}

/// Checks a receipt's signature against `key` and returns what it says.
pub fn verify(key: &VerifyingKey, token: &str) -> Result<Receipt> {
    let refused = |why: String| Error::invalid(format!("the receipt does not verify: {why}"));
    let header = jsonwebtoken::decode_header(token.trim()).map_err(|e| refused(e.to_string()))?;
    if header.typ.as_deref() != Some(TYPE) {
        return Err(refused(format!("its type is not {TYPE}")));
    }
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Receipt>(token.trim(), key.decoding_key(), &validation)
        .map(|data| data.claims)
        .map_err(|e| refused(e.to_string()))
}

impl super::LedgerDb {
    /// The whole receipt the response to `request_id` was handed out with, put back together
    /// from its event and checked against `key` (an event changed since would not verify).
    pub fn receipt(&self, request_id: &str, key: &VerifyingKey) -> Result<String> {
        let filter = super::search::Filter {
            request_id: Some(request_id.to_string()),
            ..Default::default()
        };
        let recorded = self.query(&filter)?.events.into_iter().next();
        let event: Event = serde_json::from_value(recorded.ok_or_else(|| {
            Error::not_found(format!("no event has the request id {request_id}"))
        })?)?;
        let (receipt, _) = checked(&event, key)?.ok_or_else(|| {
            Error::not_found(format!(
                "request {request_id} has no receipt: only /query and /changes answers carry one"
            ))
        })?;
        Ok(receipt)
    }
}

/// The whole receipt a ledger event was handed out with ([`of_event`]) and what it says,
/// checked against `key`: refused when it does not verify (the event changed since it was
/// recorded) or, kept whole by an earlier version, names another request. None for an event
/// without one.
pub fn checked(event: &Event, key: &VerifyingKey) -> Result<Option<(String, Receipt)>> {
    let Some(token) = of_event(event)? else {
        return Ok(None);
    };
    let receipt = verify(key, &token)
        .map_err(|e| Error::invalid(format!("event {}: {}", event.seq, e.message())))?;
    if receipt.request_id != event.request_id {
        return Err(Error::invalid(format!(
            "event {}: the receipt was issued for another request",
            event.seq
        )));
    }
    Ok(Some((token, receipt)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_verifies_with_its_key_and_not_when_changed() {
        let key = SigningKey::for_tests();
        let mut digest = FileDigest::default();
        digest.add("b", 20);
        digest.add("a", 10);
        let receipt = Receipt {
            request_id: "r1".into(),
            recipient: "regulator".into(),
            table: "s.fire.loan".into(),
            versions: 3.into(),
            files: 2,
            files_sha256: digest.finish().sha256,
            rules_digest: Some("ab".repeat(32)),
            time: "2026-11-26T10:00:00.000000Z".into(),
            iat: 1_795_000_000,
        };
        let token = sign(&key, &receipt).unwrap();
        let public = VerifyingKey::of(&key);
        assert_eq!(verify(&public, &token).unwrap(), receipt);
        // Another payload under the same signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = receipt.clone();
        forged.versions = 4.into();
        let payload = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&forged).unwrap(),
        );
        let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert!(verify(&public, &tampered).is_err());
        assert!(verify(&VerifyingKey::of(&SigningKey::for_tests()), &token).is_err());
    }

    #[test]
    fn an_event_puts_its_detached_receipt_back_together() {
        let key = SigningKey::for_tests();
        let time = "2026-11-26T10:00:00.250000Z";
        let receipt = Receipt {
            request_id: "r1".into(),
            recipient: "regulator".into(),
            table: "s.fire.loan".into(),
            versions: serde_json::json!({"start": 1, "end": 12}),
            files: 2,
            files_sha256: "cd".repeat(32),
            rules_digest: None,
            time: time.into(),
            iat: issued_at(time).unwrap(),
        };
        assert_eq!(receipt.iat, 1_795_687_200);
        let token = sign(&key, &receipt).unwrap();
        let mut event = Event {
            request_id: "r1".into(),
            actor: crate::audit::Actor::recipient("regulator", Some("fsr_1a2b3c4d")),
            share: Some("s".into()),
            schema: Some("fire".into()),
            table: Some("loan".into()),
            versions: Some(receipt.versions.clone()),
            files: Some(2),
            files_sha256: Some(receipt.files_sha256.clone()),
            time: time.into(),
            receipt: Some(detach(&token)),
            ..Event::default()
        };
        // Kept as the ledger writes it, and read back.
        let canonical = event.canonical().unwrap();
        let payload = token.split('.').nth(1).unwrap();
        assert!(!canonical.contains(payload), "{canonical}");
        let read: Event = serde_json::from_str(&canonical).unwrap();
        assert_eq!(of_event(&read).unwrap().as_deref(), Some(token.as_str()));
        // A fact changed in the event no longer matches the signature.
        event.files = Some(3);
        let changed = of_event(&event).unwrap().unwrap();
        assert!(verify(&VerifyingKey::of(&key), &changed).is_err());
        // A receipt kept whole is returned as it is; one whose facts are gone is refused.
        event.receipt = Some(token.clone());
        assert_eq!(of_event(&event).unwrap(), Some(token.clone()));
        event.receipt = Some(detach(&token));
        event.files_sha256 = None;
        assert!(of_event(&event).is_err());
    }

    #[test]
    fn the_ledger_gives_a_receipt_back_only_when_it_verifies() {
        let key = SigningKey::for_tests();
        let at = 1_795_687_200_250_000;
        let ids: Vec<String> = (0..3).map(|_| super::super::request_id_at(at)).collect();
        let event = |request_id: &str, files: u64| Event {
            request_id: request_id.into(),
            actor: crate::audit::Actor::recipient("regulator", None),
            share: Some("s".into()),
            schema: Some("fire".into()),
            table: Some("loan".into()),
            versions: Some(3.into()),
            files: Some(files),
            files_sha256: Some("ab".repeat(32)),
            time: super::super::event::format_time_us(at),
            ..Event::default()
        };
        let signed = |e: &Event| sign(&key, &Receipt::of(e).unwrap()).unwrap();
        let token = signed(&event(&ids[0], 2));
        // The second event claims a file more than its receipt was signed for.
        let mut events = [event(&ids[0], 2), event(&ids[1], 3)];
        events[0].receipt = Some(detach(&token));
        events[1].receipt = Some(detach(&signed(&event(&ids[1], 2))));
        let catalog = crate::catalog::Catalog::open_in_memory().unwrap();
        let (ledger, _) = super::super::LedgerDb::open(&catalog).unwrap();
        ledger
            .append(&mut events, &key, super::super::Sealing::default())
            .unwrap();
        let public = VerifyingKey::of(&key);
        assert_eq!(ledger.receipt(&ids[0], &public).unwrap(), token);
        let refused = ledger.receipt(&ids[1], &public).unwrap_err();
        assert!(refused.message().contains("does not verify"), "{refused}");
        assert_eq!(
            ledger.receipt(&ids[2], &public).unwrap_err().code(),
            crate::ErrorCode::ResourceDoesNotExist
        );
    }
}
