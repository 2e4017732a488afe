//! PostgreSQL: a database several replicas share, through a bounded pool of connections
//! (the synchronous `postgres` client: the catalog is called from blocking threads, like
//! SQLite). Each connection keeps its prepared statements; its statements time out after
//! `--database-statement-timeout`. Writes are transactions that first take an advisory lock
//! ([`Lock`]), so that replicas write one at a time, as SQLite's processes do. A connection
//! that fails is dropped with every idle one (they reached the same server); the next request
//! connects again, so a replica recovers by itself when the database returns, and answers 503
//! while it is away.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, Statement};

use super::watch::{LEASE, Watcher};
use super::{Conn, ConnOf, Lock, Param, Row, RowOf, Value, migrations, newer_schema};
use crate::{Error, Result};

/// The schema, in order; `schema_migrations` lists those applied.
const MIGRATIONS: &[(&str, &str)] = migrations!["postgres/" / "0001_initial"];

/// How to reach the database, and how much of it a replica may use.
#[derive(Clone)]
pub struct PgSettings {
    /// The URL without the TLS parameters read here (`sslmode`, `sslrootcert`).
    config: postgres::Config,
    tls: TlsMode,
    /// Connections open at most.
    pub pool_size: usize,
    /// A statement (an advisory lock's wait included) is cancelled after this.
    pub statement_timeout: Duration,
    /// Connecting gives up after this.
    pub connect_timeout: Duration,
}

/// libpq's `sslmode`s: what TLS is asked for and what is checked of the server.
#[derive(Clone, Debug, PartialEq)]
enum TlsMode {
    Disable,
    /// TLS when the server offers it, unchecked (libpq's default).
    Prefer,
    /// TLS, unchecked: encryption against eavesdroppers, not against an impostor.
    Require,
    /// TLS with a certificate the CA file vouches for...
    VerifyCa(std::path::PathBuf),
    /// ...issued for the host connected to.
    VerifyFull(std::path::PathBuf),
}

impl PgSettings {
    /// Reads a `postgres://user[:password]@host[:port]/db[?sslmode=…&sslrootcert=…]` URL.
    pub fn parse(url: &str) -> Result<PgSettings> {
        let bad = |why: String| Error::invalid(format!("--database-url: {why}"));
        let mut parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if !["postgres", "postgresql"].contains(&parsed.scheme()) {
            return Err(bad("use postgres://user@host:port/database".into()));
        }
        let (mut mode, mut root) = ("prefer".to_string(), None);
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter_map(|(k, v)| match k.as_ref() {
                "sslmode" => {
                    mode = v.into_owned();
                    None
                }
                "sslrootcert" => {
                    root = Some(std::path::PathBuf::from(v.as_ref()));
                    None
                }
                _ => Some((k.into_owned(), v.into_owned())),
            })
            .collect();
        parsed.set_query(None);
        if !kept.is_empty() {
            parsed.query_pairs_mut().extend_pairs(kept);
        }
        let tls = match (mode.as_str(), root) {
            ("disable", _) => TlsMode::Disable,
            ("prefer", _) => TlsMode::Prefer,
            ("require", None) => TlsMode::Require,
            // As libpq: a CA file given makes `require` check the chain.
            ("require" | "verify-ca", Some(root)) => TlsMode::VerifyCa(root),
            ("verify-full", Some(root)) => TlsMode::VerifyFull(root),
            ("verify-ca" | "verify-full", None) => {
                return Err(bad(format!(
                    "sslmode={mode} needs sslrootcert=/path/to/ca.pem"
                )));
            }
            (other, _) => {
                return Err(bad(format!(
                    "unknown sslmode '{other}': use disable, prefer, require, verify-ca or verify-full"
                )));
            }
        };
        let config = postgres::Config::from_str(parsed.as_str()).map_err(|e| bad(e.to_string()))?;
        Ok(PgSettings {
            config,
            tls,
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        })
    }

    pub(super) fn connect(&self) -> Result<Client> {
        let mut config = self.config.clone();
        config.connect_timeout(self.connect_timeout);
        // A connection held idle (a named lock during a long FIRE validation) stays open
        // through firewalls and NATs that drop silent ones; a dead server is noticed sooner.
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("fireshare");
        }
        let client = match &self.tls {
            TlsMode::Disable => config.connect(postgres::NoTls),
            mode => {
                config.ssl_mode(if *mode == TlsMode::Prefer {
                    postgres::config::SslMode::Prefer
                } else {
                    postgres::config::SslMode::Require
                });
                config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                    tls::client_config(mode)?,
                ))
            }
        };
        let mut client = client.map_err(|e| unreachable_error(&e))?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}",
                self.statement_timeout.as_millis()
            ))
            .map_err(Error::from)?;
        Ok(client)
    }
}

