//! TLS on the main listener (`--tls-cert`, `--tls-key`: PEM files; TLS 1.2 and 1.3 with rustls
//! on aws-lc-rs). The files are read again on SIGHUP and new connections get the new
//! certificate while open ones keep theirs; files that do not load leave the one in use.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::{Error, Result};

/// The certificate the listener presents, and the files it comes from.
pub struct Certificate {
    chain: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
}

impl Certificate {
    /// Reads the certificate chain and its private key (PKCS#8, SEC1 or PKCS#1).
    pub fn load(chain: &Path, key: &Path) -> Result<Arc<Self>> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let current = read(chain, key, &provider)?;
        Ok(Arc::new(Certificate {
            chain: chain.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            current: ArcSwap::from_pointee(current),
        }))
    }

    /// Reads the files again; on failure the certificate in use stays.
    pub fn reload(&self) -> Result<()> {
        self.current
            .store(Arc::new(read(&self.chain, &self.key, &self.provider)?));
        Ok(())
    }

    /// A server configuration presenting this certificate, whichever it is at each handshake.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig> {
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        Ok(
            rustls::ServerConfig::builder_with_provider(self.provider.clone())
                .with_protocol_versions(&versions)
                .map_err(|e| Error::caused("cannot set up TLS", e))?
                .with_no_client_auth()
                .with_cert_resolver(self.clone()),
        )
    }
}

fn read(chain: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey> {
    let unreadable = |path: &Path, e: rustls_pki_types::pem::Error| {
        Error::invalid(format!("cannot read {}: {e}", path.display()))
    };
    let certificates = CertificateDer::pem_file_iter(chain)
        .map_err(|e| unreadable(chain, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| unreadable(chain, e))?;
    if certificates.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no certificate (PEM, BEGIN CERTIFICATE)",
            chain.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable(key, e))?;
    CertifiedKey::from_der(certificates, private, provider).map_err(|e| {
        Error::invalid(format!(
            "{} and {} do not make a certificate: {e}",
            chain.display(),
            key.display()
        ))
    })
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificate({})", self.chain.display())
    }
}

/// Reloads `certificate` on every SIGHUP, for as long as the server runs.
pub async fn reload_on_hangup(certificate: Arc<Certificate>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP: the TLS certificate will not be reloaded");
        return;
    };
    while hangups.recv().await.is_some() {
        match certificate.reload() {
            Ok(()) => {
                tracing::info!(cert = %certificate.chain.display(), "reloaded the TLS certificate")
            }
            Err(e) => tracing::error!(error = %e, "kept the TLS certificate in use"),
        }
    }
}
