//! Azure Blob Storage and Data Lake Storage (`az://`, `abfs://`, `abfss://`): read-only SAS
//! URLs for one blob, signed with the storage account's key.

use std::sync::Arc;

use delta_kernel::object_store::azure::MicrosoftAzureBuilder;
use url::Url;

use super::backend::{Backend, Opened, OptionSpec, client_options, configure_error};
use super::credential::{CredentialKind, StorageCredential};
use crate::{Error, Result};

pub struct Azure;

impl Backend for Azure {
    fn kind(&self) -> CredentialKind {
        CredentialKind::Azure
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["az", "abfs", "abfss"]
    }

    fn options(&self) -> &'static [OptionSpec] {
        const OPTIONS: &[OptionSpec] = &[
            OptionSpec {
                name: "account_name",
                required: true,
                secret: false,
            },
            OptionSpec {
                name: "account_key",
                required: true,
                secret: true,
            },
            OptionSpec {
                name: "endpoint",
                required: false,
                secret: false,
            },
        ];
        OPTIONS
    }

    fn check(&self, credential: &StorageCredential) -> Result<()> {
        use base64::Engine as _;
        let key = credential.get("account_key").unwrap_or_default();
        if base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_err()
        {
            return Err(Error::invalid(
                "account_key is not a storage account key (those are base64)",
            ));
        }
        Ok(())
    }

    fn key_id(&self, credential: &StorageCredential) -> String {
        credential
            .get("account_name")
            .unwrap_or_default()
            .to_string()
    }

    fn open(&self, url: &Url, credential: Option<&StorageCredential>) -> Result<Opened> {
        let (options, retry) = client_options();
        let mut builder = match credential {
            Some(_) => MicrosoftAzureBuilder::new(),
            None => MicrosoftAzureBuilder::from_env(),
        }
        .with_url(url.as_str())
        .with_client_options(options)
        .with_retry(retry);
        if let Some(c) = credential {
            let get = |name| c.get(name).unwrap_or_default();
            builder = builder
                .with_account(get("account_name"))
                .with_access_key(get("account_key"));
            if let Some(endpoint) = c.get("endpoint") {
                builder = builder
                    .with_endpoint(endpoint.to_string())
                    .with_allow_http(endpoint.starts_with("http://"));
            }
        }
        let azure = Arc::new(builder.build().map_err(|e| configure_error(url, e))?);
        Ok(Opened {
            objects: azure.clone(),
            signer: azure,
            // The environment's credentials may be temporary.
            reuse_urls: credential.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::backend::testing::{HOUR, location, query};
    use super::super::credential::CredentialKind;

    #[test]
    fn azure_urls_carry_a_read_only_sas_signed_with_the_account_key() {
        let azure = location(
            "abfss://lake@bankacct.dfs.core.windows.net/fire/",
            CredentialKind::Azure,
            &[
                ("account_name", "bankacct"),
                ("account_key", "c2VjcmV0LWtleS1vZi10aGUtYWNjb3VudA=="),
            ],
        );
        let signed = azure.presign("part-0.parquet", HOUR, 0).unwrap().url;
        assert!(
            signed.starts_with("https://bankacct.blob.core.windows.net/lake/fire/part-0.parquet?"),
            "{signed}"
        );
        let q = query(&signed);
        assert_eq!(q["sp"], "r", "read only");
        assert_eq!(q["sr"], "b", "one blob");
        assert!(q.contains_key("se") && q.contains_key("sv"));
        assert!(!q["sig"].is_empty());
    }
}
