//! The settings file (`--config FILE`, env `FIRESHARE_CONFIG`): every flag of every command may
//! be set there, by its long name (`listen = "0.0.0.0:8443"`, `url-ttl = "15m"`,
//! `trusted-proxy = ["10.0.0.0/8"]`). A flag given on the command line or through its
//! environment variable wins over the file, and the file over the built-in default.
//!
//! It works on the command line itself: a setting of the file whose flag the command line left
//! at its default is added to it as `--name value`, so that one parser checks every value the
//! same way, wherever it came from.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

use crate::{Error, Result};

/// The flag naming the settings file.
pub const FLAG: &str = "config";

/// Where each effective setting of a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
    File,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CommandLine => "command line",
            Source::Environment => "environment",
            Source::File => "config file",
            Source::Default => "default",
        }
    }
}

/// `args` with the settings of the file `--config` names added where the command line left a
/// flag at its default, and the names of the flags the file set. `args` unchanged when no file
/// is named or clap refuses them (it then says why, as it would without a file).
pub fn apply(cli: &Command, args: Vec<OsString>) -> Result<(Vec<OsString>, BTreeSet<String>)> {
    let Ok(matches) = cli.clone().try_get_matches_from(&args) else {
        return Ok((args, BTreeSet::new()));
    };
    let (command, matches) = innermost(cli, &matches);
    let Some(path) = matches.get_one::<std::path::PathBuf>(FLAG).cloned() else {
        return Ok((args, BTreeSet::new()));
    };
    let settings = read(&path)?;
    let mut known = BTreeSet::new();
    every_long_name(cli, &mut known);
    let mut args = args;
    let mut from_file = BTreeSet::new();
    for (key, value) in &settings {
        let name = key.replace('_', "-");
        if !known.contains(&name) {
            return Err(Error::invalid(format!(
                "{}: no command has a setting '{key}' (settings are the commands' flags, e.g. listen, url-ttl)",
                path.display()
            )));
        }
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(name.as_str()))
        else {
            continue; // a setting of another command
        };
        let id = arg.get_id().as_str();
        if !matches!(
            matches.value_source(id),
            None | Some(ValueSource::DefaultValue)
        ) {
            continue;
        }
        let flag = OsString::from(format!("--{name}"));
        match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(on)) => {
                if *on {
                    args.push(flag);
                }
            }
            (_, toml::Value::Array(items)) => {
                for item in items {
                    args.extend([flag.clone(), text(&path, key, item)?.into()]);
                }
            }
            (_, value) => args.extend([flag, text(&path, key, value)?.into()]),
        }
        from_file.insert(id.to_string());
    }
    Ok((args, from_file))
}

/// Where each argument of the command `matches` is for got its value, with `from_file` as
/// [`apply`] returned it.
fn source(matches: &ArgMatches, id: &str, from_file: &BTreeSet<String>) -> Source {
    if from_file.contains(id) {
        return Source::File;
    }
    match matches.value_source(id) {
        Some(ValueSource::CommandLine) => Source::CommandLine,
        Some(ValueSource::EnvVariable) => Source::Environment,
        _ => Source::Default,
    }
}

/// The subcommand that runs (`admin token create`, say) and its matches.
fn innermost<'a>(cli: &'a Command, matches: &'a ArgMatches) -> (&'a Command, &'a ArgMatches) {
    let (mut command, mut matches) = (cli, matches);
    while let Some((name, inner)) = matches.subcommand() {
        match command.find_subcommand(name) {
            Some(sub) => (command, matches) = (sub, inner),
            None => break,
        }
    }
    (command, matches)
}