/// Never shows the password.
impl fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSettings")
            .field("user", &self.config.get_user())
            .field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("dbname", &self.config.get_dbname())
            .field("tls", &self.tls)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// A connection and the statements it has prepared.
pub(super) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// A transaction or a session lock is open on it: until it ends, it is never lent again
    /// (if it does not end, the connection is closed, which ends both).
    holding: bool,
    /// A statement failed on the connection itself: it is dropped, with every idle one.
    failed: bool,
    idle_since: Instant,
}

/// Prepared statements kept per connection at most (statements are a few dozen texts; the
/// bound only guards against texts built per call).
const MAX_STATEMENTS: usize = 512;

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .prepare(&numbered(sql))
            .map_err(|e| self.failure(e))?;
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Notes whether `e` broke the connection.
    fn failure(&mut self, e: postgres::Error) -> Error {
        // A statement prepared before another replica migrated the table it reads (`SELECT
        // *`) is refused: this connection's prepared statements are stale, and so are the
        // idle ones'.
        if connection_lost(&e)
            || e.code() == Some(&postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
        {
            self.failed = true;
        }
        e.into()
    }

    pub(super) fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        self.query_each(sql, params, &mut |_| Ok(()))
    }

    /// Calls `each` with every row of the statement, as they come; returns how many rows it
    /// changed (or gave).
    pub(super) fn query_each(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<usize> {
        use postgres::fallible_iterator::FallibleIterator;
        let statement = self.statement(sql)?;
        let bound: Vec<Bind<'_>> = params.iter().map(|p| Bind(p.value())).collect();
        let mut refused = None;
        let read = (|| {
            let mut rows = self.client.query_raw(&statement, bound.iter())?;
            while let Some(row) = rows.next()? {
                if let Err(e) = each(&Row(RowOf::Postgres(&row))) {
                    refused = Some(e);
                    return Ok(0);
                }
            }
            Ok(rows.rows_affected().unwrap_or(0) as usize)
        })();
        match (read, refused) {
            (Err(e), _) => Err(self.failure(e)),
            (Ok(_), Some(e)) => Err(e),
            (Ok(changed), None) => Ok(changed),
        }
    }

    pub(super) fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.failure(e))
    }
}

/// SQLite's `?N` placeholders as PostgreSQL's `$N` (outside quoted text).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => quoted = !quoted,
            '?' if !quoted => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The first key of the two-key advisory locks [`Pool::exclusively`] takes by name ("fsha");
/// the one-key locks of [`Lock`] are another space.
const NAMED_LOCKS: i32 = 0x6673_6861;

/// The statement that takes `lock` for the rest of the transaction. The keys are fireshare's
/// own: "fsha" and a number.
pub(super) fn lock_statement(lock: Lock) -> String {
    let key: i64 = 0x6673_6861_0000_0000
        + match lock {
            Lock::Catalog => 1,
            Lock::Ledger => 2,
            Lock::Migrations => 3,
        };
    format!("SELECT pg_advisory_xact_lock({key})")
}

/// Connections to one database, at most `pool_size` open.
pub(super) struct Pool {
    settings: PgSettings,
    state: Mutex<PoolState>,
    returned: Condvar,
    /// A server's watcher of catalog changes (see `watch`); none in a command.
    watcher: std::sync::OnceLock<Watcher>,
}

struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
}

/// A connection idle longer than this is checked (one round trip) before it is used again:
/// the database may have restarted meanwhile.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

impl Pool {
    pub(super) fn new(settings: &PgSettings) -> Result<Pool> {
        let pool = Pool {
            settings: settings.clone(),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
            watcher: std::sync::OnceLock::new(),
        };
        // Fail at start, not at the first request, when the database cannot be reached.
        drop(pool.get()?);
        Ok(pool)
    }

    fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.settings.connect_timeout;
        let mut state = self.state();
        loop {
            if let Some(mut conn) = state.idle.pop() {
                drop(state);
                if conn.idle_since.elapsed() < CHECK_AFTER_IDLE
                    || conn.client.is_valid(self.settings.connect_timeout).is_ok()
                {
                    return Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    });
                }
                // The server went away: so did the other idle connections.
                let stale = {
                    let mut state = self.state();
                    let stale = std::mem::take(&mut state.idle);
                    state.open -= 1 + stale.len();
                    stale
                };
                drop((conn, stale));
                state = self.state();
                continue;
            }
            if state.open < self.settings.pool_size {
                state.open += 1;
                drop(state);
                return match self.settings.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        conn: Some(PgConn {
                            client,
                            statements: HashMap::new(),
                            holding: false,
                            failed: false,
                            idle_since: Instant::now(),
                        }),
                    }),
                    Err(e) => {
                        self.state().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::unavailable(format!(
                    "all {} database connections stayed busy for {:?}",
                    self.settings.pool_size, self.settings.connect_timeout
                )));
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Runs `work` on a connection of the pool (lent as a cell: statements borrow it in turn).
    pub(super) fn read<T>(&self, work: impl FnOnce(&RefCell<PgConn>) -> Result<T>) -> Result<T> {
        let mut pooled = self.get()?;
        let cell = RefCell::new(pooled.conn.take().expect("lent until dropped"));
        let value = work(&cell);
        pooled.conn = Some(cell.into_inner());
        value
    }

    pub(super) fn write<T>(
        &self,
        lock: Lock,
        work: impl FnOnce(&RefCell<PgConn>) -> Result<T>,
    ) -> Result<T> {
        self.transaction(&format!("BEGIN; {}", lock_statement(lock)), work)
    }

    pub(super) fn snapshot<T>(
        &self,
        work: impl FnOnce(&RefCell<PgConn>) -> Result<T>,
    ) -> Result<T> {
        // A snapshot reads a whole ledger, as long as that takes.
        self.transaction(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = 0",
            work,
        )
    }

    /// Runs `work` between `begin` and `COMMIT` (`ROLLBACK` when it fails).
    fn transaction<T>(
        &self,
        begin: &str,
        work: impl FnOnce(&RefCell<PgConn>) -> Result<T>,
    ) -> Result<T> {
        self.read(|cell| {
            let run = |sql: &str| cell.borrow_mut().batch(sql);
            cell.borrow_mut().holding = true;
            run(begin)?;
            let value = match work(cell) {
                Ok(value) => value,
                Err(e) => {
                    if run("ROLLBACK").is_ok() {
                        cell.borrow_mut().holding = false;
                    }
                    return Err(e);
                }
            };
            run("COMMIT")?;
            cell.borrow_mut().holding = false;
            Ok(value)
        })
    }

    /// Runs `work` unless another process holds the lock named `name`; holds it meanwhile on
    /// a connection of its own, so that it ends with this process if that dies first.
    pub(super) fn exclusively<T>(
        &self,
        name: &str,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<Option<T>> {
        let key = super::params![NAMED_LOCKS, name];
        self.read(|cell| {
            cell.borrow_mut().holding = true;
            let taken: bool = Conn(ConnOf::Postgres(cell)).query_one(
                "SELECT pg_try_advisory_lock(?1, hashtext(?2))",
                key,
                |r| r.get(0),
            )?;
            if !taken {
                cell.borrow_mut().holding = false;
                return Ok(None);
            }
            let outcome = work();
            cell.borrow_mut()
                .execute("SELECT pg_advisory_unlock(?1, hashtext(?2))", key)?;
            cell.borrow_mut().holding = false;
            outcome.map(Some)
        })
    }

    /// Starts this process's watcher of catalog changes (once).
    pub(super) fn watch(&self) {
        let settings = self.settings.clone();
        self.watcher
            .get_or_init(|| Watcher::start(move || settings.connect()));
    }

    /// The catalog's change counter as the watcher knows it, while it is fresh.
    pub(super) fn known_changes(&self) -> Option<i64> {
        self.watcher.get().and_then(Watcher::known)
    }

    /// After a change made the counter `n`: waits until every replica that confirmed within
    /// [`LEASE`] (but this one) has confirmed `n` or more, for [`LEASE`] at most. When the
    /// confirmations cannot be read, it waits the whole lease: by then every replica has
    /// either confirmed `n` or stopped trusting what it remembers.
    pub(super) fn await_replicas(&self, n: i64) {
        let me = self.watcher.get().map(|w| w.id.as_str());
        let deadline = Instant::now() + LEASE;
        let mut pause = Duration::from_millis(1);
        loop {
            let behind: Result<Vec<String>> = self.read(|cell| {
                Conn(ConnOf::Postgres(cell)).query_all(
                    "SELECT id FROM replicas
                     WHERE seen < ?1 AND heartbeat_at > now() - make_interval(secs => ?2)
                       AND id <> coalesce(?3, '')",
                    super::params![n, LEASE.as_secs_f64(), me],
                    |r| r.get(0),
                )
            });
            match behind {
                Ok(behind) if behind.is_empty() => return,
                Ok(behind) if Instant::now() >= deadline => {
                    tracing::warn!(replicas = ?behind, "replicas did not confirm a catalog change in time: they ask the database on every request until they do");
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e.explained(), "cannot read which replicas confirmed a catalog change: waiting out the lease");
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    return;
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    pub(super) fn migrate(&self) -> Result<(usize, usize)> {
        self.write(Lock::Migrations, |cell| {
            cell.borrow_mut().batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version BIGINT PRIMARY KEY,
                     name TEXT NOT NULL,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )?;
            let applied: usize = Conn(ConnOf::Postgres(cell)).query_one(
                "SELECT CAST(coalesce(max(version), 0) AS BIGINT) FROM schema_migrations",
                &[],
                |r| r.get(0),
            )?;
            let conn = &mut *cell.borrow_mut();
            if applied > MIGRATIONS.len() {
                return Err(newer_schema(applied, MIGRATIONS.len()));
            }
            for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
                conn.batch(sql).map_err(|e| {
                    e.map_message(|m| format!("catalog migration {name} failed: {m}"))
                })?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                    super::params![index + 1, name],
                )?;
                tracing::info!(migration = name, "applied catalog migration");
            }
            Ok((MIGRATIONS.len() - applied, MIGRATIONS.len()))
        })
    }
}

