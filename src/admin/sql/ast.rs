//! The statements of the admin SQL, as values: what the parser produces, what REST calls
//! build, what the executor runs.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::partition_filter::PartitionFilter;

/// A two-part `schema.table` name, spelled as written (the catalog compares case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableName {
    pub schema: String,
    pub table: String,
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// The one-part objects that `DROP` handles uniformly (tables have their own two-part form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    Share,
    Recipient,
    StorageCredential,
}

/// How a table on a cloud store is read: `WITH CREDENTIAL name` or `FROM ENVIRONMENT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableCredential {
    /// Not said: right for local tables only.
    None,
    Named(String),
    Environment,
}

/// A statement is also kept as JSON, sealed, while it waits for a second admin's approval
/// (four eyes): unlike its SQL text, that keeps a credential's secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Statement {
    CreateTable {
        name: TableName,
        location: String,
        credential: TableCredential,
        comment: Option<String>,
        if_not_exists: bool,
    },
    /// `CREATE STORAGE CREDENTIAL c TYPE S3|GCS|AZURE WITH (option 'value', …)`.
    CreateStorageCredential {
        name: String,
        kind: String,
        options: Vec<(String, String)>,
        comment: Option<String>,
        if_not_exists: bool,
    },
    /// `DESCRIBE STORAGE CREDENTIAL c`: its kind, key id and public options, never a secret.
    DescribeStorageCredential {
        name: String,
    },
    ShowStorageCredentials,
    CreateShare {
        name: String,
        comment: Option<String>,
        if_not_exists: bool,
    },
    AddTableToShare {
        share: String,
        table: TableName,
        alias: Option<TableName>,
        with_history: bool,
        /// `START VERSION n` (with history only): the oldest version recipients may read.
        start_version: Option<u64>,
        comment: Option<String>,
        /// `PARTITION (…)`: which files recipients see.
        partition: Option<PartitionFilter>,
    },
    /// `ALTER SHARE s ALTER TABLE t PARTITION (…)`, or `UNSET PARTITION` (`None`: every file).
    SetPartitionFilter {
        share: String,
        table: TableName,
        partition: Option<PartitionFilter>,
    },
    /// `ALTER SHARE s ALTER TABLE t WITH HISTORY [START VERSION n] | WITHOUT HISTORY`.
    AlterTableInShare {
        share: String,
        table: TableName,
        with_history: bool,
        start_version: Option<u64>,
    },
    RemoveTableFromShare {
        share: String,
        table: TableName,
    },
    /// `ALTER SHARE s SET URL LIFETIME '15m'`, or `UNSET URL LIFETIME` (`None`: the server's
    /// `--url-ttl`): how long the file URLs of the share's tables live.
    SetShareUrlLifetime {
        share: String,
        lifetime: Option<Duration>,
    },
    CreateRecipient {
        name: String,
        comment: Option<String>,
        /// `TOKEN LIFETIME '90d'`: how long the tokens it is given live.
        token_lifetime: Option<Duration>,
        /// `IP ACCESS LIST ('10.0.0.0/8', …)`: where it may call from.
        ip_access_list: Option<Vec<String>>,
        /// `USING OAUTH`: OAuth client credentials instead of bearer tokens.
        oauth: bool,
        /// `PROPERTIES ('country' = 'FR', …)`, read by partition filters.
        properties: Vec<(String, String)>,
        if_not_exists: bool,
    },
    /// `ALTER RECIPIENT r SET PROPERTIES ('k' = 'v', …)`: adds or replaces those properties.
    SetRecipientProperties {
        recipient: String,
        properties: Vec<(String, String)>,
    },
    /// `ALTER RECIPIENT r UNSET PROPERTIES ('k', …)`.
    UnsetRecipientProperties {
        recipient: String,
        keys: Vec<String>,
    },
    /// `ALTER RECIPIENT r SET IP ACCESS LIST (…)`, or `UNSET IP ACCESS LIST` (`None`).
    SetIpAccessList {
        recipient: String,
        list: Option<Vec<String>>,
    },
    /// `ALTER RECIPIENT r ROTATE TOKEN [EXPIRE EXISTING IN '24h']`.
    RotateToken {
        recipient: String,
        /// How long the current token keeps working (default: it stops now).
        grace: Option<Duration>,
    },
    /// `ALTER RECIPIENT r REVOKE TOKENS`.
    RevokeTokens {
        recipient: String,
    },
    DescribeRecipient {
        recipient: String,
    },
    /// `SHOW ADMIN TOKENS`: the admin API's tokens (prefix, holder, role, dates, state).
    ShowAdminTokens,
    /// `REVOKE ADMIN TOKEN 'fsa_…'`: by the display prefix `SHOW ADMIN TOKENS` lists.
    RevokeAdminToken {
        prefix: String,
    },
    Grant {
        share: String,
        recipient: String,
    },
    Revoke {
        share: String,
        recipient: String,
    },
    DropTable {
        name: TableName,
        if_exists: bool,
    },
    /// Drops a share or a recipient; tables have their own variant because their names have two
    /// parts.
    Drop {
        kind: ObjectKind,
        name: String,
        if_exists: bool,
    },
    ShowTables,
    ShowShares,
    ShowRecipients,
    ShowAllInShare {
        share: String,
    },
    ShowGrantsOnShare {
        share: String,
    },
    /// `ALTER TABLE t SET TBLPROPERTIES ('fire.entity' = 'collateral', …)`.
    SetTableProperties {
        table: TableName,
        properties: Vec<(String, String)>,
    },
    /// `ALTER TABLE t UNSET TBLPROPERTIES ('fire.entity', …)`.
    UnsetTableProperties {
        table: TableName,
        keys: Vec<String>,
    },
    /// `ALTER TABLE t APPROVE|REJECT VERSION n [COMMENT '…']`: an admin's decision on a version
    /// of a FIRE-bound table, over its validation.
    DecideVersion {
        table: TableName,
        version: u64,
        approved: bool,
        comment: Option<String>,
    },
    /// `DESCRIBE HISTORY t`: each version with its quality and whether it is served.
    DescribeHistory {
        table: TableName,
    },
    /// `SHOW QUALITY FOR TABLE t [VERSION n]`: a version's report, rule by rule.
    ShowQuality {
        table: TableName,
        version: Option<u64>,
    },
    /// `SHOW FIRE SCHEMAS`: the FIRE entities of the remembered schema directory.
    ShowFireSchemas,
    /// `SHOW EXPECTATIONS FOR ENTITY e`: the quality rules derived from a FIRE entity.
    ShowExpectations {
        entity: String,
    },
    /// `SHOW ACCESS ON TABLE schema.table [AS OF 'timestamp']`: who could read the table, now
    /// or at a past time (rebuilt from the audit ledger).
    ShowAccess {
        table: TableName,
        as_of: Option<String>,
    },
    ShowGrantsToRecipient {
        recipient: String,
    },
    /// `ALTER CATALOG SET FOUR EYES FOR GRANT, ADD TABLE, … [PENDING LIFETIME '7d']`, or
    /// `UNSET FOUR EYES` (`None`).
    SetFourEyes {
        policy: Option<FourEyes>,
    },
    /// `SHOW PENDING CHANGES`: the four-eyes changes awaiting a decision.
    ShowPendingChanges,
    /// `APPROVE CHANGE n`, `REJECT CHANGE n [COMMENT '…']`, `WITHDRAW CHANGE n`.
    DecideChange {
        id: u64,
        decision: ChangeDecision,
        comment: Option<String>,
    },
}

