//! The collector's embedded store (SQLite, WAL): enrolled sensors, the exact
//! bytes of every accepted summary, and the per-site inventory merged from
//! them. SQLite rather than redb because the CLI (`enroll`, `assets`,
//! `summaries`) must work on the store while `serve` runs, and the API's
//! filtered, paginated lists want indexes and a query planner.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use faro_protocols::uplink::{
    AssetDelta, EdgeDelta, FindingDelta, VerifyingKey, fingerprint, verifying_key_from_pem,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "collector.sqlite";

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// The writer connection's page cache, in KiB (negative: SQLite's unit for KiB).
const WRITER_CACHE_KIB: i64 = -65_536;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sensors (
    id             TEXT PRIMARY KEY,
    public_key_pem TEXT NOT NULL,
    public_key     BLOB NOT NULL,
    fingerprint    TEXT NOT NULL UNIQUE,
    site           TEXT,
    last_sequence  INTEGER,
    last_seen      TEXT,
    counters       TEXT
);
CREATE TABLE IF NOT EXISTS summaries (
    sensor_id   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    site        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    jws_lz4     BLOB NOT NULL,
    UNIQUE (sensor_id, sequence)
);
-- The last summary (rowid) merged into the inventory: summaries are
-- answered once stored and merged after, several at once (see ingest).
CREATE TABLE IF NOT EXISTS merge_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    merged_through INTEGER NOT NULL
);
INSERT OR IGNORE INTO merge_state (id, merged_through) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS assets (
    site      TEXT NOT NULL,
    ip        TEXT NOT NULL,
    zone      TEXT,
    score     INTEGER NOT NULL DEFAULT 0,
    sensor_id TEXT NOT NULL,
    sequence  INTEGER NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (site, ip)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assets_zone ON assets (site, zone, ip);
-- The assets each summary wrote: what matching looks at again after a merge.
CREATE INDEX IF NOT EXISTS assets_summary ON assets (sensor_id, sequence);
CREATE TABLE IF NOT EXISTS edges (
    site        TEXT NOT NULL,
    client      TEXT NOT NULL,
    server      TEXT NOT NULL,
    server_port INTEGER NOT NULL,
    protocol    TEXT NOT NULL,
    sensor_id   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (site, client, server, server_port, protocol)
) WITHOUT ROWID;
-- A finding: the sensors' evidence (value, merged like the inventory) and
-- the team's triage (status, owner, due, reason, expires), which ingestion
-- leaves alone except to reopen a resolved finding that shows new evidence.
CREATE TABLE IF NOT EXISTS findings (
    id            INTEGER PRIMARY KEY,
    site          TEXT NOT NULL,
    rule          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    severity      TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    protocol      TEXT NOT NULL,
    asset         TEXT NOT NULL,
    exposure      TEXT NOT NULL,
    count         INTEGER NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    sensor_id     TEXT NOT NULL,
    sequence      INTEGER NOT NULL,
    value         TEXT NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'open',
    owner         TEXT,
    due           TEXT,
    reason        TEXT,
    expires       TEXT,
    updated_by    TEXT,
    -- When evidence, triage or priority last changed (collector clock, RFC 3339):
    -- what exporters forward.
    updated_at    TEXT NOT NULL,
    UNIQUE (site, rule, subject)
);
CREATE INDEX IF NOT EXISTS findings_updated ON findings (updated_at, id);
CREATE INDEX IF NOT EXISTS findings_priority ON findings (priority DESC, id);
CREATE INDEX IF NOT EXISTS findings_site ON findings (site, priority DESC, id);
CREATE INDEX IF NOT EXISTS findings_asset ON findings (site, asset, priority DESC, id);
CREATE INDEX IF NOT EXISTS findings_rule ON findings (rule, priority DESC, id);
CREATE INDEX IF NOT EXISTS findings_status ON findings (status, priority DESC, id);
CREATE INDEX IF NOT EXISTS findings_expiry ON findings (expires) WHERE status = 'accepted_risk';
-- Every change of a finding's triage, whoever made it (an API token, a
-- sensor's new evidence, an expiry): written here and only here.
CREATE TABLE IF NOT EXISTS finding_history (
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT,
    field      TEXT NOT NULL,
    old        TEXT,
    new        TEXT
);
CREATE INDEX IF NOT EXISTS finding_history_finding ON finding_history (finding_id, id);
CREATE TRIGGER IF NOT EXISTS findings_triage_history AFTER UPDATE ON findings
WHEN old.status IS NOT new.status OR old.owner IS NOT new.owner OR old.due IS NOT new.due
  OR old.reason IS NOT new.reason OR old.expires IS NOT new.expires
BEGIN
  INSERT INTO finding_history (finding_id, at, actor, field, old, new)
  SELECT new.id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), new.updated_by, f, o, n FROM (
    SELECT 'status' AS f, old.status AS o, new.status AS n WHERE old.status IS NOT new.status
    UNION ALL SELECT 'owner', old.owner, new.owner WHERE old.owner IS NOT new.owner
    UNION ALL SELECT 'due', old.due, new.due WHERE old.due IS NOT new.due
    UNION ALL SELECT 'reason', old.reason, new.reason WHERE old.reason IS NOT new.reason
    UNION ALL SELECT 'expires', old.expires, new.expires WHERE old.expires IS NOT new.expires
  );
