//! Keeps the stored exposure current: after summaries land, each site they
//! touched is scored again from the stored inventory (`exposure::score_site`,
//! a pure function of it: the same data always gives the same scores), and the
//! asset scores, the findings' priorities and the site's factors are written
//! back in one transaction.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use rusqlite::params;

use crate::exposure;
use crate::store::Store;
use crate::vulnerabilities::{self, Matcher, Scope};

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
    store.write(|txn| {
        // Read under the write lock, as every `updated_at` (see `forward`).
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let mut asset =
            txn.prepare_cached("UPDATE assets SET score = ?3 WHERE site = ?1 AND ip = ?2")?;
        for a in &scored.assets {
            asset.execute(params![site, a.ip, a.score])?;
        }
        // A new priority is a change exporters forward: a finding first sent
        // before its site was scored would otherwise keep priority 0 there.
        let mut finding = txn.prepare_cached(
            "UPDATE findings SET priority = ?4, updated_at = ?5
             WHERE site = ?1 AND rule = ?2 AND subject = ?3 AND priority IS NOT ?4",
        )?;
        for f in &scored.findings {
            finding.execute(params![site, f.rule, f.subject, f.priority, now])?;
        }
        // A known vulnerability's priority: its severity and its asset's score.
        let known: Vec<(i64, String, String, i64)> = txn
            .prepare_cached(
                "SELECT id, severity, asset, priority FROM findings WHERE site = ?1 AND rule = ?2",
            )?
            .query_map(params![site, vulnerabilities::RULE], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut by_id =
            txn.prepare_cached("UPDATE findings SET priority = ?2, updated_at = ?3 WHERE id = ?1")?;
        for (id, severity, ip, old) in known {
            let score = scores.get(ip.as_str()).copied().unwrap_or(0);
            let priority = exposure::finding_priority(&severity, score);
            // Most stay as they are: only the changed ones are written.
            if i64::from(priority) != old {
                by_id.execute(params![id, priority, now])?;
            }
        }
        txn.execute(
            "INSERT INTO site_exposure (site, computed_at, value) VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET computed_at = excluded.computed_at, value = excluded.value",
            params![site, now, value],
        )?;
        Ok(())
    })
}

/// Scores every site again.
pub fn rescore_all(store: &Store) -> Result<usize> {
    let sites: Vec<String> = store.read(|conn| {
        let mut stmt = conn.prepare("SELECT DISTINCT site FROM assets ORDER BY site")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })?;
    for site in &sites {
        rescore_site(store, site)?;
    }
    Ok(sites.len())
}

/// The sites that summaries merged after row `after` touched, and the last
/// row (summaries stored but not merged yet wait for the next round).
fn touched_since(store: &Store, after: i64) -> Result<(BTreeSet<String>, i64)> {
    store.read(|conn| {
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, site FROM summaries WHERE rowid > ?1
             AND rowid <= (SELECT merged_through FROM merge_state WHERE id = 1) ORDER BY rowid",
        )?;
        let mut rows = stmt.query([after])?;
        let mut sites = BTreeSet::new();
        let mut last = after;
        while let Some(r) = rows.next()? {
            last = r.get(0)?;
            sites.insert(r.get(1)?);
        }
        Ok((sites, last))
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
