//! Faro sensor library.