END;
CREATE TABLE IF NOT EXISTS api_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
-- Each site's exposure as last computed from the tables above (`rescore`).
CREATE TABLE IF NOT EXISTS site_exposure (
    site        TEXT PRIMARY KEY,
    computed_at TEXT NOT NULL,
    value       TEXT NOT NULL
);
-- How far each exporter has forwarded the findings: the (updated_at, id)
-- of the last finding its receiver took (`forward`).
CREATE TABLE IF NOT EXISTS exporter_cursors (
    name       TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    id         INTEGER NOT NULL
);
";

/// One enrolled sensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorRecord {
    /// The sensor's id, as its summaries must name it.
    pub id: String,
    /// The pinned Ed25519 public key, SPKI PEM.
    pub public_key_pem: String,
    /// `SHA256:<hex>` of the key: the kid its summaries carry.
    pub fingerprint: String,
    /// The site given at enrollment; when absent, the summaries' own.
    pub site: Option<String>,
    /// The highest sequence stored.
    pub last_sequence: Option<u64>,
    /// When the last summary was stored (collector clock, RFC 3339).
    pub last_seen: Option<String>,
}

/// An inventory entry with the summary it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged<T> {
    /// The site it belongs to.
    pub site: String,
    /// The sensor whose summary gave these values.
    pub sensor_id: String,
    /// That summary's sequence.
    pub sequence: u64,
    /// The values.
    pub value: T,
}

/// What an enrollment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolled {
    /// A new sensor.
    New,
    /// The same key was already pinned for this id (the site may have changed).
    Unchanged,
    /// The id's key was replaced (`--replace`).
    Replaced,
}

/// The merged inventory of one site or all.
#[derive(Debug, Default, Serialize)]
pub struct Inventory {
    /// Assets by (site, ip).
    pub assets: Vec<Merged<AssetDelta>>,
    /// Edges by (site, client, server, port, protocol).
    pub edges: Vec<Merged<EdgeDelta>>,
    /// Findings by (site, rule, subject).
    pub findings: Vec<Merged<FindingDelta>>,
}

/// An enrolled sensor's key, as ingestion needs it.
#[derive(Debug, Clone)]
pub struct SensorKey {
    /// The sensor's id.
    pub id: String,
    /// Its pinned key.
    pub key: VerifyingKey,
}

/// Whether an inventory entry from (`sensor`, `sequence`) replaces one from
/// (`old_sensor`, `old_sequence`): the same sensor's higher sequence does (its
/// counts are cumulative); another sensor's report of the same key does too
/// (the latest accepted view wins). The one place of this rule: ingestion's
/// in-batch coalescing calls it, and the store's upserts call it through the
/// SQL function `faro_supersedes`.
pub fn supersedes(old_sensor: &str, old_sequence: u64, sensor: &str, sequence: u64) -> bool {
    old_sensor != sensor || old_sequence < sequence
}

/// The SQLite database of one collector: one writer connection (ingestion
/// commits batches through it) and a small pool of readers.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Decoded keys by their bytes: decoding a point costs more than the lookup.
    keys: Mutex<HashMap<[u8; 32], VerifyingKey>>,
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers (the CLI, the API) never block the writer. FULL: a commit
    // is on disk before the sensor hears "stored".
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.create_scalar_function(
        "faro_supersedes",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let old_sensor: String = ctx.get(0)?;
            let old_sequence: i64 = ctx.get(1)?;
            let sensor: String = ctx.get(2)?;
            let sequence: i64 = ctx.get(3)?;
            Ok(supersedes(
                &old_sensor,
                old_sequence.max(0).unsigned_abs(),
                &sensor,
                sequence.max(0).unsigned_abs(),
            ))
        },
    )?;
    Ok(conn)
}

