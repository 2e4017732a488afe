//! The server's Ed25519 key pair: signs OAuth access tokens (JWT, EdDSA); its public half is
//! published at `/.well-known/jwks.json`. Generated on first start and kept in the data
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
                e.message
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
