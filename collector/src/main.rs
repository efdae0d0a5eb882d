//! `faro-collector`: the central collector of Faro sensors' signed summaries.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use faro_collector::store::{Enrolled, Location, Store};

#[derive(Parser)]
#[command(name = "faro-collector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the store is, for every subcommand that opens it.
#[derive(clap::Args)]
struct StoreArgs {
    /// The collector's data directory (its SQLite store, unless --database says otherwise).
    #[arg(long, required_unless_present = "database")]
    data: Option<PathBuf>,
    /// The store: postgres://USER@HOST:PORT/DB for PostgreSQL (fleets,
    /// replicas), or sqlite:PATH; by default DATA/collector.sqlite. A password
    /// belongs in ~/.pgpass or PGPASSWORD, not in the URL.
    #[arg(
        long,
        env = "FARO_DATABASE",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
}

impl StoreArgs {
    fn location(&self) -> Result<Location> {
        let data = self.data.clone().unwrap_or_default();
        if self.database.is_none() {
            std::fs::create_dir_all(&data)
                .with_context(|| format!("creating {}", data.display()))?;
        }
        Location::resolve(&data, self.database.as_deref())
    }

    fn open(&self) -> Result<Store> {
        Store::open_at(&self.location()?)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Makes a throwaway test CA, the collector's certificate and sensor client certificates.
    Certs {
        /// Directory to write ca.pem, collector.pem/.key and <ID>.pem/.key into.
        #[arg(long)]
        out: PathBuf,
        /// A sensor id to issue a client certificate for (repeatable).
        #[arg(long = "sensor")]
        sensors: Vec<String>,
    },
    /// Pins a sensor's Ed25519 public key (SPKI PEM) to its id.
    Enroll {
        #[command(flatten)]
        store: StoreArgs,
        /// The sensor's id, as its summaries name it.
        #[arg(long)]
        sensor_id: String,
        /// The sensor's public key file.
        #[arg(long)]
        public_key: PathBuf,
        /// The site the sensor watches (otherwise the summaries' own).
        #[arg(long)]
        site: Option<String>,
        /// Replace the key of an already enrolled id.
        #[arg(long)]
        replace: bool,
    },
    /// Serves the ingestion API over HTTPS with mutual TLS.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The collector's certificate chain (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// The collector's private key (PEM).
        #[arg(long)]
        key: PathBuf,
        /// CA certificate(s) (PEM) that sensor client certificates must chain to.
        #[arg(long)]
        client_ca: PathBuf,
        #[command(flatten)]
        cef: CefArgs,
    },
    /// Lists the inventory merged from accepted summaries.
    Assets {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Makes, lists and revokes API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Vulnerability intelligence: imports CSAF advisories, KEV, EPSS; says what is loaded.
    Intel {
        #[command(subcommand)]
        command: IntelCommand,
    },
    /// Lists the sequences stored for a sensor.
    Summaries {
        #[command(flatten)]
        store: StoreArgs,
        /// The sensor's id.
        #[arg(long)]
        sensor_id: String,
    },
}

/// Forwarding findings to a SIEM as CEF over syslog (docs/cef.md).
#[derive(clap::Args)]
struct CefArgs {
    /// The syslog receiver: tcp://host:port or tls://host:port (RFC 6587/5425 octet counting).
    #[arg(long, value_name = "URL")]
    cef_syslog: Option<String>,
    /// CA certificate(s) (PEM) the tls:// receiver's certificate must chain to.
    #[arg(long, value_name = "FILE", requires = "cef_syslog")]
    cef_ca: Option<PathBuf>,
    /// A client certificate (PEM) to present to the tls:// receiver.
    #[arg(long, value_name = "FILE", requires = "cef_client_key")]
    cef_client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cef_client_cert")]
    cef_client_key: Option<PathBuf>,
    /// The syslog facility (0-23; 20 is local4).
    #[arg(long, default_value_t = faro_collector::cef::DEFAULT_FACILITY,
          value_parser = clap::value_parser!(u8).range(0..=23))]
    cef_facility: u8,
}

impl CefArgs {
    fn settings(&self) -> Result<Option<faro_collector::forward::Settings>> {
        let Some(url) = &self.cef_syslog else {
            return Ok(None);
        };
        let identity = self
            .cef_client_cert
            .as_deref()
            .zip(self.cef_client_key.as_deref());
        let receiver =
            faro_collector::forward::Receiver::parse(url, self.cef_ca.as_deref(), identity)
                .context("--cef-syslog")?;
        Ok(Some(faro_collector::forward::Settings::new(
            receiver,
            self.cef_facility,
        )))
    }
}