/// A u64 as SQLite's i64 (sequences and ports never come near 2^63; saturate rather than wrap).
pub(crate) fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// SQLite's i64 as u64 (negative values are never written).
pub(crate) fn from_sql_int(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}

/// A summary as stored: the exact bytes received, LZ4-compressed (a quarter
/// of the pages to write, and to copy again at each WAL checkpoint).
pub(crate) fn pack(jws: &[u8]) -> Vec<u8> {
    lz4_flex::compress_prepend_size(jws)
}

/// The exact bytes received, from what [`pack`] stored.
pub(crate) fn unpack(stored: &[u8]) -> Result<Vec<u8>> {
    lz4_flex::decompress_size_prepended(stored).context("a stored summary does not decompress")
}

impl Store {
    /// Opens (creating if needed) `DATA/collector.sqlite`.
    pub fn open_dir(data: &Path) -> Result<Self> {
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        Self::open(&data.join(FILE_NAME))
    }

    /// Opens (creating if needed) the store at `path`; the schema exists afterwards.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = connect(path)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            bail!(
                "{} has schema version {version}; this faro-collector knows up to {SCHEMA_VERSION}",
                path.display()
            );
        }
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("creating the schema in {}", path.display()))?;
        conn.execute_batch(crate::intel::db::SCHEMA)
            .with_context(|| format!("creating the intel schema in {}", path.display()))?;
        conn.execute_batch(crate::vulnerabilities::SCHEMA)
            .with_context(|| format!("creating the schema in {}", path.display()))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        // The writer's page cache: 64 MiB rather than SQLite's 2 MiB, so that
        // bulk upserts (a merge, a first match of every asset) find the
        // index pages they touch in memory.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            keys: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `f` on a pooled read connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self
            .readers
            .lock()
            .map_err(|_| anyhow!("reader pool lock poisoned"))?
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` in one write transaction (taken at once, so it never has to
    /// be retried), committing if it succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| anyhow!("writer lock poisoned"))?;
        let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&txn)?;
        txn.commit()?;
        Ok(out)
    }

    /// Pins `public_key_pem` for sensor `id`. Another key for an enrolled id is
    /// refused unless `replace`; a key already pinned for another id always is
    /// (the kid names exactly one sensor). Returns the fingerprint.
    pub fn enroll(
        &self,
        id: &str,
        public_key_pem: &str,
        site: Option<&str>,
        replace: bool,
    ) -> Result<(String, Enrolled)> {
        crate::certs::check_sensor_id(id)?;
        let key = verifying_key_from_pem(public_key_pem).context("public key")?;
        let fp = fingerprint(&key);
        self.write(|txn| {
            let owner: Option<String> = txn
                .query_row(
                    "SELECT id FROM sensors WHERE fingerprint = ?1",
                    [&fp],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(owner) = owner.filter(|o| o != id) {
                bail!("key {fp} is already enrolled for sensor {owner}");
            }
            let old: Option<String> = txn
                .query_row("SELECT fingerprint FROM sensors WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            let outcome = match old {
                None => {
                    txn.execute(
                        "INSERT INTO sensors (id, public_key_pem, public_key, fingerprint, site)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![id, public_key_pem, key.as_bytes().as_slice(), fp, site],
                    )?;
                    Enrolled::New
                }
                Some(old) if old == fp => Enrolled::Unchanged,
                Some(old) if !replace => bail!(
                    "sensor {id} is enrolled with key {old}; pass --replace to pin {fp} instead"
                ),
                // The sequence history belongs to the id: a new key continues it.
                Some(_) => {
                    txn.execute(
                        "UPDATE sensors SET public_key_pem = ?2, public_key = ?3, fingerprint = ?4
                         WHERE id = ?1",
                        params![id, public_key_pem, key.as_bytes().as_slice(), fp],
                    )?;
                    Enrolled::Replaced
                }
            };
            if outcome != Enrolled::New && site.is_some() {
                txn.execute(
                    "UPDATE sensors SET site = ?2 WHERE id = ?1",
                    params![id, site],
                )?;
            }
            Ok((fp.clone(), outcome))
        })
    }

    /// The enrolled sensor with this id.
    pub fn sensor(&self, id: &str) -> Result<Option<SensorRecord>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id, public_key_pem, fingerprint, site, last_sequence, last_seen
                     FROM sensors WHERE id = ?1",
                    [id],
                    |r| {
                        Ok(SensorRecord {
                            id: r.get(0)?,
                            public_key_pem: r.get(1)?,
                            fingerprint: r.get(2)?,
                            site: r.get(3)?,
                            last_sequence: r.get::<_, Option<i64>>(4)?.map(from_sql_int),
                            last_seen: r.get(5)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    /// The sensor whose pinned key has this fingerprint, with the key decoded.
    pub fn sensor_by_kid(&self, kid: &str) -> Result<Option<SensorKey>> {
        let row: Option<(String, Vec<u8>)> = self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id, public_key FROM sensors WHERE fingerprint = ?1")?;
            Ok(stmt
                .query_row([kid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?)
        })?;
        let Some((id, bytes)) = row else {
            return Ok(None);
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow!("sensor {id}: the stored key is not 32 bytes"))?;
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| anyhow!("key cache poisoned"))?;
        let key = match keys.get(&bytes) {
            Some(key) => *key,
            None => {
                let key = VerifyingKey::from_bytes(&bytes)
                    .map_err(|e| anyhow!("sensor {id}: stored key: {e}"))?;
                keys.insert(bytes, key);
                key
            }
        };
        Ok(Some(SensorKey { id, key }))
    }

    /// The stored summaries of a sensor: (sequence, the JWS bytes).
    pub fn summaries(&self, id: &str) -> Result<Vec<(u64, Vec<u8>)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT sequence, jws_lz4 FROM summaries WHERE sensor_id = ?1 ORDER BY sequence",
            )?;
            let mut rows = stmt.query([id])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let sequence = from_sql_int(r.get(0)?);
                out.push((sequence, unpack(r.get_ref(1)?.as_bytes()?)?));
            }
            Ok(out)
        })
    }

    /// The number of stored summaries of all sensors.
    pub fn summary_count(&self) -> Result<u64> {
        self.read(|conn| {
            Ok(from_sql_int(conn.query_row(
                "SELECT count(*) FROM summaries",
                [],
                |r| r.get(0),
            )?))
        })
    }

    /// Summaries stored (and answered) but not merged into the inventory
    /// yet: how far the inventory lags behind.
    pub fn unmerged(&self) -> Result<u64> {
        self.read(|conn| {
            Ok(from_sql_int(conn.query_row(
                "SELECT count(*) FROM summaries
                 WHERE rowid > (SELECT merged_through FROM merge_state WHERE id = 1)",
                [],
                |r| r.get(0),
            )?))
        })
    }

    /// The numbers of assets, edges and findings stored.
    pub fn counts(&self) -> Result<(u64, u64, u64)> {
        self.read(|conn| {
            let count = |table: &str| -> Result<u64> {
                let n: i64 =
                    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
                Ok(from_sql_int(n))
            };
            Ok((count("assets")?, count("edges")?, count("findings")?))
        })
    }

    /// The merged inventory of `site`, or of every site.
    pub fn inventory(&self, site: Option<&str>) -> Result<Inventory> {
        self.inventory_except(site, None)
    }

    /// The merged inventory of `site` (or of every site), without the
    /// findings of rule `except` (the exposure model takes known
    /// vulnerabilities from their matches, not as findings).
    pub fn inventory_except(&self, site: Option<&str>, except: Option<&str>) -> Result<Inventory> {
        fn list<T: serde::de::DeserializeOwned>(
            conn: &Connection,
            table: &str,
            order: &str,
            site: Option<&str>,
            except: Option<&str>,
        ) -> Result<Vec<Merged<T>>> {
            // Only findings have rules (the other tables are listed with `None`).
            let rule = if table == "findings" {
                "AND (?2 IS NULL OR rule != ?2)"
            } else {
                "AND ?2 IS NULL"
            };
            let sql = format!(
                "SELECT site, sensor_id, sequence, value FROM {table}
                 WHERE (?1 IS NULL OR site = ?1) {rule} ORDER BY {order}"
            );
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(params![site, except])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let value: String = r.get(3)?;
                out.push(Merged {
                    site: r.get(0)?,
                    sensor_id: r.get(1)?,
                    sequence: from_sql_int(r.get(2)?),
                    value: serde_json::from_str(&value)
                        .with_context(|| format!("a stored {table} row"))?,
                });
            }
            Ok(out)
        }
        self.read(|conn| {
            Ok(Inventory {
                assets: list(conn, "assets", "site, ip", site, None)?,
                edges: list(
                    conn,
                    "edges",
                    "site, client, server, server_port, protocol",
                    site,
                    None,
                )?,
                findings: list(conn, "findings", "site, rule, subject", site, except)?,
            })
        })
    }
}
