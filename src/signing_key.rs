//! An Ed25519 key pair of the server. One signs OAuth access tokens (JWT, EdDSA; its public half
//! is published at `/.well-known/jwks.json`), another the audit ledger's seals and the delivery
//! receipts (`/.well-known/fireshare-audit-key`). Generated on first start and kept in the data
//! directory as PKCS#8 with mode 0600.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

pub struct SigningKey {
    /// The raw 32-byte public key.
    public: Vec<u8>,
    /// Key id: names this key in token headers and the key set.
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// For raw signatures (audit seals).
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

impl SigningKey {
    /// Reads the key at `path`, creating it (0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let pkcs8 = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(|_| Error::internal("cannot generate an Ed25519 key"))?;
                crate::secret::write_private(path, document.as_ref())?;
                document.as_ref().to_vec()
            }
            Err(e) => {
                return Err(Error::internal(format!(
                    "cannot read signing key {}: {e}",
                    path.display()
                )));
            }
        };
        Self::from_pkcs8(&pkcs8).map_err(|e| {
            Error::internal(format!(
                "signing key {} is corrupt: {}",
                path.display(),
                e.message()
            ))
        })
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| Error::internal("not an Ed25519 PKCS#8 key"))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = hex::encode(&Sha256::digest(&public)[..8]);
        Ok(SigningKey {
            encoding: EncodingKey::from_ed_der(pkcs8),
            decoding: DecodingKey::from_ed_der(&public),
            public,
            kid,
            pair,
        })
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::from_pkcs8(document.as_ref()).unwrap()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// A raw Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The JSON Web Key Set holding the public key (RFC 8037: OKP, Ed25519).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(&self.public),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }]})
    }
}

/// The public half of a [`SigningKey`], read from its key set: verifies what the key signed,
/// with nothing but the published document.
pub struct VerifyingKey {
    pub kid: String,
    public: Vec<u8>,
    decoding: DecodingKey,
}

impl VerifyingKey {
    pub fn of(key: &SigningKey) -> Self {
        VerifyingKey {
            kid: key.kid.clone(),
            public: key.public.clone(),
            decoding: DecodingKey::from_ed_der(&key.public),
        }
    }

    /// The first Ed25519 key of a JSON Web Key Set, as [`SigningKey::jwks`] writes it.
    pub fn from_jwks(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid(format!("not an Ed25519 key set: {why}"));
        let document: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let key = document["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["crv"] == "Ed25519"))
            .ok_or_else(|| bad("no key with crv Ed25519"))?;
        let public = key["x"]
            .as_str()
            .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
            .filter(|x| x.len() == 32)
            .ok_or_else(|| bad("x is not a 32-byte base64url value"))?;
        Ok(VerifyingKey {
            kid: key["kid"].as_str().unwrap_or_default().to_string(),
            decoding: DecodingKey::from_ed_der(&public),
            public,
        })
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &self.public)
            .verify(message, signature)
            .is_ok()
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}
