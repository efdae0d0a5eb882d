//! The Faro appliance's configuration.
//!
//! One TOML file (see `faro.example.toml` beside this crate) says who the
//! sensor is, which interfaces it captures, how the plant's network is cut
//! into zones at Purdue levels, which assets the operator already knows,
//! which communications policy allows, which rules are silenced where, where
//! summaries go and the capacity limits that keep the sensor's memory bounded
//! whatever the traffic.
//!
//! [`load`] and [`parse`] validate the whole file and report every problem at
//! once, each with its file, line, column and setting
//! (`faro.toml:12:9: zones[1].cidrs[0]: …`); [`Config`] then answers the
//! sensor's questions: which zone holds an address, whether a rule is
//! silenced, whether policy allows a communication.

#[doc(hidden)]
pub mod fuzzing;
mod limits;
mod model;
mod parse;
mod problem;

pub use limits::CapacityLimits;
pub use model::{
    Access, AssetAddress, AssetRole, Config, Criticality, FindingSettings, Interface, KnownAsset,
    PolicyProtocol, PolicyRule, PurdueLevel, SensorSection, Silence, Uplink, Zone, ZoneMatch,
};
pub use parse::{load, parse};
pub use problem::{ConfigErrors, Problem};
