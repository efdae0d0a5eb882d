//! The store's schema, for both backends, as numbered migrations: a store
//! records the last one it ran (SQLite: `PRAGMA user_version`; PostgreSQL:
//! the `faro_schema` row) and runs the later ones, in order, each in one
//! transaction, when it opens. A store newer than this build is refused.
//!
//! PostgreSQL stores start at version 2 (the first release that has them):
//! its migration 2 is the whole schema. Later migrations come in pairs, one
//! text per dialect, with the same meaning. Text that is sorted or keyed on
//! is `COLLATE "C"` in PostgreSQL, so both order it bytewise (as the API's
//! pages and cursors expect) whatever locale the database was created with.

/// One step of the schema.
pub(crate) struct Migration {
    /// Its number: runs on stores below it.
    pub(crate) version: i64,
    /// What it does, for the log.
    pub(crate) what: &'static str,
    /// Its SQLite text.
    pub(crate) sqlite: &'static str,
    /// Its PostgreSQL text (empty: nothing to do there).
    pub(crate) postgres: &'static str,
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "sensors, summaries, inventory, findings, triage history, tokens, exposure, exporter cursors",
        sqlite: SQLITE_1,
        postgres: "",
    },
    Migration {
        version: 2,
        what: "intelligence and vulnerability matches; summaries numbered and marked by the merge that took them; leases",
        sqlite: SQLITE_2,
        postgres: POSTGRES_2,
    },
];

