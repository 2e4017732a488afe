//! Recipient authentication: bearer tokens, their hashes, and profile files.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{self, Catalog};
use crate::clock::{format_ms, now_ms};
use crate::{Error, Result};

/// Every token starts with this, so leaked tokens are easy to recognise in scanners.
const TOKEN_PREFIX: &str = "fsr_";
/// Characters of a token kept in the catalog for display (the prefix plus 8 of the secret).
const DISPLAY_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 8;

/// Who is calling, once their token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: String,
    pub name: String,
    pub token_id: String,
}

/// A freshly issued token: the secret exists only here and in the profile handed out.
pub struct IssuedToken {
    pub token: String,
    pub token_id: String,
    pub expires_at: Option<i64>,
}

/// Hex SHA-256 of a token: what the catalog stores and looks up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token of 256 random bits for the recipient and stores its hash.
pub fn issue_token(
    catalog: &Catalog,
    recipient: &str,
    lifetime: Option<std::time::Duration>,
) -> Result<IssuedToken> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let expires_at =
        lifetime.map(|d| now_ms().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    let hash = token_hash(&token);
    let token_id = catalog.write(|tx| {
        catalog::insert_token(
            tx,
            recipient,
            &hash,
            &token[..DISPLAY_PREFIX_LEN],
            expires_at,
        )
    })?;
    Ok(IssuedToken {
        token,
        token_id,
        expires_at,
    })
}

/// Checks an `Authorization` header value and returns the recipient it belongs to.
pub fn authenticate(catalog: &Catalog, authorization: Option<&str>) -> Result<Recipient> {
    let token = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
        })?;
    let owner = catalog
        .read(|conn| catalog::token_owner(conn, &token_hash(token)))?
        .ok_or_else(|| Error::unauthenticated("the bearer token is not valid"))?;
    if owner.revoked_at.is_some() {
        return Err(Error::unauthenticated("the bearer token has been revoked"));
    }
    if let Some(expires_at) = owner.expires_at
        && expires_at <= now_ms()
    {
        return Err(Error::unauthenticated(format!(
            "the bearer token expired at {}",
            format_ms(expires_at)
        )));
    }
    Ok(Recipient {
        id: owner.recipient_id,
        name: owner.recipient,
        token_id: owner.token_id,
    })
}

/// A Delta Sharing profile file (`shareCredentialsVersion` 1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub share_credentials_version: u32,
    pub endpoint: String,
    pub bearer_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<String>,
}

impl Profile {
    pub fn new(endpoint: &str, token: &IssuedToken) -> Self {
        Profile {
            share_credentials_version: 1,
            endpoint: endpoint.to_string(),
            bearer_token: token.token.clone(),
            expiration_time: token.expires_at.map(format_ms),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("profile serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn catalog_with_recipient() -> Catalog {
        let catalog = Catalog::open_in_memory().unwrap();
        catalog
            .write(|tx| catalog::create_recipient(tx, "regulator", None, false))
            .unwrap();
        catalog
    }

    #[test]
    fn issued_tokens_authenticate_and_are_stored_hashed() {
        let catalog = catalog_with_recipient();
        let issued = issue_token(&catalog, "regulator", None).unwrap();
        assert!(
            issued.token.len() >= TOKEN_PREFIX.len() + 43,
            "256 bits of secret"
        );
        let who = authenticate(&catalog, Some(&format!("Bearer {}", issued.token))).unwrap();
        assert_eq!(who.name, "regulator");
        let stored: String = catalog
            .read(|c| Ok(c.query_row("SELECT token_hash FROM recipient_tokens", [], |r| r.get(0))?))
            .unwrap();
        assert_ne!(stored, issued.token);
        assert!(!stored.contains(&issued.token[DISPLAY_PREFIX_LEN..]));
    }

    #[test]
    fn wrong_missing_and_expired_tokens_are_refused() {
        let catalog = catalog_with_recipient();
        for header in [
            None,
            Some("Bearer nope"),
            Some("Basic abc"),
            Some("Bearer "),
        ] {
            let e = authenticate(&catalog, header).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::Unauthenticated, "{header:?}");
        }
        let issued = issue_token(&catalog, "regulator", Some(Duration::ZERO)).unwrap();
        let e = authenticate(&catalog, Some(&format!("Bearer {}", issued.token))).unwrap_err();
        assert!(e.message.contains("expired"), "{e}");
    }

    #[test]
    fn dropping_the_recipient_invalidates_its_tokens() {
        let catalog = catalog_with_recipient();
        let issued = issue_token(&catalog, "regulator", None).unwrap();
        catalog
            .write(|tx| catalog::drop_recipient(tx, "regulator", false))
            .unwrap();
        assert!(authenticate(&catalog, Some(&format!("Bearer {}", issued.token))).is_err());
    }

    #[test]
    fn profile_has_the_connector_fields() {
        let catalog = catalog_with_recipient();
        let issued = issue_token(&catalog, "regulator", Some(Duration::from_secs(60))).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&Profile::new("http://h/delta-sharing", &issued).to_json())
                .unwrap();
        assert_eq!(json["shareCredentialsVersion"], 1);
        assert_eq!(json["endpoint"], "http://h/delta-sharing");
        assert!(json["expirationTime"].as_str().unwrap().ends_with('Z'));
    }
}
