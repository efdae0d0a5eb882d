//! Leases: each background task that must not run twice at once (merging,
//! rescoring, forwarding to one receiver) runs on the one replica holding
//! its row in `leases`. A holder renews the row before it expires; when a
//! replica dies, another takes the row once it has expired (seconds). The
//! database's clock decides, so replicas' clocks need not agree, and the
//! row is taken by one conditional upsert — no advisory locks, which
//! PostgreSQL-compatible distributed engines lack.
//!
//! Taken inside a write transaction, the row also fences that transaction:
//! PostgreSQL keeps it locked until commit, so a holder that stalled past
//! its expiry cannot commit alongside the replica that took over.

use std::time::Duration;

use anyhow::Result;

use super::{Db, Store, params};

/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(5);

/// One replica's claim on a named task.
#[derive(Debug, Clone)]
pub struct Lease {
    name: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// The lease `name` held by `holder` for `ttl` at a time.
    pub fn with_holder(name: &str, holder: &str, ttl: Duration) -> Self {
        Self {
            name: name.to_owned(),
            holder: holder.to_owned(),
            ttl,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Who holds it when this process does.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes or renews the lease in transaction `db`: whether this holder
    /// has it now (for its TTL from the database's clock).
    pub fn take(&self, db: &Db<'_>) -> Result<bool> {
        let now = db.backend().now_millis();
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let changed = db.execute(
            &format!(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, {now} + ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                     expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at < {now}"
            ),
            params![self.name, self.holder, ttl],
        )?;
        Ok(changed == 1)
    }

    /// Takes or renews the lease in a transaction of its own.
    pub fn acquire(&self, store: &Store) -> Result<bool> {
        store.write(|db| self.take(db))
    }

    /// Gives the lease up (a clean stop: the next holder need not wait).
    pub fn release(&self, store: &Store) -> Result<()> {
        store.write(|db| {
            db.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![self.name, self.holder],
            )
            .map(drop)
        })
    }

    /// Who holds lease `name` now, if anyone (an expired row holds nothing).
    pub fn holder_of(store: &Store, name: &str) -> Result<Option<String>> {
        store.read(|db| {
            let now = db.backend().now_millis();
            db.query_opt(
                &format!("SELECT holder FROM leases WHERE name = ?1 AND expires_at >= {now}"),
                params![name],
            )?
            .map(|r| r.get(0))
            .transpose()
        })
    }
}

/// This process among the replicas: host, pid and a random part (a
/// restarted process with a reused pid is another holder).
pub(crate) fn holder_id() -> String {
    use rand_core::RngCore;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let random = rand_core::OsRng.next_u32();
    format!(
        "{}:{}:{random:08x}",
        crate::text::one_line(&host, 64),
        std::process::id()
    )
}
