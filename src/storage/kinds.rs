//! Every kind of object store, and what picks one: its name, a location's URL scheme, a
//! credential's kind; credentials checked against their kind's options.

use std::collections::BTreeMap;

use super::backend::Backend;
use super::credential::{CredentialKind, StorageCredential};
use super::{azure, gcs, s3};
use crate::{Error, Result};

/// Every kind, in the order error messages list them.
static BACKENDS: [&dyn Backend; 3] = [&s3::S3, &gcs::Gcs, &azure::Azure];

/// True for option names that hold no secret in any kind: the only values statement texts keep
/// (everything else, a misspelt secret option included, is redacted).
pub fn is_public_option(name: &str) -> bool {
    BACKENDS
        .iter()
        .flat_map(|backend| backend.options())
        .any(|spec| !spec.secret && spec.name.eq_ignore_ascii_case(name))
}

impl CredentialKind {
    pub fn parse(text: &str) -> Result<Self> {
        BACKENDS
            .iter()
            .map(|backend| backend.kind())
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown storage credential type '{text}': expected S3, GCS or AZURE"
                ))
            })
    }

    /// The store kind these credentials are for.
    pub fn backend(self) -> &'static dyn Backend {
        *BACKENDS
            .iter()
            .find(|backend| backend.kind() == self)
            .expect("every kind has its backend")
    }

    /// The kind that reads locations with this URL scheme.
    pub fn of_scheme(scheme: &str) -> Option<Self> {
        BACKENDS
            .iter()
            .find(|backend| backend.schemes().contains(&scheme))
            .map(|backend| backend.kind())
    }
}

impl StorageCredential {
    /// Checks the options of `CREATE STORAGE CREDENTIAL … TYPE kind WITH (…)`.
    pub fn new(kind: CredentialKind, options: &[(String, String)]) -> Result<Self> {
        let specs = kind.backend().options();
        let mut credential = StorageCredential {
            kind,
            public: BTreeMap::new(),
            secret: BTreeMap::new(),
        };
        for (name, value) in options {
            let name = name.to_ascii_lowercase();
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| {
                let accepted: Vec<&str> = specs.iter().map(|s| s.name).collect();
                Error::invalid(format!(
                    "{} credentials take no option '{name}'; they take: {}",
                    kind.as_str(),
                    accepted.join(", ")
                ))
            })?;
            let map = if spec.secret {
                &mut credential.secret
            } else {
                &mut credential.public
            };
            if map.insert(name.clone(), value.clone()).is_some() {
                return Err(Error::invalid(format!("option '{name}' is given twice")));
            }
        }
        for spec in specs.iter().filter(|s| s.required) {
            if credential
                .get(spec.name)
                .is_none_or(|v| v.trim().is_empty())
            {
                return Err(Error::invalid(format!(
                    "{} credentials need option '{}'",
                    kind.as_str(),
                    spec.name
                )));
            }
        }
        kind.backend().check(&credential)?;
        if let Some(endpoint) = credential.get("endpoint") {
            url::Url::parse(endpoint)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "endpoint '{endpoint}' is not an http:// or https:// URL"
                    ))
                })?;
        }
        Ok(credential)
    }

    /// What names the key without revealing it.
    pub fn key_id(&self) -> String {
        self.kind.backend().key_id(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_are_checked_and_split() {
        let c = StorageCredential::new(
            CredentialKind::S3,
            &options(&[
                ("ACCESS_KEY_ID", "AKIA1"),
                ("secret_access_key", "s"),
                ("region", "eu-west-1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.key_id(), "AKIA1");
        assert_eq!(c.secret.keys().collect::<Vec<_>>(), ["secret_access_key"]);
        assert!(!format!("{c:?}").contains("\"s\""), "Debug hides secrets");
        for (bad, why) in [
            (
                vec![("access_key_id", "a")],
                "need option 'secret_access_key'",
            ),
            (
                vec![
                    ("access_key_id", "a"),
                    ("secret_access_key", "s"),
                    ("sas", "x"),
                ],
                "take no option 'sas'",
            ),
            (
                vec![
                    ("access_key_id", "a"),
                    ("access_key_id", "b"),
                    ("secret_access_key", "s"),
                ],
                "twice",
            ),
            (
                vec![
                    ("access_key_id", "a"),
                    ("secret_access_key", "s"),
                    ("path_style", "yes"),
                ],
                "path_style",
            ),
            (
                vec![
                    ("access_key_id", "a"),
                    ("secret_access_key", "s"),
                    ("endpoint", "minio:9000"),
                ],
                "endpoint",
            ),
            (
                vec![
                    ("access_key_id", "a"),
                    ("secret_access_key", "s"),
                    ("endpoint", "https://minio:9000"),
                    ("path_style", "false"),
                ],
                "every bucket",
            ),
        ] {
            let e = StorageCredential::new(CredentialKind::S3, &options(&bad)).unwrap_err();
            assert!(e.message().contains(why), "{e}");
        }
        assert!(is_public_option("Access_Key_Id") && is_public_option("region"));
        assert!(!is_public_option("secret_access_key") && !is_public_option("account_key"));
        assert!(!is_public_option("service_account_key") && !is_public_option("secret_acess_key"));
        assert_eq!(
            CredentialKind::of_scheme("abfss"),
            Some(CredentialKind::Azure)
        );
        assert!(CredentialKind::parse("ftp").is_err());
        let azure = |key: &str| {
            StorageCredential::new(
                CredentialKind::Azure,
                &options(&[("account_name", "a"), ("account_key", key)]),
            )
        };
        assert!(azure("c2VjcmV0").is_ok());
        let e = azure("not base64!").unwrap_err();
        assert!(!e.message().contains("not base64"), "quotes nothing: {e}");
    }

    #[test]
    fn gcs_needs_a_service_account_key() {
        let user = r#"{"type": "authorized_user", "client_id": "x", "refresh_token": "y"}"#;
        let e = StorageCredential::new(
            CredentialKind::Gcs,
            &options(&[("service_account_key", user)]),
        )
        .unwrap_err();
        assert!(e.message().contains("signBlob"), "{e}");
        let key = r#"{"type": "service_account", "client_email": "s@p.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----"}"#;
        let c = StorageCredential::new(
            CredentialKind::Gcs,
            &options(&[("service_account_key", key)]),
        )
        .unwrap();
        assert_eq!(c.key_id(), "s@p.iam.gserviceaccount.com");
    }
}
