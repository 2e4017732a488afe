//! The `fireshare` command line: parses the arguments, opens what each command needs (the data
//! directory, its catalog, ledger and stores) and calls the library, then prints the outcome.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use fireshare::audit::{note_change, record_command};
use fireshare::auth::Role;
use fireshare::data_dir::DataDir;
use fireshare::web::ServerConfig;

#[derive(Parser)]
#[command(
    name = "fireshare",
    version,
    about = "A Delta Sharing server for regulated data: share Delta tables with regulators, governed by recipients and grants."
)]
struct Cli {
    /// How log lines are written to stderr: text for people, json (one object per line) for
    /// log collectors. RUST_LOG sets what is logged (default: fireshare's INFO, other crates'
    /// warnings).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "FIRESHARE_LOG_FORMAT"
    )]
    log_format: LogFormat,
    /// A TOML file of settings: any command's flags by their long names (listen =
    /// "0.0.0.0:8443", url-ttl = "15m"); flags and environment variables win over it.
    #[arg(long, global = true, env = "FIRESHARE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct DataDirArg {
    /// Directory holding the catalog database and the server's secret key.
    #[arg(long, env = "FIRESHARE_DATA_DIR", default_value = "./fireshare-data")]
    data_dir: PathBuf,
    /// Directory of the FIRE entity schemas (JSON Schema files such as collateral.json);
    /// remembered in the catalog once given (SHOW FIRE SCHEMAS).
    #[arg(long, env = "FIRESHARE_FIRE_SCHEMAS")]
    fire_schemas: Option<PathBuf>,
    #[command(flatten)]
    database: fireshare::catalog::DatabaseFlags,
}

impl DataDirArg {
    /// Where the catalog lives: `--database-url`, or the data directory's SQLite file.
    fn location(&self) -> fireshare::Result<fireshare::catalog::Location> {
        self.database.location(&DataDir::new(&self.data_dir))
    }

    /// The data directory (created if needed) and its catalog, with `--fire-schemas`
    /// remembered.
    fn open(&self) -> fireshare::Result<(DataDir, fireshare::catalog::Catalog)> {
        let dir = DataDir::new(&self.data_dir);
        dir.ensure()?;
        let catalog = fireshare::catalog::Catalog::open(&self.location()?)?;
        catalog.check_keys(&dir, false)?;
        if let Some(schemas) = &self.fire_schemas {
            fireshare::fire::remember_schemas(&dir, &catalog, schemas)?;
        }
        Ok((dir, catalog))
    }
}

#[derive(clap::Args)]
struct ActivationArg {
    /// How long a recipient's activation link stays usable, e.g. 7d, 24h.
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    activation_ttl: std::time::Duration,
}

/// Bounds on clients' connections (a slow or idle client never holds a worker).
#[derive(clap::Args)]
struct LimitArgs {
    /// A request's line and headers must arrive within this (else 408 and the connection
    /// closes).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    request_timeout: std::time::Duration,
    /// A request's whole body must arrive within this after its headers (else 400).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    body_timeout: std::time::Duration,
    /// An idle keep-alive connection is closed after this.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    keep_alive: std::time::Duration,
    /// Connections open at once; further ones wait to be accepted.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
}

