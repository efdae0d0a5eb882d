//! Faro collector: enrolled sensors, signed summaries, the merged inventory.

pub mod certs;
pub mod ingest;
pub mod sample;
pub mod store;
pub mod tls;
