//! The team's side of a finding: status (open, acknowledged, accepted risk
//! with a reason and an expiry, resolved), owner and due date. Due dates come
//! from a target per severity; every change lands in `finding_history`
//! through the store's trigger.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use faro_protocols::uplink::FindingDelta;
use serde::{Deserialize, Serialize};

use crate::store::{Store, params};

/// The statuses a finding can have.
pub const STATUSES: [&str; 4] = ["open", "acknowledged", "accepted_risk", "resolved"];

/// The asset-matching states CSAF 2.0 names (§ 9.1.14, "CSAF asset
/// matching system") and the statuses they are: what the vulnerability
/// views show and what triage takes for them.
pub const CTEM_STATUSES: [(&str, &str); 4] = [
    ("not_remediated", "open"),
    ("remediation_in_progress", "acknowledged"),
    ("remediation_done", "resolved"),
    ("accepted_risk", "accepted_risk"),
];

/// A status as CSAF's asset matching names it.
pub fn ctem_status(status: &str) -> &str {
    CTEM_STATUSES
        .iter()
        .find(|(_, s)| *s == status)
        .map_or(status, |(ctem, _)| ctem)
}

/// The status a CSAF asset-matching state is (a status stays itself).
pub fn status_of(name: &str) -> &str {
    CTEM_STATUSES
        .iter()
        .find(|(ctem, _)| *ctem == name)
        .map_or(name, |(_, s)| s)
}

/// Severities, lowest first (their rank is their index).
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// The rank of a severity (0 info … 4 critical); unknown names rank as info.
pub fn severity_rank(severity: &str) -> i64 {
    SEVERITIES
        .iter()
        .position(|s| *s == severity)
        .and_then(|i| i64::try_from(i).ok())
        .unwrap_or(0)
}

/// Days from first seen to due, by severity (none for `info`): the targets a
/// plant's security team commonly works to; documented in docs/api.md.
pub fn target_days(severity: &str) -> Option<u64> {
    match severity {
        "critical" => Some(7),
        "high" => Some(30),
        "medium" => Some(90),
        "low" => Some(180),
        _ => None,
    }
}

/// The due date of a finding first seen at `first_seen` (RFC 3339).
pub fn due_date(severity: &str, first_seen: &str) -> Option<String> {
    let days = target_days(severity)?;
    let seen = humantime::parse_rfc3339_weak(first_seen).ok()?;
    let due = seen.checked_add(Duration::from_secs(days * 86_400))?;
    Some(humantime::format_rfc3339_seconds(due).to_string())
}

/// The protocol a finding is about: its edge's, else its rule's family
/// (`modbus`, `s7`, `dnp3`, `opcua`, `certificate`, `ics`).
pub fn protocol_of(f: &FindingDelta) -> String {
    match &f.edge {
        Some(e) => e.protocol.clone(),
        None => f.rule.split('.').next().unwrap_or_default().to_owned(),
    }
}

/// A change of a finding's triage, as the API takes it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TriageChange {
    /// New status.
    pub status: Option<String>,
    /// New owner (empty: none).
    pub owner: Option<String>,
    /// New due date, RFC 3339 (empty: none).
    pub due: Option<String>,
    /// Why (required to accept a risk).
    pub reason: Option<String>,
    /// When an accepted risk is to be looked at again, RFC 3339 (required to accept a risk).
    pub expires: Option<String>,
}

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    /// No finding with that id.
    #[error("no finding {0}")]
    NotFound(i64),
    /// The change is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("store: {0:#}")]
    Store(#[from] anyhow::Error),
}

/// `value` as the store writes times (UTC, seconds), so they compare as text.
fn normal_time(field: &str, value: &str) -> Result<String, TriageError> {
    humantime::parse_rfc3339_weak(value)
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .map_err(|e| {
            TriageError::Invalid(format!("{field}: {value:?} is not an RFC 3339 time ({e})"))
        })
}

/// Applies `change` to finding `id` as `actor`; returns the fields changed.
pub fn apply(
    store: &Store,
    id: i64,
    change: &TriageChange,
    actor: &str,
) -> Result<usize, TriageError> {
    let change = &TriageChange {
        status: change.status.as_deref().map(|s| status_of(s).to_owned()),
        ..change.clone()
    };
    if let Some(status) = &change.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(TriageError::Invalid(format!(
                "status {status:?}: one of {}",
                STATUSES.join(", ")
            )));
        }
        if status == "accepted_risk" {
            let reason_given = change
                .reason
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty());
            if !reason_given || change.expires.is_none() {
                return Err(TriageError::Invalid(
                    "accepting a risk needs a reason and an expiry".into(),
                ));
            }
        }
    }
    // Some(None): clear the field; None: leave it.
    let due = match change.due.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(d) => Some(Some(normal_time("due", d)?)),
    };
    let expires = match change.expires.as_deref() {
        None => None,
        Some(e) => {
            let e = normal_time("expires", e)?;
            let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            if e <= now {
                return Err(TriageError::Invalid(
                    "expires: must be in the future".into(),
                ));
            }
            Some(e)
        }
    };
    let owner = change
        .owner
        .as_ref()
        .map(|o| (!o.trim().is_empty()).then(|| o.trim().to_owned()));
    store
        .write(|db| {
            let exists = db.query_opt("SELECT id FROM findings WHERE id = ?1", params![id])?;
            if exists.is_none() {
                return Ok(None);
            }
            let before: i64 = db.query_value(
                "SELECT count(*) FROM finding_history WHERE finding_id = ?1",
                params![id],
            )?;
            // A status other than accepted_risk clears the acceptance's terms.
            let leaving_acceptance = change
                .status
                .as_deref()
                .is_some_and(|s| s != "accepted_risk");
            db.execute(
                &format!(
                    "UPDATE findings SET
                updated_by = ?2,
                updated_at = {},
                status = coalesce(?3, status),
                owner = CASE WHEN ?4 THEN ?5 ELSE owner END,
                due = CASE WHEN ?6 THEN ?7 ELSE due END,
                reason = CASE WHEN ?8 THEN NULL WHEN ?9 THEN ?10 ELSE reason END,
                expires = CASE WHEN ?8 THEN NULL WHEN ?11 THEN ?12 ELSE expires END
             WHERE id = ?1",
                    db.backend().now_rfc3339()
                ),
                params![
                    id,
                    actor,
                    change.status,
                    owner.is_some(),
                    owner.flatten(),
                    due.is_some(),
                    due.flatten(),
                    leaving_acceptance && change.reason.is_none(),
                    change.reason.is_some(),
                    change.reason,
                    expires.is_some(),
                    expires,
                ],
            )?;
            let after: i64 = db.query_value(
                "SELECT count(*) FROM finding_history WHERE finding_id = ?1",
                params![id],
            )?;
            Ok(Some(usize::try_from(after - before).unwrap_or(0)))
        })?
        .ok_or(TriageError::NotFound(id))
}

/// Reopens accepted risks whose expiry has passed; returns how many.
pub fn expire_acceptances(store: &Store) -> Result<usize> {
    store.write(|db| {
        // Under the write lock, as every `updated_at` (see `forward`).
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        db.execute(
            "UPDATE findings SET status = 'open', updated_by = 'expiry', reason = NULL, expires = NULL,
                updated_at = ?1
             WHERE status = 'accepted_risk' AND expires <= ?1",
            params![now],
        )
    })
}
