//! Known vulnerabilities of the inventory: every asset's identity matched
//! against the imported advisories (`intel::matching`), each match stored
//! with its KEV and EPSS standing, and each one a finding in the worklist
//! (rule [`RULE`]) with the triage, history and forwarding every finding has.
//!
//! Incremental: an asset is matched again only when its identity (or MAC)
//! changed, or when the intelligence did (its generation moved); a
//! revision of an advisory that changes neither the matched product's range
//! nor its remediations nor its KEV standing updates the match quietly, with
//! no new alert and no reopening. A match that no longer holds (the asset's
//! firmware moved out of range, an advisory revised) resolves its finding:
//! the remediation is seen done on the wire.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use faro_protocols::uplink::{AssetDelta, FindingDelta};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exposure::VulnerabilityRisk;
use crate::intel::identity;
use crate::intel::matching::{Index, Match};
use crate::intel::model::{Confidence, Epss, KevEntry};
use crate::store::{Backend, Db, Store, params};
use crate::triage;

/// The rule of known-vulnerability findings.
pub const RULE: &str = "intel.known_vulnerability";

/// The actor and sensor column of what matching writes.
const ACTOR: &str = "intel";

/// ATT&CK for ICS: Exploitation of Remote Services.
const ATTACK: &str = "T0866";

/// A match as stored and shown: the matcher's, with the CVE's KEV entry and
/// EPSS score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMatch {
    /// What the matcher found, with its evidence.
    #[serde(flatten)]
    pub matched: Match,
    /// The CVE's entry in CISA's KEV catalog.
    pub kev: Option<KevEntry>,
    /// The CVE's EPSS score.
    pub epss: Option<Epss>,
}

/// A match as the store keeps it: JSON, LZ4-compressed, without its
/// remediations (`advisory_remediations` holds them once).
fn pack_match(m: &StoredMatch) -> Result<Vec<u8>> {
    let mut slim = m.clone();
    slim.matched.remediations.clear();
    Ok(crate::store::pack(&serde_json::to_vec(&slim)?))
}

/// A match from what [`pack_match`] stored, with its remediations as
/// stored apart (`None`: it has none).
pub fn unpack_match(stored: &[u8], remediations: Option<&[u8]>) -> Result<StoredMatch> {
    let mut m: StoredMatch =
        serde_json::from_slice(&crate::store::unpack(stored)?).context("a stored match")?;
    if let Some(r) = remediations {
        m.matched.remediations =
            serde_json::from_slice(&crate::store::unpack(r)?).context("stored remediations")?;
    }
    Ok(m)
}

/// The intelligence loaded for matching, and its generation.
pub struct Matcher {
    generation: u64,
    index: Index,
    kev: HashMap<String, KevEntry>,
    epss: HashMap<String, Epss>,
}

impl Matcher {
    /// Loads the imported intelligence.
    pub fn load(store: &Store) -> Result<Matcher> {
        store.read(|db| {
            let generation = crate::store::intel::generation(db)?;
            let advisories = crate::store::intel::advisories(db)?;
            Ok(Matcher {
                generation,
                index: Index::new(&advisories),
                kev: crate::store::intel::kev(db)?,
                epss: crate::store::intel::epss(db)?,
            })
        })
    }

    /// Loads the intelligence again if an import changed it since; true if it did.
    pub fn refresh(&mut self, store: &Store) -> Result<bool> {
        let now = store.read(crate::store::intel::generation)?;
        if now == self.generation {
            return Ok(false);
        }
        *self = Matcher::load(store)?;
        Ok(true)
    }

    /// The generation of the intelligence loaded.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The matcher's index, for questions about one identity (`intel match`).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// A match with its KEV entry and EPSS score.
    pub fn stored(&self, matched: Match) -> StoredMatch {
        let cve = matched.cve.as_deref();
        StoredMatch {
            kev: cve.and_then(|c| self.kev.get(c)).cloned(),
            epss: cve.and_then(|c| self.epss.get(c)).copied(),
            matched,
        }
    }
}

/// What one round of matching did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Rematched {
    /// Assets whose identity or intelligence changed, matched again.
    pub assets: usize,
    /// Matches new to the store.
    pub new: usize,
    /// Matches whose substance changed (a new alert).
    pub changed: usize,
    /// Matches that no longer hold (their findings resolved).
    pub gone: usize,
    /// Sites whose matches changed: to be scored again.
    #[serde(skip)]
    pub sites: BTreeSet<String>,
    /// Time spent reading the candidates from the store.
    #[serde(skip)]
    pub reading: Duration,
    /// Time spent matching them.
    #[serde(skip)]
    pub matching: Duration,
    /// Time spent writing the matches and findings.
    #[serde(skip)]
    pub writing: Duration,
}

