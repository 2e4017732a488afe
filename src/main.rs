//! The `fireshare` command line. Parsing only: every command calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fireshare::auth::Role;
use fireshare::config::{DataDir, ServerConfig};

#[derive(Parser)]
#[command(
    name = "fireshare",
    version,
    about = "A Delta Sharing server for regulated data: share Delta tables with regulators, governed by recipients and grants."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DataDirArg {
    /// Directory holding the catalog database and the server's secret key.
    #[arg(long, env = "FIRESHARE_DATA_DIR", default_value = "./fireshare-data")]
    data_dir: PathBuf,
}

impl DataDirArg {
    fn open_catalog(&self) -> fireshare::Result<fireshare::catalog::Catalog> {
        let dir = DataDir::new(&self.data_dir);
        dir.ensure()?;
        fireshare::catalog::Catalog::open(&dir.catalog_db())
    }
}

#[derive(clap::Args)]
struct ActivationArg {
    /// How long a recipient's activation link stays usable, e.g. 7d, 24h.
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    activation_ttl: std::time::Duration,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Delta Sharing protocol (GET /healthz answers 200 once ready).
    Serve {
        #[command(flatten)]
        data: DataDirArg,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// URL clients use to reach this server (file URLs, activation links), e.g.
        /// https://share.bank.example; defaults to http://<listen>.
        #[arg(long, env = "FIRESHARE_PUBLIC_URL")]
        public_url: Option<String>,
        /// Lifetime of the signed file URLs handed to clients, e.g. 1h, 15m.
        #[arg(long, default_value = "1h", value_parser = parse_duration)]
        url_ttl: std::time::Duration,
        #[command(flatten)]
        activation: ActivationArg,
        /// A reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For header names the
        /// client; without it the socket's address is the client's (IP access lists).
        #[arg(long = "trusted-proxy", value_parser = parse_ip_net)]
        trusted_proxies: Vec<fireshare::auth::ip::IpNet>,
    },
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
    /// SHOW GRANTS ON SHARE s; SHOW GRANTS TO RECIPIENT r.
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
    /// Write sample FIRE tables, share them, write a profile and start a server.
    Demo {
        #[command(flatten)]
        data: DataDirArg,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
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

fn parse_ip_net(text: &str) -> Result<fireshare::auth::ip::IpNet, String> {
    fireshare::auth::ip::IpNet::parse(text).map_err(|e| e.message)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(
        cli.command,
        Command::Sql { .. } | Command::Token { .. } | Command::Admin { .. }
    );
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| if quiet { "warn" } else { "info" }.into()),
        )
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> fireshare::Result<()> {
    match command {
        Command::Serve {
            data,
            listen,
            public_url,
            url_ttl,
            activation,
            trusted_proxies,
        } => {
            let mut config =
                ServerConfig::new(DataDir::new(data.data_dir), &listen, public_url.as_deref());
            config.url_ttl = url_ttl;
            config.activation_ttl = activation.activation_ttl;
            config.trusted_proxies = trusted_proxies;
            actix_web::rt::System::new().block_on(fireshare::server::serve(config, |_| {}))
        }
        Command::Sql {
            data,
            json,
            public_url,
            activation,
            statements,
        } => {
            let context = fireshare::admin::Context {
                // Whoever can open the data directory administers it.
                role: Role::Admin,
                base_dir: &std::env::current_dir()?,
                public_url: &public_url,
                activation_ttl: activation.activation_ttl,
            };
            let results =
                fireshare::admin::execute_script(&data.open_catalog()?, &statements, &context)?;
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
            let issued =
                fireshare::auth::issue_admin_token(&data.open_catalog()?, &name, role, expires_in)?;
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
            let token =
                fireshare::auth::issue_token(&data.open_catalog()?, &recipient, expires_in)?;
            println!(
                "{}",
                fireshare::auth::Profile::new(endpoint.trim_end_matches('/'), &token).to_json()
            );
            Ok(())
        }
        Command::Demo { data, listen } => {
            let config = ServerConfig::new(DataDir::new(data.data_dir), &listen, None);
            actix_web::rt::System::new().block_on(fireshare::demo::run(config))
        }
    }
}
