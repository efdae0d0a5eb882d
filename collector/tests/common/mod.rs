//! What the collector's tests share: a store in a data directory, on SQLite
//! by default or, beside `scripts/with-postgres`, in a PostgreSQL database
//! of its own.
#![allow(dead_code)]

use std::path::Path;

use faro_collector::store::{Location, Store};

/// Where the store of data directory `data` is.
pub(crate) fn location(data: &Path) -> Location {
    Location::resolve(data, faro_testkit::database_for(data).as_deref()).unwrap()
}

/// The store of data directory `data`, created if needed.
pub(crate) fn open(data: &Path) -> Store {
    std::fs::create_dir_all(data).unwrap();
    Store::open_at(&location(data)).unwrap()
}

/// `bin` (faro-collector) to run on the store of data directory `data`: on
/// PostgreSQL, its database comes through `FARO_DATABASE`.
pub(crate) fn command(bin: &str, data: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    if let Some(url) = faro_testkit::database_for(data) {
        cmd.env("FARO_DATABASE", url);
    }
    cmd
}
