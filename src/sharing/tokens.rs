//! Opaque tokens handed to clients: a JSON payload and an HMAC over it, both base64url. The
//! signature covers a purpose (domain) and a scope (who may use it, for what), so a token is
//! useless when forged, altered, or replayed by another recipient or on another listing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::ServerSecret;

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
}
