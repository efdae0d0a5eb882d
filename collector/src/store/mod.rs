//! The collector's store, and the one owner of its SQL: enrolled sensors,
//! the exact bytes of every accepted summary, the per-site inventory merged
//! from them, the findings with their triage, tokens, exposure, cursors,
//! intelligence and leases.
//!
//! Two backends behind one type: SQLite (WAL), the embedded default — one
//! file that the CLI (`enroll`, `assets`, `summaries`) shares with a running
//! `serve`, with indexes and a query planner for the API's lists — and
//! PostgreSQL for fleets, where several `serve` replicas share one database.
//! Statements are written once ([`sql`]); the schema is numbered migrations
//! for both ([`schema`]).

pub mod intel;
pub mod lease;
pub mod schema;
pub mod sql;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use faro_protocols::uplink::{
    AssetDelta, EdgeDelta, FindingDelta, VerifyingKey, fingerprint, verifying_key_from_pem,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use sql::PgConn;
pub use sql::{Backend, Db, Row, Value, params};

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "collector.sqlite";

/// The writer connection's page cache, in KiB (negative: SQLite's unit for KiB).
const WRITER_CACHE_KIB: i64 = -65_536;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle PostgreSQL read connections a store keeps at most.
const PG_READERS: usize = 16;

/// Where a store is: `--database` of every subcommand that opens one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://user@host:port/db`).
    Postgres(String),
}

impl Location {
    /// `database` when given (`postgres://…`, `postgresql://…` or
    /// `sqlite:PATH`), else `DATA/collector.sqlite`.
    pub fn resolve(data: &Path, database: Option<&str>) -> Result<Self> {
        match database.map(str::trim) {
            None | Some("") => Ok(Self::Sqlite(data.join(FILE_NAME))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                tokio_postgres::Config::from_str(url)
                    .map_err(|e| anyhow!("--database: not a PostgreSQL URL: {e}"))?;
                Ok(Self::Postgres(url.to_owned()))
            }
            Some(url) => match url.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Ok(Self::Sqlite(PathBuf::from(path))),
                _ => bail!(
                    "--database: expected postgres://USER@HOST:PORT/DB or sqlite:PATH, got {:?}",
                    crate::text::one_line(url, 80)
                ),
            },
        }
    }

    /// The location for people: a URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => describe_postgres(url),
        }
    }
}

/// `postgres://user@host:port/db` with no password, whatever the URL held.
fn describe_postgres(url: &str) -> String {
    match tokio_postgres::Config::from_str(url) {
        Ok(config) => format!(
            "postgres://{}@{}",
            config.get_user().unwrap_or(""),
            describe_config(&config)
        ),
        Err(_) => "postgres://(unreadable URL)".to_owned(),
    }
}

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

/// The database of one collector (or of one replica): one writer
/// connection (ingestion commits batches through it) and a small pool of
/// readers, on SQLite or PostgreSQL.
pub struct Store {
    location: Location,
    pool: Pool,
    /// Decoded keys by their bytes: decoding a point costs more than the lookup.
    keys: Mutex<HashMap<[u8; 32], VerifyingKey>>,
    /// This process as a lease holder.
    holder: String,
}

enum Pool {
    Sqlite {
        path: PathBuf,
        writer: Mutex<Connection>,
        readers: Mutex<Vec<Connection>>,
    },
    Postgres {
        config: Box<tokio_postgres::Config>,
        /// `None` after the connection broke: the next write connects again.
        writer: Mutex<Option<RefCell<PgConn>>>,
        readers: Mutex<Vec<RefCell<PgConn>>>,
    },
}

fn connect_sqlite(path: &Path) -> Result<Connection> {
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

fn connect_postgres(config: &tokio_postgres::Config) -> Result<PgConn> {
    PgConn::connect(config)
        .with_context(|| format!("connecting to PostgreSQL at {}", describe_config(config)))
}

fn describe_config(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "{}:{} database {}",
        hosts.join(","),
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_dbname().unwrap_or("(default)")
    )
}

/// A u64 as the store's i64 (sequences and ports never come near 2^63; saturate rather than wrap).
pub(crate) fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The store's i64 as u64 (negative values are never written).
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

