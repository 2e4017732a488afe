//! Schema migrations, embedded from `catalog/migrations/*.sql` and applied in order at start.
//! `PRAGMA user_version` records how many have run.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Error, Result};

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../catalog/migrations/0001_initial.sql"),
    ),
    (
        "0002_start_version",
        include_str!("../../catalog/migrations/0002_start_version.sql"),
    ),
    (
        "0003_admin_tokens",
        include_str!("../../catalog/migrations/0003_admin_tokens.sql"),
    ),
    (
        "0004_recipient_lifecycle",
        include_str!("../../catalog/migrations/0004_recipient_lifecycle.sql"),
    ),
    (
        "0005_ip_access_lists",
        include_str!("../../catalog/migrations/0005_ip_access_lists.sql"),
    ),
    (
        "0006_oauth_clients",
        include_str!("../../catalog/migrations/0006_oauth_clients.sql"),
    ),
    (
        "0007_token_last_used",
        include_str!("../../catalog/migrations/0007_token_last_used.sql"),
    ),
    (
        "0008_settings",
        include_str!("../../catalog/migrations/0008_settings.sql"),
    ),
    (
        "0009_fire_quality",
        include_str!("../../catalog/migrations/0009_fire_quality.sql"),
    ),
    (
        "0010_fire_decisions",
        include_str!("../../catalog/migrations/0010_fire_decisions.sql"),
    ),
    (
        "0011_storage_credentials",
        include_str!("../../catalog/migrations/0011_storage_credentials.sql"),
    ),
    (
        "0012_catalog_changes",
        include_str!("../../catalog/migrations/0012_catalog_changes.sql"),
    ),
    (
        "0013_partition_filters",
        include_str!("../../catalog/migrations/0013_partition_filters.sql"),
    ),
    (
        "0014_pending_changes",
        include_str!("../../catalog/migrations/0014_pending_changes.sql"),
    ),
    (
        "0015_console_sessions",
        include_str!("../../catalog/migrations/0015_console_sessions.sql"),
    ),
];

pub(super) fn run(conn: &mut Connection) -> Result<()> {
    // One IMMEDIATE transaction: two processes starting on a fresh directory (a server and the
    // `sql` command) must not both migrate.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = applied as usize;
    if applied > MIGRATIONS.len() {
        return Err(Error::internal(format!(
            "the catalog was written by a newer fireshare (schema version {applied}, this build knows {})",
            MIGRATIONS.len()
        )));
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)
            .map_err(|e| Error::internal(format!("catalog migration {name} failed: {e}")))?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tracing::debug!(migration = name, "applied catalog migration");
    }
    tx.commit()?;
    if applied < MIGRATIONS.len() {
        tracing::info!(
            from = applied,
            to = MIGRATIONS.len(),
            "migrated the catalog's schema"
        );
    }
    Ok(())
}