/// Which statements need a second admin, and how long a proposal waits for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FourEyes {
    pub covered: Vec<Guarded>,
    /// `PENDING LIFETIME`; `None`: 7 days.
    pub lifetime: Option<Duration>,
}

/// The statements four eyes can cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Guarded {
    Grant,
    Revoke,
    AddTable,
    CreateRecipient,
    RotateToken,
    ApproveVersion,
    CreateStorageCredential,
}

impl Guarded {
    /// As written after `FOR`.
    pub fn sql(self) -> &'static str {
        match self {
            Guarded::Grant => "GRANT",
            Guarded::Revoke => "REVOKE",
            Guarded::AddTable => "ADD TABLE",
            Guarded::CreateRecipient => "CREATE RECIPIENT",
            Guarded::RotateToken => "ROTATE TOKEN",
            Guarded::ApproveVersion => "APPROVE VERSION",
            Guarded::CreateStorageCredential => "CREATE STORAGE CREDENTIAL",
        }
    }

    /// What a statement is, to four eyes.
    pub fn of(statement: &Statement) -> Option<Guarded> {
        use Statement as S;
        Some(match statement {
            S::Grant { .. } => Guarded::Grant,
            S::Revoke { .. } => Guarded::Revoke,
            S::AddTableToShare { .. } => Guarded::AddTable,
            S::CreateRecipient { .. } => Guarded::CreateRecipient,
            S::RotateToken { .. } => Guarded::RotateToken,
            S::DecideVersion { approved: true, .. } => Guarded::ApproveVersion,
            S::CreateStorageCredential { .. } => Guarded::CreateStorageCredential,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeDecision {
    Approve,
    Reject,
    Withdraw,
}

impl ChangeDecision {
    pub fn sql(self) -> &'static str {
        match self {
            ChangeDecision::Approve => "APPROVE",
            ChangeDecision::Reject => "REJECT",
            ChangeDecision::Withdraw => "WITHDRAW",
        }
    }
}

/// The longest comment of an object.
pub const MAX_COMMENT: usize = 4096;

/// Refuses a comment longer than [`MAX_COMMENT`] characters.
pub fn check_comment(comment: &Option<String>) -> Result<(), String> {
    match comment.as_ref().map(|c| c.chars().count()) {
        Some(length) if length > MAX_COMMENT => Err(format!(
            "a comment holds at most {MAX_COMMENT} characters; this one has {length}"
        )),
        _ => Ok(()),
    }
}

/// The part of the executor that runs a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Tables,
    Credentials,
    Shares,
    Recipients,
    /// Binding tables to FIRE entities, decisions on versions.
    Fire,
    /// Reading FIRE quality.
    Quality,
    /// Listings of the catalog.
    Show,
    /// Four-eyes policy and the decisions on pending changes.
    FourEyes,
}

impl Statement {
    /// What the audit ledger calls the statement (`grant`, `rotateToken`, …), whether it only
    /// reads (what auditors may run), and which executor family runs it: one exhaustive table,
    /// so that a new statement cannot be forgotten in any of them.
    fn meta(&self) -> (&'static str, bool, Family) {
        use Family::*;
        use Statement as S;
        match self {
            S::CreateTable { .. } => ("createTable", false, Tables),
            S::DropTable { .. } => ("dropTable", false, Tables),
            S::CreateStorageCredential { .. } => ("createStorageCredential", false, Credentials),
            S::DescribeStorageCredential { .. } => ("describeStorageCredential", true, Credentials),
            S::ShowStorageCredentials => ("showStorageCredentials", true, Credentials),
            S::Drop {
                kind: ObjectKind::StorageCredential,
                ..
            } => ("dropStorageCredential", false, Credentials),
            S::CreateShare { .. } => ("createShare", false, Shares),
            S::AddTableToShare { .. } => ("addTableToShare", false, Shares),
            S::AlterTableInShare { .. } => ("alterTableInShare", false, Shares),
            S::SetPartitionFilter {
                partition: Some(_), ..
            } => ("setPartitionFilter", false, Shares),
            S::SetPartitionFilter {
                partition: None, ..
            } => ("unsetPartitionFilter", false, Shares),
            S::RemoveTableFromShare { .. } => ("removeTableFromShare", false, Shares),
            S::SetShareUrlLifetime { .. } => ("setShareUrlLifetime", false, Shares),
            S::Grant { .. } => ("grant", false, Shares),
            S::Revoke { .. } => ("revoke", false, Shares),
            S::Drop {
                kind: ObjectKind::Share,
                ..
            } => ("dropShare", false, Shares),
            S::CreateRecipient { .. } => ("createRecipient", false, Recipients),
            S::SetIpAccessList { list: Some(_), .. } => ("setIpAccessList", false, Recipients),
            S::SetIpAccessList { list: None, .. } => ("unsetIpAccessList", false, Recipients),
            S::SetRecipientProperties { .. } => ("setRecipientProperties", false, Recipients),
            S::UnsetRecipientProperties { .. } => ("unsetRecipientProperties", false, Recipients),
            S::RotateToken { .. } => ("rotateToken", false, Recipients),
            S::RevokeTokens { .. } => ("revokeTokens", false, Recipients),
            S::RevokeAdminToken { .. } => ("revokeAdminToken", false, Recipients),
            S::Drop {
                kind: ObjectKind::Recipient,
                ..
            } => ("dropRecipient", false, Recipients),
            S::DescribeRecipient { .. } => ("describeRecipient", true, Recipients),
            S::ShowAdminTokens => ("showAdminTokens", true, Recipients),
            S::ShowTables => ("showTables", true, Show),
            S::ShowShares => ("showShares", true, Show),
            S::ShowRecipients => ("showRecipients", true, Show),
            S::ShowAllInShare { .. } => ("showAllInShare", true, Show),
            S::ShowGrantsOnShare { .. } => ("showGrantsOnShare", true, Show),
            S::ShowGrantsToRecipient { .. } => ("showGrantsToRecipient", true, Show),
            S::ShowAccess { .. } => ("showAccess", true, Show),
            S::SetTableProperties { .. } => ("setTableProperties", false, Fire),
            S::UnsetTableProperties { .. } => ("unsetTableProperties", false, Fire),
            S::DecideVersion { approved: true, .. } => ("approveVersion", false, Fire),
            S::DecideVersion {
                approved: false, ..
            } => ("rejectVersion", false, Fire),
            S::DescribeHistory { .. } => ("describeHistory", true, Quality),
            S::ShowQuality { .. } => ("showQuality", true, Quality),
            S::ShowFireSchemas => ("showFireSchemas", true, Quality),
            S::ShowExpectations { .. } => ("showExpectations", true, Quality),
            S::SetFourEyes { policy: Some(_) } => ("setFourEyes", false, FourEyes),
            S::SetFourEyes { policy: None } => ("unsetFourEyes", false, FourEyes),
            S::ShowPendingChanges => ("showPendingChanges", true, FourEyes),
            S::DecideChange {
                decision: ChangeDecision::Approve,
                ..
            } => ("approveChange", false, FourEyes),
            S::DecideChange {
                decision: ChangeDecision::Reject,
                ..
            } => ("rejectChange", false, FourEyes),
            S::DecideChange {
                decision: ChangeDecision::Withdraw,
                ..
            } => ("withdrawChange", false, FourEyes),
        }
    }

    /// The statement's name in the audit ledger.
    pub fn action(&self) -> &'static str {
        self.meta().0
    }

    /// True for statements that only read the catalog (what auditors may run).
    pub fn is_read_only(&self) -> bool {
        self.meta().1
    }

    pub fn family(&self) -> Family {
        self.meta().2
    }
}