/// `fireshare serve`'s flags.
#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// URL clients use to reach this server (file URLs, activation links), e.g.
    /// https://share.bank.example; defaults to http://<listen>.
    #[arg(long, env = "FIRESHARE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Lifetime of the signed file URLs handed to clients, e.g. 1h, 15m (at most 7d; a share
    /// may set its own: ALTER SHARE s SET URL LIFETIME '15m').
    #[arg(long, default_value = "1h", value_parser = parse_url_lifetime)]
    url_ttl: std::time::Duration,
    #[command(flatten)]
    activation: ActivationArg,
    /// A reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For header names the
    /// client; without it the socket's address is the client's (IP access lists).
    #[arg(long = "trusted-proxy", value_parser = parse_ip_net)]
    trusted_proxies: Vec<fireshare::auth::ip::IpNet>,
    /// Sign the audit ledger's head after this many events...
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    audit_seal_every: u64,
    /// ...or after this long, whichever comes first (and always when the server stops).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    audit_seal_interval: std::time::Duration,
    /// How often new versions of tables bound to a FIRE entity are looked for and validated.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    fire_poll: std::time::Duration,
    #[command(flatten)]
    limits: LimitArgs,
    /// Also serve GET /metrics without credentials at this address (e.g. 10.0.0.5:9090,
    /// for a Prometheus on a private network); the main listener's /metrics needs an admin
    /// or auditor token.
    #[arg(long, env = "FIRESHARE_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// On SIGTERM or Ctrl-C, running responses may take this long to finish before the
    /// server stops (a second signal stops it at once).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    shutdown_grace: std::time::Duration,
    /// Serve HTTPS with this certificate chain (PEM), read again on SIGHUP; with
    /// --tls-key. The public URL then defaults to https://<listen>.
    #[arg(long, env = "FIRESHARE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, SEC1 or PKCS#1).
    #[arg(long, env = "FIRESHARE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The web console for admins and auditors at /console (sign in with an admin or
    /// auditor token); off: /console answers 404.
    #[arg(long, env = "FIRESHARE_CONSOLE", default_value = "on", value_parser = ["on", "off"])]
    console: String,
    /// How long a console session lasts (never longer than its token).
    #[arg(long, default_value = "8h", value_parser = parse_duration)]
    console_session: std::time::Duration,
    /// Memory for the file lists of recently read snapshots, e.g. 512MiB, 2GiB (a file costs
    /// its path, less the start it shares with the file before, and its stats plus ~40 bytes;
    /// a table bigger than this is read from its log on every query; 0: keep none).
    #[arg(long, default_value = "512MiB", value_parser = parse_file_cache)]
    file_cache: usize,
}

