//! The Faro appliance's configuration.
//!
//! For now this holds the sensor's capacity limits: every table, buffer and
//! queue on the sensor is sized from here, so an edge box's memory stays
//! bounded whatever the traffic. Sites, zones, policy and uplink settings join
//! these in the appliance configuration file.

mod limits;

pub use limits::CapacityLimits;
