//! `faro-collector`: the central collector of Faro sensors' signed summaries.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "faro-collector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    }
    Ok(ExitCode::SUCCESS)
}
