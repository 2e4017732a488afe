//! Authentication: bearer tokens (recipients on the sharing endpoints, admins and auditors on
//! the admin API), their hashes, and profile files.

mod cache;
pub mod ip;
pub mod oauth;
pub mod session;

use cache::Holder;
pub use cache::TokenCache;

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{self, Catalog};
use crate::clock::{duration_ms, format_ms, now_ms};
use crate::{Error, Result};

/// Every token starts with one of these, so leaked tokens are easy to recognise in scanners
/// and in logs: `fsr_` for recipients, `fsa_` for the admin API.
const TOKEN_PREFIX: &str = "fsr_";
const ADMIN_TOKEN_PREFIX: &str = "fsa_";
/// Activation codes (in `/activate/{code}` URLs).
const ACTIVATION_PREFIX: &str = "fsl_";
/// Characters of a token kept in the catalog for display (the prefix plus 8 of the secret).
const DISPLAY_PREFIX_LEN: usize = TOKEN_PREFIX.len() + 8;

/// Who is calling, once their token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: String,
    pub name: String,
    pub token_id: String,
    /// The catalog's state the token was checked against: what the request reads from the
    /// catalog may be remembered under it (see `catalog::Memo`).
    pub stamp: catalog::ChangeStamp,
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

/// A new secret: `prefix` and 256 random bits, URL-safe.
fn new_token(prefix: &str) -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(secret))
}

/// Creates a token for the recipient and stores its hash. Without a `lifetime`, the
/// recipient's `TOKEN LIFETIME` applies (if it has one).
pub fn issue_token(
    catalog: &Catalog,
    recipient: &str,
    lifetime: Option<std::time::Duration>,
) -> Result<IssuedToken> {
    catalog.write(|tx| issue_token_in(tx, recipient, lifetime))
}

/// [`issue_token`] inside the write transaction `tx`.
pub fn issue_token_in(
    tx: &catalog::Tx<'_>,
    recipient: &str,
    lifetime: Option<std::time::Duration>,
) -> Result<IssuedToken> {
    let token = new_token(TOKEN_PREFIX);
    let (token_id, expires_at) = tx.insert_token(
        recipient,
        &token_hash(&token),
        &token[..DISPLAY_PREFIX_LEN],
        lifetime.map(duration_ms),
    )?;
    Ok(IssuedToken {
        token,
        token_id,
        expires_at,
    })
}

/// A new activation code (for a URL path) and the hash the catalog keeps of it.
pub fn new_activation_code() -> (String, String) {
    let code = new_token(ACTIVATION_PREFIX);
    let hash = token_hash(&code);
    (code, hash)
}

/// What presenting an activation code gave.
pub enum Activated {
    /// The link was consumed and this token issued: it exists only in this answer.
    Token {
        recipient: String,
        token: IssuedToken,
    },
    Refused(catalog::Activation),
}

/// Presents an activation code from `client` inside the write transaction `tx`: consumes its
/// link and issues a token (a failure, such as an address outside the recipient's IP access
/// list, rolls both back and leaves the link unused).
pub fn activate(tx: &catalog::Tx<'_>, code: &str, client: Option<IpAddr>) -> Result<Activated> {
    match tx.consume_activation_link(&token_hash(code))? {
        catalog::Activation::Granted { recipient } => {
            let found = tx.require_recipient(&recipient)?;
            check_ip(&found.name, found.ip_access_list.as_deref(), client)?;
            let token = issue_token_in(tx, &recipient, None)?;
            Ok(Activated::Token { recipient, token })
        }
        refused => Ok(Activated::Refused(refused)),
    }
}

/// What an admin-API token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Manages everything.
    Admin,
    /// Reads the catalog (and, later, access history and quality reports); changes nothing.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// Who is calling the admin API, once their token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminCaller {
    pub name: String,
    pub role: Role,
    pub token_id: String,
}

/// Creates an admin-API token for `name` with `role` and stores its hash.
pub fn issue_admin_token(
    catalog: &Catalog,
    name: &str,
    role: Role,
    lifetime: Option<std::time::Duration>,
) -> Result<IssuedToken> {
    catalog.write(|tx| issue_admin_token_in(tx, name, role, lifetime))
}

