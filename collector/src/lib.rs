//! Faro collector: enrolled sensors, signed summaries, the merged inventory.

pub mod certs;
pub mod client;
pub mod exposure;
pub mod ingest;
pub mod report;
pub mod sample;
pub mod server;
pub mod store;
pub mod tls;
