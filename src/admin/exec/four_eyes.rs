//! Four eyes (dual control): with `ALTER CATALOG SET FOUR EYES FOR …`, a covered statement
//! run by one admin is not applied but proposed — its predicted effect computed and undone,
//! the statement kept sealed — and applied only when a different admin runs `APPROVE CHANGE
//! n`. Changing or turning off the policy while it is on is itself covered. Every proposal
//! and decision is a catalog change, so the ledger records it with its diff.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Run, execute, gather};
use crate::admin::StatementResult;
use crate::admin::sql::{ChangeDecision, FourEyes, Guarded, Statement};
use crate::catalog::{FOUR_EYES, NewChange, PendingChange, Tx, history};
use crate::clock::{format_ms, now_ms};
use crate::{Error, Result};

/// How long a proposal waits for a decision unless the policy says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

pub(super) fn execute_four_eyes(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
) -> Result<StatementResult> {
    match statement {
        Statement::SetFourEyes { policy: Some(p) } => {
            tx.set_setting(FOUR_EYES, &serde_json::to_string(p)?)?;
            let covered: Vec<&str> = p.covered.iter().map(|g| g.sql()).collect();
            run.status(format!(
                "four eyes is on: {} need a second admin's APPROVE CHANGE; proposals wait {}",
                covered.join(", "),
                crate::clock::format_duration_ms(crate::clock::duration_ms(lifetime(p)))
            ))
        }
        Statement::SetFourEyes { policy: None } => {
            tx.unset_setting(FOUR_EYES)?;
            run.status("four eyes is off: every statement applies at once".into())
        }
        Statement::ShowPendingChanges => {
            let now = now_ms();
            let rows = tx
                .undecided_changes()?
                .into_iter()
                .map(|c| {
                    let state = if c.expires_at <= now {
                        "expired"
                    } else {
                        "pending"
                    };
                    vec![
                        c.id.to_string(),
                        c.proposed_by.clone(),
                        format_ms(c.proposed_at),
                        format_ms(c.expires_at),
                        c.statement.clone(),
                        effect_summary(&c.effect),
                        state.into(),
                    ]
                })
                .collect();
            Ok(StatementResult::table(
                run.text,
                &[
                    "id",
                    "proposed_by",
                    "proposed",
                    "expires",
                    "statement",
                    "effect",
                    "state",
                ],
                rows,
            ))
        }
        Statement::DecideChange {
            id,
            decision,
            comment,
        } => decide(tx, run, *id, *decision, comment.as_deref()),
        other => unreachable!("{} is run by another family", other.action()),
    }
}

fn lifetime(policy: &FourEyes) -> Duration {
    policy.lifetime.unwrap_or(DEFAULT_LIFETIME)
}

fn policy(tx: &Tx<'_>) -> Result<Option<FourEyes>> {
    match tx.setting(FOUR_EYES)? {
        None => Ok(None),
        Some(json) => Ok(Some(serde_json::from_str(&json)?)),
    }
}

/// The admin a four-eyes step is taken as: named, or refused.
fn admin<'a>(run: &Run<'a>, what: &str) -> Result<&'a str> {
    run.context.admin.ok_or_else(|| {
        Error::permission_denied(format!(
            "four eyes is on: {what} must be done by a named admin (an admin token, or fireshare sql --as NAME)"
        ))
    })
}

/// With four eyes covering `statement`, proposes it instead of running it and answers
/// `pending change N`; `None` when it is not covered. `before` holds the catalog's governed
/// rows as they are now.
pub(super) fn guard(
    tx: &Tx<'_>,
    statement: &Statement,
    run: &Run<'_>,
    before: &history::CatalogRows,
) -> Result<Option<StatementResult>> {
    let Some(policy) = policy(tx)? else {
        return Ok(None);
    };
    let covered = matches!(statement, Statement::SetFourEyes { .. })
        || Guarded::of(statement).is_some_and(|g| policy.covered.contains(&g));
    if !covered {
        return Ok(None);
    }
    let by = admin(run, &format!("{} (covered)", statement.action()))?;
    // What it would do, found by doing it and undoing it; a statement that would fail fails
    // now, not at approval.
    let effect = tx.trial(|tx| {
        execute(tx, statement, run)?;
        Ok(history::diff(before, &tx.governed_rows()?))
    })?;
    let expires_at = now_ms().saturating_add(crate::clock::duration_ms(lifetime(&policy)));
    let effect = effect.to_string();
    let sealed = seal(run, statement)?;
    let id = tx.propose_change(&NewChange {
        statement: run.text,
        statement_sealed: &sealed,
        effect: &effect,
        proposed_by: by,
        expires_at,
    })?;
    let mut result = StatementResult::status(
        run.text,
        format!(
            "pending change {id}: {} awaits another admin's APPROVE CHANGE {id} (until {}); it would change {}",
            statement.action(),
            format_ms(expires_at),
            effect_summary(&effect)
        ),
    );
    result.action = "proposeChange";
    Ok(Some(result))
}

