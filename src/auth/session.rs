//! Web console sessions: an admin or auditor token is presented once and exchanged for a
//! random session id (the cookie), of which the catalog keeps only the hash. Every request
//! finds the session with its token, so revoking or expiring the token signs the session out.
//! Forms carry a CSRF token derived from the session id with the server's secret.

use std::time::Duration;

use super::{AdminCaller, admin_caller, authenticate_admin, new_token, token_hash};
use crate::catalog::Catalog;
use crate::clock::{duration_ms, now_ms};
use crate::secret::ServerSecret;
use crate::{Error, Result};

use super::TokenCache;

/// Session ids start with it (like every fireshare secret, to be easy to spot when leaked).
const SESSION_PREFIX: &str = "fss_";
/// The domain of CSRF tokens in the server secret's signatures.
const CSRF_DOMAIN: &str = "console-csrf";

/// A session just opened: the id exists only here and in the browser's cookie.
pub struct Opened {
    pub id: String,
    pub caller: AdminCaller,
    pub expires_at: i64,
}

/// Exchanges an admin-API token for a session that lasts `lifetime`, or until the token
/// expires, whichever comes first.
pub fn open(
    catalog: &Catalog,
    cache: &TokenCache,
    token: &str,
    lifetime: Duration,
) -> Result<Opened> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::unauthenticated(
            "enter an admin or auditor token (fsa_…)",
        ));
    }
    let caller = authenticate_admin(catalog, cache, Some(&format!("Bearer {token}")))?;
    let id = new_token(SESSION_PREFIX);
    let until = now_ms() + duration_ms(lifetime);
    let expires_at =
        catalog.store(|tx| tx.insert_console_session(&token_hash(&id), &caller.token_id, until))?;
    Ok(Opened {
        id,
        caller,
        expires_at,
    })
}

/// Who a session cookie belongs to: refused (401) when it is unknown, signed out, expired, or
/// its token was revoked or expired.
pub fn caller(catalog: &Catalog, id: &str) -> Result<AdminCaller> {
    let found = catalog.read(|tx| tx.console_session(&token_hash(id)))?;
    let Some(session) = found else {
        return Err(Error::unauthenticated("no such console session: sign in"));
    };
    if session.ended_at.is_some() {
        return Err(Error::unauthenticated(
            "this console session was signed out",
        ));
    }
    if session.expires_at <= now_ms() {
        return Err(Error::unauthenticated(
            "this console session expired: sign in again",
        ));
    }
    admin_caller(&session.owner)
}

/// Signs a session out (a no-op for one already ended or unknown).
pub fn close(catalog: &Catalog, id: &str) -> Result<()> {
    catalog.store(|tx| tx.end_console_session(&token_hash(id)))?;
    Ok(())
}

/// The CSRF token of a session: forms send it back, and a request without it changes nothing.
pub fn csrf_token(secret: &ServerSecret, session_id: &str) -> String {
    hex::encode(secret.sign(CSRF_DOMAIN, &[session_id.as_bytes()]))
}

/// Whether `presented` is the session's CSRF token (in constant time).
pub fn csrf_matches(secret: &ServerSecret, session_id: &str, presented: &str) -> bool {
    hex::decode(presented)
        .is_ok_and(|mac| secret.verify(CSRF_DOMAIN, &[session_id.as_bytes()], &mac))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, issue_admin_token};

    #[test]
    fn a_session_lives_as_long_as_its_token() {
        let catalog = Catalog::open_in_memory().unwrap();
        let cache = TokenCache::default();
        let admin = issue_admin_token(&catalog, "alice", Role::Admin, None).unwrap();
        let opened = open(&catalog, &cache, &admin.token, Duration::from_secs(3600)).unwrap();
        assert!(opened.id.starts_with(SESSION_PREFIX));
        assert_eq!(caller(&catalog, &opened.id).unwrap().name, "alice");
        assert!(caller(&catalog, "fss_forged").is_err());

        // Signing out ends this session only.
        let second = open(&catalog, &cache, &admin.token, Duration::from_secs(3600)).unwrap();
        close(&catalog, &opened.id).unwrap();
        let refused = caller(&catalog, &opened.id).unwrap_err();
        assert!(refused.to_string().contains("signed out"), "{refused}");
        assert!(caller(&catalog, &second.id).is_ok());

        // Revoking the token ends every session opened with it.
        let prefix = catalog.read(|tx| tx.admin_tokens()).unwrap()[0]
            .prefix
            .clone();
        catalog.write(|tx| tx.revoke_admin_token(&prefix)).unwrap();
        let refused = caller(&catalog, &second.id).unwrap_err();
        assert!(refused.to_string().contains("revoked"), "{refused}");

        // A recipient token or garbage opens nothing.
        assert!(open(&catalog, &cache, "fsr_nope", Duration::from_secs(60)).is_err());
        assert!(open(&catalog, &cache, " ", Duration::from_secs(60)).is_err());
    }

    #[test]
    fn a_session_ends_with_its_lifetime_or_its_token() {
        let catalog = Catalog::open_in_memory().unwrap();
        let cache = TokenCache::default();
        let short = Duration::from_secs(60);
        let admin = issue_admin_token(&catalog, "bob", Role::Auditor, Some(short)).unwrap();
        let opened = open(&catalog, &cache, &admin.token, Duration::from_secs(86400)).unwrap();
        assert!(opened.expires_at <= now_ms() + duration_ms(short));
        assert_eq!(opened.caller.role, Role::Auditor);
        let expired = open(&catalog, &cache, &admin.token, Duration::ZERO).unwrap();
        assert!(caller(&catalog, &expired.id).is_err());
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let secret = ServerSecret::for_tests();
        let token = csrf_token(&secret, "fss_a");
        assert!(csrf_matches(&secret, "fss_a", &token));
        assert!(!csrf_matches(&secret, "fss_b", &token));
        assert!(!csrf_matches(&secret, "fss_a", ""));
        assert!(!csrf_matches(&secret, "fss_a", "zz"));
    }
}