/// `` `name` ``, back quotes doubled.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'text'`, quotes doubled.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn table(name: &TableName) -> String {
    format!("{}.{}", ident(&name.schema), ident(&name.table))
}

fn duration(d: &Duration) -> String {
    literal(&crate::clock::format_duration_ms(
        crate::clock::duration_ms(*d),
    ))
}

fn list<T>(items: &[T], item: impl Fn(&T) -> String) -> String {
    let items: Vec<String> = items.iter().map(item).collect();
    format!("({})", items.join(", "))
}

/// `('k' = 'v', …)`.
fn key_values(pairs: &[(String, String)]) -> String {
    list(pairs, |(k, v)| format!("{} = {}", literal(k), literal(v)))
}

/// ` COMMENT '…'`, or nothing.
fn comment(comment: &Option<String>) -> String {
    comment
        .as_ref()
        .map_or(String::new(), |c| format!(" COMMENT {}", literal(c)))
}

fn if_not_exists(yes: bool) -> &'static str {
    if yes { "IF NOT EXISTS " } else { "" }
}

fn if_exists(yes: bool) -> &'static str {
    if yes { "IF EXISTS " } else { "" }
}

/// ` WITH HISTORY [START VERSION n]`, or `without` when not shared with history.
fn history(with: bool, start: &Option<u64>, without: &str) -> String {
    match (with, start) {
        (true, Some(v)) => format!(" WITH HISTORY START VERSION {v}"),
        (true, None) => " WITH HISTORY".into(),
        (false, _) => without.into(),
    }
}