/// Runs the migrations the store lacks, each in its own transaction.
fn migrate(db: &Db<'_>, location: &Location) -> Result<()> {
    let backend = db.backend();
    let current: i64 = match backend {
        Backend::Sqlite => db.query_value("PRAGMA user_version", params![])?,
        Backend::Postgres => {
            db.execute_batch(
                "CREATE TABLE IF NOT EXISTS faro_schema (
                     id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
                 INSERT INTO faro_schema (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
            )?;
            db.query_value("SELECT version FROM faro_schema WHERE id = 1", params![])?
        }
    };
    let latest = schema::latest();
    if current > latest {
        bail!(
            "{} has schema version {current}; this faro-collector knows up to {latest}",
            location.describe()
        );
    }
    for m in schema::MIGRATIONS.iter().filter(|m| m.version > current) {
        let text = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        db.execute_batch("BEGIN")?;
        let applied = (|| -> Result<()> {
            if backend == Backend::Postgres {
                // Replicas starting together: one migrates, the others wait here.
                db.execute_batch("LOCK TABLE faro_schema IN EXCLUSIVE MODE")?;
                let now: i64 =
                    db.query_value("SELECT version FROM faro_schema WHERE id = 1", params![])?;
                if now >= m.version {
                    return Ok(());
                }
            }
            if !text.is_empty() {
                db.execute_batch(text)?;
            }
            match backend {
                Backend::Sqlite => {
                    db.execute_batch(&format!("PRAGMA user_version = {}", m.version))
                }
                Backend::Postgres => db
                    .execute(
                        "UPDATE faro_schema SET version = ?1 WHERE id = 1",
                        params![m.version],
                    )
                    .map(drop),
            }
        })();
        match applied {
            Ok(()) => db.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = db.execute_batch("ROLLBACK");
                return Err(e.context(format!(
                    "migrating {} to schema version {} ({})",
                    location.describe(),
                    m.version,
                    m.what
                )));
            }
        }
        if current > 0 {
            tracing::info!(
                store = %location.describe(),
                version = m.version,
                "schema migrated: {}",
                m.what
            );
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) `DATA/collector.sqlite`.
    pub fn open_dir(data: &Path) -> Result<Self> {
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        Self::open(&data.join(FILE_NAME))
    }

    /// Opens (creating if needed) the SQLite store at `path`; the schema exists afterwards.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_at(&Location::Sqlite(path.to_owned()))
    }

    /// Opens the store at `location` (SQLite: creating the file if needed)
    /// and brings its schema up to date.
    pub fn open_at(location: &Location) -> Result<Self> {
        let pool = match location {
            Location::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let conn = connect_sqlite(path)?;
                migrate(&Db::sqlite(&conn), location)?;
                // The writer's page cache: 64 MiB rather than SQLite's 2 MiB, so that
                // bulk upserts (a merge, a first match of every asset) find the
                // index pages they touch in memory.
                conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
                Pool::Sqlite {
                    path: path.clone(),
                    writer: Mutex::new(conn),
                    readers: Mutex::new(Vec::new()),
                }
            }
            Location::Postgres(url) => {
                let mut config = tokio_postgres::Config::from_str(url)
                    .map_err(|e| anyhow!("not a PostgreSQL URL: {e}"))?;
                config.application_name("faro-collector");
                config.connect_timeout(Duration::from_secs(10));
                let conn = RefCell::new(connect_postgres(&config)?);
                migrate(&Db::postgres(&conn), location)?;
                Pool::Postgres {
                    config: Box::new(config),
                    writer: Mutex::new(Some(conn)),
                    readers: Mutex::new(Vec::new()),
                }
            }
        };
        Ok(Self {
            location: location.clone(),
            pool,
            keys: Mutex::new(HashMap::new()),
            holder: lease::holder_id(),
        })
    }

    /// The lease `name` as this process holds it.
    pub fn lease(&self, name: &str) -> lease::Lease {
        lease::Lease::with_holder(name, &self.holder, lease::TTL)
    }

    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Which database the store is on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs `f` on a pooled read connection.
    pub fn read<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        match &self.pool {
            Pool::Sqlite { path, readers, .. } => {
                let pooled = readers
                    .lock()
                    .map_err(|_| anyhow!("reader pool lock poisoned"))?
                    .pop();
                let conn = match pooled {
                    Some(conn) => conn,
                    None => connect_sqlite(path)?,
                };
                let out = f(&Db::sqlite(&conn));
                if let Ok(mut pool) = readers.lock() {
                    pool.push(conn);
                }
                out
            }
            Pool::Postgres {
                config, readers, ..
            } => {
                let pooled = readers
                    .lock()
                    .map_err(|_| anyhow!("reader pool lock poisoned"))?
                    .pop();
                let conn = match pooled {
                    Some(conn) => conn,
                    None => RefCell::new(connect_postgres(config)?),
                };
                let out = f(&Db::postgres(&conn));
                if !conn.borrow().is_closed() {
                    if let Ok(mut pool) = readers.lock() {
                        if pool.len() < PG_READERS {
                            pool.push(conn);
                        }
                    }
                }
                out
            }
        }
    }

    /// Runs `f` in one write transaction (taken at once, so it never has to
    /// be retried), committing if it succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        match &self.pool {
            Pool::Sqlite { writer, .. } => {
                let mut conn = writer.lock().map_err(|_| anyhow!("writer lock poisoned"))?;
                let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let out = f(&Db::sqlite(&txn))?;
                txn.commit()?;
                Ok(out)
            }
            Pool::Postgres { config, writer, .. } => {
                let mut slot = writer.lock().map_err(|_| anyhow!("writer lock poisoned"))?;
                let conn = match slot.take() {
                    Some(conn) if !conn.borrow().is_closed() => conn,
                    _ => RefCell::new(connect_postgres(config)?),
                };
                let db = Db::postgres(&conn);
                let out = db.execute_batch("BEGIN").and_then(|()| f(&db));
                let out = match out {
                    Ok(v) => db.execute_batch("COMMIT").map(|()| v),
                    Err(e) => {
                        let _ = db.execute_batch("ROLLBACK");
                        Err(e)
                    }
                };
                if !conn.borrow().is_closed() {
                    *slot = Some(conn);
                }
                out
            }
        }
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
        let key_bytes = key.as_bytes().to_vec();
        self.write(|db| {
            let owner: Option<String> = db
                .query_opt("SELECT id FROM sensors WHERE fingerprint = ?1", params![fp])?
                .map(|r| r.get(0))
                .transpose()?;
            if let Some(owner) = owner.filter(|o| o != id) {
                bail!("key {fp} is already enrolled for sensor {owner}");
            }
            let old: Option<String> = db
                .query_opt(
                    &format!(
                        "SELECT fingerprint FROM sensors WHERE id = ?1{}",
                        db.backend().for_update()
                    ),
                    params![id],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            let outcome = match old {
                None => {
                    db.execute(
                        "INSERT INTO sensors (id, public_key_pem, public_key, fingerprint, site)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![id, public_key_pem, key_bytes, fp, site],
                    )?;
                    Enrolled::New
                }
                Some(old) if old == fp => Enrolled::Unchanged,
                Some(old) if !replace => bail!(
                    "sensor {id} is enrolled with key {old}; pass --replace to pin {fp} instead"
                ),
                // The sequence history belongs to the id: a new key continues it.
                Some(_) => {
                    db.execute(
                        "UPDATE sensors SET public_key_pem = ?2, public_key = ?3, fingerprint = ?4
                         WHERE id = ?1",
                        params![id, public_key_pem, key_bytes, fp],
                    )?;
                    Enrolled::Replaced
                }
            };
            if outcome != Enrolled::New && site.is_some() {
                db.execute(
                    "UPDATE sensors SET site = ?2 WHERE id = ?1",
                    params![id, site],
                )?;
            }
            Ok((fp.clone(), outcome))
        })
    }

    /// The enrolled sensor with this id.
    pub fn sensor(&self, id: &str) -> Result<Option<SensorRecord>> {
        self.read(|db| {
            db.query_opt(
                "SELECT id, public_key_pem, fingerprint, site, last_sequence, last_seen
                 FROM sensors WHERE id = ?1",
                params![id],
            )?
            .map(|r| {
                Ok(SensorRecord {
                    id: r.get(0)?,
                    public_key_pem: r.get(1)?,
                    fingerprint: r.get(2)?,
                    site: r.get(3)?,
                    last_sequence: r.get::<Option<i64>>(4)?.map(from_sql_int),
                    last_seen: r.get(5)?,
                })
            })
            .transpose()
        })
    }

    /// The sensor whose pinned key has this fingerprint, with the key decoded.
    pub fn sensor_by_kid(&self, kid: &str) -> Result<Option<SensorKey>> {
        let row = self.read(|db| {
            db.query_opt(
                "SELECT id, public_key FROM sensors WHERE fingerprint = ?1",
                params![kid],
            )
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: String = row.get(0)?;
        let bytes: [u8; 32] = row
            .blob(1)?
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
        self.read(|db| {
            let mut out = Vec::new();
            db.for_each(
                "SELECT sequence, jws_lz4 FROM summaries WHERE sensor_id = ?1 ORDER BY sequence",
                params![id],
                |r| {
                    out.push((from_sql_int(r.get(0)?), unpack(r.blob(1)?)?));
                    Ok(())
                },
            )?;
            Ok(out)
        })
    }

    /// The number of stored summaries of all sensors.
    pub fn summary_count(&self) -> Result<u64> {
        self.read(|db| {
            Ok(from_sql_int(db.query_value(
                "SELECT count(*) FROM summaries",
                params![],
            )?))
        })
    }

    /// Summaries stored (and answered) but not merged into the inventory
    /// yet: how far the inventory lags behind.
    pub fn unmerged(&self) -> Result<u64> {
        self.read(|db| {
            Ok(from_sql_int(db.query_value(
                "SELECT count(*) FROM summaries WHERE merge_id IS NULL",
                params![],
            )?))
        })
    }

    /// The number of the last merge into the inventory (0: none yet).
    /// Merges are numbered in commit order; `summaries.merge_id` says which
    /// took each summary.
    pub fn last_merge(&self) -> Result<i64> {
        self.read(|db| {
            db.query_value(
                "SELECT merged_through FROM merge_state WHERE id = 1",
                params![],
            )
        })
    }

    /// The numbers of assets, edges and findings stored.
    pub fn counts(&self) -> Result<(u64, u64, u64)> {
        self.read(|db| {
            let count = |table: &str| -> Result<u64> {
                let n: i64 = db.query_value(&format!("SELECT count(*) FROM {table}"), params![])?;
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
            db: &Db<'_>,
            table: &str,
            order: &str,
            site: Option<&str>,
            except: Option<&str>,
        ) -> Result<Vec<Merged<T>>> {
            // Only findings have rules (the other tables are listed with `None`).
            let (sql, rule): (String, Option<&str>) = match (table, except) {
                ("findings", Some(rule)) => (
                    format!(
                        "SELECT site, sensor_id, sequence, value FROM {table}
                         WHERE (CAST(?1 AS TEXT) IS NULL OR site = ?1) AND rule != ?2
                         ORDER BY {order}"
                    ),
                    Some(rule),
                ),
                _ => (
                    format!(
                        "SELECT site, sensor_id, sequence, value FROM {table}
                         WHERE (CAST(?1 AS TEXT) IS NULL OR site = ?1) ORDER BY {order}"
                    ),
                    None,
                ),
            };
            let mut out = Vec::new();
            let mut each = |r: Row| -> Result<()> {
                out.push(Merged {
                    site: r.get(0)?,
                    sensor_id: r.get(1)?,
                    sequence: from_sql_int(r.get(2)?),
                    value: serde_json::from_str(r.text(3)?)
                        .with_context(|| format!("a stored {table} row"))?,
                });
                Ok(())
            };
            match rule {
                Some(rule) => db.for_each(&sql, params![site, rule], &mut each)?,
                None => db.for_each(&sql, params![site], &mut each)?,
            }
            Ok(out)
        }
        self.read(|db| {
            Ok(Inventory {
                assets: list(db, "assets", "site, ip", site, None)?,
                edges: list(
                    db,
                    "edges",
                    "site, client, server, server_port, protocol",
                    site,
                    None,
                )?,
                findings: list(db, "findings", "site, rule, subject", site, except)?,
            })
        })
    }
}
