//! Test helpers shared by the collector's tests and the end-to-end tests.
//!
//! `scripts/with-postgres` runs a command beside a throwaway PostgreSQL
//! server and says where it is in `FARO_TEST_POSTGRES`; with it set, every
//! test store gets a database of its own there (named from the store's data
//! directory, so the collector processes an end-to-end test starts find the
//! same one). Without it, stores are SQLite files, as by default.

// A test kit that cannot reach its server fails the test that called it.
#![allow(clippy::panic)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

/// The environment variable `scripts/with-postgres` sets: an administrator's
/// URL of the throwaway server (`postgres://faro@127.0.0.1:PORT/postgres`).
pub const POSTGRES_ENV: &str = "FARO_TEST_POSTGRES";

/// The URL of the throwaway server, when the tests run beside one.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

/// The PostgreSQL database of the store in `data` (created on first use),
/// when the tests run beside a server; `None` means SQLite.
///
/// # Panics
/// When the server named by `FARO_TEST_POSTGRES` cannot be reached or
/// refuses to create the database: a test on PostgreSQL cannot go on.
pub fn database_for(data: &Path) -> Option<String> {
    let server = postgres_server()?;
    // On a thread of its own: the blocking client refuses to run inside an
    // async test's runtime.
    let data = data.to_owned();
    match std::thread::spawn(move || create_database(&server, &data)).join() {
        Ok(url) => Some(url),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn create_database(server: &str, data: &Path) -> String {
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    let name = format!("faro_test_{:016x}", hasher.finish());
    let mut admin = match postgres::Client::connect(server, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => panic!("{POSTGRES_ENV}={server}: cannot connect: {e}"),
    };
    let exists = match admin.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]) {
        Ok(row) => row.is_some(),
        Err(e) => panic!("{POSTGRES_ENV}={server}: listing databases: {e}"),
    };
    if !exists {
        // Two processes may race to create it: the loser's error is harmless.
        if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name}")) {
            let duplicate = e
                .as_db_error()
                .is_some_and(|d| d.code().code() == "42P04" || d.code().code() == "23505");
            assert!(
                duplicate,
                "{POSTGRES_ENV}={server}: CREATE DATABASE {name}: {e}"
            );
        }
    }
    with_database(server, &name)
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_servers() {
        assert_eq!(
            with_database("postgres://faro@127.0.0.1:5433/postgres", "x"),
            "postgres://faro@127.0.0.1:5433/x"
        );
        assert_eq!(
            with_database("postgres://faro@127.0.0.1:5433", "x"),
            "postgres://faro@127.0.0.1:5433/x"
        );
        assert_eq!(
            with_database("postgres://h/postgres?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