/// The statement as SQL the parser reads back as the same statement (names back-quoted,
/// literals quoted), except that the values of a storage credential's secret options read
/// `'<redacted>'`: what the ledger keeps of statements built by the REST API.
impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Statement as S;
        match self {
            S::CreateTable { .. }
            | S::DropTable { .. }
            | S::CreateStorageCredential { .. }
            | S::Drop { .. }
            | S::CreateShare { .. }
            | S::AddTableToShare { .. }
            | S::AlterTableInShare { .. }
            | S::SetPartitionFilter { .. }
            | S::RemoveTableFromShare { .. }
            | S::SetShareUrlLifetime { .. }
            | S::Grant { .. }
            | S::Revoke { .. } => self.fmt_catalog(f),
            S::CreateRecipient { .. }
            | S::SetIpAccessList { .. }
            | S::SetRecipientProperties { .. }
            | S::UnsetRecipientProperties { .. }
            | S::RotateToken { .. }
            | S::RevokeTokens { .. }
            | S::RevokeAdminToken { .. }
            | S::SetTableProperties { .. }
            | S::UnsetTableProperties { .. }
            | S::DecideVersion { .. }
            | S::SetFourEyes { .. }
            | S::DecideChange { .. } => self.fmt_access(f),
            S::DescribeStorageCredential { .. }
            | S::ShowStorageCredentials
            | S::DescribeRecipient { .. }
            | S::ShowAdminTokens
            | S::ShowTables
            | S::ShowShares
            | S::ShowRecipients
            | S::ShowAllInShare { .. }
            | S::ShowGrantsOnShare { .. }
            | S::ShowGrantsToRecipient { .. }
            | S::ShowAccess { .. }
            | S::DescribeHistory { .. }
            | S::ShowQuality { .. }
            | S::ShowFireSchemas
            | S::ShowPendingChanges
            | S::ShowExpectations { .. } => self.fmt_reading(f),
        }
    }
}

