//! The collector's embedded store (redb): enrolled sensors, the exact bytes of
//! every accepted summary, and the per-site inventory merged from them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use faro_protocols::uplink::{
    AssetDelta, EdgeDelta, FindingDelta, fingerprint, verifying_key_from_pem,
};
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// sensor id → [`SensorRecord`] as JSON.
pub(crate) const SENSORS: TableDefinition<&str, &[u8]> = TableDefinition::new("sensors");
/// key fingerprint (the JWS kid) → sensor id.
pub(crate) const KEYS: TableDefinition<&str, &str> = TableDefinition::new("keys");
/// (sensor id, sequence) → the JWS exactly as received.
pub(crate) const SUMMARIES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("summaries");
/// (site, ip) → [`Merged`]<[`AssetDelta`]> as JSON.
pub(crate) const ASSETS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("assets");
/// (site, client, server, server port, protocol) → [`Merged`]<[`EdgeDelta`]> as JSON.
pub(crate) const EDGES: TableDefinition<(&str, &str, &str, u16, &str), &[u8]> =
    TableDefinition::new("edges");
/// (site, rule, subject) → [`Merged`]<[`FindingDelta`]> as JSON.
pub(crate) const FINDINGS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("findings");

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "collector.redb";

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

/// The redb database of one collector.
pub struct Store {
    pub(crate) db: Database,
}

impl Store {
    /// Opens (creating if needed) `DATA/collector.redb`.
    pub fn open_dir(data: &Path) -> Result<Self> {
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        Self::open(&data.join(FILE_NAME))
    }

    /// Opens (creating if needed) the store at `path`; every table exists afterwards.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path).with_context(|| {
            format!(
                "opening {} (is a faro-collector already using it?)",
                path.display()
            )
        })?;
        let txn = db.begin_write()?;
        txn.open_table(SENSORS)?;
        txn.open_table(KEYS)?;
        txn.open_table(SUMMARIES)?;
        txn.open_table(ASSETS)?;
        txn.open_table(EDGES)?;
        txn.open_table(FINDINGS)?;
        txn.commit()?;
        Ok(Self { db })
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
        let txn = self.db.begin_write()?;
        let outcome;
        {
            let mut sensors = txn.open_table(SENSORS)?;
            let mut keys = txn.open_table(KEYS)?;
            if let Some(owner) = keys.get(fp.as_str())? {
                if owner.value() != id {
                    bail!("key {fp} is already enrolled for sensor {}", owner.value());
                }
            }
            let existing = match sensors.get(id)? {
                Some(v) => Some(serde_json::from_slice::<SensorRecord>(v.value())?),
                None => None,
            };
            let record = match existing {
                None => {
                    outcome = Enrolled::New;
                    SensorRecord {
                        id: id.to_owned(),
                        public_key_pem: public_key_pem.to_owned(),
                        fingerprint: fp.clone(),
                        site: site.map(str::to_owned),
                        last_sequence: None,
                        last_seen: None,
                    }
                }
                Some(old) if old.fingerprint == fp => {
                    outcome = Enrolled::Unchanged;
                    SensorRecord {
                        site: site.map(str::to_owned).or(old.site.clone()),
                        ..old
                    }
                }
                Some(old) => {
                    if !replace {
                        bail!(
                            "sensor {id} is enrolled with key {}; pass --replace to pin {fp} instead",
                            old.fingerprint
                        );
                    }
                    outcome = Enrolled::Replaced;
                    keys.remove(old.fingerprint.as_str())?;
                    // The sequence history belongs to the id: a new key continues it.
                    SensorRecord {
                        public_key_pem: public_key_pem.to_owned(),
                        fingerprint: fp.clone(),
                        site: site.map(str::to_owned).or(old.site.clone()),
                        ..old
                    }
                }
            };
            keys.insert(fp.as_str(), id)?;
            sensors.insert(id, serde_json::to_vec(&record)?.as_slice())?;
        }
        txn.commit()?;
        Ok((fp, outcome))
    }

    /// The enrolled sensor with this id.
    pub fn sensor(&self, id: &str) -> Result<Option<SensorRecord>> {
        let txn = self.db.begin_read()?;
        let sensors = txn.open_table(SENSORS)?;
        Ok(match sensors.get(id)? {
            Some(v) => Some(serde_json::from_slice(v.value())?),
            None => None,
        })
    }

    /// The sensor whose pinned key has this fingerprint.
    pub fn sensor_by_kid(&self, kid: &str) -> Result<Option<SensorRecord>> {
        let txn = self.db.begin_read()?;
        let keys = txn.open_table(KEYS)?;
        let Some(id) = keys.get(kid)? else {
            return Ok(None);
        };
        let sensors = txn.open_table(SENSORS)?;
        Ok(match sensors.get(id.value())? {
            Some(v) => Some(serde_json::from_slice(v.value())?),
            None => None,
        })
    }

    /// The stored summaries of a sensor: (sequence, the JWS bytes).
    pub fn summaries(&self, id: &str) -> Result<Vec<(u64, Vec<u8>)>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(SUMMARIES)?;
        let mut out = Vec::new();
        for item in table.range((id, 0u64)..=(id, u64::MAX))? {
            let (k, v) = item?;
            out.push((k.value().1, v.value().to_vec()));
        }
        Ok(out)
    }

    /// The number of stored summaries of all sensors.
    pub fn summary_count(&self) -> Result<u64> {
        use redb::ReadableTableMetadata;
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(SUMMARIES)?.len()?)
    }

    /// The merged inventory of `site`, or of every site.
    pub fn inventory(&self, site: Option<&str>) -> Result<Inventory> {
        let txn = self.db.begin_read()?;
        let keep = |s: &str| site.is_none_or(|want| want == s);
        let mut inv = Inventory::default();
        for item in txn.open_table(ASSETS)?.iter()? {
            let (k, v) = item?;
            if keep(k.value().0) {
                inv.assets.push(serde_json::from_slice(v.value())?);
            }
        }
        for item in txn.open_table(EDGES)?.iter()? {
            let (k, v) = item?;
            if keep(k.value().0) {
                inv.edges.push(serde_json::from_slice(v.value())?);
            }
        }
        for item in txn.open_table(FINDINGS)?.iter()? {
            let (k, v) = item?;
            if keep(k.value().0) {
                inv.findings.push(serde_json::from_slice(v.value())?);
            }
        }
        Ok(inv)
    }
}
