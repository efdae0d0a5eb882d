//! Faro's passive OT network sensor: capture (files and live interfaces),
//! decoding, flows and TCP reassembly, protocol dissection, the asset
//! inventory it builds, and the running sensor's summaries, spool, uplink,
//! privileges, signals and status.

pub mod capture;
pub mod decode;
pub mod dissect;
pub mod error;
pub mod findings;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod inventory;
pub mod lifecycle;
pub mod live;
pub mod pipeline;
pub mod privileges;
pub mod reassembly;
pub mod report;
pub mod run;
pub mod signals;
pub mod spool;
pub mod stats;
pub mod status;
pub mod summary;
pub mod uplink;

pub use error::SensorError;
pub use pipeline::{Outcome, Pipeline};