impl Statement {
    /// Tables, storage credentials and shares (the groups are listed in `fmt`).
    fn fmt_catalog(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Statement as S;
        match self {
            S::CreateTable {
                name,
                location,
                credential,
                comment: c,
                if_not_exists: ine,
            } => {
                let credential = match credential {
                    TableCredential::None => String::new(),
                    TableCredential::Named(name) => format!(" WITH CREDENTIAL {}", ident(name)),
                    TableCredential::Environment => " FROM ENVIRONMENT".into(),
                };
                write!(
                    f,
                    "CREATE TABLE {}{} USING DELTA LOCATION {}{credential}{}",
                    if_not_exists(*ine),
                    table(name),
                    literal(location),
                    comment(c)
                )
            }
            S::DropTable {
                name,
                if_exists: ie,
            } => {
                write!(f, "DROP TABLE {}{}", if_exists(*ie), table(name))
            }
            S::CreateStorageCredential {
                name,
                kind,
                options,
                comment: c,
                if_not_exists: ine,
            } => {
                let options = list(options, |(option, value)| {
                    let shown = match crate::storage::is_public_option(option) {
                        true => literal(value),
                        false => super::REDACTED.to_string(),
                    };
                    format!("{} {shown}", ident(option))
                });
                write!(
                    f,
                    "CREATE STORAGE CREDENTIAL {}{} TYPE {} WITH {options}{}",
                    if_not_exists(*ine),
                    ident(name),
                    ident(kind),
                    comment(c)
                )
            }
            S::Drop {
                kind,
                name,
                if_exists: ie,
            } => {
                let kind = match kind {
                    ObjectKind::Share => "SHARE",
                    ObjectKind::Recipient => "RECIPIENT",
                    ObjectKind::StorageCredential => "STORAGE CREDENTIAL",
                };
                write!(f, "DROP {kind} {}{}", if_exists(*ie), ident(name))
            }
            S::CreateShare {
                name,
                comment: c,
                if_not_exists: ine,
            } => write!(
                f,
                "CREATE SHARE {}{}{}",
                if_not_exists(*ine),
                ident(name),
                comment(c)
            ),
            S::AddTableToShare {
                share,
                table: t,
                alias,
                with_history,
                start_version,
                comment: c,
                partition,
            } => {
                let alias = alias
                    .as_ref()
                    .map_or(String::new(), |a| format!(" AS {}", table(a)));
                let history = history(*with_history, start_version, "");
                let partition = partition
                    .as_ref()
                    .map_or(String::new(), |p| format!(" PARTITION {p}"));
                let (share, t, c) = (ident(share), table(t), comment(c));
                write!(
                    f,
                    "ALTER SHARE {share} ADD TABLE {t}{c}{partition}{alias}{history}"
                )
            }
            S::SetPartitionFilter {
                share,
                table: t,
                partition,
            } => {
                let (share, t) = (ident(share), table(t));
                match partition {
                    Some(p) => write!(f, "ALTER SHARE {share} ALTER TABLE {t} PARTITION {p}"),
                    None => write!(f, "ALTER SHARE {share} ALTER TABLE {t} UNSET PARTITION"),
                }
            }
            S::AlterTableInShare {
                share,
                table: t,
                with_history,
                start_version,
            } => {
                let history = history(*with_history, start_version, " WITHOUT HISTORY");
                write!(
                    f,
                    "ALTER SHARE {} ALTER TABLE {}{history}",
                    ident(share),
                    table(t)
                )
            }
            S::RemoveTableFromShare { share, table: t } => {
                write!(f, "ALTER SHARE {} REMOVE TABLE {}", ident(share), table(t))
            }
            S::SetShareUrlLifetime { share, lifetime } => match lifetime {
                Some(d) => write!(
                    f,
                    "ALTER SHARE {} SET URL LIFETIME {}",
                    ident(share),
                    duration(d)
                ),
                None => write!(f, "ALTER SHARE {} UNSET URL LIFETIME", ident(share)),
            },
            S::Grant { share, recipient } => write!(
                f,
                "GRANT SELECT ON SHARE {} TO RECIPIENT {}",
                ident(share),
                ident(recipient)
            ),
            S::Revoke { share, recipient } => write!(
                f,
                "REVOKE SELECT ON SHARE {} FROM RECIPIENT {}",
                ident(share),
                ident(recipient)
            ),
            _ => unreachable!("{} is written by another function", self.action()),
        }
    }

