//! Faro collector: enrolled sensors, signed summaries, the merged inventory.

pub mod api;
pub mod cef;
pub mod certs;
pub mod client;
pub mod export;
pub mod exposure;
pub mod forward;
pub mod ingest;
pub mod intel;
pub mod report;
pub mod rescore;
pub mod sample;
pub mod server;
pub mod store;
pub mod text;
pub mod tls;
pub mod tokens;
pub mod triage;
pub mod views;
pub mod vulnerabilities;
