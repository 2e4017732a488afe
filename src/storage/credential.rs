//! Storage credentials: the named keys that tables on cloud stores are read and signed with.
//!
//! Each kind takes its own options. The secret options are sealed in the catalog (see
//! `vault`) and never shown again; `key_id` names the key for people (the access key id, the
//! service account, the account).

use std::collections::BTreeMap;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    S3,
    Gcs,
    Azure,
}

/// One option of a kind: its name, whether it must be given, whether it is secret.
struct OptionSpec(&'static str, bool, bool);

const S3_OPTIONS: &[OptionSpec] = &[
    OptionSpec("access_key_id", true, false),
    OptionSpec("secret_access_key", true, true),
    OptionSpec("session_token", false, true),
    OptionSpec("region", false, false),
    OptionSpec("endpoint", false, false),
    OptionSpec("path_style", false, false),
];
const GCS_OPTIONS: &[OptionSpec] = &[OptionSpec("service_account_key", true, true)];
const AZURE_OPTIONS: &[OptionSpec] = &[
    OptionSpec("account_name", true, false),
    OptionSpec("account_key", true, true),
    OptionSpec("endpoint", false, false),
];

/// True for option names that hold no secret in any kind: the only values statement texts keep
/// (everything else, a misspelt secret option included, is redacted).
pub fn is_public_option(name: &str) -> bool {
    [S3_OPTIONS, GCS_OPTIONS, AZURE_OPTIONS]
        .iter()
        .flat_map(|specs| specs.iter())
        .any(|spec| !spec.2 && spec.0.eq_ignore_ascii_case(name))
}

impl CredentialKind {
    pub fn parse(text: &str) -> Result<Self> {
        match text.to_ascii_uppercase().as_str() {
            "S3" => Ok(CredentialKind::S3),
            "GCS" => Ok(CredentialKind::Gcs),
            "AZURE" => Ok(CredentialKind::Azure),
            _ => Err(Error::invalid(format!(
                "unknown storage credential type '{text}': expected S3, GCS or AZURE"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::S3 => "S3",
            CredentialKind::Gcs => "GCS",
            CredentialKind::Azure => "AZURE",
        }
    }

    fn options(self) -> &'static [OptionSpec] {
        match self {
            CredentialKind::S3 => S3_OPTIONS,
            CredentialKind::Gcs => GCS_OPTIONS,
            CredentialKind::Azure => AZURE_OPTIONS,
        }
    }

    /// The kind that reads locations with this URL scheme.
    pub fn of_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "s3" | "s3a" => Some(CredentialKind::S3),
            "gs" => Some(CredentialKind::Gcs),
            "az" | "abfs" | "abfss" => Some(CredentialKind::Azure),
            _ => None,
        }
    }
}

/// A credential's options, split into what may be shown and what is sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageCredential {
    pub kind: CredentialKind,
    pub public: BTreeMap<String, String>,
    pub secret: BTreeMap<String, String>,
}

impl std::fmt::Debug for StorageCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageCredential")
            .field("kind", &self.kind)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl StorageCredential {
    /// Checks the options of `CREATE STORAGE CREDENTIAL … TYPE kind WITH (…)`.
    pub fn new(kind: CredentialKind, options: &[(String, String)]) -> Result<Self> {
        let specs = kind.options();
        let mut credential = StorageCredential {
            kind,
            public: BTreeMap::new(),
            secret: BTreeMap::new(),
        };
        for (name, value) in options {
            let name = name.to_ascii_lowercase();
            let spec = specs.iter().find(|s| s.0 == name).ok_or_else(|| {
                let accepted: Vec<&str> = specs.iter().map(|s| s.0).collect();
                Error::invalid(format!(
                    "{} credentials take no option '{name}'; they take: {}",
                    kind.as_str(),
                    accepted.join(", ")
                ))
            })?;
            let map = if spec.2 {
                &mut credential.secret
            } else {
                &mut credential.public
            };
            if map.insert(name.clone(), value.clone()).is_some() {
                return Err(Error::invalid(format!("option '{name}' is given twice")));
            }
        }
        for spec in specs.iter().filter(|s| s.1) {
            if credential.get(spec.0).is_none_or(|v| v.trim().is_empty()) {
                return Err(Error::invalid(format!(
                    "{} credentials need option '{}'",
                    kind.as_str(),
                    spec.0
                )));
            }
        }
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
        if kind == CredentialKind::Azure {
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
        }
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
        if kind == CredentialKind::Gcs {
            gcs_service_account(credential.get("service_account_key").unwrap_or_default())?;
        }
        Ok(credential)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.public
            .get(name)
            .or_else(|| self.secret.get(name))
            .map(String::as_str)
    }

    /// What names the key without revealing it.
    pub fn key_id(&self) -> String {
        match self.kind {
            CredentialKind::S3 => self.get("access_key_id"),
            CredentialKind::Azure => self.get("account_name"),
            CredentialKind::Gcs => {
                return gcs_service_account(self.get("service_account_key").unwrap_or_default())
                    .unwrap_or_default();
            }
        }
        .unwrap_or_default()
        .to_string()
    }
}

/// The service account (client email) of a GCS key. Only service-account keys carry the
/// private key that signs URLs locally: any other kind (authorized user, metadata server)
/// would cost one `signBlob` call to Google per file URL, so it is refused.
fn gcs_service_account(key: &str) -> Result<String> {
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
