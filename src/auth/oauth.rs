//! OAuth 2.0 client credentials (RFC 6749 §4.4) for recipients created `USING OAUTH`: a client
//! exchanges its id and secret at `POST /oauth/token` for a short-lived access token, a JWT
//! signed with the server's Ed25519 key (EdDSA) whose claims name the recipient. Each request
//! with an access token checks its signature and expiry, and that its client and recipient
//! still stand, so revoking or dropping the recipient stops its tokens at once.

use std::net::IpAddr;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use std::sync::Arc;

use super::cache::{AccessGrant, Holder};
use super::{Recipient, TokenCache, check_ip, check_live, new_token, token_hash};
use crate::catalog::{self, Catalog};
use crate::clock::now_ms;
use crate::signing_key::SigningKey;
use crate::{Error, Result};

/// Default lifetime of access tokens.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);
const CLIENT_ID_PREFIX: &str = "fsc_";
const CLIENT_SECRET_PREFIX: &str = "fss_";
/// `aud` of the access tokens: they open the sharing endpoints only.
const AUDIENCE: &str = "fireshare-sharing";

/// New client credentials: the secret exists only here (and is shown once).
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
}

/// Creates a client for the recipient and stores the secret's hash.
pub fn create_client(tx: &catalog::Tx<'_>, recipient_id: &str) -> Result<ClientCredentials> {
    // 128 bits are plenty for an identifier; the secret has 256.
    let client_id = new_token(CLIENT_ID_PREFIX)[..CLIENT_ID_PREFIX.len() + 22].to_string();
    let client_secret = new_token(CLIENT_SECRET_PREFIX);
    tx.insert_oauth_client(recipient_id, &client_id, &token_hash(&client_secret))?;
    Ok(ClientCredentials {
        client_id,
        client_secret,
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The recipient's id.
    sub: String,
    client_id: String,
    iat: i64,
    exp: i64,
}

/// A refused exchange, in RFC 6749 §5.2 terms.
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_client` (401), `invalid_request`, `unsupported_grant_type` (400),
    /// `access_denied` (403).
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            description: description.into(),
        }
    }
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" => 401,
            "access_denied" => 403,
            _ => 400,
        }
    }
}

/// An issued access token.
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
    /// Whose token it is.
    pub recipient: String,
}

/// Exchanges client credentials, from `client`, for an access token valid `ttl`.
pub fn exchange(
    catalog: &Catalog,
    key: &SigningKey,
    issuer: &str,
    (client_id, client_secret): (&str, &str),
    client: Option<IpAddr>,
    ttl: Duration,
) -> Result<std::result::Result<AccessToken, OAuthError>> {
    let invalid = || OAuthError::new("invalid_client", "unknown client or wrong secret");
    let Some(found) = catalog.read(|c| c.oauth_client(client_id))? else {
        return Ok(Err(invalid()));
    };
    let presented = token_hash(client_secret);
    if !bool::from(presented.as_bytes().ct_eq(found.secret_hash.as_bytes())) {
        return Ok(Err(invalid()));
    }
    if let Err(e) = check_live(found.revoked_at, found.expires_at) {
        return Ok(Err(OAuthError::new(
            "invalid_client",
            e.message().replace("bearer token", "client"),
        )));
    }
    if let Err(e) = check_ip(&found.recipient, found.ip_access_list.as_deref(), client) {
        return Ok(Err(OAuthError::new("access_denied", e.message())));
    }
    let now = now_ms() / 1000;
    let claims = Claims {
        iss: issuer.to_string(),
        aud: AUDIENCE.to_string(),
        sub: found.recipient_id,
        client_id: found.client_id,
        iat: now,
        exp: now + ttl.as_secs() as i64,
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_string());
    let token = jsonwebtoken::encode(&header, &claims, key.encoding_key())
        .map_err(|e| Error::internal(format!("cannot sign an access token: {e}")))?;
    tracing::info!(
        recipient = found.recipient,
        client_id,
        "access token issued"
    );
    Ok(Ok(AccessToken {
        token,
        expires_in: ttl.as_secs(),
        recipient: found.recipient,
    }))
}

/// True when `token` has the shape of a JWT (and so is not a bearer token of ours).
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.matches('.').count() == 2
}

/// Checks an access token: signature, issuer, audience and expiry, and that its client and
/// recipient still stand. A token verified once is remembered (by its hash) until it expires
/// or the catalog changes, so repeated requests skip the signature check and the catalog.
pub fn authenticate(
    catalog: &Catalog,
    cache: &TokenCache,
    key: &SigningKey,
    issuer: &str,
    token: &str,
    client: Option<IpAddr>,
) -> Result<Recipient> {
    let (holder, stamp) = cache.remembered(catalog, &token_hash(token), |catalog| {
        verify(catalog, key, issuer, token).map(|grant| Holder::Access(Arc::new(grant)))
    })?;
    let Holder::Access(grant) = holder else {
        return Err(Error::unauthenticated("the access token is not valid"));
    };
    if grant.expires_at <= now_ms() / 1000 {
        return Err(Error::unauthenticated(
            "the access token has expired: request a new one",
        ));
    }
    check_ip(&grant.who.name, grant.ip_access_list.as_deref(), client)?;
    Ok(Recipient {
        stamp,
        ..grant.who.clone()
    })
}

fn verify(catalog: &Catalog, key: &SigningKey, issuer: &str, token: &str) -> Result<AccessGrant> {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Claims>(token, key.decoding_key(), &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Error::unauthenticated("the access token has expired: request a new one")
            }
            _ => Error::unauthenticated("the access token is not valid"),
        })?
        .claims;
    let found = catalog
        .read(|c| c.oauth_client(&claims.client_id))?
        .filter(|c| c.recipient_id == claims.sub)
        .ok_or_else(|| Error::unauthenticated("the access token's client no longer exists"))?;
    check_live(found.revoked_at, found.expires_at)
        .map_err(|_| Error::unauthenticated("the access token's client was revoked"))?;
    Ok(AccessGrant {
        who: Recipient {
            id: found.recipient_id,
            name: found.recipient,
            token_id: found.client_id,
            stamp: catalog.change_stamp(),
        },
        expires_at: claims.exp,
        ip_access_list: found.ip_access_list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_become_access_tokens_until_revoked() {
        let catalog = Catalog::open_in_memory().unwrap();
        let key = SigningKey::for_tests();
        let credentials = catalog
            .write(|tx| {
                let new = catalog::NewRecipient {
                    name: "regulator",
                    oauth: true,
                    ..Default::default()
                };
                tx.create_recipient(&new, false)?;
                let id = tx.require_recipient("regulator")?.id;
                create_client(tx, &id)
            })
            .unwrap();
        let exchange = |secret: &str, ttl| {
            exchange(
                &catalog,
                &key,
                "https://x",
                (&credentials.client_id, secret),
                None,
                ttl,
            )
            .unwrap()
        };
        assert_eq!(
            exchange("fss_wrong", ACCESS_TOKEN_TTL).err().unwrap().error,
            "invalid_client"
        );
        let token = exchange(&credentials.client_secret, ACCESS_TOKEN_TTL)
            .unwrap()
            .token;
        assert!(looks_like_jwt(&token));
        let cache = TokenCache::default();
        let check = |key: &SigningKey, issuer: &str, token: &str| {
            authenticate(&catalog, &cache, key, issuer, token, None)
        };
        for _ in 0..2 {
            assert_eq!(check(&key, "https://x", &token).unwrap().name, "regulator");
        }
        // One server has one issuer and key (and one cache): check others with a fresh cache.
        let fresh = |key: &SigningKey, issuer: &str| {
            authenticate(&catalog, &TokenCache::default(), key, issuer, &token, None)
        };
        assert!(fresh(&key, "https://other").is_err(), "issuer");
        assert!(fresh(&SigningKey::for_tests(), "https://x").is_err(), "key");
        let expired = exchange(&credentials.client_secret, Duration::ZERO)
            .unwrap()
            .token;
        std::thread::sleep(Duration::from_millis(1100));
        let e = check(&key, "https://x", &expired).unwrap_err();
        assert!(e.message().contains("expired"), "{e}");
        let who = check(&key, "https://x", &token).unwrap();
        catalog.write(|tx| tx.revoke_credentials(&who.id)).unwrap();
        assert!(
            check(&key, "https://x", &token).is_err(),
            "revoked, though remembered"
        );
        assert_eq!(
            exchange(&credentials.client_secret, ACCESS_TOKEN_TTL)
                .err()
                .unwrap()
                .error,
            "invalid_client"
        );
    }
}