/// The text an asset is matched on, in SQL: its identity and MAC as stored
/// (anything else changing does not call for a new match). Compared in the
/// store, so unchanged assets are not even read.
fn identity_key(backend: Backend) -> String {
    format!(
        "coalesce({}, '') || ' ' || coalesce({}, '')",
        backend.json_text("a.value", "identity"),
        backend.json_text("a.value", "mac")
    )
}

/// An asset to match: its site, its stored view and its [`IDENTITY_KEY`].
struct Candidate {
    site: String,
    asset: AssetDelta,
    key: String,
}

/// Which assets a round of matching looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every asset (new intelligence, a start).
    All,
    /// The assets of these sites.
    Sites(&'a BTreeSet<String>),
    /// The assets written by the summaries of the merges after merge
    /// `after`, up to merge `through` (what merging changed).
    Summaries {
        /// The last merge of the previous round.
        after: i64,
        /// The last merge now.
        through: i64,
    },
}

/// Matches again the assets in `scope` whose identity changed or that were
/// matched with older intelligence.
pub fn rematch(store: &Store, matcher: &Matcher, scope: Scope<'_>) -> Result<Rematched> {
    let generation = i64::try_from(matcher.generation).unwrap_or(i64::MAX);
    let identity = identity_key(store.backend());
    let changed =
        format!("(s.ip IS NULL OR s.generation != ?2 OR s.identity IS DISTINCT FROM {identity})");
    let columns = format!("a.site, a.value, {identity}");
    let join = "LEFT JOIN vulnerability_match_state s ON s.site = a.site AND s.ip = a.ip";
    let started = Instant::now();
    // Read without the write lock (ingestion goes on).
    let candidates: Vec<Candidate> = store.read(|db| {
        let mut out = Vec::new();
        let mut take = |r: crate::store::Row| -> Result<()> {
            out.push(Candidate {
                site: r.get(0)?,
                asset: serde_json::from_str(r.text(1)?).context("a stored asset")?,
                key: r.get(2)?,
            });
            Ok(())
        };
        match scope {
            Scope::All | Scope::Sites(_) => {
                let sql = format!(
                    "SELECT {columns} FROM assets a {join}
                     WHERE (CAST(?1 AS TEXT) IS NULL OR a.site = ?1) AND {changed}
                     ORDER BY a.site, a.ip"
                );
                let sites: Vec<Option<&str>> = match scope {
                    Scope::Sites(sites) => sites.iter().map(|s| Some(s.as_str())).collect(),
                    _ => vec![None],
                };
                for site in sites {
                    db.for_each(&sql, params![site, generation], &mut take)?;
                }
            }
            Scope::Summaries { after, through } => {
                // `DISTINCT`: several summaries of a round may have written one asset.
                let sql = format!(
                    "SELECT DISTINCT {columns} FROM summaries m
                     JOIN assets a ON a.sensor_id = m.sensor_id AND a.sequence = m.sequence {join}
                     WHERE m.merge_id > ?1 AND m.merge_id <= ?3 AND {changed}"
                );
                db.for_each(&sql, params![after, generation, through], &mut take)?;
            }
        }
        Ok(out)
    })?;
    let mut done = Rematched {
        reading: started.elapsed(),
        ..Rematched::default()
    };
    if candidates.is_empty() {
        return Ok(done);
    }
    // Routers show one MAC for many addresses: their OUI says nothing of the assets.
    let shared = shared_macs(store, &candidates)?;
    let mut matched: Vec<(Candidate, Vec<StoredMatch>)> = Vec::with_capacity(candidates.len());
    for c in candidates {
        let mac_is_own = c
            .asset
            .mac
            .as_ref()
            .is_some_and(|m| !shared.contains(&(c.site.clone(), m.clone())));
        let identity = identity::from_asset(&c.asset, mac_is_own);
        let matches = matcher
            .index
            .matches(&identity)
            .into_iter()
            .map(|m| matcher.stored(m))
            .collect();
        matched.push((c, matches));
    }
    done.assets = matched.len();
    done.matching = started.elapsed() - done.reading;
    // Remediations written this round (each once).
    let mut written = HashSet::new();
    // Written in chunks, so ingestion is never held up for long.
    for chunk in matched.chunks(2_000) {
        store.write(|db| {
            let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            for (c, matches) in chunk {
                apply(
                    db,
                    c,
                    matches,
                    matcher.generation,
                    &now,
                    &mut done,
                    &mut written,
                )?;
            }
            Ok(())
        })?;
    }
    done.writing = started.elapsed() - done.reading - done.matching;
    Ok(done)
}

