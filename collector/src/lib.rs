//! Faro collector: enrolled sensors, signed summaries, the merged inventory.

pub mod certs;
pub mod tls;
