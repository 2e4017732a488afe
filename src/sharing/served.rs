//! Which versions of a shared table recipients may read. Every version of a plain table; of a
//! table bound to a FIRE entity only the approved ones — validated at or above its minimum
//! pass rate, or approved by an admin. Such a table's latest version, to recipients, is its
//! latest approved one; asking for any other version is refused with the reason.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::Context;
use crate::catalog::SharedTable;
use crate::delta::VersionSpec;
use crate::fire::quality::{Approvals, Binding, VersionStatus};
use crate::{Error, Result};

/// The approvals of a FIRE-bound table; a plain one (its binding comes with it) costs no read.
fn approvals(cx: &Context<'_>, shared: &SharedTable) -> Result<Option<Approvals>> {
    match Binding::of(&shared.fire_properties)? {
        Some(binding) => cx
            .catalog
            .read(|c| Approvals::bound(c, &shared.table.id, binding))
            .map(Some),
        None => Ok(None),
    }
}

fn name(shared: &SharedTable) -> String {
    format!("{}.{}.{}", shared.share, shared.schema, shared.name)
}

/// The latest version recipients see.
pub fn latest(cx: &Context<'_>, shared: &SharedTable) -> Result<u64> {
    let root = super::table::table_location(cx, shared)?;
    let latest = cx.delta.snapshot(&root, VersionSpec::Latest)?.version();
    match approvals(cx, shared)? {
        None => Ok(latest),
        // Only versions the share offers count (START VERSION).
        Some(a) => a
            .latest_served(latest)
            .filter(|v| *v >= shared.start_version)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "table {} has no validated version yet: its versions are served once they pass FIRE data-quality validation",
                    name(shared)
                ))
            }),
    }
}

/// Refuses a request that reaches a version recipients may not read.
pub fn check(cx: &Context<'_>, shared: &SharedTable, versions: RangeInclusive<u64>) -> Result<()> {
    let Some(a) = approvals(cx, shared)? else {
        return Ok(());
    };
    for version in versions {
        let status = a.status(version);
        if !status.is_served() {
            return Err(Error::invalid(format!(
                "version {version} of table {} is not served: {status}; FIRE data quality requires a pass rate of at least {:.1}% or an admin's approval",
                name(shared),
                a.binding.min_pass_rate * 100.0
            )));
        }
    }
    Ok(())
}

/// What recipients are told of the validation behind a version they read.
pub struct Evidence {
    /// `fireshare.fire.*` entries of the metaData's `configuration`.
    pub configuration: BTreeMap<String, String>,
    /// The digest of the rules the version was validated with (receipts name it too).
    pub rules_digest: Option<String>,
}

/// The evidence of `version` of a FIRE-bound table; `None` for a plain table.
pub fn evidence(cx: &Context<'_>, shared: &SharedTable, version: u64) -> Result<Option<Evidence>> {
    let Some(approvals) = approvals(cx, shared)? else {
        return Ok(None);
    };
    let report = cx.catalog.read(|c| c.report(&shared.table.id, version))?;
    let mut configuration = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        configuration.insert(
            format!("{}fire.{key}", super::ndjson::EVIDENCE_PREFIX),
            value,
        );
    };
    put("entity", approvals.binding.entity.clone());
    put("minPassRate", approvals.binding.min_pass_rate.to_string());
    put("version", version.to_string());
    let status = approvals.status(version);
    put("status", status.to_string());
    if let VersionStatus::Approved(by) = &status {
        put("approvedBy", by.clone());
    }
    let rules_digest = report.as_ref().map(|r| r.rules_digest());
    if let (Some(report), Some(digest)) = (&report, &rules_digest) {
        put("passRate", report.pass_rate.to_string());
        put("rowsChecked", report.rows.to_string());
        put("passingRows", report.passing.to_string());
        put("rulesDigest", digest.clone());
        put("validatedAt", crate::clock::format_ms(report.validated_at));
    }
    Ok(Some(Evidence {
        configuration,
        rules_digest,
    }))
}
