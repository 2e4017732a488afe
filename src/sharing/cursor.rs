//! Opaque tokens handed to clients (page and refresh tokens): a JSON payload and an HMAC over it, both base64url. The
//! signature covers a purpose (domain) and a scope (who may use it, for what), so a token is
//! useless when forged, altered, or replayed by another recipient or on another listing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::secret::ServerSecret;
use crate::{Error, Result};

/// Signs `payload` for `domain` and `scope`.
pub fn seal(secret: &ServerSecret, domain: &str, scope: &str, payload: &impl Serialize) -> String {
    let payload = serde_json::to_vec(payload).expect("token payloads serialize");
    let signature = secret.sign(domain, &[scope.as_bytes(), &payload]);
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The payload of a token sealed for `domain` and `scope`; `None` if it was not.
pub fn unseal<T: DeserializeOwned>(
    secret: &ServerSecret,
    domain: &str,
    scope: &str,
    token: &str,
) -> Option<T> {
    let (payload, signature) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if !secret.verify(domain, &[scope.as_bytes(), &payload], &signature) {
        return None;
    }
    serde_json::from_slice(&payload).ok()
}

/// A payload and the time (ms since the epoch) its token stops working.
#[derive(Serialize, Deserialize)]
struct Expiring<T> {
    expires: i64,
    payload: T,
}

/// Seals a cursor (where a paged or refreshed response resumes) valid until `expires`.
pub fn seal_cursor(
    secret: &ServerSecret,
    domain: &str,
    scope: &str,
    payload: &impl Serialize,
    expires: i64,
) -> String {
    seal(secret, domain, scope, &Expiring { expires, payload })
}

/// Opens a cursor sealed by [`seal_cursor`]; `what` names the token in the 400s.
pub fn open_cursor<T: DeserializeOwned>(
    secret: &ServerSecret,
    domain: &str,
    scope: &str,
    token: &str,
    now: i64,
    what: &str,
) -> Result<T> {
    let sealed: Expiring<T> = unseal(secret, domain, scope, token).ok_or_else(|| {
        Error::invalid(format!(
            "Error decoding the {what}: it was not issued for this table and recipient"
        ))
    })?;
    if sealed.expires <= now {
        return Err(Error::invalid(format!(
            "The {what} has expired. Please restart the query."
        )));
    }
    Ok(sealed.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_for_their_domain_and_scope() {
        let s = ServerSecret::for_tests();
        let token = seal(&s, "d", "scope", &(1, "x"));
        assert_eq!(
            unseal::<(i32, String)>(&s, "d", "scope", &token),
            Some((1, "x".into()))
        );
        assert_eq!(unseal::<(i32, String)>(&s, "d", "other", &token), None);
        assert_eq!(unseal::<(i32, String)>(&s, "e", "scope", &token), None);
        let mut forged = token.clone();
        forged.replace_range(0..1, if token.starts_with('a') { "b" } else { "a" });
        assert_eq!(unseal::<(i32, String)>(&s, "d", "scope", &forged), None);
        assert_eq!(unseal::<(i32, String)>(&s, "d", "scope", "garbage"), None);
    }

    #[test]
    fn cursors_expire_and_stay_in_their_scope() {
        let s = ServerSecret::for_tests();
        let token = seal_cursor(&s, "page", "r/t", &10u64, 2_000);
        let open =
            |domain, scope, now| open_cursor::<u64>(&s, domain, scope, &token, now, "page token");
        assert_eq!(open("page", "r/t", 1_000).unwrap(), 10);
        assert_eq!(
            open("page", "r/t", 2_000).unwrap_err().message(),
            "The page token has expired. Please restart the query."
        );
        assert!(open("page", "other/t", 1_000).is_err());
        assert!(open("refresh", "r/t", 1_000).is_err());
    }
}