/// (site, MAC) pairs that more than one of a site's assets show.
fn shared_macs(store: &Store, candidates: &[Candidate]) -> Result<BTreeSet<(String, String)>> {
    let with_mac: Vec<(&str, &str)> = candidates
        .iter()
        .filter_map(|c| Some((c.site.as_str(), c.asset.mac.as_deref()?)))
        .collect();
    store.read(|db| {
        let mut out = BTreeSet::new();
        let mac = db.backend().json_text("value", "mac");
        if with_mac.len() <= SHARED_MAC_LOOKUPS {
            // A few (a round after a merge): each MAC looked up in `assets_mac`.
            let sql = format!("SELECT count(*) > 1 FROM assets WHERE site = ?1 AND {mac} = ?2");
            for (site, m) in with_mac {
                if db.query_value::<bool>(&sql, params![site, m])? {
                    out.insert((site.to_owned(), m.to_owned()));
                }
            }
        } else {
            let sites: BTreeSet<&str> = with_mac.iter().map(|(s, _)| *s).collect();
            let sql = format!(
                "SELECT {mac} FROM assets WHERE site = ?1 AND {mac} IS NOT NULL
                 GROUP BY {mac} HAVING count(*) > 1"
            );
            for site in sites {
                for r in db.query(&sql, params![site])? {
                    out.insert((site.to_owned(), r.get(0)?));
                }
            }
        }
        Ok(out)
    })
}

/// Up to this many candidates, shared MACs are looked up one by one.
const SHARED_MAC_LOOKUPS: usize = 256;

/// The severity of a match's finding: critical for a KEV CVE, else by CVSS
/// (9.0 critical, 7.0 high, 4.0 medium, below low, none medium); a
/// `possible` match one step lower, never below low.
pub fn severity(m: &StoredMatch) -> &'static str {
    let by_score = if m.kev.is_some() {
        4
    } else {
        match m.matched.cvss.as_ref().map(|c| c.base_score) {
            Some(s) if s >= 9.0 => 4,
            Some(s) if s >= 7.0 => 3,
            Some(s) if s >= 4.0 => 2,
            Some(_) => 1,
            None => 2,
        }
    };
    let rank = if m.matched.confidence == Confidence::Possible {
        (by_score - 1).max(1)
    } else {
        by_score
    };
    triage::SEVERITIES.get(rank).copied().unwrap_or("medium")
}

