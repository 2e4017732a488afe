//! Settings of a running server.

use std::time::Duration;

use crate::audit::Sealing;
use crate::auth::ip::IpNet;
use crate::catalog::Location;
use crate::data_dir::DataDir;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: DataDir,
    /// Where the catalog and the audit ledger live: the data directory's SQLite file, or a
    /// PostgreSQL database shared with other replicas.
    pub database: Location,
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
    /// What a client's connection may hold.
    pub limits: Limits,
    /// A second address serving `/metrics` alone, without credentials.
    pub metrics_listen: Option<String>,
    /// How long running responses may take to finish once the server is asked to stop.
    pub shutdown_grace: Duration,
    /// The certificate and key of the main listener; plain HTTP without.
    pub tls: Option<Tls>,
    /// How long a web console session lasts (at most its token's life); `None`: no console.
    pub console_session: Option<Duration>,
    /// Bytes of snapshot file lists kept in memory (a list bigger than this is replayed from
    /// the log each time).
    pub file_cache: usize,
}

/// PEM files of a TLS certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Bounds on clients' connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The request head (line and headers) must arrive within it.
    pub head_timeout: Duration,
    /// The whole request body must arrive within it, counted from the head.
    pub body_timeout: Duration,
    /// An idle keep-alive connection is closed after it.
    pub keep_alive: Duration,
    /// Connections open at once, over all workers; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Default lifetime of a web console session.
pub const CONSOLE_SESSION: Duration = Duration::from_secs(8 * 3600);

/// Default lifetime of activation links.
pub const ACTIVATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl ServerConfig {
    pub fn new(data_dir: DataDir, listen: &str, public_url: Option<&str>) -> Self {
        let public_url = public_url
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{listen}"));
        ServerConfig {
            database: Location::Sqlite(data_dir.catalog_db()),
            data_dir,
            listen: listen.to_string(),
            public_url,
            url_ttl: Duration::from_secs(3600),
            activation_ttl: ACTIVATION_TTL,
            trusted_proxies: Vec::new(),
            sealing: Sealing::default(),
            fire_poll: Duration::from_secs(30),
            limits: Limits::default(),
            metrics_listen: None,
            shutdown_grace: Duration::from_secs(30),
            tls: None,
            console_session: Some(CONSOLE_SESSION),
            file_cache: crate::delta::DEFAULT_FILE_CACHE_BYTES,
        }
    }

    /// The profile `endpoint` of this server.
    pub fn sharing_endpoint(&self) -> String {
        format!("{}{}", self.public_url, super::routes::SHARING_PREFIX)
    }
}

/// Parses a size such as `512MiB`, `2GiB`, `64KiB`, `0` or a plain number of bytes.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: usize = number.parse().ok()?;
    let scale: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("2 GiB"), Some(2 << 30));
        assert_eq!(parse_bytes("0"), Some(0));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("1MB"), None, "units are binary and named so");
        assert_eq!(parse_bytes("MiB"), None);
        assert_eq!(parse_bytes("99999999999999GiB"), None);
    }
}