/// [`issue_admin_token`] inside the write transaction `tx`.
pub fn issue_admin_token_in(
    tx: &catalog::Tx<'_>,
    name: &str,
    role: Role,
    lifetime: Option<std::time::Duration>,
) -> Result<IssuedToken> {
    if name.trim().is_empty() {
        return Err(Error::invalid("an admin token needs a name (who holds it)"));
    }
    let token = new_token(ADMIN_TOKEN_PREFIX);
    let expires_at = lifetime.map(|d| now_ms().saturating_add(duration_ms(d)));
    let token_id = tx.insert_admin_token(
        name,
        role.as_str(),
        &token_hash(&token),
        &token[..DISPLAY_PREFIX_LEN],
        expires_at,
    )?;
    Ok(IssuedToken {
        token,
        token_id,
        expires_at,
    })
}

/// The token of an `Authorization: Bearer …` header; any other scheme is refused (401).
pub fn bearer(authorization: Option<&str>) -> Result<&str> {
    authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::unauthenticated("missing bearer token: send 'Authorization: Bearer <token>'")
        })
}

/// What the audit ledger may keep of a presented credential: the display prefix of a
/// fireshare token (as `DESCRIBE RECIPIENT` shows it), nothing of anything else.
pub fn token_display(authorization: Option<&str>) -> Option<String> {
    let token = bearer(authorization).ok()?;
    [TOKEN_PREFIX, ADMIN_TOKEN_PREFIX]
        .iter()
        .any(|p| token.starts_with(p))
        .then(|| token.chars().take(DISPLAY_PREFIX_LEN).collect())
}

/// Refuses revoked and expired tokens.
fn check_live(revoked_at: Option<i64>, expires_at: Option<i64>) -> Result<()> {
    if revoked_at.is_some() {
        return Err(Error::unauthenticated("the bearer token has been revoked"));
    }
    if let Some(expires_at) = expires_at
        && expires_at <= now_ms()
    {
        return Err(Error::unauthenticated(format!(
            "the bearer token expired at {}",
            format_ms(expires_at)
        )));
    }
    Ok(())
}

/// Refuses a caller outside the recipient's IP access list (403), and logs it.
pub fn check_ip(recipient: &str, list: Option<&[String]>, client: Option<IpAddr>) -> Result<()> {
    let Some(list) = list else {
        return Ok(());
    };
    if client.is_some_and(|ip| ip::allows(list, ip)) {
        return Ok(());
    }
    let from = client.map_or("an unknown address".to_string(), |ip| ip.to_string());
    tracing::warn!(recipient, client = %from, "refused by the recipient's IP access list");
    Err(Error::permission_denied(format!(
        "requests from {from} are not allowed for recipient {recipient}: the address is not in its IP access list"
    )))
}

/// Checks an `Authorization` header value, from `client`, and returns the recipient it belongs
/// to. Admin-API tokens are refused with 403: they are real credentials, but not for sharing.
pub fn authenticate(
    catalog: &Catalog,
    cache: &TokenCache,
    authorization: Option<&str>,
    client: Option<IpAddr>,
) -> Result<Recipient> {
    let (holder, stamp) = cache.holder(catalog, &token_hash(bearer(authorization)?))?;
    let owner = match holder {
        Holder::Recipient(owner) => owner,
        Holder::Admin(_) => {
            return Err(Error::permission_denied(
                "admin and auditor tokens cannot read shared data: use a recipient's token",
            ));
        }
        Holder::Access(_) | Holder::Unknown => {
            return Err(Error::unauthenticated("the bearer token is not valid"));
        }
    };
    check_live(owner.revoked_at, owner.expires_at)?;
    check_ip(&owner.recipient, owner.ip_access_list.as_deref(), client)?;
    cache.touch(&owner.token_id, now_ms());
    Ok(Recipient {
        id: owner.recipient_id.clone(),
        name: owner.recipient.clone(),
        token_id: owner.token_id.clone(),
        stamp,
    })
}

/// Checks an `Authorization` header value on the admin API. Recipient tokens are refused with
/// 403: they only open the sharing endpoints.
pub fn authenticate_admin(
    catalog: &Catalog,
    cache: &TokenCache,
    authorization: Option<&str>,
) -> Result<AdminCaller> {
    let token = bearer(authorization)?;
    if oauth::looks_like_jwt(token) {
        return Err(Error::permission_denied(
            "OAuth access tokens open only the sharing endpoints, not the admin API",
        ));
    }
    let owner = match cache.holder(catalog, &token_hash(token))?.0 {
        Holder::Admin(owner) => owner,
        Holder::Recipient(_) | Holder::Access(_) => {
            return Err(Error::permission_denied(
                "recipient tokens cannot use the admin API",
            ));
        }
        Holder::Unknown => return Err(Error::unauthenticated("the bearer token is not valid")),
    };
    admin_caller(&owner)
}

