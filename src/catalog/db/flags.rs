//! The command line's flags that say where the catalog lives and how a process uses it.

use std::time::Duration;

use super::{Location, PgSettings};
use crate::Result;
use crate::data_dir::DataDir;

/// Where the catalog and the audit ledger live.
#[derive(clap::Args)]
pub struct DatabaseFlags {
    /// Keep the catalog and the audit ledger in PostgreSQL (14 or later), shared by every
    /// replica: postgres://user[:password]@host[:port]/database, with
    /// ?sslmode=require|verify-ca|verify-full&sslrootcert=/path/ca.pem for TLS. Without it: the
    /// SQLite file in --data-dir. The keys stay in --data-dir either way.
    #[arg(long, env = "FIRESHARE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL connections this process opens at most (background FIRE validation holds
    /// one while it uses another).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..=1000))]
    pub database_pool_size: u64,
    /// A PostgreSQL statement (a wait for another replica's write included) is cancelled
    /// after this (the request answers 503).
    #[arg(long, default_value = "30s", value_parser = duration)]
    pub database_statement_timeout: Duration,
    /// Connecting to PostgreSQL, or waiting for a free connection of the pool, gives up after
    /// this (the request answers 503).
    #[arg(long, default_value = "5s", value_parser = duration)]
    pub database_connect_timeout: Duration,
}

impl DatabaseFlags {
    /// Where the catalog lives: `--database-url`, or the SQLite file of `data_dir`.
    pub fn location(&self, data_dir: &DataDir) -> Result<Location> {
        Ok(match &self.database_url {
            None => Location::Sqlite(data_dir.catalog_db()),
            Some(url) => {
                let mut settings = PgSettings::parse(url)?;
                settings.pool_size = self.database_pool_size as usize;
                settings.statement_timeout = self.database_statement_timeout;
                settings.connect_timeout = self.database_connect_timeout;
                Location::Postgres(Box::new(settings))
            }
        })
    }
}

fn duration(text: &str) -> std::result::Result<Duration, String> {
    crate::clock::parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration: use a number and s, m or h, e.g. 5s"))
}
