//! Vulnerability intelligence: CISA ICS advisories (CSAF 2.0), the KEV
//! catalog and EPSS scores, imported offline from files, and matched
//! against the inventory's identities with a stated confidence.
//!
//! Data flows one way: files → `csaf`/`kev`/`epss` (readers) → `import`
//! (into the store through `store::intel`) → `matching` (with `identity`, `vendor`
//! and `version`) → findings and scores.

pub mod csaf;
pub mod epss;
pub mod identity;
pub mod import;
pub mod json;
pub mod kev;
pub mod matching;
pub mod model;
pub mod vendor;
pub mod version;