/// The statement as JSON, sealed with the data directory's storage key (it may hold a
/// credential's secrets, which its SQL text does not).
fn seal(run: &Run<'_>, statement: &Statement) -> Result<Vec<u8>> {
    let json = serde_json::to_string(statement)?;
    run.context
        .stores
        .vault()
        .seal(SEAL_ID, &BTreeMap::from([("statement".to_string(), json)]))
}

fn unseal(run: &Run<'_>, change: &PendingChange) -> Result<Statement> {
    let opened = run
        .context
        .stores
        .vault()
        .open(SEAL_ID, &change.statement_sealed)?;
    let json = opened
        .get("statement")
        .ok_or_else(|| Error::internal("a pending change holds no statement"))?;
    Ok(serde_json::from_str(json)?)
}

/// What sealed statements are bound to (credentials are bound to their ids).
const SEAL_ID: &str = "pending change";

fn decide(
    tx: &Tx<'_>,
    run: &Run<'_>,
    id: u64,
    decision: ChangeDecision,
    comment: Option<&str>,
) -> Result<StatementResult> {
    let by = admin(run, &format!("{} CHANGE", decision.sql()))?;
    let change = tx.require_change(id)?;
    if change.state != "pending" {
        return Err(Error::invalid(format!(
            "change {id} was {} already",
            change.state
        )));
    }
    let own = change.proposed_by.eq_ignore_ascii_case(by);
    match decision {
        ChangeDecision::Withdraw if !own => {
            return Err(Error::permission_denied(format!(
                "only {} may withdraw change {id}, which they proposed",
                change.proposed_by
            )));
        }
        ChangeDecision::Approve | ChangeDecision::Reject if own => {
            return Err(Error::permission_denied(format!(
                "change {id} was proposed by {by}: another admin must decide on it (four eyes); WITHDRAW CHANGE {id} takes it back"
            )));
        }
        _ => {}
    }
    if decision == ChangeDecision::Approve && change.expires_at <= now_ms() {
        return Err(Error::invalid(format!(
            "change {id} expired at {} without a decision: propose it again",
            format_ms(change.expires_at)
        )));
    }
    let state = match decision {
        ChangeDecision::Approve => "approved",
        ChangeDecision::Reject => "rejected",
        ChangeDecision::Withdraw => "withdrawn",
    };
    tx.decide_change(id, state, by, comment)?;
    if decision != ChangeDecision::Approve {
        return run.status(format!("change {id} ({}) is {state}", change.statement));
    }
    // Applied as proposed, by the approver's hand: what it reads outside the catalog is read
    // now, inside the transaction.
    let statement = unseal(run, &change)?;
    let gathered = gather(run.catalog, Some(tx), &statement, run.context)?;
    let inner = Run {
        text: &change.statement,
        gathered: &gathered,
        ..*run
    };
    // Its own four-eyes check is the one just passed.
    let mut result = execute(tx, &statement, &inner)?;
    result.statement = run.text.to_string();
    let applied = format!(
        "approved change {id}, proposed by {}: {}",
        change.proposed_by, change.statement
    );
    match result.columns.first().map(String::as_str) {
        Some("status") => {
            for row in &mut result.rows {
                row[0] = format!("{applied}: {}", row[0]);
            }
        }
        _ => {
            result.columns.insert(0, "status".into());
            for row in &mut result.rows {
                row.insert(0, applied.clone());
            }
        }
    }
    Ok(result)
}

/// "grants +1, recipients +1 -1": how many rows of each catalog table a change adds and
/// removes.
fn effect_summary(effect: &str) -> String {
    let effect: serde_json::Value = serde_json::from_str(effect).unwrap_or_default();
    let count = |change: &serde_json::Value, key: &str| change[key].as_array().map_or(0, Vec::len);
    let parts: Vec<String> = effect
        .as_object()
        .into_iter()
        .flatten()
        .map(|(table, change)| {
            let (added, removed) = (count(change, "added"), count(change, "removed"));
            match (added, removed) {
                (a, 0) => format!("{table} +{a}"),
                (0, r) => format!("{table} -{r}"),
                (a, r) => format!("{table} +{a} -{r}"),
            }
        })
        .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}