/// The caller a live admin-API token stands for; revoked and expired ones are refused.
fn admin_caller(owner: &catalog::AdminTokenOwner) -> Result<AdminCaller> {
    check_live(owner.revoked_at, owner.expires_at)?;
    let role = Role::parse(&owner.role).ok_or_else(|| {
        Error::internal(format!("catalog holds an unknown role '{}'", owner.role))
    })?;
    Ok(AdminCaller {
        name: owner.name.clone(),
        role,
        token_id: owner.token_id.clone(),
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
            .write(|tx| {
                let new = catalog::NewRecipient {
                    name: "regulator",
                    ..Default::default()
                };
                tx.create_recipient(&new, false)
            })
            .unwrap();
        catalog
    }

    #[test]
    fn issued_tokens_authenticate_and_are_stored_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&crate::catalog::Location::Sqlite(
            dir.path().join("catalog.db"),
        ))
        .unwrap();
        catalog
            .write(|tx| {
                let new = catalog::NewRecipient {
                    name: "regulator",
                    ..Default::default()
                };
                tx.create_recipient(&new, false)
            })
            .unwrap();
        let issued = issue_token(&catalog, "regulator", None).unwrap();
        assert!(
            issued.token.len() >= TOKEN_PREFIX.len() + 43,
            "256 bits of secret"
        );
        let who = authenticate(
            &catalog,
            &TokenCache::default(),
            Some(&format!("Bearer {}", issued.token)),
            None,
        )
        .unwrap();
        assert_eq!(who.name, "regulator");
        // Found by its hash; the secret part is nowhere in the database files.
        let owner = catalog
            .read(|c| c.token_owner(&token_hash(&issued.token)))
            .unwrap();
        assert_eq!(owner.map(|o| o.recipient), Some("regulator".to_string()));
        let secret = &issued.token[DISPLAY_PREFIX_LEN..];
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
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
            let e = authenticate(&catalog, &TokenCache::default(), header, None).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Unauthenticated, "{header:?}");
        }
        let issued = issue_token(&catalog, "regulator", Some(Duration::ZERO)).unwrap();
        let e = authenticate(
            &catalog,
            &TokenCache::default(),
            Some(&format!("Bearer {}", issued.token)),
            None,
        )
        .unwrap_err();
        assert!(e.message().contains("expired"), "{e}");
    }

    #[test]
    fn dropping_the_recipient_invalidates_its_tokens() {
        let catalog = catalog_with_recipient();
        let issued = issue_token(&catalog, "regulator", None).unwrap();
        catalog
            .write(|tx| tx.drop_recipient("regulator", false))
            .unwrap();
        assert!(
            authenticate(
                &catalog,
                &TokenCache::default(),
                Some(&format!("Bearer {}", issued.token)),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn admin_and_recipient_tokens_only_open_their_own_doors() {
        let catalog = catalog_with_recipient();
        let recipient = issue_token(&catalog, "regulator", None).unwrap();
        let admin = issue_admin_token(&catalog, "ops", Role::Admin, None).unwrap();
        let auditor = issue_admin_token(&catalog, "audit", Role::Auditor, None).unwrap();
        let header = |t: &IssuedToken| format!("Bearer {}", t.token);
        assert!(admin.token.starts_with("fsa_"));
        let caller =
            authenticate_admin(&catalog, &TokenCache::default(), Some(&header(&admin))).unwrap();
        assert_eq!((caller.name.as_str(), caller.role), ("ops", Role::Admin));
        let caller =
            authenticate_admin(&catalog, &TokenCache::default(), Some(&header(&auditor))).unwrap();
        assert_eq!(caller.role, Role::Auditor);
        for (e, code) in [
            (
                authenticate(
                    &catalog,
                    &TokenCache::default(),
                    Some(&header(&admin)),
                    None,
                )
                .unwrap_err(),
                crate::ErrorCode::PermissionDenied,
            ),
            (
                authenticate_admin(&catalog, &TokenCache::default(), Some(&header(&recipient)))
                    .unwrap_err(),
                crate::ErrorCode::PermissionDenied,
            ),
            (
                authenticate_admin(&catalog, &TokenCache::default(), Some("Bearer fsa_nope"))
                    .unwrap_err(),
                crate::ErrorCode::Unauthenticated,
            ),
        ] {
            assert_eq!(e.code(), code, "{e}");
        }
        let expired =
            issue_admin_token(&catalog, "old", Role::Admin, Some(Duration::ZERO)).unwrap();
        assert!(
            authenticate_admin(&catalog, &TokenCache::default(), Some(&header(&expired))).is_err()
        );
        assert!(issue_admin_token(&catalog, " ", Role::Admin, None).is_err());
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
