//! Keeps the stored exposure current: after summaries land, each site they
//! touched is scored again from the stored inventory (`exposure::score_site`,
//! a pure function of it: the same data always gives the same scores), and the
//! asset scores, the findings' priorities and the site's factors are written
//! back in one transaction.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use crate::exposure;
use crate::store::{Store, params};
use crate::vulnerabilities::{self, Matcher, Scope};
use anyhow::Result;

/// Scores `site` again and stores the result.
pub fn rescore_site(store: &Store, site: &str) -> Result<()> {
    // Known vulnerabilities count through their matches, not as traffic findings.
    let inventory = store.inventory_except(Some(site), Some(vulnerabilities::RULE))?;
    let risks = vulnerabilities::risks(store, site)?;
    let scored = exposure::score_site_with(
        site,
        &inventory.assets,
        &inventory.edges,
        &inventory.findings,
        &risks,
    );
    let scores: HashMap<&str, u8> = scored
        .assets
        .iter()
        .map(|a| (a.ip.as_str(), a.score))
        .collect();
    let value = serde_json::to_string(&scored)?;
    store.write(|db| {
        // Read under the write lock, as every `updated_at` (see `forward`).
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        for a in &scored.assets {
            db.execute(
                "UPDATE assets SET score = ?3 WHERE site = ?1 AND ip = ?2",
                params![site, a.ip, a.score],
            )?;
        }
        // A new priority is a change exporters forward: a finding first sent
        // before its site was scored would otherwise keep priority 0 there.
        for f in &scored.findings {
            db.execute(
                "UPDATE findings SET priority = ?4, updated_at = ?5
                 WHERE site = ?1 AND rule = ?2 AND subject = ?3 AND priority != ?4",
                params![site, f.rule, f.subject, f.priority, now],
            )?;
        }
        // A known vulnerability's priority: its severity and its asset's score.
        let known = db.query(
            "SELECT id, severity, asset, priority FROM findings WHERE site = ?1 AND rule = ?2",
            params![site, vulnerabilities::RULE],
        )?;
        for r in known {
            let (id, severity, ip, old): (i64, String, String, i64) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let score = scores.get(ip.as_str()).copied().unwrap_or(0);
            let priority = exposure::finding_priority(&severity, score);
            // Most stay as they are: only the changed ones are written.
            if i64::from(priority) != old {
                db.execute(
                    "UPDATE findings SET priority = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id, priority, now],
                )?;
            }
        }
        db.execute(
            "INSERT INTO site_exposure (site, computed_at, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (site) DO UPDATE SET computed_at = excluded.computed_at,
                 value = excluded.value",
            params![site, now, value],
        )?;
        Ok(())
    })
}

/// Scores every site again.
pub fn rescore_all(store: &Store) -> Result<usize> {
    let sites: Vec<String> = store.read(|db| {
        db.query("SELECT DISTINCT site FROM assets ORDER BY site", params![])?
            .into_iter()
            .map(|r| r.get(0))
            .collect()
    })?;
    for site in &sites {
        rescore_site(store, site)?;
    }
    Ok(sites.len())
}

/// The sites that the merges after merge `after` touched, and the last
/// merge (summaries stored but not merged yet wait for the next round).
fn touched_since(store: &Store, after: i64) -> Result<(BTreeSet<String>, i64)> {
    store.read(|db| {
        // The mark first: a merge committed between the two reads is taken
        // by the next round, never skipped.
        let last: i64 = db.query_value(
            "SELECT merged_through FROM merge_state WHERE id = 1",
            params![],
        )?;
        let mut sites = BTreeSet::new();
        db.for_each(
            "SELECT DISTINCT site FROM summaries WHERE merge_id > ?1 AND merge_id <= ?2",
            params![after, last],
            |r| {
                sites.insert(r.get(0)?);
                Ok(())
            },
        )?;
        Ok((sites, last.max(after)))
    })
}

/// Rescores, every `period`, the sites new summaries touched (and every site
/// once at start), and reopens accepted risks past their expiry; until
/// `stop` is set.
pub fn run(store: &Store, period: Duration, stop: &std::sync::atomic::AtomicBool) {
    let mut matcher = match Matcher::load(store) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::error!("loading vulnerability intelligence: {e:#}");
            None
        }
    };
    // Where the rounds start, read before the first full pass: a summary
    // merged during it is taken again by the first round, never skipped.
    let mut last = match touched_since(store, 0) {
        Ok((_, last)) => last,
        Err(e) => {
            tracing::error!("rescoring: {e:#}");
            0
        }
    };
    if let Some(m) = &matcher {
        rematch(store, m, Scope::All);
    }
    if let Err(e) = rescore_all(store) {
        tracing::error!("rescoring: {e:#}");
    }
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(period);
        match crate::triage::expire_acceptances(store) {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} accepted risks expired: open again"),
            Err(e) => tracing::error!("expiring acceptances: {e:#}"),
        }
        let (mut sites, now_last) = match touched_since(store, last) {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("rescoring: {e:#}");
                continue;
            }
        };
        // New intelligence: every asset again; else the touched sites' changed assets.
        let refreshed = match matcher.as_mut() {
            Some(m) => m.refresh(store),
            None => Matcher::load(store).map(|m| {
                matcher = Some(m);
                true
            }),
        };
        let refreshed = refreshed.unwrap_or_else(|e| {
            tracing::error!("loading vulnerability intelligence: {e:#}");
            false
        });
        if let Some(m) = &matcher {
            let scope = if refreshed {
                Scope::All
            } else {
                Scope::Summaries {
                    after: last,
                    through: now_last,
                }
            };
            if refreshed || now_last > last {
                sites.extend(rematch(store, m, scope));
            }
        }
        for site in &sites {
            if let Err(e) = rescore_site(store, site) {
                tracing::error!(site, "rescoring: {e:#}");
            }
        }
        last = now_last;
    }
}

/// Matches again what changed in `scope`; the sites whose matches changed, logged.
fn rematch(store: &Store, matcher: &Matcher, scope: Scope<'_>) -> BTreeSet<String> {
    match vulnerabilities::rematch(store, matcher, scope) {
        Ok(done) => {
            if done.new + done.changed + done.gone > 0 {
                tracing::info!(
                    assets = done.assets,
                    new = done.new,
                    changed = done.changed,
                    gone = done.gone,
                    "known vulnerabilities matched"
                );
            }
            done.sites
        }
        Err(e) => {
            tracing::error!("matching known vulnerabilities: {e:#}");
            BTreeSet::new()
        }
    }
}
