//! Settings of a running server.

use std::time::Duration;

use crate::audit::Sealing;
use crate::auth::ip::IpNet;
use crate::data_dir::DataDir;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: DataDir,
    /// Address to bind, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Base URL under which clients reach this server (used in file URLs); defaults to
    /// `http://{listen}`.
    pub public_url: String,
    /// Lifetime of signed file URLs.
    pub url_ttl: Duration,
    /// How long a recipient's activation link stays usable.
    pub activation_ttl: Duration,
    /// Proxies whose `X-Forwarded-For` names the client (IP access lists check that address).
    pub trusted_proxies: Vec<IpNet>,
    /// When the audit ledger's head is signed.
    pub sealing: Sealing,
    /// How often new versions of FIRE-bound tables are looked for and validated.
    pub fire_poll: Duration,
}

/// Default lifetime of activation links.
pub const ACTIVATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl ServerConfig {
    pub fn new(data_dir: DataDir, listen: &str, public_url: Option<&str>) -> Self {
        let public_url = public_url
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{listen}"));
        ServerConfig {
            data_dir,
            listen: listen.to_string(),
            public_url,
            url_ttl: Duration::from_secs(3600),
            activation_ttl: ACTIVATION_TTL,
            trusted_proxies: Vec::new(),
            sealing: Sealing::default(),
            fire_poll: Duration::from_secs(30),
        }
    }

    /// The profile `endpoint` of this server.
    pub fn sharing_endpoint(&self) -> String {
        format!("{}{}", self.public_url, super::routes::SHARING_PREFIX)
    }
}