    /// Recipients, FIRE quality, and what only reads.
    fn fmt_access(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Statement as S;
        match self {
            S::CreateRecipient {
                name,
                comment: c,
                token_lifetime,
                ip_access_list,
                oauth,
                properties,
                if_not_exists: ine,
            } => {
                let oauth = if *oauth { " USING OAUTH" } else { "" };
                let lifetime = token_lifetime.as_ref().map_or(String::new(), |d| {
                    format!(" TOKEN LIFETIME {}", duration(d))
                });
                let ips = ip_access_list.as_ref().map_or(String::new(), |l| {
                    format!(" IP ACCESS LIST {}", list(l, |a| literal(a)))
                });
                let properties = match properties.as_slice() {
                    [] => String::new(),
                    p => format!(" PROPERTIES {}", key_values(p)),
                };
                let (ine, name, c) = (if_not_exists(*ine), ident(name), comment(c));
                write!(
                    f,
                    "CREATE RECIPIENT {ine}{name}{oauth}{c}{lifetime}{ips}{properties}"
                )
            }
            S::SetRecipientProperties {
                recipient,
                properties,
            } => write!(
                f,
                "ALTER RECIPIENT {} SET PROPERTIES {}",
                ident(recipient),
                key_values(properties)
            ),
            S::UnsetRecipientProperties { recipient, keys } => write!(
                f,
                "ALTER RECIPIENT {} UNSET PROPERTIES {}",
                ident(recipient),
                list(keys, |k| literal(k))
            ),
            S::SetIpAccessList { recipient, list: l } => match l {
                Some(l) => write!(
                    f,
                    "ALTER RECIPIENT {} SET IP ACCESS LIST {}",
                    ident(recipient),
                    list(l, |a| literal(a))
                ),
                None => write!(
                    f,
                    "ALTER RECIPIENT {} UNSET IP ACCESS LIST",
                    ident(recipient)
                ),
            },
            S::RotateToken { recipient, grace } => {
                let grace = grace.as_ref().map_or(String::new(), |d| {
                    format!(" EXPIRE EXISTING IN {}", duration(d))
                });
                write!(
                    f,
                    "ALTER RECIPIENT {} ROTATE TOKEN{grace}",
                    ident(recipient)
                )
            }
            S::RevokeTokens { recipient } => {
                write!(f, "ALTER RECIPIENT {} REVOKE TOKENS", ident(recipient))
            }
            S::RevokeAdminToken { prefix } => write!(f, "REVOKE ADMIN TOKEN {}", literal(prefix)),
            S::SetTableProperties {
                table: t,
                properties,
            } => write!(
                f,
                "ALTER TABLE {} SET TBLPROPERTIES {}",
                table(t),
                key_values(properties)
            ),
            S::UnsetTableProperties { table: t, keys } => write!(
                f,
                "ALTER TABLE {} UNSET TBLPROPERTIES {}",
                table(t),
                list(keys, |k| literal(k))
            ),
            S::DecideVersion {
                table: t,
                version,
                approved,
                comment: c,
            } => {
                let decision = if *approved { "APPROVE" } else { "REJECT" };
                write!(
                    f,
                    "ALTER TABLE {} {decision} VERSION {version}{}",
                    table(t),
                    comment(c)
                )
            }
            S::SetFourEyes { policy: None } => write!(f, "ALTER CATALOG UNSET FOUR EYES"),
            S::SetFourEyes {
                policy: Some(policy),
            } => {
                let covered: Vec<&str> = policy.covered.iter().map(|g| g.sql()).collect();
                let lifetime = policy.lifetime.as_ref().map_or(String::new(), |d| {
                    format!(" PENDING LIFETIME {}", duration(d))
                });
                write!(
                    f,
                    "ALTER CATALOG SET FOUR EYES FOR {}{lifetime}",
                    covered.join(", ")
                )
            }
            S::DecideChange {
                id,
                decision,
                comment: c,
            } => write!(f, "{} CHANGE {id}{}", decision.sql(), comment(c)),
            _ => unreachable!("{} is written by another function", self.action()),
        }
    }