/// `fireshare config check`: each flag of `serve` as it would start with the settings file
/// `config` (from the command line `cli` describes), with where its value came from; secrets
/// masked.
pub fn check(cli: &Command, config: Option<std::path::PathBuf>) -> Result<Vec<String>> {
    let mut args: Vec<OsString> = vec!["fireshare".into()];
    if let Some(path) = config {
        args.extend(["--config".into(), path.into()]);
    }
    args.push("serve".into());
    let (args, from_file) = apply(cli, args)?;
    let matches = cli.clone().try_get_matches_from(&args).map_err(|e| {
        let said = e.to_string();
        Error::invalid(said.trim_start_matches("error: ").trim_end().to_string())
    })?;
    let (serve, matches) = innermost(cli, &matches);
    let mut lines = Vec::new();
    for arg in serve.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long().filter(|l| !["help", "config"].contains(l)) else {
            continue;
        };
        let value = matches.get_raw(id).map_or_else(
            || "(not set)".to_string(),
            |values| {
                values
                    .map(|v| masked(long, &v.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        let source = source(matches, id, &from_file);
        lines.push(format!("{long} = {value}  ({})", source.as_str()));
    }
    Ok(lines)
}

/// A setting as `config check` shows it: secrets (by name, or a URL's password) masked.
fn masked(name: &str, value: &str) -> String {
    if ["secret", "password", "token"]
        .iter()
        .any(|s| name.contains(s))
    {
        return "****".into();
    }
    match url::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => value.to_string(),
    }
}

fn read(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    text.parse::<toml::Table>()
        .map_err(|e| Error::invalid(format!("{} is not valid TOML: {e}", path.display())))
}

fn every_long_name(command: &Command, names: &mut BTreeSet<String>) {
    names.extend(
        command
            .get_arguments()
            .filter_map(|a| a.get_long())
            .map(str::to_string),
    );
    for sub in command.get_subcommands() {
        every_long_name(sub, names);
    }
}

/// A setting's value as the command line would spell it.
fn text(path: &Path, key: &str, value: &toml::Value) -> Result<String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(x) => Ok(x.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(Error::invalid(format!(
            "{}: '{key}' must be a string, a number, a boolean or a list of them",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, value_parser};

    fn cli() -> Command {
        let serve = Command::new("serve")
            .arg(
                Arg::new("listen")
                    .long("listen")
                    .default_value("127.0.0.1:8080"),
            )
            .arg(
                Arg::new("url_ttl")
                    .long("url-ttl")
                    .env("TEST_CONFIG_URL_TTL")
                    .default_value("1h"),
            )
            .arg(
                Arg::new("proxy")
                    .long("trusted-proxy")
                    .action(ArgAction::Append),
            )
            .arg(Arg::new("json").long("json").action(ArgAction::SetTrue))
            .arg(
                Arg::new("workers")
                    .long("workers")
                    .value_parser(value_parser!(u32)),
            );
        let sql = Command::new("sql").arg(Arg::new("statements").required(true));
        Command::new("fireshare")
            .arg(
                Arg::new(FLAG)
                    .long(FLAG)
                    .global(true)
                    .value_parser(value_parser!(std::path::PathBuf)),
            )
            .subcommand(serve)
            .subcommand(sql)
    }

    fn run(file: &str, args: &[&str]) -> Result<(ArgMatches, BTreeSet<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fireshare.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv: Vec<OsString> = vec!["fireshare".into(), "--config".into(), path.into()];
        argv.extend(args.iter().map(OsString::from));
        let (argv, from_file) = apply(&cli(), argv)?;
        let matches = cli()
            .try_get_matches_from(argv)
            .map_err(|e| Error::invalid(e.to_string()))?;
        Ok((matches.subcommand().unwrap().1.clone(), from_file))
    }

    #[test]
    fn the_command_line_wins_over_the_file_and_the_file_over_defaults() {
        let file = "listen = '0.0.0.0:9000'\nurl_ttl = '15m'\ntrusted-proxy = ['10.0.0.0/8', '::1']\njson = true\nworkers = 4";
        let (m, from_file) = run(file, &["serve", "--listen", "127.0.0.1:1"]).unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "127.0.0.1:1");
        assert_eq!(source(&m, "listen", &from_file), Source::CommandLine);
        assert_eq!(m.get_one::<String>("url_ttl").unwrap(), "15m");
        assert_eq!(source(&m, "url_ttl", &from_file), Source::File);
        let proxies: Vec<&String> = m.get_many("proxy").unwrap().collect();
        assert_eq!(proxies, ["10.0.0.0/8", "::1"]);
        assert!(m.get_flag("json"));
        assert_eq!(*m.get_one::<u32>("workers").unwrap(), 4);
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        // SAFETY: only this test reads this variable.
        unsafe { std::env::set_var("TEST_CONFIG_URL_TTL", "5m") };
        let (m, from_file) = run("url-ttl = '15m'", &["serve"]).unwrap();
        unsafe { std::env::remove_var("TEST_CONFIG_URL_TTL") };
        assert_eq!(m.get_one::<String>("url_ttl").unwrap(), "5m");
        assert_eq!(source(&m, "url_ttl", &from_file), Source::Environment);
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let e = run("lisen = 'x'", &["serve"]).unwrap_err();
        assert!(
            e.message().contains("no command has a setting 'lisen'"),
            "{e}"
        );
        let e = run("listen = ", &["serve"]).unwrap_err();
        assert!(e.message().contains("is not valid TOML"), "{e}");
        let e = run("workers = 'many'", &["serve"]).unwrap_err();
        assert!(
            e.message().contains("workers"),
            "a bad value is refused by the parser: {e}"
        );
        let e = run("listen = { a = 1 }", &["serve"]).unwrap_err();
        assert!(e.message().contains("must be a string"), "{e}");
        // A setting of another command is left to it.
        assert!(run("listen = '0.0.0.0:1'", &["sql", "SHOW SHARES"]).is_ok());
    }
}
