//! What every request handler shares: the catalog, the Delta reader, the stores, the signing
//! keys, the credential checks and the audit ledger.

use std::path::Path;

use super::ServerConfig;
use super::identity::{Authenticator, Tokens};
use crate::Result;
use crate::admin;
use crate::audit::Audit;
use crate::auth::Role;
use crate::auth::TokenCache;
use crate::catalog::Catalog;
use crate::delta::DeltaLog;
use crate::secret::ServerSecret;
use crate::sharing;
use crate::signing_key::SigningKey;
use crate::storage::{FileUrlSigner, Stores};

/// The most bytes the results of one admin request may hold.
const MAX_OUTPUT: usize = 16 << 20;

pub struct AppState {
    pub config: ServerConfig,
    pub catalog: Catalog,
    pub delta: DeltaLog,
    /// The object stores tables are read through, and their credentials' vault.
    pub stores: Stores,
    pub signer: FileUrlSigner,
    /// Signs opaque tokens handed to clients (page tokens).
    pub secret: ServerSecret,
    /// Signs OAuth access tokens.
    pub signing_key: SigningKey,
    /// Token holders seen, and last-used times not yet written.
    pub tokens: TokenCache,
    /// The ledger every request is recorded in.
    pub audit: Audit,
    /// Checks callers' credentials.
    pub authenticator: Box<dyn Authenticator>,
    /// Requests per hour, for the console's overview.
    pub activity: crate::audit::activity::Activity,
    /// Shared tables recipients asked for, while the catalog is unchanged.
    pub tables: sharing::TableMemo,
}

impl AppState {
    /// The context of admin statements run with `role` on this server (its caches); relative
    /// table locations are taken from `base_dir`.
    pub fn admin_context<'a>(&'a self, role: Role, base_dir: &'a Path) -> admin::Context<'a> {
        admin::Context {
            role,
            base_dir,
            public_url: &self.config.public_url,
            activation_ttl: self.config.activation_ttl,
            delta: &self.delta,
            stores: &self.stores,
            trail: None,
            who: None,
            admin: None,
            max_output: Some(MAX_OUTPUT),
        }
    }

    /// What the protocol logic needs of this server.
    pub fn sharing(&self) -> sharing::Context<'_> {
        sharing::Context {
            catalog: &self.catalog,
            delta: &self.delta,
            stores: &self.stores,
            signer: &self.signer,
            secret: &self.secret,
            url_ttl: self.config.url_ttl,
            tables: &self.tables,
        }
    }

    /// Opens the data directory: catalog (migrated) and secret key (created on first start).
    pub fn open(config: ServerConfig) -> Result<Self> {
        config.data_dir.ensure()?;
        let catalog = Catalog::open(&config.database)?;
        catalog.check_keys(&config.data_dir, false)?;
        catalog.db().watch();
        let secret = ServerSecret::load_or_create(&config.data_dir.secret_key())?;
        let signing_key = SigningKey::load_or_create(&config.data_dir.signing_key())?;
        let signer = FileUrlSigner::new(secret.clone(), &config.public_url);
        let audit = Audit::open(&config.data_dir, &catalog, config.sealing)?;
        let stores = Stores::open(&config.data_dir)?;
        let delta = DeltaLog::with_file_cache(config.file_cache);
        Ok(AppState {
            config,
            catalog,
            delta,
            stores,
            signer,
            secret,
            signing_key,
            tokens: TokenCache::default(),
            audit,
            authenticator: Box::new(Tokens),
            activity: Default::default(),
            tables: Default::default(),
        })
    }
}
