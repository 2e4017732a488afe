//! Storage credentials: creating them (secrets sealed), describing, listing and dropping them.

use super::Run;
use crate::Result;
use crate::admin::StatementResult;
use crate::admin::sql::{ObjectKind, Statement};
use crate::catalog::{self, Tx};
use crate::clock::format_ms;
use crate::storage::{CredentialKind, StorageCredential};

pub(super) fn execute(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    let text = run.text;
    let context = run.context;
    match statement {
        Statement::CreateStorageCredential {
            name,
            kind,
            options,
            comment,
            if_not_exists,
        } => {
            let credential = StorageCredential::new(CredentialKind::parse(kind)?, options)?;
            let key_id = credential.key_id();
            let id = catalog::new_id();
            let sealed = context.stores.vault().seal(&id, &credential.secret)?;
            let created = tx.create_credential(
                &catalog::NewCredential {
                    id: &id,
                    name,
                    kind: credential.kind.as_str(),
                    key_id: &key_id,
                    public: &credential.public,
                    sealed: &sealed,
                    comment: comment.as_deref(),
                },
                *if_not_exists,
            )?;
            run.done_or_skipped(
                created,
                format!(
                    "created storage credential {name} ({} key {}); its secrets are encrypted and will not be shown again",
                    credential.kind.as_str(),
                    key_id
                ),
                "storage credential exists, nothing done",
            )
        }
        Statement::DescribeStorageCredential { name } => {
            let found = tx.require_credential(name)?;
            let used_by = tx.tables_using_credential(&found.id)?;
            let options: Vec<String> = found
                .public
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            Ok(StatementResult::table(
                text,
                &[
                    "name", "type", "key_id", "options", "used_by", "comment", "created",
                ],
                vec![vec![
                    found.name,
                    found.kind,
                    found.key_id,
                    options.join(", "),
                    used_by.join(", "),
                    found.comment.unwrap_or_default(),
                    format_ms(found.created_at),
                ]],
            ))
        }
        Statement::ShowStorageCredentials => {
            let rows = tx
                .credentials()?
                .into_iter()
                .map(|c| {
                    vec![
                        c.name,
                        c.kind,
                        c.key_id,
                        c.comment.unwrap_or_default(),
                        format_ms(c.created_at),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                text,
                &["name", "type", "key_id", "comment", "created"],
                rows,
            ))
        }
        Statement::Drop {
            kind: ObjectKind::StorageCredential,
            name,
            if_exists,
        } => {
            let dropped = tx.drop_credential(name, *if_exists)?;
            run.done_or_skipped(
                dropped,
                format!("dropped storage credential {name}"),
                "no such storage credential, nothing done",
            )
        }
        other => unreachable!("{} is run by another family", other.action()),
    }
}
