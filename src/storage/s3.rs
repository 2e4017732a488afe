//! Amazon S3 and S3-compatible servers (`s3://`, `s3a://`): SigV4 presigned URLs, with a
//! custom endpoint and path-style requests for servers other than AWS.

use std::sync::Arc;

use delta_kernel::object_store::aws::AmazonS3Builder;
use url::Url;

use super::backend::{Backend, Opened, OptionSpec, client_options, configure_error};
use super::credential::{CredentialKind, StorageCredential};
use crate::{Error, Result};

pub struct S3;

impl Backend for S3 {
    fn kind(&self) -> CredentialKind {
        CredentialKind::S3
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["s3", "s3a"]
    }

    fn options(&self) -> &'static [OptionSpec] {
        const OPTIONS: &[OptionSpec] = &[
            OptionSpec {
                name: "access_key_id",
                required: true,
                secret: false,
            },
            OptionSpec {
                name: "secret_access_key",
                required: true,
                secret: true,
            },
            OptionSpec {
                name: "session_token",
                required: false,
                secret: true,
            },
            OptionSpec {
                name: "region",
                required: false,
                secret: false,
            },
            OptionSpec {
                name: "endpoint",
                required: false,
                secret: false,
            },
            OptionSpec {
                name: "path_style",
                required: false,
                secret: false,
            },
        ];
        OPTIONS
    }

    fn check(&self, credential: &StorageCredential) -> Result<()> {
        if let Some(style) = credential.get("path_style")
            && !matches!(style, "true" | "false")
        {
            return Err(Error::invalid("path_style must be 'true' or 'false'"));
        }
        if credential.get("endpoint").is_some() && credential.get("path_style") == Some("false") {
            return Err(Error::invalid(
                "path_style 'false' with an endpoint would send every bucket's requests to the endpoint's host: \
                 give path_style 'true', or leave out the endpoint for AWS",
            ));
        }
        Ok(())
    }

    fn key_id(&self, credential: &StorageCredential) -> String {
        credential
            .get("access_key_id")
            .unwrap_or_default()
            .to_string()
    }

    fn open(&self, url: &Url, credential: Option<&StorageCredential>) -> Result<Opened> {
        let (options, retry) = client_options();
        let mut builder = match credential {
            Some(_) => AmazonS3Builder::new(),
            None => AmazonS3Builder::from_env(),
        }
        .with_url(url.as_str())
        .with_client_options(options)
        .with_retry(retry);
        if let Some(c) = credential {
            let get = |name| c.get(name).unwrap_or_default();
            builder = builder
                .with_access_key_id(get("access_key_id"))
                .with_secret_access_key(get("secret_access_key"))
                .with_region(c.get("region").unwrap_or("us-east-1"));
            if let Some(token) = c.get("session_token") {
                builder = builder.with_token(token);
            }
            if let Some(endpoint) = c.get("endpoint") {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            // S3-compatible servers mostly want path-style requests; AWS itself prefers
            // virtual-hosted ones.
            let path_style = c
                .get("path_style")
                .map_or(c.get("endpoint").is_some(), |s| s == "true");
            builder = builder.with_virtual_hosted_style_request(!path_style);
        }
        let s3 = Arc::new(builder.build().map_err(|e| configure_error(url, e))?);
        // A session token (or the environment's credentials) may expire before the URL.
        let long_term = credential.is_some_and(|c| c.get("session_token").is_none());
        Ok(Opened {
            objects: s3.clone(),
            signer: s3,
            reuse_urls: long_term,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAX_URL_LIFETIME;
    use super::super::backend::testing::{HOUR, location, query};
    use super::super::credential::CredentialKind;

    #[test]
    fn s3_urls_are_sigv4_presigned_for_aws_and_custom_endpoints() {
        let s3 = [
            ("access_key_id", "AKIAEXAMPLE"),
            ("secret_access_key", "secret"),
        ];
        let aws = location(
            "s3://bank-lake/fire/loans/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("region", "eu-west-1")],
        );
        let file = "region=eu/part 1.parquet";
        let signed = aws.presign(file, HOUR, 1_500).unwrap();
        assert_eq!(
            signed.expires_at,
            1_000 + 3_600_000,
            "dated in whole seconds"
        );
        // Signed again within the first quarter of its life: the same URL; later, a new one.
        assert_eq!(aws.presign(file, HOUR, 901_000).unwrap(), signed);
        let later = aws.presign(file, HOUR, 901_001).unwrap();
        assert_eq!(later.expires_at, 901_000 + 3_600_000);
        assert_eq!(aws.earliest_expiry(HOUR, 1_500), 1_000 + 2_700_000);
        // With a session token the credential may expire first: no reuse.
        let session = location(
            "s3://bank-lake/fire/loans/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("session_token", "token")],
        );
        let first = session.presign("a.parquet", HOUR, 0).unwrap();
        assert_ne!(session.presign("a.parquet", HOUR, 5_000).unwrap(), first);
        assert_eq!(session.earliest_expiry(HOUR, 1_500), 1_000 + 3_600_000);
        let signed = signed.url;
        assert!(
            signed.starts_with(
                "https://bank-lake.s3.eu-west-1.amazonaws.com/fire/loans/region%3Deu/part%201.parquet?"
            ),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert!(q["X-Amz-Credential"].starts_with("AKIAEXAMPLE/"));
        assert!(q["X-Amz-Credential"].ends_with("/eu-west-1/s3/aws4_request"));
        assert_eq!(q["X-Amz-Expires"], "3600");
        assert_eq!(q["X-Amz-SignedHeaders"], "host");
        assert_eq!(q["X-Amz-Signature"].len(), 64);
        assert!(!signed.contains("secret"));

        let minio = location(
            "s3://lake/t/",
            CredentialKind::S3,
            &[s3[0], s3[1], ("endpoint", "http://minio.internal:9000")],
        );
        let signed = minio.presign("a.parquet", MAX_URL_LIFETIME, 0).unwrap().url;
        assert!(
            signed.starts_with("http://minio.internal:9000/lake/t/a.parquet?"),
            "path style at the endpoint: {signed}"
        );
        // SigV4 URLs live at most 7 days.
        assert_eq!(query(&signed)["X-Amz-Expires"], "604800");
        assert!(minio.presign("../other/a.parquet", HOUR, 0).is_err());
        assert!(minio.presign("s3://elsewhere/a.parquet", HOUR, 0).is_err());
    }
}