impl Drop for Pool {
    /// On a thread of its own: each connection holds a small runtime, which must not be
    /// dropped on an async worker (a server's state ends on one). Lent connections are
    /// dropped on the blocking threads that use them.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state().idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// A connection lent by the pool, given back when dropped (or closed, if it failed or was
/// left inside a transaction).
struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<PgConn>,
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.state();
        let Some(mut conn) = self.conn.take() else {
            // Lost in a panic.
            state.open -= 1;
            drop(state);
            self.pool.returned.notify_one();
            return;
        };
        if conn.failed || conn.holding || conn.client.is_closed() {
            // Every idle connection too when this one found the server gone.
            let stale = match conn.failed {
                true => std::mem::take(&mut state.idle),
                false => Vec::new(),
            };
            state.open -= 1 + stale.len();
            drop(state);
            drop((conn, stale));
        } else {
            conn.idle_since = Instant::now();
            state.idle.push(conn);
            drop(state);
        }
        self.pool.returned.notify_one();
    }
}

/// A parameter as PostgreSQL takes it: converted to whatever type the statement expects.
#[derive(Debug)]
struct Bind<'a>(Value<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (Value::Int(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (Value::Int(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (Value::Int(n), &Type::BOOL) => (n != 0).to_sql(ty, out),
            (Value::Int(n), &Type::FLOAT8) => (n as f64).to_sql(ty, out),
            (Value::Real(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (Value::Real(x), &Type::FLOAT4) => (x as f32).to_sql(ty, out),
            (Value::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            (Value::Text(s), ty) if <&str as ToSql>::accepts(ty) => s.to_sql(ty, out),
            (value, ty) => Err(format!("cannot pass {value:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

pub(super) fn value(row: &postgres::Row, index: usize) -> Result<Value<'_>> {
    let ty = row
        .columns()
        .get(index)
        .ok_or_else(|| Error::internal(format!("no database column {index}")))?
        .type_();
    let read = |e: postgres::Error| Error::caused(format!("database column {index}"), e);
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> Value<'static>) -> Value<'static> {
        v.map_or(Value::Null, f)
    }
    Ok(match *ty {
        Type::INT8 => or_null(row.try_get(index).map_err(read)?, Value::Int),
        Type::INT4 => or_null(row.try_get::<_, Option<i32>>(index).map_err(read)?, |n| {
            Value::Int(n.into())
        }),
        Type::INT2 => or_null(row.try_get::<_, Option<i16>>(index).map_err(read)?, |n| {
            Value::Int(n.into())
        }),
        Type::BOOL => or_null(row.try_get::<_, Option<bool>>(index).map_err(read)?, |b| {
            Value::Int(b.into())
        }),
        Type::FLOAT8 => or_null(row.try_get(index).map_err(read)?, Value::Real),
        Type::FLOAT4 => or_null(row.try_get::<_, Option<f32>>(index).map_err(read)?, |x| {
            Value::Real(x.into())
        }),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(index)
            .map_err(read)?
            .map_or(Value::Null, Value::Blob),
        _ => row
            .try_get::<_, Option<&str>>(index)
            .map_err(read)?
            .map_or(Value::Null, Value::Text),
    })
}

/// Whether `e` says the connection (or the server) is gone, rather than a statement wrong.
fn connection_lost(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    e.is_closed()
        || io
        || match e.code() {
            None => false,
            Some(code) => {
                code.code().starts_with("08")
                    || [
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                    ]
                    .contains(code)
            }
        }
}

fn unreachable_error(e: &postgres::Error) -> Error {
    Error::Unavailable {
        message: "the database cannot be reached".into(),
        source: Some(Arc::new(std::io::Error::other(e.to_string()))),
    }
}

impl From<postgres::Error> for crate::Error {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        // Text a client sent that PostgreSQL cannot hold (a NUL character), where SQLite
        // just finds nothing.
        if e.code() == Some(&SqlState::CHARACTER_NOT_IN_REPERTOIRE) {
            return crate::Error::invalid(
                "a name or value holds a character that cannot be stored (NUL)",
            );
        }
        let retry = connection_lost(&e)
            || e.code().is_some_and(|code| {
                [
                    SqlState::QUERY_CANCELED,
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::TOO_MANY_CONNECTIONS,
                    SqlState::READ_ONLY_SQL_TRANSACTION,
                    SqlState::FEATURE_NOT_SUPPORTED,
                ]
                .contains(code)
            });
        if !retry {
            // The server's own words (`db error` alone says nothing).
            let said = e
                .as_db_error()
                .map_or_else(|| e.to_string(), ToString::to_string);
            return crate::Error::caused("database error", std::io::Error::other(said));
        }
        let message = if e.code() == Some(&SqlState::QUERY_CANCELED) {
            "the database did not answer within the statement timeout; try again"
        } else {
            "the database is unavailable; try again"
        };
        crate::Error::Unavailable {
            message: message.into(),
            source: Some(Arc::new(e)),
        }
    }
}

/// TLS to the database with rustls (the provider the rest of the server uses).
mod tls {
    use std::sync::Arc;

    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

    use super::TlsMode;
    use crate::{Error, Result};

    pub(super) fn client_config(mode: &TlsMode) -> Result<ClientConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::caused("TLS to the database", e))?;
        let chain = match mode {
            TlsMode::VerifyCa(root) | TlsMode::VerifyFull(root) => {
                let bad = |e: &dyn std::fmt::Display| {
                    Error::invalid(format!("sslrootcert {}: {e}", root.display()))
                };
                let mut roots = RootCertStore::empty();
                for certificate in CertificateDer::pem_file_iter(root).map_err(|e| bad(&e))? {
                    roots
                        .add(certificate.map_err(|e| bad(&e))?)
                        .map_err(|e| bad(&e))?;
                }
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
                        .build()
                        .map_err(|e| Error::caused("TLS to the database", e))?;
                Some((webpki, matches!(mode, TlsMode::VerifyFull(_))))
            }
            _ => None,
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier { provider, chain }))
            .with_no_client_auth())
    }

    /// What libpq's `sslmode` checks of the server: with `prefer` and `require` nothing but
    /// the handshake's signatures; with `verify-ca` the chain up to the CA file too; with
    /// `verify-full` also the host name.
    #[derive(Debug)]
    struct Verifier {
        provider: Arc<CryptoProvider>,
        /// The chain's verifier, and whether the host name counts.
        chain: Option<(Arc<WebPkiServerVerifier>, bool)>,
    }

    impl ServerCertVerifier for Verifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            let Some((webpki, names)) = &self.chain else {
                return Ok(ServerCertVerified::assertion());
            };
            match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                )) if !names => Ok(ServerCertVerified::assertion()),
                outcome => outcome,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            let algorithms = &self.provider.signature_verification_algorithms;
            rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            let algorithms = &self.provider.signature_verification_algorithms;
            rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quoted_text() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d > ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d > $12"
        );
    }

    #[test]
    fn urls_give_their_tls_mode_and_keep_the_rest() {
        let s = PgSettings::parse("postgres://fs:secret@db.example:6543/catalog").unwrap();
        assert_eq!(s.tls, TlsMode::Prefer);
        assert_eq!(s.config.get_dbname(), Some("catalog"));
        assert_eq!(s.config.get_ports(), &[6543]);
        assert!(!format!("{s:?}").contains("secret"), "{s:?}");
        let s = PgSettings::parse(
            "postgresql://fs@db/catalog?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(s.tls, TlsMode::VerifyFull("/etc/ca.pem".into()));
        assert_eq!(s.config.get_application_name(), Some("x"));
        for bad in [
            "mysql://db/x",
            "postgres://db/x?sslmode=verify-full",
            "postgres://db/x?sslmode=always",
        ] {
            assert!(PgSettings::parse(bad).is_err(), "{bad}");
        }
    }
}