impl ServeArgs {
    /// The server's settings from the flags; the data directory opened (created if new).
    fn config(self) -> fireshare::Result<ServerConfig> {
        let ServeArgs {
            data,
            listen,
            public_url,
            url_ttl,
            activation,
            trusted_proxies,
            audit_seal_every,
            audit_seal_interval,
            fire_poll,
            limits,
            metrics_listen,
            shutdown_grace,
            tls_cert,
            tls_key,
            console,
            console_session,
            file_cache,
        } = self;
        data.open()?;
        let mut config =
            ServerConfig::new(DataDir::new(&data.data_dir), &listen, public_url.as_deref());
        config.database = data.location()?;
        config.url_ttl = url_ttl;
        config.activation_ttl = activation.activation_ttl;
        config.trusted_proxies = trusted_proxies;
        config.fire_poll = fire_poll;
        config.metrics_listen = metrics_listen;
        config.shutdown_grace = shutdown_grace;
        config.console_session = (console == "on").then_some(console_session);
        config.file_cache = file_cache;
        if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
            if public_url.is_none() {
                config.public_url = format!("https://{listen}");
            }
            config.tls = Some(fireshare::web::Tls { cert, key });
        }
        config.limits = fireshare::web::Limits {
            head_timeout: limits.request_timeout,
            body_timeout: limits.body_timeout,
            keep_alive: limits.keep_alive,
            max_connections: limits.max_connections as usize,
        };
        config.sealing = fireshare::audit::Sealing {
            every: audit_seal_every,
            interval: audit_seal_interval,
        };
        Ok(config)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Delta Sharing protocol (GET /healthz answers 200 once ready).
    Serve(Box<ServeArgs>),
    /// Run admin statements, e.g. "CREATE SHARE s; GRANT SELECT ON SHARE s TO RECIPIENT r".
    ///
    /// Statements: CREATE TABLE schema.table USING DELTA LOCATION '/path'; CREATE SHARE name
    /// [COMMENT '...']; ALTER SHARE name ADD TABLE schema.table [AS schema.alias] [WITH HISTORY
    /// [START VERSION n]]; ALTER SHARE name ALTER TABLE schema.table WITH HISTORY [START VERSION n]
    /// | WITHOUT HISTORY;
    /// ALTER SHARE name REMOVE TABLE schema.table; CREATE RECIPIENT name [COMMENT '...']
    /// [TOKEN LIFETIME '90d'] [IP ACCESS LIST ('10.0.0.0/8', ...)]; ALTER RECIPIENT r SET IP
    /// ACCESS LIST (...) | UNSET IP ACCESS LIST; ALTER RECIPIENT r ROTATE TOKEN [EXPIRE EXISTING IN '24h'];
    /// ALTER RECIPIENT r REVOKE TOKENS; DESCRIBE RECIPIENT r; SHOW ADMIN TOKENS;
    /// REVOKE ADMIN TOKEN 'fsa_...';
    /// GRANT SELECT ON SHARE s TO RECIPIENT r; REVOKE SELECT ON SHARE s FROM RECIPIENT r;
    /// DROP TABLE|SHARE|RECIPIENT name; SHOW TABLES|SHARES|RECIPIENTS; SHOW ALL IN SHARE s;
    /// SHOW GRANTS ON SHARE s; SHOW GRANTS TO RECIPIENT r; SHOW ACCESS ON TABLE schema.table
    /// [AS OF '2026-11-01T00:00:00Z'] (who could read it, then or now).
    ///
    /// The same statements are served by the admin API: POST /admin/v1/sql.
    Sql {
        #[command(flatten)]
        data: DataDirArg,
        /// Print {"results": [{"columns": [...], "rows": [[...]]}, ...]}, as the admin API answers.
        #[arg(long)]
        json: bool,
        /// The server's public URL, which activation links (CREATE RECIPIENT, ROTATE TOKEN)
        /// start with.
        #[arg(
            long,
            env = "FIRESHARE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        #[command(flatten)]
        activation: ActivationArg,
        /// Act as the named admin: who proposes and decides four-eyes changes (ALTER CATALOG
        /// SET FOUR EYES), and whom the ledger names. Statements four eyes covers are refused
        /// without it.
        #[arg(long = "as", value_name = "NAME")]
        as_admin: Option<String>,
        /// One or more statements separated by ';'.
        statements: String,
    },
    /// Credentials of the admin API (/admin/v1).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Recipient tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The audit ledger: verify it, read it, export and archive it, check receipts.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// FIRE data quality of shared tables.
    Fire {
        #[command(subcommand)]
        command: FireCommand,
    },
    /// The fingerprint of each key in the data directory, checked against those the catalog
    /// was written with (every replica must hold the same keys; each command checks).
    Keys {
        #[command(flatten)]
        data: DataDirArg,
        /// Record these keys as the catalog's, after a deliberate rotation on every replica.
        #[arg(long)]
        adopt: bool,
    },
    /// Bring the catalog's schema up to date (every command does, one replica at a time, under
    /// a lock) and say its version: run it before starting upgraded replicas.
    Migrate {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Write sample FIRE tables, share them, write a profile and start a server.
    Demo {
        #[command(flatten)]
        data: DataDirArg,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// The settings file (--config).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script, e.g. `fireshare completions bash >
    /// /etc/bash_completion.d/fireshare`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `fireshare man > /usr/share/man/man1/fireshare.1`.
    Man,
    /// Exit 0 when a server's probe answers 200 (a container's HEALTHCHECK: the image has no
    /// curl). Plain HTTP: with TLS on the main listener, probe --metrics-listen.
    Probe {
        /// The probe's URL.
        #[arg(default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the settings `fireshare serve` would start with, from the command line, the
    /// environment, --config and the defaults, each with where it came from (secrets masked);
    /// fails on a value serve would refuse.
    Check,
}

#[derive(Subcommand)]
enum FireCommand {
    /// Validate versions of a table bound to a FIRE entity (ALTER TABLE t SET TBLPROPERTIES
    /// ('fire.entity' = 'collateral')) and store their quality reports. Without --version: every
    /// version not validated yet. Data files validated for an earlier version are not read again.
    Validate {
        #[command(flatten)]
        data: DataDirArg,
        /// The table, as schema.table.
        table: String,
        /// Only this version.
        #[arg(long)]
        version: Option<u64>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that no event was altered, removed or reordered: recompute the hash chain and
    /// check every seal's signature. Exits 0 only when everything verifies.
    Verify {
        #[command(flatten)]
        data: DataDirArg,
        /// Check this export (or archive) file instead of the data directory's ledger.
        #[arg(long)]
        export: Option<PathBuf>,
        /// The key set to check signatures with, as `audit public-key` prints it (default:
        /// the data directory's own key).
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Print the key set (JSON) that verifies seals and receipts; a server also publishes it at
    /// /.well-known/fireshare-audit-key.
    PublicKey {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Print events matching the filters, oldest first.
    Query {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        filter: Box<fireshare::audit::search::Filter>,
        /// json, ndjson or csv.
        #[arg(long, default_value = "ndjson", value_parser = ["json", "ndjson", "csv"])]
        format: String,
    },
    /// Write the events between two times to a new file that `audit verify --export` checks.
    Export {
        #[command(flatten)]
        data: DataDirArg,
        /// First time included (RFC 3339 or a date); default: the beginning.
        #[arg(long)]
        from: Option<String>,
        /// First time excluded; default: now.
        #[arg(long)]
        to: Option<String>,
        /// The file to create (never overwritten).
        file: PathBuf,
    },
    /// Move the events before a time into a new verifiable file and out of the ledger, whose
    /// chain goes on from the last one moved. Nothing is deleted otherwise.
    Archive {
        #[command(flatten)]
        data: DataDirArg,
        /// Events before this time (RFC 3339 or a date) are moved.
        #[arg(long)]
        before: String,
        /// The archive file to create (never overwritten).
        file: PathBuf,
    },
    /// Delivery receipts (the Fireshare-Receipt header of /query and /changes).
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt's signature and print what it says (exits 1 when it does not verify).
    Verify {
        #[command(flatten)]
        data: DataDirArg,
        /// The key set to check with, as `audit public-key` prints it (default: the data
        /// directory's key).
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// The receipt (a compact JWS).
        receipt: String,
    },
    /// Print the receipt a response was handed out with, put back together from its event
    /// (the ledger keeps its signature beside the facts it signs) and checked with the data
    /// directory's audit key.
    Show {
        #[command(flatten)]
        data: DataDirArg,
        /// The response's X-Request-Id.
        request_id: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Admin API tokens.
    Token {
        #[command(subcommand)]
        command: AdminTokenCommand,
    },
}

#[derive(Subcommand)]
enum AdminTokenCommand {
    /// Issue an admin or auditor token and print it alone on stdout (only its hash is kept).
    Create {
        #[command(flatten)]
        data: DataDirArg,
        /// admin: manages everything; auditor: reads the catalog, changes nothing.
        #[arg(long, value_parser = ["admin", "auditor"])]
        role: String,
        /// Who holds the token (shown in logs and listings).
        #[arg(long)]
        name: String,
        /// Token lifetime, e.g. 30d, 12h; no expiry when absent.
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a bearer token for a recipient and print its profile file (JSON) on stdout.
    Create {
        #[command(flatten)]
        data: DataDirArg,
        /// The recipient (see CREATE RECIPIENT).
        #[arg(long)]
        recipient: String,
        /// The sharing endpoint written into the profile.
        #[arg(long, default_value = "http://127.0.0.1:8080/delta-sharing")]
        endpoint: String,
        /// Token lifetime, e.g. 30d, 12h; no expiry when absent.
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    fireshare::clock::parse_duration(text).ok_or_else(|| {
        format!("'{text}' is not a duration: use a number and s, m, h, d or w, e.g. 30d")
    })
}

fn parse_url_lifetime(text: &str) -> Result<std::time::Duration, String> {
    let lifetime = parse_duration(text)?;
    if lifetime.is_zero() || lifetime > fireshare::storage::MAX_URL_LIFETIME {
        return Err("a URL lifetime must be longer than zero and at most 7d".into());
    }
    Ok(lifetime)
}

fn parse_file_cache(text: &str) -> Result<usize, String> {
    fireshare::web::parse_bytes(text)
        .ok_or_else(|| format!("'{text}' is not a size such as 512MiB, 2GiB or 0"))
}

fn parse_ip_net(text: &str) -> Result<fireshare::auth::ip::IpNet, String> {
    fireshare::auth::ip::IpNet::parse(text).map_err(|e| e.message().to_string())
}

fn main() -> ExitCode {
    // Whatever this process creates — catalog, ledger and their WAL files, keys, profiles,
    // the demo's tables — only its owner may read.
    // SAFETY: umask only swaps the process's file-creation mask; nothing else runs yet.
    unsafe { libc::umask(0o077) };
    let args = match fireshare::config_file::apply(&Cli::command(), std::env::args_os().collect()) {
        Ok((args, _)) => args,
        Err(e) => {
            eprintln!("error: {}", e.explained());
            return ExitCode::FAILURE;
        }
    };
    let cli = Cli::parse_from(args);
    let quiet = matches!(
        cli.command,
        Command::Sql { .. }
            | Command::Token { .. }
            | Command::Admin { .. }
            | Command::Audit { .. }
            | Command::Fire { .. }
            | Command::Migrate { .. }
            | Command::Keys { .. }
    );
    // Other crates' INFO lines (the Delta kernel's spans, say) are not for operators.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|given| !given.trim().is_empty())
        .unwrap_or_else(|| if quiet { "warn" } else { "warn,fireshare=info" }.into());
    let filter = tracing_subscriber::EnvFilter::new(filter);
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    match run(cli.command, cli.config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.explained());
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: Option<PathBuf>) -> fireshare::Result<()> {
    match command {
        Command::Serve(args) => {
            let config = args.config()?;
            fireshare::web::run(config, |_| {})
        }
        Command::Sql {
            data,
            json,
            public_url,
            activation,
            as_admin,
            statements,
        } => {
            let (dir, catalog) = data.open()?;
            let base_dir = std::env::current_dir()?;
            let who = match &as_admin {
                Some(name) => Some(name.clone()),
                None => fireshare::audit::command_line_actor().name,
            };
            let stores = fireshare::storage::Stores::open(&dir)?;
            let delta = fireshare::delta::DeltaLog::new();
            let results = record_command(&dir, &catalog, "runSql", |trail| {
                if let Some(name) = &as_admin {
                    trail.update(|d| d.actor = Some(fireshare::audit::command_line_actor_as(name)));
                }
                let context = fireshare::admin::Context {
                    // Whoever can open the data directory administers it.
                    role: Role::Admin,
                    base_dir: &base_dir,
                    public_url: &public_url,
                    activation_ttl: activation.activation_ttl,
                    delta: &delta,
                    stores: &stores,
                    trail: Some(trail),
                    who: who.as_deref(),
                    admin: as_admin.as_deref(),
                    max_output: None,
                };
                fireshare::admin::execute_script(&catalog, &statements, &context)
            })?;
            if json {
                println!("{}", fireshare::admin::results_json(&results));
            } else {
                results.iter().for_each(|r| print!("{}", r.render()));
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Token {
                    command:
                        AdminTokenCommand::Create {
                            data,
                            role,
                            name,
                            expires_in,
                        },
                },
        } => {
            let role = Role::parse(&role).expect("clap allows only known roles");
            let (dir, catalog) = data.open()?;
            let text = format!(
                "fireshare admin token create --role {} --name {name}",
                role.as_str()
            );
            let issued = record_command(&dir, &catalog, "createAdminToken", |trail| {
                note_change(trail, &catalog, (&text, "createAdminToken"), |tx| {
                    fireshare::auth::issue_admin_token_in(tx, &name, role, expires_in)
                })
            })?;
            println!("{}", issued.token);
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    data,
                    recipient,
                    endpoint,
                    expires_in,
                },
        } => {
            let (dir, catalog) = data.open()?;
            let text = format!("fireshare token create --recipient {recipient}");
            let token = record_command(&dir, &catalog, "createToken", |trail| {
                note_change(trail, &catalog, (&text, "createToken"), |tx| {
                    fireshare::auth::issue_token_in(tx, &recipient, expires_in)
                })
            })?;
            println!(
                "{}",
                fireshare::auth::Profile::new(endpoint.trim_end_matches('/'), &token).to_json()
            );
            Ok(())
        }
        Command::Audit { command } => audit(command),
        Command::Fire {
            command:
                FireCommand::Validate {
                    data,
                    table,
                    version,
                },
        } => {
            let (dir, catalog) = data.open()?;
            record_command(&dir, &catalog, "validateTable", |_| {
                let stores = fireshare::storage::Stores::open(&dir)?;
                fireshare::fire::quality::validate_command(
                    &catalog,
                    &stores,
                    &table,
                    version,
                    |line| eprintln!("{line}"),
                )
            })
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            let lines = fireshare::config_file::check(&Cli::command(), config)?;
            lines.iter().for_each(|line| println!("{line}"));
            Ok(())
        }
        Command::Probe { url } => probe(&url),
        Command::Keys { data, adopt } => keys(&data, adopt),
        Command::Migrate { data } => migrate(&data),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "fireshare", &mut script);
            print_bytes(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            print_bytes(&page)
        }
        Command::Demo { data, listen } => {
            data.open()?;
            let mut config = ServerConfig::new(DataDir::new(&data.data_dir), &listen, None);
            config.database = data.location()?;
            fireshare::demo::run(config)
        }
    }
}

/// `fireshare keys [--adopt]`: checks (or adopts) the data directory's keys, then lists them.
fn keys(data: &DataDirArg, adopt: bool) -> fireshare::Result<()> {
    let dir = DataDir::new(&data.data_dir);
    let catalog = fireshare::catalog::Catalog::open(&data.location()?)?;
    let action = if adopt { "adoptKeys" } else { "checkKeys" };
    record_command(&dir, &catalog, action, |_| catalog.check_keys(&dir, adopt))?;
    for (name, fingerprint) in fireshare::catalog::keys::fingerprints(&dir)? {
        println!("{name} {fingerprint}");
    }
    Ok(())
}

/// `fireshare migrate`: applies the schema's pending migrations and says where it stands.
fn migrate(data: &DataDirArg) -> fireshare::Result<()> {
    DataDir::new(&data.data_dir).ensure()?;
    let db = fireshare::catalog::Db::connect(&data.location()?)?;
    let (applied, version) = db.migrate()?;
    println!("applied {applied} migrations: the catalog's schema is at version {version}");
    Ok(())
}

fn audit(command: AuditCommand) -> fireshare::Result<()> {
    use fireshare::audit::{self, LedgerDb, search};
    use fireshare::catalog::Catalog;
    let key = |data: &DataDirArg, file: Option<PathBuf>| match file {
        Some(file) => audit::read_public_key(&file),
        None => audit::own_public_key(&DataDir::new(&data.data_dir)),
    };
    // Reading the ledger changes nothing in the data directory.
    let ledger_of = |data: &DataDirArg| LedgerDb::of(&Catalog::open(&data.location()?)?);
    match command {
        AuditCommand::Verify {
            data,
            export,
            public_key,
        } => {
            let key = key(&data, public_key)?;
            let outcome = match &export {
                Some(file) => {
                    let opened = std::fs::File::open(file).map_err(|e| {
                        fireshare::Error::invalid(format!("cannot open {}: {e}", file.display()))
                    })?;
                    audit::verify::verify_export(std::io::BufReader::new(opened), &key)?
                }
                None => ledger_of(&data)?.verify_ledger(&key)?,
            };
            match outcome {
                Ok(verified) => {
                    println!("{}", audit::describe(&verified));
                    Ok(())
                }
                Err(problem) => Err(fireshare::Error::invalid(format!(
                    "the ledger does not verify: {problem}"
                ))),
            }
        }
        AuditCommand::PublicKey { data } => {
            println!(
                "{}",
                audit::own_signing_key(&DataDir::new(&data.data_dir))?.jwks()
            );
            Ok(())
        }
        AuditCommand::Query {
            data,
            filter,
            format,
        } => {
            let ledger = ledger_of(&data)?;
            let mut filter = filter;
            let mut all = Vec::new();
            if format == "csv" {
                print!("{}", search::csv_header());
            }
            loop {
                let page = ledger.query(&filter)?;
                for event in &page.events {
                    match format.as_str() {
                        "csv" => print!("{}", search::csv_line(event)),
                        "ndjson" => println!("{event}"),
                        _ => all.push(event.clone()),
                    }
                }
                match page.next_cursor {
                    Some(cursor) => filter.cursor = Some(cursor),
                    None => break,
                }
            }
            if format == "json" {
                println!("{}", serde_json::json!({ "events": all }));
            }
            Ok(())
        }
        AuditCommand::Export {
            data,
            from,
            to,
            file,
        } => {
            let dir = DataDir::new(&data.data_dir);
            let ledger = ledger_of(&data)?;
            let bound = |t: Option<String>| t.as_deref().map(search::time_bound).transpose();
            let range = ledger
                .seq_range(bound(from)?.as_deref(), bound(to)?.as_deref())?
                .ok_or_else(|| fireshare::Error::not_found("no event in that time range"))?;
            let exported = ledger.export_to_file(&audit::own_signing_key(&dir)?, range, &file)?;
            println!(
                "exported events {}..{} to {}",
                exported.first_seq,
                exported.last_seq,
                file.display()
            );
            Ok(())
        }
        AuditCommand::Archive { data, before, file } => {
            let dir = DataDir::new(&data.data_dir);
            let ledger = ledger_of(&data)?;
            let before = search::time_bound(&before)?;
            let key = audit::own_signing_key(&dir)?;
            let actor = audit::command_line_actor();
            match ledger.archive(&key, &before, &file, actor)? {
                Some(moved) => println!(
                    "moved events {}..{} to {}; the ledger goes on from event {}",
                    moved.first_seq,
                    moved.last_seq,
                    file.display(),
                    moved.last_seq + 1
                ),
                None => println!("no event before {before}: nothing archived"),
            }
            Ok(())
        }
        AuditCommand::Receipt {
            command:
                ReceiptCommand::Verify {
                    data,
                    public_key,
                    receipt,
                },
        } => {
            let receipt = audit::receipt::verify(&key(&data, public_key)?, &receipt)?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            Ok(())
        }
        AuditCommand::Receipt {
            command: ReceiptCommand::Show { data, request_id },
        } => {
            let key = audit::own_public_key(&DataDir::new(&data.data_dir))?;
            println!("{}", ledger_of(&data)?.receipt(&request_id, &key)?);
            Ok(())
        }
    }
}

/// Writes `bytes` to stdout; a reader that stops early (`| head`) is no error.
fn print_bytes(bytes: &[u8]) -> fireshare::Result<()> {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `fireshare probe URL`: one HTTP/1.0 GET, within 5 s.
fn probe(url: &str) -> fireshare::Result<()> {
    use std::io::{Read, Write};
    let bad = |why: String| fireshare::Error::invalid(format!("probe {url}: {why}"));
    let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    if parsed.scheme() != "http" {
        return Err(bad(
            "only http:// (probe a plain listener, e.g. --metrics-listen)".into(),
        ));
    }
    let host = parsed.host_str().ok_or_else(|| bad("no host".into()))?;
    let address = (host, parsed.port_or_known_default().unwrap_or(80));
    let timeout = std::time::Duration::from_secs(5);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&address)?
        .next()
        .ok_or_else(|| bad("the host does not resolve".into()))?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| bad(e.to_string()))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.0\r\nHost: {host}\r\n\r\n",
        parsed.path()
    )?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("none");
    if status != "200" {
        return Err(bad(format!("answered {status}")));
    }
    Ok(())
}
