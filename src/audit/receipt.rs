//! Signed delivery receipts: the `Fireshare-Receipt` header of every `/query` and `/changes`
//! response, a compact JWS (EdDSA, the audit key) saying which files of which table version
//! a recipient was given. A regulator keeps it to prove what it received; the server's ledger
//! keeps the same receipt in the request's event.

use std::io::Write as _;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
    /// UTC, microseconds.
    pub time: String,
    /// Seconds since the epoch (JWT `iat`).
    pub iat: i64,
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
}