/// What a revision must change for a match to alert again: the matched
/// product's range, the remediations, the CVSS score and the KEV standing.
fn substance(m: &StoredMatch) -> String {
    let parts = serde_json::json!([
        m.matched.product,
        m.matched.range,
        m.matched.remediations,
        m.matched.cvss,
        m.matched.confidence,
        m.kev.as_ref().map(|k| &k.date_added),
    ]);
    let digest = Sha256::digest(parts.to_string().as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The finding a match makes.
fn finding_of(ip: &str, m: &StoredMatch, now: &str) -> FindingDelta {
    let cve = m.matched.cve.as_deref().unwrap_or("no CVE");
    let mut values = vec![
        m.matched.advisory.clone(),
        cve.to_owned(),
        format!("confidence {}", m.matched.confidence.name()),
    ];
    if let Some(range) = &m.matched.range {
        values.push(format!("range {range}"));
    }
    if let Some(kev) = &m.kev {
        values.push(format!("KEV since {}", kev.date_added));
    }
    FindingDelta {
        rule: RULE.to_owned(),
        severity: severity(m).to_owned(),
        attack: vec![ATTACK.to_owned()],
        title: crate::text::one_line(
            &format!(
                "{cve} ({}) in {}: {}",
                m.matched.advisory, m.matched.product, m.matched.title
            ),
            240,
        ),
        asset: Some(ip.to_owned()),
        edge: None,
        first_seen: now.to_owned(),
        last_seen: now.to_owned(),
        count: 1,
        sample_flow: None,
        values,
        exposure: Some("known_vulnerabilities".to_owned()),
    }
}

/// The subject of a match's finding: unique per asset, advisory and CVE.
pub fn subject(ip: &str, advisory: &str, cve: &str) -> String {
    format!("{ip} {advisory} {cve}")
}

/// Stores one asset's matches: new ones inserted with their findings,
/// changed ones alert again, gone ones resolve their findings.
fn apply(
    db: &Db<'_>,
    candidate: &Candidate,
    matches: &[StoredMatch],
    generation: u64,
    now: &str,
    done: &mut Rematched,
    written: &mut HashSet<(String, String, String)>,
) -> Result<()> {
    let (site, ip) = (candidate.site.as_str(), candidate.asset.ip.as_str());
    let mut before: HashMap<(String, String), (i64, String)> = HashMap::new();
    for r in db.query(
        "SELECT advisory, cve, finding_id, substance FROM vulnerability_matches
         WHERE site = ?1 AND ip = ?2",
        params![site, ip],
    )? {
        before.insert((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?));
    }
    let mut changed_site = false;
    for m in matches {
        let cve = m.matched.cve.clone().unwrap_or_default();
        let key = (m.matched.advisory.clone(), cve.clone());
        let substance = substance(m);
        let finding = finding_of(ip, m, now);
        let subject = subject(ip, &m.matched.advisory, &cve);
        let was = before.remove(&key);
        let finding_id = match &was {
            Some((id, old)) if *old == substance => *id,
            Some((id, _)) => {
                // Revised in substance: alert again, reopen if it was resolved.
                db.execute(
                    "UPDATE findings SET severity = ?2, severity_rank = ?3, value = ?4,
                         last_seen = ?5, updated_at = ?5,
                         status = CASE WHEN status = 'resolved' THEN 'open' ELSE status END,
                         updated_by = CASE WHEN status = 'resolved'
                             THEN ?6 ELSE updated_by END
                     WHERE id = ?1",
                    params![
                        id,
                        finding.severity,
                        triage::severity_rank(&finding.severity),
                        serde_json::to_string(&finding)?,
                        now,
                        format!("{ACTOR}: {} revised", m.matched.advisory),
                    ],
                )?;
                done.changed += 1;
                changed_site = true;
                *id
            }
            None => {
                done.new += 1;
                changed_site = true;
                upsert_finding(db, site, ip, &subject, &finding, m, generation, now)?
            }
        };
        db.execute(
            "INSERT INTO vulnerability_matches (site, ip, advisory, cve, finding_id, confidence,
                 confidence_rank, kev, epss, epss_percentile, cvss, vendor, substance, value,
                 matched_at, product_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (site, ip, advisory, cve) DO UPDATE SET
                 finding_id = excluded.finding_id,
                 product_id = excluded.product_id,
                 confidence = excluded.confidence, confidence_rank = excluded.confidence_rank,
                 kev = excluded.kev, epss = excluded.epss,
                 epss_percentile = excluded.epss_percentile, cvss = excluded.cvss,
                 vendor = excluded.vendor, substance = excluded.substance, value = excluded.value",
            params![
                site,
                ip,
                m.matched.advisory,
                cve,
                finding_id,
                m.matched.confidence.name(),
                confidence_rank(m.matched.confidence),
                m.kev.is_some(),
                m.epss.map(|e| e.score),
                m.epss.map(|e| e.percentile),
                m.matched.cvss.as_ref().map(|c| c.base_score),
                m.matched.vendor_key,
                substance,
                pack_match(m)?,
                now,
                m.matched.product_id,
            ],
        )?;
        let remediation_key = (
            m.matched.advisory.clone(),
            m.matched.product_id.clone(),
            cve,
        );
        if !m.matched.remediations.is_empty() && written.insert(remediation_key) {
            db.execute(
                "INSERT INTO advisory_remediations (advisory, product_id, cve, value)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (advisory, product_id, cve) DO UPDATE SET value = excluded.value
                 WHERE advisory_remediations.value IS DISTINCT FROM excluded.value",
                params![
                    m.matched.advisory,
                    m.matched.product_id,
                    m.matched.cve.as_deref().unwrap_or_default(),
                    crate::store::pack(&serde_json::to_vec(&m.matched.remediations)?),
                ],
            )?;
        }
        if was.is_none() {
            // A first match (or one back after it had gone) changes the score.
            changed_site = true;
        }
    }
    // What matched before and no longer does.
    for ((advisory, cve), (finding_id, _)) in before {
        db.execute(
            "DELETE FROM vulnerability_matches
             WHERE site = ?1 AND ip = ?2 AND advisory = ?3 AND cve = ?4",
            params![site, ip, advisory, cve],
        )?;
        db.execute(
            "UPDATE findings SET status = 'resolved', updated_at = ?2, updated_by = ?3
             WHERE id = ?1 AND status != 'resolved'",
            params![
                finding_id,
                now,
                format!("{ACTOR}: no longer matches this asset's identity")
            ],
        )?;
        done.gone += 1;
        changed_site = true;
    }
    db.execute(
        "INSERT INTO vulnerability_match_state (site, ip, identity, generation)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (site, ip) DO UPDATE SET identity = excluded.identity,
             generation = excluded.generation",
        params![
            site,
            ip,
            candidate.key,
            i64::try_from(generation).unwrap_or(i64::MAX)
        ],
    )?;
    if changed_site {
        done.sites.insert(site.to_owned());
    }
    Ok(())
}

/// Inserts a match's finding (or reopens the one a match that had gone left);
/// its id. The due date is KEV's when the CVE is in KEV, else the severity's
/// target from now: the collector's first sight of it, not the capture's.
#[allow(clippy::too_many_arguments)]
fn upsert_finding(
    db: &Db<'_>,
    site: &str,
    ip: &str,
    subject: &str,
    finding: &FindingDelta,
    m: &StoredMatch,
    generation: u64,
    now: &str,
) -> Result<i64> {
    let due = match &m.kev {
        Some(kev) => Some(format!("{}T00:00:00Z", kev.due_date)),
        None => triage::due_date(&finding.severity, now),
    };
    let id: Option<i64> = db
        .query_opt(
            "INSERT INTO findings (site, rule, subject, severity, severity_rank, protocol, asset,
                 exposure, count, first_seen, last_seen, sensor_id, sequence, value, due,
                 updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, 'intel', ?6, 'known_vulnerabilities', 1, ?7, ?7, ?8,
                 ?9, ?10, ?11, ?7, ?8)
             ON CONFLICT (site, rule, subject) DO UPDATE SET severity = excluded.severity,
                 severity_rank = excluded.severity_rank, value = excluded.value,
                 last_seen = excluded.last_seen, updated_at = excluded.updated_at,
                 status = CASE WHEN findings.status = 'resolved' THEN 'open'
                     ELSE findings.status END,
                 updated_by = CASE WHEN findings.status = 'resolved'
                     THEN 'intel: matches again' ELSE findings.updated_by END
             RETURNING id",
            params![
                site,
                RULE,
                subject,
                finding.severity,
                triage::severity_rank(&finding.severity),
                ip,
                now,
                ACTOR,
                i64::try_from(generation).unwrap_or(i64::MAX),
                serde_json::to_string(finding)?,
                due,
            ],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    id.context("a known-vulnerability finding was not written")
}

/// The rank of a confidence (possible 0, likely 1, confirmed 2).
pub fn confidence_rank(c: Confidence) -> i64 {
    match c {
        Confidence::Possible => 0,
        Confidence::Likely => 1,
        Confidence::Confirmed => 2,
    }
}

/// The matches of `site` as the exposure model weighs them.
pub fn risks(store: &Store, site: &str) -> Result<Vec<VulnerabilityRisk>> {
    store.read(|db| {
        db.query(
            "SELECT ip, advisory, cve, kev, epss_percentile, cvss, confidence
             FROM vulnerability_matches WHERE site = ?1",
            params![site],
        )?
        .into_iter()
        .map(|r| {
            let cve: String = r.get(2)?;
            let confidence: String = r.get(6)?;
            Ok(VulnerabilityRisk {
                site: site.to_owned(),
                ip: r.get(0)?,
                advisory: r.get(1)?,
                cve: (!cve.is_empty()).then_some(cve),
                kev: r.get(3)?,
                epss_percentile: r
                    .get::<Option<f64>>(4)?
                    .map(|p| (p.clamp(0.0, 1.0) * 1000.0).round() as u16),
                cvss: r
                    .get::<Option<f64>>(5)?
                    .map(|s| (s.clamp(0.0, 10.0) * 10.0).round() as u8),
                confidence: Confidence::ALL
                    .into_iter()
                    .find(|c| c.name() == confidence)
                    .unwrap_or(Confidence::Possible),
            })
        })
        .collect()
    })
}

/// The finding id of a match, if stored.
pub fn finding_id(
    store: &Store,
    site: &str,
    ip: &str,
    advisory: &str,
    cve: &str,
) -> Result<Option<i64>> {
    store.read(|db| {
        db.query_opt(
            "SELECT finding_id FROM vulnerability_matches
             WHERE site = ?1 AND ip = ?2 AND advisory = ?3 AND cve = ?4",
            params![site, ip, advisory, cve],
        )?
        .map(|r| r.get(0))
        .transpose()
    })
}