#[derive(Subcommand)]
enum IntelCommand {
    /// Imports files carried in: CSAF 2.0 advisories (files, directories, a ROLIE
    /// feed with its files beside it), the CISA KEV catalog, an EPSS CSV (plain or
    /// gzipped). Each `.sha512` beside a file is checked. Exit status 2 when any
    /// document was not imported (the others are).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// Files or directories to import.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// The advisories that apply to one identity, without any inventory (a device
    /// checked before buying or patching it), from the imported intelligence.
    Match {
        #[command(flatten)]
        store: StoreArgs,
        /// The vendor, in any spelling the alias table knows.
        #[arg(long)]
        vendor: String,
        /// The product name or family.
        #[arg(long)]
        product: Option<String>,
        /// The model or order number (Siemens order numbers with or without spaces).
        #[arg(long)]
        model: Option<String>,
        /// The firmware or software version.
        #[arg(long)]
        firmware: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// What is loaded: sources, counts, catalog and model versions, dates.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Makes a token and prints it (the only time it is shown).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Who or what it is for (recorded in findings' history).
        #[arg(long)]
        name: String,
        /// read: lists; triage: also findings' status; admin: also tokens.
        #[arg(long, value_enum, default_value = "read")]
        scope: faro_collector::tokens::Scope,
    },
    /// Lists the tokens (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revokes a token at once.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The token's id (the part after `faro_`).
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("faro-collector: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Certs { out, sensors } => {
            faro_collector::certs::generate(&out, &sensors)?;
            println!("wrote test certificates to {}", out.display());
        }
        Command::Enroll {
            store,
            sensor_id,
            public_key,
            site,
            replace,
        } => {
            let pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("reading {}", public_key.display()))?;
            let store = store.open()?;
            let (fp, what) = store.enroll(&sensor_id, &pem, site.as_deref(), replace)?;
            let what = match what {
                Enrolled::New => "enrolled",
                Enrolled::Unchanged => "already enrolled with this key",
                Enrolled::Replaced => "key replaced",
            };
            println!("{sensor_id}: {what}, key {fp}");
        }
        Command::Serve {
            store,
            listen,
            cert,
            key,
            client_ca,
            cef,
        } => {
            init_logging();
            let tls = faro_collector::tls::server_config(&cert, &key, &client_ca)?;
            let cef = cef.settings()?;
            let store = Arc::new(store.open()?);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let served = runtime.block_on(async move {
                let tcp = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listening on {listen}"))?;
                faro_collector::server::serve(
                    store,
                    tcp,
                    tls,
                    cef,
                    faro_collector::server::shutdown_signal(),
                )
                .await
            });
            served?;
        }
        Command::Assets {
            store,
            site,
            format,
        } => {
            let store = store.open()?;
            // What is stored but not merged yet (serve merges it within
            // moments, or at its next start) is merged first.
            faro_collector::ingest::merge_stored(&store, Vec::new())?;
            let inv = store.inventory(site.as_deref())?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&inv)?),
                Format::Table => print!("{}", faro_collector::report::table(&inv)),
            }
        }
        Command::Token { command } => token(command)?,
        Command::Intel { command } => return intel(command),
        Command::Summaries { store, sensor_id } => {
            let store = store.open()?;
            for (seq, jws) in store.summaries(&sensor_id)? {
                println!("{seq}\t{} bytes", jws.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn intel(command: IntelCommand) -> Result<ExitCode> {
    use faro_collector::intel::import;
    use faro_collector::store::intel as db;
    match command {
        IntelCommand::Import {
            store,
            paths,
            format,
        } => {
            let store = store.open()?;
            let report = import::import(&store, &paths)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Table => print!("{report}"),
            }
            // The inventory matched at once with what changed (a running
            // `serve` would see the new generation and do the same).
            let matcher = faro_collector::vulnerabilities::Matcher::load(&store)?;
            let done = faro_collector::vulnerabilities::rematch(
                &store,
                &matcher,
                faro_collector::vulnerabilities::Scope::All,
            )?;
            for site in &done.sites {
                faro_collector::rescore::rescore_site(&store, site)?;
            }
            eprintln!(
                "matched {} assets: {} new, {} changed, {} no longer matching",
                done.assets, done.new, done.changed, done.gone
            );
            if !report.errors.is_empty() {
                return Ok(ExitCode::from(2));
            }
        }
        IntelCommand::Match {
            store,
            vendor,
            product,
            model,
            firmware,
            format,
        } => {
            let store = store.open()?;
            let matcher = faro_collector::vulnerabilities::Matcher::load(&store)?;
            let identity = faro_collector::intel::identity::AssetIdentity::given(
                Some(&vendor),
                product.as_deref(),
                model.as_deref(),
                firmware.as_deref(),
            );
            let matches: Vec<_> = matcher
                .index()
                .matches(&identity)
                .into_iter()
                .map(|m| matcher.stored(m))
                .collect();
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&matches)?),
                Format::Table => {
                    print!("{}", faro_collector::report::vulnerability_table(&matches))
                }
            }
        }
        IntelCommand::Status { store, format } => {
            let store = store.open()?;
            let (sources, generation) =
                store.read(|conn| Ok((db::status(conn)?, db::generation(conn)?)))?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "sources": sources, "generation": generation })
                    )?
                ),
                Format::Table => print!("{}", import::status_table(&sources, generation)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn token(command: TokenCommand) -> Result<()> {
    use faro_collector::tokens;
    match command {
        TokenCommand::Create { store, name, scope } => {
            let store = store.open()?;
            let (token, id) = tokens::create(&store, &name, scope)?;
            eprintln!(
                "token {id} ({}) for {name}; it is not shown again:",
                scope.name()
            );
            println!("{token}");
        }
        TokenCommand::List { store } => {
            let store = store.open()?;
            for t in tokens::list(&store)? {
                let state = t
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.scope.name(),
                    t.name,
                    t.created_at
                );
            }
        }
        TokenCommand::Revoke { store, id } => {
            let store = store.open()?;
            if !tokens::revoke(&store, &id)? {
                anyhow::bail!("no active token {id}");
            }
            println!("{id}: revoked");
        }
    }
    Ok(())
}

/// Logs to stderr (colours only on a terminal); `RUST_LOG` overrides the default `info`.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
}