    /// Statements that only read.
    fn fmt_reading(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Statement as S;
        match self {
            S::DescribeStorageCredential { name } => {
                write!(f, "DESCRIBE STORAGE CREDENTIAL {}", ident(name))
            }
            S::ShowStorageCredentials => write!(f, "SHOW STORAGE CREDENTIALS"),
            S::DescribeRecipient { recipient } => {
                write!(f, "DESCRIBE RECIPIENT {}", ident(recipient))
            }
            S::ShowAdminTokens => write!(f, "SHOW ADMIN TOKENS"),
            S::ShowTables => write!(f, "SHOW TABLES"),
            S::ShowShares => write!(f, "SHOW SHARES"),
            S::ShowRecipients => write!(f, "SHOW RECIPIENTS"),
            S::ShowAllInShare { share } => write!(f, "SHOW ALL IN SHARE {}", ident(share)),
            S::ShowGrantsOnShare { share } => write!(f, "SHOW GRANTS ON SHARE {}", ident(share)),
            S::ShowGrantsToRecipient { recipient } => {
                write!(f, "SHOW GRANTS TO RECIPIENT {}", ident(recipient))
            }
            S::ShowAccess { table: t, as_of } => {
                let as_of = as_of
                    .as_ref()
                    .map_or(String::new(), |a| format!(" AS OF {}", literal(a)));
                write!(f, "SHOW ACCESS ON TABLE {}{as_of}", table(t))
            }
            S::DescribeHistory { table: t } => write!(f, "DESCRIBE HISTORY {}", table(t)),
            S::ShowQuality { table: t, version } => {
                let version = version.map_or(String::new(), |v| format!(" VERSION {v}"));
                write!(f, "SHOW QUALITY FOR TABLE {}{version}", table(t))
            }
            S::ShowFireSchemas => write!(f, "SHOW FIRE SCHEMAS"),
            S::ShowPendingChanges => write!(f, "SHOW PENDING CHANGES"),
            S::ShowExpectations { entity } => {
                write!(f, "SHOW EXPECTATIONS FOR ENTITY {}", ident(entity))
            }
            _ => unreachable!("{} is written by another function", self.action()),
        }
    }
}