/// The version this build writes.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const SQLITE_1: &str = "
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
CREATE TABLE IF NOT EXISTS site_exposure (
    site        TEXT PRIMARY KEY,
    computed_at TEXT NOT NULL,
    value       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exporter_cursors (
    name       TEXT PRIMARY KEY,
    updated_at TEXT NOT NULL,
    id         INTEGER NOT NULL
);
";

/// Stores of version 1 may already hold the intelligence tables (they were
/// created at each open before migrations were numbered): `IF NOT EXISTS`.
const SQLITE_2: &str = "
CREATE TABLE IF NOT EXISTS intel_advisories (
    id          TEXT PRIMARY KEY,
    version     TEXT NOT NULL,
    released    TEXT NOT NULL,
    value       TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_kev (
    cve   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_epss (
    cve        TEXT PRIMARY KEY,
    score      REAL NOT NULL,
    percentile REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_sources (
    kind        TEXT PRIMARY KEY,
    count       INTEGER NOT NULL,
    version     TEXT,
    date        TEXT,
    imported_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS intel_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 0),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO intel_generation (id, generation) VALUES (0, 0);
CREATE TABLE IF NOT EXISTS vulnerability_matches (
    site            TEXT NOT NULL,
    ip              TEXT NOT NULL,
    advisory        TEXT NOT NULL,
    cve             TEXT NOT NULL,
    product_id      TEXT NOT NULL,
    finding_id      INTEGER NOT NULL,
    confidence      TEXT NOT NULL,
    confidence_rank INTEGER NOT NULL,
    kev             INTEGER NOT NULL,
    epss            REAL,
    epss_percentile REAL,
    cvss            REAL,
    vendor          TEXT NOT NULL,
    substance       TEXT NOT NULL,
    value           BLOB NOT NULL,
    matched_at      TEXT NOT NULL,
    PRIMARY KEY (site, ip, advisory, cve)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vulnerability_matches_finding ON vulnerability_matches (finding_id);
CREATE INDEX IF NOT EXISTS vulnerability_matches_advisory ON vulnerability_matches (advisory);
CREATE INDEX IF NOT EXISTS vulnerability_matches_cve ON vulnerability_matches (cve);
CREATE TABLE IF NOT EXISTS advisory_remediations (
    advisory   TEXT NOT NULL,
    product_id TEXT NOT NULL,
    cve        TEXT NOT NULL,
    value      BLOB NOT NULL,
    PRIMARY KEY (advisory, product_id, cve)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assets_mac ON assets (site, json_extract(value, '$.mac'));
CREATE TABLE IF NOT EXISTS vulnerability_match_state (
    site       TEXT NOT NULL,
    ip         TEXT NOT NULL,
    identity   TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (site, ip)
) WITHOUT ROWID;
-- Summaries get an explicit id (PostgreSQL has no rowid) and the number of
-- the merge that took them: with several writers, ids are not committed in
-- order, so a high-water mark of ids could pass over one still uncommitted.
-- Summaries merged before are put in merge 1.
CREATE TABLE summaries_numbered (
    id          INTEGER PRIMARY KEY,
    sensor_id   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    site        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    jws_lz4     BLOB NOT NULL,
    merge_id    INTEGER,
    UNIQUE (sensor_id, sequence)
);
INSERT INTO summaries_numbered (id, sensor_id, sequence, site, received_at, jws_lz4, merge_id)
SELECT rowid, sensor_id, sequence, site, received_at, jws_lz4,
       CASE WHEN rowid <= (SELECT merged_through FROM merge_state WHERE id = 1) THEN 1 END
FROM summaries;
DROP TABLE summaries;
ALTER TABLE summaries_numbered RENAME TO summaries;
CREATE INDEX summaries_unmerged ON summaries (id) WHERE merge_id IS NULL;
CREATE INDEX summaries_merge ON summaries (merge_id);
-- merge_state.merged_through is now the number of the last merge.
UPDATE merge_state SET merged_through =
    CASE WHEN EXISTS (SELECT 1 FROM summaries WHERE merge_id = 1) THEN 1 ELSE 0 END;
-- A background task (merge, rescore, forward) runs on one replica at a
-- time: the holder renews its row before it expires (database clock, ms).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

const POSTGRES_2: &str = r#"
CREATE TABLE sensors (
    id             TEXT COLLATE "C" PRIMARY KEY,
    public_key_pem TEXT NOT NULL,
    public_key     BYTEA NOT NULL,
    fingerprint    TEXT COLLATE "C" NOT NULL UNIQUE,
    site           TEXT COLLATE "C",
    last_sequence  BIGINT,
    last_seen      TEXT COLLATE "C",
    counters       TEXT
);
CREATE TABLE summaries (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    sensor_id   TEXT COLLATE "C" NOT NULL,
    sequence    BIGINT NOT NULL,
    site        TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    jws_lz4     BYTEA NOT NULL,
    merge_id    BIGINT,
    UNIQUE (sensor_id, sequence)
);
CREATE INDEX summaries_unmerged ON summaries (id) WHERE merge_id IS NULL;
CREATE INDEX summaries_merge ON summaries (merge_id);
CREATE TABLE merge_state (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    merged_through BIGINT NOT NULL
);
INSERT INTO merge_state (id, merged_through) VALUES (1, 0);
CREATE TABLE assets (
    site      TEXT COLLATE "C" NOT NULL,
    ip        TEXT COLLATE "C" NOT NULL,
    zone      TEXT COLLATE "C",
    score     BIGINT NOT NULL DEFAULT 0,
    sensor_id TEXT COLLATE "C" NOT NULL,
    sequence  BIGINT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (site, ip)
);
CREATE INDEX assets_zone ON assets (site, zone, ip);
CREATE INDEX assets_summary ON assets (sensor_id, sequence);
CREATE INDEX assets_mac ON assets (site, ((value)::jsonb #>> '{mac}'));
CREATE TABLE edges (
    site        TEXT COLLATE "C" NOT NULL,
    client      TEXT COLLATE "C" NOT NULL,
    server      TEXT COLLATE "C" NOT NULL,
    server_port BIGINT NOT NULL,
    protocol    TEXT COLLATE "C" NOT NULL,
    sensor_id   TEXT COLLATE "C" NOT NULL,
    sequence    BIGINT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (site, client, server, server_port, protocol)
);
CREATE TABLE findings (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    site          TEXT COLLATE "C" NOT NULL,
    rule          TEXT COLLATE "C" NOT NULL,
    subject       TEXT COLLATE "C" NOT NULL,
    severity      TEXT COLLATE "C" NOT NULL,
    severity_rank BIGINT NOT NULL,
    protocol      TEXT COLLATE "C" NOT NULL,
    asset         TEXT COLLATE "C" NOT NULL,
    exposure      TEXT COLLATE "C" NOT NULL,
    count         BIGINT NOT NULL,
    first_seen    TEXT COLLATE "C" NOT NULL,
    last_seen     TEXT COLLATE "C" NOT NULL,
    sensor_id     TEXT COLLATE "C" NOT NULL,
    sequence      BIGINT NOT NULL,
    value         TEXT NOT NULL,
    priority      BIGINT NOT NULL DEFAULT 0,
    status        TEXT COLLATE "C" NOT NULL DEFAULT 'open',
    owner         TEXT COLLATE "C",
    due           TEXT COLLATE "C",
    reason        TEXT,
    expires       TEXT COLLATE "C",
    updated_by    TEXT,
    updated_at    TEXT COLLATE "C" NOT NULL,
    UNIQUE (site, rule, subject)
);
CREATE INDEX findings_updated ON findings (updated_at, id);
CREATE INDEX findings_priority ON findings (priority DESC, id);
CREATE INDEX findings_site ON findings (site, priority DESC, id);
CREATE INDEX findings_asset ON findings (site, asset, priority DESC, id);
CREATE INDEX findings_rule ON findings (rule, priority DESC, id);
CREATE INDEX findings_status ON findings (status, priority DESC, id);
-- The worklist's default view leaves resolved findings out: a partial index.
CREATE INDEX findings_open ON findings (priority DESC, id) WHERE status <> 'resolved';
CREATE INDEX findings_expiry ON findings (expires) WHERE status = 'accepted_risk';
CREATE TABLE finding_history (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    finding_id BIGINT NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    actor      TEXT,
    field      TEXT COLLATE "C" NOT NULL,
    old        TEXT,
    new        TEXT
);
CREATE INDEX finding_history_finding ON finding_history (finding_id, id);
CREATE FUNCTION faro_findings_triage_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO finding_history (finding_id, at, actor, field, old, new)
  SELECT NEW.id, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         NEW.updated_by, c.f, c.o, c.n
  FROM (VALUES ('status', OLD.status, NEW.status), ('owner', OLD.owner, NEW.owner),
               ('due', OLD.due, NEW.due), ('reason', OLD.reason, NEW.reason),
               ('expires', OLD.expires, NEW.expires)) AS c(f, o, n)
  WHERE c.o IS DISTINCT FROM c.n;
  RETURN NULL;
END $$;
CREATE TRIGGER findings_triage_history AFTER UPDATE ON findings FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.owner IS DISTINCT FROM NEW.owner
   OR OLD.due IS DISTINCT FROM NEW.due OR OLD.reason IS DISTINCT FROM NEW.reason
   OR OLD.expires IS DISTINCT FROM NEW.expires)
EXECUTE FUNCTION faro_findings_triage_history();
-- The one rule of which report of an inventory key wins (store::supersedes).
CREATE FUNCTION faro_supersedes(old_sensor TEXT, old_sequence BIGINT, sensor TEXT, sequence BIGINT)
RETURNS BOOLEAN LANGUAGE sql IMMUTABLE AS $$
  SELECT old_sensor <> sensor OR old_sequence < sequence
$$;
CREATE TABLE api_tokens (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL,
    scope         TEXT COLLATE "C" NOT NULL,
    secret_sha256 BYTEA NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    revoked_at    TEXT COLLATE "C"
);
CREATE TABLE site_exposure (
    site        TEXT COLLATE "C" PRIMARY KEY,
    computed_at TEXT COLLATE "C" NOT NULL,
    value       TEXT NOT NULL
);
CREATE TABLE exporter_cursors (
    name       TEXT COLLATE "C" PRIMARY KEY,
    updated_at TEXT COLLATE "C" NOT NULL,
    id         BIGINT NOT NULL
);
CREATE TABLE intel_advisories (
    id          TEXT COLLATE "C" PRIMARY KEY,
    version     TEXT NOT NULL,
    released    TEXT COLLATE "C" NOT NULL,
    value       TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    source      TEXT NOT NULL
);
CREATE TABLE intel_kev (
    cve   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE intel_epss (
    cve        TEXT COLLATE "C" PRIMARY KEY,
    score      DOUBLE PRECISION NOT NULL,
    percentile DOUBLE PRECISION NOT NULL
);
CREATE TABLE intel_sources (
    kind        TEXT COLLATE "C" PRIMARY KEY,
    count       BIGINT NOT NULL,
    version     TEXT,
    date        TEXT,
    imported_at TEXT NOT NULL
);
CREATE TABLE intel_generation (
    id         BIGINT PRIMARY KEY CHECK (id = 0),
    generation BIGINT NOT NULL
);
INSERT INTO intel_generation (id, generation) VALUES (0, 0);
CREATE TABLE vulnerability_matches (
    site            TEXT COLLATE "C" NOT NULL,
    ip              TEXT COLLATE "C" NOT NULL,
    advisory        TEXT COLLATE "C" NOT NULL,
    cve             TEXT COLLATE "C" NOT NULL,
    product_id      TEXT COLLATE "C" NOT NULL,
    finding_id      BIGINT NOT NULL,
    confidence      TEXT COLLATE "C" NOT NULL,
    confidence_rank BIGINT NOT NULL,
    kev             BIGINT NOT NULL,
    epss            DOUBLE PRECISION,
    epss_percentile DOUBLE PRECISION,
    cvss            DOUBLE PRECISION,
    vendor          TEXT COLLATE "C" NOT NULL,
    substance       TEXT NOT NULL,
    value           BYTEA NOT NULL,
    matched_at      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (site, ip, advisory, cve)
);
CREATE INDEX vulnerability_matches_finding ON vulnerability_matches (finding_id);
CREATE INDEX vulnerability_matches_advisory ON vulnerability_matches (advisory);
CREATE INDEX vulnerability_matches_cve ON vulnerability_matches (cve);
CREATE TABLE advisory_remediations (
    advisory   TEXT COLLATE "C" NOT NULL,
    product_id TEXT COLLATE "C" NOT NULL,
    cve        TEXT COLLATE "C" NOT NULL,
    value      BYTEA NOT NULL,
    PRIMARY KEY (advisory, product_id, cve)
);
CREATE TABLE vulnerability_match_state (
    site       TEXT COLLATE "C" NOT NULL,
    ip         TEXT COLLATE "C" NOT NULL,
    identity   TEXT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (site, ip)
);
CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
"#;
