//! Google Cloud Storage (`gs://`): V4 presigned URLs signed locally with a service
//! account's private key.

use std::sync::Arc;

use delta_kernel::object_store::gcp::GoogleCloudStorageBuilder;
use url::Url;

use super::backend::{Backend, Opened, OptionSpec, client_options, configure_error};
use super::credential::{CredentialKind, StorageCredential};
use crate::{Error, Result};

pub struct Gcs;

impl Backend for Gcs {
    fn kind(&self) -> CredentialKind {
        CredentialKind::Gcs
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["gs"]
    }

    fn options(&self) -> &'static [OptionSpec] {
        const OPTIONS: &[OptionSpec] = &[OptionSpec {
            name: "service_account_key",
            required: true,
            secret: true,
        }];
        OPTIONS
    }

    fn check(&self, credential: &StorageCredential) -> Result<()> {
        service_account(credential.get("service_account_key").unwrap_or_default()).map(drop)
    }

    fn key_id(&self, credential: &StorageCredential) -> String {
        service_account(credential.get("service_account_key").unwrap_or_default())
            .unwrap_or_default()
    }

    fn open(&self, url: &Url, credential: Option<&StorageCredential>) -> Result<Opened> {
        let c = credential.ok_or_else(|| {
            Error::invalid(
                "gs:// tables need a STORAGE CREDENTIAL of TYPE GCS holding a service-account key: \
                 without a private key every file URL would cost a signBlob call to Google",
            )
        })?;
        let (options, retry) = client_options();
        let gcs = GoogleCloudStorageBuilder::new()
            .with_url(url.as_str())
            .with_service_account_key(c.get("service_account_key").unwrap_or_default())
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| configure_error(url, e))?;
        let gcs = Arc::new(gcs);
        Ok(Opened {
            objects: gcs.clone(),
            signer: gcs,
            reuse_urls: true,
        })
    }
}

/// The service account (client email) of a GCS key. Only service-account keys carry the
/// private key that signs URLs locally: any other kind (authorized user, metadata server)
/// would cost one `signBlob` call to Google per file URL, so it is refused.
fn service_account(key: &str) -> Result<String> {
    let refused = |why: &str| {
        Error::invalid(format!(
            "service_account_key must be the JSON key file of a Google service account ({why}): \
             file URLs are signed with its private key, locally; without one every URL would \
             cost a signBlob call to Google"
        ))
    };
    let json: serde_json::Value =
        serde_json::from_str(key).map_err(|_| refused("it is not JSON"))?;
    if json["type"] != "service_account" {
        return Err(refused("its type is not \"service_account\""));
    }
    if json["private_key"].as_str().is_none_or(str::is_empty) {
        return Err(refused("it has no private_key"));
    }
    json["client_email"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| refused("it has no client_email"))
}

#[cfg(test)]
mod tests {
    use super::super::backend::testing::{HOUR, location, query};
    use super::super::credential::CredentialKind;

    #[test]
    fn gcs_urls_are_v4_signed_with_the_service_account_key() {
        use aws_lc_rs::encoding::AsDer;
        use base64::Engine as _;
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let account = serde_json::json!({
            "type": "service_account",
            "project_id": "bank",
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "sharing@bank.iam.gserviceaccount.com",
        })
        .to_string();
        let gcs = location(
            "gs://bank-lake/fire/",
            CredentialKind::Gcs,
            &[("service_account_key", &account)],
        );
        let signed = gcs.presign("part-0.parquet", HOUR, 0).unwrap().url;
        assert!(
            signed.starts_with("https://storage.googleapis.com/bank-lake/fire/part-0.parquet?"),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["X-Goog-Algorithm"], "GOOG4-RSA-SHA256");
        assert!(q["X-Goog-Credential"].starts_with("sharing@bank.iam.gserviceaccount.com/"));
        assert!(q["X-Goog-Credential"].ends_with("/storage/goog4_request"));
        assert_eq!(q["X-Goog-Expires"], "3600");
        // The signature verifies with the service account's public key over the V4
        // string-to-sign recomputed here (GCS's canonical request of a GET).
        use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
        use sha2::{Digest, Sha256};
        let encode = |text: &str| {
            percent_encoding::utf8_percent_encode(text, UNRESERVED_COMPLEMENT).to_string()
        };
        let canonical_query: Vec<String> = q
            .iter()
            .filter(|(k, _)| *k != "X-Goog-Signature")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let canonical_request = format!(
            "GET\n/bank-lake/fire/part-0.parquet\n{}\nhost:storage.googleapis.com\n\nhost\nUNSIGNED-PAYLOAD",
            canonical_query.join("&")
        );
        let scope = q["X-Goog-Credential"].split_once('/').unwrap().1;
        let string_to_sign = format!(
            "GOOG4-RSA-SHA256\n{}\n{scope}\n{}",
            q["X-Goog-Date"],
            hex::encode(Sha256::digest(canonical_request.as_bytes()))
        );
        let signature = hex::decode(&q["X-Goog-Signature"]).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref());
        assert!(
            public.verify(string_to_sign.as_bytes(), &signature).is_ok(),
            "the URL's signature verifies with the service account's key"
        );
        let mut forged = string_to_sign.into_bytes();
        forged[0] ^= 1;
        assert!(public.verify(&forged, &signature).is_err());
    }

    /// Every byte but the unreserved ones (RFC 3986) percent-encoded, as V4 signing wants.
    const UNRESERVED_COMPLEMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
}
