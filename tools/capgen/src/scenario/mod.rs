//! One module per capture the generator writes.

mod background;
pub(crate) mod dnp3;
pub(crate) mod opcua;
pub(crate) mod pivots;
pub(crate) mod polling;
pub(crate) mod reassembly;
pub(crate) mod s7;
pub(crate) mod sample;
pub(crate) mod synflood;
